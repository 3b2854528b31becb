package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/storetest"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// scanCounter wraps a store and counts full-table scans, so tests can prove
// that indexed filters never scan.
type scanCounter struct {
	store.Store
	mu    sync.Mutex
	scans int
}

type countingTx struct {
	store.Tx
	c *scanCounter
}

func (s *scanCounter) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *scanCounter) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s}) })
}

func (t countingTx) ScanUsers(fn func(store.User) error) error {
	t.c.mu.Lock()
	t.c.scans++
	t.c.mu.Unlock()
	return t.Tx.ScanUsers(fn)
}

func (t countingTx) ScanGroups(fn func(store.Group) error) error {
	t.c.mu.Lock()
	t.c.scans++
	t.c.mu.Unlock()
	return t.Tx.ScanGroups(fn)
}

func (s *scanCounter) reset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.scans
	s.scans = 0
	return n
}

type fixture struct {
	t     testing.TB
	e     *Engine
	clock *testClock
	st    *scanCounter
	raw   store.Store // the store under st, of the kind MISCIM_TEST_STORE names
	ctx   context.Context
	dump  func(testing.TB) string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	raw := storetest.Open(t)
	st := &scanCounter{Store: raw}
	n := 0
	var mu sync.Mutex
	e := New(st, WithClock(clock.now), WithIDGenerator(func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%08x-0000-4000-8000-000000000000", n)
	}))
	return &fixture{t: t, e: e, clock: clock, st: st, raw: raw, ctx: context.Background(), dump: storetest.Dumper(t, raw)}
}

// body renders a JSON body from a Go value or passes a string through.
func body(v any) []byte {
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (f *fixture) createUser(userName string, extra map[string]any) scim.Resource {
	f.t.Helper()
	doc := map[string]any{
		"schemas":  []any{scim.UserSchema},
		"userName": userName,
		"emails":   []any{map[string]any{"value": strings.ToLower(userName) + "@example.com", "type": "work", "primary": true}},
		"active":   true,
	}
	for k, v := range extra {
		doc[k] = v
	}
	r, err := f.e.CreateUser(f.ctx, body(doc))
	if err != nil {
		f.t.Fatalf("create user %s: %v", userName, err)
	}
	return r
}

func (f *fixture) createGroup(name string, members ...string) scim.Resource {
	f.t.Helper()
	list := []any{}
	for _, m := range members {
		list = append(list, map[string]any{"value": m})
	}
	r, err := f.e.CreateGroup(f.ctx, body(map[string]any{"displayName": name, "members": list}))
	if err != nil {
		f.t.Fatalf("create group %s: %v", name, err)
	}
	return r
}

func (f *fixture) user(id string) scim.Resource {
	f.t.Helper()
	r, err := f.e.GetUser(f.ctx, id)
	if err != nil {
		f.t.Fatalf("get user %s: %v", id, err)
	}
	return r
}

func (f *fixture) list(q Query) *scim.ListResponse {
	f.t.Helper()
	lr, err := f.e.ListUsers(f.ctx, q)
	if err != nil {
		f.t.Fatalf("list users %+v: %v", q, err)
	}
	return lr
}

func (f *fixture) memberIDs(groupID string) []string {
	f.t.Helper()
	g, err := f.e.GetGroup(f.ctx, groupID, true)
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, m := range g["members"].([]any) {
		ids = append(ids, m.(map[string]any)["value"].(string))
	}
	return ids
}

// wantSCIMError asserts err is a SCIM error with that status and scimType
// (scimType "" accepts any).
func wantSCIMError(t *testing.T, err error, status int, scimType string) *scim.Error {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("want SCIM error %d %s, got %v", status, scimType, err)
	}
	if se.Status != status || (scimType != "" && se.ScimType != scimType) {
		t.Fatalf("want SCIM error %d %s, got %d %s: %s", status, scimType, se.Status, se.ScimType, se.Detail)
	}
	if se.Detail == "" {
		t.Fatalf("SCIM error %d has no detail", status)
	}
	return se
}

// snapshot captures everything the database holds — every row of every
// table: users, tombstones, groups, members, tokens, variables and their
// history — to prove that a failed request wrote nothing.
func (f *fixture) snapshot() string {
	f.t.Helper()
	return f.dump(f.t)
}

// withoutListingVersions leaves listings.version and listings.next_seq out
// of a snapshot, for a check around a create and a delete of the same
// resource: a delete moves the listing version on, and a create the
// counter Seq is drawn from, which never goes back (paging,
// docs/storage.md), while everything else must be as it was.
func withoutListingVersions(snapshot string) string {
	return storetest.MaskColumn(storetest.MaskColumn(snapshot, "listings", "version"), "listings", "next_seq")
}

func ext(doc scim.Resource) map[string]any {
	return doc[scim.MiscimUserSchema].(map[string]any)
}
