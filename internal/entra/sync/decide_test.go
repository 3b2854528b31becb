package sync

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/scim"
)

func attr(target string, tt mapping.TargetType) *mapping.Attribute {
	return &mapping.Attribute{Target: target, Type: mapping.Direct, TargetType: tt}
}

func change(target string, o Op, value string, tt mapping.TargetType) Change {
	a := attr(target, tt)
	return Change{Attr: a, Path: pathOf(a), Op: o, Value: expr.Str(value)}
}

// TestPatchBodies checks both dialects byte for byte against COMPAT's
// samples (entra-behavior §2.5).
func TestPatchBodies(t *testing.T) {
	str := mapping.TypeString
	several := []Change{
		change("displayName", OpReplace, "Bjfe", str),
		change(`emails[type eq "work"].value`, OpReplace, "TestMhvaes@test.microsoft.com", str),
		change("name.givenName", OpReplace, "Kkom", str),
		change("name.familyName", OpReplace, "Unua", str),
		change("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", OpReplace, "Aklq", str),
	}
	tests := []struct {
		name    string
		changes []Change
		d       Dialect
		policy  BooleanPolicy
		want    string
		err     bool
	}{
		{"disable legacy", []Change{change("active", OpReplace, "False", mapping.TypeBoolean)}, DialectLegacy, "",
			`{"op":"Replace","path":"active","value":"False"}`, false},
		{"disable flag", []Change{change("active", OpReplace, "False", mapping.TypeBoolean)}, DialectFlag, "",
			`{"op":"replace","path":"active","value":false}`, false},
		{"add single legacy", []Change{change("nickName", OpAdd, "Babs", str)}, DialectLegacy, "",
			`{"op":"Add","path":"nickName","value":"Babs"}`, false},
		{"add single flag", []Change{change("nickName", OpAdd, "Babs", str)}, DialectFlag, "",
			`{"op":"add","path":"nickName","value":"Babs"}`, false},
		{"replace several legacy", several, DialectLegacy, "",
			`{"op":"Replace","path":"displayName","value":"Bjfe"},{"op":"Replace","path":"emails[type eq \"work\"].value","value":"TestMhvaes@test.microsoft.com"},{"op":"Replace","path":"name.givenName","value":"Kkom"},{"op":"Replace","path":"name.familyName","value":"Unua"},{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Aklq"}`, false},
		{"replace several flag", several, DialectFlag, "",
			`{"op":"replace","path":"emails[type eq \"work\"].value","value":"TestMhvaes@test.microsoft.com"},{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}`, false},
		{"MI 0 verbatim legacy", []Change{change("active", OpReplace, "0", mapping.TypeBoolean)}, DialectLegacy, BooleanVerbatim,
			`{"op":"Replace","path":"active","value":"0"}`, false},
		{"MI 0 verbatim flag", []Change{change("active", OpReplace, "0", mapping.TypeBoolean)}, DialectFlag, BooleanVerbatim,
			`{"op":"replace","path":"active","value":"0"}`, false},
		{"MI 0 coerced legacy", []Change{change("active", OpReplace, "0", mapping.TypeBoolean)}, DialectLegacy, BooleanCoerce,
			`{"op":"Replace","path":"active","value":"False"}`, false},
		{"MI 1 coerced flag", []Change{change("active", OpReplace, "1", mapping.TypeBoolean)}, DialectFlag, BooleanCoerce,
			`{"op":"replace","path":"active","value":true}`, false},
		{"lower-case false verbatim", []Change{change("active", OpReplace, "false", mapping.TypeBoolean)}, DialectLegacy, BooleanVerbatim,
			`{"op":"Replace","path":"active","value":"false"}`, false},
		{"MI 0 export error", []Change{change("active", OpReplace, "0", mapping.TypeBoolean)}, DialectFlag, BooleanError, "", true},
		{"add and replace flag", []Change{change("userName", OpReplace, "x", str), change("name.familyName", OpAdd, "y", str), change("active", OpReplace, "False", mapping.TypeBoolean)}, DialectFlag, "",
			`{"op":"add","path":"name.familyName","value":"y"},{"op":"replace","value":{"userName":"x","active":false}}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == "" {
				p = BooleanVerbatim
			}
			got, err := patchBody(tc.changes, tc.d, p)
			if tc.err {
				var be *BooleanValueError
				if !errors.As(err, &be) {
					t.Fatalf("err %v, want a BooleanValueError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + tc.want + `]}`
			if string(got) != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestMemberPatches(t *testing.T) {
	tests := []struct {
		add  bool
		d    Dialect
		want string
	}{
		{true, DialectLegacy, `{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"},{"$ref":null,"value":"u2"}]}`},
		{true, DialectFlag, `{"op":"add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"},{"$ref":null,"value":"u2"}]}`},
		{false, DialectLegacy, `{"op":"Remove","path":"members","value":[{"value":"f648f8d5ea4e4cd38e9c"},{"value":"u2"}]}`},
		{false, DialectFlag, `{"op":"remove","path":"members[value eq \"f648f8d5ea4e4cd38e9c\"]"},{"op":"remove","path":"members[value eq \"u2\"]"}`},
	}
	for _, tc := range tests {
		got := string(memberPatch(tc.add, []string{"f648f8d5ea4e4cd38e9c", "u2"}, tc.d))
		want := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + tc.want + `]}`
		if got != want {
			t.Errorf("add=%v %s:\n got %s\nwant %s", tc.add, tc.d, got, want)
		}
	}
}

// TestAppendJSONMatchesEncodingJSON: an ordered body encodes as
// encoding/json encodes the same members (HTML escaping off), so what the
// dialect tests compare byte for byte is valid, canonical JSON.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"plain", `quo"te\`, "ctl\x01\b\f\n\t", "<html>&", "\u2028x\u2029", "bad\xffutf8", "é漢"} {
		body := obj{{"op", "Replace"}, {"path", s}, {"value", []any{s, true, nil, []string{s}}}}
		got := string(appendJSON(nil, body))
		want, _ := marshalNoHTML(map[string]any{"op": "Replace", "path": s, "value": []any{s, true, nil, []string{s}}})
		if got != want {
			t.Errorf("%q: got %s want %s", s, got, want)
		}
	}
}

// decideTenant is the tenant of the decision tests.
const decideTenant = `
users:
  - objectId: u1
    userPrincipalName: ann@contoso.com
    givenName: Ann
    surname: Lee
    mail: ann@contoso.com
    accountEnabled: true
  - objectId: u2
    userPrincipalName: bob@contoso.com
    mail: bob@contoso.com
    accountEnabled: true
  - objectId: u3
    userPrincipalName: cid@contoso.com
    mail: cid@contoso.com
    accountEnabled: false
groups:
  - objectId: g1
    displayName: Sales
    members: [u1]
  - objectId: g2
    displayName: Ops
assignments:
  - principalId: u1
  - principalId: u3
  - principalId: g1
`

func desired(t *testing.T, m *mapping.Mapping, id string) *mapping.Desired {
	t.Helper()
	tn, err := tenant.Parse("tenant.yaml", []byte(decideTenant))
	if err != nil {
		t.Fatal(err)
	}
	mp, err := mapping.New(tn, m, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := tn.UserByID(id); ok {
		return mp.User(u)
	}
	g, ok := tn.GroupByID(id)
	if !ok {
		t.Fatalf("no %s", id)
	}
	return mp.Group(g)
}

func list(ids ...string) Response {
	var rs []string
	for _, id := range ids {
		rs = append(rs, `{"id":"`+id+`","userName":"ann@contoso.com","active":true,"externalId":"u1","name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"value":"ann@contoso.com","type":"work","primary":true}]}`)
	}
	return Response{Status: 200, Body: []byte(`{"Resources":[` + strings.Join(rs, ",") + `]}`)}
}

func resp(status int, body string) Response { return Response{Status: status, Body: []byte(body)} }

// TestDecide walks the decision through the exchanges of each case and
// checks the request of every step and the outcome.
func TestDecide(t *testing.T) {
	m := mapping.Default()
	annOnTarget := `{"id":"t1","userName":"ann@contoso.com","active":true,"externalId":"u1","name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"value":"ann@contoso.com","type":"work"}]}`
	noActions := mapping.Actions{}
	all := mapping.Actions{Create: true, Update: true, Delete: true}
	tests := []struct {
		name    string
		id      string // "" for an object gone from the tenant
		kind    mapping.ObjectKind
		entry   *Entry
		actions *mapping.Actions
		stage   bool
		answers []Response // the target's answer to each request, in order
		want    []string   // the requests, METHOD path
		action  provlog.Action
		status  provlog.Status
		code    string // error code or skip reason
		link    LinkChange
	}{
		{name: "new user: match, nothing, create", id: "u1", answers: []Response{list(), resp(201, `{"id":"t1"}`)},
			want: []string{`GET /Users?filter=userName%20eq%20%22ann%40contoso.com%22`, "POST /Users"}, action: provlog.ActionCreate, status: provlog.StatusSuccess, link: LinkSet},
		{name: "new user: match one, same values", id: "u1", answers: []Response{list("t9")},
			want: []string{`GET /Users?filter=userName%20eq%20%22ann%40contoso.com%22`}, action: provlog.ActionOther, status: provlog.StatusSkipped, code: SkipRedundant, link: LinkSet},
		{name: "new user: two matches", id: "u1", answers: []Response{list("t8", "t9")},
			want: []string{`GET /Users?filter=userName%20eq%20%22ann%40contoso.com%22`}, action: provlog.ActionCreate, status: provlog.StatusFailure, code: CodeDuplicateTargetEntries},
		{name: "new user: 409 on create", id: "u1", answers: []Response{list(), resp(409, `{"status":"409"}`)},
			want: []string{`GET /Users?filter=userName%20eq%20%22ann%40contoso.com%22`, "POST /Users"}, action: provlog.ActionCreate, status: provlog.StatusFailure, code: CodeEntryConflict},
		{name: "new user: 400 on create", id: "u1", answers: []Response{list(), resp(400, `{"status":"400"}`)},
			want: []string{`GET /Users?filter=userName%20eq%20%22ann%40contoso.com%22`, "POST /Users"}, action: provlog.ActionCreate, status: provlog.StatusFailure, code: CodeBadRequest},
		{name: "new user, Create not allowed", id: "u1", actions: &mapping.Actions{Update: true}, answers: []Response{list()},
			want: []string{`GET /Users?filter=userName%20eq%20%22ann%40contoso.com%22`}, action: provlog.ActionOther, status: provlog.StatusSkipped, code: SkipNotAllowed},
		{name: "linked: read, same", id: "u1", entry: &Entry{TargetID: "t1"}, answers: []Response{resp(200, annOnTarget)},
			want: []string{"GET /Users/t1"}, action: provlog.ActionOther, status: provlog.StatusSkipped, code: SkipRedundant},
		{name: "linked: read, differs", id: "u1", entry: &Entry{TargetID: "t1"}, answers: []Response{resp(200, strings.Replace(annOnTarget, `"Lee"`, `"Li"`, 1)), resp(200, `{}`)},
			want: []string{"GET /Users/t1", "PATCH /Users/t1"}, action: provlog.ActionUpdate, status: provlog.StatusSuccess},
		{name: "linked: 404 is InvalidAnchor, no create", id: "u1", entry: &Entry{TargetID: "t1"}, answers: []Response{resp(404, `{}`)},
			want: []string{"GET /Users/t1"}, action: provlog.ActionUpdate, status: provlog.StatusFailure, code: CodeInvalidAnchor},
		{name: "linked: PATCH 404 is InvalidAnchor", id: "u1", entry: &Entry{TargetID: "t1"}, answers: []Response{resp(200, `{"id":"t1"}`), resp(404, `{}`)},
			want: []string{"GET /Users/t1", "PATCH /Users/t1"}, action: provlog.ActionUpdate, status: provlog.StatusFailure, code: CodeInvalidAnchor},
		{name: "out of scope, never linked", id: "u2",
			action: provlog.ActionOther, status: provlog.StatusSkipped, code: SkipNotEntitled},
		{name: "unassigned, linked: disable, link dropped", id: "u2", entry: &Entry{TargetID: "t2"}, answers: []Response{resp(200, `{"id":"t2","active":true,"userName":"bob@contoso.com"}`), resp(200, `{}`)},
			want: []string{"GET /Users/t2", "PATCH /Users/t2"}, action: provlog.ActionDisable, status: provlog.StatusSuccess, link: LinkDrop},
		{name: "disabled account, linked: disable, link kept", id: "u3", entry: &Entry{TargetID: "t3"}, answers: []Response{resp(200, `{"id":"t3","active":true,"userName":"cid@contoso.com"}`), resp(200, `{}`)},
			want: []string{"GET /Users/t3", "PATCH /Users/t3"}, action: provlog.ActionDisable, status: provlog.StatusSuccess, link: LinkKeep},
		{name: "unassigned, Update not allowed", id: "u2", entry: &Entry{TargetID: "t2"}, actions: &mapping.Actions{Create: true, Delete: true},
			action: provlog.ActionOther, status: provlog.StatusSkipped, code: SkipNotAllowed, link: LinkDrop},
		{name: "unassigned, staged", id: "u2", entry: &Entry{TargetID: "t2"}, stage: true,
			action: provlog.ActionStagedDelete, status: provlog.StatusSkipped, code: "StagedDelete"},
		{name: "hard-deleted, linked: DELETE", entry: &Entry{TargetID: "t4", SourceID: "u4"}, answers: []Response{resp(204, "")},
			want: []string{"DELETE /Users/t4"}, action: provlog.ActionDelete, status: provlog.StatusSuccess, link: LinkForget},
		{name: "hard-deleted, already gone", entry: &Entry{TargetID: "t4", SourceID: "u4"}, answers: []Response{resp(404, "")},
			want: []string{"DELETE /Users/t4"}, action: provlog.ActionDelete, status: provlog.StatusSuccess, link: LinkForget},
		{name: "hard-deleted, Delete not allowed", entry: &Entry{TargetID: "t4", SourceID: "u4"}, actions: &noActions,
			action: provlog.ActionOther, status: provlog.StatusSkipped, code: SkipNotAllowed, link: LinkForget},
		{name: "hard-deleted, never linked", entry: &Entry{SourceID: "u4"},
			action: provlog.ActionOther, status: provlog.StatusSkipped, link: LinkForget},
		{name: "group: match, create", id: "g1", kind: mapping.Groups, answers: []Response{list(), resp(201, `{"id":"tg"}`)},
			want: []string{"GET /Groups?excludedAttributes=members&filter=displayName%20eq%20%22Sales%22", "POST /Groups"}, action: provlog.ActionCreate, status: provlog.StatusSuccess, link: LinkSet},
		{name: "group linked: read without members", id: "g1", kind: mapping.Groups, entry: &Entry{TargetID: "tg"}, answers: []Response{resp(200, `{"id":"tg","displayName":"Sales","externalId":"g1"}`)},
			want: []string{"GET /Groups/tg?excludedAttributes=members"}, action: provlog.ActionOther, status: provlog.StatusSkipped, code: SkipRedundant},
		{name: "group unassigned, linked: DELETE", id: "g2", kind: mapping.Groups, entry: &Entry{TargetID: "tg2"}, answers: []Response{resp(204, "")},
			want: []string{"DELETE /Groups/tg2"}, action: provlog.ActionDelete, status: provlog.StatusSuccess, link: LinkDrop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kind := tc.kind
			if kind == "" {
				kind = mapping.Users
			}
			actions := all
			if tc.actions != nil {
				actions = *tc.actions
			}
			policy := Policy{}.withDefaults()
			c := &Case{Kind: kind, Entry: tc.entry, Actions: actions, Policy: &policy, Stage: tc.stage}
			if tc.id != "" {
				c.Desired = desired(t, m, tc.id)
			}
			var got []string
			var out *Outcome
			for i := 0; ; i++ {
				dec := Decide(c)
				if dec.Outcome != nil {
					out = dec.Outcome
					break
				}
				got = append(got, dec.Next.Method+" "+dec.Next.Path)
				if i >= len(tc.answers) {
					t.Fatalf("request %d (%s) has no scripted answer", i, got[i])
				}
				c.History = append(c.History, Exchange{Request: *dec.Next, Response: tc.answers[i]})
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("requests\n got %q\nwant %q", got, tc.want)
			}
			code := out.ErrorCode
			if code == "" {
				code = out.SkipReason
			}
			if out.Action != tc.action || out.Status != tc.status || code != tc.code || out.Link != tc.link {
				t.Errorf("outcome %s/%s %q link %d, want %s/%s %q link %d (%s)", out.Action, out.Status, code, out.Link, tc.action, tc.status, tc.code, tc.link, out.Detail)
			}
			if (out.Status == provlog.StatusFailure) != out.Escrow && code != CodeImportSkipped {
				t.Errorf("escrow %v for a %s outcome", out.Escrow, out.Status)
			}
			if c.Removes() != (out.Action == provlog.ActionDisable || out.Action == provlog.ActionDelete || out.Action == provlog.ActionStagedDelete) && out.Status != provlog.StatusFailure {
				t.Errorf("Removes() = %v for %s", c.Removes(), out.Action)
			}
		})
	}
}

// TestMatchingPrecedence: the matching attributes are queried in
// precedence order, one after the other until one finds an object; an
// absent value is passed over.
func TestMatchingPrecedence(t *testing.T) {
	m := mapping.Default()
	for _, a := range m.Users.Attributes {
		switch a.Target {
		case "externalId":
			a.Matching = 2
		case "userName":
			a.Matching = 1
		}
	}
	policy := Policy{}.withDefaults()
	c := &Case{Kind: mapping.Users, Desired: desired(t, m, "u1"), Actions: mapping.Actions{Create: true, Update: true}, Policy: &policy}
	d1 := Decide(c)
	if d1.Next == nil || d1.Next.Path != `/Users?filter=userName%20eq%20%22ann%40contoso.com%22` {
		t.Fatalf("first %+v", d1.Next)
	}
	c.History = append(c.History, Exchange{Request: *d1.Next, Response: list()})
	d2 := Decide(c)
	if d2.Next == nil || d2.Next.Path != `/Users?filter=externalId%20eq%20%22u1%22` || d2.Next.Match.Precedence != 2 {
		t.Fatalf("second %+v", d2.Next)
	}
	c.History = append(c.History, Exchange{Request: *d2.Next, Response: list()})
	if d3 := Decide(c); d3.Next == nil || d3.Next.Method != "POST" {
		t.Fatalf("third %+v", d3)
	}

	// No value for any matching attribute: ImportSkipped.
	m2 := mapping.Default()
	for _, a := range m2.Users.Attributes {
		a.Matching = 0
		if a.Target == "name.givenName" {
			a.Matching = 1
		}
	}
	c = &Case{Kind: mapping.Users, Desired: desired(t, m2, "u2"), Actions: mapping.Actions{Create: true}, Policy: &policy}
	c.Desired.Scope.InScope = true
	if out := Decide(c).Outcome; out == nil || out.ErrorCode != CodeImportSkipped {
		t.Fatalf("outcome %+v", out)
	}
}

func TestPlanMembers(t *testing.T) {
	policy := Policy{}.withDefaults()
	removeSoft := policy
	removeSoft.RemoveMembersOnSoftDelete = true
	tests := []struct {
		name        string
		desired     []MemberRef
		direct      []string
		soft        []string
		exported    []MemberRef
		policy      *Policy
		add, remove string
		unresolved  int
	}{
		{"new members added", []MemberRef{{"a", "ta"}, {"b", "tb"}}, []string{"a", "b"}, nil, nil, &policy, "a,b", "", 0},
		{"already exported", []MemberRef{{"a", "ta"}}, []string{"a"}, nil, []MemberRef{{"a", "ta"}}, &policy, "", "", 0},
		{"left the group", nil, nil, nil, []MemberRef{{"a", "ta"}}, &policy, "", "a", 0},
		{"out of scope but still a member: kept", nil, []string{"a"}, nil, []MemberRef{{"a", "ta"}}, &policy, "", "", 0},
		{"soft-deleted, dropped from the group: kept", nil, nil, []string{"a"}, []MemberRef{{"a", "ta"}}, &policy, "", "", 0},
		{"soft-deleted, policy removes", nil, []string{"a"}, []string{"a"}, []MemberRef{{"a", "ta"}}, &removeSoft, "", "a", 0},
		{"no target object yet", []MemberRef{{"a", ""}}, []string{"a"}, nil, nil, &policy, "", "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := func(set []string) func(string) bool {
				return func(k string) bool {
					for _, s := range set {
						if s == k {
							return true
						}
					}
					return false
				}
			}
			p := PlanMembers(&MemberCase{Desired: tc.desired, Direct: in(tc.direct), SoftDeleted: in(tc.soft), Exported: tc.exported, Policy: tc.policy})
			keys := func(ms []MemberRef) string {
				var s []string
				for _, m := range ms {
					s = append(s, m.UserKey)
				}
				return strings.Join(s, ",")
			}
			if keys(p.Add) != tc.add || keys(p.Remove) != tc.remove || len(p.Unresolved) != tc.unresolved {
				t.Errorf("add %q remove %q unresolved %d", keys(p.Add), keys(p.Remove), len(p.Unresolved))
			}
		})
	}
	// Batching: three additions in batches of two make two requests.
	p := MemberPlan{Add: []MemberRef{{"a", "1"}, {"b", "2"}, {"c", "3"}}, Remove: []MemberRef{{"d", "4"}}}
	reqs, refs := p.Requests("g", DialectLegacy, 2)
	if len(reqs) != 3 || len(refs[0]) != 2 || len(refs[1]) != 1 || !strings.Contains(string(reqs[2].Body), `"Remove"`) {
		t.Errorf("requests %d, refs %v", len(reqs), refs)
	}
}

func TestCreateBody(t *testing.T) {
	d := desired(t, mapping.Default(), "u1")
	body, changes, err := createBody(d, BooleanVerbatim, plainValue)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"u1","userName":"ann@contoso.com","active":"1","name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"primary":true,"type":"work","value":"ann@contoso.com"}],"meta":{"resourceType":"User"}}`
	if string(body) != want {
		t.Errorf("got\n%s\nwant\n%s", body, want)
	}
	if len(changes) != 6 {
		t.Errorf("%d changes", len(changes))
	}
	body, _, _ = createBody(d, BooleanCoerce, plainValue)
	if !strings.Contains(string(body), `"active":true`) {
		t.Errorf("coerced: %s", body)
	}
	if _, _, err := createBody(d, BooleanError, plainValue); err == nil {
		t.Error("export-error: no error")
	}
	// The body must be what the engine accepts.
	if _, err := scim.DecodeObject(body); err != nil {
		t.Error(err)
	}
}

func marshalNoHTML(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
