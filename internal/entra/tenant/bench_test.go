package tenant_test

import (
	"runtime"
	"testing"

	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

// BenchmarkLoadGraph100k loads the Graph export of DESIGN §8's tenant
// (100,000 users, 1,000 groups, 200,000 memberships; target < 2 s and
// < 300 MB resident, which cmd/tenantload measures in a fresh process).
// live-MB is the snapshot's heap after a GC.
func BenchmarkLoadGraph100k(b *testing.B) {
	dir := b.TempDir()
	if err := tenantgen.WriteGraph(dir, tenantgen.Large(100000, 1000, 200000), 999); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var t *tenant.Tenant
	for b.Loop() {
		var err error
		if t, err = tenant.Load(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if t.UserCount() != 100000 || t.MembershipCount() != 200000 {
		b.Fatalf("read %d users, %d memberships", t.UserCount(), t.MembershipCount())
	}
	t = nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "live-MB")
}
