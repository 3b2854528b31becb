package scim

import "strings"

// Projection is a parsed pair of `attributes` / `excludedAttributes` query
// parameters (RFC 7644 §3.4.2.5, §3.9).
type Projection struct {
	rs      *ResourceSchema
	include []projItem
	exclude []projItem
}

type projItem struct {
	uri     string // extension URN, "" for core attributes
	name    string // "" when the whole schema is named
	subAttr string
}

// ParseProjection parses comma-separated attribute lists. Items may be
// URN-qualified, name a whole schema, carry a sub-attribute, or (as
// Microsoft's test collection sends) a value filter, which selects the whole
// attribute. A malformed item is 400 invalidValue.
func ParseProjection(rs *ResourceSchema, attributes, excluded string) (Projection, error) {
	p := Projection{rs: rs}
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
		if isSchemaURN(rs, s) {
			// A whole schema; the core schema's URN names every core
			// attribute (uri and name both empty).
			it := projItem{uri: s}
			if rs.IsCore(s) {
				it.uri = ""
			} else if ext := rs.SchemaByURI(s); ext != nil {
				it.uri = ext.ID
			}
			items = append(items, it)
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
		case inQuote && c == '\\':
			i++ // skip the escaped character
		case c == '"':
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
	if p.alwaysReturned("", name) {
		return true
	}
	if len(p.include) > 0 {
		found := false
		for _, it := range p.include {
			if it.uri == "" && (it.name == "" || strings.EqualFold(it.name, name)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	for _, it := range p.exclude {
		if it.uri == "" && it.name != "" && it.subAttr == "" && strings.EqualFold(it.name, name) {
			return false
		}
	}
	return true
}

// alwaysReturned reports whether an attribute is returned whatever the
// projection says (RFC 7643 §7 "returned": "always"): id and schemas, and
// the attributes the schema marks so (userName, displayName).
func (p Projection) alwaysReturned(uri, name string) bool {
	if uri == "" && (strings.EqualFold(name, "id") || strings.EqualFold(name, "schemas")) {
		return true
	}
	if p.rs == nil {
		return false
	}
	a := p.rs.Lookup(uri, name)
	return a != nil && a.Returned == "always"
}

// selection is what a projection list names of one object: the whole
// object, or some of its attributes, each whole or some of its
// sub-attributes. Keys are lower case.
type selection struct {
	whole bool
	attrs map[string]*attrSel
}

type attrSel struct {
	whole bool
	subs  map[string]bool
}

func (s *selection) add(name, subAttr string) {
	if name == "" {
		s.whole = true
		return
	}
	if s.attrs == nil {
		s.attrs = map[string]*attrSel{}
	}
	k := strings.ToLower(name)
	a := s.attrs[k]
	if a == nil {
		a = &attrSel{}
		s.attrs[k] = a
	}
	if subAttr == "" {
		a.whole = true
		return
	}
	if a.subs == nil {
		a.subs = map[string]bool{}
	}
	a.subs[strings.ToLower(subAttr)] = true
}

// selections groups items by schema: "" for the core schema, else the
// lower-cased extension URN.
func selections(items []projItem) map[string]*selection {
	out := map[string]*selection{}
	for _, it := range items {
		k := strings.ToLower(it.uri)
		s := out[k]
		if s == nil {
			s = &selection{}
			out[k] = s
		}
		s.add(it.name, it.subAttr)
	}
	return out
}

// isExtensionKey reports whether the document key k holds an extension
// object rather than a core attribute.
func isExtensionKey(k string, v any) bool {
	_, isObj := v.(map[string]any)
	return isObj && isURN(k)
}

// Apply returns the projected copy of doc (doc itself when the projection
// is empty). doc is not changed; the copy may share values with it, so the
// caller must not change either afterwards.
func (p Projection) Apply(doc Resource) Resource {
	if p.IsZero() {
		return doc
	}
	out := make(Resource, len(doc))
	if len(p.include) == 0 {
		for k, v := range doc {
			out[k] = v
		}
	} else {
		sels := selections(p.include)
		for k, v := range doc {
			uri, sel := "", sels[""]
			if isExtensionKey(k, v) {
				uri, sel = k, sels[strings.ToLower(k)]
			}
			if uri == "" && p.alwaysReturned("", k) {
				out[k] = v
				continue
			}
			if uri == "" {
				if sel == nil {
					continue
				}
				if sel.whole {
					out[k] = v
				} else if pv, ok := pickAttr(v, sel.attrs[strings.ToLower(k)]); ok {
					out[k] = pv
				}
				continue
			}
			ext := v.(map[string]any)
			if sel == nil {
				sel = &selection{}
			}
			if sel.whole {
				out[k] = v
				continue
			}
			picked := map[string]any{}
			for ak, av := range ext {
				if p.alwaysReturned(uri, ak) {
					picked[ak] = av
				} else if pv, ok := pickAttr(av, sel.attrs[strings.ToLower(ak)]); ok {
					picked[ak] = pv
				}
			}
			if len(picked) > 0 {
				out[k] = picked
			}
		}
	}
	if len(p.exclude) == 0 {
		return out
	}
	for key, sel := range selections(p.exclude) {
		if key == "" {
			// Excluding the core schema as a whole is not supported: only
			// named core attributes are removed.
			excludeAttrs(out, "", sel, p)
			continue
		}
		for k, v := range out {
			if !isExtensionKey(k, v) || !strings.EqualFold(k, key) {
				continue
			}
			if sel.whole {
				delete(out, k)
				continue
			}
			ext := make(map[string]any, len(v.(map[string]any)))
			for ak, av := range v.(map[string]any) {
				ext[ak] = av
			}
			excludeAttrs(ext, k, sel, p)
			out[k] = ext
		}
	}
	return out
}

// pickAttr returns the part of value v that sel names: all of it, or the
// named sub-attributes of a complex value or of each element of a
// multi-valued one. ok is false when nothing is left.
func pickAttr(v any, sel *attrSel) (any, bool) {
	switch {
	case sel == nil:
		return nil, false
	case sel.whole:
		return v, true
	}
	switch t := v.(type) {
	case map[string]any:
		m := pickSubs(t, sel.subs)
		return m, len(m) > 0
	case []any:
		elems := make([]any, 0, len(t))
		for _, e := range t {
			if em, ok := e.(map[string]any); ok {
				if m := pickSubs(em, sel.subs); len(m) > 0 {
					elems = append(elems, m)
				}
			}
		}
		return elems, len(elems) > 0
	}
	return nil, false
}

func pickSubs(m map[string]any, subs map[string]bool) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if subs[strings.ToLower(k)] {
			out[k] = v
		}
	}
	return out
}

// excludeAttrs removes from obj (a copy the caller owns) the attributes and
// sub-attributes sel names, except those always returned.
func excludeAttrs(obj map[string]any, uri string, sel *selection, p Projection) {
	for k, v := range obj {
		if uri == "" && isExtensionKey(k, v) {
			continue
		}
		a := sel.attrs[strings.ToLower(k)]
		if a == nil || p.alwaysReturned(uri, k) {
			continue
		}
		if a.whole {
			delete(obj, k)
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			obj[k] = dropSubs(t, a.subs)
		case []any:
			elems := make([]any, len(t))
			for i, e := range t {
				if em, ok := e.(map[string]any); ok {
					elems[i] = dropSubs(em, a.subs)
				} else {
					elems[i] = e
				}
			}
			obj[k] = elems
		}
	}
}

func dropSubs(m map[string]any, subs map[string]bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !subs[strings.ToLower(k)] {
			out[k] = v
		}
	}
	return out
}
