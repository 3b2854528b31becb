package scim

import "strings"

// Projection is a parsed pair of `attributes` / `excludedAttributes` query
// parameters (RFC 7644 §3.4.2.5, §3.9).
type Projection struct {
	include []projItem
	exclude []projItem
}

type projItem struct {
	uri     string // extension URN, "" for core attributes
	name    string // "" when the whole extension is named
	subAttr string
}

// ParseProjection parses comma-separated attribute lists. Items may be
// URN-qualified, carry a sub-attribute, or (as Microsoft's test collection
// sends) a value filter, which selects the whole attribute. A malformed item
// is 400 invalidValue.
func ParseProjection(rs *ResourceSchema, attributes, excluded string) (Projection, error) {
	var p Projection
	var err error
	if p.include, err = parseProjList(rs, attributes, "attributes"); err != nil {
		return p, err
	}
	if p.exclude, err = parseProjList(rs, excluded, "excludedAttributes"); err != nil {
		return p, err
	}
	return p, nil
}

func parseProjList(rs *ResourceSchema, list, param string) ([]projItem, error) {
	var items []projItem
	for _, raw := range splitOutside(list, ',') {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		if ext := rs.SchemaByURI(s); ext != nil {
			if rs.IsCore(s) {
				continue // the core schema URN names every core attribute: no narrowing
			}
			items = append(items, projItem{uri: ext.ID})
			continue
		}
		path, err := ParsePath(s)
		if err != nil {
			return nil, BadRequest(ScimTypeInvalidValue, "%s: %q is not an attribute name: use names such as userName, name.givenName or emails", param, s)
		}
		it := projItem{name: path.Name, subAttr: path.SubAttr}
		if !rs.IsCore(path.URI) {
			it.uri = path.URI
		}
		items = append(items, it)
	}
	return items, nil
}

// splitOutside splits s on sep, ignoring separators inside brackets or
// double quotes.
func splitOutside(s string, sep byte) []string {
	var out []string
	depth, inQuote, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' && (i == 0 || s[i-1] != '\\'):
			inQuote = !inQuote
		case inQuote:
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == sep && depth <= 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// IsZero reports whether the projection returns the default attribute set.
func (p Projection) IsZero() bool { return len(p.include) == 0 && len(p.exclude) == 0 }

// Returns reports whether the core attribute name would be in the
// response. The engine asks before loading costly attributes: a group read
// with excludedAttributes=members never loads its members (Entra reads groups
// that way, entra-behavior §3).
func (p Projection) Returns(name string) bool {
	if len(p.include) > 0 {
		found := false
		for _, it := range p.include {
			if it.uri == "" && strings.EqualFold(it.name, name) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	for _, it := range p.exclude {
		if it.uri == "" && it.subAttr == "" && strings.EqualFold(it.name, name) {
			return false
		}
	}
	return true
}

// alwaysReturned lists attributes returned whatever the projection says
// (RFC 7643 §7 "returned": "always").
func alwaysReturned(key string) bool {
	return strings.EqualFold(key, "id") || strings.EqualFold(key, "schemas")
}

// Apply returns the projected copy of doc (doc itself when the projection
// is empty).
func (p Projection) Apply(doc Resource) Resource {
	if p.IsZero() {
		return doc
	}
	out := doc
	if len(p.include) > 0 {
		out = Resource{}
		for k, v := range doc {
			if alwaysReturned(k) {
				out[k] = v
			}
		}
		for _, it := range p.include {
			copyItem(out, doc, it)
		}
	} else {
		out = make(Resource, len(doc))
		for k, v := range doc {
			out[k] = v
		}
	}
	for _, it := range p.exclude {
		removeItem(out, it)
	}
	return out
}

func copyItem(dst, src Resource, it projItem) {
	from, to := src, dst
	if it.uri != "" {
		ext, key, ok := Get(src, it.uri)
		m, isObj := ext.(map[string]any)
		if !ok || !isObj {
			return
		}
		if it.name == "" {
			dst[key] = m
			return
		}
		sub, _ := dst[key].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			dst[key] = sub
		}
		from, to = m, sub
	}
	v, key, ok := Get(from, it.name)
	if !ok {
		return
	}
	if it.subAttr == "" {
		to[key] = v
		return
	}
	switch t := v.(type) {
	case map[string]any:
		prev, _ := to[key].(map[string]any)
		if prev == nil {
			prev = map[string]any{}
		}
		if sv, sk, ok := Get(t, it.subAttr); ok {
			prev[sk] = sv
		}
		to[key] = prev
	case []any:
		elems := make([]any, 0, len(t))
		for _, e := range t {
			if em, ok := e.(map[string]any); ok {
				if sv, sk, ok := Get(em, it.subAttr); ok {
					elems = append(elems, map[string]any{sk: sv})
				}
			}
		}
		to[key] = elems
	}
}

func removeItem(doc Resource, it projItem) {
	target := doc
	if it.uri != "" {
		ext, key, ok := Get(doc, it.uri)
		if !ok {
			return
		}
		if it.name == "" {
			delete(doc, key)
			return
		}
		m, isObj := ext.(map[string]any)
		if !isObj {
			return
		}
		m = Clone(m).(map[string]any)
		doc[key] = m
		target = m
	}
	_, key, ok := Get(target, it.name)
	if !ok || alwaysReturned(key) {
		return
	}
	if it.subAttr == "" {
		delete(target, key)
		return
	}
	if m, isObj := target[key].(map[string]any); isObj {
		m = Clone(m).(map[string]any)
		if _, sk, ok := Get(m, it.subAttr); ok {
			delete(m, sk)
		}
		target[key] = m
	}
}
