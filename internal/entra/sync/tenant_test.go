package sync

import (
	"fmt"
	"strings"
)

// A small tenant, written as a native snapshot, that tests change
// between cycles.

type tUser struct {
	id, upn, given, sur string
	mail                string // "" is the UPN; "-" none
	disabled, deleted   bool
}

type tGroup struct {
	id, name, desc string
	members        []string // user objectIds
}

type tTenant struct {
	users    []tUser
	groups   []tGroup
	assigned []string // objectIds of assigned users and groups
}

func (tt *tTenant) yaml() string {
	var b strings.Builder
	b.WriteString("users:\n")
	for _, u := range tt.users {
		fmt.Fprintf(&b, "  - objectId: %q\n    userPrincipalName: %q\n", u.id, u.upn)
		if u.given != "" {
			fmt.Fprintf(&b, "    givenName: %q\n", u.given)
		}
		if u.sur != "" {
			fmt.Fprintf(&b, "    surname: %q\n", u.sur)
		}
		switch u.mail {
		case "":
			fmt.Fprintf(&b, "    mail: %q\n", u.upn)
		case "-":
		default:
			fmt.Fprintf(&b, "    mail: %q\n", u.mail)
		}
		fmt.Fprintf(&b, "    accountEnabled: %v\n", !u.disabled)
		if u.deleted {
			b.WriteString("    softDeleted: true\n")
		}
	}
	if len(tt.groups) > 0 {
		b.WriteString("groups:\n")
		for _, g := range tt.groups {
			fmt.Fprintf(&b, "  - objectId: %q\n    displayName: %q\n", g.id, g.name)
			if g.desc != "" {
				fmt.Fprintf(&b, "    description: %q\n", g.desc)
			}
			if len(g.members) > 0 {
				b.WriteString("    members:\n")
				for _, m := range g.members {
					fmt.Fprintf(&b, "      - %q\n", m)
				}
			}
		}
	}
	if len(tt.assigned) > 0 {
		b.WriteString("assignments:\n")
		for _, a := range tt.assigned {
			typ := "User"
			for _, g := range tt.groups {
				if g.id == a {
					typ = "Group"
				}
			}
			fmt.Fprintf(&b, "  - principalId: %q\n    principalType: %s\n", a, typ)
		}
	}
	return b.String()
}

func (tt *tTenant) userRef(id string) *tUser {
	for i := range tt.users {
		if tt.users[i].id == id {
			return &tt.users[i]
		}
	}
	panic("no user " + id)
}

func (tt *tTenant) groupRef(id string) *tGroup {
	for i := range tt.groups {
		if tt.groups[i].id == id {
			return &tt.groups[i]
		}
	}
	panic("no group " + id)
}

func (tt *tTenant) removeUser(id string) {
	for i := range tt.users {
		if tt.users[i].id == id {
			tt.users = append(tt.users[:i], tt.users[i+1:]...)
			break
		}
	}
	for i := range tt.groups {
		g := &tt.groups[i]
		for j, m := range g.members {
			if m == id {
				g.members = append(g.members[:j], g.members[j+1:]...)
				break
			}
		}
	}
	tt.unassign(id)
}

func (tt *tTenant) unassign(id string) {
	for i, a := range tt.assigned {
		if a == id {
			tt.assigned = append(tt.assigned[:i], tt.assigned[i+1:]...)
			return
		}
	}
}

// Object ids of the base tenant.
const (
	idAnn   = "aaaaaaaa-0000-4000-8000-000000000001"
	idBob   = "aaaaaaaa-0000-4000-8000-000000000002"
	idCarl  = "aaaaaaaa-0000-4000-8000-000000000003"
	idDora  = "aaaaaaaa-0000-4000-8000-000000000004"
	idSales = "bbbbbbbb-0000-4000-8000-000000000001"
	idOps   = "bbbbbbbb-0000-4000-8000-000000000002"
)

// baseTenant: Ann assigned directly; Bob and Carl through the Sales group
// (assigned); Dora in no assigned group; Ops not assigned.
func baseTenant() *tTenant {
	return &tTenant{
		users: []tUser{
			{id: idAnn, upn: "ann@contoso.com", given: "Ann", sur: "Lee"},
			{id: idBob, upn: "bob@contoso.com", given: "Bob", sur: "Ray"},
			{id: idCarl, upn: "carl@contoso.com", given: "Carl", sur: "Orr"},
			{id: idDora, upn: "dora@contoso.com", given: "Dora", sur: "Fey"},
		},
		groups: []tGroup{
			{id: idSales, name: "Sales", desc: "Sales team", members: []string{idBob, idCarl}},
			{id: idOps, name: "Ops", members: []string{idDora}},
		},
		assigned: []string{idAnn, idSales},
	}
}
