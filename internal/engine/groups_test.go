package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// grpPatch renders a PatchOp body with the given operations.
func grpPatch(ops ...any) []byte {
	return body(map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": ops})
}

// grpMembers returns a group's member ids, sorted, never nil.
func (f *fixture) grpMembers(groupID string) []string {
	f.t.Helper()
	ids := append([]string{}, f.memberIDs(groupID)...)
	slices.Sort(ids)
	return ids
}

func grpSorted(ids ...string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return out
}

// grpUsers creates n users and returns their ids.
func (f *fixture) grpUsers(n int) []string {
	f.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = f.createUser("member"+itoa(i), nil)["id"].(string)
	}
	return ids
}

func TestCreateGroupMembers(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(2)
	other := f.createGroup("Other", u[1])["id"].(string)

	tests := []struct {
		name    string
		members []any
		want    []string
	}{
		{"no members", nil, []string{}},
		{"empty list", []any{}, []string{}},
		{"users", []any{map[string]any{"value": u[0]}, map[string]any{"value": u[1], "display": "VP"}}, grpSorted(u...)},
		{"unknown id and group id ignored", []any{
			map[string]any{"value": u[0]},
			map[string]any{"value": "00000000-dead-4000-8000-000000000000"},
			map[string]any{"value": other},
		}, []string{u[0]}},
		{"plain string ids", []any{u[1], "string id 1"}, []string{u[1]}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "Group " + itoa(i)}
			if tt.members != nil {
				doc["members"] = tt.members
			}
			g, err := f.e.CreateGroup(f.ctx, body(doc))
			if err != nil {
				t.Fatal(err)
			}
			list, ok := g["members"].([]any)
			if !ok || list == nil {
				t.Fatalf("create must return members as an array (Entra reads members: []), got %#v", g["members"])
			}
			var got []string
			for _, m := range list {
				got = append(got, m.(map[string]any)["value"].(string))
			}
			slices.Sort(got)
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("returned members %v, want %v", got, tt.want)
			}
			if stored := f.grpMembers(g["id"].(string)); !slices.Equal(stored, tt.want) {
				t.Errorf("stored members %v, want %v", stored, tt.want)
			}
		})
	}
}

func TestCreateGroupRejected(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(1)
	f.createGroup("Sales")

	tests := []struct {
		name     string
		body     string
		status   int
		scimType string
	}{
		{"duplicate name in another case", `{"displayName":"SALES","members":[{"value":"` + u[0] + `"}]}`, 409, scim.ScimTypeUniqueness},
		{"duplicate name with other Unicode case", `{"displayName":"sales"}`, 409, scim.ScimTypeUniqueness},
		{"missing displayName", `{"externalId":"x","members":[{"value":"` + u[0] + `"}]}`, 400, scim.ScimTypeInvalidValue},
		{"null displayName", `{"displayName":null}`, 400, scim.ScimTypeInvalidValue},
		{"blank displayName", `{"displayName":"  "}`, 400, scim.ScimTypeInvalidValue},
		{"displayName number", `{"displayName":42}`, 400, scim.ScimTypeInvalidValue},
		{"malformed JSON", `{"displayName":"x",`, 400, scim.ScimTypeInvalidSyntax},
		{"not an object", `["x"]`, 400, scim.ScimTypeInvalidSyntax},
		{"member without value", `{"displayName":"New","members":[{"display":"x"}]}`, 400, scim.ScimTypeInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot()
			_, err := f.e.CreateGroup(f.ctx, []byte(tt.body))
			wantSCIMError(t, err, tt.status, tt.scimType)
			if after := f.snapshot(); after != before {
				t.Errorf("a rejected create wrote:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestPatchGroupMembers(t *testing.T) {
	tests := []struct {
		name     string
		initial  []int // indexes of the users that are members before the PATCH
		ops      func(u []string) []any
		want     []int
		wantName string // "" keeps "Team"
	}{
		{"add, Entra array with $ref null", nil, func(u []string) []any {
			return []any{map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"$ref": nil, "value": u[0]}}}}
		}, []int{0}, ""},
		{"add, single object value", nil, func(u []string) []any {
			return []any{map[string]any{"op": "add", "path": "members", "value": map[string]any{"value": u[1]}}}
		}, []int{1}, ""},
		{"add, plain string value", nil, func(u []string) []any {
			return []any{map[string]any{"op": "add", "path": "members", "value": u[2]}}
		}, []int{2}, ""},
		{"add, plain string of an unknown id", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "add", "path": "members", "value": "string id 1"}}
		}, []int{0}, ""},
		{"add, Microsoft addMember form", nil, func(u []string) []any {
			return []any{map[string]any{"name": "addMember", "op": "add", "path": "members",
				"value": []any{map[string]any{"displayName": "new User", "value": u[3]}}}}
		}, []int{3}, ""},
		{"add several members in one op", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "Add", "path": "members", "value": []any{
				map[string]any{"value": u[1]}, map[string]any{"value": u[2]}, map[string]any{"value": u[3]}}}}
		}, []int{0, 1, 2, 3}, ""},
		{"several ops in one request", nil, func(u []string) []any {
			return []any{
				map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": u[0]}}},
				map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": u[1]}}},
			}
		}, []int{0, 1}, ""},
		{"mixed add and remove in one request", []int{0, 1}, func(u []string) []any {
			return []any{
				map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": u[2]}}},
				map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": u[0]}}},
			}
		}, []int{1, 2}, ""},
		{"add then remove the same member", nil, func(u []string) []any {
			return []any{
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u[2]}}},
				map[string]any{"op": "remove", "path": "members[value eq \"" + u[2] + "\"]"},
			}
		}, []int{}, ""},
		{"adding an existing member is idempotent", []int{0}, func(u []string) []any {
			return []any{
				map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": u[0]}}},
				map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": u[0]}, map[string]any{"value": u[0]}}},
			}
		}, []int{0}, ""},
		{"remove by value array (legacy dialect)", []int{0, 1, 2}, func(u []string) []any {
			return []any{map[string]any{"op": "Remove", "path": "members", "value": []any{
				map[string]any{"$ref": nil, "value": u[0]}, map[string]any{"value": u[2]}}}}
		}, []int{1}, ""},
		{"remove by value filter (aadOptscim062020)", []int{0, 1}, func(u []string) []any {
			return []any{map[string]any{"op": "remove", "path": "members[value eq \"" + u[1] + "\"]"}}
		}, []int{0}, ""},
		{"remove by value filter with or", []int{0, 1, 2}, func(u []string) []any {
			return []any{map[string]any{"op": "remove", "path": "members[value eq \"" + u[0] + "\" or value eq \"" + u[2] + "\"]"}}
		}, []int{1}, ""},
		{"remove by display filter", []int{0, 1}, func(u []string) []any {
			return []any{map[string]any{"op": "remove", "path": `members[display eq "MEMBER1"]`}}
		}, []int{0}, ""},
		{"remove a non-member", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "remove", "path": "members[value eq \"" + u[3] + "\"]"}}
		}, []int{0}, ""},
		{"remove all", []int{0, 1, 2}, func(u []string) []any {
			return []any{map[string]any{"op": "remove", "path": "members"}}
		}, []int{}, ""},
		{"replace members", []int{0, 1}, func(u []string) []any {
			return []any{map[string]any{"op": "replace", "path": "members", "value": []any{map[string]any{"value": u[2]}, map[string]any{"value": u[3]}}}}
		}, []int{2, 3}, ""},
		{"path-less replace of name and members", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "replace", "value": map[string]any{
				"displayName": "Renamed", "members": []any{map[string]any{"value": u[1]}}}}}
		}, []int{1}, "Renamed"},
		{"path-less add of members", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "add", "value": map[string]any{"members": []any{map[string]any{"value": u[1]}}}}}
		}, []int{0, 1}, ""},
		{"path-less add with a URN-qualified members key", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "add", "value": map[string]any{
				scim.GroupSchema + ":members": []any{map[string]any{"value": u[2]}}}}}
		}, []int{0, 2}, ""},
		{"path-less replace with the core schema as key", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "replace", "value": map[string]any{
				scim.GroupSchema: map[string]any{"displayName": "Renamed", "Members": []any{map[string]any{"value": u[3]}}}}}}
		}, []int{3}, "Renamed"},
		{"path-less replace with a URN-qualified name and members", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "Replace", "value": map[string]any{
				scim.GroupSchema + ":displayName": "Renamed",
				scim.GroupSchema + ":members":     []any{u[1]}}}}
		}, []int{1}, "Renamed"},
		{"rename", []int{0}, func(u []string) []any {
			return []any{map[string]any{"op": "Replace", "path": "displayName", "value": "Team 2"}}
		}, []int{0}, "Team 2"},
		{"rename to another case of its own name", nil, func(u []string) []any {
			return []any{map[string]any{"op": "Replace", "path": "displayName", "value": "TEAM"}}
		}, []int{}, "TEAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.grpUsers(4)
			var initial []string
			for _, i := range tt.initial {
				initial = append(initial, u[i])
			}
			g := f.createGroup("Team", initial...)
			id := g["id"].(string)
			f.createGroup("Other", u...)

			out, err := f.e.PatchGroup(f.ctx, id, grpPatch(tt.ops(u)...), "")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := out["members"]; ok {
				t.Errorf("PATCH answered with members; Entra expects 204 and the list may be huge")
			}
			want := []string{}
			for _, i := range tt.want {
				want = append(want, u[i])
			}
			slices.Sort(want)
			if got := f.grpMembers(id); !slices.Equal(got, want) {
				t.Errorf("members %v, want %v", got, want)
			}
			wantName := tt.wantName
			if wantName == "" {
				wantName = "Team"
			}
			got, err := f.e.GetGroup(f.ctx, id, false)
			if err != nil {
				t.Fatal(err)
			}
			if got["displayName"] != wantName {
				t.Errorf("displayName %v, want %q", got["displayName"], wantName)
			}
			if v := got["meta"].(map[string]any)["version"]; v != `W/"2"` {
				t.Errorf("version %v after one PATCH, want W/\"2\"", v)
			}
			if other := f.grpMembers(f.createdGroupID("Other")); !slices.Equal(other, grpSorted(u...)) {
				t.Errorf("PATCH of one group changed another's members: %v", other)
			}
		})
	}
}

// createdGroupID finds a group's id by name.
func (f *fixture) createdGroupID(name string) string {
	f.t.Helper()
	lr, err := f.e.ListGroups(f.ctx, Query{Filter: `displayName eq "` + name + `"`})
	if err != nil || len(lr.Resources) != 1 {
		f.t.Fatalf("group %q: %v %+v", name, err, lr)
	}
	return lr.Resources[0]["id"].(string)
}

func TestPatchGroupRejected(t *testing.T) {
	tests := []struct {
		name     string
		ifMatch  string
		ops      func(u []string) []any
		status   int
		scimType string
	}{
		{"add member and rename to a taken name", "", func(u []string) []any {
			return []any{
				map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": u[1]}}},
				map[string]any{"op": "Replace", "path": "displayName", "value": "beta"},
			}
		}, 409, scim.ScimTypeUniqueness},
		{"rename first, then add member, to a taken name", "", func(u []string) []any {
			return []any{
				map[string]any{"op": "replace", "value": map[string]any{"displayName": "BETA"}},
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u[1]}}},
			}
		}, 409, scim.ScimTypeUniqueness},
		{"remove all then fail on a later op", "", func(u []string) []any {
			return []any{
				map[string]any{"op": "remove", "path": "members"},
				map[string]any{"op": "remove", "path": "displayName"},
			}
		}, 400, ""},
		{"sub-attribute of a member", "", func(u []string) []any {
			return []any{map[string]any{"op": "replace", "path": "members[value eq \"" + u[0] + "\"].display", "value": "x"}}
		}, 400, scim.ScimTypeInvalidPath},
		{"remove of a member sub-attribute", "", func(u []string) []any {
			return []any{map[string]any{"op": "remove", "path": "members[value eq \"" + u[0] + "\"].display"}}
		}, 400, scim.ScimTypeInvalidPath},
		{"path-less key naming a member sub-attribute", "", func(u []string) []any {
			return []any{map[string]any{"op": "add", "value": map[string]any{"members.value": u[1]}}}
		}, 400, scim.ScimTypeInvalidPath},
		{"path-less URN key with a member value filter", "", func(u []string) []any {
			return []any{map[string]any{"op": "replace", "value": map[string]any{
				scim.GroupSchema + `:members[value eq "` + u[0] + `"]`: map[string]any{"value": u[1]}}}}
		}, 400, scim.ScimTypeInvalidPath},
		{"path-less member value a number", "", func(u []string) []any {
			return []any{map[string]any{"op": "add", "value": map[string]any{"displayName": "Gamma", "members": []any{map[string]any{"value": 7}}}}}
		}, 400, scim.ScimTypeInvalidValue},
		{"add with a value filter", "", func(u []string) []any {
			return []any{map[string]any{"op": "add", "path": "members[value eq \"" + u[1] + "\"]", "value": map[string]any{"value": u[1]}}}
		}, 400, scim.ScimTypeInvalidPath},
		{"member value a number", "", func(u []string) []any {
			return []any{
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u[1]}}},
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": 7}}},
			}
		}, 400, scim.ScimTypeInvalidValue},
		{"displayName a number", "", func(u []string) []any {
			return []any{map[string]any{"op": "replace", "path": "displayName", "value": 7}}
		}, 400, scim.ScimTypeInvalidValue},
		{"If-Match mismatch", `W/"7"`, func(u []string) []any {
			return []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u[1]}}}}
		}, 412, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.grpUsers(2)
			id := f.createGroup("Alpha", u[0])["id"].(string)
			f.createGroup("Beta")
			before := f.snapshot()
			_, err := f.e.PatchGroup(f.ctx, id, grpPatch(tt.ops(u)...), tt.ifMatch)
			wantSCIMError(t, err, tt.status, tt.scimType)
			if after := f.snapshot(); after != before {
				t.Errorf("a rejected PATCH wrote:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestPatchGroupBodyErrors(t *testing.T) {
	f := newFixture(t)
	id := f.createGroup("Alpha")["id"].(string)
	tests := []struct {
		name     string
		id       string
		body     string
		status   int
		scimType string
	}{
		{"malformed JSON", id, `{"Operations":[`, 400, scim.ScimTypeInvalidSyntax},
		{"no operations", id, `{"schemas":["` + scim.PatchOpSchema + `"]}`, 400, scim.ScimTypeInvalidSyntax},
		{"unknown op", id, `{"Operations":[{"op":"move","path":"members"}]}`, 400, scim.ScimTypeInvalidSyntax},
		{"unknown group", "no-such-group", string(grpPatch(map[string]any{"op": "remove", "path": "members"})), 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot()
			_, err := f.e.PatchGroup(f.ctx, tt.id, []byte(tt.body), "")
			wantSCIMError(t, err, tt.status, tt.scimType)
			if after := f.snapshot(); after != before {
				t.Errorf("a rejected PATCH wrote:\n%s\n%s", before, after)
			}
		})
	}
}

func TestGetGroupMembers(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(2)
	id := f.createGroup("Alpha", u...)["id"].(string)
	empty := f.createGroup("Empty")["id"].(string)

	tests := []struct {
		name        string
		id          string
		withMembers bool
		want        []string // nil: no "members" key at all
	}{
		{"without members", id, false, nil},
		{"with members", id, true, grpSorted(u...)},
		{"empty group with members", empty, true, []string{}},
		{"empty group without members", empty, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := f.e.GetGroup(f.ctx, tt.id, tt.withMembers)
			if err != nil {
				t.Fatal(err)
			}
			mv, ok := g["members"]
			if tt.want == nil {
				if ok {
					t.Fatalf("excludedAttributes=members still returned members: %v", mv)
				}
				return
			}
			list, isList := mv.([]any)
			if !ok || !isList {
				t.Fatalf("members %#v, want an array", mv)
			}
			got := []string{}
			for _, m := range list {
				mm := m.(map[string]any)
				got = append(got, mm["value"].(string))
				if mm["display"] == "" || mm["display"] == nil {
					t.Errorf("member %v has no display name", mm)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("members %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReplaceGroup(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(3)
	created, err := f.e.CreateGroup(f.ctx, body(map[string]any{
		"displayName": "Alpha", "externalId": "alias-1", "description": "first",
		"members": []any{map[string]any{"value": u[0]}, map[string]any{"value": u[1]}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	id := created["id"].(string)
	f.createGroup("Beta")
	f.clock.advance(time.Minute)

	out, err := f.e.ReplaceGroup(f.ctx, id, body(map[string]any{
		"schemas": []any{scim.GroupSchema}, "id": id, "displayName": "Tiffany Ortiz",
		"members": []any{map[string]any{"value": u[2]}, "string id 1"},
	}), `W/"1"`)
	if err != nil {
		t.Fatal(err)
	}
	if out["displayName"] != "Tiffany Ortiz" {
		t.Errorf("displayName %v", out["displayName"])
	}
	for _, k := range []string{"externalId", "description"} {
		if v, ok := out[k]; ok {
			t.Errorf("PUT without %s kept it: %v", k, v)
		}
	}
	if got := f.grpMembers(id); !slices.Equal(got, []string{u[2]}) {
		t.Errorf("members after PUT %v, want [%s]", got, u[2])
	}
	meta := out["meta"].(map[string]any)
	if meta["created"] != created["meta"].(map[string]any)["created"] || meta["lastModified"] == meta["created"] || meta["version"] != `W/"2"` {
		t.Errorf("meta after PUT %v", meta)
	}
	stored, err := f.e.GetGroup(f.ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stored["externalId"]; ok {
		t.Errorf("stored group kept externalId: %v", stored)
	}

	rejected := []struct {
		name     string
		id       string
		body     string
		ifMatch  string
		status   int
		scimType string
	}{
		{"name of another group", id, `{"displayName":"beta","members":[]}`, "", 409, scim.ScimTypeUniqueness},
		{"missing displayName", id, `{"members":[]}`, "", 400, scim.ScimTypeInvalidValue},
		{"malformed JSON", id, `{`, "", 400, scim.ScimTypeInvalidSyntax},
		{"If-Match mismatch", id, `{"displayName":"New","members":[]}`, `W/"1"`, 412, ""},
		{"unknown group", "nope", `{"displayName":"New"}`, "", 404, ""},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot()
			_, err := f.e.ReplaceGroup(f.ctx, tt.id, []byte(tt.body), tt.ifMatch)
			wantSCIMError(t, err, tt.status, tt.scimType)
			if after := f.snapshot(); after != before {
				t.Errorf("a rejected PUT wrote:\n%s\n%s", before, after)
			}
		})
	}
}

func TestGroupIfMatch(t *testing.T) {
	tests := []struct {
		name    string
		ifMatch string
		ok      bool
	}{
		{"none", "", true},
		{"any", "*", true},
		{"weak current", `W/"1"`, true},
		{"strong current", `"1"`, true},
		{"one of a list", `W/"5", W/"1"`, true},
		{"stale", `W/"2"`, false},
		{"garbage", `xyz`, false},
	}
	calls := []struct {
		name string
		do   func(f *fixture, id, ifMatch string) error
	}{
		{"PATCH", func(f *fixture, id, ifMatch string) error {
			_, err := f.e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "replace", "path": "displayName", "value": "New"}), ifMatch)
			return err
		}},
		{"PUT", func(f *fixture, id, ifMatch string) error {
			_, err := f.e.ReplaceGroup(f.ctx, id, []byte(`{"displayName":"New"}`), ifMatch)
			return err
		}},
		{"DELETE", func(f *fixture, id, ifMatch string) error { return f.e.DeleteGroup(f.ctx, id, ifMatch) }},
	}
	for _, c := range calls {
		for _, tt := range tests {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				f := newFixture(t)
				u := f.grpUsers(1)
				id := f.createGroup("Alpha", u...)["id"].(string)
				before := f.snapshot()
				err := c.do(f, id, tt.ifMatch)
				if tt.ok {
					if err != nil {
						t.Fatal(err)
					}
					if f.snapshot() == before {
						t.Error("nothing changed")
					}
					return
				}
				wantSCIMError(t, err, 412, "")
				if after := f.snapshot(); after != before {
					t.Errorf("a failed precondition wrote:\n%s\n%s", before, after)
				}
			})
		}
	}
}

func TestDeleteUserLeavesGroups(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(2)
	a := f.createGroup("Alpha", u...)["id"].(string)
	b := f.createGroup("Beta", u[0])["id"].(string)
	if err := f.e.DeleteUser(f.ctx, u[0], ""); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		group string
		want  []string
	}{{a, []string{u[1]}}, {b, []string{}}} {
		if got := f.grpMembers(tt.group); !slices.Equal(got, tt.want) {
			t.Errorf("group %s members %v after deleting %s, want %v", tt.group, got, u[0], tt.want)
		}
	}
	// Re-adding the deleted id is ignored like any unknown id.
	if _, err := f.e.PatchGroup(f.ctx, b, grpPatch(map[string]any{"op": "add", "path": "members", "value": u[0]}), ""); err != nil {
		t.Fatal(err)
	}
	if got := f.grpMembers(b); len(got) != 0 {
		t.Errorf("a deleted user was added back: %v", got)
	}
}

func TestDeleteGroup(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(1)
	id := f.createGroup("Alpha", u...)["id"].(string)
	keep := f.createGroup("Beta", u...)["id"].(string)
	if err := f.e.DeleteGroup(f.ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	for _, withMembers := range []bool{false, true} {
		_, err := f.e.GetGroup(f.ctx, id, withMembers)
		wantSCIMError(t, err, 404, "")
	}
	wantSCIMError(t, f.e.DeleteGroup(f.ctx, id, ""), 404, "")
	_, err := f.e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "remove", "path": "members"}), "")
	wantSCIMError(t, err, 404, "")
	if got := f.grpMembers(keep); !slices.Equal(got, u) {
		t.Errorf("deleting one group changed another: %v", got)
	}
	if _, err := f.e.GetUser(f.ctx, u[0]); err != nil {
		t.Errorf("deleting a group deleted its member: %v", err)
	}
	// The name is free again.
	f.createGroup("ALPHA")
}

// grpMemberReads counts how often the engine reads a page of a member list.
type grpMemberReads struct {
	store.Store
	mu    sync.Mutex
	reads int
}

type grpMemberReadsTx struct {
	store.Tx
	c *grpMemberReads
}

func (s *grpMemberReads) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(grpMemberReadsTx{tx, s}) })
}

func (s *grpMemberReads) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(grpMemberReadsTx{tx, s}) })
}

func (t grpMemberReadsTx) MembersPage(groupID, after string, limit int) ([]store.Member, error) {
	t.c.mu.Lock()
	t.c.reads++
	t.c.mu.Unlock()
	return t.Tx.MembersPage(groupID, after, limit)
}

// TestMembersNeverLoaded proves DESIGN §3.2 and §3.4: Entra's group reads
// (excludedAttributes=members) and its membership PATCHes never read the
// member list, which may hold 250,000 users.
func TestMembersNeverLoaded(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(3)
	id := f.createGroup("Alpha", u[0], u[1])["id"].(string)
	counter := &grpMemberReads{Store: f.st.Store}
	e := New(counter)
	noMembers, err := scim.ParseProjection(scim.Group, "", "members")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
	}{
		{"get without members", func() error { _, err := e.GetGroup(f.ctx, id, false); return err }},
		{"match query", func() error {
			_, err := e.ListGroups(f.ctx, Query{Filter: `displayName eq "Alpha"`, Projection: noMembers})
			return err
		}},
		{"list without members", func() error { _, err := e.ListGroups(f.ctx, Query{Projection: noMembers}); return err }},
		{"add member", func() error {
			_, err := e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"$ref": nil, "value": u[2]}}}), "")
			return err
		}},
		{"remove member, legacy", func() error {
			_, err := e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": u[2]}}}), "")
			return err
		}},
		{"remove member, value filter", func() error {
			_, err := e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "remove", "path": `members[value eq "` + u[1] + `"]`}), "")
			return err
		}},
		{"rename", func() error {
			_, err := e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "Replace", "path": "displayName", "value": "Alpha 2"}), "")
			return err
		}},
		{"path-less replace", func() error {
			_, err := e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "replace", "value": map[string]any{"displayName": "Alpha 3", "members": []any{u[2]}}}), "")
			return err
		}},
		{"remove all", func() error {
			_, err := e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "remove", "path": "members"}), "")
			return err
		}},
		{"delete", func() error { return e.DeleteGroup(f.ctx, id, "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counter.mu.Lock()
			counter.reads = 0
			counter.mu.Unlock()
			if err := tt.do(); err != nil {
				t.Fatal(err)
			}
			if counter.reads != 0 {
				t.Errorf("the member list was read %d times", counter.reads)
			}
		})
	}
}

// TestConcurrentMemberAdds: Entra sends membership PATCHes for one group in
// parallel; none may be lost.
func TestConcurrentMemberAdds(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(8)
	id := f.createGroup("Alpha")["id"].(string)
	var wg sync.WaitGroup
	errs := make(chan error, len(u))
	for _, uid := range u {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.e.PatchGroup(f.ctx, id, grpPatch(map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": uid}}}), "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.grpMembers(id); !slices.Equal(got, grpSorted(u...)) {
		t.Errorf("members %v, want all of %v", got, u)
	}
	g, err := f.e.GetGroup(f.ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if v := g["meta"].(map[string]any)["version"]; v != ETag(int64(1+len(u))) {
		t.Errorf("version %v after %d PATCHes", v, len(u))
	}
}
