package diff

import (
	"cmp"
	esync "github.com/miscim/miscim/internal/entra/sync"
	"slices"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// CompareTargets compares a target with a reference target (--against):
// the reference plays the tenant's part, with the same pairing (its
// objects are paired with the target's by the same keys) and the same
// report. Missing is in the reference only, Extra in the target only;
// Changed lists the compared attributes whose values differ, compared as
// Compare compares them (booleans by meaning, several values as a set,
// the email Metric Insights keeps); memberships are compared through the
// user pairing, since the two targets' ids differ. Nothing is said of a
// next cycle: Action is empty. Both snapshots must have been read with
// m.
func CompareTargets(m *mapping.Mapping, target, against *Snapshot, opts Options) *Report {
	rep := &Report{}
	add := func(ch Change) {
		if !opts.Only.keeps(&ch) {
			return
		}
		rep.Summary.count(&ch)
		rep.Changes = append(rep.Changes, ch)
	}
	pairKind := func(om *mapping.ObjectMapping, ref, tgt []*Object, sum *Counts) *pairing {
		set := target.set(om.Kind)
		keys := pairingKeys(om, set, nil)
		p := pairObjects(keys, targetKeys(keys, ref), targetKeys(keys, tgt), nil)
		sum.Tenant, sum.InScope, sum.Target = len(ref), len(ref), len(tgt)
		kind := om.Kind.Singular()
		for i, r := range ref {
			base := Change{Object: kind, Identity: r.Name, SourceID: r.ID, kind: om.Kind, order: i}
			if p.dup[i] && p.left[i] < 0 {
				continue
			}
			if cands := p.targetDup[int32(i)]; cands != nil {
				ch := base
				ch.Kind = Duplicate
				ch.Reason = plural(len(cands), kind) + " of " + target.Name + " match its " + p.keys[p.dupBy[int32(i)]].Attr
				ch.Objects = append(ch.Objects, Ref{Side: "against", Identity: r.Name, ID: r.ID})
				for _, j := range cands {
					ch.Objects = append(ch.Objects, Ref{Side: "target", Identity: tgt[j].Name, ID: tgt[j].ID})
				}
				add(ch)
				continue
			}
			j := p.left[i]
			if j < 0 {
				ch := base
				ch.Kind, ch.Reason = Missing, "in "+against.Name+", not in "+target.Name
				add(ch)
				continue
			}
			sum.Paired++
			o := tgt[j]
			var attrs []Attribute
			for k, a := range set.attrs {
				if !sameJSON(r.Values[k], o.Values[k], a.TargetType) {
					attrs = append(attrs, Attribute{Attribute: a.Target, Target: o.Values[k], Desired: r.Values[k]})
				}
			}
			if len(attrs) == 0 {
				sum.Identical++
				continue
			}
			ch := base
			ch.Kind, ch.TargetID, ch.PairedBy, ch.Attributes = Changed, o.ID, p.pairedBy(i), attrs
			ch.Reason = plural(len(attrs), "attribute") + " differ"
			if len(attrs) == 1 {
				ch.Reason = "1 attribute differs"
			}
			add(ch)
		}
		firsts := make([]int32, 0, len(p.tenantDup))
		for f := range p.tenantDup {
			firsts = append(firsts, f)
		}
		slices.Sort(firsts)
		for _, f := range firsts {
			r := ref[f]
			ch := Change{Kind: Duplicate, Object: kind, Identity: r.Name, SourceID: r.ID, kind: om.Kind, order: int(f)}
			ch.Objects = append(ch.Objects, Ref{Side: "against", Identity: r.Name, ID: r.ID})
			for _, o := range p.tenantDup[f] {
				ch.Objects = append(ch.Objects, Ref{Side: "against", Identity: ref[o].Name, ID: ref[o].ID})
			}
			ch.Reason = plural(len(ch.Objects), kind) + " of " + against.Name + " have the same " + p.keys[0].Attr
			add(ch)
		}
		for j, o := range tgt {
			if p.right[j] >= 0 || p.claimed[j] {
				continue
			}
			add(Change{Kind: Extra, Object: kind, Identity: o.Name, TargetID: o.ID, Reason: "in " + target.Name + ", not in " + against.Name, kind: om.Kind, order: 1<<30 + j})
		}
		return p
	}
	rep.snap, rep.ref = target, against
	users := pairKind(&m.Users, against.Users, target.Users, &rep.Summary.Users)
	rep.users = users
	if opts.Only == OnlyUsers {
		sortChanges(rep.Changes)
		return rep
	}
	groups := pairKind(&m.Groups, against.Groups, target.Groups, &rep.Summary.Groups)
	rep.groups = groups
	if opts.Only == OnlyGroups || !target.MembersRead || !against.MembersRead {
		sortChanges(rep.Changes)
		return rep
	}
	refUser := indexByID(against.Users)
	tgtUser := indexByID(target.Users)
	ms := &rep.Summary.Members
	for i, r := range against.Groups {
		j := groups.left[i]
		if groups.dup[i] && groups.left[i] < 0 || groups.targetDup[int32(i)] != nil {
			continue
		}
		base := Change{Object: objGroup, Identity: r.Name, SourceID: r.ID, kind: mapping.Groups, order: i}
		ms.Desired += len(r.Members)
		have := map[string]bool{}
		if j >= 0 {
			base.TargetID = target.Groups[j].ID
			for _, id := range target.Groups[j].Members {
				have[id] = true
			}
			ms.Target += len(target.Groups[j].Members)
		}
		want := map[string]bool{}
		for _, id := range r.Members {
			name, tid := id, ""
			if ri, ok := refUser[id]; ok {
				name = against.Users[ri].Name
				if tj := users.left[ri]; tj >= 0 {
					tid = target.Users[tj].ID
				}
			}
			if tid != "" {
				want[tid] = true
				if have[tid] {
					continue
				}
			}
			ch := base
			ch.Kind, ch.Member = MemberAdded, &Member{Identity: name, SourceID: id, TargetID: tid}
			ch.Reason = "a member in " + against.Name + ", not in " + target.Name
			add(ch)
		}
		if j < 0 {
			continue
		}
		for _, id := range target.Groups[j].Members {
			if want[id] {
				continue
			}
			name := id
			if tj, ok := tgtUser[id]; ok {
				name = target.Users[tj].Name
			}
			ch := base
			ch.Kind, ch.Member = MemberRemoved, &Member{Identity: name, TargetID: id}
			ch.Reason = "a member in " + target.Name + ", not in " + against.Name
			add(ch)
		}
	}
	sortChanges(rep.Changes)
	return rep
}

func indexByID(objs []*Object) map[string]int {
	out := make(map[string]int, len(objs))
	for i, o := range objs {
		out[o.ID] = i
	}
	return out
}

// sameJSON compares two targets' values of one attribute: both empty,
// booleans by meaning, arrays as sets of their texts, else text.
func sameJSON(a, b any, tt mapping.TargetType) bool {
	ea, eb := esync.EmptyTarget(a), esync.EmptyTarget(b)
	if ea || eb {
		return ea == eb
	}
	if tt == mapping.TypeBoolean {
		x, ok1 := scim.ParseBool(a)
		y, ok2 := scim.ParseBool(b)
		if ok1 && ok2 {
			return x == y
		}
	}
	la, oka := a.([]any)
	lb, okb := b.([]any)
	if oka && okb {
		ta, tb := texts(la), texts(lb)
		slices.Sort(ta)
		slices.Sort(tb)
		return slices.Equal(ta, tb)
	}
	ta, _ := esync.TargetText(a)
	tb, _ := esync.TargetText(b)
	return ta == tb
}

func texts(list []any) []string {
	out := make([]string, 0, len(list))
	for _, e := range list {
		if t, ok := esync.TargetText(e); ok {
			out = append(out, t)
		}
	}
	return out
}

// section orders the report: users, then groups, then memberships.
func section(c *Change) int {
	switch {
	case c.Member != nil:
		return 2
	case c.kind == mapping.Groups:
		return 1
	}
	return 0
}

func kindIndex(k Kind) int { return slices.Index(Kinds, k) }

// sortChanges puts a report in its stable order: users, groups and
// memberships; objects by kind of change, then in the tenant's (or the
// reference's) order and the target's; memberships group by group, the
// additions first.
func sortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int {
		if d := cmp.Compare(section(&a), section(&b)); d != 0 {
			return d
		}
		if section(&a) == 2 {
			if d := cmp.Compare(a.order, b.order); d != 0 {
				return d
			}
			return cmp.Compare(kindIndex(a.Kind), kindIndex(b.Kind))
		}
		if d := cmp.Compare(kindIndex(a.Kind), kindIndex(b.Kind)); d != 0 {
			return d
		}
		return cmp.Compare(a.order, b.order)
	})
}
