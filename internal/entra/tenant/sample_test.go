package tenant_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

// examples is the bundled sample tenant (cmd/gen-sample writes it).
var examples = filepath.Join("..", "..", "..", "docs", "examples", "tenant")

func mustLoad(t *testing.T, path string) *tenant.Tenant {
	t.Helper()
	tn, err := tenant.Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return tn
}

// sameModel checks that two snapshots hold the same users, groups,
// memberships and assignments, whatever their formats.
func sameModel(t *testing.T, name string, want, got *tenant.Tenant) {
	t.Helper()
	if want.UserCount() != got.UserCount() || want.GroupCount() != got.GroupCount() ||
		want.MembershipCount() != got.MembershipCount() || want.AssignmentCount() != got.AssignmentCount() {
		t.Fatalf("%s: %d users, %d groups, %d memberships, %d assignments; want %d, %d, %d, %d", name,
			got.UserCount(), got.GroupCount(), got.MembershipCount(), got.AssignmentCount(),
			want.UserCount(), want.GroupCount(), want.MembershipCount(), want.AssignmentCount())
	}
	for i := range want.UserCount() {
		w, g := want.User(i), got.User(i)
		if !w.Equal(g) {
			t.Errorf("%s: user %d differs:\n want %s %v\n got  %s %v", name, i, w.ObjectID(), attrs(w), g.ObjectID(), attrs(g))
		}
	}
	for i := range want.GroupCount() {
		w, g := want.Group(i), got.Group(i)
		if !w.Equal(g) {
			t.Errorf("%s: group %s differs: members %v / %v, attributes %v / %v", name, w.DisplayName(), w.Members(), g.Members(), w.AttrNames(), g.AttrNames())
		}
	}
	var wa, ga []tenant.Assignment
	for a := range want.Assignments() {
		wa = append(wa, a)
	}
	for a := range got.Assignments() {
		ga = append(ga, a)
	}
	for i := range wa {
		w, g := wa[i], ga[i]
		if w.ID != g.ID || w.PrincipalID != g.PrincipalID || w.PrincipalType != g.PrincipalType || w.AppRoleID != g.AppRoleID ||
			w.PrincipalDisplayName != g.PrincipalDisplayName || w.ResourceID != g.ResourceID || w.ResourceDisplayName != g.ResourceDisplayName {
			t.Errorf("%s: assignment %d: %+v, want %+v", name, i, g, w)
		}
	}
}

func attrs(u *tenant.User) map[string][]string {
	m := map[string][]string{}
	for _, n := range u.AttrNames() {
		m[n], _ = u.Attr(n)
	}
	return m
}

// TestSampleFormatsAgree loads the bundled sample in its three formats
// (and native JSON, written by the same generator) and checks they give
// the same model.
func TestSampleFormatsAgree(t *testing.T) {
	native := mustLoad(t, filepath.Join(examples, "native", "tenant.yaml"))
	if native.Format() != tenant.FormatNative {
		t.Errorf("native format = %s", native.Format())
	}
	graph := mustLoad(t, filepath.Join(examples, "graph"))
	if graph.Format() != tenant.FormatGraph {
		t.Errorf("graph format = %s", graph.Format())
	}
	csv := mustLoad(t, filepath.Join(examples, "csv"))
	if csv.Format() != tenant.FormatCSV {
		t.Errorf("csv format = %s", csv.Format())
	}
	var js bytes.Buffer
	if err := tenantgen.WriteNative(&js, tenantgen.Sample(), true); err != nil {
		t.Fatal(err)
	}
	nativeJSON, err := tenant.Parse("tenant.json", js.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, "graph", native, graph)
	sameModel(t, "csv", native, csv)
	sameModel(t, "native json", native, nativeJSON)
	// A directory holding tenant.yaml is the same snapshot.
	sameModel(t, "native dir", native, mustLoad(t, filepath.Join(examples, "native")))
}

// TestSampleIsWhatTheIssueAsks checks the sample has each special case
// the docs and demo rely on, read the same way from every format.
func TestSampleIsWhatTheIssueAsks(t *testing.T) {
	for _, sub := range []string{"native", "graph", "csv"} {
		t.Run(sub, func(t *testing.T) {
			tn := mustLoad(t, filepath.Join(examples, sub))
			if n := tn.UserCount(); n < 300 {
				t.Errorf("%d users, want a few hundred", n)
			}
			c := tn.Contents()
			if !c.Users || !c.Groups || !c.Memberships || !c.Assignments || !c.DeletedItems || !c.AccountEnabled {
				t.Errorf("contents %+v, want everything", c)
			}

			del, err := tn.FindUser(tenantgen.SampleSoftDeleted)
			if err != nil {
				t.Fatal(err)
			}
			if !del.SoftDeleted() || !del.DeletedDateTime().Equal(time.Date(2026, 1, 10, 8, 30, 0, 0, time.UTC)) {
				t.Errorf("soft-deleted user: SoftDeleted %v at %v", del.SoftDeleted(), del.DeletedDateTime())
			}
			tomb := strings.ReplaceAll(del.ObjectID(), "-", "") + tenantgen.SampleSoftDeleted
			if v, _ := del.Attr("userPrincipalName"); del.UserPrincipalName() != tenantgen.SampleSoftDeleted || len(v) != 1 || v[0] != tomb || del.TombstoneUPN() != tomb {
				t.Errorf("soft-deleted UPN %q, Attr %v, tombstone %q; want %q and %q", del.UserPrincipalName(), v, del.TombstoneUPN(), tenantgen.SampleSoftDeleted, tomb)
			}
			if by, err := tn.FindUser(tomb); err != nil || by != del {
				t.Errorf("FindUser(tombstone) = %v, %v", by, err)
			}

			dis, _ := tn.FindUser(tenantgen.SampleDisabled)
			if dis == nil || dis.AccountEnabled() != tenant.False {
				t.Fatalf("disabled user: %v", dis)
			}
			if v, _ := dis.Attr("accountEnabled"); !slices.Equal(v, []string{"False"}) {
				t.Errorf("disabled accountEnabled attr %v", v)
			}
			noMail := 0
			for u := range tn.Users() {
				if u.Mail() == "" {
					noMail++
				}
			}
			if noMail < 3 {
				t.Errorf("%d users without mail, want several", noMail)
			}
			long, err := tn.FindUser(strings.ToUpper(tenantgen.SampleLongUPN))
			if err != nil || len(long.UserPrincipalName()) <= 100 {
				t.Errorf("long UPN user: %v %v", long, err)
			}
			guest, _ := tn.FindUser(tenantgen.SampleGuestUPN)
			if v, _ := guest.Attr("userType"); !slices.Equal(v, []string{"Guest"}) {
				t.Errorf("guest userType %v", v)
			}

			// Nested groups stay groups: MI Analysts has Data Science as a
			// member, not Data Science's members.
			analysts, err := tn.FindGroup(tenantgen.SampleNested)
			if err != nil {
				t.Fatal(err)
			}
			child, _ := tn.FindGroup(tenantgen.SampleNestedChild)
			leaf, _ := tn.FindGroup(tenantgen.SampleNestedLeaf)
			if mg := analysts.MemberGroups(); len(mg) != 1 || mg[0] != child {
				t.Errorf("MI Analysts member groups %v", mg)
			}
			if mg := child.MemberGroups(); len(mg) != 1 || mg[0] != leaf {
				t.Errorf("Data Science member groups %v", mg)
			}
			if pg := leaf.ParentGroups(); len(pg) != 1 || pg[0] != child {
				t.Errorf("interns' parents %v", pg)
			}
			for _, u := range leaf.MemberUsers() {
				for _, g := range u.Groups() {
					if g == analysts {
						t.Errorf("%s is a direct member of MI Analysts: nested membership was expanded", u.UserPrincipalName())
					}
				}
			}
			if m := analysts.MemberUsers(); len(m) != 13 {
				t.Errorf("MI Analysts has %d direct users, want 13", len(m))
			}

			// Assigned through a group: only direct members are in scope.
			someAnalyst := analysts.MemberUsers()[0]
			if eff := tn.EffectiveAssignments(someAnalyst); len(eff) == 0 {
				t.Errorf("%s has no effective assignment", someAnalyst.UserPrincipalName())
			}
			if eff := tn.EffectiveAssignments(leaf.MemberUsers()[0]); len(eff) != 0 {
				t.Errorf("a nested member is assigned: %v", eff)
			}
			if a := guest.Assignments(); len(a) != 1 || a[0].PrincipalType != tenant.PrincipalUser {
				t.Errorf("guest assignments %v", a)
			}
			admins, _ := tn.FindGroup("mi admins")
			if a := admins.Assignments(); len(a) != 1 || a[0].AppRoleID == tenant.DefaultAccessRole {
				t.Errorf("MI Admins assignment %v, want a specific app role", a)
			}

			devices, _ := tn.FindGroup(tenantgen.SampleDeviceGroup)
			var kinds []tenant.MemberKind
			for _, m := range devices.Members() {
				kinds = append(kinds, m.Kind)
			}
			if !slices.Equal(kinds, []tenant.MemberKind{tenant.MemberUser, tenant.MemberDevice}) {
				t.Errorf("device group members %v", kinds)
			}
			empty, _ := tn.FindGroup(tenantgen.SampleEmptyGroup)
			if len(empty.Members()) != 0 {
				t.Errorf("empty group has %d members", len(empty.Members()))
			}

			contractors, _ := tn.FindGroup(tenantgen.SampleTruncated)
			wantTruncated := sub != "csv" // the portal's members download is complete
			if contractors.PossiblyTruncated() != wantTruncated || len(contractors.Members()) != 20 {
				t.Errorf("Contractors: %d members, possibly truncated %v", len(contractors.Members()), contractors.PossiblyTruncated())
			}
			var codes []string
			for _, f := range tn.Findings() {
				codes = append(codes, f.Code)
				if f.Code == tenant.FindingPossiblyTruncated && f.Object.ID != contractors.ObjectID() {
					t.Errorf("truncation reported for %v", f.Object)
				}
			}
			want := []string{tenant.FindingUnsupportedMembers}
			if wantTruncated {
				want = []string{tenant.FindingPossiblyTruncated, tenant.FindingUnsupportedMembers}
			}
			if !slices.Equal(codes, want) {
				t.Errorf("findings %v, want %v", tn.Findings(), want)
			}
		})
	}
}

// TestSampleIsGenerated checks that the committed sample is what
// tenantgen writes today (make check-generated does the same for the
// whole tree).
func TestSampleIsGenerated(t *testing.T) {
	dir := t.TempDir()
	sample := tenantgen.Sample()
	var native bytes.Buffer
	if err := tenantgen.WriteNative(&native, sample, false); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(examples, "native", "tenant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(native.Bytes(), committed) {
		t.Error("docs/examples/tenant/native/tenant.yaml is not what tenantgen writes: run make docs")
	}
	if err := tenantgen.WriteGraph(filepath.Join(dir, "graph"), sample, 100); err != nil {
		t.Fatal(err)
	}
	sameModel(t, "regenerated graph", mustLoad(t, filepath.Join(examples, "graph")), mustLoad(t, filepath.Join(dir, "graph")))
}
