package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miscim/miscim/internal/store"
)

type tx struct {
	ctx      context.Context
	c        *conn
	s        *Store
	readOnly bool
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, errReadOnly
	}
	st, release, err := t.c.statement(query)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := bind(st, args); err != nil {
		return nil, err
	}
	if err := st.Exec(); err != nil {
		return nil, t.mapErr(err)
	}
	return execResult{changes: t.c.db.Changes(), lastID: t.c.db.LastInsertRowID()}, nil
}

func (t *tx) query(query string, args ...any) (*rows, error) {
	st, release, err := t.c.statement(query)
	if err != nil {
		return nil, err
	}
	if err := bind(st, args); err != nil {
		release()
		return nil, err
	}
	return &rows{t: t, st: st, release: release}, nil
}

// readRows calls scan for each row, then closes rows. The error that ended
// the iteration (a cancelled context, I/O, corruption) is returned: a
// caller never gets a short result without an error.
func readRows[R rowIterator](rows R, scan func(R) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// rowIterator is what readRows needs of rows: the store's own, or
// database/sql's for ad-hoc queries.
type rowIterator interface {
	Next() bool
	Err() error
	Close() error
}

// queryRows runs a query and reads its rows with readRows.
func (t *tx) queryRows(query string, scan func(*rows) error, args ...any) error {
	rows, err := t.query(query, args...)
	if err != nil {
		return err
	}
	return readRows(rows, scan)
}

func (t *tx) queryRow(query string, args ...any) (row, error) {
	r, err := t.query(query, args...)
	if err != nil {
		return row{}, err
	}
	return row{r}, nil
}

// checkText refuses to write what PostgreSQL's store cannot hold either
// (store.ErrInvalidText), so that both stores accept the same writes.
func checkText(vals ...string) error {
	for _, s := range vals {
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return store.ErrInvalidText
		}
	}
	return nil
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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- users ----

// userCols ends with the rowid, which is the user's Seq: the listing
// order is the rowid order (store.Tx paging). miscim never runs VACUUM,
// the one operation that may renumber the rowids of a table without an
// INTEGER PRIMARY KEY.
const userCols = `id, COALESCE(external_id, ''), user_name, given_name, family_name, email, email_type, active, user_type, auth_method, source, mi_username, created, modified, version, rowid`

type scanner interface{ Scan(dest ...any) error }

func scanUser(r scanner) (store.User, error) {
	var u store.User
	var active int
	var created, modified int64
	err := r.Scan(&u.ID, &u.ExternalID, &u.UserName, &u.GivenName, &u.FamilyName, &u.Email, &u.EmailType,
		&active, &u.UserType, &u.AuthMethod, &u.Source, &u.MIUsername, &created, &modified, &u.Version, &u.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return u, store.ErrNotFound
	}
	u.Active = active != 0
	u.Created, u.Modified = fromNanos(created), fromNanos(modified)
	return u, err
}

func (t *tx) User(id string) (store.User, error) {
	row, err := t.queryRow(qUserByID, id)
	if err != nil {
		return store.User{}, err
	}
	return scanUser(row)
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
	var out []store.User
	seen := map[string]bool{}
	for _, v := range values {
		if f == store.ByUserName {
			v = store.FoldKey(v)
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		err := t.queryRows(qUsersBy[col], func(r *rows) error {
			u, err := scanUser(r)
			out = append(out, u)
			return err
		}, v)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *tx) ScanUsers(fn func(store.User) error) error {
	return t.queryRows(qScanUsers, func(r *rows) error {
		u, err := scanUser(r)
		if err != nil {
			return err
		}
		return fn(u)
	})
}

func (t *tx) UsersPage(after int64, skip, limit int) ([]store.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	out := make([]store.User, 0, min(limit, 1024))
	err := t.queryRows(qUsersPage, func(r *rows) error {
		u, err := scanUser(r)
		out = append(out, u)
		return err
	}, after, limit, max(skip, 0))
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) ListingVersion(l store.Listing) (int64, error) {
	row, err := t.queryRow(qListingVersion, l.String())
	if err != nil {
		return 0, err
	}
	var v int64
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("read the listing version of %s: %w", l, err)
	}
	return v, nil
}

func (t *tx) count(query string) (int, error) {
	row, err := t.queryRow(query)
	if err != nil {
		return 0, err
	}
	var n int
	return n, row.Scan(&n)
}

func (t *tx) CountUsers() (int, error) { return t.count(qCountUsers) }

func userText(u store.User) error {
	return checkText(u.ID, u.ExternalID, u.UserName, u.GivenName, u.FamilyName, u.Email, u.EmailType, u.UserType, u.AuthMethod, u.Source, u.MIUsername)
}

func (t *tx) InsertUser(u store.User) error {
	if err := userText(u); err != nil {
		return err
	}
	_, err := t.exec(qInsertUser,
		u.ID, nullable(u.ExternalID), u.UserName, store.FoldKey(u.UserName), u.GivenName, u.FamilyName, u.Email, u.EmailType,
		boolInt(u.Active), u.UserType, u.AuthMethod, u.Source, u.MIUsername, nanos(u.Created), nanos(u.Modified), u.Version)
	if isUniqueViolation(err) {
		return store.ErrDuplicate
	}
	return err
}

func (t *tx) UpdateUser(u store.User) error {
	if err := userText(u); err != nil {
		return err
	}
	// Most updates (Entra's PATCHes of a name, of active) keep userName's
	// key and externalId. SQLite rewrites the entries of every index whose
	// column an UPDATE sets, changed or not, so try the update that leaves
	// the indexed columns alone first: one page written instead of three.
	res, err := t.exec(qUpdateUserSameKeys,
		u.UserName, u.GivenName, u.FamilyName, u.Email, u.EmailType,
		boolInt(u.Active), u.UserType, u.AuthMethod, u.Source, u.MIUsername, nanos(u.Modified), u.Version,
		u.ID, store.FoldKey(u.UserName), nullable(u.ExternalID))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	res, err = t.exec(qUpdateUser,
		nullable(u.ExternalID), u.UserName, store.FoldKey(u.UserName), u.GivenName, u.FamilyName, u.Email, u.EmailType,
		boolInt(u.Active), u.UserType, u.AuthMethod, u.Source, u.MIUsername, nanos(u.Modified), u.Version, u.ID)
	if isUniqueViolation(err) {
		return store.ErrDuplicate
	}
	return affected(res, err)
}

func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) DeleteUser(id string) error {
	return affected(t.exec(qDeleteUser, id))
}

// ---- tombstones ----

func (t *tx) Tombstone(id string) (store.User, error) {
	row, err := t.queryRow(qTombstone, id)
	if err != nil {
		return store.User{}, err
	}
	var data string
	if err := row.Scan(&data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
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
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	_, err = t.exec(qPutTombstone, u.ID, string(data), nanos(u.Modified))
	return err
}

func (t *tx) DeleteTombstone(id string) error {
	return affected(t.exec(qDeleteTombstone, id))
}

// ---- groups ----

// groupCols ends with the rowid, the group's Seq (see userCols).
const groupCols = `id, display_name, COALESCE(external_id, ''), description, created, modified, version, rowid`

func scanGroup(r scanner) (store.Group, error) {
	var g store.Group
	var created, modified int64
	err := r.Scan(&g.ID, &g.DisplayName, &g.ExternalID, &g.Description, &created, &modified, &g.Version, &g.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return g, store.ErrNotFound
	}
	g.Created, g.Modified = fromNanos(created), fromNanos(modified)
	return g, err
}

func (t *tx) Group(id string) (store.Group, error) {
	row, err := t.queryRow(qGroupByID, id)
	if err != nil {
		return store.Group{}, err
	}
	return scanGroup(row)
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
	var out []store.Group
	seen := map[string]bool{}
	for _, v := range values {
		if f == store.ByDisplayName {
			v = store.FoldKey(v)
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		err := t.queryRows(qGroupsBy[col], func(r *rows) error {
			g, err := scanGroup(r)
			out = append(out, g)
			return err
		}, v)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *tx) ScanGroups(fn func(store.Group) error) error {
	return t.queryRows(qScanGroups, func(r *rows) error {
		g, err := scanGroup(r)
		if err != nil {
			return err
		}
		return fn(g)
	})
}

func (t *tx) GroupsPage(after int64, skip, limit int) ([]store.Group, error) {
	if limit <= 0 {
		return nil, nil
	}
	out := make([]store.Group, 0, min(limit, 1024))
	err := t.queryRows(qGroupsPage, func(r *rows) error {
		g, err := scanGroup(r)
		out = append(out, g)
		return err
	}, after, limit, max(skip, 0))
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) CountGroups() (int, error) { return t.count(qCountGroups) }

func (t *tx) InsertGroup(g store.Group) error {
	if err := checkText(g.ID, g.DisplayName, g.ExternalID, g.Description); err != nil {
		return err
	}
	_, err := t.exec(qInsertGroup,
		g.ID, g.DisplayName, store.FoldKey(g.DisplayName), nullable(g.ExternalID), g.Description, nanos(g.Created), nanos(g.Modified), g.Version)
	if isUniqueViolation(err) {
		return store.ErrDuplicate
	}
	return err
}

func (t *tx) UpdateGroup(g store.Group) error {
	if err := checkText(g.ID, g.DisplayName, g.ExternalID, g.Description); err != nil {
		return err
	}
	res, err := t.exec(qUpdateGroup,
		g.DisplayName, store.FoldKey(g.DisplayName), nullable(g.ExternalID), g.Description, nanos(g.Modified), g.Version, g.ID)
	if isUniqueViolation(err) {
		return store.ErrDuplicate
	}
	return affected(res, err)
}

func (t *tx) DeleteGroup(id string) error {
	return affected(t.exec(qDeleteGroup, id))
}

// ---- members ----

func (t *tx) AddMembers(groupID string, userIDs []string) (int, error) {
	added := 0
	for _, id := range userIDs {
		// The SELECT makes unknown ids a no-op instead of a foreign-key error.
		res, err := t.exec(qAddMember, groupID, id)
		if err != nil {
			return added, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return added, err
		}
		added += int(n)
	}
	return added, nil
}

func (t *tx) RemoveMembers(groupID string, userIDs []string) (int, error) {
	removed := 0
	for _, id := range userIDs {
		res, err := t.exec(qRemoveMember, groupID, id)
		if err != nil {
			return removed, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return removed, err
		}
		removed += int(n)
	}
	return removed, nil
}

func (t *tx) RemoveAllMembers(groupID string) (int, error) {
	res, err := t.exec(qRemoveAllMembers, groupID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *tx) MembersPage(groupID, after string, limit int) ([]store.Member, error) {
	if limit <= 0 {
		return nil, nil
	}
	out := make([]store.Member, 0, min(limit, 1024))
	err := t.queryRows(qMembersPage, func(r *rows) error {
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
	row, err := t.queryRow(qVar, name)
	if err != nil {
		return "", false, err
	}
	var v string
	if err := row.Scan(&v); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", false, nil
		}
		return "", false, err
	}
	return v, true, nil
}

func (t *tx) Vars() (map[string]string, error) {
	out := map[string]string{}
	err := t.queryRows(qVars, func(r *rows) error {
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
	if err := checkText(c.Name, c.Old, c.New, c.Who); err != nil {
		return err
	}
	var err error
	if c.New == "" {
		_, err = t.exec(qDeleteVar, c.Name)
	} else {
		_, err = t.exec(qUpsertVar, c.Name, c.New)
	}
	if err != nil {
		return err
	}
	_, err = t.exec(qInsertVarHistory, c.Name, c.Old, c.New, c.Who, nanos(c.At))
	return err
}

func (t *tx) VarHistory(name string) ([]store.VarChange, error) {
	q, args := qVarHistoryAll, []any(nil)
	if name != "" {
		q, args = qVarHistoryOf, []any{name}
	}
	var out []store.VarChange
	err := t.queryRows(q, func(r *rows) error {
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

func scanToken(r scanner) (store.Token, error) {
	var tk store.Token
	var created, expires int64
	err := r.Scan(&tk.ID, &tk.UserID, &tk.Hash, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return tk, store.ErrNotFound
	}
	tk.Created, tk.Expires = fromNanos(created), fromNanos(expires)
	return tk, err
}

func (t *tx) InsertToken(tk store.Token) error {
	if err := checkText(tk.ID, tk.UserID, tk.Hash); err != nil {
		return err
	}
	_, err := t.exec(qInsertToken,
		tk.ID, tk.UserID, tk.Hash, nanos(tk.Created), nanos(tk.Expires))
	if isUniqueViolation(err) {
		return store.ErrDuplicate
	}
	return err
}

func (t *tx) TokenByHash(hash string) (store.Token, error) {
	row, err := t.queryRow(qTokenByHash, hash)
	if err != nil {
		return store.Token{}, err
	}
	return scanToken(row)
}

func (t *tx) Tokens() ([]store.Token, error) {
	var out []store.Token
	err := t.queryRows(qTokens, func(r *rows) error {
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
	return affected(t.exec(qDeleteToken, strings.TrimSpace(id)))
}

// Every statement is prepared once per pool when the store opens: the
// write pool has a single connection, so preparing lazily while a
// transaction holds it would deadlock.
var (
	qUserByID   = sqlq(`SELECT ` + userCols + ` FROM users WHERE id = ?`)
	qScanUsers  = sqlq(`SELECT ` + userCols + ` FROM users ORDER BY rowid`)
	qUsersPage  = sqlq(`SELECT ` + userCols + ` FROM users WHERE rowid > ? ORDER BY rowid LIMIT ? OFFSET ?`)
	qCountUsers = sqlq(`SELECT records FROM listings WHERE listing = 'users'`)
	// The rowid (Seq) comes from listings.next_seq, never reused
	// (migration 3).
	qInsertUser = sqlq(`INSERT INTO users (rowid, id, external_id, user_name, user_name_key, given_name, family_name, email, email_type, active, user_type, auth_method, source, mi_username, created, modified, version)
		SELECT next_seq + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM listings WHERE listing = 'users'`)
	qUpdateUser = sqlq(`UPDATE users SET external_id = ?, user_name = ?, user_name_key = ?, given_name = ?, family_name = ?, email = ?, email_type = ?,
		active = ?, user_type = ?, auth_method = ?, source = ?, mi_username = ?, modified = ?, version = ? WHERE id = ?`)
	qUpdateUserSameKeys = sqlq(`UPDATE users SET user_name = ?, given_name = ?, family_name = ?, email = ?, email_type = ?,
		active = ?, user_type = ?, auth_method = ?, source = ?, mi_username = ?, modified = ?, version = ?
		WHERE id = ? AND user_name_key = ? AND external_id IS ?`)
	qDeleteUser   = sqlq(`DELETE FROM users WHERE id = ?`)
	qTombstone    = sqlq(`SELECT data FROM tombstones WHERE id = ?`)
	qPutTombstone = sqlq(`INSERT INTO tombstones (id, data, deleted) VALUES (?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted`)
	qDeleteTombstone = sqlq(`DELETE FROM tombstones WHERE id = ?`)
	qGroupByID       = sqlq(`SELECT ` + groupCols + ` FROM groups WHERE id = ?`)
	qScanGroups      = sqlq(`SELECT ` + groupCols + ` FROM groups ORDER BY rowid`)
	qGroupsPage      = sqlq(`SELECT ` + groupCols + ` FROM groups WHERE rowid > ? ORDER BY rowid LIMIT ? OFFSET ?`)
	qListingVersion  = sqlq(`SELECT version FROM listings WHERE listing = ?`)
	qCountGroups     = sqlq(`SELECT records FROM listings WHERE listing = 'groups'`)
	qInsertGroup     = sqlq(`INSERT INTO groups (rowid, id, display_name, display_name_key, external_id, description, created, modified, version)
		SELECT next_seq + 1, ?, ?, ?, ?, ?, ?, ?, ? FROM listings WHERE listing = 'groups'`)
	qUpdateGroup      = sqlq(`UPDATE groups SET display_name = ?, display_name_key = ?, external_id = ?, description = ?, modified = ?, version = ? WHERE id = ?`)
	qDeleteGroup      = sqlq(`DELETE FROM groups WHERE id = ?`)
	qAddMember        = sqlq(`INSERT OR IGNORE INTO members (group_id, user_id) SELECT ?, id FROM users WHERE id = ?`)
	qRemoveMember     = sqlq(`DELETE FROM members WHERE group_id = ? AND user_id = ?`)
	qRemoveAllMembers = sqlq(`DELETE FROM members WHERE group_id = ?`)
	qMembersPage      = sqlq(`SELECT m.user_id, u.user_name FROM members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? AND m.user_id > ? ORDER BY m.user_id LIMIT ?`)
	qVar              = sqlq(`SELECT value FROM vars WHERE name = ?`)
	qVars             = sqlq(`SELECT name, value FROM vars`)
	qDeleteVar        = sqlq(`DELETE FROM vars WHERE name = ?`)
	qUpsertVar        = sqlq(`INSERT INTO vars (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`)
	qInsertVarHistory = sqlq(`INSERT INTO var_history (name, old, new, who, at) VALUES (?, ?, ?, ?, ?)`)
	qInsertToken      = sqlq(`INSERT INTO tokens (id, user_id, hash, created, expires) VALUES (?, ?, ?, ?, ?)`)
	qTokenByHash      = sqlq(`SELECT id, user_id, hash, created, expires FROM tokens WHERE hash = ?`)
	qTokens           = sqlq(`SELECT id, user_id, hash, created, expires FROM tokens ORDER BY created, id`)
	qDeleteToken      = sqlq(`DELETE FROM tokens WHERE id = ?`)
)

var (
	qUsersBy = map[string]string{
		"id":            sqlq(`SELECT ` + userCols + ` FROM users WHERE id = ? ORDER BY rowid`),
		"user_name_key": sqlq(`SELECT ` + userCols + ` FROM users WHERE user_name_key = ? ORDER BY rowid`),
		"external_id":   sqlq(`SELECT ` + userCols + ` FROM users WHERE external_id = ? ORDER BY rowid`),
	}
	qGroupsBy = map[string]string{
		"id":               sqlq(`SELECT ` + groupCols + ` FROM groups WHERE id = ? ORDER BY rowid`),
		"display_name_key": sqlq(`SELECT ` + groupCols + ` FROM groups WHERE display_name_key = ? ORDER BY rowid`),
		"external_id":      sqlq(`SELECT ` + groupCols + ` FROM groups WHERE external_id = ? ORDER BY rowid`),
	}
	qVarHistoryAll = sqlq(`SELECT name, old, new, who, at FROM var_history ORDER BY seq`)
	qVarHistoryOf  = sqlq(`SELECT name, old, new, who, at FROM var_history WHERE name = ? ORDER BY seq`)
)

// statements lists every query the store runs, for preparation at open.
var statements []string

func sqlq(q string) string {
	statements = append(statements, q)
	return q
}
