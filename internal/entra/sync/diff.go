package sync

import (
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// diffResource compares the desired values of an object with the
// resource the target returned and lists what an update sends
// (entra-behavior §2.4; entra-edge-cases §6): values that apply always and
// differ, and the defaults of None mappings where the target is empty.
// Values applied only on creation, null values (Entra does not flow
// nulls) and members are left out. An attribute the target does not
// return is sent again on every evaluation, as Entra does with an
// attribute the target does not store (CG, SENTRY #84941).
func diffResource(d *mapping.Desired, have scim.Resource, valueOf valueFunc) []Change {
	var out []Change
	for i := range d.Values {
		v := &d.Values[i]
		a := v.Attribute
		if a.IsMembers() || v.Err != nil {
			continue
		}
		switch v.Flow {
		case mapping.FlowAlways, mapping.FlowIfTargetEmpty:
		default:
			continue
		}
		want := valueOf(v)
		if want.IsNull() {
			continue
		}
		p := pathOf(a)
		cur := TargetValue(have, p)
		if v.Flow == mapping.FlowIfTargetEmpty {
			if EmptyTarget(cur) {
				out = append(out, Change{Attr: a, Path: p, Op: OpAdd, Value: want, Redacted: v.Redacted})
			}
			continue
		}
		if HoldsValue(want, a.TargetType, cur) {
			continue
		}
		op := OpReplace
		if EmptyTarget(cur) {
			op = OpAdd
			cur = nil
		}
		out = append(out, Change{Attr: a, Path: p, Op: op, Value: want, Redacted: v.Redacted, Old: cur})
	}
	return out
}

// exportedResource is the resource the connector space remembers having
// exported, for dry runs, which assume the target still holds it.
func exportedResource(exported map[string]string, d *mapping.Desired) scim.Resource {
	res := scim.Resource{}
	for i := range d.Values {
		a := d.Values[i].Attribute
		s, ok := exported[a.Target]
		if !ok {
			continue
		}
		p := pathOf(a)
		placeValue(res, p, s)
	}
	return res
}

// placeValue sets a string at a path of a decoded resource.
func placeValue(res map[string]any, p scim.AttrPath, s string) {
	m := res
	if p.URI != "" {
		ext, ok := m[p.URI].(map[string]any)
		if !ok {
			ext = map[string]any{}
			m[p.URI] = ext
		}
		m = ext
	}
	if p.ValueFilter != nil {
		ce, ok := p.ValueFilter.(*scim.CompareExpr)
		if !ok || p.SubAttr == "" {
			return
		}
		list, _ := m[p.Name].([]any)
		list = append(list, map[string]any{ce.Path.Name: ce.Value, p.SubAttr: s})
		m[p.Name] = list
		return
	}
	if p.SubAttr != "" {
		sub, ok := m[p.Name].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p.Name] = sub
		}
		sub[p.SubAttr] = s
		return
	}
	m[p.Name] = s
}
