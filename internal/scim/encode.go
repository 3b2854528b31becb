package scim

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the JSON encoding of v to b, byte for byte what
// encoding/json's Encoder writes with SetEscapeHTML(false), without the
// trailing newline: object keys sorted, the same string escapes and number
// forms. It knows the values SCIM documents are made of — objects, arrays,
// strings, booleans, numbers, null, ListResponse — and walks them directly,
// where encoding/json reflects on every value and sorts keys through
// reflection (about a tenth of serve's CPU under load). Anything else goes
// to encoding/json; ok is false when that fails.
func AppendJSON(b []byte, v any) (_ []byte, ok bool) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendString(b, t), true
	case bool:
		return strconv.AppendBool(b, t), true
	case float64:
		return appendFloat(b, t)
	case int:
		return strconv.AppendInt(b, int64(t), 10), true
	case int64:
		return strconv.AppendInt(b, t, 10), true
	case map[string]any:
		if t == nil {
			return append(b, "null"...), true
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if b, ok = AppendJSON(b, t[k]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case []any:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = AppendJSON(b, e); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case []string:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']'), true
	case *ListResponse:
		// Field by field as its struct tags say; TestAppendJSONListResponse
		// fails when a field is added here and not there.
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, `{"schemas":`...)
		b, _ = AppendJSON(b, t.Schemas)
		b = append(b, `,"totalResults":`...)
		b = strconv.AppendInt(b, int64(t.TotalResults), 10)
		if t.StartIndex != 0 {
			b = append(b, `,"startIndex":`...)
			b = strconv.AppendInt(b, int64(t.StartIndex), 10)
		}
		b = append(b, `,"itemsPerPage":`...)
		b = strconv.AppendInt(b, int64(t.ItemsPerPage), 10)
		if t.NextCursor != "" {
			b = append(b, `,"nextCursor":`...)
			b = appendString(b, t.NextCursor)
		}
		if t.PreviousCursor != "" {
			b = append(b, `,"previousCursor":`...)
			b = appendString(b, t.PreviousCursor)
		}
		b = append(b, `,"Resources":`...)
		if t.Resources == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for i, r := range t.Resources {
				if i > 0 {
					b = append(b, ',')
				}
				if b, ok = AppendJSON(b, r); !ok {
					return b, false
				}
			}
			b = append(b, ']')
		}
		return append(b, '}'), true
	}
	enc, err := marshalNoHTML(v)
	if err != nil {
		return b, false
	}
	return append(b, enc...), true
}

// marshalNoHTML is json.Marshal without HTML escaping and without the
// Encoder's newline.
func marshalNoHTML(v any) ([]byte, error) {
	var buf appendBuffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf[:len(buf)-1], nil
}

type appendBuffer []byte

func (a *appendBuffer) Write(p []byte) (int, error) { *a = append(*a, p...); return len(p), nil }

// appendFloat formats like encoding/json: the shortest form that reads
// back the same, in exponent notation outside [1e-6, 1e21).
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 → e-7, as encoding/json writes it.
		if n := len(b) - start; n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off:
// quote, backslash and control characters escaped (\b \f \n \r \t by
// name), invalid UTF-8 as U+FFFD, U+2028 and U+2029 as \u escapes.
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
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
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
