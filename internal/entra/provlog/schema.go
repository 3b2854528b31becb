package provlog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations create and change the store's tables in the simulator's state
// database, each applied once, in order, in a transaction of its own, and
// recorded in provlog_schema — the store's own version row, so that the
// provisioning logs and the connector space (internal/entra/sync) migrate
// independently. Append new ones; never edit one that has shipped.
var migrations = []migration{
	// 1: records, their identities, cycles and counts.
	{sql: `
-- One row per record. seq is the order records were stored in, the order
-- queries return them in and the cursor they page by; doc is the record
-- in Graph's JSON shape, as -o json and --log-file write it.
CREATE TABLE provlog_records (
	seq      INTEGER PRIMARY KEY,
	cycle_id TEXT NOT NULL,
	activity INTEGER NOT NULL, -- activityDateTime, Unix nanoseconds
	action   TEXT NOT NULL,
	status   TEXT NOT NULL,
	doc      BLOB NOT NULL
);
CREATE INDEX provlog_records_cycle ON provlog_records(cycle_id, seq);

-- What --identity finds a record by (Record.IdentityKeys, lower case).
CREATE TABLE provlog_identities (
	seq INTEGER NOT NULL,
	key TEXT NOT NULL,
	PRIMARY KEY (seq, key)
) WITHOUT ROWID;
CREATE INDEX provlog_identities_key ON provlog_identities(key);

-- One row per cycle: first_seq orders cycles (the latest is the one whose
-- first record came last), started and ended are its first and last
-- activityDateTime.
CREATE TABLE provlog_cycles (
	cycle_id  TEXT PRIMARY KEY,
	first_seq INTEGER NOT NULL,
	started   INTEGER NOT NULL,
	ended     INTEGER NOT NULL,
	records   INTEGER NOT NULL
);
CREATE INDEX provlog_cycles_order ON provlog_cycles(first_seq);

-- Records per cycle, action and status, kept as records are stored, so
-- that listing cycles with their counts reads no record.
CREATE TABLE provlog_counts (
	cycle_id TEXT NOT NULL,
	action   TEXT NOT NULL,
	status   TEXT NOT NULL,
	records  INTEGER NOT NULL,
	PRIMARY KEY (cycle_id, action, status)
) WITHOUT ROWID;
`},
	// 2: identities as 64-bit hashes in one B-tree of two integers. Text
	// keys with an index of their own took 40% of the time an initial
	// cycle spent storing its records (docs/logs.md); a query checks the
	// records a hash finds against the keys themselves, so a collision
	// finds nothing it should not. The hashes are computed in Go.
	{sql: `
DROP INDEX provlog_identities_key;
DROP TABLE provlog_identities;
CREATE TABLE provlog_identities (
	key INTEGER NOT NULL, -- identityHash of one of Record.IdentityKeys
	seq INTEGER NOT NULL,
	PRIMARY KEY (key, seq)
) WITHOUT ROWID;
`, fill: fillIdentities},
}

// migration is one step: SQL, then what SQL cannot compute, in the same
// transaction.
type migration struct {
	sql  string
	fill func(ctx context.Context, tx *sql.Tx) error
}

// fillIdentities indexes the identities of the records already stored.
func fillIdentities(ctx context.Context, tx *sql.Tx) error {
	var after int64
	for {
		type row struct {
			seq int64
			doc []byte
		}
		var rows []row
		err := func() error {
			rs, err := tx.QueryContext(ctx, `SELECT seq, doc FROM provlog_records WHERE seq > ? ORDER BY seq LIMIT ?`, after, queryChunk)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var r row
				if err := rs.Scan(&r.seq, &r.doc); err != nil {
					return err
				}
				rows = append(rows, r)
			}
			return rs.Err()
		}()
		if err != nil || len(rows) == 0 {
			return err
		}
		var idents []ident
		for _, r := range rows {
			rec, err := DecodeRecord(r.doc)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.seq, err)
			}
			for _, k := range rec.IdentityKeys() {
				idents = append(idents, ident{identityHash(k), r.seq})
			}
			after = r.seq
		}
		if err := insertIdentities(ctx, tx, idents); err != nil {
			return err
		}
	}
}

// SchemaVersion is the version of the store's tables this build writes.
var SchemaVersion = len(migrations)

func migrate(ctx context.Context, db *sql.DB) error {
	// Up to date (every open but the first): read, write nothing, so that
	// `miscim logs` never waits for a running simulation's write lock.
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM provlog_schema`).Scan(&current); err == nil && current == len(migrations) {
		return nil
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS provlog_schema (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("prepare the provisioning-log tables: %w", err)
	}
	for {
		done, err := migrateOne(ctx, db)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration. The version is read inside the
// write transaction (BEGIN IMMEDIATE in the state database), so that two
// processes opening a new state at once cannot both apply a step.
func migrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate the provisioning-log tables: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// A write first: a transaction that would start by reading takes the
	// write lock now, even where BEGIN is deferred.
	if _, err := tx.ExecContext(ctx, `DELETE FROM provlog_schema WHERE version < 0`); err != nil {
		return false, fmt.Errorf("migrate the provisioning-log tables: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM provlog_schema`).Scan(&current); err != nil {
		return false, fmt.Errorf("read the provisioning-log schema version: %w", err)
	}
	if current > len(migrations) {
		return false, fmt.Errorf("the provisioning-log tables have schema version %d, newer than this miscim understands (%d): use a newer miscim", current, len(migrations))
	}
	if current == len(migrations) {
		return true, tx.Commit()
	}
	v := current + 1
	m := migrations[v-1]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate the provisioning-log tables to version %d: %w", v, err)
	}
	if m.fill != nil {
		if err := m.fill(ctx, tx); err != nil {
			return false, fmt.Errorf("migrate the provisioning-log tables to version %d: %w", v, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO provlog_schema (version, applied) VALUES (?, ?)`, v, time.Now().UnixNano()); err != nil {
		return false, fmt.Errorf("migrate the provisioning-log tables to version %d: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate the provisioning-log tables to version %d: %w", v, err)
	}
	return false, nil
}
