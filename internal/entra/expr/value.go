package expr

import (
	"strconv"
	"strings"
)

// Kind says what a Value holds.
type Kind uint8

// Value kinds. The zero Value is Null.
const (
	// KindNull is the absence of a value: an attribute the object does not
	// have, an omitted argument, a function's null result. Entra does not
	// flow null values (MAP: "null values are not provisioned").
	KindNull Kind = iota
	// KindString is one string. Numbers and booleans ("True"/"False") are
	// strings too, as in Entra.
	KindString
	// KindMulti is a multi-valued attribute (proxyAddresses, otherMails,
	// appRoleAssignments) or Split's result: one or more strings.
	KindMulti
	// KindDateTime is the DateTime of CDate, DateAdd, Now and DateFromNum.
	// It "isn't a native attribute type" (EXPR, CDate): used as a string it
	// is "M/d/yyyy h:mm:ss tt" in UTC.
	KindDateTime
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindMulti:
		return "multi-valued"
	case KindDateTime:
		return "DateTime"
	}
	return "null"
}

// Value is an expression value: null, one string, several strings, or a
// DateTime. Values are small and passed by value; the zero Value is null.
type Value struct {
	kind  Kind
	dkind dateKind
	s     string
	list  []string
	ticks int64 // KindDateTime: .NET ticks (100 ns since 0001-01-01)
}

// Null returns the null value.
func Null() Value { return Value{} }

// Str returns a single-valued string.
func Str(s string) Value { return Value{kind: KindString, s: s} }

// Multi returns a multi-valued value. No values is null. The slice is
// kept, not copied: the caller must not change it afterwards.
func Multi(values ...string) Value {
	if len(values) == 0 {
		return Value{}
	}
	return Value{kind: KindMulti, list: values}
}

// Bool returns "True" or "False", the strings Entra uses for booleans
// (POD logs show IsSoftDeleted: "False"; entra-behavior §5.2).
func Bool(b bool) Value {
	if b {
		return trueValue
	}
	return falseValue
}

var (
	trueValue  = Str("True")
	falseValue = Str("False")
)

// Kind returns what v holds.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// Single returns v as one string: the string, the DateTime rendered as
// "M/d/yyyy h:mm:ss tt", or the only value of a one-value multi-valued
// attribute. ok is false for null and for several values.
func (v Value) Single() (s string, ok bool) {
	switch v.kind {
	case KindString:
		return v.s, true
	case KindDateTime:
		return formatGeneral(v.ticks), true
	case KindMulti:
		if len(v.list) == 1 {
			return v.list[0], true
		}
	}
	return "", false
}

// Values returns every value: none for null, one for a string or a
// DateTime, all of a multi-valued value. The slice must not be changed.
func (v Value) Values() []string {
	switch v.kind {
	case KindNull:
		return nil
	case KindMulti:
		return v.list
	}
	s, _ := v.Single()
	return []string{s}
}

// isEmpty reports whether v is null, "" or a multi-valued value without
// a non-empty value: what IsNullOrEmpty and IgnoreFlowIfNullOrEmpty test.
func (v Value) isEmpty() bool {
	switch v.kind {
	case KindNull:
		return true
	case KindString:
		return v.s == ""
	case KindMulti:
		for _, s := range v.list {
			if s != "" {
				return false
			}
		}
		return true
	}
	return false
}

// String renders v for people: strings quoted, null as null, several
// values as a bracketed list, a DateTime quoted with its type.
func (v Value) String() string {
	switch v.kind {
	case KindNull:
		return "null"
	case KindString:
		return strconv.Quote(v.s)
	case KindDateTime:
		return strconv.Quote(formatGeneral(v.ticks)) + " (DateTime)"
	}
	parts := make([]string, len(v.list))
	for i, s := range v.list {
		parts[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Equal reports whether v and w hold the same values (a DateTime equals
// the string it renders as).
func (v Value) Equal(w Value) bool {
	if v.kind == KindNull || w.kind == KindNull {
		return v.kind == w.kind
	}
	av, bv := v.Values(), w.Values()
	if (v.kind == KindMulti) != (w.kind == KindMulti) || len(av) != len(bv) {
		return false
	}
	for i := range av {
		if av[i] != bv[i] {
			return false
		}
	}
	return true
}

// Attributes is the source object an expression reads: a tenant user or
// group, or values given on the command line. The mapping layer wraps a
// tenant object and adds the computed attributes (IsSoftDeleted,
// appRoleAssignments) in the same way.
type Attributes interface {
	// Attr returns the named attribute's value, or Null() when the object
	// has none. name is the text between the brackets of [name], exactly:
	// attribute names are case-sensitive in Entra (docs/expr.md).
	Attr(name string) Value
}

// Map is Attributes held in a map; a missing name is null.
type Map map[string]Value

// Attr implements Attributes.
func (m Map) Attr(name string) Value { return m[name] }

// AttributesFunc adapts a function to Attributes.
type AttributesFunc func(name string) Value

// Attr implements Attributes.
func (f AttributesFunc) Attr(name string) Value { return f(name) }
