package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

// A change is what an Entra admin does to the tenant between two cycles,
// made to the demo's copy of the snapshot.
type change struct {
	what  string // as the transcript says it
	apply func(t *tenantgen.Tenant) error
}

// deletedAt is when the demo's soft deletes happened in Entra; fixed, so
// that the tenant file is the same on every run.
var deletedAt = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)

func user(t *tenantgen.Tenant, upn string) (*tenantgen.User, error) {
	for i := range t.Users {
		if t.Users[i].UPN == upn {
			return &t.Users[i], nil
		}
	}
	return nil, fmt.Errorf("the sample tenant has no user %s", upn)
}

func group(t *tenantgen.Tenant, name string) (*tenantgen.Group, error) {
	for i := range t.Groups {
		if t.Groups[i].DisplayName == name {
			return &t.Groups[i], nil
		}
	}
	return nil, fmt.Errorf("the sample tenant has no group %s", name)
}

// refresh rewrites the member references to u, whose names the snapshot
// shows beside each member.
func refresh(t *tenantgen.Tenant, u *tenantgen.User) {
	for gi := range t.Groups {
		for mi, m := range t.Groups[gi].Members {
			if m.ID == u.ID {
				t.Groups[gi].Members[mi].Name, t.Groups[gi].Members[mi].UPN = u.DisplayName, u.UPN
			}
		}
	}
}

func giveMail(upn string) change {
	return change{upn + " gets a mailbox: mail " + upn, func(t *tenantgen.Tenant) error {
		u, err := user(t, upn)
		if err == nil {
			u.Mail = upn
		}
		return err
	}}
}

func renameUPN(upn, to string) change {
	return change{upn + " gets a shorter userPrincipalName: " + to, func(t *tenantgen.Tenant) error {
		u, err := user(t, upn)
		if err == nil {
			u.UPN = to
			refresh(t, u)
		}
		return err
	}}
}

func rename(upn, given, surname string) change {
	to := asciiLower(given) + "." + asciiLower(surname) + "@" + tenantgen.SampleDomain
	return change{fmt.Sprintf("rename: %s becomes %s %s, %s (UPN, mail, surname, display name)", upn, given, surname, to),
		func(t *tenantgen.Tenant) error {
			u, err := user(t, upn)
			if err != nil {
				return err
			}
			u.UPN, u.Mail, u.Surname, u.DisplayName = to, to, surname, given+" "+surname
			u.MailNickname = asciiLower(given) + "." + asciiLower(surname)
			refresh(t, u)
			return nil
		}}
}

func softDelete(upn, why string) change {
	return change{"soft delete: " + upn + " goes to the recycle bin" + why, func(t *tenantgen.Tenant) error {
		u, err := user(t, upn)
		if err == nil {
			u.Deleted = deletedAt
		}
		return err
	}}
}

func restore(upn string) change {
	return change{"restore: " + upn + " comes back from the recycle bin", func(t *tenantgen.Tenant) error {
		u, err := user(t, upn)
		if err == nil {
			if u.Deleted.IsZero() {
				return fmt.Errorf("%s is not soft-deleted", upn)
			}
			u.Deleted = time.Time{}
		}
		return err
	}}
}

func unassign(upn string) change {
	return change{"unassignment: " + upn + " is removed from the Metric Insights app's Users and groups", func(t *tenantgen.Tenant) error {
		u, err := user(t, upn)
		if err != nil {
			return err
		}
		n := len(t.Assignments)
		t.Assignments = slices.DeleteFunc(t.Assignments, func(a tenantgen.Assignment) bool { return a.PrincipalID == u.ID })
		if len(t.Assignments) == n {
			return fmt.Errorf("%s is not assigned to the app", upn)
		}
		return nil
	}}
}

func moveMember(upn, from, to string) change {
	return change{fmt.Sprintf("membership change: %s leaves group %s and joins %s", upn, from, to), func(t *tenantgen.Tenant) error {
		u, err := user(t, upn)
		if err != nil {
			return err
		}
		gf, err := group(t, from)
		if err != nil {
			return err
		}
		gt, err := group(t, to)
		if err != nil {
			return err
		}
		n := len(gf.Members)
		gf.Members = slices.DeleteFunc(gf.Members, func(m tenantgen.Ref) bool { return m.ID == u.ID })
		if len(gf.Members) == n {
			return fmt.Errorf("%s is not a member of %s", upn, from)
		}
		gt.Members = append(gt.Members, tenantgen.Ref{Kind: "user", ID: u.ID, Name: u.DisplayName, UPN: u.UPN})
		return nil
	}}
}

func deleteGroup(name, why string) change {
	return change{"group deletion: group " + name + " is deleted" + why, func(t *tenantgen.Tenant) error {
		g, err := group(t, name)
		if err != nil {
			return err
		}
		id := g.ID
		t.Groups = slices.DeleteFunc(t.Groups, func(g tenantgen.Group) bool { return g.ID == id })
		// Deleting a group deletes its assignments and its place in other
		// groups.
		t.Assignments = slices.DeleteFunc(t.Assignments, func(a tenantgen.Assignment) bool { return a.PrincipalID == id })
		for gi := range t.Groups {
			t.Groups[gi].Members = slices.DeleteFunc(t.Groups[gi].Members, func(m tenantgen.Ref) bool { return m.ID == id })
		}
		return nil
	}}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// writeTenant writes t as the native snapshot at path.
func writeTenant(path string, t *tenantgen.Tenant) error {
	var buf bytes.Buffer
	if err := tenantgen.WriteNative(&buf, t, false); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// checkSample makes sure the bundled file is the sample the demo edits:
// the demo rewrites the tenant from tenantgen.Sample, so a stale file
// would change more between cycles than the transcript says.
func checkSample(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the sample tenant: %w (run the demo from the repository's top directory: make demo)", err)
	}
	var want bytes.Buffer
	if err := tenantgen.WriteNative(&want, tenantgen.Sample(), false); err != nil {
		return nil, err
	}
	if !bytes.Equal(b, want.Bytes()) {
		return nil, fmt.Errorf("%s is not the sample cmd/gen-sample writes: run make docs", path)
	}
	return b, nil
}
