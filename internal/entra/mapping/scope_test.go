package mapping

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/tenant"
)

// clauseOf parses one clause the way a mapping file gives it.
func clauseOf(t *testing.T, op, value string) Clause {
	t.Helper()
	v := ""
	if value != "-" {
		v = ", value: " + yamlString(value)
	}
	m := mustParse(t, fmt.Sprintf("users:\n  scopingFilters:\n    - clauses:\n        - {attribute: a, operator: %s%s}\n  attributes:\n    - {target: userName, source: userPrincipalName, matching: 1}\n",
		yamlString(op), v))
	return m.Users.Scoping[0].Clauses[0]
}

// TestOperators: every operator of the portal, on values that pass and
// values that do not; null, empty and multi-valued attributes make every
// clause false except IS NULL (SCOPE: "Scoping filters will return false
// if the value is null / empty"; "Filtering is not supported for
// multi-valued attributes").
func TestOperators(t *testing.T) {
	null, empty, multi := expr.Null(), expr.Str(""), expr.Multi("Sales")
	tests := []struct {
		op, value string // value "-": none
		pass      []string
		fail      []string
	}{
		{"&", "Sales,Finance", []string{"Sales", "Finance", "s,F"}, []string{"Marketing", "sales", "Sales,Finance,Legal"}},
		{"!&", "Sales,Finance", []string{"Marketing", "sales"}, []string{"Sales", "Finance"}},
		{"ENDS_WITH", "@contoso.com", []string{"ann@contoso.com"}, []string{"ann@contoso.com.evil", "ann@CONTOSO.com"}},
		{"EQUALS", "Sales", []string{"Sales"}, []string{"sales", "Sales ", "Marketing"}},
		{"NOT EQUALS", "Sales", []string{"sales", "Marketing"}, []string{"Sales"}},
		{"Greater_Than", "1000", []string{"1001", "2000000", " 1001"}, []string{"1000", "999", "-5", "1000.5", "abc"}},
		{"Greater_Than_OR_EQUALS", "1000", []string{"1000", "1001"}, []string{"999", "x1000"}},
		{"Includes", "ales", []string{"Sales", "ales"}, []string{"ALES", "Sal"}},
		{"IS TRUE", "-", []string{"True", "true"}, []string{"False", "1", "yes"}},
		{"IS FALSE", "-", []string{"False", "false"}, []string{"True", "0", "no"}},
		{"IS NOT NULL", "-", []string{"x", " "}, nil},
		{"IS NULL", "-", nil, []string{"x", " "}},
		{"REGEX MATCH", `([1-9][0-9])`, []string{"10", "99"}, []string{"100", "9", "a10"}},
		{"REGEX MATCH", `.*\@domain.com`, []string{"ann@domain.com"}, []string{"ann@domain.community", "ann@DOMAIN.com"}},
		{"NOT REGEX MATCH", `.*\@domain.com`, []string{"ann@other.com", "ann@domain.community"}, []string{"ann@domain.com"}},
	}
	for _, tt := range tests {
		c := clauseOf(t, tt.op, tt.value)
		for _, v := range tt.pass {
			if !c.holds(expr.Str(v)) {
				t.Errorf("%s %q on %q: false, want true", tt.op, tt.value, v)
			}
		}
		for _, v := range tt.fail {
			if c.holds(expr.Str(v)) {
				t.Errorf("%s %q on %q: true, want false", tt.op, tt.value, v)
			}
		}
		wantEmpty := tt.op == "IS NULL"
		for name, v := range map[string]expr.Value{"null": null, "empty": empty} {
			if got := c.holds(v); got != wantEmpty {
				t.Errorf("%s on a %s value: %v, want %v", tt.op, name, got, wantEmpty)
			}
		}
		if c.holds(multi) {
			t.Errorf("%s on a multi-valued attribute: true, want false", tt.op)
		}
	}
	// Every operator is covered.
	seen := map[Operator]bool{}
	for _, tt := range tests {
		op, _ := parseOperator(tt.op)
		seen[op] = true
	}
	for _, o := range Operators {
		if !seen[o] {
			t.Errorf("operator %s is not tested", o)
		}
	}
}

// TestFiltersAreOrOfAnd: an object passes when every clause of one filter
// holds.
func TestFiltersAreOrOfAnd(t *testing.T) {
	m := mustParse(t, `users:
  scopingFilters:
    - clauses:
        - {attribute: department, operator: EQUALS, value: Sales}
        - {attribute: country, operator: EQUALS, value: US}
    - clauses:
        - {attribute: jobTitle, operator: EQUALS, value: Director}
  attributes:
    - {target: userName, source: userPrincipalName, matching: 1}
`)
	tests := []struct {
		attrs expr.Map
		index int
		ok    bool
	}{
		{expr.Map{"department": expr.Str("Sales"), "country": expr.Str("US")}, 1, true},
		{expr.Map{"department": expr.Str("Sales"), "country": expr.Str("FR")}, 0, false},
		{expr.Map{"department": expr.Str("Sales")}, 0, false},
		{expr.Map{"department": expr.Str("Legal"), "jobTitle": expr.Str("Director")}, 2, true},
		{expr.Map{"department": expr.Str("Sales"), "country": expr.Str("US"), "jobTitle": expr.Str("Director")}, 1, true},
		{expr.Map{}, 0, false},
	}
	for _, tt := range tests {
		i, ok := passes(m.Users.Scoping, tt.attrs)
		if i != tt.index || ok != tt.ok {
			t.Errorf("%v: filter %d, %v; want %d, %v", tt.attrs, i, ok, tt.index, tt.ok)
		}
	}
	if i, ok := passes(nil, expr.Map{}); i != 0 || !ok {
		t.Error("no filters must pass everything")
	}
}

// scopeTenant has one user per IsSoftDeleted cause, a user with two of
// them, users in scope through their own and a group's assignment, one
// only in a nested group, and one whose accountEnabled was not exported.
const scopeTenant = `users:
  - {objectId: u-direct, userPrincipalName: direct@contoso.com, accountEnabled: true, mail: direct@contoso.com, attributes: {department: Sales}}
  - {objectId: u-group, userPrincipalName: group@contoso.com, accountEnabled: true, attributes: {department: Sales}}
  - {objectId: u-unassigned, userPrincipalName: unassigned@contoso.com, accountEnabled: true, attributes: {department: Sales}}
  - {objectId: u-filtered, userPrincipalName: filtered@contoso.com, accountEnabled: true, attributes: {department: Legal}}
  - {objectId: u-deleted, userPrincipalName: deleted@contoso.com, accountEnabled: true, softDeleted: true, attributes: {department: Sales}}
  - {objectId: u-disabled, userPrincipalName: disabled@contoso.com, accountEnabled: false, attributes: {department: Sales}}
  - {objectId: u-two, userPrincipalName: two@contoso.com, accountEnabled: false, attributes: {department: Legal}}
  - {objectId: u-nested, userPrincipalName: nested@contoso.com, accountEnabled: true, attributes: {department: Sales}}
  - {objectId: u-unknown, userPrincipalName: unknown@contoso.com, attributes: {department: Sales}}
groups:
  - {objectId: g-assigned, displayName: Assigned, members: [u-group, u-filtered, u-disabled, u-two, u-unknown, g-child, u-deleted]}
  - {objectId: g-child, displayName: Child, members: [u-nested]}
assignments:
  - {principalId: u-direct}
  - {principalId: g-assigned}
  - {principalId: u-deleted}
`

const salesOnly = `users:
  scopingFilters:
    - clauses:
        - {attribute: department, operator: EQUALS, value: Sales}
  attributes:
    - {target: userName, source: userPrincipalName, matching: 1}
    - {target: active, expression: 'Switch([IsSoftDeleted], , "False", "1", "True", "0")'}
`

func mapperOf(t testing.TB, tenantYAML, mappingYAML string, mode ScopeMode) *Mapper {
	t.Helper()
	tn, err := tenant.Parse("tenant.yaml", []byte(tenantYAML))
	if err != nil {
		t.Fatal(err)
	}
	m := Default()
	if mappingYAML != "" {
		m = mustParse(t, mappingYAML)
	}
	mp, err := New(tn, m, Options{Scope: mode})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// TestIsSoftDeleted: the four causes of entra-behavior §5.4 each make it
// True, alone or together; assignment through a group counts, through a
// nested group does not; an unknown accountEnabled is enabled.
func TestIsSoftDeleted(t *testing.T) {
	tests := []struct {
		upn    string
		mode   ScopeMode
		causes Causes
	}{
		{"direct@contoso.com", ScopeAssigned, 0},
		{"group@contoso.com", ScopeAssigned, 0},
		{"unassigned@contoso.com", ScopeAssigned, NotAssigned},
		{"filtered@contoso.com", ScopeAssigned, FilteredOut},
		{"deleted@contoso.com", ScopeAssigned, SoftDeleted},
		{"disabled@contoso.com", ScopeAssigned, Disabled},
		{"two@contoso.com", ScopeAssigned, FilteredOut | Disabled},
		{"nested@contoso.com", ScopeAssigned, NotAssigned},
		{"unknown@contoso.com", ScopeAssigned, 0},
		{"unassigned@contoso.com", ScopeAll, 0},
		{"nested@contoso.com", ScopeAll, 0},
		{"filtered@contoso.com", ScopeAll, FilteredOut},
		{"deleted@contoso.com", ScopeAll, SoftDeleted},
	}
	for _, tt := range tests {
		mp := mapperOf(t, scopeTenant, salesOnly, tt.mode)
		u, err := mp.Tenant().FindUser(tt.upn)
		if err != nil {
			t.Fatal(err)
		}
		d := mp.User(u)
		s := d.Scope
		if s.Causes != tt.causes || s.InScope != (tt.causes == 0) || s.IsSoftDeleted() != (tt.causes != 0) {
			t.Errorf("%s (%s): causes %v (%v), in scope %v; want %v", tt.upn, tt.mode, s.Causes.Codes(), s.Causes, s.InScope, tt.causes.Codes())
		}
		if got := mp.UserScope(u); got != s {
			t.Errorf("%s: UserScope %+v differs from User's %+v", tt.upn, got, s)
		}
		// IsSoftDeleted flows as "True"/"False" into the expression.
		active, _ := d.Value("active")
		want := map[bool]string{true: "0", false: "1"}[s.IsSoftDeleted()]
		if got, _ := active.Value().Single(); got != want {
			t.Errorf("%s: active = %v, want %q", tt.upn, active.Value(), want)
		}
		if is := mp.UserAttributes(u).Attr(AttrIsSoftDeleted); !is.Equal(expr.Bool(s.IsSoftDeleted())) {
			t.Errorf("%s: UserAttributes IsSoftDeleted = %v", tt.upn, is)
		}
		wantSkip := ""
		if tt.causes != 0 {
			wantSkip = "NotEffectivelyEntitled"
		}
		if s.SkipReason() != wantSkip {
			t.Errorf("%s: skip reason %q", tt.upn, s.SkipReason())
		}
	}
	mp := mapperOf(t, scopeTenant, salesOnly, ScopeAssigned)
	u, _ := mp.Tenant().FindUser("unknown@contoso.com")
	if s := mp.UserScope(u); s.AccountEnabled != tenant.Unknown || !s.Active() || !strings.Contains(s.String(), "read as enabled") {
		t.Errorf("unknown accountEnabled: %+v %q", s, s.String())
	}
	u, _ = mp.Tenant().FindUser("two@contoso.com")
	if s := mp.UserScope(u).String(); s != "out of scope: passes no scoping filter; disabled (accountEnabled false)" {
		t.Errorf("two causes read %q", s)
	}
}

// TestGroupScopeAndMembers: a group is in scope when assigned (or with
// scope all) and its mapping is on; its desired members are its direct
// user members in scope, nested groups never expanded.
func TestGroupScopeAndMembers(t *testing.T) {
	mp := mapperOf(t, scopeTenant, salesOnly, ScopeAssigned)
	g, _ := mp.Tenant().FindGroup("Assigned")
	d := mp.Group(g)
	if !d.Scope.InScope || !d.MembersMapped {
		t.Fatalf("Assigned: %v, members mapped %v", d.Scope, d.MembersMapped)
	}
	if strings.Join(d.Members, ",") != "u-group,u-unknown" {
		t.Errorf("members = %v, want the users in scope: u-group, u-unknown", d.Members)
	}
	reasons := map[string]string{}
	for _, s := range d.SkippedMembers {
		reasons[s.ID] = s.Reason
	}
	for id, want := range map[string]string{"u-filtered": "passes no scoping filter", "u-disabled": "disabled", "u-deleted": "soft-deleted",
		"u-two": "disabled", "g-child": "nested group"} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("skipped %s: %q, want it to say %q", id, reasons[id], want)
		}
	}
	child, _ := mp.Tenant().FindGroup("Child")
	if s := mp.GroupScope(child); s.InScope || s.Causes != NotAssigned {
		t.Errorf("Child: %v", s)
	}
	all := mapperOf(t, scopeTenant, salesOnly, ScopeAll)
	if s := all.GroupScope(child); !s.InScope {
		t.Errorf("Child with scope all: %v", s)
	}
	off := mapperOf(t, scopeTenant, "groups:\n  enabled: false\n  attributes:\n    - {target: displayName, source: displayName, matching: 1}\n", ScopeAll)
	if s := off.GroupScope(g); s.InScope || s.Causes != ProvisioningOff {
		t.Errorf("group provisioning off: %v", s)
	}
	noMembers := mapperOf(t, scopeTenant, "groups:\n  attributes:\n    - {target: displayName, source: displayName, matching: 1}\n", ScopeAssigned)
	if d := noMembers.Group(g); d.MembersMapped || d.Members != nil {
		t.Errorf("without a members mapping no memberships are provisioned: %+v", d.Members)
	}
}

func TestParseScopeMode(t *testing.T) {
	for in, want := range map[string]ScopeMode{"": ScopeAssigned, "assigned": ScopeAssigned, "ALL": ScopeAll} {
		if got, err := ParseScopeMode(in); err != nil || got != want {
			t.Errorf("ParseScopeMode(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseScopeMode("some"); err == nil {
		t.Error("ParseScopeMode(some) accepted")
	}
	if _, err := New(nil, Default(), Options{Scope: "x"}); err == nil {
		t.Error("New accepted an unknown scope")
	}
}
