package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/miscim/miscim/internal/store"
)

// Group commit. Every Update is one atomic unit, but a commit with
// synchronous=FULL costs an fsync, which dwarfs the work of a SCIM write.
// So writes queue for a single writer goroutine, which runs whatever has
// queued meanwhile in one SQLite transaction, each Update inside its own
// SAVEPOINT (an Update that fails is rolled back to its savepoint and the
// others go on), then commits once and only then answers every caller.
// A caller is answered after the commit that makes its write durable, never
// before: no acknowledged write can be lost. Updates still run one at a
// time, in arrival order, so they see each other's writes as serial
// transactions would.

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
}

func (s *Store) startWriter() {
	s.w = &writer{jobs: make(chan *writeJob, maxBatch), stopped: make(chan struct{})}
	go s.writeLoop()
}

// stopWriter lets queued Updates finish, then ends the writer.
func (s *Store) stopWriter() {
	s.w.mu.Lock()
	if !s.w.closed {
		s.w.closed = true
		close(s.w.jobs)
	}
	s.w.mu.Unlock()
	<-s.w.stopped
}

// Update runs fn as one atomic unit of a write transaction; see the group
// commit note above.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
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
		s.runBatch(batch)
	}
}

func (s *Store) runBatch(batch []*writeJob) {
	results := make([]error, len(batch))
	finish := func(err error) {
		for i, j := range batch {
			if results[i] == nil {
				results[i] = err
			}
			j.done <- results[i]
		}
	}
	sqlTx, err := s.write.BeginTx(context.Background(), nil)
	if err != nil {
		finish(fmt.Errorf("begin transaction: %w", err))
		return
	}
	stmt := func(q string) *sql.Stmt { return sqlTx.Stmt(s.stmts[s.write][q]) }
	savepoint, release, rollbackTo := stmt(qSavepoint), stmt(qRelease), stmt(qRollbackTo)
	for i, j := range batch {
		if _, err := savepoint.Exec(); err != nil {
			results[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		err := runJob(j, &tx{ctx: j.ctx, tx: sqlTx, s: s, db: s.write})
		if err != nil {
			if _, rerr := rollbackTo.Exec(); rerr != nil {
				// The transaction cannot be trusted any more: abandon the
				// whole batch.
				_ = sqlTx.Rollback()
				results[i] = err
				finish(fmt.Errorf("roll back a failed write: %w", rerr))
				return
			}
			results[i] = err
		}
		if _, err := release.Exec(); err != nil {
			_ = sqlTx.Rollback()
			finish(fmt.Errorf("release savepoint: %w", err))
			return
		}
		if results[i] == nil {
			results[i] = errOK
		}
	}
	if err := sqlTx.Commit(); err != nil {
		for i := range results {
			if results[i] == errOK {
				results[i] = nil
			}
		}
		finish(fmt.Errorf("commit: %w", err))
		return
	}
	for i, j := range batch {
		if results[i] == errOK {
			results[i] = nil
		}
		j.done <- results[i]
	}
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
