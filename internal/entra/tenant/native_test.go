package tenant_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/entra/tenant"
)

const nativeYAML = `# a small tenant
format: miscim-tenant/1
users:
  - objectId: 11111111-1111-1111-1111-111111111111
    userPrincipalName: Ana.Lee@contoso.com
    displayName: Ana Lee
    givenName: Ana
    surname: Lee
    mail: ana.lee@contoso.com
    mailNickname: 0123
    otherMails: [ana@personal.example, "ana2@personal.example"]
    accountEnabled: true
    onPremisesExtensionAttributes:
      extensionAttribute1: power
      extensionAttribute2: ~
    attributes:
      department: Sales
      employeeId: 00042
      proxyAddresses: ["SMTP:ana.lee@contoso.com", "smtp:ana@contoso.com"]
      isContractor: false
  - objectId: 22222222-2222-2222-2222-222222222222
    userPrincipalName: bo@contoso.com
    accountEnabled: false
  - objectId: 33333333-3333-3333-3333-333333333333
    userPrincipalName: cy@contoso.com
    softDeleted: true
  - objectId: 44444444-4444-4444-4444-444444444444
    userPrincipalName: dee@contoso.com
    deletedDateTime: 2026-01-10T08:30:00Z
groups:
  - objectId: aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa
    displayName: Sales
    description: The sales team
    members:
      - 11111111-1111-1111-1111-111111111111
      - bo@contoso.com
      - {id: bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb, type: group}
      - {id: cccccccc-cccc-cccc-cccc-cccccccccccc, type: "#microsoft.graph.device"}
  - objectId: bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb
    displayName: Sales EMEA
    mail: emea@contoso.com
    attributes: {groupTypes: [Unified], securityEnabled: false}
assignments:
  - principalId: aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa
  - principalId: 22222222-2222-2222-2222-222222222222
    principalType: User
    appRoleId: 5b2e9fe3-2b6a-4d3a-8f5e-1c9d2e3f4a5b
`

func TestNativeYAML(t *testing.T) {
	tn, err := tenant.Parse("tenant.yaml", []byte(nativeYAML))
	if err != nil {
		t.Fatal(err)
	}
	checkSmallTenant(t, tn)
	ana, _ := tn.FindUser("ana.lee@contoso.com")
	// YAML reads 0123 and 00042 as numbers; a snapshot keeps their text.
	if ana.MailNickname() != "0123" {
		t.Errorf("mailNickname %q", ana.MailNickname())
	}
	if v, _ := ana.Attr("employeeId"); !slices.Equal(v, []string{"00042"}) {
		t.Errorf("employeeId %v", v)
	}
	if src := ana.AttrSource("extensionAttribute1"); src.File != "tenant.yaml" || src.Line != 4 || src.Path != "$.users[0].onPremisesExtensionAttributes.extensionAttribute1" {
		t.Errorf("AttrSource = %+v", src)
	}
	if src := ana.AttrSource("department"); src.Path != "$.users[0].attributes.department" {
		t.Errorf("AttrSource(department) = %+v", src)
	}
}

// checkSmallTenant checks what nativeYAML (and its JSON twin) hold.
func checkSmallTenant(t *testing.T, tn *tenant.Tenant) {
	t.Helper()
	if tn.UserCount() != 4 || tn.GroupCount() != 2 || tn.AssignmentCount() != 2 {
		t.Fatalf("%d users, %d groups, %d assignments", tn.UserCount(), tn.GroupCount(), tn.AssignmentCount())
	}
	ana, err := tn.FindUser("ANA.LEE@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if ana.UserPrincipalName() != "Ana.Lee@contoso.com" || ana.DisplayName() != "Ana Lee" || ana.GivenName() != "Ana" ||
		ana.Surname() != "Lee" || ana.Mail() != "ana.lee@contoso.com" || ana.AccountEnabled() != tenant.True {
		t.Errorf("ana: %v", attrs(ana))
	}
	if !slices.Equal(ana.OtherMails(), []string{"ana@personal.example", "ana2@personal.example"}) {
		t.Errorf("otherMails %v", ana.OtherMails())
	}
	if ana.ExtensionAttribute(1) != "power" || ana.ExtensionAttribute(2) != "" {
		t.Errorf("extension attributes %q %q", ana.ExtensionAttribute(1), ana.ExtensionAttribute(2))
	}
	if _, ok := ana.Attr("extensionAttribute2"); ok {
		t.Error("a null extension attribute is present")
	}
	if v, _ := ana.Attr("proxyAddresses"); len(v) != 2 {
		t.Errorf("proxyAddresses %v", v)
	}
	for name, multi := range map[string]bool{"otherMails": true, "proxyAddresses": true, "mail": false, "department": false, "accountEnabled": false, "nothing": false} {
		if ana.MultiValued(name) != multi {
			t.Errorf("MultiValued(%s) = %v", name, !multi)
		}
	}
	if v, _ := ana.Attr("isContractor"); !slices.Equal(v, []string{"False"}) {
		t.Errorf("a boolean attribute reads %v, want [False]", v)
	}
	if v, _ := ana.Attr("objectId"); !slices.Equal(v, []string{"11111111-1111-1111-1111-111111111111"}) {
		t.Errorf("objectId attr %v", v)
	}
	if _, ok := ana.Attr("ObjectId"); ok {
		t.Error("attribute names are case-sensitive, as Entra's expressions")
	}
	bo, _ := tn.FindUser("bo@contoso.com")
	if bo.AccountEnabled() != tenant.False {
		t.Errorf("bo enabled %v", bo.AccountEnabled())
	}
	cy, _ := tn.FindUser("cy@contoso.com")
	if !cy.SoftDeleted() || !cy.DeletedDateTime().IsZero() || cy.AccountEnabled() != tenant.Unknown {
		t.Errorf("cy: soft %v at %v enabled %v", cy.SoftDeleted(), cy.DeletedDateTime(), cy.AccountEnabled())
	}
	dee, _ := tn.FindUser("dee@contoso.com")
	if !dee.SoftDeleted() || dee.DeletedDateTime().Format("2006-01-02T15:04:05Z07:00") != "2026-01-10T08:30:00Z" {
		t.Errorf("dee: soft %v at %v", dee.SoftDeleted(), dee.DeletedDateTime())
	}
	sales, err := tn.FindGroup("sales")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range sales.Members() {
		got = append(got, m.Kind.String()+":"+m.ID[:8])
	}
	if want := []string{"user:11111111", "user:22222222", "group:bbbbbbbb", "device:cccccccc"}; !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
	emea, _ := tn.FindGroup("Sales EMEA")
	if v, _ := emea.Attr("groupTypes"); !slices.Equal(v, []string{"Unified"}) || !emea.MultiValued("groupTypes") || emea.Mail() != "emea@contoso.com" {
		t.Errorf("emea groupTypes %v mail %q", v, emea.Mail())
	}
	if p := emea.ParentGroups(); len(p) != 1 || p[0] != sales {
		t.Errorf("emea parents %v", p)
	}
	var as []tenant.Assignment
	for a := range tn.Assignments() {
		as = append(as, a)
	}
	if as[0].PrincipalType != tenant.PrincipalUser || as[0].AppRoleID != "5b2e9fe3-2b6a-4d3a-8f5e-1c9d2e3f4a5b" || as[0].User() != bo {
		t.Errorf("assignment 0 %+v", as[0])
	}
	if as[1].PrincipalType != tenant.PrincipalGroup || as[1].AppRoleID != tenant.DefaultAccessRole || as[1].Group() != sales {
		t.Errorf("assignment 1 %+v", as[1])
	}
	if eff := tn.EffectiveAssignments(ana); len(eff) != 1 || eff[0].Group() != sales {
		t.Errorf("ana's effective assignments %v", eff)
	}
	if eff := tn.EffectiveAssignments(bo); len(eff) != 2 {
		t.Errorf("bo's effective assignments %v", eff)
	}
	if f := tn.Findings(); len(f) != 1 || f[0].Code != tenant.FindingUnsupportedMembers {
		t.Errorf("findings %v", f)
	}
}

const nativeJSON = `{
  "format": "miscim-tenant/1",
  "users": [
    {"objectId": "11111111-1111-1111-1111-111111111111", "userPrincipalName": "Ana.Lee@contoso.com", "displayName": "Ana Lee",
     "givenName": "Ana", "surname": "Lee", "mail": "ana.lee@contoso.com", "mailNickname": "0123",
     "otherMails": ["ana@personal.example", "ana2@personal.example"], "accountEnabled": true,
     "onPremisesExtensionAttributes": {"extensionAttribute1": "power", "extensionAttribute2": null},
     "attributes": {"department": "Sales", "employeeId": "00042", "proxyAddresses": ["SMTP:ana.lee@contoso.com", "smtp:ana@contoso.com"], "isContractor": false}},
    {"objectId": "22222222-2222-2222-2222-222222222222", "userPrincipalName": "bo@contoso.com", "accountEnabled": false},
    {"objectId": "33333333-3333-3333-3333-333333333333", "userPrincipalName": "cy@contoso.com", "softDeleted": true},
    {"objectId": "44444444-4444-4444-4444-444444444444", "userPrincipalName": "dee@contoso.com", "deletedDateTime": "2026-01-10T08:30:00Z"}
  ],
  "groups": [
    {"objectId": "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "displayName": "Sales", "description": "The sales team",
     "members": ["11111111-1111-1111-1111-111111111111", "bo@contoso.com", {"id": "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", "type": "group"},
                 {"id": "cccccccc-cccc-cccc-cccc-cccccccccccc", "type": "#microsoft.graph.device"}]},
    {"objectId": "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", "displayName": "Sales EMEA", "mail": "emea@contoso.com",
     "attributes": {"groupTypes": ["Unified"], "securityEnabled": false}}
  ],
  "assignments": [
    {"principalId": "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"},
    {"principalId": "22222222-2222-2222-2222-222222222222", "principalType": "User", "appRoleId": "5b2e9fe3-2b6a-4d3a-8f5e-1c9d2e3f4a5b"}
  ]
}`

func TestNativeJSON(t *testing.T) {
	tn, err := tenant.Parse("tenant.json", []byte(nativeJSON))
	if err != nil {
		t.Fatal(err)
	}
	checkSmallTenant(t, tn)
	ana, _ := tn.FindUser("ana.lee@contoso.com")
	if src := ana.Source(); src.Line != 4 || src.Path != "$.users[0]" {
		t.Errorf("Source %+v", src)
	}
	y, _ := tenant.Parse("tenant.yaml", []byte(nativeYAML))
	sameModel(t, "json vs yaml", y, tn)
}

// loadErr loads one file and returns the *LoadError it must fail with.
func loadErr(t *testing.T, name, data string) *tenant.LoadError {
	t.Helper()
	_, err := tenant.Parse(name, []byte(data))
	if err == nil {
		t.Fatalf("%s loaded; want an error", name)
	}
	var le *tenant.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %T %v is not a *LoadError", err, err)
	}
	return le
}

type errCase struct {
	name, file, data string
	line             int    // 0: not checked
	path             string // "": not checked
	msg              string // substring of the message
}

func checkErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			le := loadErr(t, c.file, c.data)
			if !strings.Contains(le.Error(), c.msg) {
				t.Errorf("error %q, want it to contain %q", le.Error(), c.msg)
			}
			if c.line != 0 && le.Source.Line != c.line {
				t.Errorf("line %d, want %d (%s)", le.Source.Line, c.line, le)
			}
			if c.path != "" && le.Source.Path != c.path {
				t.Errorf("path %q, want %q (%s)", le.Source.Path, c.path, le)
			}
			if le.Source.File != c.file {
				t.Errorf("file %q, want %q", le.Source.File, c.file)
			}
		})
	}
}

func TestNativeErrors(t *testing.T) {
	const u1 = "  - objectId: u1\n"
	const users = "users:\n" + u1
	checkErrCases(t, []errCase{
		{"yaml syntax", "t.yaml", "users:\n  - objectId: [u1\n", 0, "", "not valid YAML"},
		{"yaml top not a mapping", "t.yaml", "users:\n- a\n---\n- b\n", 0, "", "want one YAML document"},
		{"unknown top key", "t.yaml", "users: []\nuser: []\n", 2, "$.user", `unknown key "user"`},
		{"wrong format", "t.yaml", "format: miscim-tenant/9\n", 1, "$.format", "unknown snapshot format"},
		{"users not a list", "t.yaml", "users: {a: 1}\n", 1, "$.users", "want a list"},
		{"user not a mapping", "t.yaml", "users:\n  - u1\n", 2, "$.users[0]", "want a mapping"},
		{"user without objectId", "t.yaml", "users:\n  - userPrincipalName: a@b\n", 2, "$.users[0]", "without objectId"},
		{"empty objectId", "t.yaml", "users:\n  - objectId: ''\n", 2, "$.users[0].objectId", "empty objectId"},
		{"typo in a user key", "t.yaml", users + "    mial: a@b\n", 3, "$.users[0].mial", `unknown key "mial"`},
		{"accountEnabled yes", "t.yaml", users + "    accountEnabled: yes\n", 3, "$.users[0].accountEnabled", "want true or false"},
		{"accountEnabled string", "t.json", `{"users":[{"objectId":"u1","accountEnabled":"True"}]}`, 1, "$.users[0].accountEnabled", "want true or false"},
		{"mail not a string in JSON", "t.json", `{"users":[{"objectId":"u1","mail":5}]}`, 1, "$.users[0].mail", "want a string"},
		{"otherMails not a list", "t.yaml", users + "    otherMails: a@b\n", 3, "$.users[0].otherMails", "want a list of strings"},
		{"bad deletedDateTime", "t.yaml", users + "    deletedDateTime: yesterday\n", 3, "$.users[0].deletedDateTime", "not a date-time"},
		{"unknown extension attribute", "t.yaml", users + "    onPremisesExtensionAttributes: {extensionAttribute16: x}\n", 3, "$.users[0].onPremisesExtensionAttributes.extensionAttribute16", "unknown key"},
		{"attribute that is a user key", "t.yaml", users + "    attributes: {mail: a@b}\n", 3, "$.users[0].attributes.mail", "not an attribute for attributes"},
		{"extension attribute in attributes", "t.yaml", users + "    attributes: {extensionAttribute3: a}\n", 3, "", "belongs under onPremisesExtensionAttributes"},
		{"attribute value a mapping", "t.yaml", users + "    attributes: {x: {y: 1}}\n", 3, "$.users[0].attributes.x", "want a string, number, boolean"},
		{"duplicate user", "t.yaml", "users:\n" + u1 + u1, 3, "$.users[1]", "listed twice (first at t.yaml:2: $.users[0])"},
		{"duplicate user, other case", "t.json", `{"users":[{"objectId":"AB"},` + "\n" + `{"objectId":"ab"}]}`, 2, "$.users[1]", "listed twice"},
		{"user and group share an id", "t.yaml", "users:\n" + u1 + "groups:\n  - objectId: u1\n", 4, "$.groups[0]", "both a group and a user"},
		{"member not a string", "t.yaml", "groups:\n  - objectId: g1\n    members: [[x]]\n", 3, "$.groups[0].members[0]", "want a member objectId"},
		{"member without id", "t.yaml", "groups:\n  - objectId: g1\n    members: [{type: user}]\n", 3, "$.groups[0].members[0]", "member without id"},
		{"unknown member type", "t.yaml", "groups:\n  - objectId: g1\n    members: [{id: x, type: robot}]\n", 3, "$.groups[0].members[0].type", "unknown member type"},
		{"member typed wrongly", "t.yaml", "users:\n" + u1 + "groups:\n  - objectId: g1\n    members: [{id: u1, type: group}]\n", 5, "$.groups[0].members[0]", "given as group but is a user"},
		{"duplicate group", "t.yaml", "groups:\n  - objectId: g1\n  - objectId: G1\n", 3, "$.groups[1]", "listed twice"},
		{"assignment without principal", "t.yaml", "assignments:\n  - appRoleId: x\n", 2, "$.assignments[0]", "without principalId"},
		{"assignment principal type", "t.yaml", "assignments:\n  - {principalId: x, principalType: Robot}\n", 2, "$.assignments[0].principalType", "unknown principalType"},
		{"assignment type mismatch", "t.yaml", "users:\n" + u1 + "assignments:\n  - {principalId: u1, principalType: Group}\n", 4, "", "given as Group but is a user"},
		{"yaml alias", "t.yaml", "users:\n  - &a {objectId: u1}\n  - *a\n", 3, "", "aliases"},
		{"yaml key given twice", "t.yaml", users + "    attributes: {a: 1,\n      a: 2}\n", 4, "", `the key "a" is given twice`},
		{"json syntax in a user", "t.json", "{\"users\": [\n{\"objectId\": \"u1\"},\n{\"objectId\": \"u2\" \"mail\": \"x\"}\n]}", 3, "$.users[1]", "not valid JSON"},
		{"json truncated", "t.json", "{\"users\": [\n{\"objectId\": \"u1\"", 2, "", "ends"},
		{"json trailing data", "t.json", "{\"users\": []}\n{}", 2, "", "after the end"},
		{"json unknown top key", "t.json", "{\"users\": [], \"people\": []}", 1, "$.people", `unknown key "people"`},
		{"json top not an object", "t.json", "{\"format\": 1}", 1, "$.format", "unknown snapshot format"},
		{"json key given twice", "t.json", "{\"users\": [\n{\"objectId\": \"u1\",\n\"attributes\": {\"a\": 1,\n\"a\": 2}}]}", 4, "$.users[0]", `the key "a" is given twice`},
		{"json not UTF-8", "t.json", "{\"users\": [\n{\"objectId\": \"u1\", \"displayName\": \"Ren\xe9\"}]}", 2, "$.users[0]", "invalid UTF-8"},
		{"json users not a list", "t.json", "{\"users\":\n{}}", 2, "$.users", "want a list, got an object"},
		{"yaml not UTF-8", "t.yaml", users + "    displayName: Ren\xe9\n", 3, "", "not UTF-8 text at byte 44"},
	})
}

func TestNativeEmpty(t *testing.T) {
	for name, data := range map[string]string{"t.yaml": "# nothing yet\nusers: []\ngroups:\n", "t.json": "{}"} {
		tn, err := tenant.Parse(name, []byte(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if tn.UserCount() != 0 || len(tn.Findings()) != 0 {
			t.Errorf("%s: %d users, findings %v", name, tn.UserCount(), tn.Findings())
		}
	}
}

// A members list that names objects the snapshot lacks is a finding, not
// an error: the rest of the tenant is usable and tenant check reports it.
func TestNativeUnknownMembers(t *testing.T) {
	tn, err := tenant.Parse("t.yaml", []byte("users:\n  - {objectId: u1, accountEnabled: true}\ngroups:\n  - objectId: g1\n    displayName: G\n    members: [u1, u2, nobody@contoso.com, {id: g9, type: group}]\nassignments:\n  - principalId: u7\n"))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := tn.FindGroup("G")
	if len(g.Members()) != 4 || len(g.MemberUsers()) != 1 || g.Members()[1].Resolved() {
		t.Errorf("members %v", g.Members())
	}
	var codes []string
	for _, f := range tn.Findings() {
		codes = append(codes, f.Code)
		if f.Code == tenant.FindingUnknownMember && !strings.Contains(f.Message, "3 member(s) not in the export") {
			t.Errorf("message %q", f.Message)
		}
	}
	if !slices.Equal(codes, []string{tenant.FindingUnknownPrincipal, tenant.FindingUnknownMember}) {
		t.Errorf("findings %v", tn.Findings())
	}
}

func TestNativeMembersFromExpand(t *testing.T) {
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range 21 {
		b.WriteString("  - {objectId: u" + string(rune('a'+i)) + ", accountEnabled: true}\n")
	}
	b.WriteString("groups:\n  - objectId: g20\n    membersFromExpand: true\n    members: [")
	for i := range 20 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("u" + string(rune('a'+i)))
	}
	b.WriteString("]\n  - objectId: g3\n    membersFromExpand: true\n    members: [ua, ub, uc]\n")
	tn, err := tenant.Parse("t.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	g20, _ := tn.GroupByID("g20")
	g3, _ := tn.GroupByID("G3")
	if !g20.PossiblyTruncated() || g3.PossiblyTruncated() || !g3.MembersFromExpand() {
		t.Errorf("g20 truncated %v, g3 truncated %v", g20.PossiblyTruncated(), g3.PossiblyTruncated())
	}
	if f := tn.Findings(); len(f) != 1 || f[0].Code != tenant.FindingPossiblyTruncated || f[0].Object.ID != "g20" {
		t.Errorf("findings %v", f)
	}
}

func TestNativeContents(t *testing.T) {
	for name, data := range map[string]string{
		"t.yaml": "users:\n  - {objectId: u1, accountEnabled: true}\nassignments: []\n",
		"t.json": `{"users":[{"objectId":"u1","accountEnabled":true}],"assignments":[]}`,
	} {
		tn, err := tenant.Parse(name, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if c := tn.Contents(); !c.Users || c.Groups || !c.Assignments || c.Memberships || c.DeletedItems || !c.AccountEnabled {
			t.Errorf("%s: contents %+v: an empty assignments list says there are none", name, c)
		}
	}
}

// The known attribute names are the package's: a caller that changes the
// list it got changes nothing for the next caller.
func TestAttributeNamesAreCopies(t *testing.T) {
	for _, list := range []func() []string{tenant.UserAttributes, tenant.GroupAttributes} {
		got := list()
		if !slices.Contains(got, "objectId") || !slices.Contains(got, "displayName") {
			t.Fatalf("names %v", got)
		}
		want := slices.Clone(got)
		got[0] = "changed"
		if again := list(); !slices.Equal(again, want) {
			t.Errorf("after changing a returned list: %v, want %v", again, want)
		}
	}
	if u := tenant.UserAttributes(); !slices.Contains(u, "extensionAttribute15") || slices.Contains(u, "securityEnabled") {
		t.Errorf("user attributes %v", u)
	}
}
