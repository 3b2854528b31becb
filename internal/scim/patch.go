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
	name, _, found := Get(m, "op")
	s, ok := name.(string)
	switch {
	case !found || name == nil:
		return op, BadRequest(ScimTypeInvalidSyntax, `PATCH operation %d has no "op": use add, remove or replace`, n)
	case !ok:
		return op, BadRequest(ScimTypeInvalidSyntax, `PATCH operation %d: "op" must be a string (add, remove or replace), got %s`, n, KindOf(name))
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
// be modified"). ops are not changed, and doc never shares a map or slice
// with them, so the same operations can be applied again.
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
		value := Clone(op.Value)
		if op.Path == nil {
			obj, isObj := value.(map[string]any)
			if !isObj {
				err = BadRequest(ScimTypeInvalidValue, `%q without a "path" needs an object "value", got %s`, op.Op, KindOf(value))
			} else {
				err = applyObject(doc, rs, op.Op, "", obj)
			}
		} else {
			err = applyPath(doc, rs, op.Op, *op.Path, value, op.HasValue)
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

// applyObject applies the attributes of a path-less value, or of the value
// given for a whole schema, in key order so that the result does not depend
// on map iteration. uri is the schema the keys belong to, "" for the core
// schema and for a path-less value, whose keys may name a whole schema
// ({"urn:…:enterprise:2.0:User": {…}}), a URN-qualified attribute
// ("urn:…:enterprise:2.0:User:employeeNumber") or a dotted path
// ("name.givenName").
func applyObject(doc Resource, rs *ResourceSchema, op, uri string, value map[string]any) error {
	for _, k := range sortedKeys(value) {
		v := value[k]
		if uri == "" && strings.EqualFold(k, "schemas") {
			continue
		}
		if uri == "" && isSchemaURN(rs, k) {
			if err := applySchema(doc, rs, op, k, v, true); err != nil {
				return err
			}
			continue
		}
		path, err := ParsePath(k)
		if err != nil {
			return BadRequest(ScimTypeInvalidPath, "value key %q is not an attribute path", k)
		}
		if path.URI == "" {
			path.URI = uri
		}
		if err := applyPath(doc, rs, op, path, v, true); err != nil {
			return err
		}
	}
	return nil
}

// applySchema applies an operation whose target is a whole schema: the core
// schema or an extension object.
func applySchema(doc Resource, rs *ResourceSchema, op, uri string, value any, hasValue bool) error {
	core := rs.IsCore(uri)
	if op == PatchRemove {
		if core {
			return BadRequest(ScimTypeInvalidPath, "the core schema %q cannot be removed; name its attributes", uri)
		}
		ext, key, ok := Get(doc, uri)
		if !ok {
			return nil
		}
		if m, isObj := ext.(map[string]any); isObj {
			for _, k := range sortedKeys(m) {
				if a := rs.Lookup(uri, k); a != nil && a.Mutability == ReadOnly {
					return BadRequest(ScimTypeMutability, "attribute %q is read-only and cannot be changed", uri+":"+a.Name)
				}
			}
		}
		delete(doc, key)
		return nil
	}
	obj, isObj := value.(map[string]any)
	if !isObj {
		return BadRequest(ScimTypeInvalidValue, "the value of schema %q must be an object of its attributes, got %s", uri, KindOf(value))
	}
	if core {
		uri = ""
	} else if s := rs.SchemaByURI(uri); s != nil {
		uri = s.ID
	}
	return applyObject(doc, rs, op, uri, obj)
}

func isURN(s string) bool { return len(s) > 4 && strings.EqualFold(s[:4], "urn:") }

// isSchemaURN tells a key or path that names a whole schema
// ("urn:…:enterprise:2.0:User") from one that names an attribute of it
// ("urn:…:enterprise:2.0:User:employeeNumber"): known schemas by their id,
// others by the version segment that precedes the schema name in SCIM schema
// URNs, where an attribute name (which starts with a letter) cannot be.
func isSchemaURN(rs *ResourceSchema, s string) bool {
	if !isURN(s) {
		return false
	}
	if rs.SchemaByURI(s) != nil {
		return true
	}
	i := strings.LastIndexByte(s, ':')
	j := strings.LastIndexByte(s[:i], ':')
	return j >= 0 && isVersion(s[j+1:i]) && validName(s[i+1:])
}

// isVersion reports whether s looks like "2.0": digits and dots, starting
// with a digit.
func isVersion(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
	if p.URI != "" && p.SubAttr == "" && p.ValueFilter == nil && isSchemaURN(rs, p.URI+":"+p.Name) {
		// The path names a whole extension: "urn:…:enterprise:2.0:User".
		return applySchema(doc, rs, op, p.URI+":"+p.Name, value, hasValue)
	}
	top := rs.Lookup(p.URI, p.Name)
	def := top
	if p.SubAttr != "" {
		def = top.Sub(p.SubAttr)
	}
	if top != nil && top.Type != TypeComplex && (p.SubAttr != "" || p.ValueFilter != nil) {
		return BadRequest(ScimTypeInvalidPath, "path %q: %q is a simple attribute: it has no sub-attributes and no values to filter", p.String(), top.Name)
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
		return applyFiltered(holder, key, cur, exists, top, op, p, value)
	case p.SubAttr != "":
		subKey := p.SubAttr
		if def != nil {
			subKey = def.Name
		}
		if multi {
			elems := asList(cur)
			if len(elems) == 0 {
				if op == PatchRemove {
					return nil
				}
				elems = []any{map[string]any{}}
			}
			for _, e := range elems {
				if m, ok := e.(map[string]any); ok {
					setOrRemove(m, subKey, op, Clone(value), def)
				}
			}
			holder[key] = elems
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
		setOrRemove(m, subKey, op, value, def)
		return nil
	}

	switch op {
	case PatchRemove:
		if !exists {
			return nil
		}
		if hasValue && value != nil && multi {
			// Entra's default dialect: {"op":"Remove","path":"members",
			// "value":[{"value":"id"}]} (entra-behavior §3).
			if out := removeByValue(asList(cur), value, top); len(out) > 0 {
				holder[key] = out
				return nil
			}
		}
		delete(holder, key)
	case PatchAdd:
		if multi {
			elems := asList(cur)
			for _, v := range asList(value) {
				if !containsDeep(elems, v) {
					elems = append(elems, v)
					clearOtherPrimaries(elems, len(elems)-1)
				}
			}
			holder[key] = elems
			return nil
		}
		holder[key] = mergeValue(cur, value, top)
	case PatchReplace:
		if multi {
			holder[key] = asList(value)
			return nil
		}
		holder[key] = mergeValue(cur, value, top)
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

// applyFiltered applies an operation whose path has a value filter,
// `emails[type eq "work"].value` or `members[value eq "id"]`, to the
// elements that match it.
func applyFiltered(holder map[string]any, key string, cur any, exists bool, top *Attribute, op string, p AttrPath, value any) error {
	var elems []any
	single := false // a single-valued complex attribute stays an object
	switch t := cur.(type) {
	case []any:
		elems = t
	case map[string]any:
		elems, single = []any{t}, top == nil || !top.MultiValued
	case nil:
		single = top != nil && !top.MultiValued
	default:
		if op == PatchRemove {
			return nil
		}
		return BadRequest(ScimTypeInvalidPath, "path %q: %q holds %s, which has no values to filter", p.String(), p.Name, KindOf(cur))
	}
	subDef := top.Sub(p.SubAttr)
	subKey := p.SubAttr
	if subDef != nil {
		subKey = subDef.Name
	}
	if op != PatchRemove && p.SubAttr == "" {
		if _, isObj := value.(map[string]any); !isObj {
			return BadRequest(ScimTypeInvalidValue, "value for %q must be an object of sub-attributes, got %s", p.String(), KindOf(value))
		}
	}
	matched := false
	var written []int
	out := make([]any, 0, len(elems)+1)
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
			setOrRemove(m, subKey, op, Clone(value), subDef)
		default:
			m = mergeValue(Clone(m), Clone(value), top).(map[string]any)
		}
		written = append(written, len(out))
		out = append(out, m)
	}
	if !matched {
		if op == PatchRemove {
			return nil // nothing to remove
		}
		if single && exists {
			return BadRequest(ScimTypeNoTarget, "%q does not match %s", p.Name, p.ValueFilter.String())
		}
		// RFC 7644 §3.5.2.3 would answer noTarget; Entra instead expects
		// the element its filter names to be created (entra-behavior §2.4).
		eq, ok := equalities(p.ValueFilter)
		elem := map[string]any{}
		for _, k := range sortedKeys(eq) {
			setOrRemove(elem, k, PatchReplace, eq[k], top.Sub(k))
		}
		if !ok || !MatchElement(p.ValueFilter, elem, top) {
			return BadRequest(ScimTypeNoTarget, "no value of %q matches %s", p.Name, p.ValueFilter.String())
		}
		if p.SubAttr != "" {
			setOrRemove(elem, subKey, op, value, subDef)
		} else {
			elem = mergeValue(elem, value, top).(map[string]any)
		}
		written = append(written, len(out))
		out = append(out, elem)
	}
	for _, i := range written {
		clearOtherPrimaries(out, i)
	}
	switch {
	case len(out) == 0:
		// RFC 7644 §3.5.2.2: no values left, the attribute is unassigned.
		delete(holder, key)
	case single:
		holder[key] = out[0]
	default:
		holder[key] = out
	}
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
			l[k] = v // contradictions are caught by matching the result
		}
		return l, true
	}
	return nil, false
}

// setOrRemove sets or removes the sub-attribute key of m, keeping the
// spelling m already uses for it, else the schema's (def), else key.
func setOrRemove(m map[string]any, key, op string, value any, def *Attribute) {
	if _, existing, ok := Get(m, key); ok {
		key = existing
	} else if def != nil {
		key = def.Name
	}
	if op == PatchRemove {
		delete(m, key)
		return
	}
	m[key] = mergeValue(m[key], value, def)
}

// mergeValue merges a complex value into an existing complex value
// (RFC 7644 §3.5.2.1 and §3.5.2.3: sub-attributes not named are left
// unchanged); any other value replaces. Sub-attributes keep the spelling
// cur uses, else the schema's (def describes the complex attribute).
func mergeValue(cur, value any, def *Attribute) any {
	cm, ok1 := cur.(map[string]any)
	vm, ok2 := value.(map[string]any)
	if !ok2 {
		return value
	}
	if !ok1 {
		cm = nil
	}
	out := make(map[string]any, len(cm)+len(vm))
	for k, v := range cm {
		out[k] = v
	}
	for _, k := range sortedKeys(vm) {
		key := k
		if _, existing, ok := Get(out, k); ok {
			key = existing
		} else if s := def.Sub(k); s != nil {
			key = s.Name
		}
		out[key] = vm[k]
	}
	return out
}

// clearOtherPrimaries enforces RFC 7644 §3.5.2: setting one value's
// "primary" to true sets it to false on the others.
func clearOtherPrimaries(elems []any, chosen int) {
	m, ok := elems[chosen].(map[string]any)
	if !ok {
		return
	}
	pv, _, _ := Get(m, "primary")
	if b, ok := ParseBool(pv); !ok || !b {
		return
	}
	for i, e := range elems {
		em, ok := e.(map[string]any)
		if !ok || i == chosen {
			continue
		}
		if pv, key, found := Get(em, "primary"); found {
			if b, ok := ParseBool(pv); ok && b {
				em[key] = false
			}
		}
	}
}

func isArray(v any) bool { _, ok := v.([]any); return ok }

// asList returns v as a new list: v's elements when v is an array, nothing
// when v is null, else v alone.
func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return append([]any{}, l...)
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

// removeByValue drops the elements whose "value" equals one given (or that
// equal a given element without a "value"): Entra's default dialect removes
// members with {"op":"Remove","path":"members","value":[{"value":"id"}]}
// (entra-behavior §3). "value" is compared as the schema says (caseExact),
// exactly for attributes it does not describe.
func removeByValue(elems []any, value any, top *Attribute) []any {
	caseExact := true
	if vd := top.Sub("value"); vd != nil {
		caseExact = vd.CaseExact
	}
	var drop []string
	var whole []any
	for _, v := range asList(value) {
		if s, ok := ElementValue(v); ok {
			drop = append(drop, s)
		} else {
			whole = append(whole, v)
		}
	}
	out := make([]any, 0, len(elems))
next:
	for _, e := range elems {
		if s, ok := ElementValue(e); ok {
			for _, d := range drop {
				if s == d || !caseExact && strings.EqualFold(s, d) {
					continue next
				}
			}
		}
		if containsDeep(whole, e) {
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
