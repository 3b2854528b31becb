package provlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/entra/simstate"
)

// openState opens a state database of its own for the test, as the
// simulator does.
func openState(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := simstate.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func newStore(t testing.TB, db *sql.DB, opts ...StoreOption) *Store {
	t.Helper()
	s, err := NewStore(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stored is a store holding the fixture.
func stored(t testing.TB) (*Store, []Record) {
	t.Helper()
	db, _ := openState(t)
	s := newStore(t, db)
	recs, _ := fixture(t)
	for _, r := range recs {
		if err := s.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, recs
}

func ids(t testing.TB, s *Store, q Query) []string {
	t.Helper()
	var out []string
	for r, err := range s.Records(context.Background(), q) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.ID[len(r.ID)-2:])
	}
	return out
}

// TestStoreQueries: each condition of `miscim logs`, alone and together.
func TestStoreQueries(t *testing.T) {
	s, recs := stored(t)
	base := recs[0].ActivityDateTime
	for _, tc := range []struct {
		name string
		q    Query
		want []string
	}{
		{"all", Query{}, []string{"01", "02", "03", "04", "05", "06", "07", "08", "09"}},
		{"cycle", Query{Cycles: []string{cycle1}}, []string{"01", "02", "03", "04"}},
		{"latest", Query{Latest: true}, []string{"05", "06", "07", "08", "09"}},
		{"both cycles", Query{Cycles: []string{cycle1}, Latest: true}, []string{"01", "02", "03", "04", "05", "06", "07", "08", "09"}},
		{"action", Query{Actions: []Action{ActionCreate}}, []string{"01", "02", "03"}},
		{"actions", Query{Actions: []Action{ActionDisable, ActionDelete}}, []string{"06", "09"}},
		{"status", Query{Statuses: []Status{StatusFailure}}, []string{"02", "08"}},
		{"action and status", Query{Actions: []Action{ActionUpdate}, Statuses: []Status{StatusFailure}}, []string{"08"}},
		{"identity by UPN in any case", Query{Identity: "ANA.Lee@Contoso.com"}, []string{"01", "05"}},
		{"identity by source id", Query{Identity: "5c7e1d2a-8b3f-4e6d-9a1c-2b3d4e5f6a7b"}, []string{"01", "05"}},
		{"identity by target id", Query{Identity: "00000006-0000-4000-8000-000000000006"}, []string{"08"}},
		{"identity by display name", Query{Identity: "  björn ångström "}, []string{"02"}},
		{"identity by group name", Query{Identity: "sales & marketing"}, []string{"03"}},
		{"identity is whole", Query{Identity: "ana"}, nil},
		{"since", Query{Since: base.Add(41 * time.Minute)}, []string{"07", "08", "09"}},
		{"since and status", Query{Since: base.Add(time.Second), Statuses: []Status{StatusSkipped}}, []string{"04", "07"}},
		{"limit", Query{Limit: 2}, []string{"01", "02"}},
		{"after", Query{After: 7}, []string{"08", "09"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(t, s, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("records %v, want %v", got, tc.want)
			}
		})
	}
	for _, q := range []Query{{Cycles: []string{"nope"}}, {Cycles: []string{cycle1, "nope"}}} {
		var err error
		for _, err = range s.Records(context.Background(), q) {
		}
		if !errors.Is(err, ErrUnknownCycle) || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("unknown cycle: %v", err)
		}
	}
	// Records come back as they went in.
	var got []Record
	for r, err := range s.Records(context.Background(), Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	for i := range recs {
		a, _ := recs[i].MarshalJSON()
		b, _ := got[i].MarshalJSON()
		if string(a) != string(b) {
			t.Errorf("record %d changed in the store:\n%s\n%s", i, a, b)
		}
	}
	// The raw form is the JSON Lines form.
	i := 0
	for raw, err := range s.RawRecords(context.Background(), Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		want, _ := recs[i].MarshalJSON()
		if string(raw) != string(want) {
			t.Errorf("raw record %d: %s", i, raw)
		}
		i++
	}
	// Breaking out of the iteration is fine.
	for range s.Records(context.Background(), Query{}) {
		break
	}
}

func TestStorePages(t *testing.T) {
	s, _ := stored(t)
	var all []string
	q := Query{Statuses: []Status{StatusSuccess, StatusSkipped}}
	pages := 0
	for {
		page, next, err := s.Page(context.Background(), q, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page {
			all = append(all, r.ID[len(r.ID)-2:])
		}
		if next == 0 {
			break
		}
		q.After = next
	}
	if want := []string{"01", "03", "04", "05", "06", "07", "09"}; !slices.Equal(all, want) || pages != 4 {
		t.Errorf("%d pages of %v, want 4 of %v", pages, all, want)
	}
	if _, _, err := s.Page(context.Background(), Query{}, 0); err == nil {
		t.Error("a page of 0 records")
	}
}

func TestStoreCycles(t *testing.T) {
	s, recs := stored(t)
	cycles, err := s.Cycles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cycles) != 2 || cycles[0].ID != cycle1 || cycles[1].ID != cycle2 {
		t.Fatalf("cycles %+v", cycles)
	}
	c := cycles[0]
	if c.Records != 4 || !c.Started.Equal(recs[0].ActivityDateTime) || !c.Ended.Equal(recs[3].ActivityDateTime) {
		t.Errorf("cycle 1: %+v", c)
	}
	if want := (Counts{{ActionCreate, StatusSuccess}: 2, {ActionCreate, StatusFailure}: 1, {ActionOther, StatusSkipped}: 1}); !reflect.DeepEqual(c.Counts, want) {
		t.Errorf("cycle 1 counts %v", c.Counts)
	}
	if got := cycles[1].Counts.Total(); got != 5 || cycles[1].Records != 5 {
		t.Errorf("cycle 2: %d counted, %d records", got, cycles[1].Records)
	}
	latest, ok, err := s.Latest(context.Background())
	if err != nil || !ok || latest.ID != cycle2 {
		t.Errorf("latest %v %v %v", latest.ID, ok, err)
	}

	empty := newStore(t, mustDB(t))
	if _, ok, err := empty.Latest(context.Background()); ok || err != nil {
		t.Errorf("latest of nothing: %v %v", ok, err)
	}
	if got := ids(t, empty, Query{Latest: true}); got != nil {
		t.Errorf("latest of nothing: %v", got)
	}
}

func mustDB(t testing.TB) *sql.DB {
	db, _ := openState(t)
	return db
}

// many returns n distinct records in cycle, spread over the fixture's
// kinds.
func many(t testing.TB, cycle string, n int, start time.Time) []Record {
	recs, _ := fixture(t)
	out := make([]Record, n)
	for i := range out {
		r := recs[i%len(recs)]
		r.CycleID = cycle
		r.ID = fmt.Sprintf("%s-%07d", cycle, i)
		r.ChangeID = r.ID
		r.ActivityDateTime = start.Add(time.Duration(i) * time.Millisecond)
		r.SourceIdentity.ID = fmt.Sprintf("src-%07d", i)
		out[i] = r
	}
	return out
}

// TestStoreConcurrentAdds: records added from many goroutines at once are
// all stored, once, in small batches and large.
func TestStoreConcurrentAdds(t *testing.T) {
	for _, batch := range []int{7, BatchSize} {
		t.Run(fmt.Sprint("batch-", batch), func(t *testing.T) {
			db, _ := openState(t)
			s := newStore(t, db, WithBatching(batch, time.Millisecond, batch*2))
			recs := many(t, "c", 3000, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; i < len(recs); i += 6 {
						if err := s.Add(context.Background(), recs[i]); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for r, err := range s.Records(context.Background(), Query{}) {
				if err != nil {
					t.Fatal(err)
				}
				if seen[r.ID] {
					t.Fatalf("%s stored twice", r.ID)
				}
				seen[r.ID] = true
			}
			cycles, err := s.Cycles(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != 3000 || len(cycles) != 1 || cycles[0].Records != 3000 || cycles[0].Counts.Total() != 3000 {
				t.Fatalf("%d records stored, cycles %+v", len(seen), cycles)
			}
			if got := ids(t, s, Query{Identity: "src-0002999"}); len(got) != 1 {
				t.Errorf("identity lookup: %v", got)
			}
		})
	}
}

// TestStoreReopen: what one process stored, the next reads (a simulation,
// then `miscim logs`), and a state written by a newer miscim is refused.
func TestStoreReopen(t *testing.T) {
	db, path := openState(t)
	s := newStore(t, db)
	recs, _ := fixture(t)
	for _, r := range recs {
		if err := s.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(context.Background(), recs[0]); err == nil {
		t.Error("Add after Close succeeded")
	}
	db.Close()

	db2, err := simstate.OpenExisting(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	s2 := newStore(t, db2)
	if got := ids(t, s2, Query{}); len(got) != 9 {
		t.Fatalf("%d records after reopening", len(got))
	}
	var v int
	if err := db2.QueryRow(`SELECT MAX(version) FROM provlog_schema`).Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("schema version %d, %v", v, err)
	}
	if _, err := db2.Exec(`INSERT INTO provlog_schema (version, applied) VALUES (?, 0)`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStore(db2); err == nil || !strings.Contains(err.Error(), "newer than this miscim understands") {
		t.Fatalf("newer schema: %v", err)
	}
	if _, err := simstate.OpenExisting(context.Background(), filepath.Join(t.TempDir(), "none.db")); !errors.Is(err, simstate.ErrNoState) {
		t.Errorf("missing state: %v", err)
	}
}

// TestStoreRetention: whole cycles go, oldest first, by count and by age
// on the records' clock; the newest cycle always stays.
func TestStoreRetention(t *testing.T) {
	day := 24 * time.Hour
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	add := func(t *testing.T, s *Store, cycle string, at time.Time) {
		t.Helper()
		for _, r := range many(t, cycle, 5, at) {
			if err := s.Add(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cycleIDs := func(t *testing.T, s *Store) []string {
		cs, err := s.Cycles(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	t.Run("cycles", func(t *testing.T) {
		db, _ := openState(t)
		s := newStore(t, db, WithRetention(Retention{MaxCycles: 2}))
		for i, c := range []string{"a", "b", "c", "d"} {
			add(t, s, c, start.Add(time.Duration(i)*time.Hour))
		}
		if got := cycleIDs(t, s); !slices.Equal(got, []string{"c", "d"}) {
			t.Errorf("cycles %v", got)
		}
		var rows, keys, want int
		db.QueryRow(`SELECT COUNT(*) FROM provlog_records`).Scan(&rows)
		db.QueryRow(`SELECT COUNT(*) FROM provlog_identities`).Scan(&keys)
		for r, err := range s.Records(context.Background(), Query{}) {
			if err != nil {
				t.Fatal(err)
			}
			want += len(r.IdentityKeys())
		}
		if rows != 10 || keys != want || len(ids(t, s, Query{Identity: "src-0000001"})) != 2 {
			t.Errorf("%d records and %d identities left, want 10 and %d", rows, keys, want)
		}
	})
	t.Run("age", func(t *testing.T) {
		db, _ := openState(t)
		s := newStore(t, db, WithRetention(Retention{MaxAge: 30 * day}))
		add(t, s, "old", start)
		add(t, s, "mid", start.Add(10*day))
		add(t, s, "new", start.Add(35*day))
		if got := cycleIDs(t, s); !slices.Equal(got, []string{"mid", "new"}) {
			t.Errorf("cycles %v", got)
		}
		// A late record of an old cycle adds to it and prunes nothing.
		add(t, s, "mid", start.Add(36*day))
		if got := cycleIDs(t, s); !slices.Equal(got, []string{"mid", "new"}) {
			t.Errorf("cycles %v", got)
		}
	})
	t.Run("default", func(t *testing.T) {
		if DefaultRetention.MaxAge != 30*day || DefaultRetention.MaxCycles != 100 {
			t.Errorf("default retention %+v", DefaultRetention)
		}
	})
}

// TestAddTx: records stored in the caller's transaction commit and roll
// back with it.
func TestAddTx(t *testing.T) {
	db, _ := openState(t)
	s := newStore(t, db)
	recs, _ := fixture(t)
	for _, commit := range []bool{false, true} {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddTx(context.Background(), tx, recs[:3]...); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := ids(t, s, Query{}); !slices.Equal(got, []string{"01", "02", "03"}) {
		t.Errorf("records %v", got)
	}
	bad := recs[0]
	bad.CycleID = ""
	tx, _ := db.Begin()
	defer tx.Rollback()
	if err := s.AddTx(context.Background(), tx, bad); err == nil {
		t.Error("an invalid record was stored")
	}
}

// TestStoreWriteFailure: a store that cannot write says so on every later
// Add, Flush and Close, so that the cycle stops.
func TestStoreWriteFailure(t *testing.T) {
	db, _ := openState(t)
	s := newStore(t, db)
	recs, _ := fixture(t)
	if _, err := db.Exec(`DROP TABLE provlog_counts`); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(context.Background(), recs[0]); err != nil {
		t.Fatal(err) // queued: the failure comes with the write
	}
	err := s.Flush(context.Background())
	if err == nil || !strings.Contains(err.Error(), "store the provisioning logs") {
		t.Fatalf("flush: %v", err)
	}
	if err2 := s.Add(context.Background(), recs[1]); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("add after the failure: %v", err2)
	}
	if err3 := s.Close(); err3 == nil {
		t.Error("close after the failure succeeded")
	}
	bad := recs[0]
	bad.ProvisioningAction = "nope"
	if err := newStore(t, mustDB(t)).Add(context.Background(), bad); err == nil {
		t.Error("an invalid record was queued")
	}
}

// TestStoreAddWaits: with the queue full, Add waits for the writer, and
// gives up when its context ends.
func TestStoreAddWaits(t *testing.T) {
	db, _ := openState(t)
	s := newStore(t, db, WithBatching(10, time.Hour, 10))
	recs := many(t, "c", 25, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	// Hold the only connection: the writer cannot store the first batch.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[:10] {
		if err := s.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range recs[10:20] {
		if err := s.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var blocked error
	for _, r := range recs[20:] {
		if blocked = s.Add(ctx, r); blocked != nil {
			break
		}
	}
	if !errors.Is(blocked, context.DeadlineExceeded) {
		t.Errorf("Add on a full queue: %v", blocked)
	}
	tx.Rollback()
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, s, Query{}); len(got) < 20 {
		t.Errorf("%d records stored", len(got))
	}
}

func TestClear(t *testing.T) {
	s, _ := stored(t)
	if err := s.Clear(context.Background()); err != nil {
		t.Fatal(err)
	}
	cycles, err := s.Cycles(context.Background())
	if err != nil || len(cycles) != 0 || len(ids(t, s, Query{})) != 0 {
		t.Errorf("after Clear: %v cycles, %v", cycles, err)
	}
}

// TestIdentityHashCollision: a record whose identities share a hash with
// the one asked for, but not the identity, is not found.
func TestIdentityHashCollision(t *testing.T) {
	s, _ := stored(t)
	if _, err := s.db.Exec(`INSERT INTO provlog_identities (key, seq) VALUES (?, 1), (?, 3)`, identityHash("ghost"), identityHash("ghost")); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, s, Query{Identity: "Ghost"}); got != nil {
		t.Errorf("a hash alone found %v", got)
	}
	if got := ids(t, s, Query{Identity: "ana.lee@contoso.com", Limit: 1}); len(got) != 1 || got[0] != "01" {
		t.Errorf("found %v", got)
	}
}

// TestMigrateFromVersion1: a state written with text identity keys
// (schema 1) is migrated to hashes, its records found by identity as
// before.
func TestMigrateFromVersion1(t *testing.T) {
	db, _ := openState(t)
	recs, lines := fixture(t)
	stmts := []string{`CREATE TABLE provlog_schema (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`, migrations[0].sql, `INSERT INTO provlog_schema VALUES (1, 0)`}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range recs {
		if _, err := db.Exec(`INSERT INTO provlog_records (seq, cycle_id, activity, action, status, doc) VALUES (?, ?, ?, ?, ?, ?)`,
			i+1, r.CycleID, r.ActivityDateTime.UnixNano(), r.ProvisioningAction, r.ProvisioningStatusInfo.Status, lines[i]); err != nil {
			t.Fatal(err)
		}
		for _, k := range r.IdentityKeys() {
			if _, err := db.Exec(`INSERT INTO provlog_identities (seq, key) VALUES (?, ?)`, i+1, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := newStore(t, db)
	if got := ids(t, s, Query{Identity: "ANA.LEE@contoso.com"}); !slices.Equal(got, []string{"01", "05"}) {
		t.Errorf("after the migration: %v", got)
	}
	var v int
	if err := db.QueryRow(`SELECT MAX(version) FROM provlog_schema`).Scan(&v); err != nil || v != 2 {
		t.Errorf("version %d %v", v, err)
	}
}
