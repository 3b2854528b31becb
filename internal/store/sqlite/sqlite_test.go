package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
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

// TestSeqMigrationContinuesAfterTheLargestRowid: a database made before
// migration 3 gets a counter that starts above every rowid it holds, so
// that no Seq is given twice after the upgrade either.
func TestSeqMigrationContinuesAfterTheLargestRowid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path)
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"a", "b", "c"} {
			if err := tx.InsertUser(user(id, id)); err != nil {
				return err
			}
			if err := tx.InsertGroup(group(id, id)); err != nil {
				return err
			}
		}
		return nil
	})
	// Back to schema 2: the old insert triggers, no counter.
	for _, q := range []string{
		`DROP TRIGGER users_listing_insert`, `DROP TRIGGER groups_listing_insert`,
		`CREATE TRIGGER users_listing_insert AFTER INSERT ON users BEGIN UPDATE listings SET records = records + 1 WHERE listing = 'users'; END`,
		`CREATE TRIGGER groups_listing_insert AFTER INSERT ON groups BEGIN UPDATE listings SET records = records + 1 WHERE listing = 'groups'; END`,
		`ALTER TABLE listings DROP COLUMN next_seq`, `DELETE FROM schema_migrations WHERE version = 3`,
	} {
		if _, err := s.write.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s = open(t, path)
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteUser("c"); err != nil {
			return err
		}
		if err := tx.DeleteGroup("c"); err != nil {
			return err
		}
		if err := tx.InsertUser(user("d", "d")); err != nil {
			return err
		}
		return tx.InsertGroup(group("d", "d"))
	})
	view(t, s, func(tx store.Tx) error {
		u, err := tx.User("d")
		if err != nil {
			return err
		}
		g, err := tx.Group("d")
		if err != nil {
			return err
		}
		if u.Seq != 4 || g.Seq != 4 {
			t.Errorf("after the migration and a delete of the last: user Seq %d, group Seq %d; want 4 (3 was taken)", u.Seq, g.Seq)
		}
		n, err := tx.CountUsers()
		if err != nil || n != 3 {
			t.Errorf("CountUsers = %d %v, want 3", n, err)
		}
		return nil
	})
}

// TestPathIsAPath: '?', '#', '%' and spaces in a database path are part of
// the file name. Before, the part after '?' was read as URI parameters
// and displaced the store's own (busy timeout, WAL), so that two stores on
// such a file failed under concurrent writes. Two stores, as two processes
// would, write at once to a file with each of them in its name; the file
// is where the path says, and no other file appears.
func TestPathIsAPath(t *testing.T) {
	dir := t.TempDir()
	name := "my db?mode=memory&_pragma=busy_timeout(0)#frag %41%20.db"
	path := filepath.Join(dir, name)
	a, b := open(t, path), open(t, path)
	var mode string
	if err := b.write.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v): the store's parameters were displaced", mode, err)
	}
	var timeout int
	if err := b.read.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout); err != nil || timeout != 10000 {
		t.Fatalf("busy_timeout = %d (%v): the store's parameters were displaced", timeout, err)
	}
	done := make(chan error, 2)
	for i, s := range []*Store{a, b} {
		go func() {
			var err error
			for j := 0; j < 100 && err == nil; j++ {
				err = s.Update(context.Background(), func(tx store.Tx) error {
					id := strings.Repeat("x", i+1) + strconv.Itoa(j)
					return tx.InsertUser(user(id, id))
				})
			}
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("concurrent writes through two stores: %v", err)
		}
	}
	view(t, a, func(tx store.Tx) error {
		n, err := tx.CountUsers()
		if err != nil || n != 200 {
			t.Errorf("CountUsers = %d %v, want 200", n, err)
		}
		return nil
	})
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), name) {
			t.Errorf("a file %q appeared beside %q", e.Name(), name)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at its path: %v", err)
	}
}
