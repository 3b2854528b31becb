package tenantgen_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

func TestSampleIsDeterministic(t *testing.T) {
	a, b := tenantgen.Sample(), tenantgen.Sample()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two Samples differ")
	}
	var x, y bytes.Buffer
	if err := tenantgen.WriteNative(&x, a, false); err != nil {
		t.Fatal(err)
	}
	if err := tenantgen.WriteNative(&y, b, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Fatal("the native sample is not the same twice")
	}
}

// TestLargeHasTheRequestedSize checks that the benchmark's tenant is the
// size it claims, as the loader reads it, in every format.
func TestLargeHasTheRequestedSize(t *testing.T) {
	lt := tenantgen.Large(1000, 10, 2003)
	graph, csv := t.TempDir(), t.TempDir()
	if err := tenantgen.WriteGraph(graph, lt, 999); err != nil {
		t.Fatal(err)
	}
	if err := tenantgen.WriteCSV(csv, lt, "2026-1-1"); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{graph, csv} {
		tn, err := tenant.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if tn.UserCount() != 1000 || tn.GroupCount() != 10 || tn.MembershipCount() != 2003 || tn.AssignmentCount() != 11 {
			t.Errorf("%s: %d users, %d groups, %d memberships, %d assignments", tn.Format(), tn.UserCount(), tn.GroupCount(), tn.MembershipCount(), tn.AssignmentCount())
		}
		if f := tn.Findings(); len(f) != 0 {
			t.Errorf("%s: findings %v", tn.Format(), f)
		}
	}
}
