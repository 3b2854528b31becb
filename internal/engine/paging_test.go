package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// pagingUsers creates 60 users whose userNames are not in creation order,
// with family names that tie and are sometimes missing, and externalId
// "even" or "odd", so that every listing path has something to get wrong.
func (f *fixture) pagingUsers() []string {
	f.t.Helper()
	var ids []string
	for i := range 60 {
		extra := map[string]any{"externalId": map[bool]string{true: "even", false: "odd"}[i%2 == 0]}
		if i%3 != 0 {
			extra["name"] = map[string]any{"familyName": string(rune('a' + i%5))}
		}
		ids = append(ids, f.createUser(fmt.Sprintf("p%02d", (i*17)%60), extra)["id"].(string))
	}
	return ids
}

func resourceIDs(lr *scim.ListResponse) []string {
	out := make([]string, len(lr.Resources))
	for i, r := range lr.Resources {
		out[i] = r["id"].(string)
	}
	return out
}

// full is the whole answer to q in one page.
func (f *fixture) full(e *Engine, q Query) []string {
	f.t.Helper()
	q.StartIndex, q.Count, q.CountGiven, q.Cursor, q.CursorGiven = 0, MaxResults, true, "", false
	lr, err := e.ListUsers(f.ctx, q)
	if err != nil {
		f.t.Fatalf("list %+v: %v", q, err)
	}
	if lr.TotalResults != len(lr.Resources) {
		f.t.Fatalf("totalResults %d, %d resources", lr.TotalResults, len(lr.Resources))
	}
	return resourceIDs(lr)
}

var pagingQueries = []struct {
	name string
	q    Query
}{
	{"listing order", Query{}},
	{"filter that scans", Query{Filter: `userName sw "p"`}},
	{"filter on an index", Query{Filter: `externalId eq "even"`}},
	{"filter with or on indexes", Query{Filter: `externalId eq "even" or userName eq "p01"`}},
	{"sorted by userName", Query{SortBy: "userName"}},
	{"sorted descending, ties and missing values", Query{SortBy: "name.familyName", SortOrder: "descending"}},
	{"filtered and sorted", Query{Filter: `externalId eq "odd"`, SortBy: "name.familyName"}},
}

// walkIndex reads q page by page by startIndex; between runs before every
// page but the first, and check compares each page with the full list as
// it is at that moment.
func (f *fixture) walkIndex(q Query, count int, between func(page int)) []string {
	f.t.Helper()
	var got []string
	for page, start := 0, 1; ; page++ {
		if page > 0 && between != nil {
			between(page)
		}
		now := f.full(f.e, q)
		q.StartIndex, q.Count, q.CountGiven = start, count, true
		lr := f.list(q)
		ids := resourceIDs(lr)
		if want := now[min(start-1, len(now)):min(start-1+count, len(now))]; !slices.Equal(ids, want) {
			f.t.Fatalf("startIndex %d count %d: %v, want %v", start, count, ids, want)
		}
		if lr.TotalResults != len(now) || lr.StartIndex != start || lr.ItemsPerPage != len(ids) || lr.NextCursor != "" {
			f.t.Fatalf("startIndex %d: totalResults %d startIndex %d itemsPerPage %d nextCursor %q; want %d %d %d none",
				start, lr.TotalResults, lr.StartIndex, lr.ItemsPerPage, lr.NextCursor, len(now), start, len(ids))
		}
		got = append(got, ids...)
		if start+count > lr.TotalResults {
			return got
		}
		start += count
	}
}

// walkCursor reads q page by page by cursor (RFC 9865).
func (f *fixture) walkCursor(q Query, count int, between func(page int)) []string {
	f.t.Helper()
	var got []string
	q.Count, q.CountGiven, q.CursorGiven, q.Cursor = count, true, true, ""
	for page := 0; ; page++ {
		if page > 0 && between != nil {
			between(page)
		}
		lr := f.list(q)
		if lr.StartIndex != 0 || lr.ItemsPerPage != len(lr.Resources) || len(lr.Resources) > count {
			f.t.Fatalf("cursor page %d: startIndex %d itemsPerPage %d, %d resources (count %d)", page, lr.StartIndex, lr.ItemsPerPage, len(lr.Resources), count)
		}
		got = append(got, resourceIDs(lr)...)
		if lr.NextCursor == "" {
			return got
		}
		if page > 200 {
			f.t.Fatal("the cursor walk does not end")
		}
		if len(lr.Resources) != count {
			f.t.Fatalf("cursor page %d has %d resources and a nextCursor: only the last page may be short", page, len(lr.Resources))
		}
		q.Cursor = lr.NextCursor
	}
}

func TestPagesEqualTheFullList(t *testing.T) {
	f := newFixture(t)
	f.pagingUsers()
	for _, tt := range pagingQueries {
		want := f.full(f.e, tt.q)
		if len(want) < 10 {
			t.Fatalf("%s: only %d matches; the test needs more", tt.name, len(want))
		}
		for _, count := range []int{1, 7, len(want), 100} {
			t.Run(fmt.Sprintf("%s/count=%d", tt.name, count), func(t *testing.T) {
				f.t = t
				if got := f.walkIndex(tt.q, count, nil); !slices.Equal(got, want) {
					t.Errorf("by startIndex: %v\nwant %v", got, want)
				}
				if got := f.walkCursor(tt.q, count, nil); !slices.Equal(got, want) {
					t.Errorf("by cursor: %v\nwant %v", got, want)
				}
			})
		}
	}
}

// TestPagingWithDeletesBetweenPages deletes users while a client pages:
// by startIndex every page is still exactly the window of the list as it
// is then (positions shift, as index paging means); by cursor nothing is
// seen twice, nothing that stayed is missed, and the order holds.
func TestPagingWithDeletesBetweenPages(t *testing.T) {
	for _, tt := range pagingQueries {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"startIndex", "cursor"} {
				f := newFixture(t)
				f.pagingUsers()
				before := f.full(f.e, tt.q)
				rng := rand.New(rand.NewPCG(1, uint64(len(tt.name))))
				deleted := map[string]bool{}
				between := func(page int) {
					// Delete one user that is still there, alternately one
					// likely already read and one likely ahead.
					left := f.full(f.e, Query{})
					var id string
					if page%2 == 0 {
						id = left[rng.IntN(len(left)/3+1)]
					} else {
						id = left[len(left)-1-rng.IntN(len(left)/3+1)]
					}
					if err := f.e.DeleteUser(f.ctx, id, ""); err != nil {
						t.Fatal(err)
					}
					deleted[id] = true
				}
				if mode == "startIndex" {
					f.walkIndex(tt.q, 7, between)
					continue
				}
				got := f.walkCursor(tt.q, 7, between)
				seen := map[string]bool{}
				for _, id := range got {
					if seen[id] {
						t.Fatalf("cursor walk: %s seen twice: %v", id, got)
					}
					seen[id] = true
				}
				var stayed []string
				for _, id := range before {
					if !deleted[id] {
						stayed = append(stayed, id)
					}
				}
				var gotStayed []string
				for _, id := range got {
					if !deleted[id] {
						gotStayed = append(gotStayed, id)
					}
				}
				if !slices.Equal(gotStayed, stayed) {
					t.Fatalf("cursor walk with %d deletes: the users that stayed came as\n%v\nwant\n%v", len(deleted), gotStayed, stayed)
				}
			}
		})
	}
}

// TestCursorWalkSeesUsersCreatedMeanwhile: in the listing order a new
// user goes last, so a cursor walk that is under way still reaches it.
func TestCursorWalkSeesUsersCreatedMeanwhile(t *testing.T) {
	f := newFixture(t)
	f.pagingUsers()
	var created []string
	got := f.walkCursor(Query{}, 10, func(page int) {
		created = append(created, f.createUser(fmt.Sprintf("new%d", page), nil)["id"].(string))
	})
	if want := f.full(f.e, Query{}); !slices.Equal(got, want) {
		t.Fatalf("walk %v\nwant %v", got, want)
	}
	if len(created) < 5 || !slices.Equal(got[len(got)-len(created):], created) {
		t.Fatalf("the users created during the walk (%v) are not its end: %v", created, got)
	}
}

// TestPositionCacheIsExact interleaves random startIndex requests with
// creates, updates and deletes, and compares every page with the window of
// the full list read by an engine that has no cache: remembered positions
// must never give another answer than counting from the first user.
func TestPositionCacheIsExact(t *testing.T) {
	f := newFixture(t)
	f.pagingUsers()
	reference := New(f.st)
	rng := rand.New(rand.NewPCG(7, 8))
	start, count := 1, 5
	for step := range 400 {
		all := f.full(reference, Query{})
		switch r := rng.IntN(10); {
		case r == 0 && len(all) > 0:
			if err := f.e.DeleteUser(f.ctx, all[rng.IntN(len(all))], ""); err != nil {
				t.Fatal(err)
			}
			continue
		case r == 1:
			f.createUser(fmt.Sprintf("r%03d", step), nil)
			continue
		case r == 2 && len(all) > 0:
			patch := body(map[string]any{"schemas": []any{scim.PatchOpSchema},
				"Operations": []any{map[string]any{"op": "replace", "path": "name.givenName", "value": fmt.Sprint("g", step)}}})
			if _, err := f.e.PatchUser(f.ctx, all[rng.IntN(len(all))], patch, ""); err != nil {
				t.Fatal(err)
			}
			continue
		case r < 6:
			start += count // mostly a walk, as clients read
		default:
			start, count = 1+rng.IntN(len(all)+3), rng.IntN(12)
		}
		if start > len(all)+1 {
			start = 1
		}
		lr := f.list(Query{StartIndex: start, Count: count, CountGiven: true})
		want := all[min(start-1, len(all)):min(start-1+count, len(all))]
		if got := resourceIDs(lr); !slices.Equal(got, want) || lr.TotalResults != len(all) {
			t.Fatalf("step %d, startIndex %d count %d: %v (total %d), want %v (total %d)", step, start, count, got, lr.TotalResults, want, len(all))
		}
	}
}

// pageReads records how the engine asks the store for pages of users.
type pageReads struct {
	store.Store
	mu    sync.Mutex
	calls []pageCall
	scans int
}

type pageCall struct {
	after       int64
	skip, limit int
}

type pageReadsTx struct {
	store.Tx
	r *pageReads
}

func (p *pageReads) View(ctx context.Context, fn func(store.Tx) error) error {
	return p.Store.View(ctx, func(tx store.Tx) error { return fn(pageReadsTx{tx, p}) })
}

func (p *pageReads) take() []pageCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.calls
	p.calls = nil
	return c
}

func (t pageReadsTx) UsersPage(after int64, skip, limit int) ([]store.User, error) {
	t.r.mu.Lock()
	t.r.calls = append(t.r.calls, pageCall{after, skip, limit})
	t.r.mu.Unlock()
	return t.Tx.UsersPage(after, skip, limit)
}

func (t pageReadsTx) ScanUsers(fn func(store.User) error) error {
	t.r.mu.Lock()
	t.r.scans++
	t.r.mu.Unlock()
	return t.Tx.ScanUsers(fn)
}

// TestPageReadsOnlyItsPage proves the cost model without a clock: a walk by
// startIndex or by cursor asks the store, after the first page, for the
// page alone (a key and no skip), never scans, and after a delete skips
// from the start once before resuming by key.
func TestPageReadsOnlyItsPage(t *testing.T) {
	f := newFixture(t)
	f.pagingUsers()
	reads := &pageReads{Store: f.st}
	e := New(reads)
	list := func(q Query) *scim.ListResponse {
		t.Helper()
		lr, err := e.ListUsers(f.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return lr
	}
	var lastSeq int64
	seqOf := func(id string) int64 {
		var u store.User
		if err := f.st.View(f.ctx, func(tx store.Tx) error { var err error; u, err = tx.User(id); return err }); err != nil {
			t.Fatal(err)
		}
		return u.Seq
	}
	for start := 1; start <= 60; start += 10 {
		lr := list(Query{StartIndex: start, Count: 10, CountGiven: true})
		calls := reads.take()
		want := pageCall{after: lastSeq, skip: 0, limit: 10}
		if len(calls) != 1 || calls[0] != want {
			t.Fatalf("startIndex %d: the store was asked %+v, want %+v", start, calls, want)
		}
		lastSeq = seqOf(resourceIDs(lr)[9])
	}
	// A delete moves positions: the next request counts from the start
	// once, then the walk resumes by key.
	if err := e.DeleteUser(f.ctx, f.full(f.e, Query{})[5], ""); err != nil {
		t.Fatal(err)
	}
	lr := list(Query{StartIndex: 21, Count: 10, CountGiven: true})
	if calls := reads.take(); len(calls) != 1 || calls[0] != (pageCall{after: 0, skip: 19, limit: 11}) {
		t.Fatalf("after a delete: %+v, want one skip of 19 from the start and the record before the page", calls)
	}
	ids := resourceIDs(lr)
	last := seqOf(ids[9])
	list(Query{StartIndex: 31, Count: 10, CountGiven: true})
	if calls := reads.take(); len(calls) != 1 || calls[0] != (pageCall{after: last, skip: 0, limit: 10}) {
		t.Fatalf("the page after: %+v, want a read by key", calls)
	}
	// The same page asked again (a client retrying) is read by key too:
	// the first read learnt where it starts.
	again := list(Query{StartIndex: 21, Count: 10, CountGiven: true})
	calls := reads.take()
	if len(calls) != 1 || calls[0].skip != 0 || calls[0].limit != 10 || !slices.Equal(resourceIDs(again), ids) {
		t.Fatalf("the page asked again: %+v, %v; want a read by key giving %v", calls, resourceIDs(again), ids)
	}
	// By cursor: always by key, one extra row to know whether more follow.
	q := Query{Count: 10, CountGiven: true, CursorGiven: true}
	var after int64
	for q.Cursor != "" || after == 0 {
		lr := list(q)
		if calls := reads.take(); len(calls) != 1 || calls[0] != (pageCall{after: after, skip: 0, limit: 11}) {
			t.Fatalf("cursor page after %d: %+v", after, calls)
		}
		if lr.NextCursor == "" {
			break
		}
		after = seqOf(resourceIDs(lr)[9])
		q.Cursor = lr.NextCursor
	}
	if reads.scans != 0 {
		t.Errorf("unfiltered pages scanned the users %d times", reads.scans)
	}
}

func TestCursorErrors(t *testing.T) {
	f := newFixture(t)
	f.pagingUsers()
	page := func(q Query) string {
		q.Count, q.CountGiven, q.CursorGiven = 5, true, true
		lr := f.list(q)
		if lr.NextCursor == "" {
			t.Fatalf("no nextCursor for %+v", q)
		}
		return lr.NextCursor
	}
	plain := page(Query{})
	sorted := page(Query{SortBy: "userName"})
	filtered := page(Query{Filter: `userName sw "p"`})
	f.createGroup("G1")
	groupLR, err := f.e.ListGroups(f.ctx, Query{Count: 0, CountGiven: true, CursorGiven: true})
	if err != nil || groupLR.NextCursor != "" || groupLR.TotalResults != 1 {
		t.Fatalf("count=0: %+v %v; want totalResults and no nextCursor", groupLR, err)
	}
	f.createGroup("G2")
	gq := Query{Count: 1, CountGiven: true, CursorGiven: true}
	groupLR, err = f.e.ListGroups(f.ctx, gq)
	if err != nil || groupLR.NextCursor == "" {
		t.Fatalf("groups: %+v %v", groupLR, err)
	}
	for _, c := range []string{plain, sorted, filtered, groupLR.NextCursor} {
		for _, ch := range c {
			if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", ch) {
				t.Fatalf("cursor %q holds %q, not an unreserved character (RFC 9865 §2, RFC 3986 §2.3)", c, ch)
			}
		}
	}
	flip := []byte(plain)
	flip[len(flip)/2] ^= 1
	tests := []struct {
		name     string
		q        Query
		scimType string
	}{
		{"garbage", Query{Cursor: "not-a-cursor"}, scim.ScimTypeInvalidCursor},
		{"characters outside base64url", Query{Cursor: "a+b/c=="}, scim.ScimTypeInvalidCursor},
		{"cut short", Query{Cursor: plain[:len(plain)-3]}, scim.ScimTypeInvalidCursor},
		{"one bit changed", Query{Cursor: string(flip)}, scim.ScimTypeInvalidCursor},
		{"very long", Query{Cursor: strings.Repeat("A", 5000)}, scim.ScimTypeInvalidCursor},
		{"of /Groups", Query{Cursor: groupLR.NextCursor}, scim.ScimTypeInvalidCursor},
		{"filter changed", Query{Cursor: filtered, Filter: `userName sw "q"`}, scim.ScimTypeInvalidCursor},
		{"filter dropped", Query{Cursor: filtered}, scim.ScimTypeInvalidCursor},
		{"sort dropped", Query{Cursor: sorted}, scim.ScimTypeInvalidCursor},
		{"sort order changed", Query{Cursor: sorted, SortBy: "userName", SortOrder: "descending"}, scim.ScimTypeInvalidCursor},
		{"with startIndex", Query{Cursor: plain, StartIndex: 6}, scim.ScimTypeInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.CursorGiven, q.Count, q.CountGiven = true, 5, true
			_, err := f.e.ListUsers(f.ctx, q)
			wantSCIMError(t, err, 400, tt.scimType)
		})
	}
	// What stays the same along a walk is accepted: the same parameters
	// spelled differently, another count, another projection.
	for _, q := range []Query{
		{Cursor: sorted, SortBy: " USERNAME ", SortOrder: "Ascending", Count: 50, CountGiven: true},
		{Cursor: filtered, Filter: ` userName sw "p" `},
		{Cursor: " " + plain + " "},
	} {
		q.CursorGiven = true
		if _, err := f.e.ListUsers(f.ctx, q); err != nil {
			t.Errorf("%+v: %v", q, err)
		}
	}
	if _, err := f.e.ListGroups(f.ctx, Query{Cursor: plain, CursorGiven: true}); err == nil {
		t.Error("a cursor of /Users was accepted by /Groups")
	}
}

// TestGroupPagesEqualTheFullList pages groups, members included, by
// startIndex and by cursor.
func TestGroupPagesEqualTheFullList(t *testing.T) {
	f := newFixture(t)
	u := f.grpUsers(4)
	for i := range 23 {
		f.createGroup(fmt.Sprintf("G%02d", (i*5)%23), u[:i%5]...)
	}
	withMembers := scim.Projection{}
	list := func(q Query) *scim.ListResponse {
		t.Helper()
		q.Projection = withMembers
		lr, err := f.e.ListGroups(f.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return lr
	}
	for _, q := range []Query{{}, {SortBy: "displayName", SortOrder: "descending"}, {Filter: `displayName sw "G1"`}} {
		all := list(Query{Filter: q.Filter, SortBy: q.SortBy, SortOrder: q.SortOrder})
		members := map[string]int{}
		for _, g := range all.Resources {
			members[g["id"].(string)] = len(g["members"].([]any))
		}
		var byIndex, byCursor []string
		for start := 1; start <= all.TotalResults; start += 4 {
			q.StartIndex, q.Count, q.CountGiven = start, 4, true
			for _, g := range list(q).Resources {
				if len(g["members"].([]any)) != members[g["id"].(string)] {
					t.Fatalf("group %v: members differ from the full list", g)
				}
				byIndex = append(byIndex, g["id"].(string))
			}
		}
		q.StartIndex, q.CursorGiven, q.Cursor = 0, true, ""
		for {
			lr := list(q)
			byCursor = append(byCursor, resourceIDs(lr)...)
			if q.Cursor = lr.NextCursor; q.Cursor == "" {
				break
			}
		}
		q.CursorGiven = false
		if want := resourceIDs(all); !slices.Equal(byIndex, want) || !slices.Equal(byCursor, want) {
			t.Fatalf("%+v:\nby startIndex %v\nby cursor    %v\nwant         %v", q, byIndex, byCursor, want)
		}
	}
}
