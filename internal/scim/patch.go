package scim

import (
	"reflect"
	"sort"
	"strings"
)

// Patch operation names, lower-cased. Entra sends "Add", "Replace", "Remove"
// in its default dialect and lower case with aadOptscim062020, so op is
// matched case-insensitively (entra-behavior §2.4).
const (
	PatchAdd     = "add"
	PatchRemove  = "remove"
	PatchReplace = "replace"
)

// PatchOperation is one operation of a PatchOp request (RFC 7644 §3.5.2).
type PatchOperation struct {
	Op       string    // PatchAdd, PatchRemove or PatchReplace
	Path     *AttrPath // nil when the operation has no path
	RawPath  string    // the path as sent
	Value    any       // decoded JSON value, nil when absent
	HasValue bool
}

// ParsePatch decodes and validates a PatchOp body. It checks every operation
// before any is applied, so a bad operation anywhere rejects the request
// whole.
func ParsePatch(body []byte) ([]PatchOperation, error) {
	obj, err := DecodeObject(body)
	if err != nil {
		return nil, err
	}
	rawOps, _, ok := Get(obj, "Operations")
	if !ok {
		return nil, BadRequest(ScimTypeInvalidSyntax, `PATCH body has no "Operations" array: send {"schemas":["%s"],"Operations":[{"op":"replace","path":"…","value":…}]}`, PatchOpSchema)
	}
	list, ok := rawOps.([]any)
	if !ok || len(list) == 0 {
		return nil, BadRequest(ScimTypeInvalidSyntax, `PATCH "Operations" must be a non-empty array of operations`)
	}
	ops := make([]PatchOperation, 0, len(list))
	for i, raw := range list {
		op, err := parseOperation(i+1, raw)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func parseOperation(n int, raw any) (PatchOperation, error) {
	var op PatchOperation
	m, ok := raw.(map[string]any)
	if !ok {
		return op, BadRequest(ScimTypeInvalidSyntax, "PATCH operation %d must be an object, got %s", n, KindOf(raw))
	}
	name, _, _ := Get(m, "op")
	s, ok := name.(string)
	if !ok {
		return op, BadRequest(ScimTypeInvalidSyntax, `PATCH operation %d has no "op": use add, remove or replace`, n)
	}
	op.Op = strings.ToLower(strings.TrimSpace(s))
	if op.Op != PatchAdd && op.Op != PatchRemove && op.Op != PatchReplace {
		return op, BadRequest(ScimTypeInvalidSyntax, `PATCH operation %d: op %q is not supported: use add, remove or replace`, n, s)
	}
	if p, _, ok := Get(m, "path"); ok && p != nil {
		ps, isStr := p.(string)
		if !isStr {
			return op, BadRequest(ScimTypeInvalidPath, `PATCH operation %d: "path" must be a string, got %s`, n, KindOf(p))
		}
		if strings.TrimSpace(ps) != "" {
			path, err := ParsePath(ps)
			if err != nil {
				if se, ok := err.(*Error); ok {
					return op, BadRequest(se.ScimType, "PATCH operation %d: %s", n, se.Detail)
				}
				return op, err
			}
			op.Path, op.RawPath = &path, ps
		}
	}
	op.Value, _, op.HasValue = Get(m, "value")
	switch {
	case op.Op == PatchRemove && op.Path == nil:
		// RFC 7644 §3.5.2.2: remove without a path is noTarget.
		return op, BadRequest(ScimTypeNoTarget, `PATCH operation %d: "remove" needs a "path"`, n)
	case op.Op != PatchRemove && !op.HasValue:
		return op, BadRequest(ScimTypeInvalidValue, `PATCH operation %d: %q needs a "value"`, n, op.Op)
	case op.Op != PatchRemove && op.Path == nil:
		if _, isObj := op.Value.(map[string]any); !isObj {
			return op, BadRequest(ScimTypeInvalidValue, `PATCH operation %d: %q without a "path" needs an object "value", got %s`, n, op.Op, KindOf(op.Value))
		}
	}
	return op, nil
}

// ApplyPatch applies ops in order to doc, which it changes in place. The
// caller passes a copy and drops it on error, which makes a request
// all-or-nothing (RFC 7644 §3.5.2: "If an error occurs, the resource MUST NOT
// be modified").
//
// Besides RFC 7644 §3.5.2 it accepts what Entra sends (entra-behavior §2.5):
// path-less values whose keys are dotted ("name.givenName") or URN-qualified
// attribute paths, value-filter paths that create the element they name when
// none matches (Entra adds emails[type eq "work"].value to users that have
// no work address), and "remove" with a value array on multi-valued
// attributes.
//
// Attributes that the schema does not describe are applied like any other,
// so that extension attributes such as miUserType reach the engine; the
// engine ignores what MI does not keep.
func ApplyPatch(doc Resource, rs *ResourceSchema, ops []PatchOperation) error {
	for i, op := range ops {
		var err error
		if op.Path == nil {
			err = applyPathless(doc, rs, op)
		} else {
			err = applyPath(doc, rs, op.Op, *op.Path, op.Value, op.HasValue)
		}
		if err != nil {
			if se, ok := err.(*Error); ok && len(ops) > 1 {
				return Errorf(se.Status, se.ScimType, "PATCH operation %d: %s", i+1, se.Detail)
			}
			return err
		}
	}
	return nil
}

func applyPathless(doc Resource, rs *ResourceSchema, op PatchOperation) error {
	value := op.Value.(map[string]any)
	keys := make([]string, 0, len(value))
	for k := range value {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := value[k]
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if ext, isObj := v.(map[string]any); isObj && isURN(k) && looksLikeSchemaURN(rs, k) {
			// A whole schema as the key: {"urn:…:enterprise:2.0:User": {…}}.
			uri := k
			if rs.IsCore(k) {
				uri = ""
			}
			for sk, sv := range ext {
				if err := applyPath(doc, rs, op.Op, AttrPath{URI: uri, Name: sk}, sv, true); err != nil {
					return err
				}
			}
			continue
		}
		path, err := ParsePath(k)
		if err != nil {
			return BadRequest(ScimTypeInvalidPath, "value key %q is not an attribute path", k)
		}
		if err := applyPath(doc, rs, op.Op, path, v, true); err != nil {
			return err
		}
	}
	return nil
}

func isURN(s string) bool { return len(s) > 4 && strings.EqualFold(s[:4], "urn:") }

// looksLikeSchemaURN tells a key that names a whole schema extension
// ("urn:…:enterprise:2.0:User": {…}) from a key that names one attribute of
// it ("urn:…:enterprise:2.0:User:employeeNumber"): known extensions by name,
// unknown ones by their ending in a resource type name.
func looksLikeSchemaURN(rs *ResourceSchema, k string) bool {
	if rs.SchemaByURI(k) != nil {
		return true
	}
	last := k[strings.LastIndex(k, ":")+1:]
	return strings.EqualFold(last, rs.Name)
}

// container returns the object that holds path's top-level attribute: the
// document for core attributes, the extension object for others (created
// when create is true).
func container(doc Resource, rs *ResourceSchema, uri string, create bool) map[string]any {
	if rs.IsCore(uri) {
		return doc
	}
	v, key, ok := Get(doc, uri)
	if m, isObj := v.(map[string]any); ok && isObj {
		return m
	}
	if !create {
		return nil
	}
	if !ok {
		key = uri
		if s := rs.SchemaByURI(uri); s != nil {
			key = s.ID
		}
	}
	m := map[string]any{}
	doc[key] = m
	return m
}

func applyPath(doc Resource, rs *ResourceSchema, op string, p AttrPath, value any, hasValue bool) error {
	top := rs.Lookup(p.URI, p.Name)
	def := top
	if p.SubAttr != "" {
		def = top.Sub(p.SubAttr)
	}
	holder := container(doc, rs, p.URI, op != PatchRemove)
	if holder == nil {
		return nil // removing from an extension the resource does not have
	}
	cur, key, exists := Get(holder, p.Name)
	if !exists {
		key = p.Name
		if top != nil {
			key = top.Name
		}
	}
	if err := checkMutable(top, def, p, op, cur, value); err != nil {
		return err
	}
	multi := (top != nil && top.MultiValued) || isArray(cur)

	switch {
	case p.ValueFilter != nil:
		return applyFiltered(holder, key, cur, top, op, p, value)
	case p.SubAttr != "":
		subKey := p.SubAttr
		if def != nil {
			subKey = def.Name
		}
		if multi {
			elems, _ := cur.([]any)
			if len(elems) == 0 && op != PatchRemove {
				elems = []any{map[string]any{}}
			}
			for _, e := range elems {
				if m, ok := e.(map[string]any); ok {
					setOrRemove(m, subKey, op, value)
				}
			}
			if elems != nil {
				holder[key] = elems
			}
			return nil
		}
		m, _ := cur.(map[string]any)
		if m == nil {
			if op == PatchRemove {
				return nil
			}
			m = map[string]any{}
			holder[key] = m
		}
		setOrRemove(m, subKey, op, value)
		return nil
	}

	switch op {
	case PatchRemove:
		if hasValue && multi && exists {
			holder[key] = removeByValue(cur.([]any), value)
			return nil
		}
		delete(holder, key)
	case PatchAdd:
		if multi {
			elems, _ := cur.([]any)
			for _, v := range asList(value) {
				if !containsDeep(elems, v) {
					elems = append(elems, v)
				}
			}
			holder[key] = elems
			return nil
		}
		holder[key] = mergeValue(cur, value)
	case PatchReplace:
		if multi {
			holder[key] = asList(value)
			return nil
		}
		holder[key] = mergeValue(cur, value)
	}
	return nil
}

// checkMutable enforces RFC 7644 §3.5.2: modifying a readOnly attribute is
// 400 mutability. Writing the value it already has is allowed, because
// clients echo resources back.
func checkMutable(top, def *Attribute, p AttrPath, op string, cur, value any) error {
	for _, a := range []*Attribute{top, def} {
		if a == nil || a.Mutability != ReadOnly {
			continue
		}
		if op != PatchRemove && p.SubAttr == "" && p.ValueFilter == nil && reflect.DeepEqual(cur, value) {
			return nil
		}
		return BadRequest(ScimTypeMutability, "attribute %q is read-only and cannot be changed", p.String())
	}
	return nil
}

func applyFiltered(holder map[string]any, key string, cur any, top *Attribute, op string, p AttrPath, value any) error {
	var elems []any
	switch t := cur.(type) {
	case []any:
		elems = t
	case map[string]any:
		elems = []any{t}
	}
	subKey := p.SubAttr
	if s := top.Sub(p.SubAttr); s != nil {
		subKey = s.Name
	}
	matched := false
	out := elems[:0:0]
	for _, e := range elems {
		m, ok := e.(map[string]any)
		if !ok || !MatchElement(p.ValueFilter, m, top) {
			out = append(out, e)
			continue
		}
		matched = true
		switch {
		case op == PatchRemove && p.SubAttr == "":
			continue // drop the element
		case p.SubAttr != "":
			m = Clone(m).(map[string]any)
			setOrRemove(m, subKey, op, value)
		default:
			m = mergeValue(Clone(m), value).(map[string]any)
		}
		out = append(out, m)
	}
	if !matched && op != PatchRemove {
		// RFC 7644 §3.5.2.3 would answer noTarget; Entra instead expects
		// the element its filter names to be created (entra-behavior §2.4).
		elem, ok := equalities(p.ValueFilter)
		if !ok {
			return BadRequest(ScimTypeNoTarget, "no value of %q matches %s", p.Name, p.ValueFilter.String())
		}
		if p.SubAttr != "" {
			elem[subKey] = value
		} else if vm, isObj := value.(map[string]any); isObj {
			for k, v := range vm {
				elem[k] = v
			}
		} else {
			return BadRequest(ScimTypeInvalidValue, "value for %q must be an object", p.String())
		}
		out = append(out, elem)
	}
	holder[key] = out
	return nil
}

// equalities turns a value filter made of `attr eq value` terms joined by
// "and" into the element those terms describe.
func equalities(e Expr) (map[string]any, bool) {
	switch t := e.(type) {
	case *CompareExpr:
		if t.Op != OpEq || t.Path.SubAttr != "" || t.Path.ValueFilter != nil || t.Path.URI != "" {
			return nil, false
		}
		return map[string]any{t.Path.Name: t.Value}, true
	case *LogicalExpr:
		if t.Op != And {
			return nil, false
		}
		l, ok := equalities(t.Left)
		if !ok {
			return nil, false
		}
		r, ok := equalities(t.Right)
		if !ok {
			return nil, false
		}
		for k, v := range r {
			l[k] = v
		}
		return l, true
	}
	return nil, false
}

func setOrRemove(m map[string]any, key, op string, value any) {
	_, existing, ok := Get(m, key)
	if ok {
		key = existing
	}
	if op == PatchRemove {
		delete(m, key)
		return
	}
	m[key] = mergeValue(m[key], value)
}

// mergeValue merges a complex value into an existing complex value
// (RFC 7644 §3.5.2.1 and §3.5.2.3: sub-attributes not named are left
// unchanged); any other value replaces.
func mergeValue(cur, value any) any {
	cm, ok1 := cur.(map[string]any)
	vm, ok2 := value.(map[string]any)
	if !ok1 || !ok2 {
		return value
	}
	out := make(map[string]any, len(cm)+len(vm))
	for k, v := range cm {
		out[k] = v
	}
	for k, v := range vm {
		if _, existing, ok := Get(out, k); ok {
			delete(out, existing)
		}
		out[k] = v
	}
	return out
}

func isArray(v any) bool { _, ok := v.([]any); return ok }

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return append([]any(nil), l...)
	}
	if v == nil {
		return []any{}
	}
	return []any{v}
}

func containsDeep(list []any, v any) bool {
	for _, e := range list {
		if reflect.DeepEqual(e, v) {
			return true
		}
	}
	return false
}

// removeByValue drops the elements whose "value" equals one given: Entra's
// default dialect removes members with {"op":"Remove","path":"members",
// "value":[{"value":"id"}]} (entra-behavior §3).
func removeByValue(elems []any, value any) []any {
	drop := map[string]bool{}
	for _, v := range asList(value) {
		if s, ok := ElementValue(v); ok {
			drop[s] = true
		}
	}
	out := make([]any, 0, len(elems))
	for _, e := range elems {
		if s, ok := ElementValue(e); ok && drop[s] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// ElementValue returns the "value" of a multi-valued element given as an
// object ({"value":"x"}) or, as Microsoft's tests send members, as a plain
// string.
func ElementValue(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case map[string]any:
		if s, _, ok := Get(t, "value"); ok {
			str, isStr := s.(string)
			return str, isStr
		}
	}
	return "", false
}
