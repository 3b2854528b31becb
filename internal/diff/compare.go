package diff

import (
	"fmt"
	esync "github.com/miscim/miscim/internal/entra/sync"
	"runtime"
	"slices"
	"strings"
	gosync "sync"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/scim"
)

// Options shape a comparison.
type Options struct {
	// Only reports one part: users, groups or members.
	Only Only
	// IgnoreUnmanaged leaves out the target objects that never were in
	// the tenant (a production Metric Insights has its local admins).
	IgnoreUnmanaged bool
	// Links are what the simulator's connector space remembers of the
	// target; nil when there is none.
	Links *Links
}

// Links are the connector space's links: a tenant object's objectId
// (lower case, as sync.SourceKey keys it) to the target id it is linked
// to, per kind. With them, objects are paired by their link first, a
// missing object that is linked is a dangling link (InvalidAnchor), and
// a target object no tenant object pairs with is deleted by the next
// cycle only when it is linked.
type Links struct {
	Users, Groups map[string]string
	// State names the state file, for reasons.
	State string
}

// of returns a kind's links (nil without a connector space).
func (l *Links) of(k mapping.ObjectKind) map[string]string {
	if l == nil {
		return nil
	}
	if k == mapping.Groups {
		return l.Groups
	}
	return l.Users
}

// comparison is one Compare: the tenant's side, the target's, and the
// report being built.
type comparison struct {
	mp   *mapping.Mapper
	t    *tenant.Tenant
	m    *mapping.Mapping
	snap *Snapshot
	opts Options
	rep  *Report

	users, groups   *pairing
	desiredGroups   []*mapping.Desired
	removedUsers    []bool          // target users reported removed (would be deleted)
	linkedTargets   map[string]bool // target ids the connector space links
	userByTargetID  map[string]int32
	skipOutOfScope  bool
	groupsCompared  bool
	membersCompared bool
}

// Compare compares what the tenant, mapped by mp, should produce with
// what the snapshot holds (DESIGN §6). The snapshot must have been read
// with mp's mapping.
func Compare(mp *mapping.Mapper, snap *Snapshot, opts Options) *Report {
	c := &comparison{mp: mp, t: mp.Tenant(), m: mp.Mapping(), snap: snap, opts: opts, rep: &Report{}}
	c.skipOutOfScope = c.m.SkipOutOfScopeDeletions
	c.groupsCompared = c.m.Groups.Enabled && opts.Only != OnlyUsers
	c.membersCompared = c.groupsCompared && snap.MembersRead && opts.Only != OnlyGroups
	if opts.Links != nil {
		c.linkedTargets = map[string]bool{}
		for _, m := range []map[string]string{opts.Links.Users, opts.Links.Groups} {
			for _, id := range m {
				if id != "" {
					c.linkedTargets[id] = true
				}
			}
		}
	}
	c.userByTargetID = make(map[string]int32, len(snap.Users))
	for j, o := range snap.Users {
		c.userByTargetID[o.ID] = int32(j)
	}
	c.compareUsers()
	if !c.m.Groups.Enabled {
		c.rep.Notes = append(c.rep.Notes, "group provisioning is turned off in the mapping: groups and memberships are not compared")
	} else if c.groupsCompared {
		c.compareGroups()
	}
	if c.groupsCompared && !c.membersCompared && opts.Only != OnlyGroups {
		c.rep.Notes = append(c.rep.Notes, "the target's group members were not read: memberships are not compared")
	}
	sortChanges(c.rep.Changes)
	c.rep.users, c.rep.groups, c.rep.snap, c.rep.mp = c.users, c.groups, snap, mp
	return c.rep
}

// sink collects what one worker of a pass finds, for drain to add in
// order.
type sink struct {
	changes           []Change
	paired, identical int
}

// drain adds a sink's changes and counts.
func (c *comparison) drain(out *sink, sum *Counts) {
	sum.Paired += out.paired
	sum.Identical += out.identical
	for _, ch := range out.changes {
		c.add(ch)
	}
}

// parallel runs fn over [0, n) cut into one range per core, and returns
// the ranges' results in order.
func parallel[T any](n int, fn func(lo, hi int) T) []T {
	w := max(1, min(runtime.GOMAXPROCS(0), n/1000))
	out := make([]T, w)
	var wg gosync.WaitGroup
	for k := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[k] = fn(n*k/w, n*(k+1)/w)
		}()
	}
	wg.Wait()
	return out
}

func (c *comparison) add(ch Change) {
	if !c.opts.Only.keeps(&ch) {
		return
	}
	if ch.Kind == Unmanaged && c.opts.IgnoreUnmanaged {
		return
	}
	c.rep.Summary.count(&ch)
	c.rep.Changes = append(c.rep.Changes, ch)
}

// keyValues are the pairing key values of every target object of a kind.
func targetKeys(keys []keySpec, objs []*Object) [][]string {
	out := make([][]string, len(keys))
	for k := range keys {
		out[k] = make([]string, len(objs))
		for j, o := range objs {
			var s string
			switch {
			case keys[k].link:
				s = o.ID
			case keys[k].Attr == "userName" || keys[k].Attr == "displayName":
				s = o.Name
			default:
				s, _ = esync.TargetText(o.Values[keys[k].pos])
			}
			out[k][j] = keys[k].keyText(s)
		}
	}
	return out
}

// desiredKeys fills the key values of one desired object: the matching
// values Entra queries with (before defaults), and the fallback's value
// as it flows.
func desiredKeys(keys []keySpec, links map[string]string, d *mapping.Desired, out [][]string, i int) {
	var ms []mapping.Match
	for k := range keys {
		key := &keys[k]
		var s string
		if key.link {
			s = links[strings.ToLower(d.ObjectID)]
		} else if key.matching {
			if ms == nil {
				ms = d.Matching()
			}
			for _, m := range ms {
				if m.Present && canonical(m.Attribute.Target) == canonical(key.Attr) {
					s = m.Value
				}
			}
		} else if key.pos < len(d.Values) {
			v := &d.Values[key.pos]
			if v.Err == nil && v.Flow != mapping.FlowNone {
				s, _ = v.Value().Single()
			}
		}
		out[k][i] = key.keyText(s)
	}
}

func (c *comparison) compareUsers() {
	snap, om := c.snap, &c.m.Users
	set := snap.users
	links := c.opts.Links.of(mapping.Users)
	keys := pairingKeys(om, set, links)
	n := c.t.UserCount()
	leftKeys := make([][]string, len(keys))
	for k := range keys {
		leftKeys[k] = make([]string, n)
	}
	inScope := make([]bool, n)
	// Mapping every user twice (for the keys, then for the comparison)
	// costs less than keeping 100,000 mapped users; both passes run on
	// every core, each worker over its own range, with its own Desired.
	parallel(n, func(lo, hi int) struct{} {
		d := &mapping.Desired{}
		for i := lo; i < hi; i++ {
			c.mp.UserTo(d, c.t.User(i))
			inScope[i] = d.Scope.InScope
			desiredKeys(keys, links, d, leftKeys, i)
		}
		return struct{}{}
	})
	p := pairObjects(keys, leftKeys, targetKeys(keys, snap.Users), inScope)
	c.users = p
	sum := &c.rep.Summary.Users
	sum.Tenant, sum.Target = n, len(snap.Users)
	for i := range n {
		if inScope[i] {
			sum.InScope++
		}
	}
	c.removedUsers = make([]bool, len(snap.Users))
	sinks := parallel(n, func(lo, hi int) *sink {
		out := &sink{}
		d := &mapping.Desired{}
		for i := lo; i < hi; i++ {
			if p.left[i] < 0 && (p.dup[i] || !inScope[i] && p.targetDup[int32(i)] == nil) {
				continue
			}
			c.mp.UserTo(d, c.t.User(i))
			c.object(out, d, p, i, set, om)
		}
		return out
	})
	for _, out := range sinks {
		c.drain(out, sum)
	}
	c.duplicates(mapping.Users, p, func(i int32) Ref {
		u := c.t.User(int(i))
		return Ref{Side: "tenant", Identity: u.UserPrincipalName(), ID: u.ObjectID()}
	}, snap.Users)
	for j, o := range snap.Users {
		if p.right[j] >= 0 || p.claimed[j] {
			continue
		}
		ch := c.unpaired(o, om, j)
		if ch.Kind == Removed {
			c.removedUsers[j] = true
		}
		c.add(ch)
	}
}

// object reports one tenant object that pairs, or is in scope, or
// matches several target objects.
func (c *comparison) object(out *sink, d *mapping.Desired, p *pairing, i int, set *attrSet, om *mapping.ObjectMapping) {
	kind := om.Kind
	objects := c.snap.Users
	if kind == mapping.Groups {
		objects = c.snap.Groups
	}
	base := Change{Object: kind.Singular(), Identity: d.Name, SourceID: d.ObjectID, kind: kind, order: i}
	if cands := p.targetDup[int32(i)]; cands != nil {
		ch := base
		ch.Kind, ch.Action = Duplicate, ActionFail
		key := p.keys[p.dupBy[int32(i)]]
		ch.Reason = fmt.Sprintf("%d %ss in the target match its %s: Entra's query returns them all and the export fails (DuplicateTargetEntries)", len(cands), kind.Singular(), key.Attr)
		if !key.matching {
			ch.Action = ActionNone
			ch.Reason = fmt.Sprintf("%d %ss in the target have its %s: it cannot be paired with one of them", len(cands), kind.Singular(), key.Attr)
		}
		ch.Objects = append(ch.Objects, Ref{Side: "tenant", Identity: d.Name, ID: d.ObjectID})
		for _, j := range cands {
			ch.Objects = append(ch.Objects, Ref{Side: "target", Identity: objects[j].Name, ID: objects[j].ID})
		}
		out.changes = append(out.changes, ch)
		return
	}
	j := p.left[i]
	if j < 0 {
		if !d.Scope.InScope {
			return
		}
		ch := base
		ch.Kind, ch.Action = Missing, ActionCreate
		ch.Reason = d.Scope.String() + "; not in the target: the next cycle creates it"
		linked := c.opts.Links.of(kind)[strings.ToLower(d.ObjectID)]
		switch {
		case linked != "":
			// Entra reads a linked object by its id and never re-creates
			// it (InvalidAnchor, entra-edge-cases §7).
			ch.Action = ActionFail
			ch.TargetID = linked
			ch.Reason = fmt.Sprintf("%s; the connector space links it to %s, which the target does not hold: a cycle that evaluates it gets 404 (InvalidAnchor) and does not re-create it (simulate --restart-full matches it again)", d.Scope.String(), linked)
		case d.Err() != nil:
			ch.Action = ActionFail
			ch.Reason = d.Scope.String() + "; not in the target, and its export fails: " + d.Err().Error()
		case !om.Actions.Create:
			ch.Action = ActionNone
			ch.Reason = d.Scope.String() + "; not in the target, and Create is not a target object action of the mapping"
		}
		out.changes = append(out.changes, ch)
		return
	}
	o := objects[j]
	out.paired++
	base.TargetID, base.PairedBy = o.ID, p.pairedBy(i)
	if !d.Scope.InScope {
		if ch, ok := c.outOfScope(base, d, o, set, om); ok {
			out.changes = append(out.changes, ch)
			return
		}
		out.identical++
		return
	}
	attrs := attributes(d, o, set)
	if len(attrs) == 0 {
		out.identical++
		return
	}
	ch := base
	ch.Kind, ch.Action, ch.Attributes = Changed, ActionUpdate, attrs
	ch.Reason = plural(len(attrs), "attribute") + " differ: the next cycle updates it"
	if len(attrs) == 1 {
		ch.Reason = "1 attribute differs: the next cycle updates it"
	}
	if kind == mapping.Users && !o.Active {
		ch.Reason = "disabled in the target while in scope: the next cycle enables it"
		if len(attrs) > 1 {
			ch.Reason += " and updates " + plural(len(attrs)-1, "other attribute")
		}
	}
	if !om.Actions.Update {
		ch.Action = ActionNone
		ch.Reason = plural(len(attrs), "attribute") + " differ, and Update is not a target object action of the mapping"
	}
	out.changes = append(out.changes, ch)
}

// outOfScope reports a tenant object out of scope whose target object is
// still active (a user) or present (a group): what the next cycle does
// about it (entra-behavior §2.6, §3).
func (c *comparison) outOfScope(base Change, d *mapping.Desired, o *Object, set *attrSet, om *mapping.ObjectMapping) (Change, bool) {
	ch := base
	ch.Kind = OutOfScope
	s := d.Scope
	if om.Kind == mapping.Groups {
		if s.Causes.Has(mapping.ProvisioningOff) {
			return ch, false
		}
		ch.Action = ActionDelete
		ch.Reason = s.String() + "; the next cycle deletes the group"
		if !om.Actions.Delete {
			ch.Action = ActionNone
			ch.Reason = s.String() + "; Delete is not a target object action, so the group stays"
		}
		return ch, true
	}
	if !o.Active {
		// Disabled already: what Entra's disable leaves (in mode Y the
		// user would not be listed at all).
		return ch, false
	}
	active, known := activeValue(d, set)
	switch {
	case c.skipOutOfScope:
		ch.Action = ActionNone
		ch.Reason = s.String() + "; SkipOutOfScopeDeletions is set: the user stays active"
	case !known || active:
		ch.Action = ActionNone
		ch.Reason = s.String() + "; nothing the mapping sends deactivates it (active is not mapped from IsSoftDeleted)"
	case !om.Actions.Update:
		ch.Action = ActionNone
		ch.Reason = s.String() + "; Update is not a target object action, so the user cannot be disabled"
	default:
		ch.Action = ActionDisable
		ch.Reason = s.String() + "; the next cycle disables the user"
		ch.Attributes = attributes(d, o, set)
	}
	return ch, true
}

// activeValue is the meaning of the user's mapped active value; known is
// false when active is not mapped or does not flow.
func activeValue(d *mapping.Desired, set *attrSet) (active, known bool) {
	pos := set.position("active")
	if pos < 0 || pos >= len(d.Values) {
		return false, false
	}
	v := &d.Values[pos]
	if v.Err != nil || v.Flow == mapping.FlowNone {
		return false, false
	}
	s, ok := v.Value().Single()
	if !ok {
		return false, false
	}
	return scim.ParseBool(s)
}

// attributes lists what differs between a desired object and its target
// object, the way Entra decides what an update sends (entra-behavior
// §2.4): values that apply always and differ, and a None mapping's
// default where the target has no value. Values applied only on
// creation, nulls (Entra does not flow them), failed expressions and
// members are not compared. An attribute the target does not return
// differs: Entra sends it again on every cycle.
func attributes(d *mapping.Desired, o *Object, set *attrSet) []Attribute {
	var out []Attribute
	for i := range d.Values {
		v := &d.Values[i]
		if v.Err != nil || i >= len(o.Values) {
			continue
		}
		have := o.Values[i]
		switch v.Flow {
		case mapping.FlowAlways:
			if esync.HoldsValue(v.Value(), v.Attribute.TargetType, have) {
				continue
			}
		case mapping.FlowIfTargetEmpty:
			if !esync.EmptyTarget(have) {
				continue
			}
		default:
			continue
		}
		out = append(out, Attribute{Attribute: v.Attribute.Target, Target: have, Desired: v.JSON(), Source: v.Attribute.SourceText()})
	}
	return out
}

// unpaired reports a target object no tenant object pairs with. It was
// Entra's when it carries a source anchor: an externalId the mapping
// sends (Metric Insights' mapping sends objectId); then its source is gone
// from the tenant and the next cycle deletes it. Without one — a user
// created in Metric Insights (source local), an object created without
// externalId — it never was in the tenant.
func (c *comparison) unpaired(o *Object, om *mapping.ObjectMapping, j int) Change {
	ch := Change{Object: om.Kind.Singular(), Identity: o.Name, TargetID: o.ID, kind: om.Kind, order: 1<<30 + j}
	anchor := o.ExternalID != "" && o.Source != "local" && c.snap.set(om.Kind).position("externalId") >= 0
	if c.linkedTargets != nil {
		// The connector space says which objects Entra manages: it
		// deletes those whose source is gone, and nothing else.
		switch {
		case c.linkedTargets[o.ID]:
			ch.Kind, ch.Action = Removed, ActionDelete
			ch.Reason = "linked in the connector space, and its tenant object is gone: the next cycle deletes it"
			if !om.Actions.Delete {
				ch.Action = ActionNone
				ch.Reason = "linked in the connector space, and its tenant object is gone; Delete is not a target object action, so it stays"
			}
			return ch
		case anchor:
			ch.Kind, ch.Action = Removed, ActionNone
			ch.Reason = fmt.Sprintf("no tenant object has its externalId %s, and the connector space does not link it: no cycle deletes it (Entra deletes only what it manages)", o.ExternalID)
			return ch
		}
	}
	if !anchor {
		ch.Kind, ch.Action = Unmanaged, ActionNone
		ch.Reason = "in the target, never in the tenant: Entra does not manage it"
		if o.Source == "local" {
			ch.Reason = "a local Metric Insights " + om.Kind.Singular() + ", never in the tenant: Entra does not manage it"
		}
		return ch
	}
	ch.Kind, ch.Action = Removed, ActionDelete
	ch.Reason = fmt.Sprintf("no tenant object has its externalId %s: deleted from the tenant, so the next cycle deletes it", o.ExternalID)
	if !om.Actions.Delete {
		ch.Action = ActionNone
		ch.Reason = fmt.Sprintf("no tenant object has its externalId %s, and Delete is not a target object action, so it stays", o.ExternalID)
	}
	return ch
}

// duplicates reports tenant objects that share a matching value.
func (c *comparison) duplicates(kind mapping.ObjectKind, p *pairing, ref func(int32) Ref, objects []*Object) {
	firsts := make([]int32, 0, len(p.tenantDup))
	for f := range p.tenantDup {
		firsts = append(firsts, f)
	}
	slices.Sort(firsts)
	for _, f := range firsts {
		others := p.tenantDup[f]
		r := ref(f)
		ch := Change{Kind: Duplicate, Object: kind.Singular(), Action: ActionFail, Identity: r.Identity, SourceID: r.ID, kind: kind, order: int(f)}
		ch.Objects = append(ch.Objects, r)
		names := []string{}
		for _, o := range others {
			or := ref(o)
			ch.Objects = append(ch.Objects, or)
			names = append(names, or.Identity)
		}
		key := p.firstMatching()
		ch.Reason = fmt.Sprintf("%d %ss of the tenant in scope have the same %s (%s): Entra matches them all with one target object", len(others)+1, kind.Singular(), key, strings.Join(append([]string{r.Identity}, names...), ", "))
		for _, i := range append([]int32{f}, others...) {
			if j := p.left[i]; j >= 0 {
				ch.TargetID = objects[j].ID
				ch.Objects = append(ch.Objects, Ref{Side: "target", Identity: objects[j].Name, ID: objects[j].ID})
			}
		}
		c.add(ch)
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
