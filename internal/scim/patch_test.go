package scim

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Bodies quoted from reference/entra-behavior.md §2.4, §2.5 and §3; the
// fuzz targets use them as seeds.
const (
	bodyLegacyMulti = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[
   {"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
   {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
   {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Eqpj"},
   {"op":"Add","path":"nickName","value":"Babs"}]}`
	bodyDisableLegacy = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`
	bodyDisableFlag   = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`
	bodyDisableMI     = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"0"}]}`
	bodyAddNickFlag   = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"nickName","value":"Babs"}]}`
	bodyPathlessFlag  = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}]}`
	bodyMembersAdd    = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}`
	bodyMembersRmVal  = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1091"}]}]}`
	bodyMembersRmRef  = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}`
	bodyMembersRmFlt  = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}]}`
	bodyMembersRmAll  = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members"}]}`
	bodyGroupRename   = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}`
	bodyManagerTut    = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"manager","value":[{"$ref":"http://example.com/scim/Users/m1","value":"m1"}]}]}`
	bodyManagerString = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]}`
	bodyManagerObject = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m2"}}]}`
	bodyManagerRemove = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`
	bodyManagerEmpty  = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}]}`
	bodyRolesString   = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"7c1b1a53-5a6e-4c55-8f25-1e3c0b4e0a11\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}]}`
	bodyRolesComplex  = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"roles","value":[{"primary":true,"type":"WindowsAzureActiveDirectoryRole","display":"Admin","value":"Admin"}]}]}`
)

// patchUser is a User document as the engine builds it (engine.UserResource).
func patchUser() Resource {
	return Resource{
		"schemas":  []any{UserSchema, MiscimUserSchema},
		"id":       "u1",
		"userName": "bjensen",
		"active":   true,
		"name":     map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"emails":   []any{map[string]any{"value": "b@example.com", "type": "work", "primary": true}},
		"meta": map[string]any{
			"resourceType": "User",
			"created":      "2024-01-02T03:04:05Z",
			"lastModified": "2024-02-01T00:00:00Z",
			"version":      `W/"1"`,
		},
		MiscimUserSchema: map[string]any{"miUsername": "bjensen", "userType": "regular", "authMethod": "sso", "source": "scim"},
	}
}

// patchGroup is a Group document as the engine builds it for PATCH
// (engine.GroupResource without members).
func patchGroup() Resource {
	return Resource{
		"schemas":     []any{GroupSchema},
		"id":          "g1",
		"displayName": "Sales",
		"externalId":  "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
		"meta": map[string]any{
			"resourceType": "Group",
			"created":      "2024-01-02T03:04:05Z",
			"lastModified": "2024-02-01T00:00:00Z",
			"version":      `W/"4"`,
		},
	}
}

func ops(t testing.TB, body string) []PatchOperation {
	t.Helper()
	o, err := ParsePatch([]byte(body))
	if err != nil {
		t.Fatalf("ParsePatch(%s): %v", body, err)
	}
	return o
}

func patchBody(opsJSON ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(opsJSON, ",") + `]}`
}

func wantSCIMError(t *testing.T, err error, status int, scimType string) *Error {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not *Error", err, err)
	}
	if se.Status != status || se.ScimType != scimType {
		t.Fatalf("error %v: want %d %s", se, status, scimType)
	}
	if strings.TrimSpace(se.Detail) == "" {
		t.Fatalf("error %v has an empty detail", se)
	}
	return se
}

func TestParsePatch(t *testing.T) {
	type wantOp struct {
		op       string
		path     string // AttrPath.String(), "" for no path
		uri      string
		hasValue bool
		value    any
		filter   bool
	}
	tests := []struct {
		name string
		body string
		want []wantOp
	}{
		{"legacy multi-op", bodyLegacyMulti, []wantOp{
			{op: "replace", path: `emails[type eq "work"].value`, hasValue: true, value: "updatedEmail@microsoft.com", filter: true},
			{op: "replace", path: "name.familyName", hasValue: true, value: "updatedFamilyName"},
			{op: "replace", path: EnterpriseUserSchema + ":employeeNumber", uri: EnterpriseUserSchema, hasValue: true, value: "Eqpj"},
			{op: "add", path: "nickName", hasValue: true, value: "Babs"},
		}},
		{"disable legacy string", bodyDisableLegacy, []wantOp{{op: "replace", path: "active", hasValue: true, value: "False"}}},
		{"disable flag bool", bodyDisableFlag, []wantOp{{op: "replace", path: "active", hasValue: true, value: false}}},
		{"disable MI 0", bodyDisableMI, []wantOp{{op: "replace", path: "active", hasValue: true, value: "0"}}},
		{"add flag lower case", bodyAddNickFlag, []wantOp{{op: "add", path: "nickName", hasValue: true, value: "Babs"}}},
		{"path-less dotted and URN keys", bodyPathlessFlag, []wantOp{{op: "replace", hasValue: true, value: map[string]any{
			"displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
			EnterpriseUserSchema + ":employeeNumber": "Aklq"}}}},
		{"members add with $ref null", bodyMembersAdd, []wantOp{{op: "add", path: "members", hasValue: true,
			value: []any{map[string]any{"$ref": nil, "value": "f648f8d5ea4e4cd38e9c"}}}}},
		{"members remove value array", bodyMembersRmVal, []wantOp{{op: "remove", path: "members", hasValue: true,
			value: []any{map[string]any{"value": "u1091"}}}}},
		{"members remove value array with $ref", bodyMembersRmRef, []wantOp{{op: "remove", path: "members", hasValue: true,
			value: []any{map[string]any{"$ref": nil, "value": "f648f8d5ea4e4cd38e9c"}}}}},
		{"members remove filter", bodyMembersRmFlt, []wantOp{{op: "remove", path: `members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]`, filter: true}}},
		{"members remove all", bodyMembersRmAll, []wantOp{{op: "remove", path: "members"}}},
		{"group rename", bodyGroupRename, []wantOp{{op: "replace", path: "displayName", hasValue: true, value: "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}}},
		{"op upper case", patchBody(`{"op":"REPLACE","path":"userName","value":"x"}`), []wantOp{{op: "replace", path: "userName", hasValue: true, value: "x"}}},
		{"op mixed case with blanks", patchBody(`{"op":" rEmOvE ","path":"nickName"}`), []wantOp{{op: "remove", path: "nickName"}}},
		{"keys in other case", `{"operations":[{"OP":"add","PATH":"nickName","VALUE":"B"}]}`, []wantOp{{op: "add", path: "nickName", hasValue: true, value: "B"}}},
		{"null path is no path", patchBody(`{"op":"add","path":null,"value":{"nickName":"B"}}`), []wantOp{{op: "add", hasValue: true, value: map[string]any{"nickName": "B"}}}},
		{"blank path is no path", patchBody(`{"op":"add","path":"  ","value":{"nickName":"B"}}`), []wantOp{{op: "add", hasValue: true, value: map[string]any{"nickName": "B"}}}},
		{"null value is a value", patchBody(`{"op":"replace","path":"nickName","value":null}`), []wantOp{{op: "replace", path: "nickName", hasValue: true}}},
		{"manager SCIM-TUT", bodyManagerTut, []wantOp{{op: "add", path: "manager", hasValue: true,
			value: []any{map[string]any{"$ref": "http://example.com/scim/Users/m1", "value": "m1"}}}}},
		{"manager string", bodyManagerString, []wantOp{{op: "add", path: EnterpriseUserSchema + ":manager", uri: EnterpriseUserSchema, hasValue: true, value: "m1"}}},
		{"manager remove", bodyManagerRemove, []wantOp{{op: "remove", path: EnterpriseUserSchema + ":manager", uri: EnterpriseUserSchema}}},
		{"roles stringified", bodyRolesString, []wantOp{{op: "add", path: "roles", hasValue: true,
			value: []any{map[string]any{"value": `{"id":"7c1b1a53-5a6e-4c55-8f25-1e3c0b4e0a11","value":"25","displayName":"Role1234"}`}}}}},
		{"mixed add and remove", patchBody(`{"op":"Add","path":"members","value":[{"value":"a"},{"value":"b"}]}`, `{"op":"Remove","path":"members","value":[{"value":"c"}]}`),
			[]wantOp{
				{op: "add", path: "members", hasValue: true, value: []any{map[string]any{"value": "a"}, map[string]any{"value": "b"}}},
				{op: "remove", path: "members", hasValue: true, value: []any{map[string]any{"value": "c"}}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePatch([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParsePatch: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d operations, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Op != w.op {
					t.Errorf("op %d: Op = %q, want %q", i+1, g.Op, w.op)
				}
				switch {
				case w.path == "" && g.Path != nil:
					t.Errorf("op %d: Path = %v, want none", i+1, g.Path)
				case w.path != "" && g.Path == nil:
					t.Errorf("op %d: no Path, want %s", i+1, w.path)
				case w.path != "":
					if g.Path.String() != w.path {
						t.Errorf("op %d: Path = %s, want %s", i+1, g.Path, w.path)
					}
					if g.Path.URI != w.uri {
						t.Errorf("op %d: Path.URI = %q, want %q", i+1, g.Path.URI, w.uri)
					}
					if (g.Path.ValueFilter != nil) != w.filter {
						t.Errorf("op %d: ValueFilter = %v, want filter %v", i+1, g.Path.ValueFilter, w.filter)
					}
					if g.RawPath == "" {
						t.Errorf("op %d: RawPath is empty", i+1)
					}
				}
				if g.HasValue != w.hasValue {
					t.Errorf("op %d: HasValue = %v, want %v", i+1, g.HasValue, w.hasValue)
				}
				if !reflect.DeepEqual(g.Value, w.value) {
					t.Errorf("op %d: Value = %#v, want %#v", i+1, g.Value, w.value)
				}
			}
		})
	}
}

func TestParsePatchErrors(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		scimType string
		opNumber int // operation the detail must name, 0 for none
	}{
		{"malformed JSON", `{"Operations":[`, ScimTypeInvalidSyntax, 0},
		{"empty body", ``, ScimTypeInvalidSyntax, 0},
		{"trailing data", patchBody(`{"op":"add","path":"nickName","value":"B"}`) + ` {}`, ScimTypeInvalidSyntax, 0},
		{"trailing brace", patchBody(`{"op":"add","path":"nickName","value":"B"}`) + ` }`, ScimTypeInvalidSyntax, 0},
		{"trailing bracket", patchBody(`{"op":"add","path":"nickName","value":"B"}`) + `]`, ScimTypeInvalidSyntax, 0},
		{"body an array", `[{"op":"add","path":"nickName","value":"B"}]`, ScimTypeInvalidSyntax, 0},
		{"body a string", `"Operations"`, ScimTypeInvalidSyntax, 0},
		{"body null", `null`, ScimTypeInvalidSyntax, 0},
		{"missing Operations", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, ScimTypeInvalidSyntax, 0},
		{"null Operations", `{"Operations":null}`, ScimTypeInvalidSyntax, 0},
		{"empty Operations", `{"Operations":[]}`, ScimTypeInvalidSyntax, 0},
		{"Operations an object", `{"Operations":{"op":"add","path":"nickName","value":"B"}}`, ScimTypeInvalidSyntax, 0},
		{"operation a string", `{"Operations":["add"]}`, ScimTypeInvalidSyntax, 1},
		{"operation null", `{"Operations":[null]}`, ScimTypeInvalidSyntax, 1},
		{"op missing", patchBody(`{"path":"nickName","value":"B"}`), ScimTypeInvalidSyntax, 1},
		{"op a number", patchBody(`{"op":1,"path":"nickName","value":"B"}`), ScimTypeInvalidSyntax, 1},
		{"op move", patchBody(`{"op":"add","path":"nickName","value":"B"}`, `{"op":"move","path":"nickName","value":"B"}`), ScimTypeInvalidSyntax, 2},
		{"op empty", patchBody(`{"op":"","path":"nickName","value":"B"}`), ScimTypeInvalidSyntax, 1},
		{"path a number", patchBody(`{"op":"add","path":5,"value":"B"}`), ScimTypeInvalidPath, 1},
		{"path an object", patchBody(`{"op":"replace","path":{"a":1},"value":"B"}`), ScimTypeInvalidPath, 1},
		{"unparsable path", patchBody(`{"op":"add","path":"nickName","value":"B"}`, `{"op":"add","path":"emails[type eq","value":"B"}`), ScimTypeInvalidPath, 2},
		{"path with blank", patchBody(`{"op":"add","path":"nick name","value":"B"}`), ScimTypeInvalidPath, 1},
		{"path with empty sub-attribute", patchBody(`{"op":"add","path":"name.","value":"B"}`), ScimTypeInvalidPath, 1},
		{"remove without path", patchBody(`{"op":"remove","value":{"nickName":"B"}}`), ScimTypeNoTarget, 1},
		{"remove with blank path", patchBody(`{"op":"Remove","path":""}`), ScimTypeNoTarget, 1},
		{"add without value", patchBody(`{"op":"add","path":"nickName"}`), ScimTypeInvalidValue, 1},
		{"replace without value", patchBody(`{"op":"add","path":"nickName","value":"B"}`, `{"op":"Replace","path":"nickName"}`), ScimTypeInvalidValue, 2},
		{"path-less replace with string", patchBody(`{"op":"replace","value":"B"}`), ScimTypeInvalidValue, 1},
		{"path-less add with array", patchBody(`{"op":"add","value":[{"nickName":"B"}]}`), ScimTypeInvalidValue, 1},
		{"path-less replace with null", patchBody(`{"op":"replace","value":null}`), ScimTypeInvalidValue, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePatch([]byte(tt.body))
			if err == nil {
				t.Fatalf("ParsePatch returned %d operations, want an error", len(got))
			}
			se := wantSCIMError(t, err, 400, tt.scimType)
			if tt.opNumber > 0 && !strings.Contains(se.Detail, "operation "+string(rune('0'+tt.opNumber))) {
				t.Errorf("detail %q does not name operation %d", se.Detail, tt.opNumber)
			}
		})
	}
}

// applyCase describes one ApplyPatch run: want edits a fresh copy of the
// starting document into the expected result.
type applyCase struct {
	name     string
	group    bool
	body     string
	want     func(d Resource)
	check    func(t *testing.T, d Resource) // instead of want, for targeted checks
	scimType string                         // expected 400 error
}

func work(d Resource) map[string]any { return d["emails"].([]any)[0].(map[string]any) }

func enterprise(d Resource) map[string]any {
	m, _ := d[EnterpriseUserSchema].(map[string]any)
	return m
}

var applyUserCases = []applyCase{
	{name: "Entra legacy multi-op", body: bodyLegacyMulti, want: func(d Resource) {
		work(d)["value"] = "updatedEmail@microsoft.com"
		d["name"].(map[string]any)["familyName"] = "updatedFamilyName"
		d[EnterpriseUserSchema] = map[string]any{"employeeNumber": "Eqpj"}
		d["nickName"] = "Babs"
	}},
	{name: "disable legacy string False", body: bodyDisableLegacy, want: func(d Resource) { d["active"] = "False" }},
	{name: "disable flag bool false", body: bodyDisableFlag, want: func(d Resource) { d["active"] = false }},
	{name: "disable MI string 0", body: bodyDisableMI, want: func(d Resource) { d["active"] = "0" }},
	{name: "enable with Add True", body: patchBody(`{"op":"Add","path":"active","value":"True"}`), want: func(d Resource) { d["active"] = "True" }},
	{name: "add nickName flag", body: bodyAddNickFlag, want: func(d Resource) { d["nickName"] = "Babs" }},
	{name: "path-less aadOptscim062020 replace", body: bodyPathlessFlag, want: func(d Resource) {
		d["displayName"] = "Bjfe"
		d["name"] = map[string]any{"givenName": "Kkom", "familyName": "Unua"}
		d[EnterpriseUserSchema] = map[string]any{"employeeNumber": "Aklq"}
	}},
	{name: "path-less whole extension object", body: patchBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"X"}}}`),
		want: func(d Resource) { d[EnterpriseUserSchema] = map[string]any{"department": "X"} }},
	{name: "path-less whole extension object twice merges", body: patchBody(
		`{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"X","manager":{"value":"m1"}}}}`,
		`{"op":"replace","value":{"URN:IETF:params:scim:schemas:extension:enterprise:2.0:User":{"Department":"Y"}}}`),
		want: func(d Resource) {
			d[EnterpriseUserSchema] = map[string]any{"department": "Y", "manager": map[string]any{"value": "m1"}}
		}},
	{name: "path-less core URN-qualified key", body: patchBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User:userName":"babs"}}`),
		want: func(d Resource) { d["userName"] = "babs" }},
	{name: "path-less core URN object with dotted key", body: patchBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User":{"userName":"babs","name.givenName":"Babs"}}}`),
		want: func(d Resource) { d["userName"] = "babs"; d["name"].(map[string]any)["givenName"] = "Babs" }},
	{name: "path-less schemas key ignored", body: patchBody(`{"op":"replace","value":{"schemas":["x"],"nickName":"B"}}`),
		want: func(d Resource) { d["nickName"] = "B" }},
	{name: "path-less value path key", body: patchBody(`{"op":"replace","value":{"emails[type eq \"work\"].value":"w@example.com"}}`),
		want: func(d Resource) { work(d)["value"] = "w@example.com" }},
	{name: "path-less echo of the document", body: patchBody(`{"op":"replace","value":{"id":"u1","userName":"bjensen","meta":{"resourceType":"User","created":"2024-01-02T03:04:05Z","lastModified":"2024-02-01T00:00:00Z","version":"W/\"1\""},"urn:ietf:params:scim:schemas:extension:miscim:2.0:User":{"miUsername":"bjensen","userType":"regular","authMethod":"sso","source":"scim"}}}`),
		want: func(Resource) {}},
	{name: "path-less schema URN with a string", body: patchBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}}`),
		scimType: ScimTypeInvalidValue},
	{name: "path-less unparsable key", body: patchBody(`{"op":"replace","value":{"nick name":"x"}}`), scimType: ScimTypeInvalidPath},

	{name: "USERNAME updates userName", body: patchBody(`{"op":"replace","path":"USERNAME","value":"babs"}`), want: func(d Resource) { d["userName"] = "babs" }},
	{name: "Name.GivenName updates name.givenName", body: patchBody(`{"op":"replace","path":"Name.GivenName","value":"Babs"}`),
		want: func(d Resource) { d["name"].(map[string]any)["givenName"] = "Babs" }},
	{name: "path-less keys in other case", body: patchBody(`{"op":"replace","value":{"USERNAME":"babs","Name.GivenName":"Babs","ACTIVE":false}}`),
		want: func(d Resource) {
			d["userName"] = "babs"
			d["name"].(map[string]any)["givenName"] = "Babs"
			d["active"] = false
		}},
	{name: "EMAILS[TYPE eq work].VALUE", body: patchBody(`{"op":"replace","path":"EMAILS[TYPE eq \"WORK\"].VALUE","value":"w@example.com"}`),
		want: func(d Resource) { work(d)["value"] = "w@example.com" }},
	{name: "complex replace in other case keeps key spelling", body: patchBody(`{"op":"replace","path":"name","value":{"GIVENNAME":"X"}}`),
		want: func(d Resource) { d["name"].(map[string]any)["givenName"] = "X" }},
	{name: "extension attribute in other case", body: patchBody(
		`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"1"}`,
		`{"op":"replace","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER","value":"2"}`),
		want: func(d Resource) { d[EnterpriseUserSchema] = map[string]any{"employeeNumber": "2"} }},

	{name: "add emails[type eq home].value creates the element", body: patchBody(`{"op":"add","path":"emails[type eq \"home\"].value","value":"h@example.com"}`),
		want: func(d Resource) {
			d["emails"] = append(d["emails"].([]any), map[string]any{"type": "home", "value": "h@example.com"})
		}},
	{name: "replace emails[type eq work].value without emails creates it", body: patchBody(`{"op":"remove","path":"emails"}`, `{"op":"Replace","path":"emails[type eq \"work\"].value","value":"w@example.com"}`),
		want: func(d Resource) { d["emails"] = []any{map[string]any{"type": "work", "value": "w@example.com"}} }},
	{name: "add filtered element with object value", body: patchBody(`{"op":"add","path":"emails[type eq \"home\"]","value":{"value":"h@example.com"}}`),
		want: func(d Resource) {
			d["emails"] = append(d["emails"].([]any), map[string]any{"type": "home", "value": "h@example.com"})
		}},
	{name: "replace filtered element merges", body: patchBody(`{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@example.com"}}`),
		want: func(d Resource) { work(d)["value"] = "w@example.com" }},
	{name: "replace filtered element with a string", body: patchBody(`{"op":"replace","path":"emails[type eq \"work\"]","value":"w@example.com"}`),
		scimType: ScimTypeInvalidValue},
	{name: "add filtered element with a string", body: patchBody(`{"op":"add","path":"emails[type eq \"home\"]","value":"h@example.com"}`),
		scimType: ScimTypeInvalidValue},
	{name: "filter that names no element", body: patchBody(`{"op":"replace","path":"emails[type ne \"work\"].value","value":"x"}`),
		scimType: ScimTypeNoTarget},
	{name: "contradictory filter", body: patchBody(`{"op":"add","path":"emails[type eq \"a\" and type eq \"b\"].value","value":"x"}`),
		scimType: ScimTypeNoTarget},
	{name: "filter on a single-valued complex attribute keeps it an object", body: patchBody(`{"op":"replace","path":"name[givenName eq \"Barbara\"].familyName","value":"J"}`),
		want: func(d Resource) { d["name"].(map[string]any)["familyName"] = "J" }},
	{name: "filter on a simple attribute", body: patchBody(`{"op":"replace","path":"userName[value eq \"x\"]","value":{"value":"y"}}`),
		scimType: ScimTypeInvalidPath},
	{name: "sub-attribute of a simple attribute", body: patchBody(`{"op":"replace","path":"userName.value","value":"y"}`),
		scimType: ScimTypeInvalidPath},

	{name: "replace complex merges", body: patchBody(`{"op":"replace","path":"name","value":{"givenName":"X"}}`),
		want: func(d Resource) { d["name"].(map[string]any)["givenName"] = "X" }},
	{name: "replace multi-valued replaces all", body: patchBody(`{"op":"replace","path":"emails","value":[{"value":"n@example.com","type":"other"}]}`),
		want: func(d Resource) { d["emails"] = []any{map[string]any{"value": "n@example.com", "type": "other"}} }},
	{name: "add multi-valued appends without duplicates", body: patchBody(`{"op":"add","path":"emails","value":[{"value":"b@example.com","type":"work","primary":true},{"value":"h@example.com","type":"home"}]}`),
		want: func(d Resource) {
			d["emails"] = append(d["emails"].([]any), map[string]any{"value": "h@example.com", "type": "home"})
		}},
	{name: "add multi-valued single object", body: patchBody(`{"op":"add","path":"emails","value":{"value":"h@example.com","type":"home"}}`),
		want: func(d Resource) {
			d["emails"] = append(d["emails"].([]any), map[string]any{"value": "h@example.com", "type": "home"})
		}},
	{name: "add primary value clears the other primary", body: patchBody(`{"op":"add","path":"emails","value":[{"value":"h@example.com","type":"home","primary":true}]}`),
		want: func(d Resource) {
			work(d)["primary"] = false
			d["emails"] = append(d["emails"].([]any), map[string]any{"value": "h@example.com", "type": "home", "primary": true})
		}},
	{name: "path-less add appends to multi-valued", body: patchBody(`{"op":"add","value":{"emails":[{"value":"h@example.com","type":"home"}]}}`),
		want: func(d Resource) {
			d["emails"] = append(d["emails"].([]any), map[string]any{"value": "h@example.com", "type": "home"})
		}},
	{name: "add empty array to absent multi-valued", body: patchBody(`{"op":"remove","path":"emails"}`, `{"op":"add","path":"emails","value":[]}`),
		want: func(d Resource) { d["emails"] = []any{} }},

	{name: "remove name.givenName", body: patchBody(`{"op":"remove","path":"name.givenName"}`),
		want: func(d Resource) { delete(d["name"].(map[string]any), "givenName") }},
	{name: "remove absent attribute", body: patchBody(`{"op":"Remove","path":"nickName"}`), want: func(Resource) {}},
	{name: "remove emails[type eq work]", body: patchBody(`{"op":"add","path":"emails","value":[{"value":"h@example.com","type":"home"}]}`, `{"op":"remove","path":"emails[type eq \"work\"]"}`),
		want: func(d Resource) { d["emails"] = []any{map[string]any{"value": "h@example.com", "type": "home"}} }},
	{name: "remove last filtered element unassigns", body: patchBody(`{"op":"remove","path":"emails[type eq \"work\"]"}`),
		want: func(d Resource) { delete(d, "emails") }},
	{name: "remove filtered element that matches none", body: patchBody(`{"op":"remove","path":"emails[type eq \"home\"]"}`),
		want: func(Resource) {}},
	{name: "remove filtered from absent attribute", body: patchBody(`{"op":"remove","path":"phoneNumbers[type eq \"home\"]"}`),
		want: func(Resource) {}},
	{name: "remove emails[type eq work].value", body: patchBody(`{"op":"remove","path":"emails[type eq \"work\"].value"}`),
		want: func(d Resource) { delete(work(d), "value") }},
	{name: "remove by value array", body: patchBody(`{"op":"add","path":"emails","value":[{"value":"h@example.com","type":"home"}]}`, `{"op":"Remove","path":"emails","value":[{"value":"b@example.com"}]}`),
		want: func(d Resource) { d["emails"] = []any{map[string]any{"value": "h@example.com", "type": "home"}} }},
	{name: "remove by value ignores case of a caseExact=false value", body: patchBody(`{"op":"Remove","path":"emails","value":[{"value":"B@EXAMPLE.COM"}]}`),
		want: func(d Resource) { delete(d, "emails") }},
	{name: "remove by value that matches none", body: patchBody(`{"op":"Remove","path":"emails","value":[{"value":"x@example.com"}]}`),
		want: func(Resource) {}},
	{name: "remove with null value removes all", body: patchBody(`{"op":"remove","path":"emails","value":null}`),
		want: func(d Resource) { delete(d, "emails") }},

	{name: "replace id with another value", body: patchBody(`{"op":"replace","path":"id","value":"u2"}`), scimType: ScimTypeMutability},
	{name: "replace id with the same value", body: patchBody(`{"op":"replace","path":"id","value":"u1"}`), want: func(Resource) {}},
	{name: "remove id", body: patchBody(`{"op":"remove","path":"id"}`), scimType: ScimTypeMutability},
	{name: "replace meta", body: patchBody(`{"op":"replace","path":"meta","value":{"resourceType":"Group"}}`), scimType: ScimTypeMutability},
	{name: "replace meta.version", body: patchBody(`{"op":"replace","path":"meta.version","value":"W/\"9\""}`), scimType: ScimTypeMutability},
	{name: "path-less id other", body: patchBody(`{"op":"replace","value":{"id":"other"}}`), scimType: ScimTypeMutability},
	{name: "read-only extension attribute", body: patchBody(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:miscim:2.0:User:userType","value":"admin"}`), scimType: ScimTypeMutability},
	{name: "read-only extension via path-less object", body: patchBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:miscim:2.0:User":{"source":"local"}}}`), scimType: ScimTypeMutability},
	{name: "miUserType in the miscim extension", body: patchBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:miscim:2.0:User:miUserType","value":"power"}`),
		want: func(d Resource) { d[MiscimUserSchema].(map[string]any)["miUserType"] = "power" }},

	{name: "manager SCIM-TUT array", body: bodyManagerTut, want: func(d Resource) {
		d["manager"] = []any{map[string]any{"$ref": "http://example.com/scim/Users/m1", "value": "m1"}}
	}},
	{name: "manager bare string", body: bodyManagerString, want: func(d Resource) { d[EnterpriseUserSchema] = map[string]any{"manager": "m1"} }},
	{name: "manager replace string", body: patchBody(`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}`),
		want: func(d Resource) { d[EnterpriseUserSchema] = map[string]any{"manager": "m1"} }},
	{name: "manager object", body: bodyManagerObject, want: func(d Resource) { d[EnterpriseUserSchema] = map[string]any{"manager": map[string]any{"value": "m2"}} }},
	{name: "manager string then object", body: patchBody(
		`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}`,
		`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m2"}}`),
		want: func(d Resource) { d[EnterpriseUserSchema] = map[string]any{"manager": map[string]any{"value": "m2"}} }},
	{name: "manager remove without extension", body: bodyManagerRemove, want: func(Resource) {}},
	{name: "manager add then remove", body: patchBody(
		`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}`,
		`{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}`),
		want: func(d Resource) { d[EnterpriseUserSchema] = map[string]any{} }},
	{name: "manager replace with empty", body: bodyManagerEmpty, want: func(d Resource) { d[EnterpriseUserSchema] = map[string]any{"manager": ""} }},
	{name: "whole extension as path", body: patchBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"X","manager":{"value":"m1"}}}`),
		want: func(d Resource) {
			d[EnterpriseUserSchema] = map[string]any{"department": "X", "manager": map[string]any{"value": "m1"}}
		}},
	{name: "remove whole extension as path", body: patchBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"X"}`,
		`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}`),
		want: func(Resource) {}},

	{name: "roles stringified JSON", body: bodyRolesString, want: func(d Resource) {
		d["roles"] = []any{map[string]any{"value": `{"id":"7c1b1a53-5a6e-4c55-8f25-1e3c0b4e0a11","value":"25","displayName":"Role1234"}`}}
	}},
	{name: "roles complex replace", body: bodyRolesComplex, want: func(d Resource) {
		d["roles"] = []any{map[string]any{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"}}
	}},
	{name: "roles added twice", body: patchBody(`{"op":"Add","path":"roles","value":[{"value":"a"}]}`, `{"op":"Add","path":"roles","value":[{"value":"b"},{"value":"a"}]}`),
		want: func(d Resource) { d["roles"] = []any{map[string]any{"value": "a"}, map[string]any{"value": "b"}} }},

	{name: "unknown complex attribute with filter and sub-attribute in other case", body: patchBody(`{"op":"add","path":"addresses[type eq \"work\"].Locality","value":"A"}`, `{"op":"replace","path":"addresses[TYPE eq \"work\"].locality","value":"B"}`),
		want: func(d Resource) { d["addresses"] = []any{map[string]any{"type": "work", "Locality": "B"}} }},
	{name: "failing second operation", body: patchBody(`{"op":"replace","path":"userName","value":"babs"}`, `{"op":"replace","path":"id","value":"u2"}`), scimType: ScimTypeMutability},
}

var applyGroupCases = []applyCase{
	{name: "group rename", group: true, body: bodyGroupRename, want: func(d Resource) {
		d["displayName"] = "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
	}},
	{name: "group path-less displayName", group: true, body: patchBody(`{"op":"replace","value":{"displayName":"x"}}`), want: func(d Resource) { d["displayName"] = "x" }},
	{name: "group path-less displayName in other case", group: true, body: patchBody(`{"op":"Replace","value":{"DISPLAYNAME":"x","description":"d"}}`),
		want: func(d Resource) { d["displayName"] = "x"; d["description"] = "d" }},
	{name: "group path-less core URN key", group: true, body: patchBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:Group:displayName":"x"}}`),
		want: func(d Resource) { d["displayName"] = "x" }},
	{name: "group externalId remove", group: true, body: patchBody(`{"op":"remove","path":"externalId"}`), want: func(d Resource) { delete(d, "externalId") }},
	{name: "group id", group: true, body: patchBody(`{"op":"replace","value":{"id":"g2"}}`), scimType: ScimTypeMutability},
	{name: "group members add", group: true, body: bodyMembersAdd, want: func(d Resource) {
		d["members"] = []any{map[string]any{"$ref": nil, "value": "f648f8d5ea4e4cd38e9c"}}
	}},
	{name: "group members add and remove", group: true, body: patchBody(
		`{"op":"Add","path":"members","value":[{"value":"a"},{"value":"b"},{"value":"c"}]}`,
		`{"op":"Remove","path":"members","value":[{"value":"a"}]}`,
		`{"op":"remove","path":"members[value eq \"b\"]"}`),
		want: func(d Resource) { d["members"] = []any{map[string]any{"value": "c"}} }},
	{name: "group members remove all", group: true, body: patchBody(`{"op":"Add","path":"members","value":[{"value":"a"}]}`, `{"op":"remove","path":"members"}`),
		want: func(Resource) {}},
	{name: "group members remove from none", group: true, body: bodyMembersRmVal, want: func(Resource) {}},
	{name: "group members remove filter from none", group: true, body: bodyMembersRmFlt, want: func(Resource) {}},
}

func TestApplyPatch(t *testing.T) {
	for _, tt := range append(append([]applyCase(nil), applyUserCases...), applyGroupCases...) {
		t.Run(tt.name, func(t *testing.T) {
			rs, fresh := User, patchUser
			if tt.group {
				rs, fresh = Group, patchGroup
			}
			list := ops(t, tt.body)
			before := cloneOps(list)
			orig := fresh()
			doc := Clone(orig).(map[string]any)
			err := ApplyPatch(doc, rs, list)
			if !reflect.DeepEqual(orig, fresh()) {
				t.Fatalf("ApplyPatch changed the original document")
			}
			if !reflect.DeepEqual(list, before) {
				t.Fatalf("ApplyPatch changed its operations")
			}
			if tt.scimType != "" {
				if err == nil {
					t.Fatalf("no error, want 400 %s; document %v", tt.scimType, doc)
				}
				se := wantSCIMError(t, err, 400, tt.scimType)
				if len(list) > 1 && !strings.Contains(se.Detail, "operation ") {
					t.Errorf("detail %q does not name the operation", se.Detail)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyPatch: %v", err)
			}
			if tt.check != nil {
				tt.check(t, doc)
				return
			}
			want := fresh()
			tt.want(want)
			if !reflect.DeepEqual(doc, want) {
				t.Errorf("document\n got %#v\nwant %#v", doc, want)
			}
			// Applying the same operations again to another copy gives the
			// same result: nothing of the first run leaked into them.
			again := Clone(orig).(map[string]any)
			if err := ApplyPatch(again, rs, list); err != nil || !reflect.DeepEqual(again, doc) {
				t.Errorf("second run: err %v, document %#v", err, again)
			}
		})
	}
}

func cloneOps(list []PatchOperation) []PatchOperation {
	out := make([]PatchOperation, len(list))
	for i, o := range list {
		o.Value = Clone(o.Value)
		out[i] = o
	}
	return out
}

// The engine applies a patch to a clone of the stored resource and drops
// the clone when ApplyPatch fails: a failing operation after a successful
// one must report an error, and nothing but the clone may change.
func TestApplyPatchAllOrNothing(t *testing.T) {
	orig := patchUser()
	list := ops(t, patchBody(
		`{"op":"replace","path":"userName","value":"babs"}`,
		`{"op":"add","path":"emails","value":[{"value":"h@example.com","type":"home"}]}`,
		`{"op":"replace","path":"meta.lastModified","value":"2030-01-01T00:00:00Z"}`,
	))
	clone := Clone(orig).(map[string]any)
	err := ApplyPatch(clone, User, list)
	se := wantSCIMError(t, err, 400, ScimTypeMutability)
	if !strings.Contains(se.Detail, "operation 3") {
		t.Errorf("detail %q does not name operation 3", se.Detail)
	}
	if !reflect.DeepEqual(orig, patchUser()) {
		t.Errorf("original document changed: %#v", orig)
	}
}

// A value inserted by one operation and changed by a later one must not
// change the parsed operation (the engine may run its transaction again).
func TestApplyPatchDoesNotAliasValues(t *testing.T) {
	list := ops(t, patchBody(
		`{"op":"add","path":"addresses","value":[{"type":"work","locality":"A"}]}`,
		`{"op":"replace","path":"addresses.locality","value":"B"}`,
		`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m1"}}`,
		`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m2"}`,
	))
	before := cloneOps(list)
	doc := patchUser()
	if err := ApplyPatch(doc, User, list); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(list, before) {
		t.Fatalf("operations changed:\n got %#v\nwant %#v", list, before)
	}
	if got := doc["addresses"].([]any)[0].(map[string]any)["locality"]; got != "B" {
		t.Errorf("locality = %v", got)
	}
	if got := enterprise(doc)["manager"]; !reflect.DeepEqual(got, map[string]any{"value": "m2"}) {
		t.Errorf("manager = %v", got)
	}
}

// Values whose keys differ only in case give the same result whatever the
// map iteration order.
func TestApplyPatchDeterministic(t *testing.T) {
	bodies := []string{
		patchBody(`{"op":"replace","path":"name","value":{"givenName":"a","GIVENNAME":"b","givenname":"c"}}`),
		patchBody(`{"op":"replace","value":{"nickName":"a","NICKNAME":"b","nickname":"c"}}`),
		patchBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"a","DEPARTMENT":"b"}}}`),
		patchBody(`{"op":"add","path":"emails[type eq \"home\"]","value":{"value":"a","VALUE":"b","Value":"c"}}`),
	}
	for _, body := range bodies {
		list := ops(t, body)
		first := patchUser()
		if err := ApplyPatch(first, User, list); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		for range 50 {
			doc := patchUser()
			if err := ApplyPatch(doc, User, list); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc, first) {
				t.Fatalf("%s: results differ:\n%#v\n%#v", body, doc, first)
			}
		}
	}
}

func TestApplyPatchErrorDetail(t *testing.T) {
	// A single failing operation: the detail names the attribute.
	err := ApplyPatch(patchUser(), User, ops(t, patchBody(`{"op":"replace","path":"id","value":"x"}`)))
	se := wantSCIMError(t, err, 400, ScimTypeMutability)
	if !strings.Contains(se.Detail, "id") {
		t.Errorf("detail %q does not name the attribute", se.Detail)
	}
}
