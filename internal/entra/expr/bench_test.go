package expr

import (
	"fmt"
	"testing"
)

// defaultMapping is the user mapping Metric Insights documents (R1/R2 of
// its Entra article: externalId, userName, active, givenName, familyName,
// email, miUserType) plus the expressions Entra's stock SCIM mapping and
// typical tenants add, ten in all: what the simulator evaluates per user.
var defaultMapping = []string{
	`[objectId]`,
	`[userPrincipalName]`,
	`Switch([IsSoftDeleted], , "False", "1", "True", "0")`,
	`[givenName]`,
	`[surname]`,
	`[mail]`,
	`[extensionAttribute1]`,
	`Not([IsSoftDeleted])`,
	`Join(" ", [givenName], [surname])`,
	`ToLower(Coalesce([mail], [userPrincipalName]))`,
}

// benchUser is a tenant user with the attributes the mapping reads.
type benchUser struct {
	objectID, upn, given, surname, mail, ext1 string
	softDeleted                               bool
}

func (u *benchUser) Attr(name string) Value {
	switch name {
	case "objectId":
		return Str(u.objectID)
	case "userPrincipalName":
		return Str(u.upn)
	case "givenName":
		return Str(u.given)
	case "surname":
		return Str(u.surname)
	case "mail":
		if u.mail == "" {
			return Null()
		}
		return Str(u.mail)
	case "extensionAttribute1":
		return Str(u.ext1)
	case "IsSoftDeleted":
		return Bool(u.softDeleted)
	}
	return Null()
}

// BenchmarkDefaultMapping evaluates the ten expressions for one user per
// iteration (parsed once): ns/op is the expression cost of one user.
func BenchmarkDefaultMapping(b *testing.B) {
	exprs := make([]*Expr, len(defaultMapping))
	for i, src := range defaultMapping {
		exprs[i] = MustParse(src)
	}
	users := make([]benchUser, 1000)
	for i := range users {
		users[i] = benchUser{
			objectID: fmt.Sprintf("00aa00aa-bb11-cc22-dd33-%012d", i), upn: fmt.Sprintf("User.%d@Contoso.com", i),
			given: "User", surname: fmt.Sprint(i), mail: fmt.Sprintf("user.%d@contoso.com", i), ext1: "regular", softDeleted: i%10 == 0,
		}
		if i%7 == 0 {
			users[i].mail = ""
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := &users[i%len(users)]
		for _, e := range exprs {
			if _, err := e.Eval(u, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkActiveSwitch is the one expression of Metric Insights' mapping.
func BenchmarkActiveSwitch(b *testing.B) {
	e := MustParse(`Switch([IsSoftDeleted], , "False", "1", "True", "0")`)
	u := &benchUser{softDeleted: true}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.Eval(u, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is the parse and check of the whole default mapping.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, src := range defaultMapping {
			if _, err := Parse(src); err != nil {
				b.Fatal(err)
			}
		}
	}
}
