package diff

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// After the target holds what the tenant wants, there is no difference.
func TestProvisionedTargetIsIdentical(t *testing.T) {
	mp := mapper(t, baseTenant, nil, "")
	tt := newTarget(t)
	tt.provision(t, mp)
	r := tt.diff(t, mp, Options{})
	if !r.Identical() {
		t.Fatalf("changes after provisioning: %q", briefs(r))
	}
	s := r.Summary
	if s.Users.Tenant != 6 || s.Users.InScope != 3 || s.Users.Target != 3 || s.Users.Paired != 3 || s.Users.Identical != 3 {
		t.Errorf("user counts %+v", s.Users)
	}
	if s.Groups.InScope != 1 || s.Groups.Identical != 1 || s.Members.Desired != 2 || s.Members.Target != 2 {
		t.Errorf("group counts %+v, members %+v", s.Groups, s.Members)
	}
}

// Each kind of tenant change produces exactly its expected change.
func TestTenantChanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tenant string
		want   []string
	}{
		{"new assigned user", edit(baseTenant, "assignments:\n", "assignments:\n  - principalId: "+carolID+"\n"),
			[]string{"missing user carol@contoso.com create"}},
		{"surname changed", edit(baseTenant, "surname: Lee", "surname: Leigh"),
			[]string{`changed user ann@contoso.com update name.familyName:"Lee"→"Leigh"`}},
		{"mail changed", edit(baseTenant, "mail: bob@contoso.com", "mail: bob.stone@contoso.com"),
			[]string{`changed user bob@contoso.com update emails[type eq "work"].value:"bob@contoso.com"→"bob.stone@contoso.com"`}},
		{"unassigned", edit(baseTenant, "  - principalId: "+fayID+"\n", ""),
			[]string{`outOfScope user fay@contoso.com disable active:true→"0"`}},
		{"still assigned through a group", edit(baseTenant, "  - principalId: "+annID+"\n", ""), []string{}},
		{"soft-deleted", edit(baseTenant, "userPrincipalName: fay@contoso.com", "userPrincipalName: fay@contoso.com\n    softDeleted: true"),
			[]string{`outOfScope user fay@contoso.com disable userName:"fay@contoso.com"→"11111111000040008000000000000006fay@contoso.com" active:true→"0"`}},
		{"hard-deleted", edit(baseTenant, "  - objectId: "+fayID+"\n    userPrincipalName: fay@contoso.com\n    givenName: Fay\n    surname: Wong\n    mail: fay@contoso.com\n    accountEnabled: true\n", "",
			"  - principalId: "+fayID+"\n", ""),
			[]string{"removed user fay@contoso.com delete"}},
		{"disabled", edit(baseTenant, "accountEnabled: true\n  - objectId: "+bobID, "accountEnabled: false\n  - objectId: "+bobID),
			[]string{`outOfScope user ann@contoso.com disable active:true→"0"`}},
		{"renamed", edit(baseTenant, "userPrincipalName: ann@contoso.com", "userPrincipalName: ann.lee@contoso.com"),
			[]string{`changed user ann.lee@contoso.com update userName:"ann@contoso.com"→"ann.lee@contoso.com"`}},
		{"member added", edit(baseTenant, "      - "+daveID+"\n", "      - "+daveID+"\n      - "+carolID+"\n"),
			[]string{"missing user carol@contoso.com create", "memberAdded group Sales addMember member carol@contoso.com"}},
		{"member removed", edit(baseTenant, "      - "+annID+"\n      - "+bobID, "      - "+bobID),
			[]string{"memberRemoved group Sales removeMember member ann@contoso.com"}},
		{"group renamed", edit(baseTenant, "displayName: Sales", "displayName: Sales EMEA"),
			[]string{`changed group Sales EMEA update displayName:"Sales"→"Sales EMEA"`}},
		{"group description", edit(baseTenant, "description: Sales team", "description: Sales and marketing"),
			[]string{`changed group Sales update description:"Sales team"→"Sales and marketing"`}},
		{"group unassigned", edit(baseTenant, "  - principalId: "+salesID+"\n", ""),
			[]string{`outOfScope user bob@contoso.com disable active:true→"0"`, "outOfScope group Sales delete"}},
		{"new group assigned", edit(baseTenant, "assignments:\n", "assignments:\n  - principalId: 22222222-0000-4000-8000-000000000002\n"),
			[]string{"missing group Finance create", "memberAdded group Finance addMember member ann@contoso.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newTarget(t)
			tt.provision(t, mapper(t, baseTenant, nil, ""))
			got := briefs(tt.diff(t, mapper(t, tc.tenant, nil, ""), Options{}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("changes\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// disable sends Entra's legacy disable: active "False".
func (tt *testTarget) disable(t *testing.T, userName string) string {
	t.Helper()
	id := tt.id(t, client.Users, "userName", userName)
	tt.patch(t, client.Users, id, map[string]any{"op": "Replace", "path": "active", "value": "False"})
	return id
}

var fayDisabled = edit(baseTenant, "mail: fay@contoso.com\n    accountEnabled: true", "mail: fay@contoso.com\n    accountEnabled: false")

// Mode N (the default): a disabled user keeps its SCIM userName, its MI
// username gets the prefix; neither is a rename, and re-enabling it in the
// tenant is an update of active alone.
func TestSoftDeleteModeN(t *testing.T) {
	tt := newTarget(t)
	tt.provision(t, mapper(t, baseTenant, nil, ""))
	id := tt.disable(t, "fay@contoso.com")
	snap, err := Read(context.Background(), tt.c, "embedded", ReadOptions{Mapping: mapping.Default(), Users: true})
	if err != nil {
		t.Fatal(err)
	}
	var fay *Object
	for _, o := range snap.Users {
		if o.ID == id {
			fay = o
		}
	}
	if fay == nil || fay.Active || fay.Name != "fay@contoso.com" || fay.Prefixed || fay.MIName != "scim-deleted-"+id[:8]+"-fay@contoso.com" {
		t.Fatalf("disabled user read as %+v", fay)
	}
	if r := tt.diff(t, mapper(t, fayDisabled, nil, ""), Options{}); !r.Identical() {
		t.Errorf("disabled in both: %q", briefs(r))
	}
	got := briefs(tt.diff(t, mapper(t, baseTenant, nil, ""), Options{}))
	if want := []string{`changed user fay@contoso.com update active:false→"1"`}; !slices.Equal(got, want) {
		t.Errorf("re-enabled in the tenant: %q, want %q", got, want)
	}
}

// Mode Y: the disabled user is deleted from Metric Insights; that is what
// the tenant wants of a disabled user, and re-enabling it in the tenant
// makes it missing.
func TestSoftDeleteModeY(t *testing.T) {
	tt := newTarget(t)
	if _, err := tt.e.SetVar(context.Background(), engine.VarRemoveUserOnSoftDelete, "Y", "test"); err != nil {
		t.Fatal(err)
	}
	tt.provision(t, mapper(t, baseTenant, nil, ""))
	tt.disable(t, "fay@contoso.com")
	if r := tt.diff(t, mapper(t, fayDisabled, nil, ""), Options{}); !r.Identical() {
		t.Errorf("disabled in the tenant, deleted by MI: %q", briefs(r))
	}
	got := briefs(tt.diff(t, mapper(t, baseTenant, nil, ""), Options{}))
	if want := []string{"missing user fay@contoso.com create"}; !slices.Equal(got, want) {
		t.Errorf("re-enabled in the tenant: %q, want %q", got, want)
	}
}

// A target that shows the soft-delete prefix in the userName of a
// disabled user is read without it.
func TestPrefixedUserName(t *testing.T) {
	set := comparedAttributes(&mapping.Default().Users)
	id := "00000006-aaaa-4000-8000-000000000006"
	for _, tc := range []struct {
		name, userName string
		active         bool
		want           string
		prefixed       bool
	}{
		{"disabled, prefixed", "scim-deleted-00000006-fay@contoso.com", false, "fay@contoso.com", true},
		{"prefix in another case", "SCIM-DELETED-00000006-fay@contoso.com", false, "fay@contoso.com", true},
		{"active: a name that looks so", "scim-deleted-00000006-fay@contoso.com", true, "scim-deleted-00000006-fay@contoso.com", false},
		{"another id's prefix", "scim-deleted-00000007-fay@contoso.com", false, "scim-deleted-00000007-fay@contoso.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := set.object(mapping.Users, scim.Resource{"id": id, "userName": tc.userName, "active": tc.active})
			if o.Name != tc.want || o.Prefixed != tc.prefixed || o.Values[set.position("userName")] != tc.want {
				t.Errorf("read %q as %q (prefixed %v, value %v)", tc.userName, o.Name, o.Prefixed, o.Values[set.position("userName")])
			}
		})
	}
}

// Objects created in the target by hand are unmanaged, or removed when
// they carry an externalId the tenant does not know; --ignore-unmanaged
// leaves the former out.
func TestHandMadeObjects(t *testing.T) {
	ctx := context.Background()
	tt := newTarget(t)
	mp := mapper(t, baseTenant, nil, "")
	tt.provision(t, mp)
	if _, _, err := tt.e.CreateToken(ctx, "admin@example.com", "admin", 0); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"hand@contoso.com","emails":[{"value":"hand@contoso.com"}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"gone@contoso.com","externalId":"99999999-0000-4000-8000-000000000001","emails":[{"value":"gone@contoso.com"}]}`,
	} {
		if _, err := tt.c.Create(ctx, client.Users, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	for _, body := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Hand made"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Old team","externalId":"99999999-0000-4000-8000-000000000002"}`,
	} {
		if _, err := tt.c.Create(ctx, client.Groups, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	got := briefs(tt.diff(t, mp, Options{}))
	want := []string{"removed user gone@contoso.com delete", "unmanaged user admin@example.com none", "unmanaged user hand@contoso.com none",
		"removed group Old team delete", "unmanaged group Hand made none"}
	if !slices.Equal(got, want) {
		t.Errorf("changes\n got %q\nwant %q", got, want)
	}
	got = briefs(tt.diff(t, mp, Options{IgnoreUnmanaged: true}))
	want = []string{"removed user gone@contoso.com delete", "removed group Old team delete"}
	if !slices.Equal(got, want) {
		t.Errorf("--ignore-unmanaged\n got %q\nwant %q", got, want)
	}
}

// --only reports one part.
func TestOnly(t *testing.T) {
	tt := newTarget(t)
	tt.provision(t, mapper(t, baseTenant, nil, ""))
	changed := edit(baseTenant, "surname: Lee", "surname: Leigh", "displayName: Sales", "displayName: Sales EMEA",
		"      - "+daveID+"\n", "      - "+daveID+"\n      - "+fayID+"\n")
	mp := mapper(t, changed, nil, "")
	for only, want := range map[Only][]string{
		OnlyAll:     {`changed user ann@contoso.com update name.familyName:"Lee"→"Leigh"`, `changed group Sales EMEA update displayName:"Sales"→"Sales EMEA"`, "memberAdded group Sales EMEA addMember member fay@contoso.com"},
		OnlyUsers:   {`changed user ann@contoso.com update name.familyName:"Lee"→"Leigh"`},
		OnlyGroups:  {`changed group Sales EMEA update displayName:"Sales"→"Sales EMEA"`},
		OnlyMembers: {"memberAdded group Sales EMEA addMember member fay@contoso.com"},
	} {
		if got := briefs(tt.diff(t, mp, Options{Only: only})); !slices.Equal(got, want) {
			t.Errorf("--only %q: %q, want %q", only, got, want)
		}
	}
}

// Duplicates on either side pair with nothing and are reported.
func TestDuplicates(t *testing.T) {
	t.Run("tenant", func(t *testing.T) {
		tt := newTarget(t)
		tt.provision(t, mapper(t, baseTenant, nil, ""))
		// Carol, assigned, takes Fay's UPN in another case.
		dup := edit(baseTenant, "userPrincipalName: carol@contoso.com", "userPrincipalName: FAY@contoso.com", "assignments:\n", "assignments:\n  - principalId: "+carolID+"\n")
		r := tt.diff(t, mapper(t, dup, nil, ""), Options{})
		got := briefs(r)
		// Fay still pairs with her target user by externalId, and is
		// identical; Carol pairs with nothing.
		if want := []string{"duplicate user FAY@contoso.com fail"}; !slices.Equal(got, want) {
			t.Fatalf("changes %q, want %q", got, want)
		}
		if objs := r.Changes[0].Objects; len(objs) != 3 || objs[1].Identity != "fay@contoso.com" || objs[2].Side != "target" || objs[2].Identity != "fay@contoso.com" {
			t.Errorf("objects %+v", objs)
		}
	})
	t.Run("target, on the matching attribute", func(t *testing.T) {
		m := mapping.Default()
		for _, a := range m.Users.Attributes {
			switch a.Target {
			case "externalId":
				a.Matching = 1
			case "userName":
				a.Matching = 2
			}
		}
		tt := newTarget(t)
		tt.provision(t, mapper(t, baseTenant, m, ""))
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fay.copy@contoso.com","externalId":"` + fayID + `","emails":[{"value":"fay@contoso.com"}]}`
		if _, err := tt.c.Create(context.Background(), client.Users, []byte(body)); err != nil {
			t.Fatal(err)
		}
		r := tt.diff(t, mapper(t, baseTenant, m, ""), Options{})
		got := briefs(r)
		if want := []string{"duplicate user fay@contoso.com fail"}; !slices.Equal(got, want) {
			t.Fatalf("changes %q, want %q", got, want)
		}
		if !strings.Contains(r.Changes[0].Reason, "DuplicateTargetEntries") || len(r.Changes[0].Objects) != 3 {
			t.Errorf("reason %q, objects %+v", r.Changes[0].Reason, r.Changes[0].Objects)
		}
	})
}

// What the simulator's connector space remembers changes the verdicts it
// decides: a renamed object pairs by its link whatever its matching
// values, a linked object the target lost is a dangling link
// (InvalidAnchor, not a create), and a target object whose source is gone
// is deleted only when it is linked.
func TestConnectorSpaceLinks(t *testing.T) {
	hardDeleted := edit(baseTenant, "  - objectId: "+fayID+"\n    userPrincipalName: fay@contoso.com\n    givenName: Fay\n    surname: Wong\n    mail: fay@contoso.com\n    accountEnabled: true\n", "",
		"  - principalId: "+fayID+"\n", "")
	newAssigned := edit(baseTenant, "assignments:\n", "assignments:\n  - principalId: "+carolID+"\n")
	for _, tc := range []struct {
		name   string
		tenant string
		links  func(ids map[string]string) *Links
		want   []string
		reason string
	}{
		{"linked and gone: deleted", hardDeleted, func(ids map[string]string) *Links { return &Links{Users: ids} },
			[]string{"removed user fay@contoso.com delete"}, "linked in the connector space"},
		{"not linked and gone: left alone", hardDeleted, func(map[string]string) *Links { return &Links{Users: map[string]string{}} },
			[]string{"removed user fay@contoso.com none"}, "the connector space does not link it"},
		{"linked, lost by the target: InvalidAnchor", newAssigned, func(ids map[string]string) *Links {
			ids[strings.ToLower(carolID)] = "0dead000-0000-4000-8000-000000000000"
			return &Links{Users: ids}
		}, []string{"missing user carol@contoso.com fail"}, "InvalidAnchor"},
		{"the link pairs a renamed user", edit(baseTenant, "userPrincipalName: ann@contoso.com", "userPrincipalName: ann.lee@contoso.com",
			"mail: ann@contoso.com", "mail: ann.lee@contoso.com"), func(ids map[string]string) *Links { return &Links{Users: ids} },
			[]string{`changed user ann.lee@contoso.com update userName:"ann@contoso.com"→"ann.lee@contoso.com" emails[type eq "work"].value:"ann@contoso.com"→"ann.lee@contoso.com"`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newTarget(t)
			tt.provision(t, mapper(t, baseTenant, nil, ""))
			ids := map[string]string{}
			for oid, name := range map[string]string{annID: "ann@contoso.com", bobID: "bob@contoso.com", fayID: "fay@contoso.com"} {
				ids[strings.ToLower(oid)] = tt.id(t, client.Users, "userName", name)
			}
			r := tt.diff(t, mapper(t, tc.tenant, nil, ""), Options{Links: tc.links(ids)})
			if got := briefs(r); !slices.Equal(got, tc.want) {
				t.Fatalf("changes\n got %q\nwant %q", got, tc.want)
			}
			if !strings.Contains(r.Changes[0].Reason, tc.reason) {
				t.Errorf("reason %q, want it to say %q", r.Changes[0].Reason, tc.reason)
			}
			if tc.reason == "" && r.Changes[0].PairedBy != "link" {
				t.Errorf("paired by %q, want the link", r.Changes[0].PairedBy)
			}
		})
	}
}
