package diff

import (
	"github.com/miscim/miscim/internal/entra/mapping"
)

// Kind is what a change is. The values are the stable names of -o json
// (docs/diff.md).
type Kind string

const (
	// Missing: the tenant wants the object and the target has none
	// (against a second target: the reference has it, the target not).
	Missing Kind = "missing"
	// Changed: paired, and attributes differ.
	Changed Kind = "changed"
	// OutOfScope: the tenant object is out of scope (unassigned, filtered
	// out, disabled, soft-deleted) and the target object is still active
	// (a user) or present (a group).
	OutOfScope Kind = "outOfScope"
	// Removed: the target object's source is gone from the tenant.
	Removed Kind = "removed"
	// Unmanaged: in the target, never in the tenant.
	Unmanaged Kind = "unmanaged"
	// Extra: against a second target, in the target only.
	Extra Kind = "extra"
	// Duplicate: several objects on one side pair with one on the other.
	Duplicate Kind = "duplicate"
	// MemberAdded: the tenant (or the reference) has a membership the
	// target group lacks.
	MemberAdded Kind = "memberAdded"
	// MemberRemoved: the target group has a member the tenant (or the
	// reference) does not.
	MemberRemoved Kind = "memberRemoved"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{Missing, Changed, OutOfScope, Removed, Unmanaged, Extra, Duplicate, MemberAdded, MemberRemoved}

// Action is what the next provisioning cycle does about a change (empty
// when two targets are compared).
type Action string

const (
	ActionCreate       Action = "create"
	ActionUpdate       Action = "update"
	ActionDisable      Action = "disable"
	ActionDelete       Action = "delete"
	ActionAddMember    Action = "addMember"
	ActionRemoveMember Action = "removeMember"
	// ActionNone: the next cycle leaves the difference as it is (an
	// unmanaged object, a target action the mapping does not allow, a
	// membership Entra never exported).
	ActionNone Action = "none"
	// ActionFail: the next cycle tries and fails (an expression that
	// fails on the object, a duplicate in the target).
	ActionFail Action = "fail"
)

// Ref names one object of either side.
type Ref struct {
	// Side is "tenant", "target" or, against a second target, "against".
	Side string `json:"side"`
	// Identity is the userName (UPN) or displayName.
	Identity string `json:"identity"`
	// ID is the tenant objectId or the target id.
	ID string `json:"id"`
}

// Attribute is one attribute that differs.
type Attribute struct {
	// Attribute is the SCIM path the mapping targets.
	Attribute string `json:"attribute"`
	// Target is the value the target holds, as JSON (null: none).
	Target any `json:"target"`
	// Desired is the value that flows (as the create body carries it),
	// or the reference target's value.
	Desired any `json:"desired"`
	// Source is where the desired value comes from: [surname], an
	// expression, a constant ("" against a second target).
	Source string `json:"source,omitempty"`
}

// Member is the member of a membership change.
type Member struct {
	Identity string `json:"identity"`
	// SourceID is the tenant objectId ("" when the member is no tenant
	// user); TargetID the target user's id ("" when the user is not in
	// the target yet).
	SourceID string `json:"sourceId"`
	TargetID string `json:"targetId"`
}

// Change is one difference.
type Change struct {
	Kind   Kind   `json:"kind"`
	Object string `json:"object"` // "user" or "group"
	Action Action `json:"action,omitempty"`
	// Identity names the object: the tenant's UPN or displayName, else the
	// target's userName or displayName; for a membership, the group.
	Identity string `json:"identity"`
	SourceID string `json:"sourceId"`
	TargetID string `json:"targetId"`
	// Reason says why, for people.
	Reason string `json:"reason"`
	// Attributes are the differing attributes of a changed object (and
	// what the disable of an out-of-scope user carries).
	Attributes []Attribute `json:"attributes,omitempty"`
	Member     *Member     `json:"member,omitempty"`
	// Objects are the objects a duplicate involves.
	Objects []Ref `json:"objects,omitempty"`
	// PairedBy is the attribute the objects were paired by (changed,
	// out of scope).
	PairedBy string `json:"pairedBy,omitempty"`

	kind  mapping.ObjectKind
	order int // the object's position, for a stable report order
}

// Kinds of object counted.
const (
	objUser  = "user"
	objGroup = "group"
)

// Counts count one object kind.
type Counts struct {
	// Tenant is how many tenant objects there are, InScope how many are
	// in scope ("against": the reference's objects), Target how many the
	// target holds.
	Tenant  int `json:"tenant"`
	InScope int `json:"inScope"`
	Target  int `json:"target"`
	// Paired objects, and those of them that are identical.
	Paired     int `json:"paired"`
	Identical  int `json:"identical"`
	Missing    int `json:"missing"`
	Changed    int `json:"changed"`
	OutOfScope int `json:"outOfScope"`
	Removed    int `json:"removed"`
	Unmanaged  int `json:"unmanaged"`
	Extra      int `json:"extra"`
	Duplicate  int `json:"duplicate"`
	// Attributes counts the differing attributes of changed objects.
	Attributes int `json:"attributes"`
}

// MemberCounts count memberships.
type MemberCounts struct {
	// Desired memberships (of groups in scope), and the target's (of the
	// groups compared).
	Desired int `json:"desired"`
	Target  int `json:"target"`
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

// Summary counts a report.
type Summary struct {
	Users   Counts       `json:"users"`
	Groups  Counts       `json:"groups"`
	Members MemberCounts `json:"members"`
	// Changes is the number of changes listed.
	Changes int `json:"changes"`
}

// Report is a comparison's outcome.
type Report struct {
	Changes []Change
	Summary Summary
	// Notes are remarks on the comparison as a whole (group provisioning
	// turned off, members not compared…).
	Notes []string

	// What Explain reads: the pairings, the target's snapshot and the
	// reference's (against a second target) or the mapper.
	users, groups *pairing
	snap, ref     *Snapshot
	mp            *mapping.Mapper
}

// Identical reports a comparison that found nothing.
func (r *Report) Identical() bool { return len(r.Changes) == 0 }

// Only is which part of a comparison is reported (--only).
type Only string

const (
	OnlyAll     Only = ""
	OnlyUsers   Only = "users"
	OnlyGroups  Only = "groups"
	OnlyMembers Only = "members"
)

// Onlys lists the values --only takes.
var Onlys = []string{string(OnlyUsers), string(OnlyGroups), string(OnlyMembers)}

// keeps reports whether a change is of the part asked for.
func (o Only) keeps(c *Change) bool {
	switch o {
	case OnlyUsers:
		return c.Object == objUser
	case OnlyGroups:
		return c.Object == objGroup && c.Member == nil
	case OnlyMembers:
		return c.Member != nil
	}
	return true
}

// count adds a change to the summary.
func (s *Summary) count(c *Change) {
	s.Changes++
	if c.Member != nil {
		if c.Kind == MemberAdded {
			s.Members.Added++
		} else {
			s.Members.Removed++
		}
		return
	}
	n := &s.Users
	if c.Object == objGroup {
		n = &s.Groups
	}
	switch c.Kind {
	case Missing:
		n.Missing++
	case Changed:
		n.Changed++
		n.Attributes += len(c.Attributes)
	case OutOfScope:
		n.OutOfScope++
	case Removed:
		n.Removed++
	case Unmanaged:
		n.Unmanaged++
	case Extra:
		n.Extra++
	case Duplicate:
		n.Duplicate++
	}
}
