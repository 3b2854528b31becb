package tenantgen

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// namespace makes the sample's objectIds: name-based UUIDs, so the same
// object keeps its id whenever the sample is generated.
var namespace = uuid.MustParse("6f1e8c1e-4b2a-4f0e-9a51-5a3c8e2d7b10")

func idOf(kind, name string) string { return uuid.NewSHA1(namespace, []byte(kind+":"+name)).String() }

func assignmentID(principal, role string) string {
	sum := sha256.Sum256([]byte(principal + "/" + role))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var (
	firstNames = []string{"Adele", "Alex", "Allan", "Ben", "Chloe", "Christie", "Diego", "Elena", "Enrico", "Grady",
		"Henrietta", "Irvin", "Isaiah", "Johanna", "Joni", "Lee", "Lidia", "Lynne", "Megan", "Miriam",
		"Nadia", "Oskar", "Patti", "Pradeep", "Rosa", "Sakura", "Tomás", "Ulrike", "Vikram", "Zoë"}
	lastNames   = []string{"Vance", "Wilber", "Deyoung", "Walters", "Holloway", "Cline", "Siciliani", "Garcia", "Rossi", "Archie"}
	departments = []string{"Sales", "Finance", "Engineering", "Marketing", "Operations", "Human Resources", "Legal", "Support"}
	jobTitles   = []string{"Analyst", "Manager", "Specialist", "Director", "Engineer", "Coordinator", "Consultant"}
)

var foldAccents = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ë", "e", "ö", "o", "ü", "u")

// asciiFold makes a mail-safe local part of a name.
func asciiFold(s string) string { return strings.ToLower(foldAccents.Replace(s)) }

// SampleSoftDeleted, SampleDisabled, SampleLongUPN and the group names
// below name the sample's special objects, for tests and docs.
const (
	SampleDomain        = "contoso.com"
	SampleSoftDeleted   = "nestor.wilke@contoso.com"
	SampleDisabled      = "diego.walters@contoso.com"
	SampleLongUPN       = "maximilian.alexander.konstantin.bartholomew-fitzgerald.von.hohenzollern-sigmaringen@research.contoso.com"
	SampleGuestUPN      = "bo.chan_fabrikam.com#EXT#@contoso.onmicrosoft.com"
	SampleTruncated     = "Contractors"
	SampleNested        = "MI Analysts"
	SampleNestedChild   = "Data Science"
	SampleNestedLeaf    = "Data Science Interns"
	SampleDeviceGroup   = "Meeting Room Devices"
	SampleEmptyGroup    = "Project Falcon"
	SampleAllStaffGroup = "All Staff"
)

// Sample is the bundled sample tenant (docs/examples/tenant): 302 users —
// among them users without mail, a disabled user, a soft-deleted user, a
// guest and one UPN over 100 characters — department groups, nested
// groups (three levels), a group of exactly 20 members read through
// $expand, a group with a device, an empty group, and assignments of
// groups and users to the Metric Insights app.
func Sample() *Tenant {
	t := &Tenant{Domain: SampleDomain, AppID: idOf("app", "metric-insights"), AppName: "Metric Insights"}
	n := 0
	for _, last := range lastNames {
		for _, first := range firstNames {
			local := asciiFold(first) + "." + asciiFold(last)
			upn := local + "@" + SampleDomain
			u := User{ID: idOf("user", upn), UPN: upn, DisplayName: first + " " + last, GivenName: first, Surname: last,
				Mail: upn, MailNickname: local, AccountEnabled: boolPtr(true), UserType: "Member",
				Department: departments[n%len(departments)], JobTitle: jobTitles[n%len(jobTitles)]}
			switch {
			case n%37 == 5:
				u.Mail = "" // users without a mailbox: Metric Insights needs an email
			case n%10 == 3:
				u.OtherMails = []string{local + "@personal.example", local + ".alt@personal.example"}
			}
			switch {
			case n < 3:
				u.Ext[0] = "admin"
			case n%13 == 0:
				u.Ext[0] = "power"
			case n%7 == 0:
				u.Ext[0] = "regular"
			}
			if n%50 == 7 {
				u.Ext[1] = "CC-" + fmt.Sprint(1000+n)
			}
			if upn == SampleDisabled {
				u.AccountEnabled = boolPtr(false)
			}
			t.Users = append(t.Users, u)
			n++
		}
	}
	long := User{ID: idOf("user", SampleLongUPN), UPN: SampleLongUPN, DisplayName: "Maximilian von Hohenzollern-Sigmaringen",
		GivenName: "Maximilian", Surname: "von Hohenzollern-Sigmaringen", Mail: "max.hohenzollern@research.contoso.com",
		MailNickname: "max.hohenzollern", AccountEnabled: boolPtr(true), UserType: "Member", Department: "Engineering", JobTitle: "Researcher"}
	guest := User{ID: idOf("user", SampleGuestUPN), UPN: SampleGuestUPN, DisplayName: "Bo Chan", GivenName: "Bo", Surname: "Chan",
		Mail: "bo.chan@fabrikam.com", MailNickname: "bo.chan_fabrikam.com#EXT#", AccountEnabled: boolPtr(true), UserType: "Guest",
		Department: "Marketing", JobTitle: "Consultant"}
	deleted := User{ID: idOf("user", SampleSoftDeleted), UPN: SampleSoftDeleted, DisplayName: "Nestor Wilke", GivenName: "Nestor",
		Surname: "Wilke", Mail: SampleSoftDeleted, MailNickname: "nestor.wilke", AccountEnabled: boolPtr(true), UserType: "Member",
		Department: "Operations", JobTitle: "Director", Deleted: time.Date(2026, 1, 10, 8, 30, 0, 0, time.UTC)}
	t.Users = append(t.Users, long, guest, deleted)

	live := func(pred func(i int, u *User) bool) []Ref {
		var out []Ref
		for i := range t.Users {
			u := &t.Users[i]
			if u.Deleted.IsZero() && pred(i, u) {
				out = append(out, userRef(u))
			}
		}
		return out
	}
	newGroup := func(name, desc string, members []Ref) *Group {
		nick := strings.ReplaceAll(strings.ToLower(name), " ", "-")
		t.Groups = append(t.Groups, Group{ID: idOf("group", name), DisplayName: name, Description: desc, MailNickname: nick,
			SecurityEnabled: true, Members: members, Expanded: len(members) < 20})
		return &t.Groups[len(t.Groups)-1]
	}
	var deptGroups []Ref
	for _, d := range departments {
		g := newGroup(d, d+" department", live(func(_ int, u *User) bool { return u.Department == d }))
		deptGroups = append(deptGroups, groupRef(g))
	}
	newGroup("MI Admins", "Metric Insights administrators", live(func(_ int, u *User) bool { return u.Ext[0] == "admin" }))
	newGroup("MI Power Users", "Metric Insights power users", live(func(_ int, u *User) bool { return u.Ext[0] == "power" }))
	leaf := newGroup(SampleNestedLeaf, "Interns of the data science team", live(func(i int, _ *User) bool { return i >= 200 && i < 205 }))
	child := newGroup(SampleNestedChild, "Data science team", append(live(func(i int, _ *User) bool { return i >= 205 && i < 214 }), groupRef(leaf)))
	newGroup(SampleNested, "Dashboards and reports: analysts and the data science team",
		append(live(func(i int, u *User) bool { return (i >= 214 && i < 226) || u.UPN == SampleLongUPN }), groupRef(child)))
	contractors := newGroup(SampleTruncated, "External contractors", live(func(i int, _ *User) bool { return i >= 240 && i < 260 }))
	contractors.Expanded = true // exactly 20 from $expand: Graph may have cut it
	newGroup(SampleAllStaffGroup, "Every department", deptGroups)
	devices := newGroup(SampleDeviceGroup, "Displays of the meeting rooms", append(
		live(func(_ int, u *User) bool { return u.UPN == "lee.cline@contoso.com" }),
		Ref{Kind: "device", ID: idOf("device", "room-101-display"), Name: "ROOM-101-DISPLAY"}))
	devices.SecurityEnabled = true
	newGroup(SampleEmptyGroup, "A project without members yet", nil)
	lead := newGroup("Leadership", "Leadership team (Microsoft 365 group)", live(func(_ int, u *User) bool { return u.JobTitle == "Director" && u.Department == "Finance" }))
	lead.Unified, lead.MailEnabled, lead.SecurityEnabled = true, true, false
	lead.Mail = "leadership@" + SampleDomain

	created := time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC)
	assign := func(principal, kind, name, role string) {
		t.Assignments = append(t.Assignments, Assignment{ID: assignmentID(principal, role), AppRoleID: role, PrincipalID: principal,
			PrincipalType: kind, PrincipalName: name, Created: created.Add(time.Duration(len(t.Assignments)) * time.Hour)})
	}
	adminRole := idOf("appRole", "admin")
	for _, name := range []string{"MI Admins", "MI Power Users", SampleNested, "Sales", "Finance", SampleTruncated} {
		role := DefaultAccess
		if name == "MI Admins" {
			role = adminRole
		}
		assign(idOf("group", name), "Group", name, role)
	}
	for _, upn := range []string{SampleGuestUPN, "adele.siciliani@contoso.com", "megan.holloway@contoso.com", "zoe.archie@contoso.com"} {
		u := t.user(idOf("user", upn))
		assign(u.ID, "User", u.DisplayName, DefaultAccess)
	}
	if err := t.check(); err != nil {
		panic(err)
	}
	return t
}
