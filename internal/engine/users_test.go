package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/miscim/miscim/internal/scim"
)

// entraCreateUser is the create request of entra-behavior §2.3.
const entraCreateUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
  "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
  "active": true,
  "emails": [{"primary": true, "type": "work", "value": "Test_User_00aa00aa@testuser.com"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
  "roles": []
}`

func TestCreateUserFromEntra(t *testing.T) {
	f := newFixture(t)
	u, err := f.e.CreateUser(f.ctx, body(entraCreateUser))
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{
		"userName":   "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"active":     true,
	}
	for k, want := range checks {
		if u[k] != want {
			t.Errorf("%s = %v, want %v", k, u[k], want)
		}
	}
	if name := u["name"].(map[string]any); name["givenName"] != "givenName" || name["familyName"] != "familyName" {
		t.Errorf("name = %v", name)
	}
	if _, ok := u["name"].(map[string]any)["formatted"]; ok {
		t.Errorf("name.formatted is not kept by MI and must not come back")
	}
	email := u["emails"].([]any)[0].(map[string]any)
	if email["value"] != "Test_User_00aa00aa@testuser.com" || email["type"] != "work" {
		t.Errorf("emails = %v", u["emails"])
	}
	for _, k := range []string{"roles", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"} {
		if _, ok := u[k]; ok {
			t.Errorf("unsupported attribute %s must be ignored, not returned", k)
		}
	}
	x := ext(u)
	if x["userType"] != "regular" || x["authMethod"] != "sso" || x["source"] != "scim" || x["miUsername"] != u["userName"] {
		t.Errorf("MI view = %v", x)
	}
	if got := f.user(u["id"].(string)); got["userName"] != u["userName"] {
		t.Errorf("GET after create = %v", got)
	}
}

func TestCreateUserRejectsBadInput(t *testing.T) {
	long := strings.Repeat("a", MaxUserNameLength+1)
	tests := []struct {
		name     string
		body     string
		scimType string
		detail   string
	}{
		{"malformed JSON", `{"userName": "a",`, scim.ScimTypeInvalidSyntax, "not valid JSON"},
		{"not an object", `["userName"]`, scim.ScimTypeInvalidSyntax, "JSON object"},
		{"empty body", ``, scim.ScimTypeInvalidSyntax, "empty"},
		{"trailing data", `{"userName":"a","emails":[{"value":"a@x"}]} {}`, scim.ScimTypeInvalidSyntax, "after the object"},
		{"no userName", `{"emails":[{"value":"a@example.com"}]}`, scim.ScimTypeInvalidValue, "userName is required"},
		{"userName not a string", `{"userName":42,"emails":[{"value":"a@example.com"}]}`, scim.ScimTypeInvalidValue, "must be a string"},
		{"blank userName", `{"userName":"  ","emails":[{"value":"a@example.com"}]}`, scim.ScimTypeInvalidValue, "empty"},
		{"userName of 101 characters", `{"userName":"` + long + `","emails":[{"value":"a@example.com"}]}`, scim.ScimTypeInvalidValue, "at most 100"},
		{"no email", `{"userName":"a"}`, scim.ScimTypeInvalidValue, "email address is required"},
		{"empty emails", `{"userName":"a","emails":[]}`, scim.ScimTypeInvalidValue, "email address is required"},
		{"blank email", `{"userName":"a","emails":[{"value":""}]}`, scim.ScimTypeInvalidValue, "email address is required"},
		{"emails not an array", `{"userName":"a","emails":"a@example.com"}`, scim.ScimTypeInvalidValue, "emails must be an array"},
		{"email value not a string", `{"userName":"a","emails":[{"value":7}]}`, scim.ScimTypeInvalidValue, "must be a string"},
		{"active not a boolean", `{"userName":"a","emails":[{"value":"a@x"}],"active":"maybe"}`, scim.ScimTypeInvalidValue, "active must be true or false"},
		{"name not an object", `{"userName":"a","emails":[{"value":"a@x"}],"name":"Ann"}`, scim.ScimTypeInvalidValue, "name must be an object"},
		{"externalId not a string", `{"userName":"a","emails":[{"value":"a@x"}],"externalId":{}}`, scim.ScimTypeInvalidValue, "externalId must be a string"},
		{"unknown user type", `{"userName":"a","emails":[{"value":"a@x"}],"miUserType":"superuser"}`, scim.ScimTypeInvalidValue, "regular, power or admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.snapshot()
			_, err := f.e.CreateUser(f.ctx, []byte(tt.body))
			se := wantSCIMError(t, err, 400, tt.scimType)
			if !strings.Contains(se.Detail, tt.detail) {
				t.Errorf("detail %q does not say %q", se.Detail, tt.detail)
			}
			if after := f.snapshot(); after != before {
				t.Errorf("a rejected create wrote:\n%s", after)
			}
		})
	}
}

func TestUserNameLimitIsInclusive(t *testing.T) {
	f := newFixture(t)
	name := strings.Repeat("é", MaxUserNameLength) // characters, not bytes
	f.createUser(name, nil)
}

func TestUserNameUniqueness(t *testing.T) {
	f := newFixture(t)
	first := f.createUser("Ann@Example.com", nil)
	cases := []string{"ann@example.com", "ANN@EXAMPLE.COM", "Ann@Example.com"}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			before := f.snapshot()
			_, err := f.e.CreateUser(f.ctx, body(map[string]any{"userName": name, "emails": []any{map[string]any{"value": "x@example.com"}}}))
			se := wantSCIMError(t, err, 409, scim.ScimTypeUniqueness)
			if !strings.Contains(se.Detail, first["id"].(string)) {
				t.Errorf("detail should name the user holding the name: %s", se.Detail)
			}
			if f.snapshot() != before {
				t.Error("a rejected create wrote")
			}
		})
	}
	// A disabled user still holds its userName (mode N keeps the user).
	patch(t, f, first["id"].(string), `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	_, err := f.e.CreateUser(f.ctx, body(map[string]any{"userName": "ann@example.com", "emails": []any{map[string]any{"value": "x@example.com"}}}))
	wantSCIMError(t, err, 409, scim.ScimTypeUniqueness)
}

func TestExternalIDIsNotUnique(t *testing.T) {
	// Microsoft's test collection posts five users sharing one externalId.
	f := newFixture(t)
	for _, n := range []string{"a", "b", "c"} {
		f.createUser(n, map[string]any{"externalId": "22fbc523-1111"})
	}
	if lr := f.list(Query{Filter: `externalId eq "22fbc523-1111"`}); lr.TotalResults != 3 {
		t.Fatalf("want 3 users sharing the externalId, got %d", lr.TotalResults)
	}
}

func TestActiveAcceptsEveryEntraSpelling(t *testing.T) {
	tests := []struct {
		value any
		want  bool
	}{
		{true, true}, {false, false}, {"True", true}, {"False", false}, {"TRUE", true}, {"false", false},
		{"1", true}, {"0", false}, {1, true}, {0, false},
	}
	for _, tt := range tests {
		f := newFixture(t)
		u := f.createUser("u", map[string]any{"active": tt.value})
		if u["active"] != tt.want {
			t.Errorf("active %#v → %v, want %v", tt.value, u["active"], tt.want)
		}
	}
}

func TestUserTypeFromMIUserType(t *testing.T) {
	tests := []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"default", nil, "regular"},
		{"top level", map[string]any{"miUserType": "Power"}, "power"},
		{"enterprise extension", map[string]any{scim.EnterpriseUserSchema: map[string]any{"miUserType": "admin"}}, "admin"},
		{"custom extension", map[string]any{"urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User": map[string]any{"miUserType": "ADMINISTRATOR"}}, "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if got := ext(f.createUser("u", tt.extra))["userType"]; got != tt.want {
				t.Errorf("userType = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestEmailRule(t *testing.T) {
	// MI keeps one Email: the work address, else the primary, else the first.
	tests := []struct {
		name   string
		emails []any
		want   string
	}{
		{"work wins over primary", []any{
			map[string]any{"value": "home@x", "type": "home", "primary": true},
			map[string]any{"value": "work@x", "type": "work"}}, "work@x"},
		{"primary when no work", []any{
			map[string]any{"value": "first@x", "type": "home"},
			map[string]any{"value": "primary@x", "type": "other", "primary": "True"}}, "primary@x"},
		{"first otherwise", []any{
			map[string]any{"value": "first@x"},
			map[string]any{"value": "second@x"}}, "first@x"},
		{"case-insensitive keys", []any{
			map[string]any{"Value": "w@x", "Type": "Work", "Primary": true}}, "w@x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.createUser("u", map[string]any{"emails": tt.emails})
			if got := u["emails"].([]any)[0].(map[string]any)["value"]; got != tt.want {
				t.Errorf("email = %v, want %s", got, tt.want)
			}
		})
	}
}

func patch(t *testing.T, f *fixture, id, ops string) scim.Resource {
	t.Helper()
	r, err := f.e.PatchUser(f.ctx, id, []byte(ops), "")
	if err != nil {
		t.Fatalf("PATCH %s: %v", ops, err)
	}
	return r
}

func TestPatchUserEntraDialects(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, u scim.Resource)
	}{
		{"legacy multi-op update (entra-behavior §2.4)", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[
			{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
			{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
			{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Eqpj"},
			{"op":"Add","path":"nickName","value":"Babs"}]}`,
			func(t *testing.T, u scim.Resource) {
				wantEmail(t, u, "updatedEmail@microsoft.com")
				if u["name"].(map[string]any)["familyName"] != "updatedFamilyName" {
					t.Errorf("name = %v", u["name"])
				}
				if _, ok := u["nickName"]; ok {
					t.Error("nickName is not kept by MI")
				}
			}},
		{"aadOptscim062020 path-less replace with dotted and URN keys (entra-behavior §2.5)", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}]}`,
			func(t *testing.T, u scim.Resource) {
				if n := u["name"].(map[string]any); n["givenName"] != "Kkom" || n["familyName"] != "Unua" {
					t.Errorf("name = %v", n)
				}
			}},
		{"legacy disable with the string False", `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
			func(t *testing.T, u scim.Resource) { wantActive(t, u, false) }},
		{"aadOptscim062020 disable with a boolean", `{"Operations":[{"op":"replace","path":"active","value":false}]}`,
			func(t *testing.T, u scim.Resource) { wantActive(t, u, false) }},
		{"MI mapping disable with 0", `{"Operations":[{"op":"Replace","path":"active","value":"0"}]}`,
			func(t *testing.T, u scim.Resource) { wantActive(t, u, false) }},
		{"op in upper case", `{"Operations":[{"op":"REPLACE","path":"userName","value":"ryan3"}]}`,
			func(t *testing.T, u scim.Resource) {
				if u["userName"] != "ryan3" || ext(u)["miUsername"] != "ryan3" {
					t.Errorf("userName = %v, MI username %v", u["userName"], ext(u)["miUsername"])
				}
			}},
		{"attribute names in another case", `{"Operations":[{"op":"replace","path":"NAME.GIVENNAME","value":"Gina"}]}`,
			func(t *testing.T, u scim.Resource) {
				if u["name"].(map[string]any)["givenName"] != "Gina" {
					t.Errorf("name = %v", u["name"])
				}
			}},
		{"add a work email where there is none", `{"Operations":[{"op":"remove","path":"emails[type eq \"work\"]"},
			{"op":"Add","path":"emails[type eq \"work\"].value","value":"new@x.com"}]}`,
			func(t *testing.T, u scim.Resource) { wantEmail(t, u, "new@x.com") }},
		{"manager forms are accepted and ignored", `{"Operations":[
			{"op":"Add","path":"manager","value":[{"$ref":"http://x/Users/1","value":"1"}]},
			{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"1"},
			{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`,
			func(t *testing.T, u scim.Resource) { wantActive(t, u, true) }},
		{"stringified role value", `{"Operations":[{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"1\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}]}`,
			func(t *testing.T, u scim.Resource) { wantActive(t, u, true) }},
		{"miUserType through the enterprise extension", `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:miUserType","value":"power"}]}`,
			func(t *testing.T, u scim.Resource) {
				if ext(u)["userType"] != "power" {
					t.Errorf("userType = %v", ext(u)["userType"])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.createUser("bjensen@example.com", map[string]any{"name": map[string]any{"givenName": "Barbara", "familyName": "Jensen"}})
			got := patch(t, f, u["id"].(string), tt.body)
			tt.check(t, got)
			if v := got["meta"].(map[string]any)["version"]; v != `W/"2"` {
				t.Errorf("version after one PATCH = %v", v)
			}
			// The PATCH response and a later GET agree: the write is stored.
			if again := f.user(u["id"].(string)); describe(again) != describe(got) {
				t.Errorf("GET after PATCH differs:\n%v\n%v", again, got)
			}
		})
	}
}

func wantEmail(t *testing.T, u scim.Resource, want string) {
	t.Helper()
	if got := u["emails"].([]any)[0].(map[string]any)["value"]; got != want {
		t.Errorf("email = %v, want %s", got, want)
	}
}

func wantActive(t *testing.T, u scim.Resource, want bool) {
	t.Helper()
	if u["active"] != want {
		t.Errorf("active = %v, want %v", u["active"], want)
	}
}

func TestPatchUserRejectsBadInputAndWritesNothing(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		status   int
		scimType string
	}{
		{"malformed JSON", `{"Operations":[`, 400, scim.ScimTypeInvalidSyntax},
		{"PATCH of id", `{"Operations":[{"op":"replace","path":"id","value":"other"}]}`, 400, scim.ScimTypeMutability},
		{"path-less PATCH of id", `{"Operations":[{"op":"replace","value":{"id":"other"}}]}`, 400, scim.ScimTypeMutability},
		{"PATCH of meta", `{"Operations":[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]}`, 400, scim.ScimTypeMutability},
		{"PATCH of the MI view", `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:miscim:2.0:User:userType","value":"admin"}]}`, 400, scim.ScimTypeMutability},
		{"unknown op", `{"Operations":[{"op":"move","path":"userName","value":"x"}]}`, 400, scim.ScimTypeInvalidSyntax},
		{"remove without path", `{"Operations":[{"op":"remove"}]}`, 400, scim.ScimTypeNoTarget},
		{"invalid path", `{"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}`, 400, scim.ScimTypeInvalidPath},
		{"userName of 101 characters", `{"Operations":[{"op":"replace","path":"userName","value":"` + strings.Repeat("x", 101) + `"}]}`, 400, scim.ScimTypeInvalidValue},
		{"remove the only email", `{"Operations":[{"op":"remove","path":"emails"}]}`, 400, scim.ScimTypeInvalidValue},
		{"remove userName", `{"Operations":[{"op":"remove","path":"userName"}]}`, 400, scim.ScimTypeInvalidValue},
		{"active of a wrong type", `{"Operations":[{"op":"replace","path":"active","value":"maybe"}]}`, 400, scim.ScimTypeInvalidValue},
		{"second op fails: all or nothing", `{"Operations":[{"op":"replace","path":"userName","value":"renamed"},{"op":"replace","path":"active","value":[1]}]}`, 400, scim.ScimTypeInvalidValue},
		{"rename onto another user in another case", `{"Operations":[{"op":"replace","path":"userName","value":"OTHER@example.com"}]}`, 409, scim.ScimTypeUniqueness},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.createUser("bjensen@example.com", nil)
			f.createUser("other@example.com", nil)
			before := f.snapshot()
			_, err := f.e.PatchUser(f.ctx, u["id"].(string), []byte(tt.body), "")
			wantSCIMError(t, err, tt.status, tt.scimType)
			if after := f.snapshot(); after != before {
				t.Errorf("a rejected PATCH wrote:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestPatchUnknownUserIs404(t *testing.T) {
	f := newFixture(t)
	_, err := f.e.PatchUser(f.ctx, "nope", []byte(`{"Operations":[{"op":"replace","path":"active","value":false}]}`), "")
	wantSCIMError(t, err, 404, "")
}

func TestIfMatch(t *testing.T) {
	f := newFixture(t)
	u := f.createUser("u", nil)
	id := u["id"].(string)
	op := []byte(`{"Operations":[{"op":"replace","path":"name.givenName","value":"X"}]}`)
	before := f.snapshot()
	_, err := f.e.PatchUser(f.ctx, id, op, `W/"7"`)
	wantSCIMError(t, err, 412, "")
	if f.snapshot() != before {
		t.Fatal("a failed precondition wrote")
	}
	for _, tag := range []string{`W/"1"`, `"2"`, `*`, `W/"9", W/"4"`} {
		if _, err := f.e.PatchUser(f.ctx, id, op, tag); err != nil {
			t.Fatalf("If-Match %s: %v", tag, err)
		}
	}
	if err := f.e.DeleteUser(f.ctx, id, `W/"1"`); err == nil {
		t.Fatal("DELETE with a stale If-Match succeeded")
	}
}

func TestSoftDeleteModeN(t *testing.T) {
	f := newFixture(t)
	u := f.createUser("Ann@example.com", nil)
	id := u["id"].(string)
	g := f.createGroup("Team", id)

	off := patch(t, f, id, `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	wantActive(t, off, false)
	want := "scim-deleted-" + id[:8] + "-Ann@example.com"
	if got := ext(off)["miUsername"]; got != want {
		t.Errorf("MI username while disabled = %v, want %s", got, want)
	}
	if off["userName"] != "Ann@example.com" {
		t.Errorf("SCIM must keep showing the original userName, got %v", off["userName"])
	}
	// Entra must find the user again on re-assignment (entra-behavior §2.7).
	if lr := f.list(Query{Filter: `userName eq "ann@example.com"`}); lr.TotalResults != 1 {
		t.Errorf("disabled user not found by userName filter: %d", lr.TotalResults)
	}
	if ms := f.memberIDs(g["id"].(string)); len(ms) != 1 {
		t.Errorf("a disabled user keeps its memberships, got %v", ms)
	}
	// A rename while disabled keeps the prefix on the new name.
	renamed := patch(t, f, id, `{"Operations":[{"op":"replace","path":"userName","value":"Ann2@example.com"}]}`)
	if got := ext(renamed)["miUsername"]; got != "scim-deleted-"+id[:8]+"-Ann2@example.com" {
		t.Errorf("MI username after rename while disabled = %v", got)
	}
	on := patch(t, f, id, `{"Operations":[{"op":"replace","value":{"active":true}}]}`)
	wantActive(t, on, true)
	if got := ext(on)["miUsername"]; got != "Ann2@example.com" {
		t.Errorf("restore must remove the prefix, got %v", got)
	}
}

func TestSoftDeleteModeY(t *testing.T) {
	f := newFixture(t)
	if _, err := f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, "y", "test"); err != nil {
		t.Fatal(err)
	}
	u := f.createUser("Bob@example.com", map[string]any{"externalId": "ext-bob", "name": map[string]any{"givenName": "Bob"}})
	id := u["id"].(string)
	g := f.createGroup("Team", id)

	off := patch(t, f, id, `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	wantActive(t, off, false)
	if _, err := f.e.GetUser(f.ctx, id); err == nil {
		t.Fatal("mode Y: GET after soft delete must be 404")
	} else {
		wantSCIMError(t, err, 404, "")
	}
	if lr := f.list(Query{Filter: `userName eq "Bob@example.com"`}); lr.TotalResults != 0 {
		t.Error("mode Y: filters must no longer find the user")
	}
	if ms := f.memberIDs(g["id"].(string)); len(ms) != 0 {
		t.Errorf("mode Y: a deleted user leaves its groups, got %v", ms)
	}
	// A PATCH that does not re-activate finds nothing to change.
	_, err := f.e.PatchUser(f.ctx, id, []byte(`{"Operations":[{"op":"replace","path":"name.givenName","value":"X"}]}`), "")
	wantSCIMError(t, err, 404, "")

	// active true on the same id re-creates it with its id and attributes.
	back := patch(t, f, id, `{"Operations":[{"op":"Replace","path":"active","value":"True"}]}`)
	if back["id"] != id || back["externalId"] != "ext-bob" || back["name"].(map[string]any)["givenName"] != "Bob" {
		t.Errorf("re-created user = %v", back)
	}
	wantActive(t, back, true)
	if got := f.user(id); got["userName"] != "Bob@example.com" {
		t.Errorf("GET after re-creation = %v", got)
	}
}

func TestSoftDeleteModeYNameReuse(t *testing.T) {
	f := newFixture(t)
	if _, err := f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, "Y", "test"); err != nil {
		t.Fatal(err)
	}
	old := f.createUser("carol", nil)
	patch(t, f, old["id"].(string), `{"Operations":[{"op":"replace","path":"active","value":false}]}`)
	// A later POST with the same userName simply creates a new user.
	fresh := f.createUser("Carol", nil)
	if fresh["id"] == old["id"] {
		t.Fatal("a new POST must create a new user")
	}
	// Re-activating the old id now collides with the new user.
	before := f.snapshot()
	_, err := f.e.PatchUser(f.ctx, old["id"].(string), []byte(`{"Operations":[{"op":"replace","path":"active","value":true}]}`), "")
	wantSCIMError(t, err, 409, scim.ScimTypeUniqueness)
	if f.snapshot() != before {
		t.Error("a failed re-creation wrote")
	}
}

func TestReplaceUser(t *testing.T) {
	f := newFixture(t)
	u := f.createUser("dave", map[string]any{"externalId": "e1", "name": map[string]any{"givenName": "D", "familyName": "Q"}})
	id := u["id"].(string)
	r, err := f.e.ReplaceUser(f.ctx, id, body(map[string]any{
		"userName": "dave2", "emails": []any{map[string]any{"value": "d2@x", "type": "work"}}, "adreses": "ignored",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	if r["userName"] != "dave2" || r["externalId"] != nil || r["name"] != nil {
		t.Errorf("PUT must replace: %v", r)
	}
	wantActive(t, r, true) // absent active leaves it as it was
	if _, ok := r["adreses"]; ok {
		t.Error("misspelled attributes are ignored")
	}
	_, err = f.e.ReplaceUser(f.ctx, id, body(map[string]any{"userame": "typo", "emails": []any{map[string]any{"value": "d2@x"}}}), "")
	wantSCIMError(t, err, 400, scim.ScimTypeInvalidValue)
	// PUT with active false is a soft delete like PATCH.
	r, err = f.e.ReplaceUser(f.ctx, id, body(map[string]any{"userName": "dave2", "active": false, "emails": []any{map[string]any{"value": "d2@x"}}}), "")
	if err != nil {
		t.Fatal(err)
	}
	if ext(r)["miUsername"] != SoftDeletePrefix(id)+"dave2" {
		t.Errorf("PUT active=false: %v", ext(r))
	}
}

func TestDeleteUser(t *testing.T) {
	for _, mode := range []string{"N", "Y"} {
		t.Run("mode "+mode, func(t *testing.T) {
			f := newFixture(t)
			if _, err := f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, mode, "test"); err != nil {
				t.Fatal(err)
			}
			u := f.createUser("erin", nil)
			id := u["id"].(string)
			if err := f.e.DeleteUser(f.ctx, id, ""); err != nil {
				t.Fatal(err)
			}
			_, err := f.e.GetUser(f.ctx, id)
			wantSCIMError(t, err, 404, "")
			// No tombstone: re-activation cannot bring it back.
			_, err = f.e.PatchUser(f.ctx, id, []byte(`{"Operations":[{"op":"replace","path":"active","value":true}]}`), "")
			wantSCIMError(t, err, 404, "")
			wantSCIMError(t, f.e.DeleteUser(f.ctx, id, ""), 404, "")
		})
	}
}

func TestDeleteOfSoftDeletedUserInModeY(t *testing.T) {
	f := newFixture(t)
	if _, err := f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, "Y", "test"); err != nil {
		t.Fatal(err)
	}
	u := f.createUser("fay", nil)
	id := u["id"].(string)
	patch(t, f, id, `{"Operations":[{"op":"replace","path":"active","value":false}]}`)
	// Entra sends DELETE when the user is later hard-deleted in the tenant.
	if err := f.e.DeleteUser(f.ctx, id, ""); err != nil {
		t.Fatalf("DELETE of a soft-deleted user: %v", err)
	}
	_, err := f.e.PatchUser(f.ctx, id, []byte(`{"Operations":[{"op":"replace","path":"active","value":true}]}`), "")
	wantSCIMError(t, err, 404, "")
}

// TestConcurrentPatchesLoseNoUpdate runs PATCHes of different attributes
// of one user at once: each must survive (DESIGN §9).
func TestConcurrentPatchesLoseNoUpdate(t *testing.T) {
	f := newFixture(t)
	u := f.createUser("gil", nil)
	id := u["id"].(string)
	g := f.createGroup("G")
	var users []string
	for i := 0; i < 20; i++ {
		users = append(users, f.createUser("m"+itoa(i), nil)["id"].(string))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i, m := range users {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := f.e.PatchGroup(context.Background(), g["id"].(string), body(map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": m}}}}}), "")
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := f.e.PatchUser(context.Background(), id, body(map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "name.givenName", "value": "v" + itoa(i)}}}), "")
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
	if got := f.user(id)["meta"].(map[string]any)["version"]; got != ETag(int64(1+len(users))) {
		t.Errorf("user version = %v after %d PATCHes", got, len(users))
	}
	if ms := f.memberIDs(g["id"].(string)); len(ms) != len(users) {
		t.Errorf("group has %d members after %d concurrent adds", len(ms), len(users))
	}
}

func TestUsersListsLocalUsers(t *testing.T) {
	// /Users lists every MI user, so Entra can adopt a pre-existing account.
	f := newFixture(t)
	if _, _, err := f.e.CreateToken(f.ctx, "admin@example.com", "admin", 0); err != nil {
		t.Fatal(err)
	}
	lr := f.list(Query{Filter: `userName eq "ADMIN@example.com"`})
	if lr.TotalResults != 1 || ext(lr.Resources[0])["source"] != "local" {
		t.Fatalf("local user not listed: %+v", lr)
	}
}
