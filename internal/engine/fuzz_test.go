package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// The engine must answer any malformed input with a SCIM client error
// (4xx) and write nothing: never a plain error, which the server would turn
// into a 500 (DESIGN §9). What it accepts, it must store as answered, in
// both soft-delete modes, and without mangling text.

func wantClientError(t *testing.T, err error) *scim.Error {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("want a SCIM error, got %T %v", err, err)
	}
	if se.Status < 400 || se.Status > 499 {
		t.Fatalf("want a 4xx, got %d: %s", se.Status, se.Detail)
	}
	return se
}

// checkText holds for every body: one that is not UTF-8, or nests deeper
// than scim.MaxJSONDepth while being otherwise valid JSON, is refused with
// 400 invalidSyntax naming the byte offset; an accepted one never yields
// U+FFFD in the answer unless the client sent it (raw or as \ufffd), which
// would be text lost in decoding.
func checkText(t *testing.T, body []byte, answer any, err error) {
	t.Helper()
	mustRefuse := !utf8.Valid(body)
	if !mustRefuse && json.Valid(body) && jsonDepth(body) > scim.MaxJSONDepth {
		mustRefuse = true
	}
	if mustRefuse {
		if err == nil {
			t.Fatalf("accepted a body that is not UTF-8 or nests over %d levels: %q", scim.MaxJSONDepth, body)
		}
		se := wantClientError(t, err)
		if se.Status != 400 || se.ScimType != scim.ScimTypeInvalidSyntax || !strings.Contains(se.Detail, "byte offset") {
			t.Fatalf("body %q: want 400 invalidSyntax with the byte offset, got %v", body, se)
		}
		return
	}
	if err == nil && hasReplacementChar(answer) && !bytes.Contains(body, []byte("\uFFFD")) && !bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
		t.Fatalf("the answer holds U+FFFD the client never sent: body %q, answer %v", body, answer)
	}
}

// jsonDepth measures nesting with encoding/json's tokenizer, independently
// of the engine's own scan.
func jsonDepth(body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

func hasReplacementChar(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.ContainsRune(t, utf8.RuneError)
	case map[string]any:
		for k, x := range t {
			if hasReplacementChar(k) || hasReplacementChar(x) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if hasReplacementChar(x) {
				return true
			}
		}
	}
	return false
}

// textBodies are seed bodies, made by wrap around a string value, with
// text encoding/json would mangle (invalid bytes, lone surrogates), text
// it must keep, and nesting just over and at the limit.
func textBodies(wrap func(value string) []byte) [][]byte {
	var out [][]byte
	for _, v := range []string{"\xff\xfe", "Zo\xeb", `x\ud800`, `\udc00\ud83d`, `\ud83d\ude00`, `\ufffd`, "\uFFFD", "Zoë"} {
		out = append(out, wrap(v))
	}
	for _, n := range []int{scim.MaxJSONDepth, scim.MaxJSONDepth - 4} {
		out = append(out, wrap(`", "x": `+strings.Repeat("[", n)+strings.Repeat("]", n)+`, "y": "`))
	}
	return out
}

// jsonString renders s as a filter string literal.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// modeFixtures returns one fixture per SCIM_REMOVE_USER_ON_SOFT_DELETE
// mode, each set once: switching the mode on every input would grow the
// variable history, and every snapshot and variable read with it.
func modeFixtures(f *testing.F) map[bool]*fixture {
	fxs := map[bool]*fixture{false: newFixture(f), true: newFixture(f)}
	if _, err := fxs[true].e.SetVar(fxs[true].ctx, VarRemoveUserOnSoftDelete, "Y", "fuzz"); err != nil {
		f.Fatal(err)
	}
	return fxs
}

func (f *fixture) tombstone(id string) (store.User, bool) {
	f.t.Helper()
	var u store.User
	err := f.st.Store.View(f.ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.Tombstone(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return u, false
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return u, true
}

// patchActive sets a user's active flag the way Entra does.
func (f *fixture) patchActive(id string, active bool) {
	f.t.Helper()
	v := "False"
	if active {
		v = "True"
	}
	if _, err := f.e.PatchUser(f.ctx, id, []byte(`{"Operations":[{"op":"Replace","path":"active","value":"`+v+`"}]}`), ""); err != nil {
		f.t.Fatal(err)
	}
}

// checkMIUsername: the MI username is the userName, prefixed while the
// user is disabled (DESIGN §3.3).
func checkMIUsername(t *testing.T, doc scim.Resource) {
	t.Helper()
	want := doc["userName"].(string)
	if doc["active"] == false {
		want = SoftDeletePrefix(doc["id"].(string)) + want
	}
	if got := ext(doc)["miUsername"]; got != want {
		t.Fatalf("miUsername %v, want %q", got, want)
	}
}

func FuzzCreateUser(f *testing.F) {
	for _, y := range []bool{false, true} {
		f.Add(y, []byte(entraCreateUser))
		f.Add(y, []byte(`{"userName":"a","emails":[{"value":"a@x","type":"work","primary":"True"}],"active":"0","miUserType":"power"}`))
		f.Add(y, []byte(`{"userName":"ghost","emails":[{"value":"g@x"}],"active":false}`))
		f.Add(y, []byte(`{"userName":"TAKEN","emails":[{"value":"t@x"}]}`))
	}
	f.Add(false, []byte(`{"userName":"a","emails":{"value":"a@x"},"name":{"givenName":null},"externalId":null}`))
	f.Add(false, []byte(`{"userName":7}`))
	f.Add(false, []byte(`[]`))
	for _, b := range textBodies(func(v string) []byte {
		return []byte(`{"userName":"` + v + `","emails":[{"value":"a@example.com","type":"work"}]}`)
	}) {
		f.Add(true, b)
	}
	fxs := modeFixtures(f)
	for _, y := range []bool{false, true} {
		fx := fxs[y]
		fx.createUser("taken", nil)
		// A user a mode-Y soft delete removed: its tombstone must survive
		// a new user taking its userName (DESIGN §3.3).
		if _, err := fx.e.SetVar(fx.ctx, VarRemoveUserOnSoftDelete, "Y", "fuzz"); err != nil {
			f.Fatal(err)
		}
		fx.patchActive(fx.createUser("ghost", nil)["id"].(string), false)
		if _, err := fx.e.SetVar(fx.ctx, VarRemoveUserOnSoftDelete, map[bool]string{false: "N", true: "Y"}[y], "fuzz"); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, modeY bool, b []byte) {
		fx := fxs[modeY]
		fx.t = t
		before := fx.snapshot()
		u, err := fx.e.CreateUser(fx.ctx, b)
		checkText(t, b, u, err)
		if err != nil {
			wantClientError(t, err)
			if fx.snapshot() != before {
				t.Fatal("a rejected create wrote")
			}
			return
		}
		id := u["id"].(string)
		defer func() { _ = fx.e.DeleteUser(fx.ctx, id, "") }() // also when a check fails
		if got := fx.user(id); describe(got) != describe(u) {
			t.Fatalf("GET differs from the create response:\n%v\n%v", got, u)
		}
		checkMIUsername(t, u)
		if err := fx.e.DeleteUser(fx.ctx, id, ""); err != nil {
			t.Fatal(err)
		}
		// The create changed nothing but its own user: the tombstone, the
		// other users, the variables are as they were; only the users'
		// listing version has moved with the delete.
		if withoutListingVersions(fx.snapshot()) != withoutListingVersions(before) {
			t.Fatal("a create changed more than the user it created")
		}
	})
}

// Start states of the user FuzzPatchUser patches.
const (
	startActive     = iota
	startDisabled   // disabled, as a soft delete in mode N leaves it: still visible
	startTombstoned // soft-deleted in mode Y: gone, a tombstone left
	startStates
)

func FuzzPatchUser(f *testing.F) {
	seeds := []string{
		`{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
		`{"Operations":[{"op":"Replace","path":"active","value":"True"}]}`,
		`{"Operations":[{"op":"replace","path":"active","value":false},{"op":"replace","path":"active","value":true}]}`,
		`{"Operations":[{"op":"replace","value":{"active":true,"userName":"other"}}]}`,
		`{"Operations":[{"op":"replace","value":{"name.givenName":"K","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"A"}}]}`,
		`{"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@y"}]}`,
		`{"Operations":[{"op":"remove","path":"emails[type eq \"work\"]"}]}`,
		`{"Operations":[{"op":"replace","path":"id","value":"x"}]}`,
		`{"Operations":[{"op":"replace","path":"userName","value":"other"}]}`,
		`{"Operations":[{"op":"add","path":"name","value":{"givenName":1}}]}`,
		`{"Operations":[{"op":"replace","path":"active","value":false},{"op":"replace","path":"userName","value":"renamed"}]}`,
	}
	for _, s := range seeds {
		for _, y := range []bool{false, true} {
			for st := uint8(0); st < startStates; st++ {
				f.Add(y, st, []byte(s))
			}
		}
	}
	for _, b := range textBodies(func(v string) []byte {
		return []byte(`{"Operations":[{"op":"replace","path":"userName","value":"` + v + `"}]}`)
	}) {
		f.Add(true, uint8(startTombstoned), b)
	}
	fxs := modeFixtures(f)
	for _, fx := range fxs {
		fx.createUser("other", nil)
	}
	f.Fuzz(func(t *testing.T, modeY bool, start uint8, b []byte) {
		start %= startStates
		if start == startTombstoned {
			// Only mode Y makes tombstones; a PATCH of one does not read
			// the mode.
			modeY = true
		}
		fx := fxs[modeY]
		fx.t = t
		var id string
		switch start {
		case startDisabled:
			// Created disabled: the state a soft delete in mode N leaves,
			// in either mode.
			id = fx.createUser("target", map[string]any{"active": false})["id"].(string)
		default:
			id = fx.createUser("target", nil)["id"].(string)
		}
		defer func() { _ = fx.e.DeleteUser(fx.ctx, id, "") }()
		if start == startTombstoned {
			fx.patchActive(id, false)
			if _, ok := fx.tombstone(id); !ok {
				t.Fatal("a soft delete in mode Y left no tombstone")
			}
		}
		before := fx.snapshot()
		r, err := fx.e.PatchUser(fx.ctx, id, b, "")
		checkText(t, b, r, err)
		if err != nil {
			wantClientError(t, err)
			if fx.snapshot() != before {
				t.Fatal("a rejected PATCH wrote")
			}
			return
		}
		checkMIUsername(t, r)
		tomb, hasTomb := fx.tombstone(id)
		got, gerr := fx.e.GetUser(fx.ctx, id)
		if start == startActive && modeY && r["active"] == false {
			// Deleted from MI; the tombstone holds what the PATCH answered,
			// and filters no longer find the user (DESIGN §3.3).
			if gerr == nil {
				t.Fatalf("soft delete in mode Y: GET still finds the user: %v", got)
			}
			if se := wantClientError(t, gerr); se.Status != 404 {
				t.Fatalf("soft delete in mode Y: GET answers %d, want 404", se.Status)
			}
			if !hasTomb {
				t.Fatal("soft delete in mode Y left no tombstone")
			}
			if describe(UserResource(tomb)) != describe(r) {
				t.Fatalf("the tombstone differs from the PATCH response:\n%v\n%v", UserResource(tomb), r)
			}
			for _, filter := range []string{`id eq ` + jsonString(id), `userName eq ` + jsonString(r["userName"].(string))} {
				lr, err := fx.e.ListUsers(fx.ctx, Query{Filter: filter})
				if err != nil {
					continue // a userName too long for a filter
				}
				if slices.ContainsFunc(lr.Resources, func(d scim.Resource) bool { return d["id"] == id }) {
					t.Fatalf("filter %s still finds the user deleted by soft delete", filter)
				}
			}
			return
		}
		if gerr != nil {
			t.Fatalf("GET after a successful PATCH (start %d, mode Y %v): %v", start, modeY, gerr)
		}
		if describe(got) != describe(r) {
			t.Fatalf("GET differs from the PATCH response:\n%v\n%v", got, r)
		}
		if hasTomb {
			t.Fatalf("the user is back (start %d) but its tombstone remains", start)
		}
	})
}

// Fixture users of FuzzPatchGroup: ids come from the fixture's sequence,
// so the seeds can name them.
const (
	fuzzM1   = "00000001-0000-4000-8000-000000000000"
	fuzzM2   = "00000002-0000-4000-8000-000000000000"
	fuzzM3   = "00000003-0000-4000-8000-000000000000"
	fuzzGone = "00000004-0000-4000-8000-000000000000" // deleted
)

func FuzzPatchGroup(f *testing.F) {
	seeds := []string{
		`{"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + fuzzM3 + `"}]}]}`,
		`{"Operations":[{"op":"Add","path":"members","value":[{"value":"` + fuzzGone + `"},{"value":"` + fuzzM3 + `"},{"value":"` + fuzzM3 + `"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"` + fuzzM1 + `\"]"}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"` + fuzzM1 + `\" or value eq \"` + fuzzM2 + `\"]"}]}`,
		`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"` + fuzzM2 + `"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members"}]}`,
		`{"Operations":[{"op":"replace","value":{"displayName":"X","members":["` + fuzzM3 + `"]}}]}`,
		`{"Operations":[{"op":"replace","path":"members","value":[{"value":"` + fuzzM2 + `"}]}]}`,
		`{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:core:2.0:Group:members":[{"value":"` + fuzzM3 + `"}]}}]}`,
		`{"Operations":[{"op":"add","path":"members","value":"string id 1"}]}`,
		`{"Operations":[{"op":"replace","path":"displayName","value":"Other"}]}`,
		`{"Operations":[{"op":"replace","path":"displayName","value":"other "}]}`,
		`{"Operations":[{"op":"remove","path":"members[display sw \"m\"]"}]}`,
		`{"Operations":[{"op":"add","path":"members","value":[{"value":"` + fuzzM3 + `"}]},{"op":"remove","path":"members[value eq \"` + fuzzM3 + `\"]"}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, b := range textBodies(func(v string) []byte {
		return []byte(`{"Operations":[{"op":"replace","path":"displayName","value":"` + v + `"}]}`)
	}) {
		f.Add(b)
	}
	fx := newFixture(f)
	users := map[string]string{}
	for _, name := range []string{"m1", "m2", "m3", "gone"} {
		users[fx.createUser(name, nil)["id"].(string)] = name
	}
	if _, ok := users[fuzzGone]; !ok {
		f.Fatalf("fixture ids are not the expected sequence: %v", users)
	}
	if err := fx.e.DeleteUser(fx.ctx, fuzzGone, ""); err != nil {
		f.Fatal(err)
	}
	delete(users, fuzzGone)
	fx.createGroup("Other", fuzzM1)
	f.Fuzz(func(t *testing.T, b []byte) {
		fx.t = t
		outside := fx.snapshot()
		g := fx.createGroup("Target", fuzzM1, fuzzM2)
		id := g["id"].(string)
		defer func() { _ = fx.e.DeleteGroup(fx.ctx, id, "") }() // also when a check fails
		before := fx.snapshot()
		r, err := fx.e.PatchGroup(fx.ctx, id, b, "")
		checkText(t, b, r, err)
		if err != nil {
			wantClientError(t, err)
			if fx.snapshot() != before {
				t.Fatal("a rejected PATCH wrote")
			}
		} else {
			checkPatchedGroup(t, fx, b, g, r, users)
		}
		if err := fx.e.DeleteGroup(fx.ctx, id, ""); err != nil {
			t.Fatal(err)
		}
		// The PATCH changed nothing outside its group (the groups' listing
		// version has moved with the delete).
		if withoutListingVersions(fx.snapshot()) != withoutListingVersions(outside) {
			t.Fatal("a group PATCH changed the database outside the group")
		}
	})
}

// checkPatchedGroup checks a successful group PATCH: GET agrees with the
// answer, the version grew by one, members are existing users without
// duplicates shown with their userName, the displayName is unique
// regardless of case, and the member set is the one applying the
// operations gives (wantMembers) whenever the operations are of the forms
// docs/engine.md describes.
func checkPatchedGroup(t *testing.T, fx *fixture, body []byte, before, r scim.Resource, users map[string]string) {
	t.Helper()
	id := before["id"].(string)
	got, err := fx.e.GetGroup(fx.ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if describe(got) != describe(r) {
		t.Fatalf("GET differs from the PATCH response:\n%v\n%v", got, r)
	}
	if v, want := r["meta"].(map[string]any)["version"], `W/"2"`; v != want {
		t.Fatalf("version after one PATCH = %v, want %s", v, want)
	}
	withMembers, err := fx.e.GetGroup(fx.ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]bool{}
	for _, m := range withMembers["members"].([]any) {
		m := m.(map[string]any)
		uid := m["value"].(string)
		if members[uid] {
			t.Fatalf("member %s listed twice", uid)
		}
		members[uid] = true
		name, isUser := users[uid]
		if !isUser {
			t.Fatalf("member %s is not an existing user", uid)
		}
		if m["display"] != name {
			t.Fatalf("member %s shows display %v, want its userName %q", uid, m["display"], name)
		}
	}
	holders := 0
	err = fx.st.Store.View(fx.ctx, func(tx store.Tx) error {
		return tx.ScanGroups(func(g store.Group) error {
			if strings.EqualFold(g.DisplayName, r["displayName"].(string)) {
				holders++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if holders != 1 {
		t.Fatalf("displayName %q is held by %d groups (names are unique regardless of case)", r["displayName"], holders)
	}
	ops, err := scim.ParsePatch(body)
	if err != nil {
		t.Fatalf("the engine accepted a PATCH the parser refuses: %v", err)
	}
	want, modeled := wantMembers(ops, []string{fuzzM1, fuzzM2}, users)
	if modeled && !maps.Equal(members, want) {
		t.Fatalf("members after the PATCH = %v, want %v", slices.Sorted(maps.Keys(members)), slices.Sorted(maps.Keys(want)))
	}
}

// wantMembers applies the membership operations of a PATCH to a member
// set as docs/engine.md describes them, without the engine's code:
// add/replace with ids (unknown ids ignored), remove by value, remove all,
// remove by a filter evaluated on each member. modeled is false when an
// operation touches members in a form this model does not cover (URN or
// dotted keys, sub-attribute paths).
func wantMembers(ops []scim.PatchOperation, start []string, users map[string]string) (set map[string]bool, modeled bool) {
	set = map[string]bool{}
	for _, id := range start {
		set[id] = true
	}
	idsOf := func(v any) []string {
		list, isList := v.([]any)
		if !isList {
			list = []any{v}
		}
		var ids []string
		for _, e := range list {
			if id, ok := scim.ElementValue(e); ok {
				ids = append(ids, id)
			}
		}
		return ids
	}
	apply := func(op string, ids []string) {
		if op == scim.PatchReplace {
			clear(set)
		}
		for _, id := range ids {
			if _, isUser := users[id]; !isUser {
				continue
			}
			if op == scim.PatchRemove {
				delete(set, id)
			} else {
				set[id] = true
			}
		}
	}
	for _, op := range ops {
		if op.Path == nil {
			value, _ := op.Value.(map[string]any)
			var ids []string
			found := false
			for k, v := range value {
				switch {
				case strings.EqualFold(k, "members"):
					ids, found = append(ids, idsOf(v)...), true
				case mentionsMembers(k, v):
					return nil, false
				}
			}
			if found {
				apply(op.Op, ids)
			}
			continue
		}
		p := *op.Path
		if !strings.EqualFold(p.Name, "members") {
			continue
		}
		switch {
		case p.URI != "" || p.SubAttr != "":
			return nil, false
		case p.ValueFilter != nil:
			for id := range set {
				elem := map[string]any{"value": id, "display": users[id], "type": "User"}
				if scim.MatchElement(p.ValueFilter, elem, scim.Group.Lookup("", "members")) {
					delete(set, id)
				}
			}
		case op.Op == scim.PatchRemove && op.Value == nil:
			clear(set)
		default:
			apply(op.Op, idsOf(op.Value))
		}
	}
	return set, true
}

// mentionsMembers reports a path-less key, or a key inside its value,
// that names members other than as the plain "members" key.
func mentionsMembers(k string, v any) bool {
	if strings.Contains(strings.ToLower(k), "members") {
		return true
	}
	if m, ok := v.(map[string]any); ok {
		for ik, iv := range m {
			if mentionsMembers(ik, iv) {
				return true
			}
		}
	}
	return false
}
