package tenant_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf16"

	"github.com/miscim/miscim/internal/entra/tenant"
)

// The legacy "Download users" header, verbatim (entra-exports §2.1).
const portalHeader = "userPrincipalName,displayName,surname,mail,givenName,id,userType,jobTitle,department,accountEnabled,usageLocation,streetAddress,state,country,officeLocation,city,postalCode,telephoneNumber,mobilePhone,alternateEmailAddress,ageGroup,consentProvidedForMinor,legalAgeGroupClassification,companyName,creationType,directorySynced,invitationState,identityIssuer,createdDateTime"

func TestCSVPortalUsers(t *testing.T) {
	data := "\uFEFF" + portalHeader + "\r\n" +
		"ana@contoso.com,Ana Lee,Lee,ana@contoso.com,Ana,0f6c1c2e-0000-0000-0000-000000000001,Member,Analyst,Finance,True,US,1 Main St,WA,United States,B12,Redmond,98052,+1 555 0100,+1 555 0199,ana@personal.example,,,,Contoso,,,,contoso.onmicrosoft.com,3/4/2024 9:12:05 AM\r\n" +
		"bo_fabrikam.com#EXT#@contoso.onmicrosoft.com,\"Chan, Bo\",Chan,,,7a9b0000-0000-0000-0000-000000000002,Guest,,,False,,,,,,,,,,,,,,,Invitation,,Accepted,ExternalAzureAD,11/20/2023 4:40:00 PM\r\n" +
		"eve@contoso.com,=3+1,,,,7a9b0000-0000-0000-0000-000000000003,Member,,,,,,,,,,,,,,,,,,,,,,\r\n" +
		",,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n"
	tn, err := tenant.Parse("exportUsers_2023-12-16.csv", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if tn.Format() != tenant.FormatCSV || tn.UserCount() != 3 {
		t.Fatalf("%s %d users", tn.Format(), tn.UserCount())
	}
	ana, _ := tn.FindUser("ana@contoso.com")
	want := map[string][]string{
		"objectId": {"0f6c1c2e-0000-0000-0000-000000000001"}, "userPrincipalName": {"ana@contoso.com"}, "displayName": {"Ana Lee"},
		"surname": {"Lee"}, "givenName": {"Ana"}, "mail": {"ana@contoso.com"}, "userType": {"Member"}, "jobTitle": {"Analyst"},
		"department": {"Finance"}, "accountEnabled": {"True"}, "usageLocation": {"US"}, "streetAddress": {"1 Main St"}, "state": {"WA"},
		"country": {"United States"}, "physicalDeliveryOfficeName": {"B12"}, "city": {"Redmond"}, "postalCode": {"98052"},
		"telephoneNumber": {"+1 555 0100"}, "mobile": {"+1 555 0199"}, "otherMails": {"ana@personal.example"}, "companyName": {"Contoso"},
		"identityIssuer": {"contoso.onmicrosoft.com"}, "createdDateTime": {"3/4/2024 9:12:05 AM"},
	}
	got := attrs(ana)
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("attributes %v", got)
	}
	if !ana.MultiValued("otherMails") || ana.MultiValued("department") {
		t.Error("otherMails from one cell is multi-valued, department is not")
	}
	if src := ana.AttrSource("physicalDeliveryOfficeName"); src.File != "exportUsers_2023-12-16.csv" || src.Line != 2 || src.Path != `column "officeLocation"` {
		t.Errorf("AttrSource %+v", src)
	}
	bo, _ := tn.FindUser("BO_fabrikam.com#EXT#@contoso.onmicrosoft.com")
	if bo == nil || bo.DisplayName() != "Chan, Bo" || bo.AccountEnabled() != tenant.False || bo.Mail() != "" {
		t.Fatalf("bo: %v", bo)
	}
	eve, _ := tn.FindUser("eve@contoso.com")
	if eve.DisplayName() != "=3+1" || eve.AccountEnabled() != tenant.Unknown {
		t.Errorf("eve: %q %v (values are kept as written; an empty accountEnabled is unknown)", eve.DisplayName(), eve.AccountEnabled())
	}
	if len(tn.Findings()) != 0 {
		t.Errorf("findings %v", tn.Findings())
	}
}

// TestCSVHeaderAliases reads one user through every spelling of a column
// the admin center, its documentation, its templates and PowerShell use.
func TestCSVHeaderAliases(t *testing.T) {
	for _, c := range []struct {
		header, value, attr string
		want                []string
	}{
		{"objectId", "x", "objectId", []string{"x"}},
		{"Id", "x", "objectId", []string{"x"}},
		{"ObjectId", "x", "objectId", []string{"x"}},
		{"Object ID", "x", "objectId", []string{"x"}},
		{"UserPrincipalName", "a@b", "userPrincipalName", []string{"a@b"}},
		{"User name [userPrincipalName] Required", "a@b", "userPrincipalName", []string{"a@b"}},
		{"User principal name", "a@b", "userPrincipalName", []string{"a@b"}},
		{"Name [displayName] Required", "Ana", "displayName", []string{"Ana"}},
		{"DisplayName", "Ana", "displayName", []string{"Ana"}},
		{"Display name", "Ana", "displayName", []string{"Ana"}},
		{"First name [givenName]", "Ana", "givenName", []string{"Ana"}},
		{"GivenName", "Ana", "givenName", []string{"Ana"}},
		{"Last name [surname]", "Lee", "surname", []string{"Lee"}},
		{"Surname", "Lee", "surname", []string{"Lee"}},
		{"Mail", "a@b", "mail", []string{"a@b"}},
		{"officeLocation", "B1", "physicalDeliveryOfficeName", []string{"B1"}},
		{"physicalDeliveryOfficeName", "B1", "physicalDeliveryOfficeName", []string{"B1"}},
		{"Office [physicalDeliveryOfficeName]", "B1", "physicalDeliveryOfficeName", []string{"B1"}},
		{"OfficeLocation", "B1", "physicalDeliveryOfficeName", []string{"B1"}},
		{"mobilePhone", "1", "mobile", []string{"1"}},
		{"mobile", "1", "mobile", []string{"1"}},
		{"Mobile phone [mobile]", "1", "mobile", []string{"1"}},
		{"telephoneNumber", "1", "telephoneNumber", []string{"1"}},
		{"Office phone [telephoneNumber]", "1", "telephoneNumber", []string{"1"}},
		{"faxNumber", "1", "facsimileTelephoneNumber", []string{"1"}},
		{"alternateEmailAddress", "a@x; b@x", "otherMails", []string{"a@x", "b@x"}},
		{"OtherMails", "a@x;b@x", "otherMails", []string{"a@x", "b@x"}},
		{"proxyAddresses", "SMTP:a@x;smtp:b@x", "proxyAddresses", []string{"SMTP:a@x", "smtp:b@x"}},
		{"accountEnabled", "true", "accountEnabled", []string{"True"}},
		{"AccountEnabled", "False", "accountEnabled", []string{"False"}},
		{"accountEnabled", "Yes", "accountEnabled", []string{"True"}},
		{"Block sign in (Yes/No) [accountEnabled] Required", "No", "accountEnabled", []string{"True"}},
		{"Block sign in (Yes/No) [accountEnabled] Required", "Yes", "accountEnabled", []string{"False"}},
		{"Block sign in", "yes", "accountEnabled", []string{"False"}},
		{"Job title [jobTitle]", "Analyst", "jobTitle", []string{"Analyst"}},
		{"Department", "Sales", "department", []string{"Sales"}},
		{"Usage location [usageLocation]", "US", "usageLocation", []string{"US"}},
		{"State or province [state]", "WA", "state", []string{"WA"}},
		{"Country or region [country]", "US", "country", []string{"US"}},
		{"ZIP or postal code [postalCode]", "98052", "postalCode", []string{"98052"}},
		{"EmployeeId", "00042", "employeeId", []string{"00042"}},
		{"extensionAttribute3", "x", "extensionAttribute3", []string{"x"}},
		{"ExtensionAttribute15", "x", "extensionAttribute15", []string{"x"}},
		{"onPremisesExtensionAttributes.extensionAttribute2", "x", "extensionAttribute2", []string{"x"}},
		{"onPremisesExtensionAttributes", `{"extensionAttribute1":"power","extensionAttribute2":null}`, "extensionAttribute1", []string{"power"}},
		{"OnPremisesSyncEnabled", "TRUE", "onPremisesSyncEnabled", []string{"True"}},
		{"directorySynced", "false", "directorySynced", []string{"False"}},
		{"CustomField", "v", "customField", []string{"v"}},
		{"My Column", "v", "My Column", []string{"v"}},
	} {
		t.Run(c.header, func(t *testing.T) {
			header, row := `"`+c.header+`"`, `"`+strings.ReplaceAll(c.value, `"`, `""`)+`"`
			switch c.attr {
			case "objectId":
				header, row = header+",userPrincipalName", row+",a@b"
			case "userPrincipalName":
				header, row = "id,"+header, "x,"+row
			default:
				header, row = "id,userPrincipalName,"+header, "x,a@b,"+row
			}
			tn, err := tenant.Parse("users.csv", []byte(header+"\n"+row+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			u, _ := tn.UserByID("x")
			if v, _ := u.Attr(c.attr); !slices.Equal(v, c.want) {
				t.Errorf("%s = %v, want %v; attributes %v", c.attr, v, c.want, attrs(u))
			}
		})
	}
	// A password column is never kept.
	tn, err := tenant.Parse("users.csv", []byte("Name [displayName] Required,User name [userPrincipalName] Required,Initial password [passwordProfile] Required,Object ID\nAna,a@b,Secret123!,x\n"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := tn.UserByID("x")
	if names := u.AttrNames(); !slices.Equal(names, []string{"displayName", "objectId", "userPrincipalName"}) {
		t.Errorf("attributes %v", names)
	}
}

func TestCSVBulkTemplate(t *testing.T) {
	data := "version:v1.0,,,,\r\nName [displayName] Required,User name [userPrincipalName] Required,Initial password [passwordProfile] Required,Block sign in (Yes/No) [accountEnabled] Required,Object ID\r\n" +
		"Chris Green,chris@contoso.com,x,No,c1\r\nDana Blue,dana@contoso.com,x,Yes,d1\r\n"
	tn, err := tenant.Parse("UserCreateTemplate.csv", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	chris, _ := tn.FindUser("chris@contoso.com")
	dana, _ := tn.FindUser("dana@contoso.com")
	if chris.AccountEnabled() != tenant.True || dana.AccountEnabled() != tenant.False {
		t.Errorf("Block sign in No → enabled: %v, Yes → disabled: %v", chris.AccountEnabled(), dana.AccountEnabled())
	}
	if src := dana.Source(); src.Line != 4 {
		t.Errorf("line %d, want 4 (the version line counts)", src.Line)
	}
}

func TestCSVPowerShell(t *testing.T) {
	// Windows PowerShell 5.1: #TYPE, every field quoted, PascalCase,
	// complex properties as .NET type names.
	data := "#TYPE Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser\r\n" +
		`"AccountEnabled","BusinessPhones","DisplayName","Id","Mail","OnPremisesExtensionAttributes","SignInActivity","UserPrincipalName","AdditionalProperties"` + "\r\n" +
		`"True","System.String[]","Ana Lee","u1","ana@contoso.com","Microsoft.Graph.PowerShell.Models.MicrosoftGraphOnPremisesExtensionAttributes","Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignInActivity","ana@contoso.com","System.Collections.Generic.Dictionary` + "`" + `2[System.String,System.Object]"` + "\r\n" +
		`"False","System.String[]","Bo ""The Builder"" Chan","u2","","Microsoft.Graph.PowerShell.Models.MicrosoftGraphOnPremisesExtensionAttributes","","bo@contoso.com",""` + "\r\n"
	tn, err := tenant.Parse("Users.csv", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	ana, _ := tn.FindUser("ana@contoso.com")
	if names := ana.AttrNames(); !slices.Equal(names, []string{"accountEnabled", "displayName", "mail", "objectId", "userPrincipalName"}) {
		t.Errorf("attributes %v: type names must read as not exported", names)
	}
	bo, _ := tn.FindUser("bo@contoso.com")
	if bo.DisplayName() != `Bo "The Builder" Chan` || bo.AccountEnabled() != tenant.False {
		t.Errorf("bo %q %v", bo.DisplayName(), bo.AccountEnabled())
	}
	var cols []string
	for _, f := range tn.Findings() {
		if f.Code != tenant.FindingNotExported {
			t.Errorf("finding %v", f)
		}
		cols = append(cols, f.Source.Path)
	}
	if want := []string{`column "BusinessPhones"`, `column "OnPremisesExtensionAttributes"`, `column "SignInActivity"`}; !slices.Equal(sortedCopy(cols), want) {
		t.Errorf("not-exported columns %v, want %v (each once)", cols, want)
	}

	// PowerShell 7 with -UseCulture in a ';' locale, and UTF-16 as
	// -Encoding Unicode writes it.
	semi := "\"Id\";\"UserPrincipalName\";\"AccountEnabled\"\r\n\"u1\";\"a@b\";\"True\"\r\n"
	for name, b := range map[string][]byte{"semicolons.csv": []byte(semi), "utf16.csv": utf16LE("\uFEFF" + semi)} {
		tn, err := tenant.Parse(name, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if u, _ := tn.UserByID("u1"); u == nil || u.UserPrincipalName() != "a@b" || u.AccountEnabled() != tenant.True {
			t.Errorf("%s: %v", name, u)
		}
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func utf16LE(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func csvDir(files map[string]string) fstest.MapFS {
	fs := fstest.MapFS{}
	for k, v := range files {
		fs[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fs
}

const csvUsers = "userPrincipalName,displayName,id,accountEnabled\na@x,A,u1,True\nb@x,B,u2,True\nc@x,C,u3,False\n"

func TestCSVDirectory(t *testing.T) {
	tn, err := tenant.LoadFS(csvDir(map[string]string{
		"exportUsers_2025-5-20.csv": csvUsers,
		"deletedUsers.csv":          "userPrincipalName,id,deletedDateTime\nd0000000000000000000000000000000gone@x,d0000000-0000-0000-0000-000000000000,2026-01-10T08:30:00Z\n",
		"exportGroup_2025-5-20.csv": "id,displayName,description,mail,groupTypes,securityEnabled,mailEnabled,membershipType\ng1,Sales,,sales@x,Unified,False,True,Assigned\ng2,Sales EMEA,,,,True,False,Assigned\ng3,Empty,,,,True,False,Assigned\n",
		// The portal's "Download members", named after the group's id or name.
		"members/g1.csv":         "Object ID,User principal name,Display name,Member type\nu1,a@x,A,User\n,b@x,B,User\ng2,,Sales EMEA,Group\nsp1,,Some App,Service Principal\n",
		"members/Sales EMEA.csv": "id,userPrincipalName,displayName\nu3,c@x,C\n",
		"members/g3.csv":         "id,userPrincipalName,displayName\n",
		// Export-Csv of Get-MgServicePrincipalAppRoleAssignedTo.
		"assignments.csv": `"AppRoleId","CreatedDateTime","DeletedDateTime","Id","PrincipalDisplayName","PrincipalId","PrincipalType","ResourceDisplayName","ResourceId","AdditionalProperties"` + "\n" +
			`"00000000-0000-0000-0000-000000000000","2/2/2024 4:22:45 AM","","a1","Sales","g1","Group","Metric Insights","sp","System.Collections.Generic.Dictionary` + "`" + `2[System.String,System.Object]"` + "\n" +
			`"r1","","","a2","C","u3","User","Metric Insights","sp",""` + "\n",
		"notes.txt": "hello",
	}), ".")
	if err != nil {
		t.Fatal(err)
	}
	if tn.UserCount() != 4 || tn.GroupCount() != 3 || tn.AssignmentCount() != 2 {
		t.Fatalf("%d users, %d groups, %d assignments", tn.UserCount(), tn.GroupCount(), tn.AssignmentCount())
	}
	gone, _ := tn.FindUser("gone@x")
	if gone == nil || !gone.SoftDeleted() || gone.DeletedDateTime().IsZero() {
		t.Fatalf("deleted user %v", gone)
	}
	sales, _ := tn.FindGroup("Sales")
	var ms []string
	for _, m := range sales.Members() {
		ms = append(ms, m.Kind.String()+":"+m.ID)
	}
	if want := []string{"user:u1", "user:u2", "group:g2", "servicePrincipal:sp1"}; !slices.Equal(ms, want) {
		t.Errorf("Sales members %v, want %v", ms, want)
	}
	emea, _ := tn.FindGroup("Sales EMEA")
	if len(emea.MemberUsers()) != 1 || emea.ParentGroups()[0] != sales {
		t.Errorf("Sales EMEA: %v, parents %v", emea.Members(), emea.ParentGroups())
	}
	if v, _ := sales.Attr("mailEnabled"); !slices.Equal(v, []string{"True"}) {
		t.Errorf("mailEnabled %v", v)
	}
	if v, _ := sales.Attr("membershipType"); !slices.Equal(v, []string{"Assigned"}) {
		t.Errorf("membershipType %v", v)
	}
	c, _ := tn.FindUser("c@x")
	if a := c.Assignments(); len(a) != 1 || a[0].AppRoleID != "r1" {
		t.Errorf("c's assignments %v", a)
	}
	a, _ := tn.FindUser("a@x")
	if eff := tn.EffectiveAssignments(a); len(eff) != 1 || eff[0].Group() != sales {
		t.Errorf("a's effective assignments %v", eff)
	}
	if got := codesOf(tn); !slices.Equal(sortedCopy(got), []string{tenant.FindingIgnoredFile, tenant.FindingUnsupportedMembers}) {
		t.Errorf("findings %v", findingStrings(tn))
	}

	// A memberships file with a group column covers every group; without
	// it, a group with no members file was not exported.
	tn2, err := tenant.LoadFS(csvDir(map[string]string{
		"users.csv":       csvUsers,
		"groups.csv":      "id,displayName\ng1,Sales\ng2,Support\n",
		"memberships.csv": "groupId,groupDisplayName,memberId,memberType\ng1,Sales,u1,User\n,Support,u2,User\ng9,Nowhere,u3,User\n",
	}), ".")
	if err != nil {
		t.Fatal(err)
	}
	support, _ := tn2.FindGroup("Support")
	if len(support.Members()) != 1 || !slices.Equal(codesOf(tn2), []string{tenant.FindingMembersOfUnknownGroup}) {
		t.Errorf("memberships: %v, findings %v", support.Members(), findingStrings(tn2))
	}
	tn3, err := tenant.LoadFS(csvDir(map[string]string{
		"users.csv":      csvUsers,
		"groups.csv":     "id,displayName\ng1,Sales\ng2,Support\n",
		"members/g1.csv": "id\nu1\n",
	}), ".")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(codesOf(tn3), []string{tenant.FindingMembersNotExported}) {
		t.Errorf("findings %v", findingStrings(tn3))
	}
}

func TestCSVErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		file  string
		line  int
		msg   string
	}{
		{"bare quote", map[string]string{"u.csv": "id,userPrincipalName\nu1,a\"b@x\n"}, "u.csv", 2, "not valid CSV"},
		{"unterminated quote", map[string]string{"u.csv": "id,userPrincipalName\nu1,\"a@x\n"}, "u.csv", 2, "not valid CSV"},
		{"cell not UTF-8", map[string]string{"u.csv": "id,userPrincipalName,displayName\nu1,a@x,Ren\xe9\n"}, "u.csv", 2, "column 3 is not UTF-8 text (byte 3 of the cell)"},
		{"header not UTF-8", map[string]string{"u.csv": "id,userPrincipalName,Nam\xe9\nu1,a@x,R\n"}, "u.csv", 1, "column 3 is not UTF-8"},
		{"too many fields", map[string]string{"u.csv": "id,userPrincipalName\nu1,a@x,extra\n"}, "u.csv", 2, "row has 3 fields"},
		{"accountEnabled not a boolean", map[string]string{"u.csv": "id,userPrincipalName,accountEnabled\nu1,a@x,maybe\n"}, "u.csv", 2, `column "accountEnabled": "maybe" is not a boolean`},
		{"bad deletedDateTime", map[string]string{"u.csv": "id,userPrincipalName,deletedDateTime\nu1,a@x,monday\n"}, "u.csv", 2, "not a date-time"},
		{"user without id", map[string]string{"u.csv": "id,userPrincipalName\n,a@x\n"}, "u.csv", 2, "user without objectId"},
		{"duplicate user", map[string]string{"u.csv": "id,userPrincipalName\nu1,a@x\nU1,b@x\n"}, "u.csv", 3, "listed twice (first at u.csv:2)"},
		{"two columns, one attribute", map[string]string{"u.csv": "id,objectId,userPrincipalName\nu1,u1,a@x\n"}, "u.csv", 1, `columns "id" and "objectId" both give objectId`},
		{"unknown role", map[string]string{"x.csv": "foo,bar\n1,2\n"}, "x.csv", 1, "cannot tell what this CSV holds"},
		{"members download outside members/", map[string]string{"x.csv": "Object ID,User principal name,Display name,Member type\nu1,a@x,A,User\n"}, "x.csv", 1, "put it in members/"},
		{"empty file", map[string]string{"u.csv": ""}, "u.csv", 0, "empty"},
		{"header only with BOM", map[string]string{"u.csv": "\uFEFF"}, "u.csv", 0, "empty"},
		{"unknown member type", map[string]string{"u.csv": csvUsers, "g.csv": "id,displayName\ng1,G\n", "members/g1.csv": "id,memberType\nu1,Robot\n"}, "members/g1.csv", 2, "unknown member type"},
		{"member row without id", map[string]string{"u.csv": csvUsers, "g.csv": "id,displayName\ng1,G\n", "members/g1.csv": "id,displayName\n,A\n"}, "members/g1.csv", 2, "without an id"},
		{"ambiguous group name", map[string]string{"u.csv": csvUsers, "g.csv": "id,displayName\ng1,G\ng2,g\n", "members/G.csv": "id\nu1\n"}, "members/G.csv", 0, "2 groups are named"},
		{"membership without group", map[string]string{"u.csv": csvUsers, "g.csv": "id,displayName\ng1,G\n", "m.csv": "groupId,memberId\n,u1\n"}, "m.csv", 2, "without a group"},
		{"assignment type", map[string]string{"a.csv": "PrincipalId,PrincipalType\nu1,Robot\n"}, "a.csv", 2, "unknown principal type"},
		{"member typed as group is a user", map[string]string{"u.csv": csvUsers, "g.csv": "id,displayName\ng1,G\n", "members/g1.csv": "id,memberType\nu1,Group\n"}, "members/g1.csv", 2, "given as group but is a user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if len(c.files) == 1 {
				for name, data := range c.files {
					_, err = tenant.Parse(name, []byte(data))
				}
			} else {
				_, err = tenant.LoadFS(csvDir(c.files), ".")
			}
			var le *tenant.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v, want a *LoadError", err)
			}
			if le.Source.File != c.file || le.Source.Line != c.line || !strings.Contains(le.Error(), c.msg) {
				t.Errorf("got %q (file %q line %d), want %s:%d containing %q", le, le.Source.File, le.Source.Line, c.file, c.line, c.msg)
			}
		})
	}
}
