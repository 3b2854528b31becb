package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// conn is one SQLite connection of the store's own, used by one goroutine
// at a time, with every statement prepared on it once. Transactions and
// queries run through the driver's own API rather than database/sql: for a
// lookup by id in a read transaction database/sql's bookkeeping (the Tx,
// a statement bound per transaction, driver.Value conversions, Rows) costs
// about as much again as SQLite's work (docs/performance.md). The
// database/sql pools stay for migrations and ad-hoc queries.
type conn struct {
	db                      *sqlite3.Conn
	stmts                   map[string]*stmt
	begin, commit, rollback *sqlite3.Stmt
}

// stmt is a prepared statement and whether its rows are being read, so
// that a nested use of the same query (a scan whose callback runs it
// again) gets a statement of its own instead of resetting the outer one.
type stmt struct {
	st   *sqlite3.Stmt
	busy bool
}

// openConn opens a connection with dsn's pragmas and prepares every
// statement (only the queries on a read connection).
func openConn(dsn, begin string, readOnly bool) (*conn, error) {
	db, err := sqlite3.Open(dsn)
	if err != nil {
		return nil, err
	}
	c := &conn{db: db, stmts: map[string]*stmt{}}
	fail := func(err error) (*conn, error) {
		c.close()
		return nil, err
	}
	for _, q := range statements {
		if readOnly && !strings.HasPrefix(q, "SELECT") {
			continue
		}
		st, _, err := db.Prepare(q)
		if err != nil {
			return fail(fmt.Errorf("prepare statement %q: %w", q, err))
		}
		c.stmts[q] = &stmt{st: st}
	}
	for _, p := range []struct {
		dst **sqlite3.Stmt
		q   string
	}{{&c.begin, begin}, {&c.commit, "COMMIT"}, {&c.rollback, "ROLLBACK"}} {
		if *p.dst, _, err = db.Prepare(p.q); err != nil {
			return fail(fmt.Errorf("prepare %s: %w", p.q, err))
		}
	}
	return c, nil
}

func (c *conn) close() error {
	for _, s := range c.stmts {
		s.st.Close()
	}
	for _, s := range []*sqlite3.Stmt{c.begin, c.commit, c.rollback} {
		if s != nil {
			s.Close()
		}
	}
	return c.db.Close()
}

// statement returns query's prepared statement, or a new one when that is
// in use; release gives it back.
func (c *conn) statement(query string) (st *sqlite3.Stmt, release func(), err error) {
	s, ok := c.stmts[query]
	if ok && !s.busy {
		s.busy = true
		return s.st, func() { s.st.Reset(); s.busy = false }, nil
	}
	st, _, err = c.db.Prepare(query)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		// A query missing from statements: keep it for next time.
		c.stmts[query] = &stmt{st: st, busy: true}
		s = c.stmts[query]
		return st, func() { st.Reset(); s.busy = false }, nil
	}
	return st, func() { st.Close() }, nil
}

// resetBusy resets statements whose rows were left open (a failed or
// panicking caller), so that they are reused rather than replaced.
func (c *conn) resetBusy() {
	for _, s := range c.stmts {
		if s.busy {
			s.st.Reset()
			s.busy = false
		}
	}
}

// bind sets a statement's parameters from Go values of the kinds the
// store passes.
func bind(st *sqlite3.Stmt, args []any) error {
	for i, a := range args {
		n := i + 1
		var err error
		switch v := a.(type) {
		case nil:
			err = st.BindNull(n)
		case string:
			err = st.BindText(n, v)
		case int:
			err = st.BindInt64(n, int64(v))
		case int64:
			err = st.BindInt64(n, v)
		case bool:
			err = st.BindBool(n, v)
		case float64:
			err = st.BindFloat(n, v)
		case []byte:
			err = st.BindBlob(n, v)
		default:
			return fmt.Errorf("store: cannot bind a %T", a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rows iterates a query's result, in the shape of database/sql's Rows.
type rows struct {
	t       *tx
	st      *sqlite3.Stmt
	release func()
	err     error
	done    bool
}

func (r *rows) Next() bool {
	if r.done {
		return false
	}
	if r.st.Step() {
		return true
	}
	r.err = r.t.mapErr(r.st.Err())
	r.Close()
	return false
}

// Scan reads the current row into dest: pointers to string, int, int64,
// bool, float64 or []byte.
func (r *rows) Scan(dest ...any) error {
	if r.done {
		return errors.New("store: Scan after the last row")
	}
	for i, d := range dest {
		switch p := d.(type) {
		case *string:
			*p = r.st.ColumnText(i)
		case *int:
			*p = r.st.ColumnInt(i)
		case *int64:
			*p = r.st.ColumnInt64(i)
		case *bool:
			*p = r.st.ColumnBool(i)
		case *float64:
			*p = r.st.ColumnFloat(i)
		case *[]byte:
			*p = r.st.ColumnBlob(i, nil)
		default:
			return fmt.Errorf("store: cannot scan into a %T", d)
		}
	}
	return nil
}

func (r *rows) Err() error { return r.err }

func (r *rows) Close() error {
	if !r.done {
		r.done = true
		r.release()
	}
	return nil
}

// row is a query expected to return at most one row, in the shape of
// database/sql's Row: Scan reports sql.ErrNoRows when there is none.
type row struct{ r *rows }

func (r row) Scan(dest ...any) error {
	defer r.r.Close()
	if !r.r.Next() {
		if r.r.err != nil {
			return r.r.err
		}
		return sql.ErrNoRows
	}
	return r.r.Scan(dest...)
}

// execResult is what an exec changed, as database/sql's Result.
type execResult struct{ changes, lastID int64 }

func (r execResult) RowsAffected() (int64, error) { return r.changes, nil }
func (r execResult) LastInsertId() (int64, error) { return r.lastID, nil }

// mapErr reports an interrupted statement as the context's error, which
// is what interrupted it.
func (t *tx) mapErr(err error) error {
	if err != nil && t.ctx.Err() != nil && errors.Is(err, sqlite3.INTERRUPT) {
		return t.ctx.Err()
	}
	return err
}

// inTransaction runs fn between c's BEGIN and COMMIT (ROLLBACK when fn
// fails or the transaction is read-only), with ctx interrupting its
// statements.
func (c *conn) inTransaction(ctx context.Context, readOnly bool, fn func() error) error {
	c.db.SetInterrupt(ctx)
	defer c.db.SetInterrupt(context.Background())
	if err := c.begin.Exec(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("begin transaction: %w", err)
	}
	err := fn()
	c.db.SetInterrupt(context.Background()) // always end the transaction
	c.resetBusy()
	if err != nil || readOnly {
		if rerr := c.rollback.Exec(); err == nil && rerr != nil {
			err = fmt.Errorf("end read transaction: %w", rerr)
		}
		return err
	}
	if err := c.commit.Exec(); err != nil {
		if !c.db.GetAutocommit() {
			_ = c.rollback.Exec()
		}
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
