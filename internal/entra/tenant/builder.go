package tenant

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// objectRec is what a loader reads alike for a user and a group. kvs
// carries every attribute, objectId included, under Entra names.
type objectRec struct {
	id        string
	kvs       []kv
	soft      bool
	deletedAt time.Time
	removed   string // delta: "changed" (soft delete) or "deleted" (hard)
	src       srcRef
}

// userRec is one user as a loader read it; its kvs include
// userPrincipalName and accountEnabled ("True"/"False").
type userRec struct {
	objectRec
	// A record parsed in parallel comes compacted: set, and the names
	// it gave as null (which a later delta item's merge needs).
	set       attrSet
	compacted bool
	nulls     []int32
}

// groupRec is one group as a loader read it.
type groupRec struct {
	objectRec
	members     []memberRef
	membersMode membersMode
}

type membersMode uint8

const (
	membersNone   membersMode = iota // the record says nothing about members
	membersList                      // a complete list (native, member pages, CSV)
	membersExpand                    // $expand=members: at most 20
	membersDelta                     // members@delta: changes to apply
)

// memberRef is a member as read: a kind when the export gave one, and the
// objectId (or, where Entra's own bulk files accept it, a UPN).
type memberRef struct {
	kind    MemberKind
	typed   bool // the export stated the kind
	ref     string
	removed bool // members@delta removal
	src     srcRef
}

type assignRec struct {
	id, principalID, principalName, appRoleID, resourceID, resourceName string
	principalType                                                       PrincipalType
	deleted                                                             bool
	src                                                                 srcRef
}

// bObject is what the builder keeps alike for a user and a group.
type bObject struct {
	id        string // objectId as read
	set       attrSet
	soft      bool
	deletedAt time.Time
	gone      bool
	live      bool // read from a live (not deletedItems) collection
	src       srcRef
}

type bUser struct{ bObject }

type bGroup struct {
	bObject
	members      []memberRef
	membersKnown bool
	fromExpand   bool
}

// builder collects what loaders read and turns it into a Tenant.
type builder struct {
	path     string
	format   Format
	names    names
	srcs     sources
	contents Contents

	users     []bUser
	userIdx   map[string]int32 // lower-case objectId → users index
	groups    []bGroup
	groupIdx  map[string]int32
	assigns   []assignRec
	findings  []Finding
	allMember bool // a memberships file covers every group (CSV)

	dups []dupe // same objectId read twice, for collections that may not repeat
}

type dupe struct {
	kind        string
	id          string
	first, then srcRef
}

func newBuilder(path string, format Format) *builder {
	return &builder{path: path, format: format, names: newNames(), userIdx: map[string]int32{}, groupIdx: map[string]int32{}}
}

func (b *builder) finding(sev Severity, code string, obj ObjectRef, src Source, fix, msg string, args ...any) {
	b.findings = append(b.findings, Finding{Severity: sev, Code: code, Object: obj, Message: fmt.Sprintf(msg, args...), Fix: fix, Source: src})
}

// addUser adds or merges one user. A record for an objectId already read
// is merged into it (later values win, as Graph delta pages require);
// whether that was allowed is decided per collection from b.dups.
func (b *builder) addUser(rec *userRec, live bool) {
	key := strings.ToLower(rec.id)
	i, seen := b.userIdx[key]
	if rec.removed != "" {
		if seen {
			b.users[i].remove(&rec.objectRec)
		}
		return
	}
	if !seen {
		set := rec.set
		if !rec.compacted {
			set = compact(&b.names, rec.kvs)
		}
		b.userIdx[key] = int32(len(b.users))
		b.users = append(b.users, bUser{newObject(&rec.objectRec, set, live)})
		return
	}
	later := rec.kvs
	if rec.compacted {
		later = rec.set.expand()
		for _, n := range rec.nulls {
			later = append(later, kv{name: n, null: true})
		}
	}
	b.merge(&b.users[i].bObject, "user", &rec.objectRec, later, live)
}

// addGroup adds or merges one group, as addUser does, and applies what
// the record says of its members.
func (b *builder) addGroup(rec *groupRec, live bool) {
	key := strings.ToLower(rec.id)
	i, seen := b.groupIdx[key]
	if rec.removed != "" {
		if seen {
			b.groups[i].remove(&rec.objectRec)
		}
		return
	}
	if !seen {
		i = int32(len(b.groups))
		b.groupIdx[key] = i
		b.groups = append(b.groups, bGroup{bObject: newObject(&rec.objectRec, compact(&b.names, rec.kvs), live)})
	} else {
		b.merge(&b.groups[i].bObject, "group", &rec.objectRec, rec.kvs, live)
	}
	g := &b.groups[i]
	switch rec.membersMode {
	case membersList:
		g.members, g.membersKnown, g.fromExpand = rec.members, true, false
	case membersExpand:
		g.members, g.membersKnown, g.fromExpand = rec.members, true, true
	case membersDelta:
		g.members = applyMemberDelta(g.members, rec.members)
		g.membersKnown = true
	}
}

func newObject(rec *objectRec, set attrSet, live bool) bObject {
	return bObject{id: rec.id, set: set, soft: rec.soft, deletedAt: rec.deletedAt, live: live, src: rec.src}
}

// remove applies an @removed record to an object read before (one the
// export never showed has nothing to remove): reason "changed" is the
// recycle bin, anything else a hard delete (entra-exports §1.5). The
// record that removed it becomes its source, as a merged record does.
func (o *bObject) remove(rec *objectRec) {
	if rec.removed == "changed" {
		o.soft = true
	} else {
		o.gone = true
	}
	o.src = rec.src
}

// merge merges a later record of an object already read, whose attributes
// are later (they win), and notes the repeat in b.dups.
func (b *builder) merge(o *bObject, kind string, rec *objectRec, later []kv, live bool) {
	b.dups = append(b.dups, dupe{kind: kind, id: rec.id, first: o.src, then: rec.src})
	o.set = compact(&b.names, overlay(o.set.expand(), later))
	if live {
		// A live item after a removal is the object restored (delta rounds
		// in order); a deletedItems record keeps it deleted.
		if o.gone || (o.soft && !rec.soft && o.live) {
			o.soft, o.gone, o.deletedAt = false, false, time.Time{}
		}
		o.live = true
	}
	if rec.soft {
		o.soft = true
		if !rec.deletedAt.IsZero() {
			o.deletedAt = rec.deletedAt
		}
	}
	o.src = rec.src
}

// applyMemberDelta applies members@delta: additions, and removals marked
// @removed (the membership removed or the member deleted).
func applyMemberDelta(cur, delta []memberRef) []memberRef {
	for _, d := range delta {
		key := strings.ToLower(d.ref)
		cur = slices.DeleteFunc(cur, func(m memberRef) bool { return strings.ToLower(m.ref) == key })
		if !d.removed {
			cur = append(cur, d)
		}
	}
	return cur
}

// setMembers replaces a group's members with a complete list read from
// members pages; it reports whether the group is known.
func (b *builder) setMembers(groupID string, refs []memberRef) bool {
	i, ok := b.groupIdx[strings.ToLower(groupID)]
	if !ok {
		return false
	}
	g := &b.groups[i]
	g.members, g.membersKnown, g.fromExpand = refs, true, false
	return true
}

// checkDups turns duplicates read since mark into an error, for a
// collection that is not a delta (a plain export lists an object once).
func (b *builder) checkDups(mark int, what string) error {
	if len(b.dups) <= mark {
		return nil
	}
	d := b.dups[mark]
	return &LoadError{
		Source: b.srcs.resolve(d.then, ""),
		Msg:    fmt.Sprintf("%s %s is listed twice (first at %s)", d.kind, d.id, b.srcs.resolve(d.first, "")),
		Hint:   what,
	}
}

// build finishes the snapshot: sorts, resolves references, builds the
// indexes and the findings.
func (b *builder) build() (*Tenant, error) {
	// The snapshot keeps copies of what it needs, not the builder: its
	// working maps and records become garbage.
	srcs := b.srcs
	t := &Tenant{path: b.path, format: b.format, contents: b.contents, names: b.names, srcs: &srcs}

	// Users and groups in objectId order.
	uorder := order(len(b.users), func(i int) (string, bool) { return strings.ToLower(b.users[i].id), b.users[i].gone })
	gorder := order(len(b.groups), func(i int) (string, bool) { return strings.ToLower(b.groups[i].id), b.groups[i].gone })
	t.users = make([]User, len(uorder))
	t.userByID = make(map[string]int32, len(uorder))
	t.userByUPN = make(map[string]int32, len(uorder))
	for ni, oi := range uorder {
		bu := &b.users[oi]
		u := &t.users[ni]
		*u = User{t: t, index: int32(ni), attrSet: bu.set, softDeleted: bu.soft, deletedAt: bu.deletedAt, src: bu.src}
		u.objectID = bu.id
		u.accountEnabled = parseBoolAttr(bu.set.firstID(idAccountEnabled))
		if u.accountEnabled != Unknown {
			t.contents.AccountEnabled = true
		}
		u.upn = activeUPN(u.objectID, bu.set.firstID(idUPN))
		if u.softDeleted && u.upn != "" {
			// What Entra reads for a soft-deleted user is the tombstone UPN.
			tomb := u.tombstoneUPN()
			if bu.set.firstID(idUPN) != tomb {
				u.attrSet = compact(&t.names, overlay(bu.set.expand(), []kv{{name: t.names.intern(attrUPN), one: tomb, single: true}}))
			}
		}
		t.userByID[strings.ToLower(u.objectID)] = int32(ni)
		addIndex(t.userByUPN, strings.ToLower(u.upn), int32(ni))
		if u.softDeleted {
			addIndex(t.userByUPN, strings.ToLower(u.tombstoneUPN()), int32(ni))
		}
	}
	t.groups = make([]Group, len(gorder))
	t.groupByID = make(map[string]int32, len(gorder))
	t.groupByName = make(map[string]int32, len(gorder))
	for ni, oi := range gorder {
		bg := &b.groups[oi]
		g := &t.groups[ni]
		*g = Group{t: t, index: int32(ni), attrSet: bg.set, softDeleted: bg.soft, deletedAt: bg.deletedAt, fromExpand: bg.fromExpand, src: bg.src}
		g.objectID = bg.id
		g.displayName = bg.set.firstID(idDisplayName)
		key := strings.ToLower(g.objectID)
		if ui, ok := t.userByID[key]; ok {
			return nil, &LoadError{
				Source: g.Source(),
				Msg:    fmt.Sprintf("objectId %s is both a group and a user (%s)", g.objectID, t.users[ui].Source()),
				Hint:   "an objectId names one directory object; fix the export so that each id appears once",
			}
		}
		t.groupByID[key] = int32(ni)
		addIndex(t.groupByName, strings.ToLower(g.displayName), int32(ni))
	}

	if err := b.resolveMembers(t, gorder); err != nil {
		return nil, err
	}
	b.membershipFindings(t, gorder)
	if err := b.resolveAssignments(t); err != nil {
		return nil, err
	}
	if len(t.users) > 0 && !t.contents.AccountEnabled {
		b.finding(SeverityWarning, FindingNoAccountEnabled, ObjectRef{Kind: "tenant"}, Source{File: b.path},
			"export accountEnabled too: in Graph add it to $select (it is not a default property); in a CSV keep the accountEnabled or Block sign in column",
			"no user's accountEnabled was exported, so disabled users cannot be told from enabled ones; miscim treats them as enabled")
	}
	sortFindings(b.findings)
	t.findings = b.findings
	t.names.values = nil // only needed while reading
	return t, nil
}

// order returns the indexes of the objects not gone, sorted by key.
func order(n int, key func(int) (string, bool)) []int32 {
	keys := make([]string, n)
	out := make([]int32, 0, n)
	for i := range n {
		k, gone := key(i)
		if !gone {
			keys[i] = k
			out = append(out, int32(i))
		}
	}
	slices.SortFunc(out, func(a, b int32) int { return strings.Compare(keys[a], keys[b]) })
	return out
}

// addIndex maps key to i, or to -1 when the key is already taken.
func addIndex(m map[string]int32, key string, i int32) {
	if key == "" {
		return
	}
	if j, ok := m[key]; ok && j != i {
		m[key] = -1
		return
	}
	m[key] = i
}

// activeUPN strips the tombstone prefix (the objectId without dashes)
// that Graph puts before a deleted user's UPN.
func activeUPN(objectID, upn string) string {
	j := 0
	for i := 0; i < len(objectID); i++ {
		c := objectID[i]
		if c == '-' {
			continue
		}
		if j >= len(upn) || lowerASCII(upn[j]) != lowerASCII(c) {
			return upn
		}
		j++
	}
	if j == 0 || j >= len(upn) {
		return upn
	}
	return upn[j:]
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func parseBoolAttr(s string) Bool {
	switch s {
	case "True":
		return True
	case "False":
		return False
	}
	return Unknown
}

func (a *attrSet) first(n *names, name string) string {
	if v, ok := a.attr(n, name); ok && len(v) > 0 {
		return v[0]
	}
	return ""
}

// resolveMembers turns member references into typed members, in a
// stable order, and the reverse indexes.
func (b *builder) resolveMembers(t *Tenant, gorder []int32) error {
	parentsOfUser := make([]int32, len(t.users)+1)   // counts, then offsets
	parentsOfGroup := make([]int32, len(t.groups)+1) // counts, then offsets
	// lastUser[i] and lastGroup[i] are the (1-based) group that last
	// listed user or group i: duplicates found without a map per group.
	lastUser := make([]int32, len(t.users))
	lastGroup := make([]int32, len(t.groups))
	for ni, oi := range gorder {
		bg := &b.groups[oi]
		g := &t.groups[ni]
		obj := groupRef(g)
		marker := int32(ni + 1)
		members := make([]Member, 0, len(bg.members))
		var seenOther map[string]bool
		var unknown, unsupported []string
		var unknownSrc, unsupportedSrc Source
		dupes := 0
		for _, r := range bg.members {
			m, err := b.resolveMember(t, r)
			if err != nil {
				return err
			}
			switch {
			case m.index >= 0 && m.Kind == MemberUser:
				if lastUser[m.index] == marker {
					dupes++
					continue
				}
				lastUser[m.index] = marker
			case m.index >= 0 && m.Kind == MemberGroup:
				if lastGroup[m.index] == marker {
					dupes++
					continue
				}
				lastGroup[m.index] = marker
			default:
				key := m.Kind.String() + "/" + strings.ToLower(m.ID)
				if seenOther[key] {
					dupes++
					continue
				}
				if seenOther == nil {
					seenOther = map[string]bool{}
				}
				seenOther[key] = true
			}
			switch {
			case m.index >= 0:
			case m.Kind == MemberUnknown || m.Kind == MemberUser || m.Kind == MemberGroup:
				if len(unknown) == 0 {
					unknownSrc = b.srcs.resolve(r.src, "")
				}
				unknown = append(unknown, m.ID)
			default:
				if len(unsupported) == 0 {
					unsupportedSrc = b.srcs.resolve(r.src, "")
				}
				unsupported = append(unsupported, m.Kind.String()+" "+m.ID)
			}
			members = append(members, m)
		}
		// Users, then groups, then other kinds; within a kind the tenant's
		// objects in objectId order (their index), then unknown ids.
		slices.SortFunc(members, func(x, y Member) int {
			if c := cmp.Compare(kindRank(x.Kind), kindRank(y.Kind)); c != 0 {
				return c
			}
			switch {
			case x.index >= 0 && y.index >= 0:
				return cmp.Compare(x.index, y.index)
			case x.index >= 0:
				return -1
			case y.index >= 0:
				return 1
			}
			return strings.Compare(strings.ToLower(x.ID), strings.ToLower(y.ID))
		})
		g.members = slices.Clip(members)
		for _, m := range g.members {
			if m.index < 0 {
				continue
			}
			switch m.Kind {
			case MemberUser:
				parentsOfUser[m.index+1]++
			case MemberGroup:
				parentsOfGroup[m.index+1]++
			}
		}
		if len(unknown) > 0 {
			b.finding(SeverityWarning, FindingUnknownMember, obj, unknownSrc,
				"export the missing objects too (an export filtered by $filter or by the portal's list filters leaves members out), or remove them from the group",
				"%d member(s) not in the export: %s", len(unknown), listSome(unknown))
		}
		if len(unsupported) > 0 {
			b.finding(SeverityInfo, FindingUnsupportedMembers, obj, unsupportedSrc, "nothing to do: they stay in the group in Entra",
				"%d member(s) that are neither users nor groups, which Entra does not provision to a SCIM app: %s", len(unsupported), listSome(unsupported))
		}
		if dupes > 0 {
			b.finding(SeverityInfo, FindingDuplicateMember, obj, g.Source(), "nothing to do: each member counts once",
				"%d member(s) listed more than once", dupes)
		}
	}
	fill := func(counts []int32, kind MemberKind) []int32 {
		for i := 1; i < len(counts); i++ {
			counts[i] += counts[i-1]
		}
		flat := make([]int32, counts[len(counts)-1])
		next := slices.Clone(counts[:len(counts)-1])
		for gi := range t.groups { // groups in objectId order: each list comes out sorted
			for _, m := range t.groups[gi].members {
				if m.Kind == kind && m.index >= 0 {
					flat[next[m.index]] = int32(gi)
					next[m.index]++
				}
			}
		}
		return flat
	}
	t.userGroupsOff, t.userGroups = parentsOfUser, fill(parentsOfUser, MemberUser)
	t.groupParentOff, t.groupParent = parentsOfGroup, fill(parentsOfGroup, MemberGroup)
	return nil
}

func kindRank(k MemberKind) int {
	switch k {
	case MemberUser:
		return 0
	case MemberGroup:
		return 1
	}
	return 2 + int(k)
}

func (b *builder) resolveMember(t *Tenant, r memberRef) (Member, error) {
	key := strings.ToLower(r.ref)
	var ui, gi int32
	var isUser, isGroup bool
	if !r.typed || r.kind != MemberGroup {
		ui, isUser = t.userByID[key]
	}
	if !isUser {
		gi, isGroup = t.groupByID[key]
		if r.typed && r.kind == MemberGroup && !isGroup {
			ui, isUser = t.userByID[key] // to say what it is instead
		}
	}
	if !isUser && !isGroup && strings.Contains(r.ref, "@") && (!r.typed || r.kind == MemberUser) {
		// Entra's member files accept "object ID or user principal name".
		if i, ok := t.userByUPN[key]; ok && i >= 0 {
			ui, isUser = i, true
		}
	}
	switch {
	case isUser && (!r.typed || r.kind == MemberUser):
		return Member{Kind: MemberUser, ID: t.users[ui].objectID, index: ui}, nil
	case isGroup && (!r.typed || r.kind == MemberGroup):
		return Member{Kind: MemberGroup, ID: t.groups[gi].objectID, index: gi}, nil
	case isUser || isGroup:
		is := "a user"
		if isGroup {
			is = "a group"
		}
		return Member{}, &LoadError{Source: b.srcs.resolve(r.src, ""), Msg: fmt.Sprintf("member %s is given as %s but is %s of the export", r.ref, r.kind, is),
			Hint: "fix the member's type (@odata.type, type or Member type) to match the object"}
	}
	kind := MemberUnknown
	if r.typed {
		kind = r.kind
	}
	return Member{Kind: kind, ID: r.ref, index: -1}, nil
}

func (b *builder) membershipFindings(t *Tenant, gorder []int32) {
	anyKnown := b.allMember
	for _, oi := range gorder {
		if b.groups[oi].membersKnown {
			anyKnown = true
		}
	}
	if anyKnown {
		t.contents.Memberships = true
	}
	if len(gorder) > 0 && !anyKnown {
		b.finding(SeverityWarning, FindingNoMemberships, ObjectRef{Kind: "tenant"}, Source{File: b.path},
			"export the members too: members/<group id>.json pages from /groups/{id}/members (docs/tenant.md), or members/<group>.csv downloads",
			"the export has %d groups but no memberships: every group looks empty", len(gorder))
		return
	}
	for ni, oi := range gorder {
		g := &t.groups[ni]
		bg := &b.groups[oi]
		switch {
		case g.PossiblyTruncated():
			b.finding(SeverityWarning, FindingPossiblyTruncated, groupRef(g), g.Source(),
				fmt.Sprintf("export the group's members from /groups/%s/members into members/%s.json: it pages, $expand does not", g.objectID, g.objectID),
				"exactly %d members came from $expand=members, which stops at %d without saying so: the group may have more", expandLimit, expandLimit)
		case !bg.membersKnown && !b.allMember:
			b.finding(SeverityWarning, FindingMembersNotExported, groupRef(g), g.Source(),
				"export its members (members/<group id>.json or members/<group>.csv); an empty file says the group is empty",
				"the group's members were not exported: it looks empty")
		}
	}
}

func (b *builder) resolveAssignments(t *Tenant) error {
	apps := map[string]bool{}
	var firstApp string
	seen := map[[3]string]bool{}
	for _, r := range b.assigns {
		a := Assignment{ID: r.id, PrincipalID: r.principalID, PrincipalType: r.principalType, PrincipalDisplayName: r.principalName,
			AppRoleID: r.appRoleID, ResourceID: r.resourceID, ResourceDisplayName: r.resourceName, principal: -1, src: r.src, t: t}
		if a.AppRoleID == "" {
			a.AppRoleID = DefaultAccessRole
		}
		obj := ObjectRef{Kind: "assignment", ID: a.PrincipalID, Name: a.PrincipalDisplayName}
		if r.deleted {
			b.finding(SeverityInfo, FindingDeletedAssignment, obj, a.Source(), "nothing to do: it no longer puts anyone in scope",
				"assignment has a deletedDateTime and is left out")
			continue
		}
		key := strings.ToLower(a.PrincipalID)
		ui, isUser := t.userByID[key]
		gi, isGroup := t.groupByID[key]
		switch {
		case isUser && (a.PrincipalType == PrincipalUser || a.PrincipalType == PrincipalUnknown):
			a.PrincipalType, a.principal, a.PrincipalID = PrincipalUser, ui, t.users[ui].objectID
		case isGroup && (a.PrincipalType == PrincipalGroup || a.PrincipalType == PrincipalUnknown):
			a.PrincipalType, a.principal, a.PrincipalID = PrincipalGroup, gi, t.groups[gi].objectID
		case isUser || isGroup:
			return &LoadError{Source: a.Source(), Msg: fmt.Sprintf("assignment's principal %s is given as %s but is a %s of the export", a.PrincipalID, a.PrincipalType, map[bool]string{true: "user", false: "group"}[isUser]),
				Hint: "fix principalType to match the object"}
		case a.PrincipalType == PrincipalServicePrincipal:
			// Kept: an app assigned to another app is real, and never provisioned.
		default:
			b.finding(SeverityWarning, FindingUnknownPrincipal, obj, a.Source(),
				"export the assigned user or group too, or remove the assignment",
				"assigned %s is not in the export", cmp.Or(strings.ToLower(string(a.PrincipalType)), "principal"))
		}
		dk := [3]string{strings.ToLower(a.PrincipalID), strings.ToLower(a.AppRoleID), a.ID}
		if seen[dk] {
			continue
		}
		seen[dk] = true
		if a.ResourceID != "" {
			if len(apps) == 0 {
				firstApp = a.ResourceID
			}
			apps[strings.ToLower(a.ResourceID)] = true
		}
		t.assignments = append(t.assignments, a)
	}
	if len(apps) > 1 {
		b.finding(SeverityWarning, FindingSeveralApps, ObjectRef{Kind: "tenant"}, Source{File: b.path},
			"export the assignments of the Metric Insights app only: /servicePrincipals/{id}/appRoleAssignedTo of that app",
			"the assignments are for %d apps (resourceId %s and others): all of them are read as this app's", len(apps), firstApp)
	}
	slices.SortStableFunc(t.assignments, func(x, y Assignment) int {
		return cmp.Or(strings.Compare(strings.ToLower(x.PrincipalID), strings.ToLower(y.PrincipalID)),
			strings.Compare(strings.ToLower(x.AppRoleID), strings.ToLower(y.AppRoleID)), strings.Compare(x.ID, y.ID))
	})
	t.userAssignOff, t.userAssign = assignIndex(t, len(t.users), PrincipalUser)
	t.groupAssignOff, t.groupAssign = assignIndex(t, len(t.groups), PrincipalGroup)
	return nil
}

func assignIndex(t *Tenant, n int, kind PrincipalType) (off, flat []int32) {
	off = make([]int32, n+1)
	for _, a := range t.assignments {
		if a.PrincipalType == kind && a.principal >= 0 {
			off[a.principal+1]++
		}
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	flat = make([]int32, off[n])
	next := slices.Clone(off[:n])
	for ai, a := range t.assignments {
		if a.PrincipalType == kind && a.principal >= 0 {
			flat[next[a.principal]] = int32(ai)
			next[a.principal]++
		}
	}
	return off, flat
}

func groupRef(g *Group) ObjectRef {
	return ObjectRef{Kind: "group", ID: g.objectID, Name: g.displayName}
}

func listSome(ids []string) string {
	const max = 5
	if len(ids) <= max {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:max], ", ") + fmt.Sprintf(" and %d more", len(ids)-max)
}
