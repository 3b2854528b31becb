// Package simstate owns the simulator's state file: where it lives for a
// target (DESIGN §5) and how it is opened. Like Entra's provisioning
// service, the simulator is a system of its own, with its own state — the
// connector space, watermark, escrow and quarantine (internal/entra/sync)
// and the provisioning logs (internal/entra/provlog) — kept in one SQLite
// file that is not the target's database. Each of those packages creates
// and migrates its own tables in it, with a schema version of its own, so
// that they change independently; this package only opens the file.
//
// `miscim simulate` and `miscim logs` both find the file with DefaultPath,
// so that the logs a simulation stored are where `logs` looks.
package simstate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/ncruces/go-sqlite3/driver" // registers the "sqlite3" database/sql driver

	"github.com/miscim/miscim/internal/store/postgres"
	"github.com/miscim/miscim/internal/store/sqlite"
)

// FileSuffix ends the name of a state file kept beside the embedded
// database: miscim.db's state is miscim.simulate.db.
const FileSuffix = ".simulate.db"

// DefaultPath is where the simulator keeps its state for a target when
// --state does not say (DESIGN §5):
//
//   - the embedded engine (targetURL ""): beside its database, the
//     database's name with FileSuffix for its extension
//     (~/.local/share/miscim/miscim.db → ~/.local/share/miscim/miscim.simulate.db),
//     so that a state never outlives, or mixes with, another database's;
//     a PostgreSQL database URL (--db postgres://…) has no "beside", and is
//     treated as a target URL;
//   - a target URL: $XDG_STATE_HOME/miscim/simulate/<host>[_<port>]-<hash>.db
//     (~/.local/state when XDG_STATE_HOME is unset or relative), the hash
//     of the URL without credentials, query or trailing slash, so that
//     every endpoint has its own state and ?aadOptscim062020 (a dialect,
//     not another endpoint) shares it.
//
// dbPath is the embedded database's path as resolved (--db, MISCIM_DB, a
// profile, or the default); getenv reads the environment.
func DefaultPath(targetURL, dbPath string, getenv func(string) string) string {
	if targetURL == "" && postgres.IsURL(dbPath) {
		targetURL = dbPath
	}
	if targetURL != "" {
		return filepath.Join(StateDir(getenv), "simulate", urlFileName(targetURL))
	}
	dir, name := filepath.Split(dbPath)
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	if stem == "" {
		stem = name
	}
	return filepath.Join(dir, stem+FileSuffix)
}

// StateDir is miscim's directory under the XDG state home:
// $XDG_STATE_HOME/miscim, else ~/.local/state/miscim. The XDG spec ignores
// a relative XDG_STATE_HOME, and so does this.
func StateDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "miscim")
	}
	home := getenv("HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	return filepath.Join(home, ".local", "state", "miscim")
}

// urlFileName names the state file of a target URL: readable (the host
// and port) and unique (a hash of the normalised URL).
func urlFileName(raw string) string {
	key := strings.TrimSpace(raw)
	host := "target"
	if u, err := url.Parse(key); err == nil && u.Host != "" {
		u.User = nil
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = strings.TrimRight(u.RawPath, "/")
		key = u.String()
		host = u.Hostname()
		if p := u.Port(); p != "" {
			host += "_" + p
		}
	}
	sum := sha256.Sum256([]byte(key))
	return safeName(host) + "-" + hex.EncodeToString(sum[:6]) + ".db"
}

// safeName keeps a host name usable as a file name on every system: an
// IPv6 literal's colons and anything but letters, digits, '.', '-' and '_'
// become '_'.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "target"
	}
	return b.String()
}

// ErrNoState is returned by OpenExisting when the file does not exist:
// no simulation has run for that target (or --state names another file).
var ErrNoState = errors.New("no simulator state file")

// Open opens the state file at path, creating it (and its directory, 0700:
// the state holds directory data) when missing.
//
// The database is in WAL mode, so `miscim logs` can read while a
// simulation writes, with synchronous=NORMAL (a committed transaction
// survives a crash of the process; on power loss the last ones may be
// lost, and a lost connector-space write is what the next cycle's match
// repairs), 8 KiB pages for a new file (a provisioning-log record of 2–3 KB
// fits three to a page rather than one: a quarter less written for an
// initial cycle; docs/logs.md), foreign keys on, a 10 s busy timeout for
// another process, and
// BEGIN IMMEDIATE for every transaction, so that a transaction that reads
// and then writes cannot fail to upgrade its lock. The pool holds one
// connection: one process writes its state, and its goroutines queue for
// the connection in Go instead of sleeping in SQLite's busy handler.
// Callers must therefore not run a query on the *sql.DB while they hold a
// transaction of it.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create the directory of the simulator state %s: %w", path, err)
		}
	}
	q := url.Values{}
	// page_size first: it applies only before the first table, and not
	// once the file is in WAL mode.
	for _, p := range []string{"page_size(8192)", "busy_timeout(10000)", "foreign_keys(ON)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite3", sqlite.FileURI(path, q))
	if err != nil {
		return nil, fmt.Errorf("open the simulator state %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open the simulator state %s: %w", path, err)
	}
	return db, nil
}

// OpenExisting is Open for readers such as `miscim logs`: a missing file
// is ErrNoState (wrapped with the path) rather than a new, empty state.
func OpenExisting(ctx context.Context, path string) (*sql.DB, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w at %s", ErrNoState, path)
	case err != nil:
		return nil, fmt.Errorf("open the simulator state %s: %w", path, err)
	case fi.IsDir():
		return nil, fmt.Errorf("the simulator state %s is a directory, not a file", path)
	}
	return Open(ctx, path)
}
