// Package tenantcheck owns `miscim tenant check`'s findings: what Metric
// Insights will reject or Entra will trip on, per object, before any
// request is sent. It maps every object as simulate would
// (internal/entra/mapping) and checks the result against Metric Insights'
// rules (DESIGN §3.1: an email is required, userName at most 100
// characters and unique case-insensitively, group names unique, active a
// boolean it accepts) and Entra's (a matching value for every object,
// expressions that evaluate, members in scope, complete exports). The
// codes are stable; docs/tenant.md lists them.
package tenantcheck

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/scim"
)

// MaxUserNameLength is Metric Insights' limit on a username, in characters
// (DESIGN §3.1; the engine enforces the same, engine.MaxUserNameLength).
const MaxUserNameLength = 100

// Severity ranks a finding.
type Severity uint8

const (
	// Info is worth knowing; nothing fails because of it.
	Info Severity = iota
	// Warning: provisioning goes on, but not as the tenant suggests (a
	// member left out, an export that may be incomplete).
	Warning
	// Error: Metric Insights will reject the object, or Entra will fail it.
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "info"
}

// Finding codes (docs/tenant.md, "tenant check").
const (
	CodeNoEmail              = "no-email"
	CodeUserNameMissing      = "username-missing"
	CodeUserNameTooLong      = "username-too-long"
	CodeDuplicateUserName    = "duplicate-username"
	CodeGroupNameMissing     = "group-name-missing"
	CodeDuplicateGroupName   = "duplicate-group-name"
	CodeMatchingValueEmpty   = "matching-value-empty"
	CodeDuplicateMatching    = "duplicate-matching-value"
	CodeExpressionFailed     = "expression-failed"
	CodeActiveNotBoolean     = "active-not-boolean"
	CodeActiveNull           = "active-null"
	CodeActiveNotFalse       = "active-not-false"
	CodeTombstoneTooLong     = "tombstone-username-too-long"
	CodeMembersNotInScope    = "members-not-in-scope"
	CodeNestedGroups         = "nested-groups"
	CodeNotSecurityEnabled   = "group-not-security-enabled"
	CodeAccountEnabledAbsent = "account-enabled-unknown"
	CodeNoEmailMapping       = "no-email-mapping"
	CodeNoUserNameMapping    = "no-username-mapping"
	CodeNoGroupNameMapping   = "no-group-name-mapping"
	CodeActiveNotMapped      = "active-not-mapped"
	CodeDisableNeedsUpdate   = "disable-needs-update"
	CodeAttributeNeverSet    = "attribute-never-present"
	CodeExpressionPitfall    = "expression-pitfall"
)

// Checks lists the codes of every check tenant check makes, in the order
// docs/tenant.md gives them (the loader's finding codes come on top).
var Checks = []string{
	CodeNoUserNameMapping, CodeNoEmailMapping, CodeNoGroupNameMapping, CodeActiveNotMapped, CodeDisableNeedsUpdate,
	CodeExpressionPitfall, CodeAttributeNeverSet,
	CodeNoEmail, CodeUserNameMissing, CodeUserNameTooLong, CodeDuplicateUserName, CodeGroupNameMissing, CodeDuplicateGroupName,
	CodeMatchingValueEmpty, CodeDuplicateMatching, CodeExpressionFailed, CodeActiveNotBoolean, CodeActiveNull, CodeActiveNotFalse,
	CodeTombstoneTooLong, CodeMembersNotInScope, CodeNestedGroups, CodeNotSecurityEnabled, CodeAccountEnabledAbsent,
}

// Finding is one problem with one object (or with the mapping, or the
// export as a whole).
type Finding struct {
	Severity Severity
	Code     string
	// Object is what the finding is about: a user, a group, the mapping,
	// the tenant or a file.
	Object tenant.ObjectRef
	// Attribute is the target SCIM attribute (or source attribute)
	// concerned, "" when none.
	Attribute string
	Problem   string
	Fix       string
	// Source is where the object or setting was read (file:line: path).
	Source string
}

// Report is the outcome of a check.
type Report struct {
	Tenant  string
	Format  tenant.Format
	Mapping string
	Scope   mapping.ScopeMode
	// Users and Groups count the tenant's objects; the InScope counts
	// those Entra would provision.
	Users, Groups, UsersInScope, GroupsInScope int
	Findings                                   []Finding
}

// Count is the number of findings of one severity.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Check maps every object of the Mapper's tenant and reports what would
// fail. Findings are ordered by severity, then object, then code.
func Check(mp *mapping.Mapper) *Report {
	t, m := mp.Tenant(), mp.Mapping()
	c := &checker{mp: mp, m: m, r: &Report{Tenant: t.Path(), Format: t.Format(), Mapping: m.Name(), Scope: mp.Mode(),
		Users: t.UserCount(), Groups: t.GroupCount()}}
	c.tenantFindings(t)
	c.mappingFindings()
	c.users()
	c.groups()
	slices.SortStableFunc(c.r.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(kindOrder(a.Object.Kind), kindOrder(b.Object.Kind)),
			cmp.Compare(strings.ToLower(a.Object.Name), strings.ToLower(b.Object.Name)), cmp.Compare(a.Object.ID, b.Object.ID),
			cmp.Compare(a.Code, b.Code), cmp.Compare(a.Attribute, b.Attribute))
	})
	return c.r
}

func kindOrder(k string) int {
	switch k {
	case "mapping":
		return 0
	case "tenant", "file":
		return 1
	case "user":
		return 2
	case "group":
		return 3
	}
	return 4
}

type checker struct {
	mp *mapping.Mapper
	m  *mapping.Mapping
	r  *Report
}

func (c *checker) add(f Finding) { c.r.Findings = append(c.r.Findings, f) }

func userRef(d *mapping.Desired) tenant.ObjectRef {
	return tenant.ObjectRef{Kind: "user", ID: d.ObjectID, Name: d.Name}
}

func groupRef(d *mapping.Desired) tenant.ObjectRef {
	return tenant.ObjectRef{Kind: "group", ID: d.ObjectID, Name: d.Name}
}

func (c *checker) mappingRef() tenant.ObjectRef {
	return tenant.ObjectRef{Kind: "mapping", Name: c.m.Name()}
}

func (c *checker) mappingSource(line int, path string) string {
	return tenant.Source{File: c.m.File, Line: line, Path: path}.String()
}

// tenantFindings passes on what the loader noticed.
func (c *checker) tenantFindings(t *tenant.Tenant) {
	for _, f := range t.Findings() {
		sev := Info
		if f.Severity == tenant.SeverityWarning {
			sev = Warning
		}
		c.add(Finding{Severity: sev, Code: f.Code, Object: f.Object, Problem: f.Message, Fix: f.Fix, Source: f.Source.String()})
	}
}

// hasTarget reports whether the object mapping writes an attribute whose
// path starts with name (emails covers emails[type eq "work"].value).
func hasTarget(om *mapping.ObjectMapping, name string) *mapping.Attribute {
	for _, a := range om.Attributes {
		t := strings.ToLower(a.Target)
		if t == name || strings.HasPrefix(t, name+"[") || strings.HasPrefix(t, name+".") {
			return a
		}
	}
	return nil
}

// mappingFindings are the problems of the mapping itself.
func (c *checker) mappingFindings() {
	for _, w := range c.m.Warnings() {
		c.add(Finding{Severity: Warning, Code: CodeExpressionPitfall, Object: c.mappingRef(), Attribute: w.Path,
			Problem: w.Message, Fix: "see the function's caution in docs/expr.md", Source: c.mappingSource(w.Line, w.Path)})
	}
	users := &c.m.Users
	if hasTarget(users, "username") == nil {
		c.add(Finding{Severity: Error, Code: CodeNoUserNameMapping, Object: c.mappingRef(), Attribute: "userName",
			Problem: "nothing is mapped to userName: Metric Insights requires it", Fix: "map userPrincipalName to userName", Source: c.mappingSource(users.Line, "$.users")})
	}
	if hasTarget(users, "emails") == nil {
		c.add(Finding{Severity: Error, Code: CodeNoEmailMapping, Object: c.mappingRef(), Attribute: "emails",
			Problem: "nothing is mapped to emails: Metric Insights requires an email, so every user is rejected",
			Fix:     `map mail to emails[type eq "work"].value`, Source: c.mappingSource(users.Line, "$.users")})
	}
	active := hasTarget(users, "active")
	switch {
	case active == nil:
		c.add(Finding{Severity: Warning, Code: CodeActiveNotMapped, Object: c.mappingRef(), Attribute: "active",
			Problem: "nothing is mapped to active: users who are unassigned, disabled or deleted in Entra are never disabled in Metric Insights (HOW)",
			Fix:     `map Switch([IsSoftDeleted], , "False", "1", "True", "0") to active`, Source: c.mappingSource(users.Line, "$.users")})
	case !users.Actions.Update:
		c.add(Finding{Severity: Warning, Code: CodeDisableNeedsUpdate, Object: c.mappingRef(), Attribute: "active",
			Problem: "the Update action is off: Entra disables a user by an update, so no user is ever disabled",
			Fix:     "add update to users' actions", Source: c.mappingSource(users.Line, "$.users.actions")})
	}
	if groups := &c.m.Groups; groups.Enabled && hasTarget(groups, "displayname") == nil {
		c.add(Finding{Severity: Error, Code: CodeNoGroupNameMapping, Object: c.mappingRef(), Attribute: "displayName",
			Problem: "nothing is mapped to a group's displayName: Metric Insights requires a name", Fix: "map displayName to displayName", Source: c.mappingSource(groups.Line, "$.groups")})
	}
}

// seen records the first object with each case-folded value, per
// attribute, to find duplicates.
type seen map[string]map[string]*mapping.Desired

func (s seen) check(attr, value string, d *mapping.Desired) (*mapping.Desired, bool) {
	byValue := s[attr]
	if byValue == nil {
		byValue = map[string]*mapping.Desired{}
		s[attr] = byValue
	}
	key := strings.ToLower(value)
	if first, dup := byValue[key]; dup {
		return first, true
	}
	byValue[key] = d
	return nil, false
}

func single(v expr.Value) (string, bool) {
	s, ok := v.Single()
	return s, ok && s != ""
}

func (c *checker) users() {
	om := &c.m.Users
	dups := seen{}
	present := map[string]bool{} // source attributes some in-scope user has
	unknownEnabled := 0
	for u := range c.mp.Tenant().Users() {
		d := c.mp.User(u)
		if !d.Scope.InScope {
			c.outOfScopeUser(d)
			continue
		}
		c.r.UsersInScope++
		if d.Scope.AccountEnabled == tenant.Unknown {
			unknownEnabled++
		}
		src := u.Source().String()
		ref := userRef(d)
		c.common(d, ref, src, dups, present)
		if un, ok := d.Value("userName"); ok {
			if s, ok := single(un.Value()); ok && utf8.RuneCountInString(s) > MaxUserNameLength {
				c.add(Finding{Severity: Error, Code: CodeUserNameTooLong, Object: ref, Attribute: "userName", Source: src,
					Problem: fmt.Sprintf("userName is %d characters long: Metric Insights allows at most %d and rejects the user", utf8.RuneCountInString(s), MaxUserNameLength),
					Fix:     "shorten the UPN, or map a shorter value to userName (an expression such as Left or a mail alias)"})
			}
		}
		c.activeInScope(d, ref, src)
		if hasTarget(om, "emails") != nil && !flowsUnder(d, "emails") {
			c.add(Finding{Severity: Error, Code: CodeNoEmail, Object: ref, Attribute: "emails", Source: src,
				Problem: "no email flows: Metric Insights requires one and rejects the user" + emailWhy(d),
				Fix:     "give the user a mail in Entra, or map Coalesce([mail], [userPrincipalName]) to the email"})
		}
	}
	if unknownEnabled > 0 && c.mp.Tenant().Contents().AccountEnabled {
		c.add(Finding{Severity: Info, Code: CodeAccountEnabledAbsent, Object: tenant.ObjectRef{Kind: "tenant"},
			Problem: fmt.Sprintf("%d %s in scope no accountEnabled in the export: read as enabled", unknownEnabled, plural(unknownEnabled, "user has", "users have")),
			Fix:     "export accountEnabled for every user ($select=…,accountEnabled)", Source: c.mp.Tenant().Path()})
	}
	c.neverPresent(om, present, c.r.UsersInScope)
}

// emailWhy adds what the email mapping said, when it says something.
func emailWhy(d *mapping.Desired) string {
	for i := range d.Values {
		v := &d.Values[i]
		if t := strings.ToLower(v.Target()); strings.HasPrefix(t, "emails") {
			if e := v.Explanation(); e != "" {
				return " (" + v.Target() + ": " + e + ")"
			}
		}
	}
	return ""
}

// flowsUnder reports whether a value flows to a path under name.
func flowsUnder(d *mapping.Desired, name string) bool {
	for i := range d.Values {
		v := &d.Values[i]
		t := strings.ToLower(v.Target())
		if (t == name || strings.HasPrefix(t, name+"[") || strings.HasPrefix(t, name+".")) && v.OnCreate() {
			if s, ok := single(v.Value()); ok && s != "" || v.Value().Kind() == expr.KindMulti {
				return true
			}
		}
	}
	return false
}

// activeInScope: an in-scope user's active must be a boolean MI accepts
// (DESIGN §3.1: true/false, "True"/"False" in any case, "1"/"0", 1/0).
func (c *checker) activeInScope(d *mapping.Desired, ref tenant.ObjectRef, src string) {
	a, ok := d.Value("active")
	if !ok || a.Err != nil {
		return
	}
	if a.Flow == mapping.FlowNone {
		c.add(Finding{Severity: Warning, Code: CodeActiveNull, Object: ref, Attribute: "active", Source: src,
			Problem: "active does not flow (" + a.Explanation() + "): Entra cannot disable the user later",
			Fix:     `check the keys of the Switch: they compare case-sensitively with "True"/"False"`})
		return
	}
	if _, ok := scim.ParseBool(a.JSON()); !ok {
		c.add(Finding{Severity: Error, Code: CodeActiveNotBoolean, Object: ref, Attribute: "active", Source: src,
			Problem: fmt.Sprintf("active is %s: Metric Insights accepts true/false, \"True\"/\"False\", \"1\"/\"0\" or 1/0 and rejects the user", a.Value()),
			Fix:     `map Switch([IsSoftDeleted], , "False", "1", "True", "0") to active`})
	}
}

// outOfScopeUser checks what Entra sends for an assigned user it would
// disable (if Metric Insights has it).
func (c *checker) outOfScopeUser(d *mapping.Desired) {
	if !d.Scope.Assigned {
		return
	}
	ref, src := userRef(d), d.User.Source().String()
	if a, ok := d.Value("active"); ok && a.Err == nil && a.Flow != mapping.FlowNone {
		if b, ok := scim.ParseBool(a.JSON()); !ok || b {
			c.add(Finding{Severity: Warning, Code: CodeActiveNotFalse, Object: ref, Attribute: "active", Source: src,
				Problem: fmt.Sprintf("the user is %s, but active maps to %s: Entra's disable would not disable the user", strings.TrimPrefix(d.Scope.String(), "out of scope: "), a.Value()),
				Fix:     "map active from IsSoftDeleted, which is True in every case Entra disables"})
		}
	}
	if d.Scope.SoftDeleted {
		if un, ok := d.Value("userName"); ok {
			if s, ok := single(un.Value()); ok && utf8.RuneCountInString(s) > MaxUserNameLength {
				c.add(Finding{Severity: Warning, Code: CodeTombstoneTooLong, Object: ref, Attribute: "userName", Source: src,
					Problem: fmt.Sprintf("soft-deleted: Entra renames the user to its tombstone UPN (%d characters) with the disable, and Metric Insights rejects more than %d", utf8.RuneCountInString(s), MaxUserNameLength),
					Fix:     "restore or permanently delete the user in Entra, or shorten the UPN"})
			}
		}
	}
}

// common are the checks of every object in scope: expressions, matching
// values, names unique.
func (c *checker) common(d *mapping.Desired, ref tenant.ObjectRef, src string, dups seen, present map[string]bool) {
	for i := range d.Values {
		v := &d.Values[i]
		a := v.Attribute
		if v.Err != nil {
			msg, hint := v.Err.Error(), "test it with miscim expr --tenant … --user …"
			var ee *expr.EvalError
			if errors.As(v.Err, &ee) {
				msg = ee.Msg
				if ee.Hint != "" {
					hint = ee.Hint
				}
			}
			c.add(Finding{Severity: Error, Code: CodeExpressionFailed, Object: ref, Attribute: a.Target, Source: src,
				Problem: fmt.Sprintf("the expression of %s fails: %s: Entra fails the %s's export", a.Target, msg, d.Kind.Singular()), Fix: hint})
		}
		switch a.Type {
		case mapping.Direct:
			if !v.Source.IsNull() {
				present[a.Source] = true
			}
		case mapping.Expression:
			if !v.Source.IsNull() || v.Err != nil {
				for _, name := range a.Expression.Attributes() {
					present[name] = true
				}
			}
		}
	}
	name, nameCode := "userName", CodeDuplicateUserName
	if d.Kind == mapping.Groups {
		name, nameCode = "displayName", CodeDuplicateGroupName
	}
	if v, ok := d.Value(name); ok {
		s, has := single(v.Value())
		switch {
		case !has && v.Err == nil:
			code, what := CodeUserNameMissing, "userName"
			if d.Kind == mapping.Groups {
				code, what = CodeGroupNameMissing, "displayName"
			}
			c.add(Finding{Severity: Error, Code: code, Object: ref, Attribute: name, Source: src,
				Problem: fmt.Sprintf("no %s flows (%s): Metric Insights requires one and rejects the %s", what, v.Explanation(), d.Kind.Singular()),
				Fix:     "give the object the source attribute, or a default value in the mapping"})
		case has:
			if first, dup := dups.check("name", s, d); dup {
				c.add(Finding{Severity: Error, Code: nameCode, Object: ref, Attribute: name, Source: src,
					Problem: fmt.Sprintf("%s %q equals that of %s %s when compared case-insensitively: Metric Insights keeps it unique and rejects the second (409)", name, s, d.Kind.Singular(), describe(first)),
					Fix:     "make the names differ in Entra, or leave one out of scope"})
			}
		}
	}
	ms := d.Matching()
	anyPresent := false
	for _, mt := range ms {
		if !mt.Present {
			continue
		}
		anyPresent = true
		if strings.EqualFold(mt.Attribute.Target, name) {
			continue // reported as a duplicate name above
		}
		if first, dup := dups.check(strings.ToLower(mt.Attribute.Target), mt.Value, d); dup {
			c.add(Finding{Severity: Error, Code: CodeDuplicateMatching, Object: ref, Attribute: mt.Attribute.Target, Source: src,
				Problem: fmt.Sprintf("matching attribute %s is %q, as for %s %s: Entra matches both to one object (or fails with DuplicateTargetEntries)", mt.Attribute.Target, mt.Value, d.Kind.Singular(), describe(first)),
				Fix:     "make the values unique, or match on another attribute"})
		}
	}
	if len(ms) > 0 && !anyPresent {
		targets := make([]string, len(ms))
		for i, mt := range ms {
			targets[i] = mt.Attribute.Target
		}
		c.add(Finding{Severity: Error, Code: CodeMatchingValueEmpty, Object: ref, Attribute: ms[0].Attribute.Target, Source: src,
			Problem: fmt.Sprintf("no matching attribute has a value (%s): Entra skips the %s (ImportSkipped)", strings.Join(targets, ", "), d.Kind.Singular()),
			Fix:     "give the object the matching attribute's source in Entra"})
	}
}

func describe(d *mapping.Desired) string {
	if d.Name != "" {
		return d.Name + " (" + d.ObjectID + ")"
	}
	return d.ObjectID
}

// neverPresent warns of mapped source attributes no object in scope has:
// a name in the wrong case, or an attribute the export did not include.
func (c *checker) neverPresent(om *mapping.ObjectMapping, present map[string]bool, inScope int) {
	if inScope == 0 {
		return
	}
	computed := map[string]bool{mapping.AttrIsSoftDeleted: true, mapping.AttrOriginalUPN: true, mapping.AttrMembers: true}
	reported := map[string]bool{}
	for _, a := range om.Attributes {
		var names []string
		switch a.Type {
		case mapping.Direct:
			names = []string{a.Source}
		case mapping.Expression:
			names = a.Expression.Attributes()
		}
		for _, n := range names {
			if present[n] || computed[n] || reported[n] {
				continue
			}
			reported[n] = true
			c.add(Finding{Severity: Warning, Code: CodeAttributeNeverSet, Object: c.mappingRef(), Attribute: a.Target,
				Problem: fmt.Sprintf("no %s in scope has [%s]: %s never gets a value from it", om.Kind.Singular(), n, a.Target),
				Fix:     "check the name (attribute names are case-sensitive) and that the export includes it ($select)", Source: c.mappingSource(a.Line, "")})
		}
	}
}

func (c *checker) groups() {
	om := &c.m.Groups
	dups := seen{}
	present := map[string]bool{}
	t := c.mp.Tenant()
	for g := range t.Groups() {
		d := c.mp.Group(g)
		src := g.Source().String()
		ref := groupRef(d)
		if t.GroupAssigned(g) {
			if v, ok := g.Attr("securityEnabled"); ok && len(v) == 1 && strings.EqualFold(v[0], "False") {
				c.add(Finding{Severity: Warning, Code: CodeNotSecurityEnabled, Object: ref, Source: src,
					Problem: "the group is assigned to the app but not security-enabled: Entra asks for securityEnabled true on assigned groups (HOW)",
					Fix:     "assign a security group, or enable security on this one"})
			}
		}
		if !d.Scope.InScope {
			continue
		}
		c.r.GroupsInScope++
		c.common(d, ref, src, dups, present)
		if !d.MembersMapped {
			continue
		}
		var out []string
		nested := 0
		for _, s := range d.SkippedMembers {
			switch {
			case s.Kind == tenant.MemberGroup:
				nested++
			case s.Kind == tenant.MemberUser && s.Causes != 0:
				name := s.ID
				if u, ok := t.UserByID(s.ID); ok {
					name = u.UserPrincipalName()
				}
				out = append(out, name+" ("+strings.Join(s.Causes.Codes(), ", ")+")")
			}
		}
		if len(out) > 0 {
			c.add(Finding{Severity: Warning, Code: CodeMembersNotInScope, Object: ref, Attribute: "members", Source: src,
				Problem: fmt.Sprintf("%d member%s out of scope, left out of the group: %s", len(out), plural(len(out), " is", "s are"), listSome(out)),
				Fix:     "assign the users (or fix their scope) to have them provisioned as members"})
		}
		if nested > 0 {
			c.add(Finding{Severity: Info, Code: CodeNestedGroups, Object: ref, Attribute: "members", Source: src,
				Problem: fmt.Sprintf("%d nested group%s: Entra provisions only the direct user members of a group, not nested groups or their members", nested, plural(nested, "", "s")),
				Fix:     "assign the nested groups themselves if their members need Metric Insights"})
		}
	}
	c.neverPresent(om, present, c.r.GroupsInScope)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func listSome(items []string) string {
	const max = 5
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:max], ", ") + fmt.Sprintf(" and %d more", len(items)-max)
}
