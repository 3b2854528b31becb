package sync

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The request bodies Entra sends are written here byte for byte: compact
// JSON with the members in the order Microsoft's samples show them
// (schemas first, then Operations; op, path, value inside an operation),
// which a map[string]any cannot keep. obj is an ordered JSON object.

// member is one name/value pair of an obj.
type member struct {
	key string
	val any
}

// obj is a JSON object whose members keep their insertion order.
type obj []member

// get returns the value of key.
func (o obj) get(key string) (any, bool) {
	for _, m := range o {
		if m.key == key {
			return m.val, true
		}
	}
	return nil, false
}

// set replaces the value of key, or appends it.
func (o *obj) set(key string, val any) {
	for i := range *o {
		if (*o)[i].key == key {
			(*o)[i].val = val
			return
		}
	}
	*o = append(*o, member{key, val})
}

// rawNull is JSON null where a member must be written even when empty
// ("$ref": null in Entra's member values).
type rawNull struct{}

// appendJSON appends v as compact JSON: obj keeps its order, strings are
// escaped as encoding/json does without HTML escaping, anything else goes
// through encoding/json.
func appendJSON(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil, rawNull:
		return append(b, "null"...)
	case string:
		return appendString(b, t)
	case bool:
		return strconv.AppendBool(b, t)
	case obj:
		b = append(b, '{')
		for i, m := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.key)
			b = append(b, ':')
			b = appendJSON(b, m.val)
		}
		return append(b, '}')
	case *obj:
		return appendJSON(b, *t)
	case []any:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']')
	case json.Number:
		return append(b, t...)
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping as encoding/json's
// Encoder does with SetEscapeHTML(false): quotes, backslashes, control
// characters, U+2028 and U+2029; an invalid UTF-8 byte becomes \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
