package sync

import (
	"encoding/json"
	"strconv"

	"github.com/miscim/miscim/internal/jsonappend"
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
// escaped as encoding/json does without HTML escaping (jsonappend), anything else goes
// through encoding/json.
func appendJSON(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil, rawNull:
		return append(b, "null"...)
	case string:
		return jsonappend.String(b, t)
	case bool:
		return strconv.AppendBool(b, t)
	case obj:
		b = append(b, '{')
		for i, m := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonappend.String(b, m.key)
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
			b = jsonappend.String(b, e)
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
