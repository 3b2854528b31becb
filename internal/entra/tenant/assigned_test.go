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
