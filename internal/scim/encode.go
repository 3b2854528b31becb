package scim

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/miscim/miscim/internal/jsonappend"
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
		return jsonappend.String(b, t), true
	case bool:
		return strconv.AppendBool(b, t), true
	case float64:
		return jsonappend.Float(b, t)
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
			b = jsonappend.String(b, k)
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
			b = jsonappend.String(b, e)
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
			b = jsonappend.String(b, t.NextCursor)
		}
		if t.PreviousCursor != "" {
			b = append(b, `,"previousCursor":`...)
			b = jsonappend.String(b, t.PreviousCursor)
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
