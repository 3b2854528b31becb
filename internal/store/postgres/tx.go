package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/miscim/miscim/internal/store"
)

type tx struct {
	ctx      context.Context
	tx       pgx.Tx
	readOnly bool
}

// storable reports whether PostgreSQL can hold s as text: valid UTF-8
// without NUL. A lookup by a value it cannot hold finds nothing (no stored
// value equals it) instead of failing; a write of one is refused with
// store.ErrInvalidText.
func storable(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

func (t *tx) exec(query string, args ...any) (pgconn.CommandTag, error) {
	if t.readOnly {
		return pgconn.CommandTag{}, errReadOnly
	}
	for _, a := range args {
		if s, ok := a.(string); ok && !storable(s) {
			return pgconn.CommandTag{}, store.ErrInvalidText
		}
	}
	return t.tx.Exec(t.ctx, query, args...)
}

// readRows runs a query and calls scan for each row. The error that ended
// the iteration (a cancelled context, a lost connection) is returned: a
// caller never gets a short result without an error.
func (t *tx) readRows(query string, scan func(pgx.Rows) error, args ...any) error {
	rows, err := t.tx.Query(t.ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return t.ctx.Err()
}

func nanos(tm time.Time) int64 {
	if tm.IsZero() {
		return 0
	}
	return tm.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// lockForUpdate is the row lock an Update takes on the user or group it
// reads by id (the engine reads a record by id inside a write only to
// change it): a second writer of the same record waits at its first
// statement, then gets a serialization failure and runs again on the new
// version, instead of doing all its work only to fail at the end. NO KEY
// leaves memberships, whose foreign keys lock the key, free to change.
const lockForUpdate = ` FOR NO KEY UPDATE`

// ---- users ----

const userCols = `id, COALESCE(external_id, ''), user_name, given_name, family_name, email, email_type, active, user_type, auth_method, source, mi_username, created, modified, version, seq`

func scanUser(r pgx.Row) (store.User, error) {
	var u store.User
	var created, modified int64
	err := r.Scan(&u.ID, &u.ExternalID, &u.UserName, &u.GivenName, &u.FamilyName, &u.Email, &u.EmailType,
		&u.Active, &u.UserType, &u.AuthMethod, &u.Source, &u.MIUsername, &created, &modified, &u.Version, &u.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, store.ErrNotFound
	}
	u.Created, u.Modified = fromNanos(created), fromNanos(modified)
	return u, err
}

func (t *tx) User(id string) (store.User, error) {
	if !storable(id) {
		return store.User{}, store.ErrNotFound
	}
	q := `SELECT ` + userCols + ` FROM users WHERE id = $1`
	if !t.readOnly {
		q += lockForUpdate
	}
	return scanUser(t.tx.QueryRow(t.ctx, q, id))
}

// keysOf returns the distinct values PostgreSQL can hold, in their order.
func keysOf(values []string, fold bool) []string {
	keys := make([]string, 0, len(values))
	for _, v := range values {
		if fold {
			v = store.FoldKey(v)
		}
		if storable(v) && !slices.Contains(keys, v) {
			keys = append(keys, v)
		}
	}
	return keys
}

// byKeys reads the records whose column equals one of keys, in the order
// SQLite's store gives them: by key, in the order keys were given, then by
// Seq.
func byKeys(table, cols, col string, keys []string) string {
	return `SELECT ` + cols + ` FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n) JOIN ` + table + ` r ON r.` + col + ` = k.key ORDER BY k.n, r.seq`
}

func (t *tx) UsersBy(f store.Field, values []string) ([]store.User, error) {
	var col string
	switch f {
	case store.ByID:
		col = "id"
	case store.ByUserName:
		col = "user_name_key"
	case store.ByExternalID:
		col = "external_id"
	default:
		return nil, fmt.Errorf("store: users cannot be looked up by field %d", f)
	}
	keys := keysOf(values, f == store.ByUserName)
	if len(keys) == 0 {
		return nil, nil
	}
	var out []store.User
	err := t.readRows(byKeys("users", prefixed("r.", userCols), col, keys), func(r pgx.Rows) error {
		u, err := scanUser(r)
		out = append(out, u)
		return err
	}, keys)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// prefixed qualifies each column of a list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(strings.ReplaceAll(cols, "COALESCE(external_id, '')", "COALESCE(external_id)"), ", ")
	for i, p := range parts {
		if p == "COALESCE(external_id)" {
			parts[i] = "COALESCE(" + alias + "external_id, '')"
		} else {
			parts[i] = alias + p
		}
	}
	return strings.Join(parts, ", ")
}

// scanChunk is how many records ScanUsers and ScanGroups read at a time.
// They read by pages and call fn between reads, not while a query's rows
// are open: a connection runs one query at a time, and fn may read (the
// members of each group, for a filter on members).
const scanChunk = 1000

func (t *tx) ScanUsers(fn func(store.User) error) error {
	var after int64
	for {
		page, err := t.UsersPage(after, 0, scanChunk)
		if err != nil {
			return err
		}
		for _, u := range page {
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(page) < scanChunk {
			return t.ctx.Err()
		}
		after = page[len(page)-1].Seq
	}
}

func (t *tx) UsersPage(after int64, skip, limit int) ([]store.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	out := make([]store.User, 0, min(limit, 1024))
	err := t.readRows(`SELECT `+userCols+` FROM users WHERE seq > $1 ORDER BY seq LIMIT $2 OFFSET $3`, func(r pgx.Rows) error {
		u, err := scanUser(r)
		out = append(out, u)
		return err
	}, after, limit, max(skip, 0))
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) CountUsers() (int, error) {
	_, n, err := t.listing(store.UserListing)
	return int(n), err
}

// insertUser draws the user's Seq under the users listing lock (see
// listing.go) and inserts; a conflict on id or userName inserts nothing.
// The FROM clause runs before the target list, so the lock is held before
// nextval draws.
const insertUser = `INSERT INTO users (seq, id, external_id, user_name, user_name_key, given_name, family_name, email, email_type, active, user_type, auth_method, source, mi_username, created, modified, version)
	SELECT nextval('users_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
	FROM (SELECT pg_advisory_xact_lock(` + listingLockClass + `, 'users'::regclass::oid::int)) AS listing_lock
	ON CONFLICT DO NOTHING`

func (t *tx) InsertUser(u store.User) error {
	tag, err := t.exec(insertUser,
		u.ID, nullable(u.ExternalID), u.UserName, store.FoldKey(u.UserName), u.GivenName, u.FamilyName, u.Email, u.EmailType,
		u.Active, u.UserType, u.AuthMethod, u.Source, u.MIUsername, nanos(u.Created), nanos(u.Modified), u.Version)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrDuplicate
	}
	return nil
}

func (t *tx) UpdateUser(u store.User) error {
	tag, err := t.exec(`UPDATE users SET external_id = $1, user_name = $2, user_name_key = $3, given_name = $4, family_name = $5, email = $6, email_type = $7,
		active = $8, user_type = $9, auth_method = $10, source = $11, mi_username = $12, modified = $13, version = $14 WHERE id = $15`,
		nullable(u.ExternalID), u.UserName, store.FoldKey(u.UserName), u.GivenName, u.FamilyName, u.Email, u.EmailType,
		u.Active, u.UserType, u.AuthMethod, u.Source, u.MIUsername, nanos(u.Modified), u.Version, u.ID)
	return affected(tag, err)
}

// affected turns a write's outcome into the store's errors: a unique
// violation is ErrDuplicate, no row touched is ErrNotFound.
func affected(tag pgconn.CommandTag, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeUniqueViolation {
		return store.ErrDuplicate
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) DeleteUser(id string) error {
	if !storable(id) {
		return store.ErrNotFound
	}
	return affected(t.exec(`DELETE FROM users WHERE id = $1`, id))
}

// ---- tombstones ----

func (t *tx) Tombstone(id string) (store.User, error) {
	if !storable(id) {
		return store.User{}, store.ErrNotFound
	}
	var data string
	q := `SELECT data FROM tombstones WHERE id = $1`
	if !t.readOnly {
		q += ` FOR UPDATE`
	}
	if err := t.tx.QueryRow(t.ctx, q, id).Scan(&data); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.User{}, store.ErrNotFound
		}
		return store.User{}, err
	}
	var u store.User
	if err := json.Unmarshal([]byte(data), &u); err != nil {
		return u, fmt.Errorf("tombstone %s is corrupt: %w", id, err)
	}
	return u, nil
}

func (t *tx) PutTombstone(u store.User) error {
	data, err := json.Marshal(u) // escapes NUL: always storable
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO tombstones (id, data, deleted) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted`, u.ID, string(data), nanos(u.Modified))
	return err
}

func (t *tx) DeleteTombstone(id string) error {
	if !storable(id) {
		return store.ErrNotFound
	}
	return affected(t.exec(`DELETE FROM tombstones WHERE id = $1`, id))
}

// ---- groups ----

const groupCols = `id, display_name, COALESCE(external_id, ''), description, created, modified, version, seq`

func scanGroup(r pgx.Row) (store.Group, error) {
	var g store.Group
	var created, modified int64
	err := r.Scan(&g.ID, &g.DisplayName, &g.ExternalID, &g.Description, &created, &modified, &g.Version, &g.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, store.ErrNotFound
	}
	g.Created, g.Modified = fromNanos(created), fromNanos(modified)
	return g, err
}

func (t *tx) Group(id string) (store.Group, error) {
	if !storable(id) {
		return store.Group{}, store.ErrNotFound
	}
	q := `SELECT ` + groupCols + ` FROM groups WHERE id = $1`
	if !t.readOnly {
		q += lockForUpdate
	}
	return scanGroup(t.tx.QueryRow(t.ctx, q, id))
}

func (t *tx) GroupsBy(f store.Field, values []string) ([]store.Group, error) {
	var col string
	switch f {
	case store.ByID:
		col = "id"
	case store.ByDisplayName:
		col = "display_name_key"
	case store.ByExternalID:
		col = "external_id"
	default:
		return nil, fmt.Errorf("store: groups cannot be looked up by field %d", f)
	}
	keys := keysOf(values, f == store.ByDisplayName)
	if len(keys) == 0 {
		return nil, nil
	}
	var out []store.Group
	err := t.readRows(byKeys("groups", prefixed("r.", groupCols), col, keys), func(r pgx.Rows) error {
		g, err := scanGroup(r)
		out = append(out, g)
		return err
	}, keys)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) ScanGroups(fn func(store.Group) error) error {
	var after int64
	for {
		page, err := t.GroupsPage(after, 0, scanChunk)
		if err != nil {
			return err
		}
		for _, g := range page {
			if err := fn(g); err != nil {
				return err
			}
		}
		if len(page) < scanChunk {
			return t.ctx.Err()
		}
		after = page[len(page)-1].Seq
	}
}

func (t *tx) GroupsPage(after int64, skip, limit int) ([]store.Group, error) {
	if limit <= 0 {
		return nil, nil
	}
	out := make([]store.Group, 0, min(limit, 1024))
	err := t.readRows(`SELECT `+groupCols+` FROM groups WHERE seq > $1 ORDER BY seq LIMIT $2 OFFSET $3`, func(r pgx.Rows) error {
		g, err := scanGroup(r)
		out = append(out, g)
		return err
	}, after, limit, max(skip, 0))
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) CountGroups() (int, error) {
	_, n, err := t.listing(store.GroupListing)
	return int(n), err
}

const insertGroup = `INSERT INTO groups (seq, id, display_name, display_name_key, external_id, description, created, modified, version)
	SELECT nextval('groups_seq'), $1, $2, $3, $4, $5, $6, $7, $8
	FROM (SELECT pg_advisory_xact_lock(` + listingLockClass + `, 'groups'::regclass::oid::int)) AS listing_lock
	ON CONFLICT DO NOTHING`

func (t *tx) InsertGroup(g store.Group) error {
	tag, err := t.exec(insertGroup,
		g.ID, g.DisplayName, store.FoldKey(g.DisplayName), nullable(g.ExternalID), g.Description, nanos(g.Created), nanos(g.Modified), g.Version)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrDuplicate
	}
	return nil
}

func (t *tx) UpdateGroup(g store.Group) error {
	return affected(t.exec(`UPDATE groups SET display_name = $1, display_name_key = $2, external_id = $3, description = $4, modified = $5, version = $6 WHERE id = $7`,
		g.DisplayName, store.FoldKey(g.DisplayName), nullable(g.ExternalID), g.Description, nanos(g.Modified), g.Version, g.ID))
}

func (t *tx) DeleteGroup(id string) error {
	if !storable(id) {
		return store.ErrNotFound
	}
	return affected(t.exec(`DELETE FROM groups WHERE id = $1`, id))
}

// ---- members ----

// AddMembers inserts every given id that is a user in one statement; an
// id that is not a user, or already a member, adds nothing. The cost is
// that of the ids given, whatever the size of the group.
func (t *tx) AddMembers(groupID string, userIDs []string) (int, error) {
	ids := keysOf(userIDs, false)
	if len(ids) == 0 || !storable(groupID) {
		return 0, nil
	}
	tag, err := t.exec(`INSERT INTO members (group_id, user_id) SELECT $1, u.id FROM users u WHERE u.id = ANY($2::text[]) ON CONFLICT DO NOTHING`, groupID, ids)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) RemoveMembers(groupID string, userIDs []string) (int, error) {
	ids := keysOf(userIDs, false)
	if len(ids) == 0 || !storable(groupID) {
		return 0, nil
	}
	tag, err := t.exec(`DELETE FROM members WHERE group_id = $1 AND user_id = ANY($2::text[])`, groupID, ids)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) RemoveAllMembers(groupID string) (int, error) {
	if !storable(groupID) {
		return 0, nil
	}
	tag, err := t.exec(`DELETE FROM members WHERE group_id = $1`, groupID)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) MembersPage(groupID, after string, limit int) ([]store.Member, error) {
	if limit <= 0 || !storable(groupID) {
		return nil, nil
	}
	if !storable(after) {
		return nil, fmt.Errorf("store: a members page cannot start after %q", after)
	}
	out := make([]store.Member, 0, min(limit, 1024))
	err := t.readRows(`SELECT m.user_id, u.user_name FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.group_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3`, func(r pgx.Rows) error {
		var m store.Member
		err := r.Scan(&m.UserID, &m.UserName)
		out = append(out, m)
		return err
	}, groupID, after, limit)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- system variables ----

func (t *tx) Var(name string) (string, bool, error) {
	if !storable(name) {
		return "", false, nil
	}
	var v string
	if err := t.tx.QueryRow(t.ctx, `SELECT value FROM vars WHERE name = $1`, name).Scan(&v); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return "", false, nil
		}
		return "", false, err
	}
	return v, true, nil
}

func (t *tx) Vars() (map[string]string, error) {
	out := map[string]string{}
	err := t.readRows(`SELECT name, value FROM vars`, func(r pgx.Rows) error {
		var n, v string
		if err := r.Scan(&n, &v); err != nil {
			return err
		}
		out[n] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) SetVar(c store.VarChange) error {
	var err error
	if c.New == "" {
		_, err = t.exec(`DELETE FROM vars WHERE name = $1`, c.Name)
	} else {
		_, err = t.exec(`INSERT INTO vars (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, c.Name, c.New)
	}
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO var_history (name, old, new, who, at) VALUES ($1, $2, $3, $4, $5)`, c.Name, c.Old, c.New, c.Who, nanos(c.At))
	return err
}

func (t *tx) VarHistory(name string) ([]store.VarChange, error) {
	q, args := `SELECT name, old, new, who, at FROM var_history ORDER BY seq`, []any(nil)
	if name != "" {
		if !storable(name) {
			return nil, nil
		}
		q, args = `SELECT name, old, new, who, at FROM var_history WHERE name = $1 ORDER BY seq`, []any{name}
	}
	var out []store.VarChange
	err := t.readRows(q, func(r pgx.Rows) error {
		var c store.VarChange
		var at int64
		if err := r.Scan(&c.Name, &c.Old, &c.New, &c.Who, &at); err != nil {
			return err
		}
		c.At = fromNanos(at)
		out = append(out, c)
		return nil
	}, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- tokens ----

func scanToken(r pgx.Row) (store.Token, error) {
	var tk store.Token
	var created, expires int64
	err := r.Scan(&tk.ID, &tk.UserID, &tk.Hash, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return tk, store.ErrNotFound
	}
	tk.Created, tk.Expires = fromNanos(created), fromNanos(expires)
	return tk, err
}

func (t *tx) InsertToken(tk store.Token) error {
	tag, err := t.exec(`INSERT INTO tokens (id, user_id, hash, created, expires) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		tk.ID, tk.UserID, tk.Hash, nanos(tk.Created), nanos(tk.Expires))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrDuplicate
	}
	return nil
}

func (t *tx) TokenByHash(hash string) (store.Token, error) {
	if !storable(hash) {
		return store.Token{}, store.ErrNotFound
	}
	return scanToken(t.tx.QueryRow(t.ctx, `SELECT id, user_id, hash, created, expires FROM tokens WHERE hash = $1`, hash))
}

func (t *tx) Tokens() ([]store.Token, error) {
	var out []store.Token
	err := t.readRows(`SELECT id, user_id, hash, created, expires FROM tokens ORDER BY created, id`, func(r pgx.Rows) error {
		tk, err := scanToken(r)
		if err != nil {
			return err
		}
		out = append(out, tk)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) DeleteToken(id string) error {
	id = strings.TrimSpace(id)
	if !storable(id) {
		return store.ErrNotFound
	}
	return affected(t.exec(`DELETE FROM tokens WHERE id = $1`, id))
}
