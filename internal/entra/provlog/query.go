package provlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Query selects stored records. Every condition given must hold; a list
// matches any of its values.
type Query struct {
	// Cycles are cycle ids; Latest adds the latest cycle (the one whose
	// first record was stored last). Neither: every cycle.
	Cycles []string
	Latest bool
	// Actions and Statuses match provisioningAction and
	// provisioningStatusInfo.status.
	Actions  []Action
	Statuses []Status
	// Identity matches, case-insensitively and whole, the source or target
	// id, display name or reportable identifier (UPN) of the record
	// (Record.IdentityKeys).
	Identity string
	// Since keeps records whose activityDateTime is at or after it.
	Since time.Time
	// After resumes a query after a record (Page's next cursor).
	After Cursor
	// Limit stops after that many records; 0: all of them.
	Limit int
}

// Cursor is a position in the store: records come in the order they were
// stored, and a query resumes after the cursor it is given.
type Cursor int64

// ErrUnknownCycle is returned for a Query naming a cycle the store does
// not hold (never stored, or pruned by the retention).
var ErrUnknownCycle = errors.New("no provisioning cycle with that id")

// queryChunk is how many records one read of a query returns: the
// results of a large query are read a chunk at a time, each in its own
// short read, so that a reader never holds the database for long.
const queryChunk = 500

// Records iterates over the records q selects, in the order they were
// stored; the first error ends the iteration.
func (s *Store) Records(ctx context.Context, q Query) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		stop := errors.New("stop")
		err := s.scan(ctx, q, func(_ Cursor, doc []byte) error {
			r, err := DecodeRecord(doc)
			if err != nil {
				return err
			}
			if !yield(r, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(Record{}, err)
		}
	}
}

// RawRecords iterates over the records q selects as stored: each one's
// JSON in Graph's shape, as MarshalJSON wrote it, without decoding it
// (what -o json and the JSON Lines form write). The bytes are the
// caller's.
func (s *Store) RawRecords(ctx context.Context, q Query) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		stop := errors.New("stop")
		err := s.scan(ctx, q, func(_ Cursor, doc []byte) error {
			if !yield(doc, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(nil, err)
		}
	}
}

// Page returns at most limit records of q from its After cursor, and the
// cursor to resume from (q.After of the next page); the cursor is 0 when
// no record follows.
func (s *Store) Page(ctx context.Context, q Query, limit int) ([]Record, Cursor, error) {
	if limit <= 0 {
		return nil, 0, fmt.Errorf("page size %d: give a positive number", limit)
	}
	q.Limit = limit + 1 // one more tells whether another page follows
	var out []Record
	var last Cursor
	more := false
	err := s.scan(ctx, q, func(c Cursor, doc []byte) error {
		if len(out) == limit {
			more = true
			return nil
		}
		r, err := DecodeRecord(doc)
		if err != nil {
			return err
		}
		out = append(out, r)
		last = c
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if !more {
		last = 0
	}
	return out, last, nil
}

// scan calls fn with each selected record's cursor and stored JSON.
func (s *Store) scan(ctx context.Context, q Query, fn func(Cursor, []byte) error) error {
	where := []string{"seq > ?"}
	var args []any
	cycles := append([]string(nil), q.Cycles...)
	for _, id := range cycles {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM provlog_cycles WHERE cycle_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("read the provisioning logs: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: %q", ErrUnknownCycle, id)
		}
	}
	if q.Latest {
		c, ok, err := s.Latest(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return nil // no cycle yet: nothing is the latest
		}
		cycles = append(cycles, c.ID)
	}
	in := func(column string, values []string) {
		where = append(where, column+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")+")")
		for _, v := range values {
			args = append(args, v)
		}
	}
	if len(cycles) > 0 {
		in("cycle_id", cycles)
	}
	if len(q.Actions) > 0 {
		in("action", stringsOf(q.Actions))
	}
	if len(q.Statuses) > 0 {
		in("status", stringsOf(q.Statuses))
	}
	if !q.Since.IsZero() {
		where = append(where, "activity >= ?")
		args = append(args, q.Since.UnixNano())
	}
	identity := strings.ToLower(strings.TrimSpace(q.Identity))
	if identity != "" {
		where = append(where, "seq IN (SELECT seq FROM provlog_identities WHERE key = ?)")
		args = append(args, identityHash(identity))
	}
	query := "SELECT seq, doc FROM provlog_records WHERE " + strings.Join(where, " AND ") + " ORDER BY seq LIMIT ?"

	after, left := int64(q.After), q.Limit
	type row struct {
		seq int64
		doc []byte
	}
	chunk := make([]row, 0, queryChunk)
	for {
		n := queryChunk
		if q.Limit > 0 {
			n = min(n, left)
		}
		chunk = chunk[:0]
		err := func() error {
			rows, err := s.db.QueryContext(ctx, query, append(append([]any{after}, args...), n)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.seq, &r.doc); err != nil {
					return err
				}
				chunk = append(chunk, r)
			}
			return rows.Err()
		}()
		if err != nil {
			return fmt.Errorf("read the provisioning logs: %w", err)
		}
		// The rows are closed: fn may take its time, and use the store.
		for _, r := range chunk {
			if identity != "" && !hasIdentity(r.doc, identity) {
				after = r.seq
				continue // a hash collision
			}
			if err := fn(Cursor(r.seq), r.doc); err != nil {
				return err
			}
			after = r.seq
		}
		left -= len(chunk)
		if len(chunk) < n || (q.Limit > 0 && left <= 0) {
			return nil
		}
	}
}

// hasIdentity checks a record found by an identity's hash against the
// identity itself.
func hasIdentity(doc []byte, identity string) bool {
	r, err := DecodeRecord(doc)
	return err == nil && slices.Contains(r.IdentityKeys(), identity)
}

func stringsOf[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// Cycle is one provisioning cycle as stored: its id, the times of its
// first and last records, and its records counted by action and status.
type Cycle struct {
	ID      string    `json:"cycleId"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	Records int       `json:"records"`
	Counts  Counts    `json:"counts"`
}

// Cycles lists the stored cycles, oldest first, with their counts; it
// reads no record.
func (s *Store) Cycles(ctx context.Context) ([]Cycle, error) {
	return s.cycles(ctx, `SELECT cycle_id, started, ended, records FROM provlog_cycles ORDER BY first_seq`)
}

// Latest returns the latest cycle: the one whose first record was stored
// last. ok is false when there is none.
func (s *Store) Latest(ctx context.Context) (c Cycle, ok bool, err error) {
	list, err := s.cycles(ctx, `SELECT cycle_id, started, ended, records FROM provlog_cycles ORDER BY first_seq DESC LIMIT 1`)
	if err != nil || len(list) == 0 {
		return Cycle{}, false, err
	}
	return list[0], true, nil
}

func (s *Store) cycles(ctx context.Context, query string) ([]Cycle, error) {
	var out []Cycle
	err := func() error {
		rows, err := s.db.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Cycle
			var started, ended int64
			if err := rows.Scan(&c.ID, &started, &ended, &c.Records); err != nil {
				return err
			}
			c.Started, c.Ended = time.Unix(0, started).UTC(), time.Unix(0, ended).UTC()
			c.Counts = Counts{}
			out = append(out, c)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("read the provisioning cycles: %w", err)
	}
	for i := range out {
		if err := s.counts(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) counts(ctx context.Context, c *Cycle) error {
	rows, err := s.db.QueryContext(ctx, `SELECT action, status, records FROM provlog_counts WHERE cycle_id = ?`, c.ID)
	if err != nil {
		return fmt.Errorf("read the provisioning cycles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, st string
		var n int
		if err := rows.Scan(&a, &st, &n); err != nil {
			return fmt.Errorf("read the provisioning cycles: %w", err)
		}
		c.Counts[Key{Action(a), Status(st)}] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the provisioning cycles: %w", err)
	}
	return nil
}
