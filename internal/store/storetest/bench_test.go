package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/miscim/miscim/internal/store"
)

// BenchmarkMemberChange adds one member to a group and removes it again,
// each in its own transaction, in a group of 5 and of 250,000 members, on
// both stores: the cost must not depend on the size of the group (DESIGN
// §3.2, §8: < 5 ms).
func BenchmarkMemberChange(b *testing.B) {
	for _, be := range Backends() {
		for _, size := range []int{5, 250000} {
			b.Run(fmt.Sprintf("%s/members=%d", be.Name, size), func(b *testing.B) {
				s := be.New(b)
				update(b, s, func(tx store.Tx) error {
					if err := tx.InsertGroup(Group("big", "Big")); err != nil {
						return err
					}
					return tx.InsertUser(User("extra", "extra"))
				})
				fill(b, be, s, size)
				view(b, s, func(tx store.Tx) error {
					n, err := tx.CountUsers()
					if err == nil && n != size+1 {
						b.Fatalf("%d users, want %d", n, size+1)
					}
					return err
				})
				ctx := context.Background()
				b.ResetTimer()
				for b.Loop() {
					if err := s.Update(ctx, func(tx store.Tx) error { _, err := tx.AddMembers("big", []string{"extra"}); return err }); err != nil {
						b.Fatal(err)
					}
					if err := s.Update(ctx, func(tx store.Tx) error { _, err := tx.RemoveMembers("big", []string{"extra"}); return err }); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// fill makes n users, all members of group "big", in bulk SQL.
func fill(b *testing.B, be Backend, s store.Store, n int) {
	if be.Name == "postgres" {
		be.Exec(b, s, fmt.Sprintf(`INSERT INTO users (seq, id, user_name, user_name_key, active, user_type, auth_method, source, mi_username, created, modified, version)
			SELECT nextval('users_seq'), 'b' || i, 'b' || i, 'b' || i, true, 'regular', 'sso', 'scim', 'b' || i, 1, 1, 1 FROM generate_series(1, %d) AS i`, n))
		be.Exec(b, s, fmt.Sprintf(`INSERT INTO members (group_id, user_id) SELECT 'big', 'b' || i FROM generate_series(1, %d) AS i`, n))
		// The bulk load leaves dirty pages and WAL for a checkpoint that
		// would otherwise run during the measurement.
		be.Exec(b, s, `VACUUM ANALYZE`)
		be.Exec(b, s, `CHECKPOINT`)
		return
	}
	be.Exec(b, s, fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		INSERT INTO users (rowid, id, user_name, user_name_key, active, user_type, auth_method, source, mi_username, created, modified, version)
		SELECT 100 + i, 'b' || i, 'b' || i, 'b' || i, 1, 'regular', 'sso', 'scim', 'b' || i, 1, 1, 1 FROM n`, n))
	be.Exec(b, s, fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		INSERT INTO members (group_id, user_id) SELECT 'big', 'b' || i FROM n`, n))
}
