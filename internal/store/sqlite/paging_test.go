package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/store"
)

func group(id, name string) store.Group {
	now := time.Unix(1700000000, 0).UTC()
	return store.Group{ID: id, DisplayName: name, Created: now, Modified: now, Version: 1}
}

// TestListingsMigrationCountsExistingRecords: a database made before the
// listings table (schema 1) gets counts that match its rows.
func TestListingsMigrationCountsExistingRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := open(t, path)
	update(t, s, func(tx store.Tx) error {
		for i := range 7 {
			if err := tx.InsertUser(user(fmt.Sprint(i), fmt.Sprint("u", i))); err != nil {
				return err
			}
		}
		return tx.InsertGroup(group("g", "G"))
	})
	// Back to schema 1: what a database written before migrations 2 and 3
	// holds.
	for _, q := range []string{`DROP TRIGGER users_listing_insert`, `DROP TRIGGER users_listing_delete`, `DROP TRIGGER groups_listing_insert`,
		`DROP TRIGGER groups_listing_delete`, `DROP TABLE listings`, `DELETE FROM schema_migrations WHERE version >= 2`} {
		if _, err := s.write.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s = open(t, path)
	view(t, s, func(tx store.Tx) error {
		users, err := tx.CountUsers()
		if err != nil {
			return err
		}
		groups, err := tx.CountGroups()
		if err != nil {
			return err
		}
		if users != 7 || groups != 1 {
			t.Errorf("after the migration: %d users, %d groups; want 7 and 1", users, groups)
		}
		return nil
	})
}

// countdownCtx is a context that reports itself cancelled after its Err
// method has been asked a given number of times. The SQLite driver asks
// Err every thousand virtual-machine steps of a query, so this cancels a
// read at a chosen point in the middle of its rows, the same at every run.
type countdownCtx struct {
	context.Context
	mu    sync.Mutex
	left  int // Err calls until cancelled; negative: never
	calls int
	done  chan struct{}
}

func newCountdown(left int) *countdownCtx {
	return &countdownCtx{Context: context.Background(), left: left, done: make(chan struct{})}
}

func (c *countdownCtx) Done() <-chan struct{} { return c.done }

func (c *countdownCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.left < 0 {
		return nil
	}
	if c.left > 0 {
		c.left--
		if c.left > 0 {
			return nil
		}
		close(c.done)
	}
	return context.Canceled
}

func (c *countdownCtx) callCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func (c *countdownCtx) expired() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// TestCancelledReadIsAnError cancels every kind of multi-row read in the
// middle of its rows: each must return the error, never a short result
// with a nil error. (UsersBy and GroupsBy decide Entra's match and the
// uniqueness checks; a silently short answer there means a wrong answer.)
func TestCancelledReadIsAnError(t *testing.T) {
	const n = 1000
	s := open(t, filepath.Join(t.TempDir(), "db"))
	for b := 0; b < n; b += 500 {
		update(t, s, func(tx store.Tx) error {
			for i := b; i < b+500; i++ {
				id := fmt.Sprintf("%06d", i)
				u := user(id, "user"+id)
				u.ExternalID = "shared"
				if err := tx.InsertUser(u); err != nil {
					return err
				}
				g := group(id, "group"+id)
				g.ExternalID = "shared"
				if err := tx.InsertGroup(g); err != nil {
					return err
				}
				if _, err := tx.AddMembers("000000", []string{id}); err != nil {
					return err
				}
				if err := tx.SetVar(store.VarChange{Name: "V" + id, New: "x", Who: "t", At: time.Now()}); err != nil {
					return err
				}
				if err := tx.InsertToken(store.Token{ID: id, UserID: id, Hash: "h" + id, Created: time.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	count := func(v any, err error) (int, error) {
		switch t := v.(type) {
		case []store.User:
			return len(t), err
		case []store.Group:
			return len(t), err
		case []store.Member:
			return len(t), err
		case []store.VarChange:
			return len(t), err
		case []store.Token:
			return len(t), err
		case map[string]string:
			return len(t), err
		}
		panic(fmt.Sprintf("%T", v))
	}
	reads := []struct {
		name string
		want int
		read func(store.Tx) (int, error)
	}{
		{"UsersBy", n, func(tx store.Tx) (int, error) { return count(tx.UsersBy(store.ByExternalID, []string{"shared"})) }},
		{"GroupsBy", n, func(tx store.Tx) (int, error) { return count(tx.GroupsBy(store.ByExternalID, []string{"shared"})) }},
		{"UsersPage", n, func(tx store.Tx) (int, error) { return count(tx.UsersPage(0, 0, n)) }},
		{"UsersPage with skip", n / 2, func(tx store.Tx) (int, error) { return count(tx.UsersPage(0, n/2, n)) }},
		{"GroupsPage", n, func(tx store.Tx) (int, error) { return count(tx.GroupsPage(0, 0, n)) }},
		{"MembersPage", n, func(tx store.Tx) (int, error) { return count(tx.MembersPage("000000", "", n)) }},
		{"VarHistory", n, func(tx store.Tx) (int, error) { return count(tx.VarHistory("")) }},
		{"Vars", n, func(tx store.Tx) (int, error) { return count(tx.Vars()) }},
		{"Tokens", n, func(tx store.Tx) (int, error) { return count(tx.Tokens()) }},
		{"ScanUsers", n, func(tx store.Tx) (int, error) {
			k := 0
			return k, tx.ScanUsers(func(store.User) error { k++; return nil })
		}},
		{"ScanGroups", n, func(tx store.Tx) (int, error) {
			k := 0
			return k, tx.ScanGroups(func(store.Group) error { k++; return nil })
		}},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			run := func(ctx *countdownCtx) (int, error) {
				var got int
				err := s.View(ctx, func(tx store.Tx) error {
					var err error
					got, err = r.read(tx)
					return err
				})
				return got, err
			}
			// A first, uncancelled run counts how often the read asks the
			// context; the second is cancelled halfway through that.
			probe := newCountdown(-1)
			got, err := run(probe)
			if err != nil || got != r.want {
				t.Fatalf("uncancelled: %d rows, %v; want %d rows", got, err, r.want)
			}
			calls := probe.callCount()
			if calls < 20 {
				t.Fatalf("the read asked its context only %d times: too few rows to cancel in the middle", calls)
			}
			ctx := newCountdown(calls / 2)
			got, err = run(ctx)
			if !ctx.expired() {
				t.Fatalf("the context was not cancelled during the read (%d of %d calls)", ctx.callCount(), calls)
			}
			if err == nil {
				t.Fatalf("cancelled halfway: %d of %d rows and a nil error", got, r.want)
			}
			if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "interrupt") {
				t.Fatalf("cancelled halfway: the error %q is not the cancellation", err)
			}
		})
	}
}

// TestSynchronousInForce: the durability of a commit rests on the
// synchronous mode of the write connection, which a kill -9 test cannot
// see (the page cache survives a process kill). So the mode in force is
// read back from SQLite, for both modes: FULL alone would pass if the
// option were ignored (FULL is SQLite's default).
func TestSynchronousInForce(t *testing.T) {
	for _, tt := range []struct {
		opt  Sync
		want Sync
	}{
		{"", SyncFull},
		{SyncFull, SyncFull},
		{SyncNormal, SyncNormal},
	} {
		t.Run(string(tt.want)+"/"+string(tt.opt), func(t *testing.T) {
			s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), Options{Sync: tt.opt})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.Synchronous(context.Background())
			if err != nil || got != tt.want {
				t.Fatalf("Synchronous() = %q, %v; want %q", got, err, tt.want)
			}
			// The writes go through the writer, on its connection, which
			// runs with PRAGMA synchronous=NORMAL in both modes; with FULL
			// the syncer fdatasyncs the log after each commit before
			// answering it (commit.go). Check both on a commit.
			_, _, syncs0 := s.WriteStats()
			update(t, s, func(tx store.Tx) error { return tx.InsertUser(user("1", "a")) })
			var level int
			if err := s.Update(context.Background(), func(st store.Tx) error {
				row, err := st.(*tx).queryRow(`PRAGMA synchronous`)
				if err != nil {
					return err
				}
				return row.Scan(&level)
			}); err != nil || level != 1 {
				t.Fatalf("PRAGMA synchronous on the write connection = %d (%v), want 1 (NORMAL)", level, err)
			}
			_, _, syncs1 := s.WriteStats()
			if synced := syncs1 > syncs0; synced != (tt.want == SyncFull) {
				t.Fatalf("%s: the commit was followed by %d syncs of the log", tt.want, syncs1-syncs0)
			}
		})
	}
	for _, bad := range []Sync{"OFF", "full", "EXTRA", "bogus"} {
		if s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), Options{Sync: bad}); err == nil {
			s.Close()
			t.Errorf("Open with synchronous %q succeeded; SQLite would run it as something else", bad)
		}
	}
}
