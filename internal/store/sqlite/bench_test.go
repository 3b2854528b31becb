package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/miscim/miscim/internal/store"
)

// BenchmarkUserByID reads one user by id in a read transaction, as GET
// /Users/{id} does: through the store (its own connections, statements
// prepared once, the driver's API) and, for comparison, through
// database/sql on the same database with the same statement
// (docs/storage.md, "Connections and durability").
func BenchmarkUserByID(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "db"))
	const n = 2000
	update(b, s, func(tx store.Tx) error {
		for i := range n {
			if err := tx.InsertUser(user(fmt.Sprint(i), fmt.Sprint("u", i))); err != nil {
				return err
			}
		}
		return nil
	})
	ctx := context.Background()
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := s.View(ctx, func(tx store.Tx) error {
				_, err := tx.User(fmt.Sprint(i % n))
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("database-sql", func(b *testing.B) {
		st, err := s.read.PrepareContext(ctx, qUserByID)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			tx, err := s.read.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := scanUser(tx.StmtContext(ctx, st).QueryRowContext(ctx, fmt.Sprint(i%n))); err != nil {
				b.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
