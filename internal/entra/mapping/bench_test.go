package mapping

import (
	"bytes"
	"sync"
	"testing"

	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

// large is DESIGN §8's tenant (100,000 users, 1,000 groups, 200,000
// memberships), loaded once for the benchmarks.
var large = sync.OnceValues(func() (*tenant.Tenant, error) {
	var b bytes.Buffer
	if err := tenantgen.WriteNative(&b, tenantgen.Large(100000, 1000, 200000), true); err != nil {
		return nil, err
	}
	return tenant.Parse("tenant.json", b.Bytes())
})

func largeMapper(b *testing.B) *Mapper {
	b.Helper()
	tn, err := large()
	if err != nil {
		b.Fatal(err)
	}
	mp, err := New(tn, Default(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return mp
}

// BenchmarkMapUsers100k maps every user of the 100,000-user tenant through
// Metric Insights' mapping, as each simulate cycle and diff does: scope,
// IsSoftDeleted, the six attributes (one an expression). ns/user is the
// cost of one user.
func BenchmarkMapUsers100k(b *testing.B) {
	mp := largeMapper(b)
	tn := mp.Tenant()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for u := range tn.Users() {
			if d := mp.User(u); d.Values == nil {
				b.Fatal("no values")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tn.UserCount()), "ns/user")
}

// BenchmarkMapGroups1k maps the 1,000 groups with their 200,000
// memberships; the first call of a Mapper also decides every user's scope
// once, so each iteration uses a fresh Mapper.
func BenchmarkMapGroups1k(b *testing.B) {
	mp := largeMapper(b)
	tn := mp.Tenant()
	b.ReportAllocs()
	b.ResetTimer()
	members := 0
	for b.Loop() {
		fresh, _ := New(tn, mp.Mapping(), Options{})
		members = 0
		for g := range tn.Groups() {
			members += len(fresh.Group(g).Members)
		}
	}
	if members == 0 {
		b.Fatal("no members in scope")
	}
}

// BenchmarkUserBody is one user's create body, as simulate builds a POST.
func BenchmarkUserBody(b *testing.B) {
	mp := largeMapper(b)
	u := mp.Tenant().User(0)
	b.ReportAllocs()
	for b.Loop() {
		_ = mp.User(u).Resource(true)
	}
}

// BenchmarkUser is one user mapped: scope, IsSoftDeleted, six values.
func BenchmarkUser(b *testing.B) {
	mp := largeMapper(b)
	u := mp.Tenant().User(0)
	b.ReportAllocs()
	for b.Loop() {
		_ = mp.User(u)
	}
}

// BenchmarkMapUsers100kReused is BenchmarkMapUsers100k through UserTo,
// one Desired reused: the mapping alone, without the garbage collector's
// cost of keeping a 100,000-user snapshot while allocating.
func BenchmarkMapUsers100kReused(b *testing.B) {
	mp := largeMapper(b)
	tn := mp.Tenant()
	var d Desired
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for u := range tn.Users() {
			mp.UserTo(&d, u)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tn.UserCount()), "ns/user")
}

// BenchmarkReadAttributes100k is the baseline of the mapping benchmarks,
// measured in the same run: reading the six source attributes of MI's
// mapping from every user, with nothing mapped. The ratio of
// BenchmarkMapUsers100kReused to it is the cost of scope, IsSoftDeleted,
// the expression and the provenance.
func BenchmarkReadAttributes100k(b *testing.B) {
	mp := largeMapper(b)
	tn := mp.Tenant()
	names := []string{"objectId", "userPrincipalName", "accountEnabled", "givenName", "surname", "mail"}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for u := range tn.Users() {
			for _, name := range names {
				if vals, _, ok := u.AttrValues(name); ok {
					n += len(vals[0])
				}
			}
		}
	}
	if n == 0 {
		b.Fatal("nothing read")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tn.UserCount()), "ns/user")
}
