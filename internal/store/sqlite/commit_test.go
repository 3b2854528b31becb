package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miscim/miscim/internal/store"
)

func openFull(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), Options{Sync: SyncFull})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestFullAnswersAfterTheLogSync: with SyncFull no Update returns before
// a sync of the log that began after it ran, and concurrent Updates share
// syncs.
func TestFullAnswersAfterTheLogSync(t *testing.T) {
	s := openFull(t)
	if got := s.Durability(); got != SyncFull {
		t.Fatalf("Durability() = %s, want FULL", got)
	}
	const n = 50
	var mu sync.Mutex
	syncs := 0
	s.w.syncHook = func() {
		mu.Lock()
		syncs++
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() {
			var before int
			err := s.Update(context.Background(), func(tx store.Tx) error {
				mu.Lock()
				before = syncs // syncs begun before this write ran
				mu.Unlock()
				return tx.InsertUser(user(fmt.Sprint(i), fmt.Sprint("u", i)))
			})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if syncs == before {
				t.Errorf("Update %d returned with no sync of the log begun since it ran", i)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if syncs == 0 || syncs > n {
		t.Fatalf("%d syncs for %d Updates", syncs, n)
	}
	var count int
	if err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		count, err = tx.CountUsers()
		return err
	}); err != nil || count != n {
		t.Fatalf("%d users stored (%v), want %d", count, err, n)
	}
}

// TestFullSyncFailureStopsWrites: when the log cannot be synced, the
// callers of that sync get an error, and so does every later write: after a
// failed fdatasync nothing written before it can be vouched for.
func TestFullSyncFailureStopsWrites(t *testing.T) {
	s := openFull(t)
	s.w.wal.Close() // fdatasync on it now fails
	insert := func(id string) error {
		return s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertUser(user(id, "u"+id)) })
	}
	err := insert("1")
	if err == nil || !strings.Contains(err.Error(), "sync the write-ahead log") {
		t.Fatalf("Update with a failing sync = %v, want the sync error", err)
	}
	if err := insert("2"); err == nil || !strings.Contains(err.Error(), "accepts no more writes") {
		t.Fatalf("Update after a failed sync = %v, want the sticky error", err)
	}
}

// TestNormalDoesNotWaitForASync: SyncNormal answers at commit; nothing
// syncs the log per commit.
func TestNormalDoesNotWaitForASync(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	if s.Durability() != SyncNormal || s.w.wal != nil || s.w.toSync != nil {
		t.Fatalf("SyncNormal store has a syncer (durability %s)", s.Durability())
	}
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(user("1", "u1")) })
}
