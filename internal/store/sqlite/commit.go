package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/miscim/miscim/internal/store"
)

// Group commit. Every Update is one atomic unit, but a durable commit costs
// an fdatasync, which dwarfs the work of a SCIM write. So writes queue for a
// single writer goroutine, which runs whatever has queued meanwhile in one
// SQLite transaction, each Update after the first inside its own
// SAVEPOINT (an Update that fails is rolled back to its savepoint and the
// others go on), and commits once. Updates still run one at a time, in
// arrival order, so they see each other's writes as serial transactions
// would.
//
// With SyncFull the fdatasync happens outside the writer: the write
// connection runs with synchronous=NORMAL, so COMMIT appends the batch's
// frames to the write-ahead log without waiting for the disk, and a second
// goroutine, the syncer, fdatasyncs the log and only then answers the
// batch's callers. While the disk works, the writer keeps its transaction
// open and runs every write that arrives into it; it commits when the
// syncer is free again and hands the batch over. So each sync covers one
// commit, and that commit holds every write that arrived during the sync
// before it — as a durable journal's group commit does (cmd/loadgen's
// durable baseline: a write waits for the sync running when it arrives to
// end, then for one more). Committing at once and waiting to hand over
// instead left the writes that arrived meanwhile to a third batch: 2.2
// writes per sync under the load run's mix instead of the baseline's 3.3,
// and the writer waiting half the time to hand over; now 2.7–2.9.
// Committing whenever the queue runs empty, each sync covering every
// commit made before it began, did no better: 1.4 writes per commit and
// 2.2–2.5 per sync, the repeated commits writing the same pages again
// (docs/performance.md).
//
// What is durable is the same as with FULL: a WAL commit is durable once
// the log is synced past its commit frame — all that FULL adds to NORMAL
// in WAL mode (sqlite.org/pragma.html#pragma_synchronous) — and a caller
// is answered only after the sync that covers its commit, so no
// acknowledged write can be lost. A read may see a batch whose sync is
// still in flight (as readers of cmd/loadgen's durable baseline do); the
// writes in it are acknowledged only once durable, and a later write that
// builds on them sits behind them in the log.

// maxBatch bounds how many Updates share one commit, so that one slow
// batch cannot hold many callers.
const maxBatch = 64

type writeJob struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan error
}

// errClosed is returned by Update after Close.
var errClosed = errors.New("store: the database is closed")

type writer struct {
	jobs    chan *writeJob
	mu      sync.RWMutex // held for reading while enqueueing, for writing by stop
	closed  bool
	stopped chan struct{}

	// With SyncFull: a token the syncer leaves when it is free (one in
	// circulation, so the buffer of one never blocks it), the committed
	// batch handed to it, the open log, and the first sync failure. After
	// a failed fdatasync the kernel may have dropped the pages it could not
	// write, so no later sync can vouch for what came before: every write
	// from then on fails.
	syncFree chan struct{}
	toSync   chan committed
	synced   chan struct{}
	wal      *os.File
	syncErr  atomic.Pointer[error]
	syncHook func() // tests: runs before each sync

	// What the writer has done, for WriteStats.
	writes, commits, syncs atomic.Uint64
}

// WriteStats reports how many Updates succeeded, in how many commits and
// how many syncs of the log: the group commit's batching, which /metrics
// exposes.
func (s *Store) WriteStats() (writes, commits, syncs uint64) {
	return s.w.writes.Load(), s.w.commits.Load(), s.w.syncs.Load()
}

func (s *Store) startWriter(wal *os.File) {
	s.w = &writer{jobs: make(chan *writeJob, maxBatch), stopped: make(chan struct{}), wal: wal}
	if wal != nil {
		s.w.syncFree, s.w.toSync, s.w.synced = make(chan struct{}, 1), make(chan committed, 1), make(chan struct{})
		go s.syncLoop()
	}
	go s.writeLoop()
}

// stopWriter lets queued Updates finish, then ends the writer and the
// syncer.
func (s *Store) stopWriter() {
	s.w.mu.Lock()
	if !s.w.closed {
		s.w.closed = true
		close(s.w.jobs)
	}
	s.w.mu.Unlock()
	<-s.w.stopped
	if s.w.wal != nil {
		<-s.w.synced
		s.w.wal.Close()
	}
}

// Update runs fn as one atomic unit of a write transaction; see the group
// commit note above.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.w.syncErr.Load(); err != nil {
		return *err
	}
	job := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.w.mu.RLock()
	if s.w.closed {
		s.w.mu.RUnlock()
		return errClosed
	}
	s.w.jobs <- job
	s.w.mu.RUnlock()
	// Once queued, the job runs: wait for its outcome even if ctx ends, so
	// the caller never reports a failure for a write that was committed.
	return <-job.done
}

// writeLoop runs the writes as they arrive into an open batch (see the
// note above), and commits it when nothing more is queued and either the
// syncer is free, or there is no syncer (SyncNormal), or the batch is full.
func (s *Store) writeLoop() {
	defer close(s.w.stopped)
	if s.w.toSync != nil {
		defer close(s.w.toSync)
	}
	jobs := s.w.jobs
	b := &batch{s: s}
	for {
		if len(b.jobs) == 0 {
			if jobs == nil {
				return
			}
			j, ok := <-jobs
			if !ok {
				return
			}
			b.run(j)
		}
	drain:
		for len(b.jobs) > 0 && len(b.jobs) < maxBatch && jobs != nil {
			select {
			case j, ok := <-jobs:
				if !ok {
					jobs = nil
					break drain
				}
				b.run(j)
			default:
				break drain
			}
		}
		switch {
		case len(b.jobs) == 0:
			// The batch's only write failed and was rolled back with
			// the transaction; it has been answered.
			continue
		case b.failed != nil || s.w.toSync == nil:
			// Nothing to sync (the batch is rolled back), or no syncer:
			// commit and answer now.
			answer(b.commit())
			continue
		case len(b.jobs) < maxBatch && jobs != nil:
			// Run what arrives while the disk syncs the batch before.
			select {
			case <-s.w.syncFree:
			case j, ok := <-jobs:
				if !ok {
					jobs = nil
				} else {
					b.run(j)
				}
				continue
			}
		default:
			<-s.w.syncFree
		}
		c := b.commit()
		if !c.durable {
			s.w.toSync <- c
			// The syncer, just made runnable, would wait for this
			// goroutine's P while it runs more jobs (50–115 µs each under
			// the load run): yield so that the next sync starts now. With
			// the yield, commit to sync start took 6 µs on average there.
			runtime.Gosched()
		} else {
			s.w.syncFree <- struct{}{} // nothing to sync: the syncer is still free
			answer(c)
		}
	}
}

func answer(c committed) {
	for i, j := range c.jobs {
		j.done <- c.results[i]
	}
}

// syncLoop makes committed batches durable, one at a time: it fdatasyncs
// the log, then answers the batch's callers.
func (s *Store) syncLoop() {
	defer close(s.w.synced)
	for {
		s.w.syncFree <- struct{}{}
		c, ok := <-s.w.toSync
		if !ok {
			return
		}
		err := s.syncWAL()
		for i := range c.jobs {
			if c.results[i] == nil && err != nil {
				c.results[i] = err
			}
		}
		answer(c)
	}
}

func (s *Store) syncWAL() error {
	if err := s.w.syncErr.Load(); err != nil {
		return *err
	}
	if s.w.syncHook != nil {
		s.w.syncHook()
	}
	s.w.syncs.Add(1)
	if err := fdatasync(s.w.wal); err != nil {
		err = fmt.Errorf("sync the write-ahead log %s: %w; the write may not be durable, and the store accepts no more writes: restart after fixing the disk", s.w.wal.Name(), err)
		s.w.syncErr.Store(&err)
		return err
	}
	return nil
}

// batch is the writer's open transaction: the jobs run into it so far and
// their outcomes.
//
// The first job of a batch runs without a savepoint: when it fails the
// transaction is rolled back instead, and the batch is empty again. Each
// later one runs inside its own savepoint, so that one that fails is
// rolled back alone. Writes run without an interrupt: SQLite rolls back
// the whole transaction when a write statement inside it is interrupted,
// which would take the batch's other jobs along; a job whose caller went
// away is skipped before it starts instead (runJob).
type batch struct {
	s       *Store
	jobs    []*writeJob // run in the open transaction; none: no transaction is open
	results []error
	failed  error // the transaction cannot go on: every job fails with it
}

// committed is a batch whose transaction has ended, with each job's
// outcome; durable is true when nothing is left to sync (nothing was
// committed).
type committed struct {
	jobs    []*writeJob
	results []error
	durable bool
}

// run runs one job in the open transaction, beginning one if none is.
func (b *batch) run(j *writeJob) {
	c := b.s.wconn
	if len(b.jobs) == 0 {
		if err := c.begin.Exec(); err != nil {
			j.done <- fmt.Errorf("begin transaction: %w", err)
			return
		}
		err := runJob(j, &tx{ctx: j.ctx, c: c, s: b.s})
		if err != nil {
			c.abandon()
			j.done <- err
			return
		}
		b.jobs, b.results = append(b.jobs, j), append(b.results, nil)
		return
	}
	b.jobs = append(b.jobs, j)
	b.results = append(b.results, b.inSavepoint(j))
}

// inSavepoint runs a job after the first inside a savepoint of its own.
func (b *batch) inSavepoint(j *writeJob) error {
	if b.failed != nil {
		return b.failed
	}
	c := b.s.wconn
	if err := c.stmts[qSavepoint].st.Exec(); err != nil {
		b.failed = fmt.Errorf("savepoint: %w", err)
		return b.failed
	}
	err := runJob(j, &tx{ctx: j.ctx, c: c, s: b.s})
	if err != nil {
		c.resetBusy() // a failed job may have left rows open
		if rerr := c.stmts[qRollbackTo].st.Exec(); rerr != nil {
			// The transaction cannot be trusted any more: abandon the
			// whole batch.
			b.failed = fmt.Errorf("roll back a failed write: %w", rerr)
			return err
		}
	}
	if rerr := c.stmts[qRelease].st.Exec(); rerr != nil {
		b.failed = fmt.Errorf("release savepoint: %w", rerr)
		return b.failed
	}
	return err
}

// commit ends the open transaction — commits it, or rolls it back when it
// cannot go on — and empties the batch.
func (b *batch) commit() committed {
	c := b.s.wconn
	out := committed{jobs: b.jobs, results: b.results, durable: true}
	b.jobs, b.results = nil, nil
	failed := b.failed
	b.failed = nil
	if failed == nil {
		if err := c.commit.Exec(); err != nil {
			failed = fmt.Errorf("commit: %w", err)
		}
	}
	if failed != nil {
		c.abandon()
		for i, err := range out.results {
			if err == nil {
				out.results[i] = failed
			}
		}
		return out
	}
	b.s.w.commits.Add(1)
	// The first job succeeded (a batch whose first job fails is rolled
	// back at once), so there is something to sync.
	out.durable = false
	for _, err := range out.results {
		if err == nil {
			b.s.w.writes.Add(1)
		}
	}
	return out
}

// abandon rolls back the write connection's transaction, if one is still
// open, after a failed job or commit; statements a failed job left with
// rows open are reset first.
func (c *conn) abandon() {
	c.resetBusy()
	if !c.db.GetAutocommit() {
		_ = c.rollback.Exec()
	}
}

// Savepoint statements, prepared once like every other statement.
var (
	qSavepoint  = sqlq(`SAVEPOINT job`)
	qRelease    = sqlq(`RELEASE job`)
	qRollbackTo = sqlq(`ROLLBACK TO job`)
)

// runJob runs one Update's function, turning a panic into an error so that
// one bad request cannot take the writer, and every other caller, down.
func runJob(j *writeJob, t *tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: update panicked: %v", r)
		}
	}()
	if err := j.ctx.Err(); err != nil {
		return err
	}
	return j.fn(t)
}
