package sync

import (
	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// ADSCIMGroupSchema is the second schema URI of Entra's group create body
// (SCIM-TUT "Create Group").
const ADSCIMGroupSchema = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

// Op is a PATCH operation (RFC 7644 §3.5.2).
type Op uint8

const (
	OpAdd Op = iota + 1
	OpReplace
	OpRemove
)

// Name is the op as the dialect spells it: Add, Replace, Remove in the
// legacy dialect, lower case with aadOptscim062020 (COMPAT).
func (o Op) Name(d Dialect) string {
	var s string
	switch o {
	case OpAdd:
		s = "Add"
	case OpReplace:
		s = "Replace"
	case OpRemove:
		s = "Remove"
	}
	if d == DialectFlag {
		return string(s[0]|0x20) + s[1:]
	}
	return s
}

// Change is one attribute an export sets: its mapping, the op (Add when
// the target has no value, Replace when it has another: the inference of
// entra-behavior §2.4 from COMPAT's two samples), the value and what the
// target held.
type Change struct {
	Attr     *mapping.Attribute
	Path     scim.AttrPath
	Op       Op
	Value    expr.Value
	Redacted bool
	// Old is the target's value (nil on a create, or when it had none).
	Old any
}

// Target is the attribute's path as the mapping names it.
func (c *Change) Target() string { return c.Attr.Target }

// valueFunc gives the value that flows for a mapped attribute (the
// mapped value, or the tombstone policy's substitute).
type valueFunc func(v *mapping.AttrValue) expr.Value

func plainValue(v *mapping.AttrValue) expr.Value { return v.Value() }

// createBody is the POST body of a user or group (SCIM-TUT "Create User",
// "Create Group"): the schemas, every mapped value that flows on create in
// the mapping's order, and meta.resourceType. A group is created without
// members; they are added by PATCH once it exists. The changes list what
// the body sets, for the log's modified properties.
func createBody(d *mapping.Desired, policy BooleanPolicy, valueOf valueFunc) ([]byte, []Change, error) {
	root := obj{}
	if d.Kind == mapping.Groups {
		root.set("schemas", []string{scim.GroupSchema, ADSCIMGroupSchema})
	} else {
		root.set("schemas", []string{scim.UserSchema, scim.EnterpriseUserSchema})
	}
	var changes []Change
	for i := range d.Values {
		v := &d.Values[i]
		if !v.OnCreate() || v.Attribute.IsMembers() {
			continue
		}
		val := valueOf(v)
		w, err := wireValue(val, v.Attribute, wirePost, policy)
		if err != nil {
			return nil, nil, err
		}
		if w == nil {
			continue
		}
		p := pathOf(v.Attribute)
		setPath(&root, p, w)
		changes = append(changes, Change{Attr: v.Attribute, Path: p, Op: OpAdd, Value: val, Redacted: v.Redacted})
	}
	resourceType := "User"
	if d.Kind == mapping.Groups {
		resourceType = "Group"
	}
	root.set("meta", obj{{"resourceType", resourceType}})
	return appendJSON(nil, root), changes, nil
}

// createChanges lists what a create body sets, without building it.
func createChanges(d *mapping.Desired, valueOf valueFunc) []Change {
	var changes []Change
	for i := range d.Values {
		v := &d.Values[i]
		if !v.OnCreate() || v.Attribute.IsMembers() {
			continue
		}
		val := valueOf(v)
		if val.IsNull() {
			continue
		}
		changes = append(changes, Change{Attr: v.Attribute, Path: pathOf(v.Attribute), Op: OpAdd, Value: val, Redacted: v.Redacted})
	}
	return changes
}

// setPath places a value at a path of an ordered body: name.givenName
// under name, emails[type eq "work"].value as the element
// {"primary":true,"type":"work","value":…} (primary on an array's first
// element, as SCIM-TUT's create sample shows), an extension's attribute
// under its URN.
func setPath(root *obj, p scim.AttrPath, val any) {
	o := root
	if p.URI != "" {
		ext, _ := o.get(p.URI)
		eo, ok := ext.(*obj)
		if !ok {
			eo = &obj{}
			o.set(p.URI, eo)
		}
		o = eo
	}
	if p.ValueFilter != nil {
		ce, ok := p.ValueFilter.(*scim.CompareExpr)
		if !ok || ce.Path.SubAttr != "" || p.SubAttr == "" {
			o.set(p.Name, val)
			return
		}
		cur, _ := o.get(p.Name)
		list, _ := cur.([]any)
		var elem *obj
		for _, e := range list {
			if eo, ok := e.(*obj); ok {
				if v, _ := eo.get(ce.Path.Name); v == ce.Value {
					elem = eo
				}
			}
		}
		if elem == nil {
			elem = &obj{}
			if len(list) == 0 {
				elem.set("primary", true)
			}
			elem.set(ce.Path.Name, ce.Value)
			list = append(list, elem)
			o.set(p.Name, list)
		}
		elem.set(p.SubAttr, val)
		return
	}
	if p.SubAttr == "" {
		o.set(p.Name, val)
		return
	}
	cur, _ := o.get(p.Name)
	sub, ok := cur.(*obj)
	if !ok {
		sub = &obj{}
		o.set(p.Name, sub)
	}
	sub.set(p.SubAttr, val)
}

// patchDoc wraps operations in a PatchOp message.
func patchDoc(ops []any) []byte {
	return appendJSON(nil, obj{{"schemas", []string{scim.PatchOpSchema}}, {"Operations", ops}})
}

// patchBody is the PATCH of changed attributes, byte for byte in the
// dialect's shape (entra-behavior §2.4, §2.5; COMPAT):
//
//   - legacy: one op per attribute, in the mapping's order, each with its
//     path: {"op":"Replace","path":"name.familyName","value":"…"}; Boolean
//     values as "True"/"False".
//   - aadOptscim062020: ops on value-filtered paths (emails[type eq
//     "work"].value) first, each with its path; then every Add with its
//     path; then the replacements: one with its path when it is alone,
//     merged into one path-less {"op":"replace","value":{…}} with dotted
//     and URN keys when there are several. Booleans are JSON booleans.
func patchBody(changes []Change, d Dialect, policy BooleanPolicy) ([]byte, error) {
	ctx := patchContext(d)
	op := func(c *Change) (obj, error) {
		w, err := wireValue(c.Value, c.Attr, ctx, policy)
		if err != nil {
			return nil, err
		}
		return obj{{"op", c.Op.Name(d)}, {"path", c.Attr.Target}, {"value", w}}, nil
	}
	var ops []any
	if d != DialectFlag {
		for i := range changes {
			o, err := op(&changes[i])
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
		}
		return patchDoc(ops), nil
	}
	var adds, replaces []*Change
	for i := range changes {
		c := &changes[i]
		switch {
		case c.Path.ValueFilter != nil:
			o, err := op(c)
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
		case c.Op == OpAdd:
			adds = append(adds, c)
		default:
			replaces = append(replaces, c)
		}
	}
	for _, c := range adds {
		o, err := op(c)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	switch len(replaces) {
	case 0:
	case 1:
		o, err := op(replaces[0])
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	default:
		merged := obj{}
		for _, c := range replaces {
			w, err := wireValue(c.Value, c.Attr, ctx, policy)
			if err != nil {
				return nil, err
			}
			merged = append(merged, member{c.Attr.Target, w})
		}
		ops = append(ops, obj{{"op", OpReplace.Name(d)}, {"value", merged}})
	}
	return patchDoc(ops), nil
}

// memberPatch is one membership PATCH of a group (SCIM-TUT "Add members",
// COMPAT "remove a group member"):
//
//   - add, both dialects: {"op":"Add","path":"members","value":[{"$ref":null,"value":"<id>"},…]}
//     (the op lower case with the flag);
//   - remove, legacy: {"op":"Remove","path":"members","value":[{"value":"<id>"},…]};
//   - remove, aadOptscim062020: one {"op":"remove","path":"members[value eq \"<id>\"]"} per member.
//
// ids are the target ids of the users.
func memberPatch(add bool, ids []string, d Dialect) []byte {
	if add {
		vals := make([]any, len(ids))
		for i, id := range ids {
			vals[i] = obj{{"$ref", rawNull{}}, {"value", id}}
		}
		return patchDoc([]any{obj{{"op", OpAdd.Name(d)}, {"path", "members"}, {"value", vals}}})
	}
	if d == DialectFlag {
		ops := make([]any, len(ids))
		for i, id := range ids {
			ops[i] = obj{{"op", OpRemove.Name(d)}, {"path", "members[value eq " + scim.QuoteString(id) + "]"}}
		}
		return patchDoc(ops)
	}
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = obj{{"value", id}}
	}
	return patchDoc([]any{obj{{"op", OpRemove.Name(d)}, {"path", "members"}, {"value", vals}}})
}
