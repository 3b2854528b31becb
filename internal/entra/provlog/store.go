package provlog

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store keeps provisioning-log records in the simulator's state database
// (internal/entra/simstate), in tables of its own (provlog_*) with their
// own schema version, for `miscim logs`.
//
// As a Sink it buffers: Add validates and encodes the record in the
// caller's goroutine and queues it; a writer stores the queue in one
// transaction per batch (BatchSize records, or what came within
// FlushInterval), which is what lets an initial cycle of 100,000 objects
// store 100,000 records in a fraction of its time. Add waits only when
// MaxPending records are queued, until the writer catches up; it returns
// an error once a write has failed (every later Add, Flush and Close
// return it too), so that a log that cannot be written stops the cycle.
// Flush waits until every record added before it is stored; Close flushes
// and stops the writer. A record is therefore durable once Flush or Close
// returned, or within FlushInterval otherwise; a process killed in between
// loses the records of that interval, not the state around them.
//
// Records older than the retention (Retention) are pruned, whole cycles at
// a time, when a new cycle's first record is stored.
type Store struct {
	db   *sql.DB
	opts storeOptions

	mu       sync.Mutex
	pending  []encoded
	added    uint64 // records queued, ever
	written  uint64 // records the writer is done with (stored, or failed)
	err      error  // the first write failure: sticky
	closed   bool
	started  bool
	progress chan struct{} // closed and replaced when the queue shrinks or written grows
	wake     chan struct{} // the writer's doorbell
	quit     chan struct{}
	done     chan struct{}
}

var _ Sink = (*Store)(nil)

// Store tuning (NewStore options).
const (
	// BatchSize is how many queued records make the writer store them
	// at once.
	BatchSize = 2000
	// FlushInterval is how long a record waits, at most, for its batch.
	FlushInterval = 100 * time.Millisecond
	// MaxPending is how many queued records make Add wait.
	MaxPending = 20000
)

// Retention says which cycles the store keeps. Age is measured on the
// records' own clock (activityDateTime), from the start of the newest
// cycle: the simulator's time, not the wall clock, so that a run with a
// fixed clock, or logs read months after the run, keep what they stored.
type Retention struct {
	// MaxAge drops a cycle whose last record is older than this, measured
	// from the newest cycle's first record; 0 keeps every age.
	MaxAge time.Duration
	// MaxCycles keeps only the newest cycles; 0 keeps every cycle.
	MaxCycles int
}

// DefaultRetention keeps 30 days of cycles, as Entra ID P1/P2 keeps its
// provisioning logs (entra-behavior §4.6), and at most 100 cycles, so that
// repeated initial cycles of a large tenant do not grow the state file
// without bound (an initial cycle of 100,000 objects stores about 280 MB;
// docs/logs.md).
var DefaultRetention = Retention{MaxAge: 30 * 24 * time.Hour, MaxCycles: 100}

// StoreOption tunes NewStore.
type StoreOption func(*storeOptions)

type storeOptions struct {
	retention     Retention
	batchSize     int
	flushInterval time.Duration
	maxPending    int
}

// WithRetention replaces DefaultRetention.
func WithRetention(r Retention) StoreOption { return func(o *storeOptions) { o.retention = r } }

// WithBatching replaces BatchSize, FlushInterval and MaxPending (values
// ≤ 0 keep the default).
func WithBatching(batchSize int, interval time.Duration, maxPending int) StoreOption {
	return func(o *storeOptions) {
		if batchSize > 0 {
			o.batchSize = batchSize
		}
		if interval > 0 {
			o.flushInterval = interval
		}
		if maxPending > 0 {
			o.maxPending = maxPending
		}
	}
}

// NewStore makes the store's tables current in db (the simulator's state
// database, opened by simstate.Open) and returns the store. db stays the
// caller's: Close the store before closing db.
func NewStore(db *sql.DB, opts ...StoreOption) (*Store, error) {
	o := storeOptions{retention: DefaultRetention, batchSize: BatchSize, flushInterval: FlushInterval, maxPending: MaxPending}
	for _, opt := range opts {
		opt(&o)
	}
	o.maxPending = max(o.maxPending, o.batchSize)
	if err := migrate(context.Background(), db); err != nil {
		return nil, err
	}
	return &Store{
		db: db, opts: o,
		progress: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}, nil
}

// encoded is a record ready to store.
type encoded struct {
	cycle          string
	activity       int64
	action, status string
	doc            []byte
	keys           []string
}

func encode(r *Record) (encoded, error) {
	if err := r.Validate(); err != nil {
		return encoded{}, err
	}
	doc := appendRecord(make([]byte, 0, sizeHint(r)), r)
	return encoded{
		cycle:    r.CycleID,
		activity: r.ActivityDateTime.UnixNano(),
		action:   string(r.ProvisioningAction),
		status:   string(r.ProvisioningStatusInfo.Status),
		doc:      doc,
		keys:     r.IdentityKeys(),
	}, nil
}

// Add queues r for the writer. An invalid record (Record.Validate) is
// refused at once.
func (s *Store) Add(ctx context.Context, r Record) error {
	e, err := encode(&r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for {
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return err
		}
		if s.closed {
			s.mu.Unlock()
			return errClosed
		}
		if len(s.pending) < s.opts.maxPending {
			break
		}
		ch := s.progress
		s.ring()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	s.pending = append(s.pending, e)
	s.added++
	if !s.started {
		s.started = true
		go s.run()
	}
	if len(s.pending) >= s.opts.batchSize {
		s.ring()
	}
	s.mu.Unlock()
	return nil
}

// ring wakes the writer (s.mu held or not: the channel has room for one).
func (s *Store) ring() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Flush returns once every record added before it is stored, or the
// write failure that stopped the store.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.Lock()
	target := s.added
	for s.written < target && s.err == nil {
		ch := s.progress
		s.ring()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	err := s.err
	s.mu.Unlock()
	return err
}

// Close stores what is queued, stops the writer and returns the first
// write failure, if any. Adds after Close fail; the database stays open.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		err := s.err
		s.mu.Unlock()
		return err
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	if started {
		close(s.quit)
		<-s.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// run is the writer: it stores the queue when a batch is full, when
// FlushInterval has passed since it last looked, on Flush and on Close.
func (s *Store) run() {
	defer close(s.done)
	tick := time.NewTicker(s.opts.flushInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.wake:
		case <-tick.C:
		case <-s.quit:
			for s.writePending() {
			}
			return
		}
		s.writePending()
	}
}

// writePending stores the records queued now, in one transaction. It
// reports whether there were any.
func (s *Store) writePending() bool {
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	failed := s.err != nil
	if len(batch) > 0 {
		s.signal() // the queue has room again
	}
	s.mu.Unlock()
	if len(batch) == 0 {
		return false
	}
	var err error
	if !failed { // after a failure the queue is dropped: the run is stopping
		err = s.inTx(context.Background(), func(tx *sql.Tx) error { return s.insert(context.Background(), tx, batch) })
	}
	s.mu.Lock()
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("store the provisioning logs: %w", err)
	}
	s.written += uint64(len(batch))
	s.signal()
	s.mu.Unlock()
	return true
}

// signal wakes whoever waits for progress (s.mu held).
func (s *Store) signal() {
	close(s.progress)
	s.progress = make(chan struct{})
}

func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// AddTx stores records at once inside the caller's transaction on the
// state database, so that they commit, or roll back, with what the
// caller writes beside them (a connector-space change and its log). It
// bypasses the queue: records queued by Add may be stored after these.
// Call Flush outside the transaction, never inside it: the writer needs
// the database too.
func (s *Store) AddTx(ctx context.Context, tx *sql.Tx, records ...Record) error {
	batch := make([]encoded, len(records))
	for i := range records {
		e, err := encode(&records[i])
		if err != nil {
			return err
		}
		batch[i] = e
	}
	if len(batch) == 0 {
		return nil
	}
	if err := s.insert(ctx, tx, batch); err != nil {
		return fmt.Errorf("store the provisioning logs: %w", err)
	}
	return nil
}

// ident is one row of provlog_identities.
type ident struct{ key, seq int64 }

// insertIdentities inserts identity rows in key order: SQLite's B-tree
// then appends to the pages it just wrote rather than jumping between
// them.
func insertIdentities(ctx context.Context, tx *sql.Tx, idents []ident) error {
	slices.SortFunc(idents, func(a, b ident) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.seq, b.seq)) })
	return insertRows(ctx, tx, "provlog_identities (key, seq)", 2, identityRows, len(idents), func(i int, args []any) []any {
		return append(args, idents[i].key, idents[i].seq)
	})
}

// identityHash is the 64-bit FNV-1a hash of a lower-case identity key, as
// an SQLite integer.
func identityHash(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int64(h.Sum64())
}

// Rows per multi-row INSERT: fewer statements for SQLite to run, far
// below its limit of 32,766 parameters.
const (
	recordRows   = 100
	identityRows = 250
)

// cycleDelta is what a batch adds to one cycle.
type cycleDelta struct {
	id             string
	firstSeq       int64
	started, ended int64
	records        int
	counts         map[[2]string]int
}

// insert stores a batch in tx: the records and their identities, then
// what they add to their cycles and counts, then the retention.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, batch []encoded) error {
	var base int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM provlog_records`).Scan(&base); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, "provlog_records (seq, cycle_id, activity, action, status, doc)", 6, recordRows, len(batch), func(i int, args []any) []any {
		e := &batch[i]
		return append(args, base+int64(i)+1, e.cycle, e.activity, e.action, e.status, e.doc)
	}); err != nil {
		return err
	}
	var idents []ident
	for i := range batch {
		for _, k := range batch[i].keys {
			idents = append(idents, ident{identityHash(k), base + int64(i) + 1})
		}
	}
	if err := insertIdentities(ctx, tx, idents); err != nil {
		return err
	}

	byCycle := map[string]*cycleDelta{}
	var cycles []*cycleDelta
	for i := range batch {
		e := &batch[i]
		c := byCycle[e.cycle]
		if c == nil {
			c = &cycleDelta{id: e.cycle, firstSeq: base + int64(i) + 1, started: e.activity, ended: e.activity, counts: map[[2]string]int{}}
			byCycle[e.cycle] = c
			cycles = append(cycles, c)
		}
		c.started, c.ended = min(c.started, e.activity), max(c.ended, e.activity)
		c.records++
		c.counts[[2]string{e.action, e.status}]++
	}
	newCycle := false
	for _, c := range cycles {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM provlog_cycles WHERE cycle_id = ?`, c.id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			newCycle = true
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO provlog_cycles (cycle_id, first_seq, started, ended, records) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (cycle_id) DO UPDATE SET started = MIN(started, excluded.started), ended = MAX(ended, excluded.ended), records = records + excluded.records`,
			c.id, c.firstSeq, c.started, c.ended, c.records); err != nil {
			return err
		}
		keys := make([][2]string, 0, len(c.counts))
		for k := range c.counts {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1] })
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO provlog_counts (cycle_id, action, status, records) VALUES (?, ?, ?, ?)
				ON CONFLICT (cycle_id, action, status) DO UPDATE SET records = records + excluded.records`,
				c.id, k[0], k[1], c.counts[k]); err != nil {
				return err
			}
		}
	}
	if newCycle {
		return s.prune(ctx, tx)
	}
	return nil
}

// insertRows inserts n rows of cols columns with multi-row INSERTs of up
// to per rows; row appends row i's values to args.
func insertRows(ctx context.Context, tx *sql.Tx, into string, cols, per, n int, row func(i int, args []any) []any) error {
	if n == 0 {
		return nil
	}
	placeholder := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	statement := func(rows int) string {
		return "INSERT INTO " + into + " VALUES " + strings.TrimSuffix(strings.Repeat(placeholder+", ", rows), ", ")
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, cols*per)
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		if end-start == per {
			if full == nil {
				st, err := tx.PrepareContext(ctx, statement(per))
				if err != nil {
					return err
				}
				full = st
			}
			if _, err := full.ExecContext(ctx, args...); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, statement(end-start), args...); err != nil {
			return err
		}
	}
	return nil
}

// prune drops the cycles Retention no longer keeps, never the newest.
func (s *Store) prune(ctx context.Context, tx *sql.Tx) error {
	r := s.opts.retention
	if r.MaxAge <= 0 && r.MaxCycles <= 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT cycle_id, started, ended FROM provlog_cycles ORDER BY first_seq DESC`)
	if err != nil {
		return err
	}
	var doomed []string
	var newest int64
	for i := 0; rows.Next(); i++ {
		var id string
		var started, ended int64
		if err := rows.Scan(&id, &started, &ended); err != nil {
			rows.Close()
			return err
		}
		if i == 0 {
			newest = started
			continue
		}
		if (r.MaxCycles > 0 && i >= r.MaxCycles) || (r.MaxAge > 0 && ended < newest-int64(r.MaxAge)) {
			doomed = append(doomed, id)
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()
	for _, id := range doomed {
		for _, q := range []string{
			// A scan of the identities (their key comes first): pruning
			// is once per cycle at most, storing is for every record.
			`DELETE FROM provlog_identities WHERE seq IN (SELECT seq FROM provlog_records WHERE cycle_id = ?)`,
			`DELETE FROM provlog_records WHERE cycle_id = ?`,
			`DELETE FROM provlog_counts WHERE cycle_id = ?`,
			`DELETE FROM provlog_cycles WHERE cycle_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Clear removes every stored record and cycle. Queued records are stored
// after it: Flush first to clear them too.
func (s *Store) Clear(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range []string{"provlog_identities", "provlog_records", "provlog_counts", "provlog_cycles"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		return nil
	})
}
