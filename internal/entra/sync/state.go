package sync

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/simstate"
)

// The state database is the simulator's own, as Entra's provisioning
// service keeps its own (DESIGN §5): the connector space (source anchor ↔
// target id, the last synced snapshot of each object as a digest, the
// values and memberships last exported), the job (its id, the cycle
// counter and watermark, its clock), escrows, quarantine and staged
// deletes. internal/entra/provlog keeps its provisioning logs in the same
// file, in tables of its own (provlog_*). It is one SQLite file in WAL
// mode, its schema versioned by the migrations below.

// migrations are applied in order, each once, in its own transaction.
// Append; never edit one that has shipped.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE sync_job (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	job_id         TEXT NOT NULL,
	target         TEXT NOT NULL,
	mapping_digest INTEGER NOT NULL DEFAULT 0,
	cycles         INTEGER NOT NULL DEFAULT 0,
	watermark      INTEGER NOT NULL DEFAULT 0,
	job_time       INTEGER NOT NULL DEFAULT 0,
	created        INTEGER NOT NULL
);

CREATE TABLE sync_cycles (
	seq      INTEGER PRIMARY KEY,
	id       TEXT NOT NULL,
	kind     TEXT NOT NULL,
	started  INTEGER NOT NULL,
	finished INTEGER NOT NULL DEFAULT 0,
	job_time INTEGER NOT NULL,
	complete INTEGER NOT NULL DEFAULT 0,
	summary  TEXT NOT NULL DEFAULT '{}'
);

-- The connector space: one row per source object the service evaluated.
-- A rowid table: rows are appended in the order objects are first
-- evaluated, and only the key index takes the objectIds' random order (a
-- table keyed by objectId would rewrite a random page per object).
CREATE TABLE sync_objects (
	kind           TEXT NOT NULL,
	source_key     TEXT NOT NULL,
	source_id      TEXT NOT NULL,
	target_id      TEXT NOT NULL DEFAULT '',
	name           TEXT NOT NULL DEFAULT '',
	disabled       INTEGER NOT NULL DEFAULT 0,
	digest         INTEGER NOT NULL DEFAULT 0,
	members_digest INTEGER NOT NULL DEFAULT 0,
	exported       TEXT NOT NULL DEFAULT '',
	cycle          INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX sync_objects_key ON sync_objects(kind, source_key);

-- Memberships as last exported: Entra diffs against these, never against
-- the target (it does not read members back).
CREATE TABLE sync_memberships (
	group_key   TEXT NOT NULL,
	user_key    TEXT NOT NULL,
	user_target TEXT NOT NULL,
	PRIMARY KEY (group_key, user_key)
) WITHOUT ROWID;

CREATE TABLE sync_escrows (
	kind       TEXT NOT NULL,
	source_key TEXT NOT NULL,
	error_code TEXT NOT NULL,
	reason     TEXT NOT NULL,
	failures   INTEGER NOT NULL,
	first      INTEGER NOT NULL,
	last       INTEGER NOT NULL,
	next       INTEGER NOT NULL,
	PRIMARY KEY (kind, source_key)
) WITHOUT ROWID;

CREATE TABLE sync_staged (
	kind       TEXT NOT NULL,
	source_key TEXT NOT NULL,
	name       TEXT NOT NULL,
	action     TEXT NOT NULL,
	cycle      INTEGER NOT NULL,
	PRIMARY KEY (kind, source_key)
) WITHOUT ROWID;

CREATE TABLE sync_quarantine (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	reason       TEXT NOT NULL,
	error        TEXT NOT NULL,
	current_began INTEGER NOT NULL,
	series_began INTEGER NOT NULL,
	series_count INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL
);
`,
}

// State is an open state database.
type State struct {
	db       *sql.DB
	path     string
	job      Job
	prepared [nApplyQueries]*sql.Stmt
}

// Job is the provisioning job's own record.
type Job struct {
	// ID is the job id the logs carry (scim.<hex>.<guid>, the shape of a
	// non-gallery app's job: entra-exports §4.2).
	ID string
	// Target names what the state belongs to: the SCIM base URL, or the
	// embedded database.
	Target        string
	MappingDigest uint64
	// Cycles is the number of cycles started; Watermark the number of the
	// last complete cycle (0: none, so the next is an initial cycle).
	Cycles, Watermark int64
	// Time is the job's clock: when its last cycle ran (see Runner).
	Time    time.Time
	Created time.Time
}

// Quarantine is the job's quarantine (QUAR; Graph synchronizationQuarantine).
type Quarantine struct {
	// Reason is Graph's quarantineReason: EncounteredQuarantineException,
	// EncounteredEscrowProportionThreshold, EncounteredTotalEscrowThreshold,
	// TooManyDeletes …
	Reason string
	Error  string
	// CurrentBegan: this quarantine; SeriesBegan: the first of the series;
	// SeriesCount: cycles run in quarantine; NextAttempt: when the reduced
	// schedule runs the next cycle (job time).
	CurrentBegan, SeriesBegan, NextAttempt time.Time
	SeriesCount                            int
}

// StateError is a state file that cannot be used: the user's to fix
// (--state, --restart).
type StateError struct{ Err error }

func (e *StateError) Error() string { return e.Err.Error() }
func (e *StateError) Unwrap() error { return e.Err }

// OpenState opens or creates the state file at path (simstate.Open: WAL,
// one connection) for target and makes the connector space's tables
// current. A state that belongs to another target is refused: links to
// one target's ids mean nothing to another.
func OpenState(ctx context.Context, path, target string, newID func() string) (*State, error) {
	db, err := simstate.Open(ctx, path)
	if err != nil {
		return nil, &StateError{Err: fmt.Errorf("%w; choose another --state", err)}
	}
	st, err := NewState(ctx, db, path, target, newID)
	if err != nil {
		db.Close()
		return nil, err
	}
	return st, nil
}

// NewState is OpenState on a state database already open; Close closes
// db.
func NewState(ctx context.Context, db *sql.DB, path, target string, newID func() string) (*State, error) {
	if newID == nil {
		newID = randomID
	}
	// A page cache of 64 MiB: the connector space of a 100,000-user tenant
	// and its memberships stay in memory through a cycle.
	if _, err := db.ExecContext(ctx, `PRAGMA cache_size = -65536`); err != nil {
		return nil, &StateError{Err: fmt.Errorf("state file %s: %w", path, err)}
	}
	s := &State{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		return nil, &StateError{Err: fmt.Errorf("state file %s: %w; move it away or choose another --state", path, err)}
	}
	if err := s.loadJob(ctx, target, newID); err != nil {
		return nil, err
	}
	for i, q := range applySQL {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			s.closeStatements()
			return nil, &StateError{Err: fmt.Errorf("state file %s: %w", path, err)}
		}
		s.prepared[i] = st
	}
	return s, nil
}

// CopyState writes a consistent copy of the state file at from to to
// (VACUUM INTO), for a dry run to work on.
func CopyState(ctx context.Context, from, to string) error {
	db, err := simstate.OpenExisting(ctx, from)
	if err != nil {
		return &StateError{Err: err}
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		return &StateError{Err: fmt.Errorf("copy the state file %s: %w", from, err)}
	}
	return nil
}

// DB is the database, for the provisioning-log store's tables.
func (s *State) DB() *sql.DB { return s.db }

// Path is the state file.
func (s *State) Path() string { return s.path }

// Job returns the job record as of the last change.
func (s *State) Job() Job { return s.job }

// Close closes the database.
func (s *State) Close() error {
	s.closeStatements()
	return s.db.Close()
}

func (s *State) closeStatements() {
	for i, st := range s.prepared {
		if st != nil {
			st.Close()
			s.prepared[i] = nil
		}
	}
}

func (s *State) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS sync_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create the migrations table: %w", err)
	}
	var have int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM sync_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("the state was written by a newer miscim (schema %d, this one knows %d)", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sync_migrations (version, applied) VALUES (?, ?)`, v, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

func (s *State) loadJob(ctx context.Context, target string, newID func() string) error {
	var j Job
	var digest, jt, created int64
	err := s.db.QueryRowContext(ctx, `SELECT job_id, target, mapping_digest, cycles, watermark, job_time, created FROM sync_job WHERE id = 1`).
		Scan(&j.ID, &j.Target, &digest, &j.Cycles, &j.Watermark, &jt, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		j = Job{ID: newJobID(newID), Target: target, Created: time.Now().UTC().Truncate(time.Millisecond)}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO sync_job (id, job_id, target, created) VALUES (1, ?, ?, ?)`, j.ID, j.Target, j.Created.UnixMilli()); err != nil {
			return &StateError{Err: fmt.Errorf("state file %s: %w", s.path, err)}
		}
	case err != nil:
		return &StateError{Err: fmt.Errorf("state file %s: %w", s.path, err)}
	default:
		if j.Target != target {
			return &StateError{Err: fmt.Errorf("the state file %s belongs to the target %s, not %s: its links are that target's ids; give this target its own --state, or --restart-full to re-match everything", s.path, j.Target, target)}
		}
		j.MappingDigest = uint64(digest)
		j.Time = fromMillis(jt)
		j.Created = fromMillis(created)
	}
	s.job = j
	return nil
}

// newJobID makes a job id shaped like a non-gallery app's: scim, the
// tenant's id without dashes, a GUID.
func newJobID(newID func() string) string {
	return "scim." + strings.ReplaceAll(newID(), "-", "") + "." + newID()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func kindKey(k mapping.ObjectKind) string { return k.Singular() }

func kindOf(s string) mapping.ObjectKind {
	if s == "group" {
		return mapping.Groups
	}
	return mapping.Users
}

// SourceKey is the connector space's key of an objectId: lower case, as
// Entra compares them.
func SourceKey(objectID string) string { return strings.ToLower(objectID) }

// Entries loads the connector space of one kind, keyed by SourceKey, with
// escrows; Exported is loaded only when withExported. Names are not
// loaded (Name): EntryName reads one where a record needs it.
func (s *State) Entries(ctx context.Context, k mapping.ObjectKind, withExported bool) (map[string]*Entry, error) {
	cols := `source_key, source_id, target_id, disabled, digest, members_digest`
	if withExported {
		cols += `, exported, name`
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM sync_objects WHERE kind = ?`, kindKey(k))
	if err != nil {
		return nil, fmt.Errorf("read the connector space: %w", err)
	}
	defer rows.Close()
	out := map[string]*Entry{}
	for rows.Next() {
		var key string
		var e Entry
		var dis int
		var digest, mdigest int64
		var exported string
		dest := []any{&key, &e.SourceID, &e.TargetID, &dis, &digest, &mdigest}
		if withExported {
			dest = append(dest, &exported, &e.Name)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read the connector space: %w", err)
		}
		e.Kind, e.Disabled, e.Digest, e.MembersDigest = k, dis != 0, uint64(digest), uint64(mdigest)
		if withExported && exported != "" {
			if err := json.Unmarshal([]byte(exported), &e.Exported); err != nil {
				return nil, fmt.Errorf("read the connector space: exported values of %s: %w", e.SourceID, err)
			}
		}
		out[key] = &e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the connector space: %w", err)
	}
	rows.Close()
	esc, err := s.db.QueryContext(ctx, `SELECT source_key, error_code, reason, failures, first, last, next FROM sync_escrows WHERE kind = ?`, kindKey(k))
	if err != nil {
		return nil, fmt.Errorf("read the escrows: %w", err)
	}
	defer esc.Close()
	for esc.Next() {
		var key string
		var es Escrow
		var first, last, next int64
		if err := esc.Scan(&key, &es.ErrorCode, &es.Reason, &es.Failures, &first, &last, &next); err != nil {
			return nil, fmt.Errorf("read the escrows: %w", err)
		}
		es.First, es.Last, es.Next = fromMillis(first), fromMillis(last), fromMillis(next)
		if e := out[key]; e != nil {
			e.Escrow = &es
		}
	}
	return out, esc.Err()
}

// EntryName reads the name an object had when it was last evaluated.
func (s *State) EntryName(ctx context.Context, k mapping.ObjectKind, key string) (string, error) {
	var name string
	err := s.db.QueryRowContext(ctx, `SELECT name FROM sync_objects WHERE kind = ? AND source_key = ?`, kindKey(k), key).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// Memberships loads the exported memberships, by group key.
func (s *State) Memberships(ctx context.Context) (map[string][]MemberRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT group_key, user_key, user_target FROM sync_memberships ORDER BY group_key, user_key`)
	if err != nil {
		return nil, fmt.Errorf("read the exported memberships: %w", err)
	}
	defer rows.Close()
	out := map[string][]MemberRef{}
	for rows.Next() {
		var g string
		var m MemberRef
		if err := rows.Scan(&g, &m.UserKey, &m.TargetID); err != nil {
			return nil, err
		}
		out[g] = append(out[g], m)
	}
	return out, rows.Err()
}

// GroupMembers loads the memberships last exported to one group.
func (s *State) GroupMembers(ctx context.Context, groupKey string) ([]MemberRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_key, user_target FROM sync_memberships WHERE group_key = ? ORDER BY user_key`, groupKey)
	if err != nil {
		return nil, fmt.Errorf("read the exported memberships: %w", err)
	}
	defer rows.Close()
	var out []MemberRef
	for rows.Next() {
		var m MemberRef
		if err := rows.Scan(&m.UserKey, &m.TargetID); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Quarantine returns the job's quarantine, nil when it is not
// quarantined.
func (s *State) Quarantine(ctx context.Context) (*Quarantine, error) {
	var q Quarantine
	var cur, series, next int64
	err := s.db.QueryRowContext(ctx, `SELECT reason, error, current_began, series_began, series_count, next_attempt FROM sync_quarantine WHERE id = 1`).
		Scan(&q.Reason, &q.Error, &cur, &series, &q.SeriesCount, &next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the quarantine: %w", err)
	}
	q.CurrentBegan, q.SeriesBegan, q.NextAttempt = fromMillis(cur), fromMillis(series), fromMillis(next)
	return &q, nil
}

// SetQuarantine records the quarantine (nil lifts it).
func (s *State) SetQuarantine(ctx context.Context, q *Quarantine) error {
	var err error
	if q == nil {
		_, err = s.db.ExecContext(ctx, `DELETE FROM sync_quarantine`)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO sync_quarantine (id, reason, error, current_began, series_began, series_count, next_attempt)
			VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, error = excluded.error,
			current_began = excluded.current_began, series_began = excluded.series_began, series_count = excluded.series_count,
			next_attempt = excluded.next_attempt`, q.Reason, q.Error, millis(q.CurrentBegan), millis(q.SeriesBegan), q.SeriesCount, millis(q.NextAttempt))
	}
	if err != nil {
		return fmt.Errorf("record the quarantine: %w", err)
	}
	return nil
}

// Staged is a removal held back by the deletion threshold.
type Staged struct {
	Kind   mapping.ObjectKind
	Key    string
	Name   string
	Action string
	Cycle  int64
}

// Staged lists the removals staged by the last cycle that staged any.
func (s *State) Staged(ctx context.Context) ([]Staged, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, source_key, name, action, cycle FROM sync_staged ORDER BY kind DESC, name`)
	if err != nil {
		return nil, fmt.Errorf("read the staged deletes: %w", err)
	}
	defer rows.Close()
	var out []Staged
	for rows.Next() {
		var st Staged
		var k string
		if err := rows.Scan(&k, &st.Key, &st.Name, &st.Action, &st.Cycle); err != nil {
			return nil, err
		}
		st.Kind = kindOf(k)
		out = append(out, st)
	}
	return out, rows.Err()
}

// clearStaged forgets the staged removals: the cycle stages none.
func (s *State) clearStaged(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sync_staged`); err != nil {
		return fmt.Errorf("clear the staged deletes: %w", err)
	}
	return nil
}

// Reset is "Restart provisioning" (HOW; QUAR; entra-edge-cases §3, §9):
// the watermark, every object's synced snapshot, the escrows, the
// quarantine, the staged deletes and the exported memberships are
// cleared, so that the next cycle is an initial cycle that evaluates every
// object and adds every membership again. The links are kept — a linked
// object is read by its id again — unless full, Graph's restart with
// resetScope Full, which drops them so that everything is matched again.
// The provisioning logs are kept.
func (s *State) Reset(ctx context.Context, full bool) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := []string{
		`UPDATE sync_job SET watermark = 0, mapping_digest = 0`,
		`UPDATE sync_objects SET digest = 0, members_digest = 0`,
		`DELETE FROM sync_memberships`,
		`DELETE FROM sync_escrows`,
		`DELETE FROM sync_staged`,
		`DELETE FROM sync_quarantine`,
	}
	if full {
		stmts = append(stmts, `DELETE FROM sync_objects`)
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("restart: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	s.job.Watermark, s.job.MappingDigest = 0, 0
	return nil
}

// beginCycle records the start of a cycle and advances the job clock.
func (s *State) beginCycle(ctx context.Context, id, kind string, started, jobTime time.Time, mappingDigest uint64, counts bool) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	seq := s.job.Cycles + 1
	if _, err := tx.ExecContext(ctx, `INSERT INTO sync_cycles (seq, id, kind, started, job_time) VALUES (?, ?, ?, ?, ?)`,
		seq, id, kind, millis(started), millis(jobTime)); err != nil {
		return 0, fmt.Errorf("record the cycle: %w", err)
	}
	md := s.job.MappingDigest
	if counts {
		md = mappingDigest
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sync_job SET cycles = ?, job_time = ?, mapping_digest = ?`, seq, millis(jobTime), int64(md)); err != nil {
		return 0, fmt.Errorf("record the cycle: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("record the cycle: %w", err)
	}
	s.job.Cycles, s.job.Time, s.job.MappingDigest = seq, jobTime, md
	return seq, nil
}

// finishCycle records the end of a cycle; a complete cycle advances the
// watermark.
func (s *State) finishCycle(ctx context.Context, seq int64, finished time.Time, complete, watermark bool, summary any) error {
	b, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	done := 0
	if complete {
		done = 1
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := s.db.ExecContext(ctx, `UPDATE sync_cycles SET finished = ?, complete = ?, summary = ? WHERE seq = ?`, millis(finished), done, string(b), seq); err != nil {
		return fmt.Errorf("record the end of the cycle: %w", err)
	}
	if complete && watermark {
		if _, err := s.db.ExecContext(ctx, `UPDATE sync_job SET watermark = ?`, seq); err != nil {
			return fmt.Errorf("record the watermark: %w", err)
		}
		s.job.Watermark = seq
	}
	return nil
}

// Unit is one object's changes to the connector space, applied
// atomically: an object is either fully recorded as evaluated or not at
// all, so that an interrupted cycle resumes with the objects it had not
// finished.
type Unit struct {
	Kind mapping.ObjectKind
	Key  string
	// Entry is the object's new entry; nil with Forget removes it.
	Entry  *Entry
	Forget bool
	// Exported replaces the exported values when not nil.
	Exported map[string]string
	// Escrow: set (non-nil) or cleared (nil) when SetEscrow.
	SetEscrow bool
	Escrow    *Escrow
	// Membership changes of a group: exported members added and removed,
	// all dropped (the group was deleted), and the members digest, set
	// when SetMembersDigest (the group's membership is in step).
	AddMembers       []MemberRef
	RemoveMembers    []string
	ClearMembers     bool
	SetMembersDigest bool
	MembersDigest    uint64
	// Staged records (or, false, clears) a staged removal.
	SetStaged bool
	Staged    *Staged
	Cycle     int64
}

// Apply writes units in one transaction.
func (s *State) Apply(ctx context.Context, units []Unit) error {
	if len(units) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write the connector space: %w", err)
	}
	defer tx.Rollback()
	st := &stmts{state: s, tx: tx}
	defer st.close()
	for i := range units {
		if err := st.apply(ctx, &units[i]); err != nil {
			return fmt.Errorf("write the connector space: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write the connector space: %w", err)
	}
	return nil
}

// The statements Apply runs, prepared once when the state opens
// (preparing them in every transaction was a third of a small
// transaction's cost).
const (
	qDeleteObject = iota
	qDeleteEscrow
	qUpsertExported
	qUpsertObject
	qUpsertEscrow
	qClearMembers
	qAddMember
	qRemoveMember
	qMembersDigest
	qDeleteStaged
	qUpsertStaged
	nApplyQueries
)

var applySQL = [nApplyQueries]string{
	qDeleteObject:   `DELETE FROM sync_objects WHERE kind = ? AND source_key = ?`,
	qDeleteEscrow:   `DELETE FROM sync_escrows WHERE kind = ? AND source_key = ?`,
	qUpsertExported: `INSERT INTO sync_objects (kind, source_key, source_id, target_id, name, disabled, digest, members_digest, exported, cycle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, source_key) DO UPDATE SET source_id = excluded.source_id, target_id = excluded.target_id, name = excluded.name, disabled = excluded.disabled, digest = excluded.digest, exported = excluded.exported, cycle = excluded.cycle`,
	qUpsertObject:   `INSERT INTO sync_objects (kind, source_key, source_id, target_id, name, disabled, digest, members_digest, cycle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, source_key) DO UPDATE SET source_id = excluded.source_id, target_id = excluded.target_id, name = excluded.name, disabled = excluded.disabled, digest = excluded.digest, cycle = excluded.cycle`,
	qUpsertEscrow:   `INSERT INTO sync_escrows (kind, source_key, error_code, reason, failures, first, last, next) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, source_key) DO UPDATE SET error_code = excluded.error_code, reason = excluded.reason, failures = excluded.failures, first = excluded.first, last = excluded.last, next = excluded.next`,
	qClearMembers:   `DELETE FROM sync_memberships WHERE group_key = ?`,
	qAddMember:      `INSERT INTO sync_memberships (group_key, user_key, user_target) VALUES (?, ?, ?) ON CONFLICT (group_key, user_key) DO UPDATE SET user_target = excluded.user_target`,
	qRemoveMember:   `DELETE FROM sync_memberships WHERE group_key = ? AND user_key = ?`,
	qMembersDigest:  `UPDATE sync_objects SET members_digest = ? WHERE kind = ? AND source_key = ?`,
	qDeleteStaged:   `DELETE FROM sync_staged WHERE kind = ? AND source_key = ?`,
	qUpsertStaged:   `INSERT INTO sync_staged (kind, source_key, name, action, cycle) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, source_key) DO UPDATE SET name = excluded.name, action = excluded.action, cycle = excluded.cycle`,
}

// stmts runs the state's prepared statements in one transaction.
type stmts struct {
	state *State
	tx    *sql.Tx
	inTx  [nApplyQueries]*sql.Stmt
}

func (s *stmts) exec(ctx context.Context, q int, args ...any) error {
	st := s.inTx[q]
	if st == nil {
		// The transaction's connection is the one connection the
		// statement was prepared on, so database/sql reuses it.
		st = s.tx.StmtContext(ctx, s.state.prepared[q])
		s.inTx[q] = st
	}
	_, err := st.ExecContext(ctx, args...)
	return err
}

func (s *stmts) close() {
	for _, st := range s.inTx {
		if st != nil {
			st.Close()
		}
	}
}

func (s *stmts) apply(ctx context.Context, u *Unit) error {
	k := kindKey(u.Kind)
	switch {
	case u.Forget:
		if err := s.exec(ctx, qDeleteObject, k, u.Key); err != nil {
			return err
		}
		if err := s.exec(ctx, qDeleteEscrow, k, u.Key); err != nil {
			return err
		}
	case u.Entry != nil:
		e := u.Entry
		if u.Exported != nil {
			b, err := json.Marshal(u.Exported)
			if err != nil {
				return err
			}
			if err := s.exec(ctx, qUpsertExported,
				k, u.Key, e.SourceID, e.TargetID, e.Name, boolInt(e.Disabled), int64(e.Digest), int64(e.MembersDigest), string(b), u.Cycle); err != nil {
				return err
			}
		} else if err := s.exec(ctx, qUpsertObject,
			k, u.Key, e.SourceID, e.TargetID, e.Name, boolInt(e.Disabled), int64(e.Digest), int64(e.MembersDigest), u.Cycle); err != nil {
			return err
		}
	}
	if u.SetEscrow && !u.Forget {
		if u.Escrow == nil {
			if err := s.exec(ctx, qDeleteEscrow, k, u.Key); err != nil {
				return err
			}
		} else {
			es := u.Escrow
			if err := s.exec(ctx, qUpsertEscrow,
				k, u.Key, es.ErrorCode, es.Reason, es.Failures, millis(es.First), millis(es.Last), millis(es.Next)); err != nil {
				return err
			}
		}
	}
	if u.ClearMembers {
		if err := s.exec(ctx, qClearMembers, u.Key); err != nil {
			return err
		}
	}
	for _, m := range u.AddMembers {
		if err := s.exec(ctx, qAddMember, u.Key, m.UserKey, m.TargetID); err != nil {
			return err
		}
	}
	for _, key := range u.RemoveMembers {
		if err := s.exec(ctx, qRemoveMember, u.Key, key); err != nil {
			return err
		}
	}
	if u.SetMembersDigest {
		if err := s.exec(ctx, qMembersDigest, int64(u.MembersDigest), k, u.Key); err != nil {
			return err
		}
	}
	if u.SetStaged {
		if u.Staged == nil {
			if err := s.exec(ctx, qDeleteStaged, k, u.Key); err != nil {
				return err
			}
		} else if err := s.exec(ctx, qUpsertStaged,
			k, u.Key, u.Staged.Name, u.Staged.Action, u.Staged.Cycle); err != nil {
			return err
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
