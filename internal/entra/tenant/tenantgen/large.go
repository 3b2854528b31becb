package tenantgen

import (
	"fmt"
	"time"
)

// Large makes a tenant of the size DESIGN §8 measures: users users,
// groups groups and memberships direct memberships spread evenly over the
// groups (every group also holds one nested group where there are
// enough), a tenth of the groups and a hundredth of the users assigned to
// the app. Users carry the attributes a Graph export with $select has,
// onPremisesExtensionAttributes included.
func Large(users, groups, memberships int) *Tenant {
	t := &Tenant{Domain: "example.com", AppID: "8e881353-1735-45af-af21-ee1344582a4d", AppName: "Metric Insights"}
	t.Users = make([]User, users)
	for i := range t.Users {
		first := firstNames[i%len(firstNames)]
		last := lastNames[(i/len(firstNames))%len(lastNames)]
		local := fmt.Sprintf("%s.%s.%d", asciiFold(first), asciiFold(last), i)
		u := &t.Users[i]
		*u = User{ID: largeID(1, i), UPN: local + "@example.com", DisplayName: first + " " + last, GivenName: first, Surname: last,
			Mail: local + "@example.com", MailNickname: local, AccountEnabled: boolPtr(i%100 != 99), UserType: "Member",
			Department: departments[i%len(departments)], JobTitle: jobTitles[i%len(jobTitles)]}
		if i%10 == 3 {
			u.OtherMails = []string{local + "@personal.example"}
		}
		if i%10 == 0 {
			u.Ext[0] = "power"
		}
	}
	t.Groups = make([]Group, groups)
	per := 0
	if groups > 0 {
		per = memberships / groups
	}
	const stride = 104729 // a prime: member lists are distinct users
	for g := range t.Groups {
		grp := &t.Groups[g]
		*grp = Group{ID: largeID(2, g), DisplayName: fmt.Sprintf("Group %04d", g), Description: "Generated group", MailNickname: fmt.Sprintf("group-%04d", g), SecurityEnabled: true}
		n := per
		if g < memberships-per*groups {
			n++ // spread the remainder
		}
		if g+1 < groups && n > 0 {
			grp.Members = append(grp.Members, Ref{Kind: "group", ID: largeID(2, g+1), Name: fmt.Sprintf("Group %04d", g+1)})
			n--
		}
		for k := 0; k < n && users > 0; k++ {
			u := &t.Users[(g*7919+k*stride)%users]
			grp.Members = append(grp.Members, userRef(u))
		}
	}
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for g := 0; g < groups; g += 10 {
		t.Assignments = append(t.Assignments, Assignment{ID: assignmentID(t.Groups[g].ID, DefaultAccess), AppRoleID: DefaultAccess,
			PrincipalID: t.Groups[g].ID, PrincipalType: "Group", PrincipalName: t.Groups[g].DisplayName, Created: created})
	}
	for i := 0; i < users; i += 100 {
		t.Assignments = append(t.Assignments, Assignment{ID: assignmentID(t.Users[i].ID, DefaultAccess), AppRoleID: DefaultAccess,
			PrincipalID: t.Users[i].ID, PrincipalType: "User", PrincipalName: t.Users[i].DisplayName, Created: created})
	}
	return t
}

func largeID(kind, i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(i*2654435761), kind, i%0x1000, (i/0x1000)%0x1000, i)
}
