package sqlite

import (
	"context"
	"fmt"
	"time"
)

// migrations are applied in order, each once, each in its own transaction.
// Append new ones; never edit one that has shipped.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	external_id   TEXT,
	user_name     TEXT NOT NULL,
	user_name_key TEXT NOT NULL,
	given_name    TEXT NOT NULL DEFAULT '',
	family_name   TEXT NOT NULL DEFAULT '',
	email         TEXT NOT NULL DEFAULT '',
	email_type    TEXT NOT NULL DEFAULT '',
	active        INTEGER NOT NULL,
	user_type     TEXT NOT NULL,
	auth_method   TEXT NOT NULL,
	source        TEXT NOT NULL,
	mi_username   TEXT NOT NULL,
	created       INTEGER NOT NULL,
	modified      INTEGER NOT NULL,
	version       INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_user_name_key ON users(user_name_key);
CREATE INDEX users_external_id ON users(external_id);

CREATE TABLE tombstones (
	id      TEXT PRIMARY KEY,
	data    TEXT NOT NULL,
	deleted INTEGER NOT NULL
);

CREATE TABLE groups (
	id               TEXT PRIMARY KEY,
	display_name     TEXT NOT NULL,
	display_name_key TEXT NOT NULL,
	external_id      TEXT,
	description      TEXT NOT NULL DEFAULT '',
	created          INTEGER NOT NULL,
	modified         INTEGER NOT NULL,
	version          INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_display_name_key ON groups(display_name_key);
CREATE INDEX groups_external_id ON groups(external_id);

-- One row per membership: adding or removing a member touches one row,
-- whatever the size of the group.
CREATE TABLE members (
	group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id);

CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	hash    TEXT NOT NULL UNIQUE,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE vars (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE var_history (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL,
	old  TEXT NOT NULL,
	new  TEXT NOT NULL,
	who  TEXT NOT NULL,
	at   INTEGER NOT NULL
);
CREATE INDEX var_history_name ON var_history(name, seq);
`,
	// 2: listings, for paging (store.Tx.ListingVersion) and counting.
	// Users and groups are listed in rowid order; a new row gets a rowid
	// above every other, so only a delete can move a row's position, and
	// each delete bumps the version of its listing. records is the row
	// count, kept by the same triggers, so that totalResults costs one row
	// instead of a walk over an index.
	`
CREATE TABLE listings (
	listing TEXT PRIMARY KEY,
	version INTEGER NOT NULL,
	records INTEGER NOT NULL
);
INSERT INTO listings (listing, version, records) SELECT 'users', 0, COUNT(*) FROM users;
INSERT INTO listings (listing, version, records) SELECT 'groups', 0, COUNT(*) FROM groups;
CREATE TRIGGER users_listing_insert AFTER INSERT ON users BEGIN
	UPDATE listings SET records = records + 1 WHERE listing = 'users';
END;
CREATE TRIGGER users_listing_delete AFTER DELETE ON users BEGIN
	UPDATE listings SET records = records - 1, version = version + 1 WHERE listing = 'users';
END;
CREATE TRIGGER groups_listing_insert AFTER INSERT ON groups BEGIN
	UPDATE listings SET records = records + 1 WHERE listing = 'groups';
END;
CREATE TRIGGER groups_listing_delete AFTER DELETE ON groups BEGIN
	UPDATE listings SET records = records - 1, version = version + 1 WHERE listing = 'groups';
END;
`,
	// 3: Seq is never reused. SQLite gives a new row the largest rowid
	// plus one, so deleting the row with the largest rowid let the next
	// insert take its rowid again, and a cursor walk already past it
	// missed the new row. The store now sets the rowid itself from
	// next_seq, the largest rowid ever given, which the insert triggers
	// keep and nothing lowers.
	`
ALTER TABLE listings ADD COLUMN next_seq INTEGER NOT NULL DEFAULT 0;
UPDATE listings SET next_seq = (SELECT COALESCE(MAX(rowid), 0) FROM users) WHERE listing = 'users';
UPDATE listings SET next_seq = (SELECT COALESCE(MAX(rowid), 0) FROM groups) WHERE listing = 'groups';
DROP TRIGGER users_listing_insert;
CREATE TRIGGER users_listing_insert AFTER INSERT ON users BEGIN
	UPDATE listings SET records = records + 1, next_seq = MAX(next_seq, NEW.rowid) WHERE listing = 'users';
END;
DROP TRIGGER groups_listing_insert;
CREATE TRIGGER groups_listing_insert AFTER INSERT ON groups BEGIN
	UPDATE listings SET records = records + 1, next_seq = MAX(next_seq, NEW.rowid) WHERE listing = 'groups';
END;
`,
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("prepare migrations of %s: %w", s.path, err)
	}
	for {
		done, err := s.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration. It reads the version inside the
// write transaction (BEGIN IMMEDIATE), so two processes opening a new
// database at once cannot both apply the same step.
func (s *Store) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate %s: %w", s.path, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return false, fmt.Errorf("read schema version of %s: %w", s.path, err)
	}
	if current > len(migrations) {
		return false, fmt.Errorf("database %s has schema version %d, newer than this miscim understands (%d): use a newer miscim", s.path, current, len(migrations))
	}
	if current == len(migrations) {
		return true, tx.Commit()
	}
	v := current + 1
	if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
		return false, fmt.Errorf("migrate %s to version %d: %w", s.path, v, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied) VALUES (?, ?)`, v, time.Now().UnixNano()); err != nil {
		return false, fmt.Errorf("migrate %s to version %d: %w", s.path, v, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %s to version %d: %w", s.path, v, err)
	}
	return false, nil
}
