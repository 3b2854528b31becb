package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/miscim/miscim/internal/store"
)

// Group commit. Every Update is one atomic unit, but a durable commit costs
// an fdatasync, which dwarfs the work of a SCIM write. So writes queue for a
// single writer goroutine, which runs whatever has queued meanwhile in one
// SQLite transaction, each Update inside its own SAVEPOINT (an Update that
// fails is rolled back to its savepoint and the others go on), and commits
// once. Updates still run one at a time, in arrival order, so they see each
// other's writes as serial transactions would.
//
// With SyncFull the fdatasync happens outside the writer: the write
// connection runs with synchronous=NORMAL, so COMMIT appends the batch's
// frames to the write-ahead log without waiting for the disk, and a second
// goroutine, the syncer, fdatasyncs the log and only then answers the
// batch's callers. While the disk works the writer runs and commits the
// next batch, then waits for the syncer to take it: one batch at most
// waits for a sync, so every sync covers one commit and writes queue up
// into batches as large as they would if the writer waited for the disk
// itself (SQLite's synchronous=FULL), but the SQL work of one batch
// overlaps the sync of the one before. What is durable is the same as with
// FULL: a WAL commit is durable once the log is synced past its commit
// frame — all that FULL adds to NORMAL in WAL mode
// (sqlite.org/pragma.html#pragma_synchronous) — and a caller is answered
// only after the sync that covers its commit, so no acknowledged write can
// be lost. A read may see a batch whose sync is still in flight (as
// readers of cmd/loadgen's durable baseline do); the writes in it are
// acknowledged only once durable, and a later write that builds on them
// sits behind them in the log.

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

	// With SyncFull: the committed batch handed to the syncer (unbuffered:
	// the writer waits while one is being synced), the open log, and the
	// first sync failure. After a failed fdatasync the kernel
	// may have dropped the pages it could not write, so no later sync can
	// vouch for what came before: every write from then on fails.
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

// committed is a batch whose transaction has committed, with each job's
// outcome.
type committed struct {
	jobs    []*writeJob
	results []error
}

func (s *Store) startWriter(wal *os.File) {
	s.w = &writer{jobs: make(chan *writeJob, maxBatch), stopped: make(chan struct{}), wal: wal}
	if wal != nil {
		s.w.toSync, s.w.synced = make(chan committed), make(chan struct{})
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

func (s *Store) writeLoop() {
	defer close(s.w.stopped)
	if s.w.toSync != nil {
		defer close(s.w.toSync)
	}
	for job := range s.w.jobs {
		batch := []*writeJob{job}
	drain:
		for len(batch) < maxBatch {
			select {
			case j, ok := <-s.w.jobs:
				if !ok {
					break drain
				}
				batch = append(batch, j)
			default:
				break drain
			}
		}
		results, durable := s.runBatch(batch)
		if durable || s.w.toSync == nil {
			answer(batch, results)
			continue
		}
		s.w.toSync <- committed{batch, results}
	}
}

func answer(jobs []*writeJob, results []error) {
	for i, j := range jobs {
		j.done <- results[i]
	}
}

// syncLoop makes committed batches durable, one at a time: it fdatasyncs
// the log, then answers the batch's callers.
func (s *Store) syncLoop() {
	defer close(s.w.synced)
	for c := range s.w.toSync {
		err := s.syncWAL()
		for i, j := range c.jobs {
			if c.results[i] == nil && err != nil {
				c.results[i] = err
			}
			j.done <- c.results[i]
		}
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

// runBatch runs a batch in one transaction and commits it. durable is true
// when nothing is left to sync: nothing committed, or the commit itself
// was synchronous.
//
// A batch of one needs no savepoint: when its job fails the transaction
// is rolled back instead. Writes run without an interrupt: SQLite rolls
// back the whole transaction when a write statement inside it is
// interrupted, which would take the batch's other jobs along; a job whose
// caller went away is skipped before it starts instead (runJob).
func (s *Store) runBatch(batch []*writeJob) (results []error, durable bool) {
	results = make([]error, len(batch))
	finish := func(err error) ([]error, bool) {
		for i := range batch {
			if results[i] == nil || results[i] == errOK {
				results[i] = err
			}
		}
		return results, true
	}
	c := s.wconn
	if err := c.begin.Exec(); err != nil {
		return finish(fmt.Errorf("begin transaction: %w", err))
	}
	abandon := func(err error) ([]error, bool) {
		c.resetBusy()
		if !c.db.GetAutocommit() {
			_ = c.rollback.Exec()
		}
		return finish(err)
	}
	single := len(batch) == 1
	savepoint, release, rollbackTo := c.stmts[qSavepoint].st, c.stmts[qRelease].st, c.stmts[qRollbackTo].st
	for i, j := range batch {
		if !single {
			if err := savepoint.Exec(); err != nil {
				return abandon(fmt.Errorf("savepoint: %w", err))
			}
		}
		err := runJob(j, &tx{ctx: j.ctx, c: c, s: s})
		if err != nil {
			c.resetBusy() // a failed job may have left rows open
			if single {
				results[0] = err
				return abandon(err)
			}
			if rerr := rollbackTo.Exec(); rerr != nil {
				// The transaction cannot be trusted any more: abandon the
				// whole batch.
				results[i] = err
				return abandon(fmt.Errorf("roll back a failed write: %w", rerr))
			}
			results[i] = err
		}
		if !single {
			if err := release.Exec(); err != nil {
				return abandon(fmt.Errorf("release savepoint: %w", err))
			}
		}
		if results[i] == nil {
			results[i] = errOK
		}
	}
	if err := c.commit.Exec(); err != nil {
		return abandon(fmt.Errorf("commit: %w", err))
	}
	durable = true
	s.w.commits.Add(1)
	for i := range results {
		if results[i] == errOK {
			results[i], durable = nil, false
			s.w.writes.Add(1)
		}
	}
	return results, durable
}

// Savepoint statements, prepared once like every other statement.
var (
	qSavepoint  = sqlq(`SAVEPOINT job`)
	qRelease    = sqlq(`RELEASE job`)
	qRollbackTo = sqlq(`ROLLBACK TO job`)
)

// errOK marks a job that succeeded before the commit decides its fate.
var errOK = errors.New("ok")

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
