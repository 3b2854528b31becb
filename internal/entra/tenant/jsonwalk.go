package tenant

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// jv is one value inside an element that jsontext's Decoder has validated, and
// its offset in the element (for lines).
type jv struct {
	b   []byte
	off int
}

func (v jv) isNull() bool   { return len(v.b) > 0 && v.b[0] == 'n' }
func (v jv) isString() bool { return len(v.b) > 0 && v.b[0] == '"' }
func (v jv) isObject() bool { return len(v.b) > 0 && v.b[0] == '{' }
func (v jv) isArray() bool  { return len(v.b) > 0 && v.b[0] == '[' }
func (v jv) isBool() bool   { return len(v.b) > 0 && (v.b[0] == 't' || v.b[0] == 'f') }
func (v jv) isNumber() bool {
	return len(v.b) > 0 && (v.b[0] == '-' || (v.b[0] >= '0' && v.b[0] <= '9'))
}

func (v jv) kind() string {
	switch {
	case v.isNull():
		return "null"
	case v.isString():
		return "a string"
	case v.isObject():
		return "an object"
	case v.isArray():
		return "an array"
	case v.isBool():
		return "a boolean"
	}
	return "a number"
}

// str unquotes a string value.
func (v jv) str() (string, bool) {
	if !v.isString() {
		return "", false
	}
	// jsontext validated the element, UTF-8 included: without escapes the
	// bytes are the string.
	inner := v.b[1 : len(v.b)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	s, err := jsontext.AppendUnquote(nil, v.b)
	if err != nil {
		return "", false
	}
	return string(s), true
}

// strIn is str that shares short values through n's value table, without
// allocating when the value was seen before.
func (v jv) strIn(n *names) (string, bool) {
	if v.isString() && len(v.b)-2 <= maxInternedValue {
		inner := v.b[1 : len(v.b)-1]
		if s, ok := n.values[string(inner)]; ok {
			return s, true
		}
	}
	s, ok := v.str()
	if ok {
		s = n.value(s)
	}
	return s, ok
}

func (v jv) boolean() (bool, bool) {
	switch string(v.b) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// scalar renders a string, number or boolean as the text Entra reads:
// booleans as "True"/"False" (entra-behavior §5.2).
func (v jv) scalar() (string, bool) {
	switch {
	case v.isString():
		return v.str()
	case v.isBool():
		b, _ := v.boolean()
		return BoolOf(b).String(), true
	case v.isNumber():
		return string(v.b), true
	}
	return "", false
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just after the value that starts at i.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	return j
}

func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// fields calls fn for each member of the object v, in order. The key is
// only valid during the call.
func (v jv) fields(fn func(key []byte, val jv) error) error {
	b := v.b
	i := skipWS(b, 1)
	for i < len(b) && b[i] != '}' {
		kend := stringEnd(b, i)
		key := b[i+1 : kend-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			s, _ := jv{b: b[i:kend]}.str()
			key = []byte(s)
		}
		i = skipWS(b, kend)
		i = skipWS(b, i+1) // ':'
		vend := valueEnd(b, i)
		if err := fn(key, jv{b: b[i:vend], off: v.off + i}); err != nil {
			return err
		}
		i = skipWS(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return nil
}

// items calls fn for each element of the array v.
func (v jv) items(fn func(i int, val jv) error) error {
	b := v.b
	i := skipWS(b, 1)
	for n := 0; i < len(b) && b[i] != ']'; n++ {
		vend := valueEnd(b, i)
		if err := fn(n, jv{b: b[i:vend], off: v.off + i}); err != nil {
			return err
		}
		i = skipWS(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return nil
}

// elemCtx locates values of one element for error messages.
type elemCtx struct {
	raw    []byte
	line   int
	file   string
	prefix string // JSON path of the array the element is in, or of the element when index is -1
	index  int
}

// path renders the element's JSON path.
func (e *elemCtx) path() string { return pathOf(e.prefix, e.index) }

func (e *elemCtx) lineOf(v jv) int {
	if v.off > len(e.raw) {
		return e.line
	}
	return e.line + bytes.Count(e.raw[:v.off], []byte{'\n'})
}

func (e *elemCtx) errAt(v jv, key, hint, msg string, args ...any) *LoadError {
	path := e.path()
	if key != "" {
		path += "." + key
	}
	return &LoadError{Source: Source{File: e.file, Line: e.lineOf(v), Path: path}, Msg: fmt.Sprintf(msg, args...), Hint: hint}
}

// want reports a value of the wrong JSON type.
func (e *elemCtx) want(v jv, key, what string) *LoadError {
	return e.errAt(v, key, "", "want %s, got %s", what, v.kind())
}

// elemPath renders "$.value[3]".
func elemPath(prefix string, i int) string { return prefix + "[" + strconv.Itoa(i) + "]" }

// isAnnotation reports OData annotation keys (@odata.type, x@odata.type),
// which carry no attribute.
func isAnnotation(key []byte) bool { return bytes.IndexByte(key, '@') >= 0 }

// flatten reads a value of an attribute the model gives no meaning to:
// scalars and arrays of scalars become values, objects become
// "parent.child" attributes, arrays of objects are not attributes Entra
// can map and are skipped.
func flatten(n *names, kvs []kv, name int32, v jv) []kv {
	switch {
	case v.isNull():
		return append(kvs, kv{name: name, null: true})
	case v.isObject():
		parent := n.list[name]
		_ = v.fields(func(k []byte, sub jv) error {
			if !isAnnotation(k) {
				kvs = flatten(n, kvs, n.intern(parent+"."+string(k)), sub)
			}
			return nil
		})
		return kvs
	case v.isArray():
		var vals []string
		ok := true
		_ = v.items(func(_ int, it jv) error {
			s, isScalar := it.scalar()
			if !isScalar {
				if !it.isNull() {
					ok = false
				}
				return nil
			}
			vals = append(vals, s)
			return nil
		})
		if !ok {
			return kvs
		}
		return append(kvs, kv{name: name, vals: vals, null: len(vals) == 0})
	}
	if v.isString() {
		s, _ := v.strIn(n)
		return append(kvs, kv{name: name, one: s, single: true})
	}
	s, _ := v.scalar()
	return append(kvs, kv{name: name, one: n.value(s), single: true})
}

// strAttr appends a string attribute (null allowed) or fails on another
// type; parent and key name the value for the error.
func (e *elemCtx) strAttr(n *names, kvs []kv, name int32, parent string, key []byte, v jv) ([]kv, error) {
	if v.isNull() {
		return append(kvs, kv{name: name, null: true}), nil
	}
	s, ok := v.strIn(n)
	if !ok {
		return kvs, e.want(v, joinKey(parent, key), "a string")
	}
	return append(kvs, kv{name: name, one: s, single: true}), nil
}

func joinKey(parent string, key []byte) string {
	if parent == "" {
		return string(key)
	}
	return parent + "." + string(key)
}

// strList appends a multi-valued string attribute.
func (e *elemCtx) strList(n *names, kvs []kv, name int32, key []byte, v jv) ([]kv, error) {
	if v.isNull() {
		return append(kvs, kv{name: name, null: true}), nil
	}
	if !v.isArray() {
		return kvs, e.want(v, string(key), "an array of strings")
	}
	var vals []string
	err := v.items(func(i int, it jv) error {
		s, ok := it.str()
		if !ok {
			return e.want(it, string(key)+"["+strconv.Itoa(i)+"]", "a string")
		}
		vals = append(vals, s)
		return nil
	})
	return append(kvs, kv{name: name, vals: vals, null: len(vals) == 0}), err
}

// removedReason reads {"reason": "changed"|"deleted"} of a delta item.
func (e *elemCtx) removedReason(v jv, key string) (string, error) {
	if !v.isObject() {
		return "", e.want(v, key, `an object such as {"reason": "changed"}`)
	}
	reason := "deleted"
	err := v.fields(func(k []byte, r jv) error {
		if string(k) == "reason" {
			s, ok := r.str()
			if !ok {
				return e.want(r, key+".reason", "a string")
			}
			reason = strings.ToLower(s)
		}
		return nil
	})
	if reason != "changed" {
		reason = "deleted"
	}
	return reason, err
}
