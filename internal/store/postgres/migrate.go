package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order, each once, each in its own transaction.
// Append new ones; never edit one that has shipped.
//
// Text that is compared or ordered by the store (ids, the case-folded name
// keys, hashes) is COLLATE "C": byte order, as SQLite's BINARY, whatever
// the database's default collation, so that members come back in the same
// order from both stores.
var migrations = []string{
	// 1: the schema of SQLite's migrations 1 to 3, plus what the shared
	// listing order needs: Seq drawn from a sequence, and the listing
	// counters kept as rows of changes (see listing.go).
	`
CREATE SEQUENCE users_seq AS bigint;
CREATE TABLE users (
	id            text COLLATE "C" PRIMARY KEY,
	seq           bigint NOT NULL,
	external_id   text COLLATE "C",
	user_name     text NOT NULL,
	user_name_key text COLLATE "C" NOT NULL,
	given_name    text NOT NULL DEFAULT '',
	family_name   text NOT NULL DEFAULT '',
	email         text NOT NULL DEFAULT '',
	email_type    text NOT NULL DEFAULT '',
	active        boolean NOT NULL,
	user_type     text NOT NULL,
	auth_method   text NOT NULL,
	source        text NOT NULL,
	mi_username   text NOT NULL,
	created       bigint NOT NULL,
	modified      bigint NOT NULL,
	version       bigint NOT NULL
);
CREATE UNIQUE INDEX users_seq_key ON users(seq);
CREATE UNIQUE INDEX users_user_name_key ON users(user_name_key);
CREATE INDEX users_external_id ON users(external_id);

CREATE TABLE tombstones (
	id      text COLLATE "C" PRIMARY KEY,
	data    text NOT NULL,
	deleted bigint NOT NULL
);

CREATE SEQUENCE groups_seq AS bigint;
CREATE TABLE groups (
	id               text COLLATE "C" PRIMARY KEY,
	seq              bigint NOT NULL,
	display_name     text NOT NULL,
	display_name_key text COLLATE "C" NOT NULL,
	external_id      text COLLATE "C",
	description      text NOT NULL DEFAULT '',
	created          bigint NOT NULL,
	modified         bigint NOT NULL,
	version          bigint NOT NULL
);
CREATE UNIQUE INDEX groups_seq_key ON groups(seq);
CREATE UNIQUE INDEX groups_display_name_key ON groups(display_name_key);
CREATE INDEX groups_external_id ON groups(external_id);

-- One row per membership: adding or removing a member touches one row,
-- whatever the size of the group.
CREATE TABLE members (
	group_id text COLLATE "C" NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	user_id  text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

CREATE TABLE tokens (
	id      text COLLATE "C" PRIMARY KEY,
	user_id text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	hash    text COLLATE "C" NOT NULL UNIQUE,
	created bigint NOT NULL,
	expires bigint NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE vars (
	name  text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);
CREATE TABLE var_history (
	seq  bigserial PRIMARY KEY,
	name text COLLATE "C" NOT NULL,
	old  text NOT NULL,
	new  text NOT NULL,
	who  text NOT NULL,
	at   bigint NOT NULL
);
CREATE INDEX var_history_name ON var_history(name, seq);

-- listings holds, per listing, the version paging relies on and the row
-- count as of the last fold; listing_changes the changes since, one row
-- per insert or delete, appended by the triggers below inside the writing
-- transaction. Appending never waits for another writer, where updating
-- one counter row would make every create of every replica wait for the
-- one before it to commit.
CREATE TABLE listings (
	listing text PRIMARY KEY,
	version bigint NOT NULL,
	records bigint NOT NULL
);
INSERT INTO listings (listing, version, records) VALUES ('users', 0, 0), ('groups', 0, 0);
CREATE TABLE listing_changes (
	listing text NOT NULL,
	version bigint NOT NULL,
	records bigint NOT NULL
);
CREATE INDEX listing_changes_listing ON listing_changes(listing);
CREATE FUNCTION miscim_listing_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO listing_changes (listing, version, records) VALUES (TG_ARGV[0], 0, 1);
	ELSE
		INSERT INTO listing_changes (listing, version, records) VALUES (TG_ARGV[0], 1, -1);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER users_listing AFTER INSERT OR DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION miscim_listing_change('users');
CREATE TRIGGER groups_listing AFTER INSERT OR DELETE ON groups
	FOR EACH ROW EXECUTE FUNCTION miscim_listing_change('groups');
`,
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

// migrationLock is the advisory lock (classid, objid) held while the
// schema is checked and migrated: several replicas starting together
// apply each step once, the others wait and then find it applied.
const migrationLockClass, migrationLockID = 0x6d697363, 1 // "misc"

func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.connectError(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, migrationLockClass, migrationLockID); err != nil {
		return fmt.Errorf("lock the schema of %s for migration: %w", s.where, err)
	}
	defer func() {
		// A lock left behind would be released with the connection; unlock
		// so that the connection goes back to the pool clean.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, migrationLockClass, migrationLockID)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied bigint NOT NULL)`); err != nil {
		return fmt.Errorf("prepare migrations of %s: %w", s.where, err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version of %s: %w", s.where, err)
	}
	if current > len(migrations) {
		return fmt.Errorf("database %s has schema version %d, newer than this miscim understands (%d): use a newer miscim", s.where, current, len(migrations))
	}
	for v := current + 1; v <= len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`, v, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s to version %d: %w", s.where, v, err)
		}
	}
	return nil
}
