// Package postgres is the shared store: PostgreSQL through
// github.com/jackc/pgx/v5 and its connection pool, for several
// `miscim serve` replicas on one database (DESIGN §2). It has the
// semantics of store/sqlite, proven by the same suite (store/storetest).
//
// Every Update runs in one REPEATABLE READ transaction. A transaction
// that loses a conflict to another replica (a serialization failure or a
// deadlock, both rolled back by PostgreSQL) is run again from the start,
// inside Update, so the engine never sees the conflict. docs/storage.md
// says why each engine rule holds at that level, how the listing order
// stays append-only across replicas, and what a lost connection does.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miscim/miscim/internal/store"
)

// IsURL reports whether db names a PostgreSQL database rather than a
// SQLite file: a postgres:// or postgresql:// URL (the scheme in any case).
// Everything else, libpq's key=value strings included, is a file path:
// "host=db dbname=miscim" is as valid a file name as any (docs/storage.md).
func IsURL(db string) bool {
	scheme, _, ok := strings.Cut(db, "://")
	return ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql"))
}

// Options tune Open.
type Options struct {
	// MaxConns is the size of the connection pool; 0 means 16, or the
	// URL's pool_max_conns.
	MaxConns int32
	// TxTimeout bounds each transaction, its commit included, so that a
	// database that stops answering gives an error (503) instead of a
	// request that hangs; 0 means 30s.
	TxTimeout time.Duration
	// FoldInterval is how often the listing counters are folded (see
	// listing.go); 0 means one second.
	FoldInterval time.Duration
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool    *pgxpool.Pool
	where   string // host:port/database, no credentials
	version string // the server's version, as it reports it
	opts    Options

	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database dsn names (a postgres:// URL), brings its
// schema up to date and starts folding the listing counters. Open fails
// when the database cannot be reached: a replica that cannot start says so
// at once; once running, it rides out outages (503 until the database is
// back).
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors quote the whole string, password included.
		return nil, fmt.Errorf("the database URL %s is not valid: %s", Redact(dsn), parseProblem(err))
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	} else if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = 16
	}
	if opts.TxTimeout <= 0 {
		opts.TxTimeout = 30 * time.Second
	}
	if opts.FoldInterval <= 0 {
		opts.FoldInterval = time.Second
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// A connection idle for a while may have been cut (the database
	// restarted, a proxy timed it out): check it before use, so that the
	// first request after an outage does not fail on a dead connection.
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return p.IdleDuration > 500*time.Millisecond }
	cfg.ConnConfig.RuntimeParams["application_name"] = "miscim"
	s := &Store{where: location(cfg), opts: opts, stop: make(chan struct{})}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open database %s: %w", s.where, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	if err := s.pool.QueryRow(ctx, `SHOW server_version`).Scan(&s.version); err != nil {
		s.pool.Close()
		return nil, s.unavailable(err)
	}
	s.stopped.Add(1)
	go s.foldLoop()
	return s, nil
}

// location renders where the database is, without credentials.
func location(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	host := c.Host
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("%s (socket %s/.s.PGSQL.%d)", c.Database, host, c.Port)
	}
	return fmt.Sprintf("%s@%s:%d/%s", c.User, host, c.Port, c.Database)
}

// Redact returns the URL with its password replaced by "xxxxx" (in the
// user info or as a password= parameter).
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a URL that cannot be parsed)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// parseProblem keeps what pgx says is wrong with a URL and drops the
// quoted URL itself.
func parseProblem(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "cannot parse") {
		return msg[i+2:]
	}
	return "it cannot be parsed (" + strings.TrimPrefix(msg, "cannot parse ") + ")"
}

// Location returns where the database is: host:port/database (no
// credentials).
func (s *Store) Location() string { return s.where }

// ServerVersion returns the version the PostgreSQL server reports.
func (s *Store) ServerVersion() string { return s.version }

// Close stops folding and closes the pool; transactions in flight finish
// first.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.stop)
		s.stopped.Wait()
		s.pool.Close()
	})
	return nil
}

// View runs fn in a read-only REPEATABLE READ transaction: one snapshot of
// the database, as SQLite's read transactions give.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, true, fn)
}

// Update runs fn in a REPEATABLE READ transaction and commits it, running
// it again when PostgreSQL resolved a conflict with another transaction by
// rolling this one back. fn may therefore run more than once; only its
// last run's writes are committed.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadWrite}, false, fn)
}

// Retries. A conflict is retried for as long as the caller's context and
// the transaction timeout allow, after a short random pause that grows
// with each attempt; losing a conflict means another transaction
// committed, so the system as a whole progresses. A connection that fails
// before the commit is sent is retried a few times (the pool replaces
// it); after that, or when the commit's outcome is unknown, the caller
// gets an ErrUnavailable.
const (
	maxConnectionRetries = 2
	firstPause           = time.Millisecond
	longestPause         = 50 * time.Millisecond
)

func (s *Store) run(ctx context.Context, opts pgx.TxOptions, readOnly bool, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline := time.Now().Add(s.opts.TxTimeout)
	connRetries := 0
	pause := firstPause
	for attempt := 1; ; attempt++ {
		err := s.attempt(ctx, deadline, opts, readOnly, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch k := classify(err); {
		case k == conflict && time.Now().Before(deadline):
		case k == lostBeforeCommit && connRetries < maxConnectionRetries && time.Now().Before(deadline):
			connRetries++
		case k == lostBeforeCommit, k == lostInCommit:
			return s.unavailable(err)
		case k == conflict:
			// Still losing after the whole transaction timeout: say so as
			// a 503 (retry later), never as a failure of miscim.
			return &store.UnavailableError{Reason: "conflicting writes kept this one from committing for " + s.opts.TxTimeout.String(), Where: s.where, Err: err}
		default:
			return err
		}
		sleep := pause/2 + rand.N(pause/2+1)
		pause = min(2*pause, longestPause)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
	}
}

// errCommit marks a failure of COMMIT itself, whose outcome a lost
// connection leaves unknown.
type errCommit struct{ err error }

func (e *errCommit) Error() string { return "commit: " + e.err.Error() }
func (e *errCommit) Unwrap() error { return e.err }

func (s *Store) attempt(ctx context.Context, deadline time.Time, opts pgx.TxOptions, readOnly bool, fn func(store.Tx) error) (err error) {
	tctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	ptx, err := s.pool.BeginTx(tctx, opts)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			// The connection goes back to the pool only after a clean
			// rollback; a failed one is closed by pgx.
			_ = ptx.Rollback(context.WithoutCancel(tctx))
		}
	}()
	if err := callFn(fn, &tx{ctx: tctx, tx: ptx, readOnly: readOnly}); err != nil {
		return err
	}
	if readOnly {
		done = true
		return ptx.Rollback(tctx)
	}
	// Once COMMIT is sent it runs to its end: a caller that went away
	// meanwhile must not be told its write failed when it committed.
	cctx, ccancel := context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(5*time.Second))
	defer ccancel()
	done = true
	if err := ptx.Commit(cctx); err != nil {
		return &errCommit{err: err}
	}
	return nil
}

// callFn runs fn, turning a panic into an error as the SQLite store does.
func callFn(fn func(store.Tx) error, t *tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: update panicked: %v", r)
		}
	}()
	return fn(t)
}

// unavailable wraps a connection failure as a store.UnavailableError with
// a reason fit for /healthz.
func (s *Store) unavailable(err error) error {
	var ue *store.UnavailableError
	if errors.As(err, &ue) {
		return err
	}
	reason := describeOutage(err)
	if _, inCommit := errors.AsType[*errCommit](err); inCommit {
		reason = "the connection was lost during a commit, whose outcome is unknown (" + reason + ")"
	}
	return &store.UnavailableError{Reason: reason, Where: s.where, Err: err}
}

// connectError explains a failed first connection: credentials or a
// database name that are wrong are the user's to fix (a plain error);
// anything else is the server being away (ErrUnavailable).
func (s *Store) connectError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "28"):
			return fmt.Errorf("connect to %s: the server refused the credentials (%s)", s.where, pe.Message)
		case pe.Code == "3D000":
			return fmt.Errorf("connect to %s: %s; create it first (createdb)", s.where, pe.Message)
		}
	}
	return s.unavailable(err)
}

// errReadOnly is returned by a write inside View.
var errReadOnly = errors.New("store: write in a read-only transaction")
