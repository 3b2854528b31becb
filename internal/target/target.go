// Package target turns the global connection settings (--url, --token,
// --db, TLS and timeouts) into a SCIM client: the embedded engine served
// in-process through the real HTTP handler, or a remote endpoint over the
// network (DESIGN §1.1, §2). Commands get a *Target and talk SCIM through
// its Client either way, so both modes behave identically.
package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/postgres"
	"github.com/miscim/miscim/internal/store/sqlite"
)

// EmbeddedBaseURL is the SCIM base URL of the in-process engine. The host
// never resolves: requests go through client.HandlerTransport.
const EmbeddedBaseURL = "http://embedded.miscim/scim/v2"

// Config selects and configures a target.
type Config struct {
	URL    string // SCIM base URL of a remote target; "" selects the embedded engine
	Token  string // bearer token for URL
	DBPath string // embedded database; "" means DefaultDBPath()
	// LogDir is the request-log directory of the embedded engine; "" means
	// DefaultLogDir().
	LogDir   string
	Timeout  time.Duration // per request; 0 means client.DefaultTimeout
	Insecure bool          // skip TLS verification (remote only)
	CAFile   string        // extra trusted CAs, PEM (remote only)
	Trace    io.Writer     // request/response trace (-v), token redacted
	// Retries is how often a failed idempotent request is retried (remote
	// only); 0 means client.DefaultRetries, negative none (test-connection
	// probes once, as Entra does).
	Retries int
	// HAR, when set, records every HTTP exchange with the target as HAR
	// 1.2 (simulate --har), in-process ones too; the caller closes it
	// after the target.
	HAR *client.HARWriter
	// Sync is the embedded SQLite database's synchronous mode; "" means
	// sqlite.SyncFull (replay chooses SyncNormal, docs/replay.md).
	// PostgreSQL's durability is the server's (synchronous_commit).
	Sync sqlite.Sync
}

// ConfigError is a target setting that cannot work: a malformed URL, an
// unreadable CA file. Commands exit 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Target is an open connection to the endpoint commands work on.
type Target struct {
	// Client speaks SCIM and the admin API to the target.
	Client *client.Client
	// Engine is the embedded engine, for what only it can do (tokens);
	// nil when the target is remote.
	Engine *engine.Engine
	// Embedded reports the in-process engine.
	Embedded bool
	// DBPath is the embedded database: a SQLite file, or a postgres://
	// URL; "" when remote.
	DBPath string

	closers []io.Closer
}

// Open connects to the target cfg describes. The embedded engine's
// database is created on first use. ctx bounds opening only.
func Open(ctx context.Context, cfg Config) (*Target, error) {
	if cfg.URL != "" {
		c, err := client.New(client.Options{
			BaseURL:  cfg.URL,
			Token:    cfg.Token,
			Timeout:  cfg.Timeout,
			Insecure: cfg.Insecure,
			CAFile:   cfg.CAFile,
			Trace:    cfg.Trace,
			Retries:  cfg.Retries,
			HAR:      cfg.HAR,
		})
		if err != nil {
			return nil, &ConfigError{Err: err}
		}
		return &Target{Client: c}, nil
	}

	path := cfg.DBPath
	if path == "" {
		path = DefaultDBPath()
	}
	st, _, err := OpenStore(ctx, path, cfg.Sync)
	if err != nil {
		return nil, err
	}
	logDir := cfg.LogDir
	if logDir == "" {
		logDir = DefaultLogDir()
	}
	e := engine.New(st)
	srv := server.New(e, server.Options{LogDir: logDir})
	c, err := client.New(client.Options{
		BaseURL:   EmbeddedBaseURL,
		Timeout:   cfg.Timeout,
		Trace:     cfg.Trace,
		HAR:       cfg.HAR,
		Transport: client.HandlerTransport(server.LocalAdmin(srv)),
	})
	if err != nil {
		return nil, errors.Join(err, srv.Close(), st.Close())
	}
	return &Target{
		Client:   c,
		Engine:   e,
		Embedded: true,
		DBPath:   path,
		closers:  []io.Closer{srv, st}, // request log first, then the database
	}, nil
}

// StoreInfo describes the store OpenStore opened, for start-up lines.
type StoreInfo struct {
	Kind     string // "sqlite" or "postgres"
	Location string // the file, or user@host:port/database (no password)
	// Detail is what the durability of a commit rests on:
	// "synchronous=FULL", or the PostgreSQL server's version.
	Detail string
}

func (i StoreInfo) String() string {
	if i.Kind == "postgres" {
		return "PostgreSQL " + i.Location + ", server " + i.Detail
	}
	return i.Location + ", " + i.Detail
}

// OpenStore opens the embedded engine's database that db names (--db,
// MISCIM_DB, a profile's db): a postgres:// or postgresql:// URL opens
// PostgreSQL; anything else is the path of a SQLite file, used as a path
// whatever characters it holds (docs/storage.md). sync applies to SQLite.
// A setting that cannot work is a ConfigError (exit 2); a PostgreSQL
// server that cannot be reached is a store.ErrUnavailable (exit 5).
func OpenStore(ctx context.Context, db string, sync sqlite.Sync) (store.Store, StoreInfo, error) {
	if postgres.IsURL(db) {
		st, err := postgres.Open(ctx, db, postgres.Options{})
		if errors.Is(err, store.ErrUnavailable) {
			return nil, StoreInfo{}, fmt.Errorf("open database: %w", err)
		}
		if err != nil {
			return nil, StoreInfo{}, &ConfigError{Err: fmt.Errorf("open database: %w; check --db (or MISCIM_DB)", err)}
		}
		return st, StoreInfo{Kind: "postgres", Location: st.Location(), Detail: st.ServerVersion()}, nil
	}
	// 0700: the database holds token hashes and user directory data.
	// An unusable database path is the user's setting (--db, MISCIM_DB, a
	// profile's db): a ConfigError, exit 2.
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		return nil, StoreInfo{}, &ConfigError{Err: fmt.Errorf("create the directory of the embedded database %s: %w; choose another --db (or MISCIM_DB)", db, err)}
	}
	st, err := sqlite.Open(ctx, db, sqlite.Options{Sync: sync})
	if err != nil {
		return nil, StoreInfo{}, &ConfigError{Err: fmt.Errorf("open embedded database %s: %w; choose another --db (or MISCIM_DB)", db, err)}
	}
	inForce, err := st.Synchronous(ctx)
	if err != nil {
		st.Close()
		return nil, StoreInfo{}, err
	}
	return st, StoreInfo{Kind: "sqlite", Location: db, Detail: "synchronous=" + string(inForce)}, nil
}

// Close releases the embedded engine (request log, database); for a remote
// target it does nothing. It is safe to call more than once.
func (t *Target) Close() error {
	var errs []error
	for _, c := range t.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	t.closers = nil
	return errors.Join(errs...)
}

// DefaultDBPath is where the embedded database lives by default:
// $XDG_DATA_HOME/miscim/miscim.db, else ~/.local/share/miscim/miscim.db.
func DefaultDBPath() string { return DefaultDBPathFrom(os.Getenv) }

// DefaultDBPathFrom is DefaultDBPath with the environment read through
// getenv (tests).
func DefaultDBPathFrom(getenv func(string) string) string {
	return filepath.Join(xdgDir(getenv, "XDG_DATA_HOME", ".local/share"), "miscim", "miscim.db")
}

// MILogDir is Metric Insights' own SCIM request-log directory, used when
// miscim runs on an MI host (DESIGN §3.7).
const MILogDir = "/opt/mi/web/backend/data/temp/scim"

// DefaultLogDir is the request-log directory by default: MILogDir when it
// exists and is writable, else $XDG_STATE_HOME/miscim/scim-log, else
// ~/.local/state/miscim/scim-log.
func DefaultLogDir() string { return DefaultLogDirFrom(os.Getenv, MILogDir) }

// DefaultLogDirFrom is DefaultLogDir with the environment read through
// getenv and the MI directory given (tests).
func DefaultLogDirFrom(getenv func(string) string, miDir string) string {
	if miDir != "" && writableDir(miDir) {
		return miDir
	}
	return filepath.Join(xdgDir(getenv, "XDG_STATE_HOME", ".local/state"), "miscim", "scim-log")
}

// xdgDir resolves an XDG base directory. The spec ignores relative values,
// and so does this.
func xdgDir(getenv func(string) string, env, fallback string) string {
	if d := getenv(env); d != "" && filepath.IsAbs(d) {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	return filepath.Join(home, fallback)
}

// writableDir reports whether dir exists and a file can be created in it.
// Permission bits are not enough (root, ACLs, read-only mounts), so it
// tries.
func writableDir(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	f, err := os.CreateTemp(dir, ".miscim-probe-*")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return true
}

// EnvAllowWrites is the environment variable that stands for
// --allow-writes in the commands that write to a target on their own
// (replay; simulate).
const EnvAllowWrites = "MISCIM_ALLOW_WRITES"

// IsLoopback reports whether a SCIM base URL names this machine:
// "localhost" or a name under .localhost (RFC 6761 §6.3), or a loopback
// IP literal (127.0.0.0/8, ::1, ::ffff:127.0.0.1). Names are not resolved:
// what a DNS answer says now need not be where the requests go. The
// embedded engine (no URL) is local too.
func IsLoopback(rawURL string) bool {
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return true
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// WriteGuard is the decision whether a command may send writes (POST,
// PUT, PATCH, DELETE) to a target on its own: always to the embedded
// engine and to loopback addresses, elsewhere only when the user allowed
// it with --allow-writes or MISCIM_ALLOW_WRITES=1 (DESIGN §5).
type WriteGuard struct {
	Allowed bool
	// Notice is the one line a command prints on stderr when writes are
	// refused; "" when allowed.
	Notice string
}

// CheckWrites decides for a target URL; command names the command in the
// notice ("replay").
func CheckWrites(command, rawURL string, allowFlag bool, getenv func(string) string) WriteGuard {
	if allowFlag || getenv(EnvAllowWrites) == "1" || IsLoopback(rawURL) {
		return WriteGuard{Allowed: true}
	}
	u := rawURL
	if pu, err := url.Parse(rawURL); err == nil {
		u = pu.Redacted()
	}
	return WriteGuard{Notice: fmt.Sprintf("%s: %s is not a loopback address: running as --dry-run (nothing sent); pass --allow-writes or set %s=1 to send", command, u, EnvAllowWrites)}
}
