package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/store/sqlite" // FileURI; registers the "sqlite3" database/sql driver
)

// DBDump reads a whole SQLite database through a read-only connection of
// its own, to prove that a refused request wrote nothing. It dumps every
// table the schema has — users, tombstones, groups, members, tokens,
// variables and their history, and whatever a later migration adds — so
// that no table can be forgotten.
type DBDump struct {
	db *sql.DB
}

// OpenDBDump opens the database at path for dumping; it is closed when the
// test ends.
func OpenDBDump(t testing.TB, path string) *DBDump {
	t.Helper()
	q := url.Values{}
	q.Add("_pragma", "query_only(ON)")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite3", sqlite.FileURI(path, q))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return &DBDump{db: db}
}

// Snapshot renders every row of every table, tables by name and rows in
// sorted order, in one read transaction.
func (d *DBDump) Snapshot(t testing.TB) string {
	t.Helper()
	s, err := d.snapshot()
	if err != nil {
		t.Fatalf("dump the database: %v", err)
	}
	return s
}

func (d *DBDump) snapshot() (string, error) {
	ctx := context.Background()
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	tables, err := queryStrings(ctx, tx, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return "", err
	}
	if len(tables) == 0 {
		return "", fmt.Errorf("the database has no tables")
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := dumpTable(ctx, tx, table)
		if err != nil {
			return "", fmt.Errorf("table %s: %w", table, err)
		}
		fmt.Fprintf(&b, "== %s (%d rows)\n", table, len(rows))
		for _, r := range rows {
			b.WriteString(r)
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

func queryStrings(ctx context.Context, tx *sql.Tx, query string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func dumpTable(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(' ')
			}
			if raw, ok := v.([]byte); ok {
				v = string(raw)
			}
			fmt.Fprintf(&b, "%s=%#v", cols[i], v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// MaskColumn returns a snapshot with one column of one table shown as "*":
// for a check that expects exactly that column to change. (A create and a
// delete of the same user leave every table as it was but for
// listings.version, which a delete moves on: docs/storage.md.)
func MaskColumn(snapshot, table, column string) string {
	lines := strings.Split(snapshot, "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(l, "== ") {
			in = strings.HasPrefix(l, "== "+table+" (")
			continue
		}
		if !in {
			continue
		}
		fields := strings.Split(l, " ")
		for j, f := range fields {
			if strings.HasPrefix(f, column+"=") {
				fields[j] = column + "=*"
			}
		}
		lines[i] = strings.Join(fields, " ")
	}
	return strings.Join(lines, "\n")
}
