package diff

import (
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
)

func (c *comparison) compareGroups() {
	snap, om := c.snap, &c.m.Groups
	set := snap.groups
	links := c.opts.Links.of(mapping.Groups)
	keys := pairingKeys(om, set, links)
	n := c.t.GroupCount()
	leftKeys := make([][]string, len(keys))
	for k := range keys {
		leftKeys[k] = make([]string, n)
	}
	inScope := make([]bool, n)
	c.desiredGroups = make([]*mapping.Desired, n)
	for i := range n {
		d := c.mp.Group(c.t.Group(i))
		c.desiredGroups[i] = d
		inScope[i] = d.Scope.InScope
		desiredKeys(keys, links, d, leftKeys, i)
	}
	p := pairObjects(keys, leftKeys, targetKeys(keys, snap.Groups), inScope)
	c.groups = p
	sum := &c.rep.Summary.Groups
	sum.Tenant, sum.Target = n, len(snap.Groups)
	for i := range n {
		if inScope[i] {
			sum.InScope++
		}
	}
	out := &sink{}
	for i, d := range c.desiredGroups {
		if p.left[i] < 0 && (p.dup[i] || !inScope[i] && p.targetDup[int32(i)] == nil) {
			continue
		}
		c.object(out, d, p, i, set, om)
	}
	c.drain(out, sum)
	c.duplicates(mapping.Groups, p, func(i int32) Ref {
		g := c.t.Group(int(i))
		return Ref{Side: "tenant", Identity: g.DisplayName(), ID: g.ObjectID()}
	}, snap.Groups)
	for j, o := range snap.Groups {
		if p.right[j] >= 0 || p.claimed[j] {
			continue
		}
		c.add(c.unpaired(o, om, j))
	}
	if c.membersCompared {
		c.compareMembers()
	}
}

// compareMembers compares the memberships of every group in scope with
// its target group's: a direct member in scope that the target group
// lacks is added (once its user exists, for one still to be created); a
// target member that left the group in the tenant is removed. A member
// that is still a direct member but is out of scope otherwise (disabled,
// unassigned, soft-deleted) is not: Entra only disables such a user and
// keeps its memberships (entra-edge-cases §1), and it removes only
// memberships that changed in the tenant, never one it did not add
// (entra-behavior §3: it never reads members back).
func (c *comparison) compareMembers() {
	snap, users, groups := c.snap, c.users, c.groups
	ms := &c.rep.Summary.Members
	userTarget := func(ui int) string {
		if j := users.left[ui]; j >= 0 {
			return snap.Users[j].ID
		}
		return ""
	}
	for i, d := range c.desiredGroups {
		if !d.Scope.InScope || !d.MembersMapped || groups.dup[i] && groups.left[i] < 0 || groups.targetDup[int32(i)] != nil {
			continue
		}
		base := Change{Object: objGroup, Identity: d.Name, SourceID: d.ObjectID, kind: mapping.Groups, order: i}
		j := groups.left[i]
		var have map[string]bool
		if j >= 0 {
			g := snap.Groups[j]
			base.TargetID = g.ID
			have = make(map[string]bool, len(g.Members))
			for _, m := range g.Members {
				have[m] = true
			}
			ms.Target += len(g.Members)
		}
		ms.Desired += len(d.Members)
		want := make(map[string]bool, len(d.Members))
		for _, id := range d.Members {
			u, ok := c.t.UserByID(id)
			if !ok {
				continue
			}
			ui := u.Index()
			tid := userTarget(ui)
			if tid != "" {
				want[tid] = true
				if have[tid] {
					continue
				}
			}
			ch := base
			ch.Kind, ch.Action = MemberAdded, ActionAddMember
			ch.Member = &Member{Identity: u.UserPrincipalName(), SourceID: u.ObjectID(), TargetID: tid}
			switch {
			case j < 0:
				ch.Reason = "the group is not in the target yet: the next cycle adds the member once it is created"
			case users.dup[ui] && tid == "":
				ch.Action = ActionFail
				ch.Reason = "a member in the tenant, but another tenant user has the same matching value"
			case users.targetDup[int32(ui)] != nil:
				ch.Action = ActionFail
				ch.Reason = "a member in the tenant, but several target users match the user"
			case tid == "":
				ch.Reason = "a member in the tenant; the user is not in the target yet: the next cycle adds it once the user is created"
			default:
				ch.Reason = "a member in the tenant, not in the target group: the next cycle adds it"
			}
			c.add(ch)
		}
		if j < 0 {
			continue
		}
		var direct map[string]bool
		for _, m := range snap.Groups[j].Members {
			if want[m] {
				continue
			}
			ch := base
			ch.Kind, ch.Action = MemberRemoved, ActionRemoveMember
			tj, ok := c.userByTargetID[m]
			if !ok {
				ch.Action = ActionNone
				ch.Member = &Member{Identity: m, TargetID: m}
				ch.Reason = "not a user of the target: Entra never added it"
				c.add(ch)
				continue
			}
			o := snap.Users[tj]
			ch.Member = &Member{Identity: o.Name, TargetID: o.ID}
			ui := users.right[tj]
			switch {
			case ui >= 0:
				u := c.t.User(int(ui))
				if direct == nil {
					direct = directMembers(d.Group)
				}
				if direct[u.ObjectID()] {
					// Still a member, only out of scope: kept.
					continue
				}
				ch.Member.Identity, ch.Member.SourceID = u.UserPrincipalName(), u.ObjectID()
				ch.Reason = "not a member of the group in the tenant: the next cycle removes it"
			case c.removedUsers[tj]:
				// The user is deleted, and its memberships with it.
				continue
			default:
				ch.Action = ActionNone
				ch.Reason = "the user never was in the tenant: Entra does not remove a membership it did not add"
			}
			c.add(ch)
		}
	}
}

// directMembers are the objectIds of a tenant group's direct user
// members, in scope or not.
func directMembers(g *tenant.Group) map[string]bool {
	out := map[string]bool{}
	for _, m := range g.Members() {
		if m.Kind == tenant.MemberUser || m.Kind == tenant.MemberUnknown {
			out[m.ID] = true
		}
	}
	return out
}
