package sync

import (
	"hash/fnv"
	"strconv"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
)

// Change detection. Entra's incremental cycles act on what Graph's delta
// query reports changed since the watermark (HOW). A tenant export has no
// delta, so the simulator keeps a fingerprint of each object as it last
// synced it and compares in one pass: the pass is O(tenant) in memory and
// CPU (mapping every object, about a microsecond each), the requests are
// O(changes) — an object whose fingerprint is unchanged is not evaluated
// and sends nothing.
//
// An object's digest covers what decides its evaluation: its scope (and
// why it is out of scope) and every value that flows on update. Values
// that flow only on create are left out: once the object exists they are
// never sent again, and an expression such as Guid() in a create-only
// default would otherwise make every object look changed. A group's
// members have their own digest over the tenant's direct member list, so
// that a membership change re-evaluates the memberships and not the group
// object; whether a member is in scope is not part of it, which is
// Entra's known limitation (KNOWN "Member of group not provisioned": a
// member out of scope when its group was evaluated is not added when it
// later comes into scope, until restart).

type hasher struct {
	h interface {
		Write([]byte) (int, error)
		Sum64() uint64
	}
	buf []byte
}

func newHasher() *hasher { return &hasher{h: fnv.New64a()} }

func (h *hasher) str(s string) {
	h.buf = strconv.AppendInt(h.buf[:0], int64(len(s)), 10)
	h.buf = append(h.buf, ':')
	h.buf = append(h.buf, s...)
	h.h.Write(h.buf)
}

func (h *hasher) sum() uint64 {
	s := h.h.Sum64()
	if s == 0 {
		s = 1 // 0 means "never synced"
	}
	return s
}

// ObjectDigest is the fingerprint of a mapped object (see above).
func ObjectDigest(d *mapping.Desired) uint64 {
	h := newHasher()
	h.str(string(d.Kind))
	h.str(d.Name)
	s := d.Scope
	h.str(strconv.FormatBool(s.InScope) + strconv.Itoa(int(s.Causes)))
	for i := range d.Values {
		v := &d.Values[i]
		if v.Flow == mapping.FlowOnCreate || v.Flow == mapping.FlowNone {
			if v.Err == nil {
				continue
			}
		}
		h.str(v.Attribute.Target)
		h.str(v.Flow.String())
		if v.Err != nil {
			h.str("error:" + v.Err.Error())
			continue
		}
		vals := v.Value().Values()
		h.str(strconv.Itoa(len(vals)))
		for _, x := range vals {
			h.str(x)
		}
	}
	return h.sum()
}

// MembersDigest is the fingerprint of a group's direct members in the
// tenant, every kind, in the tenant's order.
func MembersDigest(g *tenant.Group) uint64 {
	h := newHasher()
	for _, m := range g.Members() {
		h.str(m.Kind.String())
		h.str(SourceKey(m.ID))
	}
	return h.sum()
}

// MappingDigest is the fingerprint of a mapping: a change to attribute
// mappings or scoping filters starts a new initial cycle, as Entra does
// (HOW; SCOPE; QUAR).
func MappingDigest(m *mapping.Mapping) uint64 {
	h := newHasher()
	h.str(strconv.FormatBool(m.SkipOutOfScopeDeletions))
	for _, om := range []*mapping.ObjectMapping{&m.Users, &m.Groups} {
		h.str(string(om.Kind))
		h.str(strconv.FormatBool(om.Enabled))
		h.str(strconv.FormatBool(om.Actions.Create) + strconv.FormatBool(om.Actions.Update) + strconv.FormatBool(om.Actions.Delete))
		for _, f := range om.Scoping {
			h.str("filter")
			for _, c := range f.Clauses {
				h.str(c.Attribute)
				h.str(string(c.Operator))
				h.str(c.Value)
			}
		}
		for _, a := range om.Attributes {
			h.str(a.Target)
			h.str(string(a.Type))
			h.str(a.SourceText())
			if a.Default != nil {
				h.str("default:" + *a.Default)
			}
			h.str(string(a.Apply))
			h.str(string(a.TargetType))
			h.str(strconv.Itoa(a.Matching))
		}
	}
	return h.sum()
}
