package sync

import (
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

// hasher is FNV-1a (64 bit) over length-prefixed strings, inlined: the
// digest of every object of the tenant is computed every cycle.
type hasher struct{ h uint64 }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newHasher() hasher { return hasher{h: fnvOffset} }

func (h *hasher) byte(c byte) {
	h.h ^= uint64(c)
	h.h *= fnvPrime
}

func (h *hasher) str(s string) {
	n := len(s)
	for n > 0 {
		h.byte(byte(n))
		n >>= 8
	}
	h.byte(0xff)
	for i := 0; i < len(s); i++ {
		h.h ^= uint64(s[i])
		h.h *= fnvPrime
	}
}

func (h *hasher) sum() uint64 {
	if h.h == 0 {
		return 1 // 0 means "never synced"
	}
	return h.h
}

// ObjectDigest is the fingerprint of a mapped object (see above).
func ObjectDigest(d *mapping.Desired) uint64 {
	h := newHasher()
	h.str(string(d.Kind))
	h.str(d.Name)
	s := d.Scope
	if s.InScope {
		h.byte(1)
	} else {
		h.byte(0)
	}
	h.byte(byte(s.Causes))
	for i := range d.Values {
		v := &d.Values[i]
		if v.Flow == mapping.FlowOnCreate || v.Flow == mapping.FlowNone {
			if v.Err == nil {
				continue
			}
		}
		h.str(v.Attribute.Target)
		h.byte(byte(v.Flow))
		if v.Err != nil {
			h.str("error:" + v.Err.Error())
			continue
		}
		val := v.Value()
		if s, ok := val.Single(); ok {
			h.byte(1)
			h.str(s)
			continue
		}
		vals := val.Values()
		h.byte(byte(len(vals)))
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
