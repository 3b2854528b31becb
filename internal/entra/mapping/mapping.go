package mapping

import (
	"strings"

	"github.com/dlclark/regexp2"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/scim"
)

// FileFormat is the value of a mapping file's optional format key.
const FileFormat = "miscim-mapping/1"

// ObjectKind is the kind of object an object mapping provisions.
type ObjectKind string

// The two object mappings of a SCIM app.
const (
	Users  ObjectKind = "users"
	Groups ObjectKind = "groups"
)

// Singular is "user" or "group", for messages.
func (k ObjectKind) Singular() string { return strings.TrimSuffix(string(k), "s") }

// MappingType is how a target attribute gets its value (MAP, "Understanding
// attribute-mapping types").
type MappingType string

const (
	// Direct copies a source attribute.
	Direct MappingType = "Direct"
	// Constant sends a fixed string.
	Constant MappingType = "Constant"
	// Expression evaluates an expression (docs/expr.md).
	Expression MappingType = "Expression"
	// None leaves the target attribute as it is; when it is empty, the
	// default value fills it.
	None MappingType = "None"
)

var mappingTypes = []MappingType{Direct, Constant, Expression, None}

// Apply is "Apply this mapping" (Graph's flowType).
type Apply string

const (
	// ApplyAlways applies the mapping on create and on update.
	ApplyAlways Apply = "Always"
	// ApplyOnCreate applies it only when the object is created ("Only
	// during object creation"; Graph's ObjectAddOnly).
	ApplyOnCreate Apply = "OnlyDuringCreation"
)

// TargetType is the type the target attribute is declared with in the
// app's attribute list (MAP, "Editing the list of supported attributes").
// It decides how a value is serialised: the expression language only has
// strings.
type TargetType string

const (
	TypeString    TargetType = "String"
	TypeBoolean   TargetType = "Boolean"
	TypeInteger   TargetType = "Integer"
	TypeDateTime  TargetType = "DateTime"
	TypeReference TargetType = "Reference"
	TypeBinary    TargetType = "Binary"
)

var targetTypes = []TargetType{TypeString, TypeBoolean, TypeInteger, TypeDateTime, TypeReference, TypeBinary}

// Computed source attributes: values the provisioning engine derives, not
// stored on the object.
const (
	// AttrIsSoftDeleted is "True" when the user is unassigned, fails the
	// scoping filters, is soft-deleted or is disabled (entra-behavior §5.4).
	AttrIsSoftDeleted = "IsSoftDeleted"
	// AttrOriginalUPN is the UPN with #EXT# kept; userPrincipalName has it
	// stripped for guests (HOW, "B2B (guest) users").
	AttrOriginalUPN = "originalUserPrincipalName"
	// AttrMembers is a group's members, the source of the members mapping.
	AttrMembers = "members"
)

// Attribute is one attribute mapping: a target SCIM attribute and where
// its value comes from.
type Attribute struct {
	// Target is the SCIM attribute path (RFC 7644 §3.5.2): userName,
	// name.givenName, emails[type eq "work"].value, an extension's
	// urn:…:User:attr.
	Target string
	Type   MappingType
	// Source is the source attribute of a Direct mapping, by its Entra
	// name (case-sensitive).
	Source string
	// Constant is the value of a Constant mapping.
	Constant string
	// Expression is the parsed expression of an Expression mapping.
	Expression *expr.Expr
	// Default is "default value if null": sent on create when the source
	// is null (and, for None, when the target is empty). nil: none.
	Default *string
	Apply   Apply
	// TargetType is the declared type of the target attribute.
	TargetType TargetType
	// Matching is the matching precedence (1 first); 0 when the attribute
	// is not used to match objects.
	Matching int
	// Line is the line of the mapping in its file; 0 for the default.
	Line int

	path scim.AttrPath
}

// IsMembers reports whether the attribute is a group's members, which
// Entra provisions by reference after the group exists, not as a value.
func (a *Attribute) IsMembers() bool { return strings.EqualFold(a.Target, AttrMembers) }

// SourceText describes the source for people: [mail], the expression, the
// quoted constant, or "(none)".
func (a *Attribute) SourceText() string {
	switch a.Type {
	case Direct:
		return "[" + a.Source + "]"
	case Constant:
		return expr.Str(a.Constant).String()
	case Expression:
		return a.Expression.Source()
	}
	return "(none)"
}

// Operator is a scoping-filter clause's operator, spelled as the portal
// lists it (SCOPE, "Create a scoping filter").
type Operator string

const (
	OpContainedIn     Operator = "&"  // the attribute's value occurs in the clause's value
	OpNotContainedIn  Operator = "!&" // it does not
	OpEndsWith        Operator = "ENDS_WITH"
	OpEquals          Operator = "EQUALS"
	OpGreaterThan     Operator = "Greater_Than"
	OpGreaterOrEquals Operator = "Greater_Than_OR_EQUALS"
	OpIncludes        Operator = "Includes" // the attribute's value contains the clause's value
	OpIsFalse         Operator = "IS FALSE"
	OpIsNotNull       Operator = "IS NOT NULL"
	OpIsNull          Operator = "IS NULL"
	OpIsTrue          Operator = "IS TRUE"
	OpNotEquals       Operator = "NOT EQUALS"
	OpNotRegexMatch   Operator = "NOT REGEX MATCH"
	OpRegexMatch      Operator = "REGEX MATCH"
)

// Operators lists every operator, in the portal's order.
var Operators = []Operator{OpContainedIn, OpNotContainedIn, OpEndsWith, OpEquals, OpGreaterThan, OpGreaterOrEquals,
	OpIncludes, OpIsFalse, OpIsNotNull, OpIsNull, OpIsTrue, OpNotEquals, OpNotRegexMatch, OpRegexMatch}

// takesValue reports whether the operator compares with a value.
func (o Operator) takesValue() bool {
	switch o {
	case OpIsFalse, OpIsNotNull, OpIsNull, OpIsTrue:
		return false
	}
	return true
}

// Clause is one condition of a scoping filter.
type Clause struct {
	Attribute string // the source attribute, by its Entra name
	Operator  Operator
	Value     string // the "Attribute Value"; "" for the IS … operators
	Line      int

	re  *regexp2.Regexp // REGEX MATCH, NOT REGEX MATCH
	num int64           // Greater_Than, Greater_Than_OR_EQUALS
}

// Filter is one scoping filter: its clauses are AND-ed; an object mapping's
// filters are OR-ed.
type Filter struct {
	Title   string
	Clauses []Clause
	Line    int
}

// Actions are the target object actions (the Create, Update and Delete
// check boxes).
type Actions struct {
	Create, Update, Delete bool
}

// ObjectMapping is the mapping of one object kind: "Provision Microsoft
// Entra ID Users" or "… Groups".
type ObjectMapping struct {
	Kind ObjectKind
	// Enabled is false when group provisioning is turned off; the user
	// mapping cannot be turned off in Entra (MAP: "disabling users isn't
	// supported").
	Enabled bool
	Actions Actions
	// Scoping is the "Source object scope": no filters means every object
	// passes.
	Scoping    []Filter
	Attributes []*Attribute
	// Line is where the object mapping starts in its file.
	Line int
}

// MatchingAttributes returns the matching attributes in precedence order.
func (om *ObjectMapping) MatchingAttributes() []*Attribute {
	var out []*Attribute
	for _, a := range om.Attributes {
		if a.Matching > 0 {
			out = append(out, a)
		}
	}
	sortByMatching(out)
	return out
}

func sortByMatching(as []*Attribute) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].Matching < as[j-1].Matching; j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}

// Attribute returns the mapping of a target path, compared
// case-insensitively as SCIM attribute names are (RFC 7643 §2.1).
func (om *ObjectMapping) Attribute(target string) (*Attribute, bool) {
	key := canonicalTarget(target)
	for _, a := range om.Attributes {
		if canonicalTarget(a.Target) == key {
			return a, true
		}
	}
	return nil, false
}

// Mapping is an app's provisioning configuration: the user and group
// mappings and the job settings that shape what Entra sends.
type Mapping struct {
	// File is the mapping file, "" for Metric Insights' default.
	File   string
	Users  ObjectMapping
	Groups ObjectMapping
	// SkipOutOfScopeDeletions is the job secret of that name: users that
	// leave scope are not disabled (SKIP).
	SkipOutOfScopeDeletions bool

	warnings []Warning
}

// Object returns the mapping of one kind.
func (m *Mapping) Object(k ObjectKind) *ObjectMapping {
	if k == Groups {
		return &m.Groups
	}
	return &m.Users
}

// Warning is a remark on a valid mapping: an expression pitfall Entra
// documents, with where it is.
type Warning struct {
	Line    int
	Path    string
	Message string
}

// Warnings are the documented pitfalls the mapping's expressions contain.
func (m *Mapping) Warnings() []Warning { return append([]Warning(nil), m.warnings...) }

// Name is how messages name the mapping: its file, or "Metric Insights'
// default mapping".
func (m *Mapping) Name() string {
	if m.File == "" {
		return "Metric Insights' default mapping"
	}
	return m.File
}

// defaultActiveExpression is MI's documented active mapping (metric-
// insights.md §A.1): "1" for an active user, "0" otherwise.
const defaultActiveExpression = `Switch([IsSoftDeleted], , "False", "1", "True", "0")`

// Default returns Metric Insights' documented mapping: revision R1 of
// "Syncing Users and Groups with SCIM via Microsoft Entra" (metric-
// insights.md §A.1) with the group mapping's members ← members, Entra's
// own default for a SCIM app, without which no membership is provisioned.
// R2's optional miUserType ← extensionAttribute1 is in docs/mapping.md.
func Default() *Mapping {
	all := Actions{Create: true, Update: true, Delete: true}
	direct := func(target, source string, matching int) *Attribute {
		return &Attribute{Target: target, Type: Direct, Source: source, Apply: ApplyAlways, TargetType: defaultTargetType(target), Matching: matching}
	}
	m := &Mapping{
		Users: ObjectMapping{Kind: Users, Enabled: true, Actions: all, Attributes: []*Attribute{
			direct("externalId", "objectId", 0),
			direct("userName", "userPrincipalName", 1),
			{Target: "active", Type: Expression, Expression: expr.MustParse(defaultActiveExpression), Apply: ApplyAlways, TargetType: TypeBoolean},
			direct("name.givenName", "givenName", 0),
			direct("name.familyName", "surname", 0),
			direct(`emails[type eq "work"].value`, "mail", 0),
		}},
		Groups: ObjectMapping{Kind: Groups, Enabled: true, Actions: all, Attributes: []*Attribute{
			direct("externalId", "objectId", 0),
			direct("displayName", "displayName", 1),
			direct("description", "description", 0),
			direct("members", "members", 0),
		}},
	}
	for _, om := range []*ObjectMapping{&m.Users, &m.Groups} {
		for _, a := range om.Attributes {
			a.path, _ = scim.ParsePath(a.Target)
		}
	}
	return m
}

// defaultTargetType is the type Metric Insights' attribute list gives a
// target: active is Boolean, members a Reference, the rest String.
func defaultTargetType(target string) TargetType {
	switch strings.ToLower(target) {
	case "active":
		return TypeBoolean
	case AttrMembers:
		return TypeReference
	}
	return TypeString
}

// canonicalTarget is a target path compared the way SCIM compares
// attribute names: case-insensitively, spacing normalised.
func canonicalTarget(s string) string {
	p, err := scim.ParsePath(s)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	return strings.ToLower(pathString(p))
}

// pathString renders a parsed path back to its canonical text.
func pathString(p scim.AttrPath) string {
	var b strings.Builder
	if p.URI != "" {
		b.WriteString(p.URI + ":")
	}
	b.WriteString(p.Name)
	if p.ValueFilter != nil {
		b.WriteString("[" + p.ValueFilter.String() + "]")
	}
	if p.SubAttr != "" {
		b.WriteString("." + p.SubAttr)
	}
	return b.String()
}
