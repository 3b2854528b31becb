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

	"github.com/miscim/miscim/internal/store"

	_ "github.com/ncruces/go-sqlite3/driver" // registers the "sqlite3" database/sql driver
)

// Sync is SQLite's synchronous setting for the write connection.
type Sync string

// Synchronous modes. In WAL mode both survive a process crash (kill -9)
// without losing a committed transaction; Full also survives power loss.
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
	write *sql.DB
	read  *sql.DB

	stmts map[*sql.DB]map[string]*sql.Stmt
	w     *writer
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
		fmt.Sprintf("synchronous(%s)", opts.Sync),
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)

	s := &Store{path: path, write: write, stmts: map[*sql.DB]map[string]*sql.Stmt{}}
	fail := func(err error) (*Store, error) {
		s.closeStatements()
		if s.read != nil {
			s.read.Close()
		}
		write.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		return fail(err)
	}
	if got, err := s.Synchronous(ctx); err != nil {
		return fail(err)
	} else if got != opts.Sync {
		return fail(fmt.Errorf("open database %s: synchronous is %s, not the %s asked for", path, got, opts.Sync))
	}

	rq := url.Values{}
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout))
	rq.Add("_pragma", "foreign_keys(ON)")
	rq.Add("_pragma", "query_only(ON)")
	rq.Set("_txlock", "deferred")
	read, err := sql.Open("sqlite3", "file:"+path+"?"+rq.Encode())
	if err != nil {
		return fail(fmt.Errorf("open database %s: %w", path, err))
	}
	read.SetMaxOpenConns(opts.ReadConns)
	read.SetMaxIdleConns(opts.ReadConns)
	s.read = read
	if err := s.prepare(ctx); err != nil {
		return fail(err)
	}
	s.startWriter()
	return s, nil
}

// prepare readies every statement on both pools before any transaction
// runs; see statements.
func (s *Store) prepare(ctx context.Context) error {
	for _, db := range []*sql.DB{s.write, s.read} {
		m := map[string]*sql.Stmt{}
		s.stmts[db] = m
		for _, q := range statements {
			if db == s.read && !strings.HasPrefix(q, "SELECT") {
				continue
			}
			st, err := db.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("prepare statement %q: %w", q, err)
			}
			m[q] = st
		}
	}
	return nil
}

func (s *Store) closeStatements() {
	for _, m := range s.stmts {
		for _, st := range m {
			st.Close()
		}
	}
	s.stmts = map[*sql.DB]map[string]*sql.Stmt{}
}

// Synchronous reports the synchronous mode in force on the write
// connection, the one that commits: what a durability claim rests on. A
// kill -9 test cannot tell FULL from NORMAL (the page cache survives a
// process kill), so this is how a test checks it.
func (s *Store) Synchronous(ctx context.Context) (Sync, error) {
	var level int
	if err := s.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
		return "", fmt.Errorf("read the synchronous mode of %s: %w", s.path, err)
	}
	switch level {
	case 1:
		return SyncNormal, nil
	case 2:
		return SyncFull, nil
	}
	return Sync(fmt.Sprintf("level %d", level)), nil
}

// Path returns the database file name.
func (s *Store) Path() string { return s.path }

// Close closes both connection pools; the WAL is checkpointed by the last
// connection to close.
func (s *Store) Close() error {
	s.stopWriter()
	s.closeStatements()
	err := s.read.Close()
	if werr := s.write.Close(); err == nil {
		err = werr
	}
	return err
}

// View runs fn in a read transaction (a consistent snapshot under WAL),
// on the read pool, beside the writer. Writes go through Update (commit.go).
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	sqlTx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	err = fn(&tx{ctx: ctx, tx: sqlTx, s: s, db: s.read, readOnly: true})
	if rerr := sqlTx.Rollback(); err == nil && rerr != nil {
		err = fmt.Errorf("end read transaction: %w", rerr)
	}
	return err
}

// isUniqueViolation reports a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

var errReadOnly = errors.New("store: write in a read-only transaction")
