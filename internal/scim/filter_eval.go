package scim

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file evaluates a parsed filter against a resource document as
// encoding/json decodes it. Match runs once per document in a table scan, so
// the evaluator walks the tree directly, passes small structs by value and
// avoids allocating on the common paths (ASCII case folding, its own RFC 3339
// parser, case-insensitive key lookup without building lower-case keys).

// Match reports whether doc satisfies e (RFC 7644 §3.4.2.2). doc is a
// resource as encoding/json decodes it; numbers may also be json.Number, int
// or int64. rs supplies caseExact and the data types of attributes; it may be
// nil, in which case every attribute is a case-insensitive string.
//
// Attribute names match document keys case-insensitively (RFC 7643 §2.1).
// An attribute qualified with an extension URN is looked up in the object
// stored under that URN; an unqualified name missing at the top level is also
// looked up in every extension object. A comparison on a multi-valued
// attribute is true when any value satisfies it, and a multi-valued complex
// attribute compared without a sub-attribute compares the "value"
// sub-attribute of its elements.
func Match(e Expr, doc map[string]any, rs *ResourceSchema) bool {
	return eval(e, scope{doc: doc, rs: rs})
}

// MatchElement reports whether elem, one element of the multi-valued complex
// attribute parent, satisfies the value filter e, whose attribute paths are
// relative to the element (`type eq "work"`, `value eq "2819c223"`). parent
// supplies caseExact and types of the sub-attributes and may be nil. Match
// evaluates value paths with the same code.
func MatchElement(e Expr, elem map[string]any, parent *Attribute) bool {
	return eval(e, scope{doc: elem, parent: parent, elem: true})
}

// scope is where attribute paths are resolved: a whole resource, or one
// element of a multi-valued complex attribute (inside a value filter).
type scope struct {
	doc    map[string]any
	rs     *ResourceSchema
	parent *Attribute // definition of the attribute whose element doc is
	elem   bool
}

func eval(e Expr, s scope) bool {
	switch x := e.(type) {
	case *LogicalExpr:
		if x == nil {
			return false
		}
		switch {
		case asciiFoldEq(string(x.Op), string(And)):
			return eval(x.Left, s) && eval(x.Right, s)
		case asciiFoldEq(string(x.Op), string(Or)):
			return eval(x.Left, s) || eval(x.Right, s)
		}
	case *NotExpr:
		return x != nil && !eval(x.X, s)
	case *CompareExpr:
		return x != nil && evalCompare(x, s)
	case *PresentExpr:
		return x != nil && evalPath(x.Path, s, leaf{kind: leafPresent})
	case *ValuePathExpr:
		if x == nil {
			return false
		}
		if x.Path.ValueFilter == nil {
			return evalPath(x.Path, s, leaf{kind: leafPresent})
		}
		return evalPath(x.Path, s, leaf{kind: leafExists})
	}
	return false
}

func evalCompare(c *CompareExpr, s scope) bool {
	return evalCompareOp(c.Path, normOp(c.Op), c.Value, s)
}

func evalCompareOp(path AttrPath, op CompareOp, val any, s scope) bool {
	switch {
	case op == OpNe:
		// ne is exactly the negation of eq, so an absent attribute is
		// "not equal" to any value.
		return !evalCompareOp(path, OpEq, val, s)
	case val == nil:
		// RFC 7644 §3.4.2.2 has no rule for null; "eq null" is taken as
		// "not present", matching how an unassigned attribute is returned
		// (RFC 7643 §2.5: null and an empty array mean unassigned).
		return op == OpEq && !evalPath(path, s, leaf{kind: leafPresent})
	}
	return evalPath(path, s, leaf{kind: leafCompare, op: op, val: val})
}

// normOp returns op in lower case, the spelling of the constants; the parser
// only produces the constants, but hand-built trees may not.
func normOp(op CompareOp) CompareOp {
	for i := 0; i < len(op); i++ {
		if c := op[i]; 'A' <= c && c <= 'Z' {
			return CompareOp(strings.ToLower(string(op)))
		}
	}
	return op
}

type leafKind uint8

const (
	leafCompare leafKind = iota // compare with op and val
	leafPresent                 // pr
	leafExists                  // a value path alone: some element matches
)

// leaf is the test applied to the values a path selects.
type leaf struct {
	kind leafKind
	op   CompareOp
	val  any
}

// evalPath resolves path in s and reports whether any selected value passes
// lf.
func evalPath(path AttrPath, s scope, lf leaf) bool {
	v, def, ok := s.resolve(path)
	if !ok {
		return false
	}
	if path.ValueFilter != nil {
		// A value path: the elements matching the filter, then their
		// sub-attribute (RFC 7644 §3.4.2.2 "valuePath"). A single-valued
		// complex attribute is treated as a one-element list.
		switch x := v.(type) {
		case []any:
			for _, el := range x {
				if m, ok := el.(map[string]any); ok && valuePathElem(path, m, def, lf) {
					return true
				}
			}
		case map[string]any:
			return valuePathElem(path, x, def, lf)
		}
		return false
	}
	if path.SubAttr != "" {
		sd := def.Sub(path.SubAttr)
		switch x := v.(type) {
		case []any:
			for _, el := range x {
				if m, ok := el.(map[string]any); ok {
					if sv, ok := findKey(m, path.SubAttr); ok && lf.testMulti(sv, sd) {
						return true
					}
				}
			}
		case map[string]any:
			sv, ok := findKey(x, path.SubAttr)
			return ok && lf.testMulti(sv, sd)
		}
		return false
	}
	if lf.kind != leafCompare {
		return isPresent(v)
	}
	switch x := v.(type) {
	case []any:
		for _, el := range x {
			if m, ok := el.(map[string]any); ok {
				// A complex multi-valued attribute compared as a whole
				// compares its elements' "value" sub-attribute.
				if sv, ok := findKey(m, "value"); ok && lf.test(sv, def.Sub("value")) {
					return true
				}
			} else if lf.test(el, def) {
				return true
			}
		}
		return false
	case map[string]any:
		sv, ok := findKey(x, "value")
		return ok && lf.test(sv, def.Sub("value"))
	}
	return lf.test(v, def)
}

// valuePathElem applies lf to one element of a value path's attribute, when
// the element matches the path's value filter.
func valuePathElem(path AttrPath, m map[string]any, def *Attribute, lf leaf) bool {
	if !eval(path.ValueFilter, scope{doc: m, parent: def, elem: true}) {
		return false
	}
	if lf.kind == leafExists {
		return true
	}
	sub := path.SubAttr
	if sub == "" {
		if lf.kind == leafPresent {
			return true
		}
		sub = "value"
	}
	sv, ok := findKey(m, sub)
	return ok && lf.testMulti(sv, def.Sub(sub))
}

// resolve finds the top-level value a path names and its definition (nil
// when unknown).
func (s scope) resolve(p AttrPath) (any, *Attribute, bool) {
	if s.elem {
		v, ok := findKey(s.doc, p.Name)
		return v, s.parent.Sub(p.Name), ok
	}
	rs := s.rs
	if p.URI == "" || isCore(rs, p.URI) {
		def := lookupAttr(rs, "", p.Name)
		if v, ok := findKey(s.doc, p.Name); ok {
			return v, def, true
		}
		if p.URI != "" {
			return nil, def, false
		}
		// Unqualified and not at the top level: the attribute may belong to
		// an extension, whose attributes are nested under the schema URN
		// (RFC 7644 §3.10 lets clients omit the URN when unambiguous).
		// Known extensions first, so the result does not depend on map order.
		if rs != nil {
			for _, ext := range rs.Extensions {
				if ext == nil {
					continue
				}
				if m, ok := findMap(s.doc, ext.ID); ok {
					if v, ok := findKey(m, p.Name); ok {
						return v, ext.Attr(p.Name), true
					}
				}
			}
		}
		for k, ev := range s.doc {
			if len(k) < 4 || !asciiFoldEq(k[:4], "urn:") {
				continue
			}
			if m, ok := ev.(map[string]any); ok {
				if v, ok := findKey(m, p.Name); ok {
					return v, lookupAttr(rs, k, p.Name), true
				}
			}
		}
		return nil, def, false
	}
	def := lookupAttr(rs, p.URI, p.Name)
	m, ok := findMap(s.doc, p.URI)
	if !ok {
		return nil, def, false
	}
	v, ok := findKey(m, p.Name)
	return v, def, ok
}

// isCore is rs.IsCore guarded against a nil schema.
func isCore(rs *ResourceSchema, uri string) bool {
	return rs != nil && rs.Core != nil && rs.IsCore(uri)
}

// lookupAttr is rs.Lookup guarded against a nil schema.
func lookupAttr(rs *ResourceSchema, uri, name string) *Attribute {
	if rs == nil || rs.Core == nil {
		return nil
	}
	return rs.Lookup(uri, name)
}

// findKey returns m's value for the key equal to name ignoring case
// (RFC 7643 §2.1: attribute names are case-insensitive). The exact spelling
// is tried first, which is the common case and a single map probe.
func findKey(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func findMap(m map[string]any, name string) (map[string]any, bool) {
	v, ok := findKey(m, name)
	if !ok {
		return nil, false
	}
	mm, ok := v.(map[string]any)
	return mm, ok
}

// isPresent implements pr: a value that is not null, "", an empty array (or
// one holding only such values) or an empty object (RFC 7644 §3.4.2.2,
// RFC 7643 §2.5).
func isPresent(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		for _, el := range x {
			if isPresent(el) {
				return true
			}
		}
		return false
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// testMulti applies the test to v, or to any element when v is an array.
func (lf leaf) testMulti(v any, def *Attribute) bool {
	if a, ok := v.([]any); ok && lf.kind == leafCompare {
		for _, el := range a {
			if lf.test(el, def) {
				return true
			}
		}
		return false
	}
	return lf.test(v, def)
}

// test applies the leaf test to one document value dv whose definition is
// def (nil when unknown).
func (lf leaf) test(dv any, def *Attribute) bool {
	switch lf.kind {
	case leafPresent:
		return isPresent(dv)
	case leafExists:
		return true
	}
	exact := def != nil && def.CaseExact
	switch lf.op {
	case OpEq:
		return equalValues(dv, lf.val, def)
	case OpCo, OpSw, OpEw:
		// RFC 7644 §3.4.2.2: co, sw and ew are string operators.
		ds, ok1 := dv.(string)
		fs, ok2 := lf.val.(string)
		if !ok1 || !ok2 {
			return false
		}
		switch lf.op {
		case OpCo:
			if exact {
				return strings.Contains(ds, fs)
			}
			return containsFold(ds, fs)
		case OpSw:
			if exact {
				return strings.HasPrefix(ds, fs)
			}
			return hasPrefixFold(ds, fs)
		default:
			if exact {
				return strings.HasSuffix(ds, fs)
			}
			return hasSuffixFold(ds, fs)
		}
	case OpGt, OpGe, OpLt, OpLe:
		c, ok := order(dv, lf.val, def)
		if !ok {
			return false
		}
		switch lf.op {
		case OpGt:
			return c > 0
		case OpGe:
			return c >= 0
		case OpLt:
			return c < 0
		default:
			return c <= 0
		}
	}
	return false
}

// equalValues implements eq for one document value.
func equalValues(dv, fv any, def *Attribute) bool {
	switch f := fv.(type) {
	case string:
		switch d := dv.(type) {
		case string:
			if def != nil && def.CaseExact {
				if d == f {
					return true
				}
			} else if strings.EqualFold(d, f) {
				return true
			}
			if def != nil && def.Type == TypeDateTime {
				t1, ok1 := parseRFC3339(d)
				t2, ok2 := parseRFC3339(f)
				return ok1 && ok2 && t1.Equal(t2)
			}
			return false
		case bool:
			// `active eq "True"`: clients quote booleans.
			switch {
			case asciiFoldEq(f, "true"):
				return d
			case asciiFoldEq(f, "false"):
				return !d
			}
		}
		return false
	case bool:
		switch d := dv.(type) {
		case bool:
			return d == f
		case string:
			return asciiFoldEq(d, strconv.FormatBool(f))
		}
		return false
	}
	fn, ok := toFloat(fv)
	if !ok {
		return false
	}
	if dn, ok := toFloat(dv); ok {
		return dn == fn
	}
	if ds, ok := dv.(string); ok {
		// An unquoted number compared with a string attribute
		// (`externalId eq 12345`): compare with its canonical spelling.
		return ds == strconv.FormatFloat(fn, 'g', -1, 64)
	}
	return false
}

// order compares a document value with a filter value for gt, ge, lt and le;
// ok is false when they are not comparable (booleans, nulls, mixed types).
func order(dv, fv any, def *Attribute) (int, bool) {
	if fn, ok := toFloat(fv); ok {
		dn, ok := toFloat(dv)
		if !ok || dn != dn || fn != fn {
			return 0, false
		}
		switch {
		case dn < fn:
			return -1, true
		case dn > fn:
			return 1, true
		}
		return 0, true
	}
	fs, ok1 := fv.(string)
	ds, ok2 := dv.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	// dateTime attributes, and any two RFC 3339 timestamps, compare as
	// instants (RFC 7644 §3.4.2.2: "chronologically"), so offsets and
	// fraction lengths do not matter.
	if t1, ok := parseRFC3339(ds); ok {
		if t2, ok := parseRFC3339(fs); ok {
			return t1.Compare(t2), true
		}
	}
	if def != nil && def.CaseExact {
		return strings.Compare(ds, fs), true
	}
	return compareFold(ds, fs), true
}

// toFloat converts the numeric types a decoded document may hold.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

// parseRFC3339 parses an RFC 3339 timestamp (date-time production) with a
// fractional second of any length, without allocating: time.Parse allocates
// a zone for every numeric offset, and this runs once per document.
func parseRFC3339(s string) (time.Time, bool) {
	// YYYY-MM-DDTHH:MM:SS then [.frac] then Z or ±HH:MM
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
		(s[10] != 'T' && s[10] != 't') {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	i := 19
	nsec := 0
	if s[i] == '.' {
		i++
		start := i
		scale := 100000000
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			nsec += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, false
		}
	}
	if i >= len(s) {
		return time.Time{}, false
	}
	offset := 0
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(s)-i != 6 || s[i+3] != ':' {
			return time.Time{}, false
		}
		oh, ok1 := digits(s[i+1 : i+3])
		om, ok2 := digits(s[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return time.Time{}, false
	}
	if i != len(s) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Case-insensitive string operators. For ASCII they fold byte by byte
// without allocating; otherwise they lower-case both sides with
// strings.ToLower, as the rest of miscim compares names.

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func containsFold(s, sub string) bool {
	if !isASCII(s) || !isASCII(sub) {
		return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if equalFoldASCII(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	if !isASCII(s) || !isASCII(prefix) {
		return strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix))
	}
	return len(s) >= len(prefix) && equalFoldASCII(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	if !isASCII(s) || !isASCII(suffix) {
		return strings.HasSuffix(strings.ToLower(s), strings.ToLower(suffix))
	}
	return len(s) >= len(suffix) && equalFoldASCII(s[len(s)-len(suffix):], suffix)
}

func compareFold(a, b string) int {
	if !isASCII(a) || !isASCII(b) {
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	}
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := lowerASCII(a[i]), lowerASCII(b[i])
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}
