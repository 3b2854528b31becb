package sync

import "github.com/miscim/miscim/internal/entra/mapping"

// MemberRef is one user membership of a group: the user's source key
// (lower-case objectId) and its target id.
type MemberRef struct {
	UserKey  string
	TargetID string
}

// MemberCase is one group's membership evaluation. Entra never reads
// members back: what it sends is its own diff of the tenant's membership
// against what it last exported (entra-behavior §3; entra-edge-cases §4,
// §6.4).
type MemberCase struct {
	// Desired are the group's direct user members in scope, in the
	// tenant's order, with their target ids ("" for a user without a
	// target object).
	Desired []MemberRef
	// Direct reports whether a user (by key) is a direct member of the
	// group in the tenant, in scope or not.
	Direct func(userKey string) bool
	// SoftDeleted reports whether a user is soft-deleted in the tenant.
	SoftDeleted func(userKey string) bool
	// Exported are the memberships last exported to the target group.
	Exported []MemberRef
	Policy   *Policy
}

// MemberPlan is what a group's membership evaluation sends.
type MemberPlan struct {
	// Add are in-scope members not yet exported; Remove exported members
	// whose membership changed in the tenant.
	Add, Remove []MemberRef
	// Unresolved are in-scope members without a target object (their
	// export failed): reference failures, retried on the next cycle.
	Unresolved []string
}

// Empty reports a plan that sends nothing.
func (p *MemberPlan) Empty() bool { return len(p.Add) == 0 && len(p.Remove) == 0 }

// PlanMembers decides a group's membership changes:
//
//   - an in-scope direct member whose user has a target object and that
//     was not exported is added;
//   - an exported member is removed only when its membership changed in
//     the tenant — it left the group, or the user is gone — never because
//     the user left scope otherwise (entra-edge-cases §1: unassignment
//     and disabling only disable the user);
//   - a soft-deleted user's membership is kept unless the
//     remove-members-on-soft-delete policy says otherwise (the directory
//     drops and restores it; no capture shows Entra removing it).
func PlanMembers(mc *MemberCase) MemberPlan {
	var p MemberPlan
	exported := make(map[string]bool, len(mc.Exported))
	for _, m := range mc.Exported {
		exported[m.UserKey] = true
	}
	for _, m := range mc.Desired {
		if exported[m.UserKey] {
			continue
		}
		if m.TargetID == "" {
			p.Unresolved = append(p.Unresolved, m.UserKey)
			continue
		}
		p.Add = append(p.Add, m)
	}
	for _, m := range mc.Exported {
		soft := mc.SoftDeleted != nil && mc.SoftDeleted(m.UserKey)
		member := mc.Direct(m.UserKey)
		switch {
		case soft && mc.Policy.RemoveMembersOnSoftDelete:
			p.Remove = append(p.Remove, m)
		case soft:
		case !member:
			p.Remove = append(p.Remove, m)
		}
	}
	return p
}

// Requests are the plan's PATCHes of group id: the additions, then the
// removals, batch members per request (the --member-batch policy; one by
// default, as Entra was observed to send them: entra-edge-cases §4).
// Each request's members are returned beside it.
func (p *MemberPlan) Requests(groupID string, d Dialect, batch int) ([]Request, [][]MemberRef) {
	if batch < 1 {
		batch = 1
	}
	var reqs []Request
	var refs [][]MemberRef
	emit := func(add bool, ms []MemberRef) {
		for i := 0; i < len(ms); i += batch {
			chunk := ms[i:min(i+batch, len(ms))]
			ids := make([]string, len(chunk))
			for j, m := range chunk {
				ids[j] = m.TargetID
			}
			reqs = append(reqs, Request{Method: "PATCH", Path: resourcePath(mapping.Groups, groupID), Body: memberPatch(add, ids, d), Purpose: PurposeMembers})
			refs = append(refs, chunk)
		}
	}
	emit(true, p.Add)
	emit(false, p.Remove)
	return reqs, refs
}
