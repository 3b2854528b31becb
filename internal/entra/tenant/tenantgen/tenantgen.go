// Package tenantgen makes synthetic Entra tenants and writes them in the
// three input formats internal/entra/tenant reads: miscim's native
// snapshot, a Microsoft Graph export directory and the admin center's CSV
// downloads. It owns the bundled sample tenant (Sample, written to
// docs/examples/tenant by cmd/gen-sample) and the large tenants of the
// load benchmark (Large). Everything is deterministic: the same call
// writes the same bytes.
package tenantgen

import (
	"fmt"
	"time"
)

// Tenant is a generated tenant: plain data, in the order it is written.
type Tenant struct {
	Domain      string
	AppID       string // the enterprise app's service principal objectId
	AppName     string
	Users       []User
	Groups      []Group
	Assignments []Assignment
}

// User is one generated user. Empty strings are absent attributes.
type User struct {
	ID, UPN, DisplayName, GivenName, Surname, Mail, MailNickname string
	OtherMails                                                   []string
	AccountEnabled                                               *bool // nil: not exported
	UserType, Department, JobTitle                               string
	Ext                                                          [15]string // extensionAttribute1..15
	Deleted                                                      time.Time  // soft-deleted at, zero when live
}

// Group is one generated group.
type Group struct {
	ID, DisplayName, Description, Mail, MailNickname string
	SecurityEnabled, MailEnabled                     bool
	Unified                                          bool // a Microsoft 365 group (groupTypes ["Unified"])
	Members                                          []Ref
	// Expanded groups come with their members in groups.json
	// ($expand=members, at most 20); the others get members/<id>.json
	// pages.
	Expanded bool
}

// Ref is a typed member reference.
type Ref struct {
	Kind string // "user", "group", "device", "servicePrincipal"
	ID   string
	Name string // displayName (or UPN for users), as member pages show it
	UPN  string
}

// Assignment is one appRoleAssignment of the app.
type Assignment struct {
	ID, AppRoleID, PrincipalID, PrincipalType, PrincipalName string
	Created                                                  time.Time
}

// DefaultAccess is the appRoleId of default access.
const DefaultAccess = "00000000-0000-0000-0000-000000000000"

func boolPtr(b bool) *bool { return &b }

func (t *Tenant) user(id string) *User {
	for i := range t.Users {
		if t.Users[i].ID == id {
			return &t.Users[i]
		}
	}
	return nil
}

// userRef and groupRef make member references with the names member
// pages carry.
func userRef(u *User) Ref   { return Ref{Kind: "user", ID: u.ID, Name: u.DisplayName, UPN: u.UPN} }
func groupRef(g *Group) Ref { return Ref{Kind: "group", ID: g.ID, Name: g.DisplayName} }

func (t *Tenant) check() error {
	ids := map[string]bool{}
	for _, u := range t.Users {
		if ids[u.ID] {
			return fmt.Errorf("duplicate id %s", u.ID)
		}
		ids[u.ID] = true
	}
	for _, g := range t.Groups {
		if ids[g.ID] {
			return fmt.Errorf("duplicate id %s", g.ID)
		}
		ids[g.ID] = true
	}
	return nil
}
