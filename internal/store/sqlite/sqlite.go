// Package sqlite is the embedded store: SQLite through the pure-Go
// github.com/ncruces/go-sqlite3 driver (a static binary, no cgo;
// docs/storage.md has the measurements behind the choice).
//
// Writes go through one connection in BEGIN IMMEDIATE transactions, so
// writers queue inside the process instead of failing with SQLITE_BUSY, and
// a busy timeout covers other processes (a `miscim vars set` beside a
// running `miscim serve`). Reads use a small pool of their own; WAL mode
// lets them run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/miscim/miscim/internal/store"

	_ "github.com/ncruces/go-sqlite3/driver" // registers the "sqlite3" database/sql driver
)

// Sync is how durable a commit is before Update returns.
type Sync string

// Synchronous modes. In WAL mode both survive a process crash (kill -9)
// without losing a committed transaction; Full also survives power loss:
// the write-ahead log is fdatasynced after each commit before its callers
// are answered, by the group commit's syncer (commit.go) rather than by
// SQLite inside COMMIT, so that the writer is not held while the disk
// works. The write connection's own PRAGMA synchronous is NORMAL in both
// modes; Durability reports what is in force.
const (
	SyncFull   Sync = "FULL"
	SyncNormal Sync = "NORMAL"
)

// Options tune Open.
type Options struct {
	Sync        Sync // default SyncFull
	ReadConns   int  // default: number of CPUs, at least 2
	BusyTimeout int  // milliseconds; default 10000
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	path  string
	sync  Sync
	write *sql.DB
	read  *sql.DB // database/sql pools: migrations and ad-hoc queries

	// The connections the store's transactions run on: the writer's, and
	// the readers', handed out by View.
	wconn   *conn
	readers chan *conn
	w       *writer
	closing atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the database at path and brings its schema up to
// date.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	switch opts.Sync {
	case "":
		opts.Sync = SyncFull
	case SyncFull, SyncNormal:
	default:
		// SQLite reads an unknown synchronous value as NORMAL: refuse it
		// rather than run less durable than asked.
		return nil, fmt.Errorf("open database %s: synchronous mode %q is not FULL or NORMAL", path, opts.Sync)
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(runtime.NumCPU(), 2)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10000
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	pragmas := []string{
		fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout),
		"foreign_keys(ON)",
		"journal_mode(WAL)",
		// FULL's per-commit sync is the syncer's (commit.go); what SQLite
		// syncs beyond it, at checkpoints, NORMAL syncs too.
		"synchronous(NORMAL)",
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite3", FileURI(path, q))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)

	s := &Store{path: path, sync: opts.Sync, write: write, readers: make(chan *conn, opts.ReadConns)}
	var wal *os.File
	fail := func(err error) (*Store, error) {
		if wal != nil {
			wal.Close()
		}
		s.closeConns(false)
		if s.read != nil {
			s.read.Close()
		}
		write.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		return fail(err)
	}

	rq := url.Values{}
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout))
	rq.Add("_pragma", "foreign_keys(ON)")
	rq.Add("_pragma", "query_only(ON)")
	rq.Set("_txlock", "deferred")
	readDSN := FileURI(path, rq)
	read, err := sql.Open("sqlite3", readDSN)
	if err != nil {
		return fail(fmt.Errorf("open database %s: %w", path, err))
	}
	read.SetMaxOpenConns(opts.ReadConns)
	read.SetMaxIdleConns(1)
	s.read = read
	if s.wconn, err = openConn(FileURI(path, q), "BEGIN IMMEDIATE", false); err != nil {
		return fail(fmt.Errorf("open database %s: %w", path, err))
	}
	for range opts.ReadConns {
		c, err := openConn(readDSN, "BEGIN", true)
		if err != nil {
			return fail(fmt.Errorf("open database %s: %w", path, err))
		}
		s.readers <- c
	}
	if opts.Sync == SyncFull {
		// The log exists while a connection is open in WAL mode, and is
		// only ever reset or truncated in place, never replaced, while
		// this store holds its connections open.
		if wal, err = os.OpenFile(path+"-wal", os.O_RDWR, 0); err != nil {
			return fail(fmt.Errorf("open the write-ahead log: %w", err))
		}
		// The migrations committed without a sync of their own.
		if err := fdatasync(wal); err != nil {
			return fail(fmt.Errorf("sync the write-ahead log: %w", err))
		}
	}
	s.startWriter(wal)
	if got, err := s.Synchronous(ctx); err != nil {
		s.Close()
		return nil, err
	} else if got != opts.Sync {
		s.Close()
		return nil, fmt.Errorf("open database %s: synchronous is %s, not the %s asked for", path, got, opts.Sync)
	}
	return s, nil
}

// FileURI returns the SQLite URI (https://sqlite.org/uri.html) that opens
// the file at path with the given parameters. The path is a path whatever
// characters it holds: '?', '#' and '%' are percent-encoded, so that none
// of it is read as a query (which would displace the parameters, the busy
// timeout among them) or a fragment. It is made absolute first: a relative
// file: URI must not begin with what looks like an authority.
func FileURI(path string, params url.Values) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), OmitHost: true}
	if filepath.VolumeName(path) != "" {
		u.Path = "/" + u.Path // file:/C:/… on Windows
	}
	s := u.String()
	if len(params) > 0 {
		s += "?" + params.Encode()
	}
	return s
}

// Durability reports the mode in force: SyncFull when every commit is
// fdatasynced before Update returns.
func (s *Store) Durability() Sync { return s.sync }

// closeConns closes the store's own connections that are open: all of
// them once Open has finished (Close waits for Views in flight to give
// theirs back), else those opened so far.
func (s *Store) closeConns(all bool) {
	if s.wconn != nil {
		s.wconn.close()
		s.wconn = nil
	}
	for n := cap(s.readers); n > 0; n-- {
		if all {
			(<-s.readers).close()
			continue
		}
		select {
		case c := <-s.readers:
			c.close()
		default:
			return
		}
	}
	if all {
		close(s.readers)
	}
}

// Synchronous reports the durability in force on the connection that
// commits, what a durability claim rests on: FULL when every commit is
// fdatasynced before its callers are answered, NORMAL when they are
// answered at commit. It reads PRAGMA synchronous on that connection
// (through the writer), which must be NORMAL — the per-commit sync is the
// syncer's, not SQLite's (commit.go) — and reports FULL when the syncer
// runs. A kill -9 test cannot tell FULL from NORMAL (the page cache
// survives a process kill), so this is how a test checks it.
func (s *Store) Synchronous(ctx context.Context) (Sync, error) {
	var level int
	err := s.Update(ctx, func(t store.Tx) error {
		row, err := t.(*tx).queryRow(`PRAGMA synchronous`)
		if err != nil {
			return err
		}
		return row.Scan(&level)
	})
	if err != nil {
		return "", fmt.Errorf("read the synchronous mode of %s: %w", s.path, err)
	}
	switch {
	case level != 1:
		return Sync(fmt.Sprintf("level %d on the write connection", level)), nil
	case s.w.wal != nil:
		return SyncFull, nil
	}
	return SyncNormal, nil
}

// Path returns the database file name.
func (s *Store) Path() string { return s.path }

// Close closes both connection pools; the WAL is checkpointed by the last
// connection to close.
func (s *Store) Close() error {
	if !s.closing.CompareAndSwap(false, true) {
		return nil
	}
	s.stopWriter()
	s.closeConns(true)
	err := s.read.Close()
	if werr := s.write.Close(); err == nil {
		err = werr
	}
	return err
}

// View runs fn in a read transaction (a consistent snapshot under WAL),
// on one of the read connections, beside the writer. Writes go through
// Update (commit.go).
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	var c *conn
	select {
	case got, ok := <-s.readers:
		if !ok {
			return errClosed
		}
		c = got
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { s.readers <- c }()
	return c.inTransaction(ctx, true, func() error {
		return fn(&tx{ctx: ctx, c: c, s: s, readOnly: true})
	})
}

// isUniqueViolation reports a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

var errReadOnly = errors.New("store: write in a read-only transaction")
