package mapping

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/yamltree"
)

// LoadError is a mapping file miscim cannot use: it names the file, the
// line and the key, says what is wrong and, in Hint, how to fix it. For an
// expression, Expr and Pos locate the character (expr.Caret renders it).
type LoadError struct {
	File string
	Line int    // 0 when unknown
	Path string // the key, e.g. $.users.attributes[2].expression
	Msg  string
	Hint string
	// Expr is the expression that does not parse and Pos the byte offset
	// of the character at fault; "" for other errors.
	Expr string
	Pos  int
	Err  error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// Keys of the mapping file (docs/mapping.schema.json; a test keeps the two
// in step).
var (
	fileKeys      = []string{"$schema", "format", "skipOutOfScopeDeletions", "users", "groups"}
	userKeys      = []string{"actions", "scopingFilters", "attributes"}
	groupKeys     = []string{"enabled", "actions", "scopingFilters", "attributes"}
	attributeKeys = []string{"target", "mappingType", "source", "constant", "expression", "default", "apply", "targetType", "matching"}
	filterKeys    = []string{"title", "clauses"}
	clauseKeys    = []string{"attribute", "operator", "value"}
	actionNames   = []string{"create", "update", "delete"}
)

// maxFileSize bounds what Load reads: a mapping is a few kilobytes.
const maxFileSize = 4 << 20

// Load reads a mapping file (YAML, or JSON, which is YAML too). Errors are
// *LoadError.
func Load(path string) (*Mapping, error) {
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		return nil, &LoadError{File: path, Msg: "is a directory", Hint: "give the mapping file, e.g. --mapping mapping.yaml"}
	}
	if err == nil && fi.Size() > maxFileSize {
		return nil, &LoadError{File: path, Msg: fmt.Sprintf("the file is %d bytes; a mapping file is at most %d", fi.Size(), maxFileSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		switch {
		case errors.Is(err, fs.ErrNotExist):
			msg = "no such file"
		case errors.Is(err, fs.ErrPermission):
			msg = "permission denied"
		}
		return nil, &LoadError{File: path, Msg: "cannot read the mapping: " + msg, Err: err}
	}
	return Parse(path, data)
}

// Parse reads a mapping file held in memory; name is how errors name it.
func Parse(name string, data []byte) (*Mapping, error) {
	root, err := parseYAML(data, name)
	if err != nil {
		return nil, err
	}
	l := &loader{file: name}
	m, err := l.top(root)
	if err != nil {
		return nil, err
	}
	m.File = name
	m.warnings = l.warnings
	return m, nil
}

type loader struct {
	file     string
	warnings []Warning
}

func (l *loader) errAt(n *yamltree.Node, path, hint, format string, args ...any) *LoadError {
	return &LoadError{File: l.file, Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

func (l *loader) want(n *yamltree.Node, path, what string) *LoadError {
	return l.errAt(n, path, "", "want %s, got %s", what, n.Describe())
}

func (l *loader) checkKeys(n *yamltree.Node, path string, allowed []string, what, hint string) error {
	for i, k := range n.Keys {
		if slices.Contains(allowed, k) {
			continue
		}
		h := fmt.Sprintf("%s has the keys %s", what, strings.Join(allowed, ", "))
		for _, a := range allowed {
			if strings.EqualFold(a, k) {
				h = fmt.Sprintf("keys are case-sensitive: write %s", a)
			}
		}
		if hint != "" {
			h = hint
		}
		return l.errAt(&n.Vals[i], path+"."+k, h, "unknown key %q", k)
	}
	return nil
}

func (l *loader) mapping(n *yamltree.Node, path string) error {
	if n.Kind != yamltree.Map {
		return l.want(n, path, "a mapping of keys")
	}
	return nil
}

// str reads a string: a YAML scalar's text (an unquoted 42 is "42").
func (l *loader) str(n *yamltree.Node, path string) (string, error) {
	switch n.Kind {
	case yamltree.String, yamltree.Number, yamltree.Bool:
		return n.Text, nil
	}
	return "", l.want(n, path, "a string")
}

func (l *loader) boolean(n *yamltree.Node, path string) (bool, error) {
	if n.Kind != yamltree.Bool {
		return false, l.errAt(n, path, "write true or false, unquoted", "want true or false, got %s", n.Describe())
	}
	return n.True, nil
}

func (l *loader) top(root *yamltree.Node) (*Mapping, error) {
	if err := l.mapping(root, "$"); err != nil {
		return nil, err
	}
	if err := l.checkKeys(root, "$", fileKeys, "a mapping file", ""); err != nil {
		return nil, err
	}
	def := Default()
	m := &Mapping{Users: def.Users, Groups: def.Groups}
	seen := map[string]bool{}
	for i, k := range root.Keys {
		v := &root.Vals[i]
		p := "$." + k
		seen[k] = true
		switch k {
		case "$schema":
			if _, err := l.str(v, p); err != nil {
				return nil, err
			}
		case "format":
			s, err := l.str(v, p)
			if err != nil {
				return nil, err
			}
			if s != FileFormat {
				return nil, l.errAt(v, p, "leave format out, or write format: "+FileFormat, "unknown format %q", s)
			}
		case "skipOutOfScopeDeletions":
			b, err := l.boolean(v, p)
			if err != nil {
				return nil, err
			}
			m.SkipOutOfScopeDeletions = b
		case "users":
			om, err := l.object(v, p, Users)
			if err != nil {
				return nil, err
			}
			m.Users = *om
		case "groups":
			om, err := l.object(v, p, Groups)
			if err != nil {
				return nil, err
			}
			m.Groups = *om
		}
	}
	if !seen["users"] && !seen["groups"] && !seen["skipOutOfScopeDeletions"] {
		return nil, l.errAt(root, "$", "write users: and groups: sections (docs/mapping.md)", "the file maps nothing: no users, groups or skipOutOfScopeDeletions")
	}
	return m, nil
}

// object reads users: or groups:.
func (l *loader) object(n *yamltree.Node, path string, kind ObjectKind) (*ObjectMapping, error) {
	if err := l.mapping(n, path); err != nil {
		return nil, err
	}
	keys := userKeys
	hint := ""
	if kind == Groups {
		keys = groupKeys
	} else if _, ok := n.Get("enabled"); ok {
		hint = "Entra cannot turn the user mapping off (only group provisioning has enabled:); to provision nobody, use a scoping filter"
	}
	if err := l.checkKeys(n, path, keys, "an object mapping", hint); err != nil {
		return nil, err
	}
	om := &ObjectMapping{Kind: kind, Enabled: true, Actions: Actions{Create: true, Update: true, Delete: true}, Line: n.Line}
	attrs, ok := n.Get("attributes")
	if !ok {
		return nil, l.errAt(n, path+".attributes", "list the attribute mappings (docs/mapping.md), or leave "+string(kind)+": out for Metric Insights' default",
			"%s: has no attributes:", kind)
	}
	for i, k := range n.Keys {
		v := &n.Vals[i]
		p := path + "." + k
		switch k {
		case "enabled":
			b, err := l.boolean(v, p)
			if err != nil {
				return nil, err
			}
			om.Enabled = b
		case "actions":
			a, err := l.actions(v, p)
			if err != nil {
				return nil, err
			}
			om.Actions = a
		case "scopingFilters":
			fs, err := l.filters(v, p, kind)
			if err != nil {
				return nil, err
			}
			om.Scoping = fs
		}
	}
	if err := l.attributes(attrs, path+".attributes", om); err != nil {
		return nil, err
	}
	return om, nil
}

func (l *loader) actions(n *yamltree.Node, path string) (Actions, error) {
	var a Actions
	if n.Kind == yamltree.Null {
		return a, nil
	}
	if n.Kind != yamltree.List {
		return a, l.errAt(n, path, "write a list: actions: [create, update, delete]", "want a list of actions, got %s", n.Describe())
	}
	seen := map[string]bool{}
	for i := range n.Items {
		it := &n.Items[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		s, err := l.str(it, p)
		if err != nil {
			return a, err
		}
		name := strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(actionNames, name) {
			return a, l.errAt(it, p, "the target object actions are create, update and delete", "unknown action %q", s)
		}
		if seen[name] {
			return a, l.errAt(it, p, "", "the action %s is listed twice", name)
		}
		seen[name] = true
		switch name {
		case "create":
			a.Create = true
		case "update":
			a.Update = true
		default:
			a.Delete = true
		}
	}
	return a, nil
}

func (l *loader) attributes(n *yamltree.Node, path string, om *ObjectMapping) error {
	if n.Kind != yamltree.List && n.Kind != yamltree.Null {
		return l.errAt(n, path, "write a list of mappings, each with target: and source:, expression: or constant:", "want a list, got %s", n.Describe())
	}
	targets := map[string]int{}
	precedence := map[int]string{}
	for i := range n.Items {
		p := fmt.Sprintf("%s[%d]", path, i)
		a, err := l.attribute(&n.Items[i], p, om.Kind)
		if err != nil {
			return err
		}
		key := canonicalTarget(a.Target)
		if j, dup := targets[key]; dup {
			return l.errAt(&n.Items[i], p+".target", "map each target attribute once", "%s is mapped twice (first at %s[%d])", a.Target, path, j)
		}
		targets[key] = i
		if a.Matching > 0 {
			if other, dup := precedence[a.Matching]; dup {
				return l.errAt(&n.Items[i], p+".matching", "give each matching attribute its own precedence: 1, 2, …",
					"matching precedence %d is also %s's", a.Matching, other)
			}
			precedence[a.Matching] = a.Target
		}
		om.Attributes = append(om.Attributes, a)
	}
	if om.Enabled && len(precedence) == 0 {
		want := "userName"
		if om.Kind == Groups {
			want = "displayName"
		}
		return l.errAt(n, path, fmt.Sprintf("mark the attribute Entra matches on, e.g. matching: 1 on %s", want),
			"no attribute of %s: is a matching attribute: Entra cannot find existing %s in the target", om.Kind, om.Kind)
	}
	return nil
}

// attribute reads one attribute mapping.
func (l *loader) attribute(n *yamltree.Node, path string, kind ObjectKind) (*Attribute, error) {
	if err := l.mapping(n, path); err != nil {
		return nil, err
	}
	if err := l.checkKeys(n, path, attributeKeys, "an attribute mapping", ""); err != nil {
		return nil, err
	}
	a := &Attribute{Apply: ApplyAlways, Line: n.Line}
	tn, ok := n.Get("target")
	if !ok {
		return nil, l.errAt(n, path+".target", "e.g. target: userName", "the mapping has no target:")
	}
	target, err := l.str(tn, path+".target")
	if err != nil {
		return nil, err
	}
	if err := l.target(a, target, tn, path+".target", kind); err != nil {
		return nil, err
	}
	given := map[string]*yamltree.Node{}
	for i, k := range n.Keys {
		given[k] = &n.Vals[i]
	}
	// The mapping type: stated, or told from the one source key given.
	var sources []string
	for _, k := range []string{"source", "constant", "expression"} {
		if _, ok := given[k]; ok {
			sources = append(sources, k)
		}
	}
	if len(sources) > 1 {
		return nil, l.errAt(given[sources[1]], path+"."+sources[1], "a mapping has one of source:, constant: and expression:",
			"%s: and %s: are both given", sources[0], sources[1])
	}
	inferred := None
	if len(sources) == 1 {
		inferred = map[string]MappingType{"source": Direct, "constant": Constant, "expression": Expression}[sources[0]]
	}
	a.Type = inferred
	if tnode, ok := given["mappingType"]; ok {
		s, err := l.str(tnode, path+".mappingType")
		if err != nil {
			return nil, err
		}
		mt, ok := parseMappingType(s)
		if !ok {
			return nil, l.errAt(tnode, path+".mappingType", "use Direct, Constant, Expression or None", "unknown mapping type %q", s)
		}
		want := map[MappingType]string{Direct: "source:", Constant: "constant:", Expression: "expression:"}[mt]
		switch {
		case mt == None && len(sources) == 1:
			return nil, l.errAt(tnode, path+".mappingType", "remove "+sources[0]+": or the mapping type", "a None mapping has no %s:", sources[0])
		case mt != None && mt != inferred:
			return nil, l.errAt(tnode, path+".mappingType", "", "a %s mapping needs %s", mt, want)
		}
		a.Type = mt
	}
	if a.Type == None {
		if _, ok := given["mappingType"]; !ok {
			return nil, l.errAt(n, path, "give source: (Direct), expression:, constant:, or mappingType: None",
				"the mapping of %s has no source", a.Target)
		}
	}
	switch a.Type {
	case Direct:
		s, err := l.str(given["source"], path+".source")
		if err != nil {
			return nil, err
		}
		if s == "" || strings.ContainsAny(s, "[]") || strings.TrimSpace(s) != s {
			return nil, l.errAt(given["source"], path+".source", "write the attribute name alone, e.g. source: mail",
				"%q is not a source attribute name", s)
		}
		a.Source = s
	case Constant:
		s, err := l.str(given["constant"], path+".constant")
		if err != nil {
			return nil, err
		}
		a.Constant = s
	case Expression:
		en := given["expression"]
		s, err := l.str(en, path+".expression")
		if err != nil {
			return nil, err
		}
		e, err := expr.Parse(s)
		if err != nil {
			le := &LoadError{File: l.file, Line: en.Line, Path: path + ".expression", Msg: err.Error(), Expr: s, Err: err}
			var pe *expr.ParseError
			if errors.As(err, &pe) {
				le.Pos, le.Hint = pe.Pos, pe.Hint
			}
			return nil, le
		}
		a.Expression = e
		for _, d := range e.Warnings() {
			l.warnings = append(l.warnings, Warning{Line: en.Line, Path: path + ".expression", Message: d.Msg})
		}
	}
	if dn, ok := given["default"]; ok && dn.Kind != yamltree.Null {
		if a.Type == Constant {
			return nil, l.errAt(dn, path+".default", "remove default:", "a constant is never null, so a default value never applies")
		}
		s, err := l.str(dn, path+".default")
		if err != nil {
			return nil, err
		}
		a.Default = &s
	}
	if an, ok := given["apply"]; ok {
		s, err := l.str(an, path+".apply")
		if err != nil {
			return nil, err
		}
		ap, ok := parseApply(s)
		if !ok {
			return nil, l.errAt(an, path+".apply", "use Always, or OnlyDuringCreation (Graph's ObjectAddOnly)", "unknown apply %q", s)
		}
		a.Apply = ap
	}
	a.TargetType = defaultTargetType(a.Target)
	if tt, ok := given["targetType"]; ok {
		s, err := l.str(tt, path+".targetType")
		if err != nil {
			return nil, err
		}
		t, ok := parseTargetType(s)
		if !ok {
			return nil, l.errAt(tt, path+".targetType", "use String, Boolean, Integer, DateTime, Reference or Binary", "unknown target type %q", s)
		}
		a.TargetType = t
	}
	if mn, ok := given["matching"]; ok && mn.Kind != yamltree.Null {
		p, err := strconv.Atoi(mn.Text)
		if mn.Kind != yamltree.Number || err != nil || p < 1 {
			return nil, l.errAt(mn, path+".matching", "write the matching precedence, a whole number from 1 (tried first)",
				"want a matching precedence of 1 or more, got %s", strconv.Quote(mn.Text))
		}
		if a.Type == None {
			return nil, l.errAt(mn, path+".matching", "", "a None mapping has no value to match with")
		}
		a.Matching = p
	}
	return a, l.checkMembers(a, n, path, kind)
}

// target checks a target path: a SCIM attribute path Entra can write.
func (l *loader) target(a *Attribute, target string, n *yamltree.Node, path string, kind ObjectKind) error {
	p, err := scim.ParsePath(target)
	if err != nil {
		msg := err.Error()
		var se *scim.Error
		if errors.As(err, &se) {
			msg = se.Detail
		}
		return l.errAt(n, path, `write a SCIM attribute path: userName, name.givenName, emails[type eq "work"].value`, "%q is not a SCIM attribute path: %s", target, msg)
	}
	if strings.EqualFold(p.Name, "id") && p.URI == "" {
		return l.errAt(n, path, "map objectId to externalId instead", "id is the target's own key: Entra never writes it (MAP: the primary key must not be a target attribute)")
	}
	if p.ValueFilter != nil {
		ce, ok := p.ValueFilter.(*scim.CompareExpr)
		if !ok || ce.Op != scim.OpEq || ce.Path.SubAttr != "" || ce.Path.ValueFilter != nil || p.SubAttr == "" {
			return l.errAt(n, path, `address a multi-valued attribute by type: emails[type eq "work"].value`,
				"%s: Entra writes multi-valued attributes as attr[type eq \"…\"].subAttribute", target)
		}
		if _, isStr := ce.Value.(string); !isStr {
			return l.errAt(n, path, `quote the value: emails[type eq "work"].value`, "%s: the filter's value must be a string", target)
		}
	}
	a.Target = strings.TrimSpace(target)
	a.path = p
	return nil
}

// checkMembers enforces what Entra allows for a group's members: a Direct
// mapping of the group's members to members, nothing else.
func (l *loader) checkMembers(a *Attribute, n *yamltree.Node, path string, kind ObjectKind) error {
	if a.IsMembers() {
		if kind == Users {
			return l.errAt(n, path+".target", "map members in the groups: section", "members is an attribute of groups")
		}
		if a.Type != Direct || a.Source != AttrMembers || a.Default != nil || a.Matching > 0 || a.Apply != ApplyAlways {
			return l.errAt(n, path, "write target: members with source: members and nothing else",
				"members can only be mapped directly from the group's members")
		}
		if a.TargetType != TypeReference {
			return l.errAt(n, path+".targetType", "leave targetType out for members", "members is a Reference attribute, not %s", a.TargetType)
		}
		return nil
	}
	if a.Type == Direct && a.Source == AttrMembers {
		return l.errAt(n, path+".source", "map members to target: members", "a group's members can only flow to members")
	}
	return nil
}

// filters reads scopingFilters: a list of filters, each a title and
// clauses.
func (l *loader) filters(n *yamltree.Node, path string, kind ObjectKind) ([]Filter, error) {
	if n.Kind == yamltree.Null {
		return nil, nil
	}
	if n.Kind != yamltree.List {
		return nil, l.errAt(n, path, "write a list of filters, each with clauses:", "want a list of scoping filters, got %s", n.Describe())
	}
	var out []Filter
	for i := range n.Items {
		fn := &n.Items[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		if err := l.mapping(fn, p); err != nil {
			return nil, err
		}
		if err := l.checkKeys(fn, p, filterKeys, "a scoping filter", ""); err != nil {
			return nil, err
		}
		f := Filter{Line: fn.Line}
		if tn, ok := fn.Get("title"); ok && tn.Kind != yamltree.Null {
			s, err := l.str(tn, p+".title")
			if err != nil {
				return nil, err
			}
			f.Title = s
		}
		cn, ok := fn.Get("clauses")
		if !ok || cn.Kind == yamltree.Null || (cn.Kind == yamltree.List && len(cn.Items) == 0) {
			return nil, l.errAt(fn, p+".clauses", "give at least one clause: {attribute: department, operator: EQUALS, value: Sales}",
				"a scoping filter needs clauses")
		}
		if cn.Kind != yamltree.List {
			return nil, l.want(cn, p+".clauses", "a list of clauses")
		}
		for j := range cn.Items {
			c, err := l.clause(&cn.Items[j], fmt.Sprintf("%s.clauses[%d]", p, j), kind)
			if err != nil {
				return nil, err
			}
			f.Clauses = append(f.Clauses, c)
		}
		out = append(out, f)
	}
	return out, nil
}

// unsupportedScoping are the source attributes Entra does not support in
// scoping filters (SCOPE; KNOWN "Unsupported scoping filters"), with why.
var unsupportedScoping = map[string]string{
	"appRoleAssignments": "appRoleAssignments is not supported in scoping filters",
	"userType":           "userType is not supported in scoping filters (KNOWN)",
	"manager":            "manager is not supported in scoping filters (KNOWN)",
	"members":            "a group's members attribute is not supported in scoping filters",
	"IsMemberOf":         "the IsMemberOf filter is not supported",
	AttrIsSoftDeleted:    "IsSoftDeleted is computed from scope; it cannot decide scope",
	"otherMails":         "otherMails is multi-valued: scoping filters do not support multi-valued attributes",
	"proxyAddresses":     "proxyAddresses is multi-valued: scoping filters do not support multi-valued attributes",
	"groupTypes":         "groupTypes is multi-valued: scoping filters do not support multi-valued attributes",
	"businessPhones":     "businessPhones is multi-valued: scoping filters do not support multi-valued attributes",
	"accountExpires":     "accountExpires is a date: date attributes are not supported in scoping filters (KNOWN)",
}

// regexTimeout bounds one scoping-filter regular expression match.
const regexTimeout = 2 * time.Second

func (l *loader) clause(n *yamltree.Node, path string, kind ObjectKind) (Clause, error) {
	var c Clause
	if err := l.mapping(n, path); err != nil {
		return c, err
	}
	if err := l.checkKeys(n, path, clauseKeys, "a clause", ""); err != nil {
		return c, err
	}
	c.Line = n.Line
	an, ok := n.Get("attribute")
	if !ok {
		return c, l.errAt(n, path+".attribute", "e.g. attribute: department", "the clause has no attribute:")
	}
	s, err := l.str(an, path+".attribute")
	if err != nil {
		return c, err
	}
	if s == "" || strings.ContainsAny(s, "[]") || strings.TrimSpace(s) != s {
		return c, l.errAt(an, path+".attribute", "write the attribute name alone, e.g. attribute: department", "%q is not a source attribute name", s)
	}
	if why, bad := unsupportedScoping[s]; bad {
		return c, l.errAt(an, path+".attribute", "scope on another attribute, or by assignment", "%s", why)
	}
	lower := strings.ToLower(s)
	if strings.HasSuffix(lower, "date") || strings.HasSuffix(lower, "datetime") {
		return c, l.errAt(an, path+".attribute", "scope on another attribute", "%s looks like a date: date attributes are not supported in scoping filters (KNOWN)", s)
	}
	c.Attribute = s
	on, ok := n.Get("operator")
	if !ok {
		return c, l.errAt(n, path+".operator", "e.g. operator: EQUALS", "the clause has no operator:")
	}
	os, err := l.str(on, path+".operator")
	if err != nil {
		return c, err
	}
	op, ok := parseOperator(os)
	if !ok {
		names := make([]string, len(Operators))
		for i, o := range Operators {
			names[i] = string(o)
		}
		return c, l.errAt(on, path+".operator", "use one of "+strings.Join(names, ", "), "unknown operator %q", os)
	}
	c.Operator = op
	vn, hasValue := n.Get("value")
	if hasValue && vn.Kind == yamltree.Null {
		hasValue = false
	}
	switch {
	case !op.takesValue() && hasValue:
		return c, l.errAt(vn, path+".value", "remove value:", "%s compares with no value", op)
	case op.takesValue() && !hasValue:
		return c, l.errAt(n, path+".value", "give the value to compare with: value: …", "%s needs a value:", op)
	}
	if hasValue {
		if c.Value, err = l.str(vn, path+".value"); err != nil {
			return c, err
		}
	}
	switch op {
	case OpGreaterThan, OpGreaterOrEquals:
		v, err := strconv.ParseInt(strings.TrimSpace(c.Value), 10, 64)
		if err != nil {
			return c, l.errAt(vn, path+".value", "write a whole number, e.g. value: 1000000", "%s compares integers only: %q is not one (SCOPE)", op, c.Value)
		}
		c.num = v
	case OpRegexMatch, OpNotRegexMatch:
		re, err := regexp2.Compile(`\A(?:`+c.Value+`)\z`, regexp2.None)
		if err == nil {
			_, err = regexp2.Compile(c.Value, regexp2.None) // the pattern alone must be valid too
		}
		if err != nil {
			return c, l.errAt(vn, path+".value", "write a .NET regular expression, e.g. .*@contoso\\.com", "not a valid regular expression: %v", err)
		}
		re.MatchTimeout = regexTimeout
		c.re = re
	}
	return c, nil
}

func parseMappingType(s string) (MappingType, bool) {
	for _, t := range mappingTypes {
		if strings.EqualFold(strings.TrimSpace(s), string(t)) {
			return t, true
		}
	}
	return "", false
}

func parseApply(s string) (Apply, bool) {
	switch strings.ToLower(strings.Join(strings.Fields(s), "")) {
	case "always":
		return ApplyAlways, true
	case "onlyduringcreation", "onlyduringobjectcreation", "objectaddonly":
		return ApplyOnCreate, true
	}
	return "", false
}

func parseTargetType(s string) (TargetType, bool) {
	for _, t := range targetTypes {
		if strings.EqualFold(strings.TrimSpace(s), string(t)) {
			return t, true
		}
	}
	return "", false
}

// parseOperator reads an operator as the portal or Graph spells it: any
// case, words separated by spaces or underscores (IS_NOT_NULL, Ends With).
func parseOperator(s string) (Operator, bool) {
	norm := func(x string) string {
		return strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(x, "_", " ")), " "))
	}
	key := norm(s)
	for _, o := range Operators {
		if norm(string(o)) == key {
			return o, true
		}
	}
	return "", false
}
