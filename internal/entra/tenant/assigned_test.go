package tenant_test

import (
	"path/filepath"
	"testing"
)

// TestAssignedAgreesWithEffectiveAssignments checks the allocation-free
// scope tests against the lists they stand for, on every object of the
// sample tenant in every format.
func TestAssignedAgreesWithEffectiveAssignments(t *testing.T) {
	for _, format := range []string{"native", "graph", "csv"} {
		tn := mustLoad(t, filepath.Join(examples, format))
		assigned := 0
		for u := range tn.Users() {
			want := len(tn.EffectiveAssignments(u)) > 0
			if got := tn.Assigned(u); got != want {
				t.Errorf("%s: Assigned(%s) = %v, EffectiveAssignments says %v", format, u.UserPrincipalName(), got, want)
			}
			if want {
				assigned++
			}
		}
		groups := 0
		for g := range tn.Groups() {
			want := len(g.Assignments()) > 0
			if got := tn.GroupAssigned(g); got != want {
				t.Errorf("%s: GroupAssigned(%s) = %v, Assignments says %v", format, g.DisplayName(), got, want)
			}
			if want {
				groups++
			}
		}
		// The sample assigns six groups and four users (docs/tenant.md).
		if groups != 6 || assigned < 4 {
			t.Errorf("%s: %d groups and %d users assigned; the sample assigns 6 groups and at least 4 users", format, groups, assigned)
		}
	}
}

// TestAttrValuesAgrees: AttrValues is Attr and MultiValued in one lookup.
func TestAttrValuesAgrees(t *testing.T) {
	tn := mustLoad(t, filepath.Join(examples, "graph"))
	for u := range tn.Users() {
		for _, name := range append(u.AttrNames(), "noSuchAttribute") {
			vals, multi, ok := u.AttrValues(name)
			want, wantOK := u.Attr(name)
			if ok != wantOK || multi != u.MultiValued(name) || len(vals) != len(want) {
				t.Fatalf("%s.%s: AttrValues = %v %v %v; Attr %v %v, MultiValued %v", u.ObjectID(), name, vals, multi, ok, want, wantOK, u.MultiValued(name))
			}
		}
	}
	for g := range tn.Groups() {
		for _, name := range append(g.AttrNames(), "noSuchAttribute") {
			vals, multi, ok := g.AttrValues(name)
			want, wantOK := g.Attr(name)
			if ok != wantOK || multi != g.MultiValued(name) || len(vals) != len(want) {
				t.Fatalf("%s.%s: AttrValues disagrees", g.ObjectID(), name)
			}
		}
	}
}
