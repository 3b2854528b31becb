package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestWritesDuringASyncShareTheNextCommit: while the log is being synced,
// the writer runs the writes that arrive into its open transaction and
// commits them together once the sync ends — one commit and one sync for
// all of them, each outcome its own (a failed or panicking write is rolled
// back alone), and nothing visible to readers before that commit.
func TestWritesDuringASyncShareTheNextCommit(t *testing.T) {
	s := openFull(t)
	syncing, release := make(chan struct{}), make(chan struct{})
	var once, released sync.Once
	s.w.syncHook = func() {
		once.Do(func() {
			close(syncing)
			<-release
		})
	}
	letGo := func() { released.Do(func() { close(release) }) }
	t.Cleanup(letGo) // before the store closes, even when the test fails
	_, commits0, syncs0 := s.WriteStats()
	first := make(chan error, 1)
	go func() {
		first <- s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertUser(user("first", "first")) })
	}()
	<-syncing // the first write is committed; its sync is held

	const n = 10
	var ran sync.WaitGroup
	ran.Add(n)
	errs := make([]chan error, n)
	for i := range n {
		errs[i] = make(chan error, 1)
		go func() {
			errs[i] <- s.Update(context.Background(), func(tx store.Tx) error {
				defer ran.Done()
				if err := tx.InsertUser(user(fmt.Sprint(i), fmt.Sprint("u", i))); err != nil {
					return err
				}
				switch i {
				case 3:
					return fmt.Errorf("write %d fails", i)
				case 7:
					panic("write panics")
				}
				return nil
			})
		}()
	}
	allRan := make(chan struct{})
	go func() { ran.Wait(); close(allRan) }()
	select {
	case <-allRan: // all ten have run into the open transaction
	case <-time.After(10 * time.Second):
		t.Fatal("the writes that arrived during a sync did not run until it ended")
	}
	count := func() int {
		var c int
		if err := s.View(context.Background(), func(tx store.Tx) error {
			var err error
			c, err = tx.CountUsers()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := count(); got != 1 {
		t.Errorf("a reader sees %d users before the second commit, want 1", got)
	}
	for i := range n {
		if i == 3 || i == 7 {
			continue // a write that fails wrote nothing, and may be answered at once
		}
		select {
		case err := <-errs[i]:
			t.Fatalf("write %d answered (%v) before the sync that covers it", i, err)
		default:
		}
	}
	letGo()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		err := <-errs[i]
		if wantErr := i == 3 || i == 7; (err != nil) != wantErr {
			t.Errorf("write %d: %v, want an error: %v", i, err, wantErr)
		}
	}
	if got := count(); got != 1+n-2 {
		t.Errorf("%d users stored, want %d", got, 1+n-2)
	}
	_, commits, syncs := s.WriteStats()
	if commits-commits0 != 2 || syncs-syncs0 != 2 {
		t.Errorf("%d commits and %d syncs for the first write and the ten during its sync, want 2 and 2", commits-commits0, syncs-syncs0)
	}
}
