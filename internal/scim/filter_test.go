package scim

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Helpers that keep the expected trees of the tables short.

func pth(name string) AttrPath { return AttrPath{Name: name} }

func sub(name, subAttr string) AttrPath { return AttrPath{Name: name, SubAttr: subAttr} }

func urnPath(uri, name, subAttr string) AttrPath {
	return AttrPath{URI: uri, Name: name, SubAttr: subAttr}
}

func vpath(name string, f Expr, subAttr string) AttrPath {
	return AttrPath{Name: name, ValueFilter: f, SubAttr: subAttr}
}

func cmpx(p AttrPath, op CompareOp, v any) Expr { return &CompareExpr{Path: p, Op: op, Value: v} }

func andx(l, r Expr) Expr { return &LogicalExpr{Op: And, Left: l, Right: r} }

func orx(l, r Expr) Expr { return &LogicalExpr{Op: Or, Left: l, Right: r} }

func notx(x Expr) Expr { return &NotExpr{X: x} }

func prx(p AttrPath) Expr { return &PresentExpr{Path: p} }

func vpx(p AttrPath) Expr { return &ValuePathExpr{Path: p} }

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

var parseTests = []struct {
	in   string
	want Expr
}{
	// Every operator (RFC 7644 §3.4.2.2, Table 3).
	{`userName eq "bjensen"`, cmpx(pth("userName"), OpEq, "bjensen")},
	{`userName ne "bjensen"`, cmpx(pth("userName"), OpNe, "bjensen")},
	{`name.familyName co "O'Malley"`, cmpx(sub("name", "familyName"), OpCo, "O'Malley")},
	{`userName sw "J"`, cmpx(pth("userName"), OpSw, "J")},
	{`userName ew "son"`, cmpx(pth("userName"), OpEw, "son")},
	{`title pr`, prx(pth("title"))},
	{`meta.lastModified gt "2011-05-13T04:42:34Z"`, cmpx(sub("meta", "lastModified"), OpGt, "2011-05-13T04:42:34Z")},
	{`meta.lastModified ge "2011-05-13T04:42:34Z"`, cmpx(sub("meta", "lastModified"), OpGe, "2011-05-13T04:42:34Z")},
	{`meta.lastModified lt "2011-05-13T04:42:34Z"`, cmpx(sub("meta", "lastModified"), OpLt, "2011-05-13T04:42:34Z")},
	{`meta.lastModified le "2011-05-13T04:42:34Z"`, cmpx(sub("meta", "lastModified"), OpLe, "2011-05-13T04:42:34Z")},
	// Case-insensitive operators and keywords.
	{`userName EQ "a"`, cmpx(pth("userName"), OpEq, "a")},
	{`title PR`, prx(pth("title"))},
	{`a eq 1 AND b eq 2`, andx(cmpx(pth("a"), OpEq, 1.0), cmpx(pth("b"), OpEq, 2.0))},
	{`a eq 1 Or b eq 2`, orx(cmpx(pth("a"), OpEq, 1.0), cmpx(pth("b"), OpEq, 2.0))},
	{`NOT (a eq 1)`, notx(cmpx(pth("a"), OpEq, 1.0))},
	{`a eq TRUE`, cmpx(pth("a"), OpEq, true)},
	{`a eq False`, cmpx(pth("a"), OpEq, false)},
	{`a eq NULL`, cmpx(pth("a"), OpEq, nil)},
	// Precedence and associativity.
	{`a eq 1 or b eq 2 and c eq 3`, orx(cmpx(pth("a"), OpEq, 1.0), andx(cmpx(pth("b"), OpEq, 2.0), cmpx(pth("c"), OpEq, 3.0)))},
	{`a eq 1 and b eq 2 or c eq 3`, orx(andx(cmpx(pth("a"), OpEq, 1.0), cmpx(pth("b"), OpEq, 2.0)), cmpx(pth("c"), OpEq, 3.0))},
	{`a pr and b pr and c pr`, andx(andx(prx(pth("a")), prx(pth("b"))), prx(pth("c")))},
	{`a pr or b pr or c pr`, orx(orx(prx(pth("a")), prx(pth("b"))), prx(pth("c")))},
	{`(a eq 1 or b eq 2) and c eq 3`, andx(orx(cmpx(pth("a"), OpEq, 1.0), cmpx(pth("b"), OpEq, 2.0)), cmpx(pth("c"), OpEq, 3.0))},
	{`a pr and (b pr and c pr)`, andx(prx(pth("a")), andx(prx(pth("b")), prx(pth("c"))))},
	{`((a pr))`, prx(pth("a"))},
	{`not(a pr)`, notx(prx(pth("a")))},
	{`a pr and not (b pr or c pr)`, andx(prx(pth("a")), notx(orx(prx(pth("b")), prx(pth("c")))))},
	{"  \ta   eq\t1  ", cmpx(pth("a"), OpEq, 1.0)},
	// Value paths.
	{`emails[type eq "work"]`, vpx(vpath("emails", cmpx(pth("type"), OpEq, "work"), ""))},
	{`emails[type eq "work" and value co "@example.com"]`,
		vpx(vpath("emails", andx(cmpx(pth("type"), OpEq, "work"), cmpx(pth("value"), OpCo, "@example.com")), ""))},
	{`emails[not (primary eq true)]`, vpx(vpath("emails", notx(cmpx(pth("primary"), OpEq, true)), ""))},
	{`emails[type eq "work"].value eq "x"`, cmpx(vpath("emails", cmpx(pth("type"), OpEq, "work"), "value"), OpEq, "x")},
	{`emails[type eq "work"].value pr`, prx(vpath("emails", cmpx(pth("type"), OpEq, "work"), "value"))},
	{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		andx(cmpx(pth("userType"), OpEq, "Employee"),
			vpx(vpath("emails", andx(cmpx(pth("type"), OpEq, "work"), cmpx(pth("value"), OpCo, "@example.com")), "")))},
	{`members[$ref eq "x"]`, vpx(vpath("members", cmpx(pth("$ref"), OpEq, "x"), ""))},
	{`members.$ref pr`, prx(sub("members", "$ref"))},
	// URN-qualified names.
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, cmpx(urnPath(UserSchema, "userName", ""), OpEq, "a")},
	{`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName pr`, prx(urnPath(UserSchema, "name", "givenName"))},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
		cmpx(urnPath(enterpriseURN, "employeeNumber", ""), OpEq, "701984")},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`,
		cmpx(urnPath(enterpriseURN, "manager", "value"), OpEq, "26118915")},
	{`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value co "x"`,
		cmpx(AttrPath{URI: UserSchema, Name: "emails", ValueFilter: cmpx(pth("type"), OpEq, "work"), SubAttr: "value"}, OpCo, "x")},
	// Bare words, as Microsoft's validator sends them.
	{`userName sw O`, cmpx(pth("userName"), OpSw, "O")},
	{`meta.Created gt 2015-10-10T14:38:21.8617979-07:00`, cmpx(sub("meta", "Created"), OpGt, "2015-10-10T14:38:21.8617979-07:00")},
	{`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
		andx(cmpx(sub("name", "FamilyName"), OpEq, "Employee"),
			orx(cmpx(sub("emails", "Value"), OpCo, "example.com"), cmpx(sub("emails", "Value"), OpCo, "example.org")))},
	{`emails[type eq work]`, vpx(vpath("emails", cmpx(pth("type"), OpEq, "work"), ""))},
	{`x eq 01`, cmpx(pth("x"), OpEq, "01")},
	// Strings, numbers, booleans, null.
	{`userName eq "a\"b"`, cmpx(pth("userName"), OpEq, `a"b`)},
	{`userName eq "a\\b\/c\n\u00e9\ud83d\ude00"`, cmpx(pth("userName"), OpEq, "a\\b/c\né😀")},
	{`userName eq ""`, cmpx(pth("userName"), OpEq, "")},
	{`userName eq "and or not"`, cmpx(pth("userName"), OpEq, "and or not")},
	{`userName eq "12"`, cmpx(pth("userName"), OpEq, "12")},
	{`x eq 42`, cmpx(pth("x"), OpEq, 42.0)},
	{`x gt -1.5e3`, cmpx(pth("x"), OpGt, -1500.0)},
	{`x le 0`, cmpx(pth("x"), OpLe, 0.0)},
	{`active eq true`, cmpx(pth("active"), OpEq, true)},
	{`active eq false`, cmpx(pth("active"), OpEq, false)},
	{`nickName eq null`, cmpx(pth("nickName"), OpEq, nil)},
}

func TestParseFilter(t *testing.T) {
	for _, tt := range parseTests {
		got, err := ParseFilter(tt.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFilter(%q)\n got  %s\n want %s", tt.in, got, tt.want)
		}
	}
}

func TestFilterRoundTrip(t *testing.T) {
	for _, tt := range parseTests {
		e, err := ParseFilter(tt.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		s := e.String()
		e2, err := ParseFilter(s)
		if err != nil {
			t.Errorf("ParseFilter(%q) (rendered from %q): %v", s, tt.in, err)
			continue
		}
		if !reflect.DeepEqual(e, e2) {
			t.Errorf("round trip of %q through %q changed the tree", tt.in, s)
		}
	}
}

func TestFilterString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`userName EQ "a"`, `userName eq "a"`},
		{`userName sw O`, `userName sw "O"`},
		{`x eq 1e3`, `x eq 1000`},
		{`a eq 1 or b eq 2 and c eq 3`, `a eq 1 or (b eq 2 and c eq 3)`},
		{`(a pr or b pr) and c pr`, `(a pr or b pr) and c pr`},
		{`a pr and (b pr and c pr)`, `a pr and (b pr and c pr)`},
		{`a pr and b pr and c pr`, `a pr and b pr and c pr`},
		{`NOT(a pr)`, `not (a pr)`},
		{`emails[type eq "work"].value eq "x"`, `emails[type eq "work"].value eq "x"`},
		{`x eq "tab\there<&>"`, `x eq "tab\there<&>"`},
		{`x eq NULL`, `x eq null`},
	}
	for _, tt := range tests {
		e, err := ParseFilter(tt.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("ParseFilter(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var filterErrorTests = []struct {
	in, detail string // detail: a fragment the error detail must contain
}{
	{``, "position 1: the filter is empty"},
	{`   `, "position 4: the filter is empty"},
	{`userName`, "position 9: expected a comparison operator"},
	{`userName eq`, "position 12: expected a value after \"eq\", found end of filter"},
	{`userName eq "unterminated`, "position 13: the string starting here is not terminated"},
	{`(userName eq "a"`, `position 17: expected "and", "or" or ")" to close the "(" at position 1, found end of filter`},
	{`userName eq "a")`, `position 16: expected "and", "or" or the end of the filter, found ")"`},
	{`userName foo "a"`, `position 10: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "userName", found "foo"`},
	{`userName equals "a"`, `invalid filter at position 10: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "userName", found "equals"`},
	{`userName pr "x"`, `position 13: "pr" takes no value, found "x"`},
	{`userName pr x`, `position 13: "pr" takes no value, found "x"`},
	{`emails[type eq "work"`, `position 22: expected "and", "or" or "]" to close the "[" at position 7, found end of filter`},
	{`not userName eq "a"`, `position 5: expected "(" after "not"`},
	{`not`, `position 4: expected "(" after "not"`},
	{`emails[x[y eq 1]]`, "position 9: value paths cannot be nested"},
	{`emails[(x[y eq 1])]`, "position 10: value paths cannot be nested"},
	{strings.Repeat("(", 51) + "a pr" + strings.Repeat(")", 51), "position 51: parentheses, \"not\" and brackets nest more than 50 levels deep"},
	{strings.Repeat("not (", 51) + "a pr" + strings.Repeat(")", 51), "position 255: parentheses"},
	{strings.Repeat("a", 10001) + " pr", "at most 10000"},
	{`userName eq "a" and`, `position 20: expected an attribute name, "(" or "not", found end of filter`},
	{`userName eq "a" or ()`, `position 21: expected an attribute name, found ")"`},
	{`userName eq "a" "b"`, `position 17: expected "and", "or" or the end of the filter, found "b"`},
	{`userName eq "a" xor b pr`, `position 17: expected "and", "or" or the end of the filter, found "xor"`},
	{`1userName pr`, `position 1: "1userName" is not a valid attribute name`},
	{`name. pr`, `position 6: expected a sub-attribute name`},
	{`name.given.x pr`, `position 6: "given.x" is not a valid sub-attribute name`},
	{`:userName pr`, `position 1: expected a schema URI`},
	{`urn:x: pr`, `position 7: expected an attribute name`},
	{`name.givenName[x eq 1]`, `position 15: a value filter "[...]" must follow the attribute name`},
	{`emails[type eq "work"].`, `position 24: expected a sub-attribute name after "].", found end of filter`},
	{`emails[type eq "work"] pr`, `position 24: expected "and", "or" or the end of the filter, found "pr"`},
	{`emails[type eq "work"].value`, `position 29: expected a comparison operator`},
	{`x eq "\x"`, `position 7: invalid escape "\\x" in string`},
	{`x eq "\u12"`, `position 7: invalid \u escape`},
	{`x eq "a\ud800"`, `position 8: the escape \ud800 is half of a UTF-16 surrogate pair`},
	{`x eq "\udc00\ud800"`, `position 7: the escape \udc00 is half`},
	{`x eq "\ud800\u0041"`, `position 7: the escape \ud800 is half`},
	{"userName eq \"\xff\xfe\"", `invalid filter: byte 0xff at byte offset 13, after "userName eq \"" is not part of a UTF-8 character`},
	{"é eq \"\xc3\"", `byte 0xc3 at byte offset 7, after "é eq \""`},
	{`x eq 1e999`, `position 6: the number "1e999" is out of range`},
	{`x eq )`, `position 6: expected a value after "eq", found ")"`},
	{`é eq 1 )`, `position 1: "é" is not a valid attribute name`},
	{`a eq "é" )`, `position 10: expected "and", "or" or the end of the filter, found ")"`},
}

func TestParseFilterErrors(t *testing.T) {
	for _, tt := range filterErrorTests {
		e, err := ParseFilter(tt.in)
		if err == nil {
			t.Errorf("ParseFilter(%.60q) = %s, want an error", tt.in, e)
			continue
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("ParseFilter(%.60q): error %T is not *Error", tt.in, err)
			continue
		}
		if se.Status != 400 || se.ScimType != ScimTypeInvalidFilter {
			t.Errorf("ParseFilter(%.60q): status %d scimType %q, want 400 invalidFilter", tt.in, se.Status, se.ScimType)
		}
		if !strings.Contains(se.Detail, tt.detail) {
			t.Errorf("ParseFilter(%.60q): detail %q does not contain %q", tt.in, se.Detail, tt.detail)
		}
	}
}

func TestFilterDepthLimit(t *testing.T) {
	ok := strings.Repeat("(", 50) + "a pr" + strings.Repeat(")", 50)
	if _, err := ParseFilter(ok); err != nil {
		t.Errorf("50 levels of parentheses: %v", err)
	}
	if _, err := ParseFilter(strings.Repeat("a", 9997) + " pr"); err != nil {
		t.Errorf("10000 characters: %v", err)
	}
}

var pathTests = []struct {
	in   string
	want AttrPath
}{
	{`members`, pth("members")},
	{`  members  `, pth("members")},
	{`name.familyName`, sub("name", "familyName")},
	{`members[value eq "2819c223"]`, vpath("members", cmpx(pth("value"), OpEq, "2819c223"), "")},
	{`emails[type eq "work"].value`, vpath("emails", cmpx(pth("type"), OpEq, "work"), "value")},
	{`emails[type eq "work" and primary eq true].display`,
		vpath("emails", andx(cmpx(pth("type"), OpEq, "work"), cmpx(pth("primary"), OpEq, true)), "display")},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, urnPath(enterpriseURN, "manager", "")},
	{`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`, urnPath(UserSchema, "name", "givenName")},
	{`members.$ref`, sub("members", "$ref")},
}

func TestParsePath(t *testing.T) {
	for _, tt := range pathTests {
		got, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePath(%q) = %s, want %s", tt.in, got, tt.want)
		}
		again, err := ParsePath(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("ParsePath(%q) round trip through %q: %v", tt.in, got.String(), err)
		}
	}
}

var pathErrorTests = []struct{ in, detail string }{
	{``, "invalid path at position 1: the path is empty"},
	{`  `, "position 3: the path is empty"},
	{`members[value eq "x"`, `position 21: expected "and", "or" or "]" to close the "[" at position 8, found end of path`},
	{`members[value eq]`, `position 17: expected a value after "eq", found "]"`},
	{`members value`, `position 9: expected the end of the path, found "value"`},
	{`name.`, `position 6: expected a sub-attribute name`},
	{`members[value[x eq 1]]`, `position 14: value paths cannot be nested`},
	{`emails[type eq "work"].value.x`, `position 24: "value.x" is not a valid sub-attribute name`},
	{`members)`, `position 8: expected the end of the path, found ")"`},
	{`[value eq 1]`, `position 1: expected an attribute name, found "["`},
	{"name.\x80", `invalid path: byte 0x80 at byte offset 5, after "name." is not part of a UTF-8 character`},
}

func TestParsePathErrors(t *testing.T) {
	for _, tt := range pathErrorTests {
		p, err := ParsePath(tt.in)
		if err == nil {
			t.Errorf("ParsePath(%q) = %s, want an error", tt.in, p)
			continue
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("ParsePath(%q): error %T is not *Error", tt.in, err)
			continue
		}
		if se.Status != 400 || se.ScimType != ScimTypeInvalidPath {
			t.Errorf("ParsePath(%q): status %d scimType %q, want 400 invalidPath", tt.in, se.Status, se.ScimType)
		}
		if !strings.Contains(se.Detail, tt.detail) {
			t.Errorf("ParsePath(%q): detail %q does not contain %q", tt.in, se.Detail, tt.detail)
		}
	}
}

const sampleUser = `{"id":"2819c223","externalId":"ext-1","userName":"Bjensen@Example.com",
"name":{"givenName":"Barbara","familyName":"Jensen"},
"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
"active":true,
"meta":{"resourceType":"User","created":"2024-01-02T03:04:05Z","lastModified":"2024-02-01T00:00:00Z","version":"W/\"3\""},
"urn:ietf:params:scim:schemas:extension:miscim:2.0:User":{"userType":"regular","source":"scim"}}`

func sampleDoc(t testing.TB) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(sampleUser), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

var matchTests = []struct {
	filter string
	want   bool
}{
	{`userName eq "bjensen@example.com"`, true}, // userName is caseExact false
	{`USERNAME eq "BJENSEN@EXAMPLE.COM"`, true},
	{`id eq "2819C223"`, false}, // id is caseExact
	{`id eq "2819c223"`, true},
	{`externalId eq "ext-1"`, true},
	{`externalId eq "EXT-1"`, false},
	{`externalid eq "ext-1"`, true},
	{`emails[type eq "work"].value eq "bjensen@example.com"`, true},
	{`emails[type eq "work"].value eq "babs@jensen.org"`, false},
	{`emails[TYPE eq "WORK"].Value eq "BJENSEN@example.com"`, true},
	{`emails[type eq "work" and primary eq true]`, true},
	{`emails[type eq "home" and primary eq true]`, false},
	{`emails.value co "jensen.org"`, true},
	{`emails co "jensen.org"`, true},
	{`emails co "nowhere"`, false},
	{`emails[type eq "home"]`, true},
	{`emails[type eq "other"]`, false},
	{`emails[type eq "home"].primary pr`, false},
	{`emails[type eq "work"].primary pr`, true},
	{`emails.type ew "ME"`, true},
	{`name.familyName sw "jen"`, true},
	{`name.familyName sw "bar"`, false},
	{`name.familyName ew "SEN"`, true},
	{`name[givenName eq "Barbara"]`, true},
	{`meta.created gt 2015-10-10T14:38:21.8617979-07:00`, true},
	{`meta.created lt 2015-10-10T14:38:21.8617979-07:00`, false},
	{`meta.created eq "2024-01-02T04:04:05+01:00"`, true}, // same instant
	{`meta.lastModified lt "2024-01-01T00:00:00Z"`, false},
	{`meta.lastModified ge "2024-02-01T00:00:00.000Z"`, true},
	{`meta.version eq "w/\"3\""`, false}, // version is caseExact
	{`meta.resourceType eq "User"`, true},
	{`userName gt "a"`, true},
	{`userName lt "A"`, false},
	{`active eq true`, true},
	{`active eq "True"`, true},
	{`active eq false`, false},
	{`active ne false`, true},
	{`active gt false`, false},
	{`active co "t"`, false},
	{`title pr`, false},
	{`name pr`, true},
	{`emails pr`, true},
	{`emails.value pr`, true},
	{`userName ne "x"`, true},
	{`userName ne "BJENSEN@example.com"`, false},
	{`nickName ne "x"`, true},
	{`nickName eq "x"`, false},
	{`nickName eq null`, true},
	{`nickName ne null`, false},
	{`userName eq null`, false},
	{`userName ne null`, true},
	{`not (userName eq "x")`, true},
	{`not (userName pr)`, false},
	{`userName eq "x" or active eq true`, true},
	{`userName eq "x" and active eq true`, false},
	{`userName pr and (name.givenName eq "x" or name.givenName eq "barbara")`, true},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com"`, true},
	{`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "jensen"`, true},
	{`urn:ietf:params:scim:schemas:extension:miscim:2.0:User:userType eq "REGULAR"`, true},
	{`URN:IETF:params:scim:schemas:extension:miscim:2.0:User:userType eq "regular"`, true},
	{`urn:ietf:params:scim:schemas:extension:miscim:2.0:User:userName pr`, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userType pr`, false},
	{`userType eq "regular"`, true},
	{`source sw "SC"`, true},
	{`userName eq 5`, false},
	{`userName gt 5`, false},
}

func TestMatch(t *testing.T) {
	doc := sampleDoc(t)
	for _, tt := range matchTests {
		e, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		if got := Match(e, doc, User); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestMatchNumbersAndNilSchema(t *testing.T) {
	doc := map[string]any{
		"f": 3.5, "n": json.Number("12"), "i": 7, "i64": int64(-2),
		"tags": []any{"a", "B"}, "empty": []any{}, "blank": "", "obj": map[string]any{},
		"code": "12345",
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{`f gt 3`, true}, {`f le 3.5`, true}, {`f lt 3.5`, false}, {`f eq 3.5`, true},
		{`n eq 12`, true}, {`n ge 13`, false}, {`i eq 7`, true}, {`i64 lt 0`, true},
		{`f eq "3.5"`, false}, {`f co "3"`, false},
		{`tags eq "b"`, true}, {`tags sw "c"`, false},
		{`empty pr`, false}, {`empty eq null`, true}, {`blank pr`, false}, {`obj pr`, false},
		{`code eq 12345`, true},
	}
	for _, tt := range tests {
		e, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		if got := Match(e, doc, nil); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestMatchElement(t *testing.T) {
	members := Group.Lookup("", "members")
	elem := map[string]any{"value": "x", "display": "Babs", "$ref": "https://example.com/Users/x"}
	tests := []struct {
		filter string
		parent *Attribute
		want   bool
	}{
		{`value eq "x"`, members, true},
		{`value eq "X"`, members, false}, // members.value is caseExact
		{`value eq "X"`, nil, true},      // unknown: caseExact false
		{`display eq "babs"`, members, true},
		{`$ref ew "/x"`, members, true},
		{`value eq "x" and not (type pr)`, members, true},
	}
	for _, tt := range tests {
		e, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		if got := MatchElement(e, elem, tt.parent); got != tt.want {
			t.Errorf("MatchElement(%q) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestParseRFC3339(t *testing.T) {
	good := []string{"2024-01-02T03:04:05Z", "2015-10-10T14:38:21.8617979-07:00", "2024-02-29t00:00:00.123456789123z", "2024-01-02T03:04:05+05:30"}
	bad := []string{"2024-01-02", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-02T03:04:05", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05+0530", "2024-01-02T25:04:05Z"}
	for _, s := range good {
		if _, ok := parseRFC3339(s); !ok {
			t.Errorf("parseRFC3339(%q) failed", s)
		}
	}
	for _, s := range bad {
		if _, ok := parseRFC3339(s); ok {
			t.Errorf("parseRFC3339(%q) succeeded", s)
		}
	}
	a, _ := parseRFC3339("2015-10-10T14:38:21.8617979-07:00")
	b, _ := parseRFC3339("2015-10-10T21:38:21.8617979Z")
	if !a.Equal(b) {
		t.Errorf("offset not applied: %v vs %v", a, b)
	}
}

// TestMatchAllocs guards the table-scan hot path: evaluating common filters
// must not allocate.
func TestMatchAllocs(t *testing.T) {
	doc := sampleDoc(t)
	for _, f := range []string{
		`userName eq "BJENSEN@example.com"`,
		`emails[type eq "work"].value co "example"`,
		`meta.created gt 2015-10-10T14:38:21.8617979-07:00`,
		`userType eq "regular" and not (title pr) or id ne "x"`,
		`emails co "jensen.org"`,
	} {
		e, err := ParseFilter(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { Match(e, doc, User) }); n != 0 {
			t.Errorf("Match(%q) allocates %v times", f, n)
		}
	}
}

func BenchmarkMatchUserName(b *testing.B) {
	doc := sampleDoc(b)
	e, err := ParseFilter(`userName eq "bjensen@example.com"`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !Match(e, doc, User) {
			b.Fatal("no match")
		}
	}
}

// TestQuoteStringParsesBack: a quoted string is a filter literal that
// parses to the same value (commands build match filters with it).
func TestQuoteStringParsesBack(t *testing.T) {
	for _, in := range []string{`a`, `a"b`, `a\b`, `<&>`, "tab\there", "ünïcödé", "ctl\x01"} {
		e, err := ParseFilter("userName eq " + QuoteString(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := e.(*CompareExpr).Value; got != in {
			t.Errorf("QuoteString(%q) parses back as %q", in, got)
		}
	}
}
