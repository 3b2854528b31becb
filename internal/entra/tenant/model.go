package tenant

import (
	"iter"
	"strings"
	"time"
)

// Format is the input format a tenant was read from.
type Format string

const (
	FormatNative Format = "native" // miscim's YAML or JSON snapshot
	FormatGraph  Format = "graph"  // a Microsoft Graph export directory or page
	FormatCSV    Format = "csv"    // Entra admin center or PowerShell CSV files
)

// Bool is a tri-state boolean: an export may leave a property out, and
// "not exported" must not read as false (Graph returns accountEnabled only
// on $select: reference/entra-exports.md §1.1).
type Bool uint8

const (
	Unknown Bool = iota
	False
	True
)

// BoolOf converts a Go bool.
func BoolOf(b bool) Bool {
	if b {
		return True
	}
	return False
}

// String renders the value as the provisioning engine does: "True",
// "False", or "" when unknown.
func (b Bool) String() string {
	switch b {
	case True:
		return "True"
	case False:
		return "False"
	}
	return ""
}

// Contents says which parts of a tenant the export held, so that a command
// can tell "no assignments" from "assignments not exported".
type Contents struct {
	Users          bool // at least one users file or section
	Groups         bool
	Memberships    bool // some group's members were exported
	Assignments    bool // an assignments file or section
	DeletedItems   bool // deletedItems or soft-deleted objects were exported
	AccountEnabled bool // at least one user's accountEnabled is known
}

// Tenant is one immutable snapshot with its indexes. Users and groups
// iterate in ascending objectId order (compared case-insensitively), the
// same for every format and every load of the same data.
type Tenant struct {
	path     string
	format   Format
	contents Contents

	users       []User
	groups      []Group
	assignments []Assignment
	findings    []Finding

	names names
	srcs  *sources

	userByID    map[string]int32 // lower-case objectId
	groupByID   map[string]int32
	userByUPN   map[string]int32 // lower-case active UPN; -1 when several users share it
	groupByName map[string]int32 // lower-case displayName; -1 when several groups share it

	// Reverse memberships and assignments, as offsets into flat slices
	// (CSR): user i's groups are userGroups[userGroupsOff[i]:userGroupsOff[i+1]].
	userGroupsOff, userGroups   []int32
	groupParentOff, groupParent []int32
	userAssignOff, userAssign   []int32
	groupAssignOff, groupAssign []int32
}

// Path is the file or directory the tenant was loaded from.
func (t *Tenant) Path() string { return t.path }

// Format is the detected input format.
func (t *Tenant) Format() Format { return t.format }

// Contents says which parts the export held.
func (t *Tenant) Contents() Contents { return t.contents }

// UserCount is the number of users, soft-deleted ones included.
func (t *Tenant) UserCount() int { return len(t.users) }

// GroupCount is the number of groups.
func (t *Tenant) GroupCount() int { return len(t.groups) }

// MembershipCount is the number of direct memberships (all member kinds).
func (t *Tenant) MembershipCount() int {
	n := 0
	for i := range t.groups {
		n += len(t.groups[i].members)
	}
	return n
}

// User returns the i-th user (0 ≤ i < UserCount), in objectId order.
func (t *Tenant) User(i int) *User { return &t.users[i] }

// Group returns the i-th group (0 ≤ i < GroupCount), in objectId order.
func (t *Tenant) Group(i int) *Group { return &t.groups[i] }

// Users iterates over the users in objectId order.
func (t *Tenant) Users() iter.Seq[*User] {
	return func(yield func(*User) bool) {
		for i := range t.users {
			if !yield(&t.users[i]) {
				return
			}
		}
	}
}

// Groups iterates over the groups in objectId order.
func (t *Tenant) Groups() iter.Seq[*Group] {
	return func(yield func(*Group) bool) {
		for i := range t.groups {
			if !yield(&t.groups[i]) {
				return
			}
		}
	}
}

// Assignments iterates over the app's assignments, ordered by principal
// objectId, then appRoleId.
func (t *Tenant) Assignments() iter.Seq[Assignment] {
	return func(yield func(Assignment) bool) {
		for _, a := range t.assignments {
			if !yield(a) {
				return
			}
		}
	}
}

// AssignmentCount is the number of assignments.
func (t *Tenant) AssignmentCount() int { return len(t.assignments) }

// Findings are what the loader noticed but could not decide: a possibly
// truncated group, members or principals that are not in the export,
// values PowerShell did not export. Ordered by severity, then object.
func (t *Tenant) Findings() []Finding { return append([]Finding(nil), t.findings...) }

// UserByID finds a user by objectId, case-insensitively.
func (t *Tenant) UserByID(id string) (*User, bool) {
	i, ok := t.userByID[strings.ToLower(id)]
	if !ok {
		return nil, false
	}
	return &t.users[i], true
}

// GroupByID finds a group by objectId, case-insensitively.
func (t *Tenant) GroupByID(id string) (*Group, bool) {
	i, ok := t.groupByID[strings.ToLower(id)]
	if !ok {
		return nil, false
	}
	return &t.groups[i], true
}

// UsersByUPN finds the users whose userPrincipalName equals upn when
// compared case-insensitively, as Entra compares UPNs. A soft-deleted
// user is found by the UPN it had (and gets back on restore) as well as by
// its tombstone UPN. Entra keeps UPNs unique; more than one result means
// the export holds two users Entra would not.
func (t *Tenant) UsersByUPN(upn string) []*User {
	key := strings.ToLower(upn)
	i, ok := t.userByUPN[key]
	if !ok {
		return nil
	}
	if i >= 0 {
		return []*User{&t.users[i]}
	}
	var out []*User
	for j := range t.users {
		u := &t.users[j]
		if strings.ToLower(u.upn) == key || strings.ToLower(u.tombstoneUPN()) == key {
			out = append(out, u)
		}
	}
	return out
}

// GroupsByName finds the groups whose displayName equals name when
// compared case-insensitively. Entra allows several groups with one name.
func (t *Tenant) GroupsByName(name string) []*Group {
	key := strings.ToLower(name)
	i, ok := t.groupByName[key]
	if !ok {
		return nil
	}
	if i >= 0 {
		return []*Group{&t.groups[i]}
	}
	var out []*Group
	for j := range t.groups {
		if strings.ToLower(t.groups[j].displayName) == key {
			out = append(out, &t.groups[j])
		}
	}
	return out
}

// Object is a user or a group: what FindObject returns.
type Object struct {
	User  *User  // set for a user
	Group *Group // set for a group
}

// FindUser resolves a reference typed by a person — an objectId or a
// userPrincipalName — to exactly one user, or says why it cannot.
func (t *Tenant) FindUser(ref string) (*User, error) {
	if u, ok := t.UserByID(ref); ok {
		return u, nil
	}
	switch us := t.UsersByUPN(ref); len(us) {
	case 0:
		return nil, &LookupError{Ref: ref, Kind: "user"}
	case 1:
		return us[0], nil
	default:
		ids := make([]string, len(us))
		for i, u := range us {
			ids[i] = u.objectID
		}
		return nil, &LookupError{Ref: ref, Kind: "user", Ambiguous: ids}
	}
}

// FindGroup resolves an objectId or a displayName to exactly one group.
func (t *Tenant) FindGroup(ref string) (*Group, error) {
	if g, ok := t.GroupByID(ref); ok {
		return g, nil
	}
	switch gs := t.GroupsByName(ref); len(gs) {
	case 0:
		return nil, &LookupError{Ref: ref, Kind: "group"}
	case 1:
		return gs[0], nil
	default:
		ids := make([]string, len(gs))
		for i, g := range gs {
			ids[i] = g.objectID
		}
		return nil, &LookupError{Ref: ref, Kind: "group", Ambiguous: ids}
	}
}

// FindObject resolves what provisioning on demand accepts: a user's
// objectId or UPN, or a group's objectId or displayName. An objectId wins
// over a name; a reference that names both a user and a group is
// ambiguous.
func (t *Tenant) FindObject(ref string) (Object, error) {
	if u, ok := t.UserByID(ref); ok {
		return Object{User: u}, nil
	}
	if g, ok := t.GroupByID(ref); ok {
		return Object{Group: g}, nil
	}
	us, gs := t.UsersByUPN(ref), t.GroupsByName(ref)
	var ids []string
	for _, u := range us {
		ids = append(ids, "user "+u.objectID)
	}
	for _, g := range gs {
		ids = append(ids, "group "+g.objectID)
	}
	switch {
	case len(ids) == 0:
		return Object{}, &LookupError{Ref: ref, Kind: "user or group"}
	case len(ids) > 1:
		return Object{}, &LookupError{Ref: ref, Kind: "user or group", Ambiguous: ids}
	case len(us) == 1:
		return Object{User: us[0]}, nil
	default:
		return Object{Group: gs[0]}, nil
	}
}

// EffectiveAssignments are the assignments that put a user in the app's
// scope: its own and those of the groups it is a direct member of.
// Entra does not follow nested groups (entra-behavior §2.1), so neither
// does this. A soft-deleted user keeps its assignments here; whether they
// count is the mapping's decision (IsSoftDeleted).
func (t *Tenant) EffectiveAssignments(u *User) []Assignment {
	var out []Assignment
	for _, ai := range t.userAssign[t.userAssignOff[u.index]:t.userAssignOff[u.index+1]] {
		out = append(out, t.assignments[ai])
	}
	for _, gi := range t.userGroups[t.userGroupsOff[u.index]:t.userGroupsOff[u.index+1]] {
		for _, ai := range t.groupAssign[t.groupAssignOff[gi]:t.groupAssignOff[gi+1]] {
			out = append(out, t.assignments[ai])
		}
	}
	return out
}

// Assigned reports whether the user has an effective assignment, as
// EffectiveAssignments would list, without building the list: the scope
// test a provisioning cycle makes for every user.
func (t *Tenant) Assigned(u *User) bool {
	if t.userAssignOff[u.index] < t.userAssignOff[u.index+1] {
		return true
	}
	for _, gi := range t.userGroups[t.userGroupsOff[u.index]:t.userGroupsOff[u.index+1]] {
		if t.groupAssignOff[gi] < t.groupAssignOff[gi+1] {
			return true
		}
	}
	return false
}

// GroupAssigned reports whether the group itself is assigned to the app
// (an assignment of a parent group does not count: Entra does not follow
// nesting).
func (t *Tenant) GroupAssigned(g *Group) bool {
	return t.groupAssignOff[g.index] < t.groupAssignOff[g.index+1]
}

// User is one Entra user. It is read-only: every method returns data the
// caller may keep but must not modify (slices are shared with the snapshot).
type User struct {
	t     *Tenant
	index int32
	attrSet

	objectID       string
	upn            string // the active UPN (not the tombstone form)
	accountEnabled Bool
	softDeleted    bool
	deletedAt      time.Time
	src            srcRef
}

// Index is the user's position in the snapshot (0 ≤ Index < UserCount),
// for dense per-snapshot arrays; it is not stable across snapshots — the
// objectId is.
func (u *User) Index() int { return int(u.index) }

// ObjectID is the user's Entra objectId (Graph's id): the source anchor.
func (u *User) ObjectID() string { return u.objectID }

// UserPrincipalName is the UPN the user has while not deleted, and gets
// back when restored. Attr("userPrincipalName") gives what Entra reads,
// which for a soft-deleted user is TombstoneUPN.
func (u *User) UserPrincipalName() string { return u.upn }

// TombstoneUPN is the UPN Graph shows for a soft-deleted user: the
// objectId without dashes, then the UPN (DESIGN §5). It is empty for a
// user that is not soft-deleted.
func (u *User) TombstoneUPN() string {
	if !u.softDeleted {
		return ""
	}
	return u.tombstoneUPN()
}

func (u *User) tombstoneUPN() string {
	if !u.softDeleted || u.upn == "" {
		return ""
	}
	return strings.ReplaceAll(u.objectID, "-", "") + u.upn
}

// AccountEnabled is True, False, or Unknown when the export did not
// include the property.
func (u *User) AccountEnabled() Bool { return u.accountEnabled }

// SoftDeleted reports whether the user is in the recycle bin (deletedItems,
// or @removed with reason "changed" in a delta export).
func (u *User) SoftDeleted() bool { return u.softDeleted }

// DeletedDateTime is when the user was soft-deleted; zero when not
// deleted or when the export did not say.
func (u *User) DeletedDateTime() time.Time { return u.deletedAt }

// DisplayName, GivenName, Surname, Mail and MailNickname are the
// single-valued attributes of those names ("" when absent).
func (u *User) DisplayName() string  { return u.first("displayName") }
func (u *User) GivenName() string    { return u.first("givenName") }
func (u *User) Surname() string      { return u.first("surname") }
func (u *User) Mail() string         { return u.first("mail") }
func (u *User) MailNickname() string { return u.first("mailNickname") }

// OtherMails is the multi-valued otherMails attribute.
func (u *User) OtherMails() []string { v, _ := u.Attr("otherMails"); return v }

// ExtensionAttribute returns onPremisesExtensionAttributes'
// extensionAttribute1..15 (n from 1 to 15), "" when absent.
func (u *User) ExtensionAttribute(n int) string {
	if n < 1 || n > 15 {
		return ""
	}
	return u.first(extensionAttributeNames[n-1])
}

// Attr returns the values of an attribute by its Entra source-attribute
// name, case-sensitively as Entra's expressions name them (objectId,
// userPrincipalName, accountEnabled as "True"/"False", otherMails,
// extensionAttribute1…15, any other exported attribute). present is false
// when the attribute is absent or null: Entra does not flow nulls.
func (u *User) Attr(name string) (values []string, present bool) {
	return u.attr(&u.t.names, name)
}

// MultiValued reports whether the attribute is multi-valued (otherMails,
// proxyAddresses, anything the export gave as an array or list), even
// when it holds one value: expressions treat it as such (Join, Item,
// Count). false when absent.
func (u *User) MultiValued(name string) bool { return u.multi(&u.t.names, name) }

// AttrValues is Attr and MultiValued in one lookup, for callers that read
// every mapped attribute of every user in a cycle.
func (u *User) AttrValues(name string) (values []string, multiValued, present bool) {
	return u.attrValues(&u.t.names, name)
}

// AttrNames lists the attributes the user has, sorted.
func (u *User) AttrNames() []string { return u.attrNames(&u.t.names) }

// Source is where the user was read from.
func (u *User) Source() Source { return u.t.srcs.resolve(u.src, "") }

// AttrSource is where one of the user's attribute values was read from:
// the user's file and line, and the path of the value (JSON path or CSV
// column) in that format's own names.
func (u *User) AttrSource(name string) Source { return u.t.srcs.resolve(u.src, name) }

// Groups are the groups the user is a direct member of, in objectId order.
func (u *User) Groups() []*Group {
	t := u.t
	ids := t.userGroups[t.userGroupsOff[u.index]:t.userGroupsOff[u.index+1]]
	out := make([]*Group, len(ids))
	for i, gi := range ids {
		out[i] = &t.groups[gi]
	}
	return out
}

// Assignments are the assignments made to the user itself (not through a
// group; see Tenant.EffectiveAssignments).
func (u *User) Assignments() []Assignment {
	t := u.t
	return t.assignmentsAt(t.userAssign[t.userAssignOff[u.index]:t.userAssignOff[u.index+1]])
}

// Equal reports whether two users (typically of two snapshots) carry the
// same data: objectId, UPN, deletion state and every attribute value.
// Where they were read from does not count.
func (u *User) Equal(o *User) bool {
	return u.objectID == o.objectID && u.upn == o.upn && u.accountEnabled == o.accountEnabled &&
		u.softDeleted == o.softDeleted && u.deletedAt.Equal(o.deletedAt) &&
		u.attrSet.equal(&u.t.names, &o.attrSet, &o.t.names)
}

// Group is one Entra group.
type Group struct {
	t     *Tenant
	index int32
	attrSet

	objectID    string
	displayName string
	softDeleted bool
	deletedAt   time.Time
	members     []Member
	fromExpand  bool // members came from $expand=members (at most 20)
	src         srcRef
}

// Index is the group's position in the snapshot (0 ≤ Index < GroupCount).
func (g *Group) Index() int { return int(g.index) }

// ObjectID is the group's Entra objectId.
func (g *Group) ObjectID() string { return g.objectID }

// DisplayName, Description and Mail are the attributes of those names.
func (g *Group) DisplayName() string { return g.displayName }
func (g *Group) Description() string { return g.first("description") }
func (g *Group) Mail() string        { return g.first("mail") }

// SoftDeleted reports whether the group is in the recycle bin (only
// Microsoft 365 groups are soft-deleted; entra-exports §1.4).
func (g *Group) SoftDeleted() bool { return g.softDeleted }

// DeletedDateTime is when the group was soft-deleted, zero if unknown.
func (g *Group) DeletedDateTime() time.Time { return g.deletedAt }

// Members are the group's direct members, ordered by kind (users, then
// groups, then other kinds), then objectId. Nested groups are members of
// kind MemberGroup; they are never expanded.
func (g *Group) Members() []Member { return g.members }

// MemberUsers are the members that are users of this tenant.
func (g *Group) MemberUsers() []*User {
	var out []*User
	for _, m := range g.members {
		if m.Kind == MemberUser && m.index >= 0 {
			out = append(out, &g.t.users[m.index])
		}
	}
	return out
}

// MemberGroups are the members that are groups of this tenant.
func (g *Group) MemberGroups() []*Group {
	var out []*Group
	for _, m := range g.members {
		if m.Kind == MemberGroup && m.index >= 0 {
			out = append(out, &g.t.groups[m.index])
		}
	}
	return out
}

// ParentGroups are the groups this group is a direct member of.
func (g *Group) ParentGroups() []*Group {
	t := g.t
	ids := t.groupParent[t.groupParentOff[g.index]:t.groupParentOff[g.index+1]]
	out := make([]*Group, len(ids))
	for i, pi := range ids {
		out[i] = &t.groups[pi]
	}
	return out
}

// MembersFromExpand reports whether the members were read from
// groups?$expand=members, which stops at 20 without saying so.
func (g *Group) MembersFromExpand() bool { return g.fromExpand }

// PossiblyTruncated reports a group whose members came from $expand and
// number exactly 20, Graph's silent limit (entra-exports §1.2).
func (g *Group) PossiblyTruncated() bool { return g.fromExpand && len(g.members) == expandLimit }

// Assignments are the assignments made to the group.
func (g *Group) Assignments() []Assignment {
	t := g.t
	return t.assignmentsAt(t.groupAssign[t.groupAssignOff[g.index]:t.groupAssignOff[g.index+1]])
}

// Attr reads a group attribute by its Entra name (objectId, displayName,
// description, mail, mailNickname, any other exported attribute).
func (g *Group) Attr(name string) (values []string, present bool) {
	return g.attr(&g.t.names, name)
}

// MultiValued reports whether the group attribute is multi-valued
// (groupTypes, proxyAddresses, arrays and lists).
func (g *Group) MultiValued(name string) bool { return g.multi(&g.t.names, name) }

// AttrValues is Attr and MultiValued in one lookup.
func (g *Group) AttrValues(name string) (values []string, multiValued, present bool) {
	return g.attrValues(&g.t.names, name)
}

// AttrNames lists the attributes the group has, sorted.
func (g *Group) AttrNames() []string { return g.attrNames(&g.t.names) }

// Source is where the group was read from.
func (g *Group) Source() Source { return g.t.srcs.resolve(g.src, "") }

// AttrSource is where one of the group's attribute values was read from.
func (g *Group) AttrSource(name string) Source { return g.t.srcs.resolve(g.src, name) }

// Equal reports whether two groups carry the same data: objectId,
// attributes, deletion state and members (by kind and objectId). How the
// members were exported ($expand or member pages) does not count.
func (g *Group) Equal(o *Group) bool {
	if g.objectID != o.objectID || g.displayName != o.displayName || g.softDeleted != o.softDeleted ||
		!g.deletedAt.Equal(o.deletedAt) || len(g.members) != len(o.members) {
		return false
	}
	for i, m := range g.members {
		if m.Kind != o.members[i].Kind || m.ID != o.members[i].ID {
			return false
		}
	}
	return g.attrSet.equal(&g.t.names, &o.attrSet, &o.t.names)
}

// expandLimit is how many members $expand=members returns at most.
const expandLimit = 20

// MemberKind is the directory-object type of a group member.
type MemberKind uint8

const (
	MemberUnknown          MemberKind = iota // the export did not say and the id is not in the tenant
	MemberUser                               // #microsoft.graph.user
	MemberGroup                              // #microsoft.graph.group: a nested group
	MemberServicePrincipal                   // #microsoft.graph.servicePrincipal
	MemberOrgContact                         // #microsoft.graph.orgContact
	MemberDevice                             // #microsoft.graph.device
	MemberOther                              // another @odata.type
)

var memberKindNames = [...]string{"unknown", "user", "group", "servicePrincipal", "orgContact", "device", "other"}

func (k MemberKind) String() string {
	if int(k) < len(memberKindNames) {
		return memberKindNames[k]
	}
	return "other"
}

// Member is a typed reference from a group to one of its direct members.
type Member struct {
	Kind MemberKind
	ID   string // the member's objectId
	// index is the member's position among the tenant's users (MemberUser)
	// or groups (MemberGroup); -1 when the member is not in the tenant.
	index int32
}

// Resolved reports whether the member is a user or group of this tenant.
func (m Member) Resolved() bool { return m.index >= 0 }

// PrincipalType is the kind of principal an app role is assigned to.
type PrincipalType string

const (
	PrincipalUser             PrincipalType = "User"
	PrincipalGroup            PrincipalType = "Group"
	PrincipalServicePrincipal PrincipalType = "ServicePrincipal"
	PrincipalUnknown          PrincipalType = "" // not given and not in the tenant
)

// DefaultAccessRole is the appRoleId of "assigned without a specific
// role" (entra-exports §1.3).
const DefaultAccessRole = "00000000-0000-0000-0000-000000000000"

// Assignment is one app role assignment of the enterprise app
// (appRoleAssignedTo): a user or a group with a role.
type Assignment struct {
	ID                   string // the assignment's own id, "" when not exported
	PrincipalID          string // objectId of the user or group
	PrincipalType        PrincipalType
	PrincipalDisplayName string
	AppRoleID            string // DefaultAccessRole when not given
	ResourceID           string // the app's service principal, "" when not exported
	ResourceDisplayName  string

	principal int32 // index among users or groups, -1 when not in the tenant
	src       srcRef
	t         *Tenant
}

// Resolved reports whether the principal is a user or group of this tenant.
func (a Assignment) Resolved() bool { return a.principal >= 0 }

// User is the assigned user, or nil for a group or an unknown principal.
func (a Assignment) User() *User {
	if a.PrincipalType != PrincipalUser || a.principal < 0 {
		return nil
	}
	return &a.t.users[a.principal]
}

// Group is the assigned group, or nil.
func (a Assignment) Group() *Group {
	if a.PrincipalType != PrincipalGroup || a.principal < 0 {
		return nil
	}
	return &a.t.groups[a.principal]
}

// Source is where the assignment was read from.
func (a Assignment) Source() Source { return a.t.srcs.resolve(a.src, "") }

func (t *Tenant) assignmentsAt(idx []int32) []Assignment {
	out := make([]Assignment, len(idx))
	for i, ai := range idx {
		out[i] = t.assignments[ai]
	}
	return out
}
