package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/store"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{Sync: SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func user(id, name string) store.User {
	now := time.Unix(1700000000, 0).UTC()
	return store.User{ID: id, UserName: name, MIUsername: name, Email: name + "@x", Active: true,
		UserType: "regular", AuthMethod: "sso", Source: "scim", Created: now, Modified: now, Version: 1}
}

func update(t testing.TB, s *Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// view runs fn in a read transaction and fails the test on any error,
// whether fn returned it or the transaction did.
func view(t testing.TB, s *Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// TestIndexedLookupsDoNotScan asks SQLite how it runs each lookup: a
// filter on userName, externalId, displayName or id, a membership change, a
// page of users, groups or members, must use an index (DESIGN §3.4, §3.2).
// A query whose plan cannot be read, or is empty, fails: an empty plan
// would pass a check for scans.
func TestIndexedLookupsDoNotScan(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	queries := []string{qUserByID, qGroupByID, qAddMember, qRemoveMember, qMembersPage, qTokenByHash,
		qUsersPage, qGroupsPage, qListingVersion}
	for _, q := range qUsersBy {
		queries = append(queries, q)
	}
	for _, q := range qGroupsBy {
		queries = append(queries, q)
	}
	for _, q := range queries {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = "x"
		}
		rows, err := s.write.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		err = readRows(rows, func(r *sql.Rows) error {
			var id, parent, notused int
			var detail string
			if err := r.Scan(&id, &parent, &notused, &detail); err != nil {
				return err
			}
			plan = append(plan, detail)
			return nil
		})
		if err != nil {
			t.Fatalf("read the plan of %s: %v", q, err)
		}
		if len(plan) == 0 {
			t.Fatalf("SQLite gave no plan for %s", q)
		}
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN") {
				t.Errorf("query scans a table (%s):\n%s", step, q)
			}
		}
	}
}

func TestUserNameUniqueRegardlessOfCase(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(user("1", "Ärger@Example.com")) })
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertUser(user("2", "äRGER@example.COM")) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("want ErrDuplicate, got %v", err)
	}
	view(t, s, func(tx store.Tx) error {
		us, err := tx.UsersBy(store.ByUserName, []string{"ärger@EXAMPLE.com"})
		if err != nil {
			return err
		}
		if len(us) != 1 || us[0].ID != "1" {
			t.Errorf("lookup by folded userName: %v", us)
		}
		return nil
	})
}

func TestFailedUpdateRollsBack(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.InsertUser(user("1", "a")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	view(t, s, func(tx store.Tx) error {
		n, err := tx.CountUsers()
		if err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("a failed transaction left %d users", n)
		}
		return nil
	})
}

func TestViewIsReadOnly(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	err := s.View(context.Background(), func(tx store.Tx) error { return tx.InsertUser(user("1", "a")) })
	if err == nil {
		t.Fatal("a write inside View succeeded")
	}
}

func TestMembershipsFollowDeletes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	now := time.Now()
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 3; i++ {
			if err := tx.InsertUser(user(fmt.Sprint(i), fmt.Sprint("u", i))); err != nil {
				return err
			}
		}
		if err := tx.InsertGroup(store.Group{ID: "g", DisplayName: "G", Created: now, Modified: now, Version: 1}); err != nil {
			return err
		}
		n, err := tx.AddMembers("g", []string{"0", "1", "2", "2", "unknown"})
		if err != nil {
			return err
		}
		if n != 3 {
			t.Errorf("AddMembers added %d, want 3 (duplicates and unknown ids skipped)", n)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser("1") })
	view(t, s, func(tx store.Tx) error {
		ms, err := store.AllMembers(tx, "g")
		if err != nil {
			return err
		}
		if len(ms) != 2 || ms[0].UserID != "0" || ms[1].UserID != "2" {
			t.Errorf("members after deleting a user: %v", ms)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteGroup("g") })
	var n int
	if err := s.read.QueryRow(`SELECT COUNT(*) FROM members`).Scan(&n); err != nil || n != 0 {
		t.Errorf("memberships left after deleting the group: %d %v", n, err)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(user("1", "a")) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	var version int
	if err := s.read.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != SchemaVersion {
		t.Fatalf("schema version %d (%v), want %d", version, err, SchemaVersion)
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.User("1"); err != nil {
			t.Errorf("user lost across reopen: %v", err)
		}
		return nil
	})
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path)
	if _, err := s.write.Exec(`INSERT INTO schema_migrations(version, applied) VALUES (?, 0)`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer miscim") {
		t.Fatalf("want a clear error for a newer schema, got %v", err)
	}
}

func TestTwoProcessesShareTheDatabase(t *testing.T) {
	// A `miscim vars set` beside a running `miscim serve`: two stores on one
	// file, both writing.
	path := filepath.Join(t.TempDir(), "db")
	a, b := open(t, path), open(t, path)
	done := make(chan error, 2)
	for i, s := range []*Store{a, b} {
		go func() {
			var err error
			for j := 0; j < 50 && err == nil; j++ {
				err = s.Update(context.Background(), func(tx store.Tx) error {
					return tx.SetVar(store.VarChange{Name: "V", New: fmt.Sprint(i, j), Who: "t", At: time.Now()})
				})
			}
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	view(t, a, func(tx store.Tx) error {
		h, err := tx.VarHistory("V")
		if err != nil {
			return err
		}
		if len(h) != 100 {
			t.Errorf("history has %d changes, want 100", len(h))
		}
		return nil
	})
}

func TestWALMode(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	var mode string
	if err := s.write.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v)", mode, err)
	}
	var fk int
	if err := s.read.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys on the read pool = %d (%v)", fk, err)
	}
}

// TestGroupCommitIsolatesFailures runs many concurrent Updates, some of
// which fail or panic: those write nothing, the others all land, and each
// caller gets its own outcome.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	const n = 200
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			errs <- s.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.InsertUser(user(fmt.Sprint(i), fmt.Sprint("u", i))); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return fmt.Errorf("job %d fails", i)
				case 7:
					panic("job panics")
				}
				return nil
			})
		}()
	}
	failed := 0
	for range n {
		if err := <-errs; err != nil {
			failed++
		}
	}
	if failed != 2*n/10 {
		t.Errorf("%d Updates failed, want %d", failed, 2*n/10)
	}
	view(t, s, func(tx store.Tx) error {
		count, err := tx.CountUsers()
		if err != nil {
			return err
		}
		if count != n-failed {
			t.Errorf("%d users stored, want %d", count, n-failed)
		}
		for i := 0; i < n; i++ {
			_, err := tx.User(fmt.Sprint(i))
			gone := errors.Is(err, store.ErrNotFound)
			if err != nil && !gone {
				return err
			}
			if wantGone := i%10 == 3 || i%10 == 7; wantGone != gone {
				t.Errorf("user %d: gone %v, want %v", i, gone, wantGone)
			}
		}
		return nil
	})
}

func TestUpdateAfterClose(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(store.Tx) error { return nil }); err == nil {
		t.Fatal("Update after Close succeeded")
	}
}
