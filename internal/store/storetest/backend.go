// Package storetest is the one test suite both stores pass (Run), and the
// helpers other packages' tests use to run against either store: Open
// gives a fresh store of the kind MISCIM_TEST_STORE names (sqlite, the
// default, or postgres), Again a second store on the same database (a
// second process or replica), Dump every row it holds.
//
// PostgreSQL comes from MISCIM_TEST_POSTGRES, a postgres:// URL of a
// database the tests may create schemas in; each store gets a schema of
// its own, dropped when its test ends. `make postgres-test` (and `make
// test`) start a throwaway cluster for it (.ci/with-postgres). Without
// it the PostgreSQL tests skip, saying how to run them; with
// MISCIM_REQUIRE_POSTGRES=1 (CI) they fail instead.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/postgres"
	"github.com/miscim/miscim/internal/store/sqlite"
)

// Environment variables.
const (
	EnvStore           = "MISCIM_TEST_STORE"       // "sqlite" (default) or "postgres"
	EnvPostgres        = "MISCIM_TEST_POSTGRES"    // postgres:// URL of a scratch database
	EnvRequirePostgres = "MISCIM_REQUIRE_POSTGRES" // "1": missing PostgreSQL fails instead of skipping
)

// Backend opens stores of one kind for the suite.
type Backend struct {
	Name string
	// New returns a fresh, empty store, closed when the test ends.
	New func(t testing.TB) store.Store
	// Again returns another store on the database of st, as a second
	// process or replica would open it, closed when the test ends.
	Again func(t testing.TB, st store.Store) store.Store
	// Reopen closes st and opens its database again; an error is Open's.
	Reopen func(t testing.TB, st store.Store) (store.Store, error)
	// Exec runs a statement on the database of st directly, beside the
	// store (to fake a newer schema).
	Exec func(t testing.TB, st store.Store, sql string)
}

// SQLite is the SQLite backend: a file in the test's temporary directory.
func SQLite() Backend {
	open := func(t testing.TB, path string) (store.Store, error) {
		st, err := sqlite.Open(context.Background(), path, sqlite.Options{Sync: sqlite.SyncNormal})
		if err == nil {
			t.Cleanup(func() { st.Close() })
		}
		return st, err
	}
	must := func(t testing.TB, path string) store.Store {
		t.Helper()
		st, err := open(t, path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	return Backend{
		Name:  "sqlite",
		New:   func(t testing.TB) store.Store { return must(t, filepath.Join(t.TempDir(), "miscim.db")) },
		Again: func(t testing.TB, st store.Store) store.Store { return must(t, st.(*sqlite.Store).Path()) },
		Reopen: func(t testing.TB, st store.Store) (store.Store, error) {
			path := st.(*sqlite.Store).Path()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, path)
		},
		Exec: func(t testing.TB, st store.Store, q string) {
			t.Helper()
			db, err := sql.Open("sqlite3", sqlite.FileURI(st.(*sqlite.Store).Path(), url.Values{"_pragma": {"busy_timeout(10000)"}}))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
	}
}

// pgURLs remembers the URL (with its schema) of each PostgreSQL store the
// tests opened, for Again and Dump.
var pgURLs sync.Map // *postgres.Store → string

// Postgres is the PostgreSQL backend: a schema of its own per store in the
// database MISCIM_TEST_POSTGRES names. The test skips (or, with
// MISCIM_REQUIRE_POSTGRES=1, fails) without it.
func Postgres() Backend {
	open := func(t testing.TB, dsn string) (store.Store, error) {
		st, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 6})
		if err == nil {
			pgURLs.Store(st, dsn)
			t.Cleanup(func() { st.Close() })
		}
		return st, err
	}
	must := func(t testing.TB, dsn string) store.Store {
		t.Helper()
		st, err := open(t, dsn)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	return Backend{
		Name:  "postgres",
		New:   func(t testing.TB) store.Store { return must(t, PostgresURL(t)) },
		Again: func(t testing.TB, st store.Store) store.Store { return must(t, urlOf(t, st)) },
		Reopen: func(t testing.TB, st store.Store) (store.Store, error) {
			dsn := urlOf(t, st)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, dsn)
		},
		Exec: func(t testing.TB, st store.Store, q string) {
			t.Helper()
			conn := connect(t, urlOf(t, st))
			if _, err := conn.Exec(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
	}
}

func urlOf(t testing.TB, st store.Store) string {
	t.Helper()
	v, ok := pgURLs.Load(st)
	if !ok {
		t.Fatalf("store %T was not opened by storetest", st)
	}
	return v.(string)
}

// Backends returns the backends to run a suite on: SQLite and PostgreSQL.
func Backends() []Backend { return []Backend{SQLite(), Postgres()} }

// Kind is the store kind MISCIM_TEST_STORE selects: "sqlite" or
// "postgres".
func Kind() string {
	if strings.EqualFold(os.Getenv(EnvStore), "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// Open returns a fresh store of the kind MISCIM_TEST_STORE selects.
func Open(t testing.TB) store.Store {
	t.Helper()
	if Kind() == "postgres" {
		return Postgres().New(t)
	}
	return SQLite().New(t)
}

// Again returns a second store on the database of st (see Backend.Again).
func Again(t testing.TB, st store.Store) store.Store {
	t.Helper()
	if _, ok := st.(*postgres.Store); ok {
		return Postgres().Again(t, st)
	}
	return SQLite().Again(t, st)
}

// PostgresURL creates a schema of its own for the test in the database
// MISCIM_TEST_POSTGRES names and returns a URL whose connections use it
// (dropped when the test ends). Without the variable the test skips, or
// fails under MISCIM_REQUIRE_POSTGRES=1.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		msg := "PostgreSQL tests skipped: " + EnvPostgres + " is not set; run `make postgres-test` (starts a throwaway cluster, .ci/with-postgres) or set it to a postgres:// URL of a scratch database"
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatal(msg + " (" + EnvRequirePostgres + "=1)")
		}
		t.Skip(msg)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "miscim_test_" + hex.EncodeToString(b[:])
	admin := connect(t, base)
	if _, err := admin.Exec(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s in %s: %v", schema, postgres.Redact(base), err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	return WithParam(base, "search_path", schema)
}

// WithParam returns the URL with a query parameter set.
func WithParam(dsn, name, value string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", postgres.Redact(dsn), err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// Dumper returns a function that renders every row of every table of
// st's database, tables by name and rows sorted, to prove that a refused
// request wrote nothing. PostgreSQL's listing_changes are shown folded
// into listings, as the fold would leave them, so that a dump does not
// depend on when the last fold ran.
func Dumper(t testing.TB, st store.Store) func(testing.TB) string {
	t.Helper()
	if ps, ok := st.(*postgres.Store); ok {
		conn := connect(t, urlOf(t, ps))
		return func(t testing.TB) string {
			t.Helper()
			s, err := dumpPostgres(conn)
			if err != nil {
				t.Fatalf("dump the database: %v", err)
			}
			return s
		}
	}
	d := OpenDBDump(t, st.(*sqlite.Store).Path())
	return d.Snapshot
}

func dumpPostgres(conn *pgx.Conn) (string, error) {
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		return "", err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	if len(tables) == 0 {
		return "", fmt.Errorf("the database has no tables")
	}
	var b strings.Builder
	for _, table := range tables {
		q := `SELECT * FROM "` + table + `"`
		switch table {
		case "listing_changes":
			continue
		case "listings":
			q = `SELECT l.listing, l.version + COALESCE(SUM(c.version), 0)::bigint AS version, l.records + COALESCE(SUM(c.records), 0)::bigint AS records
				FROM listings l LEFT JOIN listing_changes c ON c.listing = l.listing GROUP BY l.listing, l.version, l.records`
		}
		rows, err := tx.Query(ctx, q)
		if err != nil {
			return "", fmt.Errorf("table %s: %w", table, err)
		}
		var lines []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return "", err
			}
			var l strings.Builder
			for i, f := range rows.FieldDescriptions() {
				if i > 0 {
					l.WriteByte(' ')
				}
				fmt.Fprintf(&l, "%s=%#v", f.Name, vals[i])
			}
			lines = append(lines, l.String())
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("table %s: %w", table, err)
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, "== %s (%d rows)\n", table, len(lines))
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}
