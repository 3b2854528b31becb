package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/entra/expr"
)

func mustParse(t testing.TB, src string) *Mapping {
	t.Helper()
	m, err := Parse("mapping.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

// TestEveryField reads a file that uses every key and checks each value.
func TestEveryField(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "every-field.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.SkipOutOfScopeDeletions {
		t.Error("skipOutOfScopeDeletions: true not read")
	}
	u := m.Users
	if u.Actions != (Actions{Create: true, Update: true}) {
		t.Errorf("users actions = %+v, want create and update", u.Actions)
	}
	if len(u.Scoping) != 2 || u.Scoping[0].Title != "Sales and Finance" || len(u.Scoping[0].Clauses) != 2 || len(u.Scoping[1].Clauses) != 2 {
		t.Fatalf("scoping filters = %+v", u.Scoping)
	}
	c := u.Scoping[0].Clauses
	if c[0].Attribute != "department" || c[0].Operator != OpContainedIn || c[0].Value != "Sales,Finance" || c[0].Line != 10 {
		t.Errorf("clause 1 = %+v", c[0])
	}
	if c[1].Operator != OpIsTrue || c[1].Value != "" {
		t.Errorf("is_true read as %+v: operators are read in any case, with underscores", c[1])
	}
	if g := u.Scoping[1].Clauses[0]; g.Operator != OpGreaterOrEquals || g.num != 1000 {
		t.Errorf("Greater_Than_OR_EQUALS clause = %+v", g)
	}
	want := []struct {
		target   string
		typ      MappingType
		source   string
		apply    Apply
		tt       TargetType
		matching int
		def      string
	}{
		{"externalId", Direct, "objectId", ApplyAlways, TypeString, 2, ""},
		{"userName", Expression, "ToLower([userPrincipalName])", ApplyAlways, TypeString, 1, ""},
		{"active", Direct, "IsSoftDeleted", ApplyAlways, TypeBoolean, 0, ""},
		{"displayName", Direct, "displayName", ApplyAlways, TypeString, 0, "Unknown"},
		{"title", None, "", ApplyAlways, TypeString, 0, "Employee"},
		{"preferredLanguage", Constant, "en-US", ApplyOnCreate, TypeString, 0, ""},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", Direct, "employeeId", ApplyOnCreate, TypeInteger, 0, ""},
		{`emails[type eq "work"].value`, Expression, "Coalesce([mail],\n         [userPrincipalName])", ApplyAlways, TypeString, 0, ""},
	}
	if len(u.Attributes) != len(want) {
		t.Fatalf("%d user attributes, want %d", len(u.Attributes), len(want))
	}
	for i, w := range want {
		a := u.Attributes[i]
		src := a.Source
		switch a.Type {
		case Constant:
			src = a.Constant
		case Expression:
			src = a.Expression.Source()
		}
		def := ""
		if a.Default != nil {
			def = *a.Default
		}
		if a.Target != w.target || a.Type != w.typ || src != w.source || a.Apply != w.apply || a.TargetType != w.tt || a.Matching != w.matching || def != w.def {
			t.Errorf("attribute %d = {%s %s %q %s %s %d %q}, want %+v", i, a.Target, a.Type, src, a.Apply, a.TargetType, a.Matching, def, w)
		}
		if a.Line == 0 {
			t.Errorf("attribute %d has no line", i)
		}
	}
	if ms := u.MatchingAttributes(); len(ms) != 2 || ms[0].Target != "userName" || ms[1].Target != "externalId" {
		t.Errorf("matching attributes not in precedence order: %v", ms)
	}
	g := m.Groups
	if g.Enabled || g.Actions != (Actions{}) || len(g.Attributes) != 2 || !g.Attributes[1].IsMembers() || g.Attributes[1].TargetType != TypeReference {
		t.Errorf("groups = %+v", g)
	}
	if m.File != filepath.Join("testdata", "every-field.yaml") {
		t.Errorf("File = %q", m.File)
	}
}

// TestKindLeftOutKeepsDefault: a file that maps only groups keeps MI's
// user mapping.
func TestKindLeftOutKeepsDefault(t *testing.T) {
	m := mustParse(t, "groups:\n  enabled: false\n  attributes:\n    - {target: displayName, source: displayName, matching: 1}\n")
	if len(m.Users.Attributes) != len(Default().Users.Attributes) || m.Users.Attributes[2].Expression.Source() != defaultActiveExpression {
		t.Errorf("users: not the default mapping: %+v", m.Users.Attributes)
	}
	if m.Groups.Enabled {
		t.Error("groups.enabled false not read")
	}
}

// TestMalformed: every kind of mistake is an error naming the line and
// the key, and what is wrong.
func TestMalformed(t *testing.T) {
	const users = "users:\n  attributes:\n"
	const match = "    - {target: userName, source: userPrincipalName, matching: 1}\n"
	tests := []struct {
		name, src string
		line      int
		path, msg string
	}{
		{"empty", "", 1, "", "the mapping file is empty"},
		{"comments only", "# nothing\n", 1, "", "the mapping file is empty"},
		{"not a mapping", "- a\n- b\n", 1, "$", "want a mapping of keys, got a list"},
		{"bad yaml", "users: [\n", 1, "", "not valid YAML"},
		{"two documents", "users: {}\n---\ngroups: {}\n", 0, "", "want one YAML document, found 2"},
		{"alias", "a: &x 1\nusers: *x\n", 2, "", "aliases"},
		{"not utf-8", "users:\n  attributes: \xff\n", 2, "", "not UTF-8 text"},
		{"nothing mapped", "format: miscim-mapping/1\n", 1, "$", "the file maps nothing"},
		{"unknown top key", "user:\n  attributes: []\n", 2, "$.user", `unknown key "user"`},
		{"wrong format", "format: miscim-mapping/2\nusers: {attributes: []}\n", 1, "$.format", `unknown format "miscim-mapping/2"`},
		{"skip not a boolean", "skipOutOfScopeDeletions: 'yes'\n", 1, "$.skipOutOfScopeDeletions", "want true or false, got a string"},
		{"users enabled", "users:\n  enabled: false\n  attributes: []\n", 2, "$.users.enabled", `unknown key "enabled"`},
		{"no attributes", "users:\n  actions: [create]\n", 2, "$.users.attributes", "users: has no attributes:"},
		{"attributes not a list", users + "    target: userName\n", 3, "$.users.attributes", "want a list, got a mapping"},
		{"bad action", "users:\n  actions: [create, remove]\n  attributes:\n" + match, 2, "$.users.actions[1]", `unknown action "remove"`},
		{"action twice", "users:\n  actions: [create, Create]\n  attributes:\n" + match, 2, "$.users.actions[1]", "listed twice"},
		{"no matching", users + "    - {target: userName, source: userPrincipalName}\n", 3, "$.users.attributes", "no attribute of users: is a matching attribute"},
		{"no target", users + match + "    - {source: mail}\n", 4, "$.users.attributes[1].target", "the mapping has no target:"},
		{"bad target", users + match + "    - {target: 'emails[type eq', source: mail}\n", 4, "$.users.attributes[1].target", "is not a SCIM attribute path"},
		{"id target", users + match + "    - {target: id, source: objectId}\n", 4, "$.users.attributes[1].target", "id is the target's own key"},
		{"value filter not by type", users + match + "    - {target: 'emails[type eq \"work\" or primary eq true].value', source: mail}\n", 4, "$.users.attributes[1].target", "attr[type eq"},
		{"value filter without sub-attribute", users + match + "    - {target: 'emails[type eq \"work\"]', source: mail}\n", 4, "$.users.attributes[1].target", "attr[type eq"},
		{"target twice", users + match + "    - {target: UserName, source: mail}\n", 4, "$.users.attributes[1].target", "UserName is mapped twice"},
		{"no source", users + match + "    - {target: displayName}\n", 4, "$.users.attributes[1]", "has no source"},
		{"two sources", users + match + "    - {target: displayName, source: displayName, constant: x}\n", 4, "$.users.attributes[1].constant", "source: and constant: are both given"},
		{"unknown mapping type", users + match + "    - {target: displayName, mappingType: Copy, source: x}\n", 4, "$.users.attributes[1].mappingType", `unknown mapping type "Copy"`},
		{"mapping type contradicts", users + match + "    - {target: displayName, mappingType: Expression, source: x}\n", 4, "$.users.attributes[1].mappingType", "a Expression mapping needs expression:"},
		{"None with a source", users + match + "    - {target: displayName, mappingType: None, source: x}\n", 4, "$.users.attributes[1].mappingType", "a None mapping has no source:"},
		{"bracketed source", users + match + "    - {target: displayName, source: '[displayName]'}\n", 4, "$.users.attributes[1].source", "is not a source attribute name"},
		{"source not a string", users + match + "    - {target: displayName, source: [a]}\n", 4, "$.users.attributes[1].source", "want a string, got a list"},
		{"default of a constant", users + match + "    - {target: title, constant: x, default: y}\n", 4, "$.users.attributes[1].default", "a constant is never null"},
		{"bad apply", users + match + "    - {target: title, source: jobTitle, apply: sometimes}\n", 4, "$.users.attributes[1].apply", `unknown apply "sometimes"`},
		{"bad target type", users + match + "    - {target: title, source: jobTitle, targetType: Text}\n", 4, "$.users.attributes[1].targetType", `unknown target type "Text"`},
		{"matching zero", users + "    - {target: userName, source: userPrincipalName, matching: 0}\n", 3, "$.users.attributes[0].matching", "want a matching precedence of 1 or more"},
		{"matching text", users + "    - {target: userName, source: userPrincipalName, matching: first}\n", 3, "$.users.attributes[0].matching", "want a matching precedence"},
		{"matching twice", users + match + "    - {target: externalId, source: objectId, matching: 1}\n", 4, "$.users.attributes[1].matching", "matching precedence 1 is also userName's"},
		{"matching None", users + match + "    - {target: title, mappingType: None, matching: 2}\n", 4, "$.users.attributes[1].matching", "a None mapping has no value to match with"},
		{"members of users", users + match + "    - {target: members, source: members}\n", 4, "$.users.attributes[1].target", "members is an attribute of groups"},
		{"members by expression", "groups:\n  attributes:\n    - {target: displayName, source: displayName, matching: 1}\n    - {target: members, expression: '[members]'}\n", 4, "$.groups.attributes[1]", "members can only be mapped directly"},
		{"members elsewhere", "groups:\n  attributes:\n    - {target: displayName, source: displayName, matching: 1}\n    - {target: description, source: members}\n", 4, "$.groups.attributes[1].source", "can only flow to members"},
		{"unknown attribute key", users + "    - {target: userName, source: userPrincipalName, matching: 1, Matching: 1}\n", 3, "$.users.attributes[0].Matching", `unknown key "Matching"`},
		{"duplicate key", users + "    - target: userName\n      target: mail\n", 4, "", `the key "target" is given twice`},
		{"filter without clauses", "users:\n  scopingFilters:\n    - title: x\n  attributes:\n" + match, 3, "$.users.scopingFilters[0].clauses", "a scoping filter needs clauses"},
		{"filters not a list", "users:\n  scopingFilters: {a: b}\n  attributes:\n" + match, 2, "$.users.scopingFilters", "want a list of scoping filters"},
		{"unknown operator", "users:\n  scopingFilters:\n    - clauses:\n        - {attribute: department, operator: STARTS_WITH, value: S}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].operator", `unknown operator "STARTS_WITH"`},
		{"operator without value", "users:\n  scopingFilters:\n    - clauses:\n        - {attribute: department, operator: EQUALS}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].value", "EQUALS needs a value:"},
		{"IS NULL with value", "users:\n  scopingFilters:\n    - clauses:\n        - {attribute: department, operator: IS NULL, value: x}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].value", "IS NULL compares with no value"},
		{"greater than text", "users:\n  scopingFilters:\n    - clauses:\n        - {attribute: employeeId, operator: Greater_Than, value: abc}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].value", "compares integers only"},
		{"bad regex", "users:\n  scopingFilters:\n    - clauses:\n        - {attribute: mail, operator: REGEX MATCH, value: '(a'}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].value", "not a valid regular expression"},
		{"multi-valued scoping", "users:\n  scopingFilters:\n    - clauses:\n        - {attribute: otherMails, operator: IS NOT NULL}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].attribute", "otherMails is multi-valued"},
		{"date scoping", "users:\n  scopingFilters:\n    - clauses:\n        - {attribute: employeeHireDate, operator: IS NOT NULL}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].attribute", "looks like a date"},
		{"userType scoping", "users:\n  scopingFilters:\n    - clauses:\n        - {attribute: userType, operator: EQUALS, value: Member}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].attribute", "userType is not supported"},
		{"clause without attribute", "users:\n  scopingFilters:\n    - clauses:\n        - {operator: IS NULL}\n  attributes:\n" + match, 4, "$.users.scopingFilters[0].clauses[0].attribute", "the clause has no attribute:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("mapping.yaml", []byte(tt.src))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("got %v (%T), want a *LoadError", err, err)
			}
			if le.File != "mapping.yaml" || le.Line != tt.line || le.Path != tt.path || !strings.Contains(le.Msg, tt.msg) {
				t.Errorf("got %q (line %d, path %q), want line %d, path %q, message containing %q", le.Error(), le.Line, le.Path, tt.line, tt.path, tt.msg)
			}
			if !strings.HasPrefix(le.Error(), "mapping.yaml") {
				t.Errorf("the error does not name the file: %q", le.Error())
			}
		})
	}
}

// TestExpressionErrorsArePositioned: an expression that does not parse is
// an error at its line, with the expression and the character for the
// caret.
func TestExpressionErrorsArePositioned(t *testing.T) {
	src := "users:\n  attributes:\n    - {target: userName, source: userPrincipalName, matching: 1}\n" +
		"    - target: active\n      expression: 'Switch([IsSoftDeleted], , \"False\", \"1\", \"True\" \"0\")'\n"
	_, err := Parse("m.yaml", []byte(src))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("got %v", err)
	}
	if le.Line != 5 || le.Path != "$.users.attributes[1].expression" || le.Expr == "" {
		t.Fatalf("got %+v", le)
	}
	caret := expr.Caret(le.Expr, le.Pos)
	if want := "                                               ^"; !strings.HasSuffix(caret, want) {
		t.Errorf("caret under the wrong character:\n%s", caret)
	}
	var pe *expr.ParseError
	if !errors.As(err, &pe) {
		t.Error("the *expr.ParseError is not in the chain")
	}
	for _, bad := range []string{`switch([a], , "x", "y")`, `IIF([a]="b", "c")`, `Left([a], 1`} {
		_, err := Parse("m.yaml", []byte("users:\n  attributes:\n    - {target: userName, expression: '"+bad+"', matching: 1}\n"))
		if !errors.As(err, &le) || le.Expr != bad || le.Line != 3 {
			t.Errorf("%s: got %v", bad, err)
		}
	}
}

// TestExpressionWarnings: documented pitfalls are kept as warnings.
func TestExpressionWarnings(t *testing.T) {
	m := mustParse(t, "users:\n  attributes:\n    - {target: userName, source: userPrincipalName, matching: 1}\n"+
		"    - {target: title, expression: 'Switch(IsPresent([jobTitle]), \"x\", \"True\", [jobTitle])'}\n")
	ws := m.Warnings()
	if len(ws) != 1 || ws[0].Line != 4 || ws[0].Path != "$.users.attributes[1].expression" {
		t.Fatalf("warnings = %+v", ws)
	}
	if len(Default().Warnings()) != 0 {
		t.Error("the default mapping has warnings")
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ path, msg string }{
		{filepath.Join(dir, "missing.yaml"), "no such file"},
		{dir, "is a directory"},
	} {
		_, err := Load(c.path)
		var le *LoadError
		if !errors.As(err, &le) || le.File != c.path || !strings.Contains(le.Msg, c.msg) {
			t.Errorf("Load(%s) = %v, want %q naming the file", c.path, err, c.msg)
		}
	}
}

// equalMappings compares two mappings by what they mean: lines, files
// and parsed forms aside.
func equalMappings(t *testing.T, a, b *Mapping) {
	t.Helper()
	if a.SkipOutOfScopeDeletions != b.SkipOutOfScopeDeletions {
		t.Errorf("skipOutOfScopeDeletions %v vs %v", a.SkipOutOfScopeDeletions, b.SkipOutOfScopeDeletions)
	}
	for _, k := range []ObjectKind{Users, Groups} {
		x, y := a.Object(k), b.Object(k)
		if x.Enabled != y.Enabled || x.Actions != y.Actions || len(x.Scoping) != len(y.Scoping) || len(x.Attributes) != len(y.Attributes) {
			t.Fatalf("%s: %+v vs %+v", k, x, y)
		}
		for i := range x.Scoping {
			fx, fy := x.Scoping[i], y.Scoping[i]
			if fx.Title != fy.Title || len(fx.Clauses) != len(fy.Clauses) {
				t.Fatalf("%s filter %d: %+v vs %+v", k, i, fx, fy)
			}
			for j := range fx.Clauses {
				cx, cy := fx.Clauses[j], fy.Clauses[j]
				if cx.Attribute != cy.Attribute || cx.Operator != cy.Operator || cx.Value != cy.Value {
					t.Errorf("%s filter %d clause %d: %+v vs %+v", k, i, j, cx, cy)
				}
			}
		}
		for i := range x.Attributes {
			ax, ay := *x.Attributes[i], *y.Attributes[i]
			if (ax.Expression == nil) != (ay.Expression == nil) || ax.Expression != nil && ax.Expression.Source() != ay.Expression.Source() {
				t.Errorf("%s attribute %d: expression %v vs %v", k, i, ax.Expression, ay.Expression)
			}
			if (ax.Default == nil) != (ay.Default == nil) || ax.Default != nil && *ax.Default != *ay.Default {
				t.Errorf("%s attribute %d: default %v vs %v", k, i, ax.Default, ay.Default)
			}
			ax.Expression, ay.Expression, ax.Default, ay.Default, ax.Line, ay.Line = nil, nil, nil, nil, 0, 0
			if !reflect.DeepEqual(ax, ay) {
				t.Errorf("%s attribute %d: %+v vs %+v", k, i, ax, ay)
			}
		}
	}
}

// TestYAMLRoundTrips: what YAML writes, Parse reads back to the same
// mapping: the default, and a file with every field.
func TestYAMLRoundTrips(t *testing.T) {
	every, err := Load(filepath.Join("testdata", "every-field.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	odd := mustParse(t, "users:\n  scopingFilters:\n    - title: \"it's: \\\"quoted\\\"\\n\"\n      clauses:\n        - {attribute: x, operator: EQUALS, value: 'true'}\n        - {attribute: y, operator: NOT EQUALS, value: ''}\n"+
		"        - {attribute: z, operator: '!&', value: ' padded '}\n  attributes:\n    - {target: userName, source: userPrincipalName, matching: 1}\n"+
		"    - {target: title, constant: \"tab\\there\"}\n    - {target: nickName, source: mailNickname, default: '007'}\n")
	for name, m := range map[string]*Mapping{"default": Default(), "every-field": every, "odd strings": odd} {
		t.Run(name, func(t *testing.T) {
			out := m.YAML()
			back, err := Parse("show.yaml", out)
			if err != nil {
				t.Fatalf("the YAML does not read back: %v\n%s", err, out)
			}
			equalMappings(t, m, back)
			if again := back.YAML(); string(again[strings.IndexByte(string(again), '\n'):]) != string(out[strings.IndexByte(string(out), '\n'):]) {
				t.Errorf("writing it again differs:\n%s\n---\n%s", out, again)
			}
		})
	}
}

// TestExampleFiles: the mapping files docs/ ships parse.
func TestExampleFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "docs", "examples", "mapping", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no example mappings in docs/examples/mapping")
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%v", err)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "examples", "mapping", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(Default().YAML()) {
		t.Error("docs/examples/mapping/default.yaml is not `miscim mapping show -o yaml`: regenerate it with go run ./cmd/miscim mapping show -o yaml > docs/examples/mapping/default.yaml")
	}
}
