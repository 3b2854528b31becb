package tenant_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf16"

	"github.com/miscim/miscim/internal/entra/tenant"
)

// Real-shaped Graph pages: the envelope Graph returns, default
// properties with nulls, onPremisesExtensionAttributes with all 15 keys.

func ext(vals ...string) string {
	var parts []string
	for i := 1; i <= 15; i++ {
		v := "null"
		if i <= len(vals) && vals[i-1] != "" {
			v = fmt.Sprintf("%q", vals[i-1])
		}
		parts = append(parts, fmt.Sprintf(`"extensionAttribute%d":%s`, i, v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func gid(n int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", n) }

const usersCtx = `"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,accountEnabled)"`

func graphExport() fstest.MapFS {
	u := func(n int, extra string) string {
		// Graph's default properties, less those extra gives: a key is given once.
		var defaults []string
		for _, d := range []string{`"businessPhones":[]`, fmt.Sprintf(`"displayName":"User %d"`, n), fmt.Sprintf(`"givenName":"U%d"`, n), `"jobTitle":null`,
			fmt.Sprintf(`"mail":"user%d@contoso.com"`, n), `"mobilePhone":null`, `"officeLocation":null`, `"preferredLanguage":null`, fmt.Sprintf(`"surname":"S%d"`, n),
			fmt.Sprintf(`"userPrincipalName":"user%d@contoso.com"`, n)} {
			if key, _, _ := strings.Cut(d, ":"); !strings.Contains(extra, key+":") {
				defaults = append(defaults, d)
			}
		}
		return fmt.Sprintf(`{%s,"id":%q%s}`, strings.Join(defaults, ","), gid(n), extra)
	}
	members := func(ids ...int) string {
		var ms []string
		for _, i := range ids {
			ms = append(ms, fmt.Sprintf(`{"@odata.type":"#microsoft.graph.user","id":%q,"displayName":"User %d","userPrincipalName":"user%d@contoso.com"}`, gid(i), i, i))
		}
		return strings.Join(ms, ",\n")
	}
	var twenty []int
	for i := 1; i <= 20; i++ {
		twenty = append(twenty, i)
	}
	return fstest.MapFS{
		"users.json": {Data: []byte(`{` + usersCtx + `,
"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$top=2&$skiptoken=X",
"value":[
` + u(1, `,"accountEnabled":true,"otherMails":["one@personal.example"],"onPremisesExtensionAttributes":`+ext("admin", "", "CC-1")) + `,
` + u(2, `,"accountEnabled":false,"businessPhones":["+1 555 0100","+1 555 0101"],"officeLocation":"B12","mobilePhone":"+1 555 0199","faxNumber":"+1 555 0198","passwordProfile":{"password":"secret"},"employeeOrgData":{"division":"West","costCenter":"42"},"customSecurityAttributes":{"Marketing":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","EmployeeId":"GS46982","AppCountry@odata.type":"#Collection(String)","AppCountry":["Canada","Mexico"]}},"assignedLicenses":[{"skuId":"x"}],"proxyAddresses":["SMTP:user2@contoso.com"]`) + `
]}`)},
		"users-2.json": {Data: []byte(`{` + usersCtx + `,"value":[` + "\n" + func() string {
			var us []string
			for i := 3; i <= 25; i++ {
				us = append(us, u(i, `,"accountEnabled":true`))
			}
			return strings.Join(us, ",\n")
		}() + "\n]}")},
		"groups.json": {Data: []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#groups(id,displayName,members())","value":[
{"id":"` + gid(901) + `","displayName":"Twenty","description":null,"mail":null,"securityEnabled":true,"mailEnabled":false,"groupTypes":[],"members":[` + members(twenty...) + `]},
{"id":"` + gid(902) + `","displayName":"Three","description":"three users","securityEnabled":true,"groupTypes":["Unified"],"members":[` + members(1, 2, 3) + `]},
{"id":"` + gid(903) + `","displayName":"Big","members":[` + members(twenty...) + `]},
{"id":"` + gid(904) + `","displayName":"Parent","members":[{"@odata.type":"#microsoft.graph.group","id":"` + gid(902) + `"},{"@odata.type":"#microsoft.graph.servicePrincipal","id":"` + gid(950) + `"},{"@odata.type":"#microsoft.graph.orgContact","id":"` + gid(951) + `"}]}
]}`)},
		// Big's complete list, in two pages: it wins over $expand's 20.
		"members/" + gid(903) + ".json":   {Data: []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#directoryObjects","@odata.nextLink":"https://graph.microsoft.com/v1.0/groups/x/members?$skiptoken=Y","value":[` + members(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) + `]}`)},
		"members/" + gid(903) + "-2.json": {Data: []byte(`{"value":[` + members(13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25) + `]}`)},
		"deletedItems.json": {Data: []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#directory/deletedItems/microsoft.graph.user","value":[
{"id":"` + gid(99) + `","userPrincipalName":"` + strings.ReplaceAll(gid(99), "-", "") + `gone@contoso.com","displayName":"Gone","accountEnabled":true,"deletedDateTime":"2026-01-10T08:30:00Z"}]}`)},
		"assignments.json": {Data: []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('8e88')/appRoleAssignedTo","value":[
{"id":"a1","deletedDateTime":null,"appRoleId":"00000000-0000-0000-0000-000000000000","createdDateTime":"2024-02-02T04:22:45.948Z","principalDisplayName":"Three","principalId":"` + gid(902) + `","principalType":"Group","resourceDisplayName":"Metric Insights","resourceId":"8e88"},
{"id":"a2","appRoleId":"5b2e9fe3-2b6a-4d3a-8f5e-1c9d2e3f4a5b","principalDisplayName":"User 25","principalId":"` + gid(25) + `","principalType":"User","resourceId":"8e88"},
{"id":"a3","appRoleId":"00000000-0000-0000-0000-000000000000","principalId":"` + gid(960) + `","principalType":"ServicePrincipal","resourceId":"8e88"},
{"id":"a4","deletedDateTime":"2025-01-01T00:00:00Z","principalId":"` + gid(24) + `","principalType":"User","resourceId":"8e88"}
]}`)},
		"README.txt":  {Data: []byte("exported on Monday")},
		"extras.json": {Data: []byte(`{}`)},
	}
}

func TestGraphExport(t *testing.T) {
	tn, err := tenant.LoadFS(graphExport(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if tn.Format() != tenant.FormatGraph || tn.UserCount() != 26 || tn.GroupCount() != 4 {
		t.Fatalf("%s: %d users, %d groups", tn.Format(), tn.UserCount(), tn.GroupCount())
	}
	u1, _ := tn.UserByID(gid(1))
	if !u1.MultiValued("otherMails") || u1.MultiValued("mail") || u1.MultiValued("extensionAttribute1") {
		t.Errorf("user 1: a one-value array is still multi-valued, a string is not")
	}
	if u1.AccountEnabled() != tenant.True || u1.ExtensionAttribute(1) != "admin" || u1.ExtensionAttribute(3) != "CC-1" || u1.ExtensionAttribute(2) != "" {
		t.Errorf("user 1: %v", attrs(u1))
	}
	if src := u1.AttrSource("extensionAttribute1"); src.File != "users.json" || src.Line != 4 || src.Path != "$.value[0].onPremisesExtensionAttributes.extensionAttribute1" {
		t.Errorf("AttrSource %+v", src)
	}
	if src := u1.AttrSource("objectId"); src.Path != "$.value[0].id" {
		t.Errorf("objectId source %+v", src)
	}
	u2, _ := tn.UserByID(gid(2))
	want := map[string][]string{
		"objectId": {gid(2)}, "userPrincipalName": {"user2@contoso.com"}, "displayName": {"User 2"}, "givenName": {"U2"}, "surname": {"S2"},
		"mail": {"user2@contoso.com"}, "accountEnabled": {"False"},
		"telephoneNumber": {"+1 555 0100"}, "physicalDeliveryOfficeName": {"B12"}, "mobile": {"+1 555 0199"}, "facsimileTelephoneNumber": {"+1 555 0198"},
		"employeeOrgData.division": {"West"}, "employeeOrgData.costCenter": {"42"},
		"customSecurityAttributes.Marketing.EmployeeId": {"GS46982"}, "customSecurityAttributes.Marketing.AppCountry": {"Canada", "Mexico"},
		"proxyAddresses": {"SMTP:user2@contoso.com"},
	}
	got := attrs(u2)
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("user 2 %s = %v, want %v", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("user 2 has %s = %v (passwords, licenses and nulls must not be kept)", k, got[k])
		}
	}
	if u2.MultiValued("telephoneNumber") || !u2.MultiValued("customSecurityAttributes.Marketing.AppCountry") {
		t.Error("telephoneNumber is single-valued (businessPhones' first), a custom attribute array multi-valued")
	}
	if src := u2.AttrSource("physicalDeliveryOfficeName"); src.Path != "$.value[1].officeLocation" {
		t.Errorf("renamed attribute's source %+v", src)
	}

	gone, err := tn.FindUser("gone@contoso.com")
	if err != nil || !gone.SoftDeleted() || gone.UserPrincipalName() != "gone@contoso.com" {
		t.Fatalf("deleted user: %v %v", gone, err)
	}
	if v, _ := gone.Attr("userPrincipalName"); v[0] != strings.ReplaceAll(gid(99), "-", "")+"gone@contoso.com" {
		t.Errorf("tombstone %v", v)
	}

	twenty, _ := tn.FindGroup("Twenty")
	three, _ := tn.FindGroup("three")
	big, _ := tn.FindGroup("Big")
	parent, _ := tn.FindGroup("Parent")
	if !twenty.PossiblyTruncated() || three.PossiblyTruncated() || big.PossiblyTruncated() || big.MembersFromExpand() {
		t.Errorf("truncation: twenty %v three %v big %v", twenty.PossiblyTruncated(), three.PossiblyTruncated(), big.PossiblyTruncated())
	}
	if len(big.Members()) != 25 {
		t.Errorf("Big has %d members, want the 25 of its member pages", len(big.Members()))
	}
	if v, _ := three.Attr("groupTypes"); !slices.Equal(v, []string{"Unified"}) || three.Description() != "three users" {
		t.Errorf("three: %v %q", v, three.Description())
	}
	if v, _ := twenty.Attr("securityEnabled"); !slices.Equal(v, []string{"True"}) {
		t.Errorf("securityEnabled %v", v)
	}
	var kinds []string
	for _, m := range parent.Members() {
		kinds = append(kinds, m.Kind.String())
	}
	if !slices.Equal(kinds, []string{"group", "servicePrincipal", "orgContact"}) || parent.MemberGroups()[0] != three {
		t.Errorf("parent members %v", kinds)
	}
	if g := u1.Groups(); len(g) != 3 {
		t.Errorf("user 1 is in %d groups, want 3 (Twenty, Three, Big)", len(g))
	}

	var as []tenant.Assignment
	for a := range tn.Assignments() {
		as = append(as, a)
	}
	if len(as) != 3 {
		t.Fatalf("assignments %v (the deleted one is left out)", as)
	}
	u25, _ := tn.UserByID(gid(25))
	if a := u25.Assignments(); len(a) != 1 || a[0].AppRoleID != "5b2e9fe3-2b6a-4d3a-8f5e-1c9d2e3f4a5b" || a[0].ResourceID != "8e88" {
		t.Errorf("user 25 assignments %v", a)
	}
	if eff := tn.EffectiveAssignments(u1); len(eff) != 1 || eff[0].Group() != three {
		t.Errorf("user 1 effective %v", eff)
	}

	var codes []string
	for _, f := range tn.Findings() {
		codes = append(codes, f.Code+" "+f.Object.Kind)
	}
	wantCodes := []string{
		// users.json's and the first member page's nextLinks are followed
		// by their next pages: nothing is incomplete.
		tenant.FindingPossiblyTruncated + " group", // Twenty
		tenant.FindingDeletedAssignment + " assignment",
		tenant.FindingIgnoredFile + " file", // extras.json
		tenant.FindingUnsupportedMembers + " group",
	}
	slices.Sort(codes)
	slices.Sort(wantCodes)
	if !slices.Equal(codes, wantCodes) {
		t.Errorf("findings:\n%v\nwant codes %v", strings.Join(findingStrings(tn), "\n"), wantCodes)
	}
}

func findingStrings(tn *tenant.Tenant) []string {
	var out []string
	for _, f := range tn.Findings() {
		out = append(out, f.String())
	}
	return out
}

// graphFS builds an export from name → page body.
func graphFS(files map[string]string) fstest.MapFS {
	fs := fstest.MapFS{}
	for k, v := range files {
		fs[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fs
}

func loadGraph(t *testing.T, files map[string]string) *tenant.Tenant {
	t.Helper()
	tn, err := tenant.LoadFS(graphFS(files), ".")
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func codesOf(tn *tenant.Tenant) []string {
	var codes []string
	for _, f := range tn.Findings() {
		codes = append(codes, f.Code)
	}
	return codes
}

func TestGraphPageLayouts(t *testing.T) {
	page := func(from, to int) string {
		var us []string
		for i := from; i <= to; i++ {
			us = append(us, fmt.Sprintf(`{"id":%q,"userPrincipalName":"u%d@x","accountEnabled":true}`, gid(i), i))
		}
		return `{"value":[` + strings.Join(us, ",") + `]}`
	}
	for name, files := range map[string]map[string]string{
		"numbered files": {"users.json": page(1, 2), "users-2.json": page(3, 4), "users-10.json": page(5, 5)},
		"a directory":    {"users/page-1.json": page(1, 2), "users/page-2.json": page(3, 4), "users/page-10.json": page(5, 5)},
		"merged values":  {"users.json": `[` + strings.TrimSuffix(strings.TrimPrefix(page(1, 5), `{"value":[`), `]}`) + `]`},
	} {
		t.Run(name, func(t *testing.T) {
			tn := loadGraph(t, files)
			if tn.UserCount() != 5 {
				t.Fatalf("%d users", tn.UserCount())
			}
			if f := tn.Findings(); len(f) != 0 {
				t.Errorf("findings %v", f)
			}
		})
	}
	// Member pages as a directory of their own.
	tn := loadGraph(t, map[string]string{
		"users.json":                                   page(1, 3),
		"groups.json":                                  `{"value":[{"id":"` + gid(900) + `","displayName":"G"}]}`,
		"members/" + gid(900) + "/a.json":              `{"value":[{"@odata.type":"#microsoft.graph.user","id":"` + gid(1) + `"}]}`,
		"members/" + gid(900) + "/b.json":              `{"value":[{"@odata.type":"#microsoft.graph.user","id":"` + gid(2) + `"}]}`,
		"members/" + strings.ToUpper(gid(3)) + ".json": `{"value":[]}`,
	})
	g, _ := tn.FindGroup("G")
	if len(g.Members()) != 2 {
		t.Errorf("members %v", g.Members())
	}
	if !slices.Equal(codesOf(tn), []string{tenant.FindingMembersOfUnknownGroup}) {
		t.Errorf("findings %v", tn.Findings())
	}
}

func TestGraphDelta(t *testing.T) {
	tn := loadGraph(t, map[string]string{
		// Round 1 (initial sync), then round 2 in later pages.
		"users.json": `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","@odata.nextLink":"https://graph.microsoft.com/v1.0/users/delta?$skiptoken=a","value":[
{"id":"` + gid(1) + `","userPrincipalName":"a@x","displayName":"A","mail":"a@x","accountEnabled":true},
{"id":"` + gid(2) + `","userPrincipalName":"b@x","displayName":"B","accountEnabled":true},
{"id":"` + gid(3) + `","userPrincipalName":"c@x","displayName":"C","accountEnabled":true},
{"id":"` + gid(4) + `","userPrincipalName":"d@x","accountEnabled":true}]}`,
		"users-2.json": `{"@odata.deltaLink":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=b","value":[
{"id":"` + gid(1) + `","displayName":"A renamed","mail":null},
{"id":"` + gid(2) + `","@removed":{"reason":"changed"}},
{"id":"` + gid(3) + `","@removed":{"reason":"deleted"}},
{"id":"` + gid(4) + `","@removed":{"reason":"changed"}},
{"id":"` + gid(4) + `","userPrincipalName":"d@x","accountEnabled":true},
{"id":"` + gid(5) + `","@removed":{"reason":"changed"}}]}`,
		"groups.json": `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#groups","value":[
{"id":"` + gid(900) + `","displayName":"G","members@delta":[{"@odata.type":"#microsoft.graph.user","id":"` + gid(1) + `"},{"@odata.type":"#microsoft.graph.user","id":"` + gid(2) + `"}]},
{"id":"` + gid(901) + `","displayName":"H"},
{"id":"` + gid(902) + `","displayName":"K"},
{"id":"` + gid(900) + `","members@delta":[{"@odata.type":"#microsoft.graph.user","id":"` + gid(2) + `","@removed":{"reason":"deleted"}},{"@odata.type":"#microsoft.graph.user","id":"` + gid(4) + `"}]},
{"id":"` + gid(901) + `","@removed":{"reason":"deleted"}},
{"id":"` + gid(902) + `","@removed":{"reason":"changed"}}]}`,
	})
	if tn.UserCount() != 3 || tn.GroupCount() != 2 {
		t.Fatalf("%d users, %d groups; want 3 (c hard-deleted, e never seen) and 2 (H hard-deleted)", tn.UserCount(), tn.GroupCount())
	}
	a, _ := tn.FindUser("a@x")
	if a.DisplayName() != "A renamed" || a.Mail() != "" || a.AccountEnabled() != tenant.True {
		t.Errorf("a after delta: %v", attrs(a))
	}
	b, _ := tn.FindUser("b@x")
	if !b.SoftDeleted() {
		t.Error("b: @removed changed is a soft delete")
	}
	// A removed object's source is the record that removed it.
	if src := b.Source(); src.File != "users-2.json" || src.Path != "$.value[1]" {
		t.Errorf("b's source %v, want users-2.json's $.value[1]", src)
	}
	k, ok := tn.GroupByID(gid(902))
	if !ok || !k.SoftDeleted() {
		t.Fatal("K: @removed changed is a soft delete")
	}
	if src := k.Source(); src.File != "groups.json" || src.Path != "$.value[5]" {
		t.Errorf("K's source %v, want groups.json's $.value[5]", src)
	}
	d, _ := tn.FindUser("d@x")
	if d.SoftDeleted() {
		t.Error("d was restored by a later item")
	}
	g, _ := tn.FindGroup("G")
	var ids []string
	for _, m := range g.Members() {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, []string{gid(1), gid(4)}) {
		t.Errorf("G members %v", ids)
	}
}

func TestGraphSingleFiles(t *testing.T) {
	users := `{"value":[{"id":"` + gid(1) + `","userPrincipalName":"a@x","accountEnabled":true}]}`
	for _, c := range []struct{ name, data string }{
		{"users.json", users},
		{"export.json", `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id)",` + users[1:]},
		{"users-3.json", "\uFEFF" + users},
	} {
		tn, err := tenant.Parse(c.name, []byte(c.data))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if tn.Format() != tenant.FormatGraph || tn.UserCount() != 1 {
			t.Errorf("%s: %s, %d users", c.name, tn.Format(), tn.UserCount())
		}
	}
	// Windows PowerShell writes UTF-16 with a byte-order mark.
	u16 := utf16.Encode([]rune("\uFEFF" + users))
	var b []byte
	for _, r := range u16 {
		b = append(b, byte(r), byte(r>>8))
	}
	tn, err := tenant.Parse("users.json", b)
	if err != nil || tn.UserCount() != 1 {
		t.Fatalf("UTF-16: %v", err)
	}
	assignments, err := tenant.Parse("assignments.json", []byte(`{"value":[{"principalId":"x","principalType":"Group"}]}`))
	if err != nil || assignments.AssignmentCount() != 1 || !slices.Equal(codesOf(assignments), []string{tenant.FindingUnknownPrincipal}) {
		t.Errorf("assignments alone: %v %v", err, assignments.Findings())
	}
	le := loadErr(t, "export.json", users)
	if !strings.Contains(le.Msg, "cannot tell which collection") {
		t.Errorf("unnamed page: %v", le)
	}
}

func TestGraphErrors(t *testing.T) {
	pretty := "{\n  \"value\": [\n    {\n      \"id\": \"" + gid(1) + "\",\n      \"accountEnabled\": \"yes\"\n    }\n  ]\n}\n"
	for _, c := range []struct {
		name  string
		files map[string]string
		file  string
		line  int
		path  string
		msg   string
	}{
		{"bad JSON at the top", map[string]string{"users.json": `{"value": [`}, "users.json", 1, "", "not valid JSON"},
		{"not an object", map[string]string{"users.json": `"users"`}, "users.json", 1, "", "want a Graph response page"},
		{"no value", map[string]string{"users.json": `{"@odata.context": "x"}`}, "users.json", 1, "", "without value"},
		{"value not an array", map[string]string{"users.json": `{"value": {}}`}, "users.json", 1, "$.value", "want an array"},
		{"bad JSON in a user", map[string]string{"users.json": "{\"value\":[\n{\"id\":\"a\"},\n{\"id\":\"b\",,}]}"}, "users.json", 3, "$.value[1]", "not valid JSON"},
		{"a user that is not an object", map[string]string{"users.json": `{"value":["a"]}`}, "users.json", 1, "$.value[0]", "want an object"},
		{"accountEnabled a string", map[string]string{"users.json": pretty}, "users.json", 5, "$.value[0].accountEnabled", "want true or false"},
		{"id a number", map[string]string{"users.json": `{"value":[{"id":5}]}`}, "users.json", 1, "$.value[0].id", "want the user's id"},
		{"user without id", map[string]string{"users.json": `{"value":[{"userPrincipalName":"a@x"}]}`}, "users.json", 1, "$.value[0]", "user without id"},
		{"otherMails a string", map[string]string{"users.json": `{"value":[{"id":"a","otherMails":"x@y"}]}`}, "users.json", 1, "$.value[0].otherMails", "want an array of strings"},
		{"mail a number", map[string]string{"users.json": `{"value":[{"id":"a","mail":1}]}`}, "users.json", 1, "$.value[0].mail", "want a string"},
		{"extension attribute a number", map[string]string{"users.json": `{"value":[{"id":"a","onPremisesExtensionAttributes":{"extensionAttribute1":1}}]}`}, "users.json", 1, "$.value[0].onPremisesExtensionAttributes.extensionAttribute1", "want a string"},
		{"bad deletedDateTime", map[string]string{"deletedItems.json": `{"value":[{"id":"a","userPrincipalName":"x","deletedDateTime":"monday"}]}`}, "deletedItems.json", 1, "$.value[0].deletedDateTime", "not a date-time"},
		{"duplicate across pages", map[string]string{"users.json": `{"value":[{"id":"a"}]}`, "users-2.json": "{\"value\":[\n{\"id\":\"A\"}]}"}, "users-2.json", 2, "$.value[0]", "listed twice (first at users.json:1: $.value[0])"},
		{"a group in users", map[string]string{"users.json": `{"value":[{"@odata.type":"#microsoft.graph.group","id":"a"}]}`}, "users.json", 1, "$.value[0].@odata.type", "in a list of users"},
		{"a user in groups", map[string]string{"groups.json": `{"value":[{"@odata.type":"#microsoft.graph.user","id":"a"}]}`}, "groups.json", 1, "", "in a list of groups"},
		{"members not an array", map[string]string{"groups.json": `{"value":[{"id":"g","members":{}}]}`}, "groups.json", 1, "$.value[0].members", "want an array of directory objects"},
		{"member without id", map[string]string{"groups.json": `{"value":[{"id":"g","members":[{"@odata.type":"#microsoft.graph.user"}]}]}`}, "groups.json", 1, "$.value[0].members[0]", "member without id"},
		{"member page item not an object", map[string]string{"groups.json": `{"value":[{"id":"g"}]}`, "members/g.json": `{"value":[1]}`}, "members/g.json", 1, "$.value[0]", "want an object"},
		{"member typed as user is a group", map[string]string{"groups.json": `{"value":[{"id":"g"},{"id":"h","members":[{"@odata.type":"#microsoft.graph.user","id":"g"}]}]}`}, "groups.json", 1, "$.value[1].members[0]", "given as user but is a group"},
		{"a Graph error response", map[string]string{"users.json": `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`}, "users.json", 1, "$.error", "Authorization_RequestDenied"},
		{"assignment without principal", map[string]string{"assignments.json": `{"value":[{"id":"a"}]}`}, "assignments.json", 1, "$.value[0]", "without principalId"},
		{"assignment principal type", map[string]string{"assignments.json": `{"value":[{"principalId":"a","principalType":"Robot"}]}`}, "assignments.json", 1, "$.value[0].principalType", "unknown principalType"},
		{"trailing data", map[string]string{"users.json": "{\"value\":[]}\n{\"value\":[]}"}, "users.json", 2, "", "after the end"},
		{"user and group share an id", map[string]string{"users.json": `{"value":[{"id":"a"}]}`, "groups.json": `{"value":[{"id":"a"}]}`}, "groups.json", 1, "", "both a group and a user"},
		{"a key given twice", map[string]string{"users.json": "{\"value\":[\n{\"id\":\"a\",\n\"mail\":\"a@x\",\n\"mail\":\"b@x\"}]}"}, "users.json", 4, "$.value[0]", `the key "mail" is given twice`},
		{"value given twice", map[string]string{"users.json": `{"value":[],"value":[]}`}, "users.json", 1, "$", `the key "value" is given twice`},
		{"not UTF-8", map[string]string{"users.json": "{\"value\":[\n{\"id\":\"a\",\n\"displayName\":\"Ren\xe9\"}]}"}, "users.json", 3, "$.value[0]", "invalid UTF-8"},
		{"a lone surrogate", map[string]string{"users.json": `{"value":[{"id":"a","displayName":"\ud83d"}]}`}, "users.json", 1, "$.value[0]", "surrogate"},
		{"bad JSON deep in a user", map[string]string{"users.json": "{\"value\":[\n{\"id\":\"a\"},\n{\"id\":\"b\",\n \"onPremisesExtensionAttributes\": {\n  \"extensionAttribute1\": tru\n }}]}"}, "users.json", 5, "$.value[1]", "in literal true"},
		{"cut short", map[string]string{"users.json": "{\"value\":[\n{\"id\":\"a\"},\n{\"id\":"}, "users.json", 3, "", "ends in the middle"},
		{"nothing after the key", map[string]string{"users.json": "{\"value\""}, "users.json", 1, "", "ends in the middle"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tenant.LoadFS(graphFS(c.files), ".")
			var le *tenant.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v, want a *LoadError", err)
			}
			if le.Source.File != c.file || le.Source.Line != c.line || (c.path != "" && le.Source.Path != c.path) || !strings.Contains(le.Error(), c.msg) {
				t.Errorf("got %q (file %q line %d path %q), want %s:%d %s containing %q", le, le.Source.File, le.Source.Line, le.Source.Path, c.file, c.line, c.path, c.msg)
			}
		})
	}
}

func TestGraphFindings(t *testing.T) {
	users := `{"value":[{"id":"` + gid(1) + `","userPrincipalName":"a@x"},{"id":"` + gid(2) + `","userPrincipalName":"b@x"}]}`
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"no accountEnabled, no memberships", map[string]string{"users.json": users, "groups.json": `{"value":[{"id":"g","displayName":"G"}]}`},
			[]string{tenant.FindingNoAccountEnabled, tenant.FindingNoMemberships}},
		{"one group's members missing", map[string]string{"users.json": users, "groups.json": `{"value":[{"id":"g","displayName":"G"},{"id":"h","displayName":"H"}]}`, "members/g.json": `{"value":[]}`},
			[]string{tenant.FindingMembersNotExported, tenant.FindingNoAccountEnabled}},
		{"unknown members", map[string]string{"users.json": users, "groups.json": `{"value":[{"id":"g","members":[{"@odata.type":"#microsoft.graph.user","id":"nobody"},{"id":"` + gid(1) + `"}]}]}`},
			[]string{tenant.FindingNoAccountEnabled, tenant.FindingUnknownMember}},
		{"duplicate member", map[string]string{"users.json": users, "groups.json": `{"value":[{"id":"g","members":[{"id":"` + gid(1) + `"},{"id":"` + strings.ToUpper(gid(1)) + `"}]}]}`},
			[]string{tenant.FindingNoAccountEnabled, tenant.FindingDuplicateMember}},
		{"deleted and live", map[string]string{"users.json": users, "deletedItems.json": `{"value":[{"id":"` + gid(1) + `","userPrincipalName":"a@x"}]}`},
			[]string{tenant.FindingDeletedAndLive, tenant.FindingNoAccountEnabled}},
		{"several apps", map[string]string{"users.json": users, "assignments.json": `{"value":[{"principalId":"` + gid(1) + `","resourceId":"app1"},{"principalId":"` + gid(2) + `","resourceId":"app2"}]}`},
			[]string{tenant.FindingSeveralApps, tenant.FindingNoAccountEnabled}},
		{"stopped before the last page", map[string]string{"users.json": `{"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=Z",` + users[1:]},
			[]string{tenant.FindingIncompletePages, tenant.FindingNoAccountEnabled}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tn := loadGraph(t, c.files)
			got := codesOf(tn)
			slices.Sort(got)
			slices.Sort(c.want)
			if !slices.Equal(got, c.want) {
				t.Errorf("findings %v, want %v", findingStrings(tn), c.want)
			}
			for _, f := range tn.Findings() {
				if f.Message == "" || f.Fix == "" {
					t.Errorf("finding without message or fix: %+v", f)
				}
			}
		})
	}
	// A deleted user also listed as live is read as soft-deleted.
	tn := loadGraph(t, map[string]string{"users.json": users, "deletedItems.json": `{"value":[{"id":"` + gid(1) + `","userPrincipalName":"a@x"}]}`})
	if u, _ := tn.FindUser("a@x"); !u.SoftDeleted() {
		t.Error("deleted-and-live user is not soft-deleted")
	}
}

// A file that is not UTF-8 (an export re-saved in another encoding) is
// refused with a hint that says so, not read with U+FFFD in its names.
func TestGraphTextErrorHints(t *testing.T) {
	for _, data := range []string{"{\"value\":[{\"id\":\"a\",\"displayName\":\"Ren\xe9\"}]}", `{"value":[{"id":"a","displayName":"\udc00"}]}`} {
		le := loadErr(t, "users.json", data)
		if !strings.Contains(le.Hint, "save the file as UTF-8") {
			t.Errorf("%q: hint %q", data, le.Hint)
		}
	}
	le := loadErr(t, "users.json", `{"value":[{"id":"a","displayName":"x",}]}`)
	if strings.Contains(le.Hint, "UTF-8") {
		t.Errorf("syntax error with the UTF-8 hint: %q", le.Hint)
	}
}

// Pages are parsed in parallel; the error reported is still the first in
// page order, and a load that fails leaves nothing running.
func TestGraphFirstErrorInPageOrder(t *testing.T) {
	files := map[string]string{"users.json": `{"value":[{"id":"a"}]}`}
	for i := 2; i <= 12; i++ {
		files[fmt.Sprintf("users-%d.json", i)] = fmt.Sprintf(`{"value":[{"id":"u%d"}]}`, i)
	}
	files["users-5.json"] = `{"value":[{"id":5}]}`
	files["users-9.json"] = `{"value":[`
	for range 20 {
		_, err := tenant.LoadFS(graphFS(files), ".")
		var le *tenant.LoadError
		if !errors.As(err, &le) || le.Source.File != "users-5.json" {
			t.Fatalf("error %v, want the one of users-5.json", err)
		}
	}
}
