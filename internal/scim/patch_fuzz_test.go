package scim

import (
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// patchSeeds are the bodies of the ParsePatch and ApplyPatch tables.
func patchSeeds() []string {
	seeds := []string{
		bodyLegacyMulti, bodyDisableLegacy, bodyDisableFlag, bodyDisableMI, bodyAddNickFlag,
		bodyPathlessFlag, bodyMembersAdd, bodyMembersRmVal, bodyMembersRmRef, bodyMembersRmFlt,
		bodyMembersRmAll, bodyGroupRename, bodyManagerTut, bodyManagerString, bodyManagerObject,
		bodyManagerRemove, bodyManagerEmpty, bodyRolesString, bodyRolesComplex,
		`{"Operations":[{"op":"add","path":"emails[type eq \"home\"]","value":"x"}]}`,
		`{"Operations":[{"op":"replace","path":"name[givenName eq \"Barbara\"]","value":{"familyName":"J"}}]}`,
		`{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:miscim:2.0:User"}]}`,
		`{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User","value":{"emails[type eq \"x\"].primary":true}}]}`,
	}
	for _, c := range applyUserCases {
		seeds = append(seeds, c.body)
	}
	for _, c := range applyGroupCases {
		seeds = append(seeds, c.body)
	}
	return seeds
}

func checkPatchError(t *testing.T, what string, err error) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("%s: error %T %v is not *Error", what, err, err)
	}
	if se.Status != 400 || se.ScimType == "" || se.Detail == "" {
		t.Fatalf("%s: error %#v: want 400 with a scimType and a detail", what, se)
	}
}

func FuzzParsePatch(f *testing.F) {
	for _, s := range patchSeeds() {
		f.Add([]byte(s))
	}
	for _, s := range []string{``, `{`, `[]`, `null`, `{"Operations":[]}`, `{"Operations":[{"op":"move"}]}`, `{} }`} {
		f.Add([]byte(s))
	}
	f.Add([]byte("{\"Operations\":[{\"op\":\"add\",\"path\":\"x\",\"value\":\"\xff\"}]}"))
	f.Add([]byte(`{"Operations":[{"op":"add","path":"x","value":"\ud800"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := ParsePatch(body)
		if err == nil && !utf8.Valid(body) {
			t.Fatalf("ParsePatch accepted a body that is not UTF-8: %q", body)
		}
		if err != nil {
			checkPatchError(t, "ParsePatch", err)
			if list != nil {
				t.Fatalf("ParsePatch returned operations with an error")
			}
			return
		}
		if len(list) == 0 {
			t.Fatalf("ParsePatch returned no operations and no error")
		}
		for i, op := range list {
			switch op.Op {
			case PatchAdd, PatchReplace:
				if !op.HasValue {
					t.Fatalf("operation %d: %s without a value", i+1, op.Op)
				}
				if op.Path == nil {
					if _, ok := op.Value.(map[string]any); !ok {
						t.Fatalf("operation %d: path-less %s with %s", i+1, op.Op, KindOf(op.Value))
					}
				}
			case PatchRemove:
				if op.Path == nil {
					t.Fatalf("operation %d: remove without a path", i+1)
				}
			default:
				t.Fatalf("operation %d: op %q", i+1, op.Op)
			}
			if op.Path != nil && op.RawPath == "" {
				t.Fatalf("operation %d: Path without RawPath", i+1)
			}
		}
	})
}

func FuzzApplyPatch(f *testing.F) {
	for _, s := range patchSeeds() {
		f.Add([]byte(s))
	}
	user, group := patchUser(), patchGroup()
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := ParsePatch(body)
		if err != nil {
			return
		}
		before := cloneOps(list)
		for _, target := range []struct {
			rs  *ResourceSchema
			doc Resource
		}{{User, user}, {Group, group}} {
			doc := Clone(target.doc).(map[string]any)
			err := ApplyPatch(doc, target.rs, list)
			if err != nil {
				checkPatchError(t, "ApplyPatch "+target.rs.Name, err)
			} else {
				// The same operations give the same document again: no
				// dependence on map order, nothing left in the operations.
				again := Clone(target.doc).(map[string]any)
				if err := ApplyPatch(again, target.rs, list); err != nil || !reflect.DeepEqual(again, doc) {
					t.Fatalf("%s: second run differs: err %v\n%#v\n%#v", target.rs.Name, err, again, doc)
				}
			}
			if !reflect.DeepEqual(list, before) {
				t.Fatalf("%s: ApplyPatch changed its operations", target.rs.Name)
			}
		}
		if !reflect.DeepEqual(user, patchUser()) || !reflect.DeepEqual(group, patchGroup()) {
			t.Fatalf("the sample documents changed")
		}
	})
}
