package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/miscim/miscim/internal/scim"
)

func TestPagingOf(t *testing.T) {
	for _, tt := range []struct {
		name string
		spc  scim.Resource
		want Paging
	}{
		{"no document", nil, Paging{PageSize: DefaultPageSize}},
		{"no filter, no pagination", scim.Resource{"patch": map[string]any{"supported": true}}, Paging{PageSize: DefaultPageSize}},
		{"filter.maxResults", scim.Resource{"filter": map[string]any{"supported": true, "maxResults": 250.0}}, Paging{PageSize: 250}},
		{"maxResults as a string", scim.Resource{"filter": map[string]any{"maxResults": " 300 "}}, Paging{PageSize: 300}},
		{"huge maxResults is capped", scim.Resource{"filter": map[string]any{"maxResults": 1e9}}, Paging{PageSize: MaxPageSize}},
		{"zero maxResults", scim.Resource{"filter": map[string]any{"maxResults": 0.0}}, Paging{PageSize: DefaultPageSize}},
		{"negative maxResults", scim.Resource{"filter": map[string]any{"maxResults": -5.0}}, Paging{PageSize: DefaultPageSize}},
		{"fractional maxResults", scim.Resource{"filter": map[string]any{"maxResults": 1.5}}, Paging{PageSize: DefaultPageSize}},
		{"cursor with maxPageSize", scim.Resource{"filter": map[string]any{"maxResults": 1000.0},
			"pagination": map[string]any{"cursor": true, "index": true, "maxPageSize": 50.0}}, Paging{Cursor: true, PageSize: 50}},
		{"cursor without maxPageSize", scim.Resource{"filter": map[string]any{"maxResults": 200.0},
			"pagination": map[string]any{"cursor": true}}, Paging{Cursor: true, PageSize: 200}},
		{"cursor false", scim.Resource{"filter": map[string]any{"maxResults": 200.0},
			"pagination": map[string]any{"cursor": false, "index": true, "maxPageSize": 50.0}}, Paging{PageSize: 200}},
		{"names in another case, booleans as strings", scim.Resource{"Filter": map[string]any{"MaxResults": 120.0},
			"PAGINATION": map[string]any{"Cursor": "True"}}, Paging{Cursor: true, PageSize: 120}},
		{"pagination not an object", scim.Resource{"pagination": "yes"}, Paging{PageSize: DefaultPageSize}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := pagingOf(tt.spc); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// fakeTarget is a SCIM endpoint serving n users with the paging behaviour
// a test picks; it records the query of every list request.
type fakeTarget struct {
	n        int
	spc      string // ServiceProviderConfig body; "" answers 404
	cursor   string // "honour", "ignore", "reject", "stuck"
	mu       sync.Mutex
	queries  []string
	spcReads int
}

func (f *fakeTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/scim/v2/ServiceProviderConfig":
		f.mu.Lock()
		f.spcReads++
		f.mu.Unlock()
		if f.spc == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprint(w, f.spc)
		return
	case "/scim/v2/Users":
	default:
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.RawQuery)
	f.mu.Unlock()
	q := r.URL.Query()
	count, _ := strconv.Atoi(q.Get("count"))
	start, _ := strconv.Atoi(q.Get("startIndex"))
	start = max(start, 1)
	cursor, byCursor := q["cursor"]
	var next string
	if byCursor {
		switch f.cursor {
		case "reject":
			writeJSON(w, 400, &scim.Error{Status: 400, ScimType: scim.ScimTypeInvalidCursor, Detail: "cursors are not supported here"})
			return
		case "honour", "stuck":
			// The cursor is "p" + the next index, opaque enough for a test.
			if c := cursor[0]; c != "" {
				if !strings.HasPrefix(c, "p") {
					writeJSON(w, 400, &scim.Error{Status: 400, ScimType: scim.ScimTypeInvalidCursor, Detail: "bad cursor " + c})
					return
				}
				start, _ = strconv.Atoi(c[1:])
			}
			if start+count <= f.n {
				next = "p" + strconv.Itoa(start+count)
			}
			if f.cursor == "stuck" {
				next = "p1"
			}
		}
	}
	var page []scim.Resource
	for i := start; i < start+count && i <= f.n; i++ {
		page = append(page, scim.Resource{"id": fmt.Sprint("u", i), "userName": fmt.Sprintf("user%d", i)})
	}
	lr := scim.NewListResponse(f.n, start, page)
	if byCursor && f.cursor != "ignore" {
		lr.StartIndex, lr.NextCursor = 0, next
	}
	writeJSON(w, 200, lr)
}

func (f *fakeTarget) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queries
	f.queries = nil
	return q
}

func listIDs(t *testing.T, c *Client, pageSize int) ([]string, error) {
	t.Helper()
	var got []string
	err := c.ListAll(context.Background(), Users, ListParams{}, pageSize, func(r scim.Resource) error {
		got = append(got, r["id"].(string))
		return nil
	})
	return got, err
}

func wantIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint("u", i+1)
	}
	return out
}

const (
	indexOnlySPC = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"filter":{"supported":true,"maxResults":4}}`
	cursorSPC    = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"filter":{"supported":true,"maxResults":100},
		"pagination":{"cursor":true,"index":true,"defaultPaginationMethod":"index","maxPageSize":4}}`
)

// TestListAllPagesAsTheTargetSays: by startIndex in pages of
// filter.maxResults when the target offers no cursors, by cursor in pages
// of pagination.maxPageSize when it does, and sensible fallbacks.
func TestListAllPagesAsTheTargetSays(t *testing.T) {
	for _, tt := range []struct {
		name     string
		target   *fakeTarget
		pageSize int
		want     []string // list queries
	}{
		{"index only, pages of maxResults", &fakeTarget{n: 10, spc: indexOnlySPC},
			0, []string{"count=4&startIndex=1", "count=4&startIndex=5", "count=4&startIndex=9"}},
		{"index only, a smaller page asked for", &fakeTarget{n: 5, spc: indexOnlySPC},
			3, []string{"count=3&startIndex=1", "count=3&startIndex=4"}},
		{"no ServiceProviderConfig: pages of 100", &fakeTarget{n: 150},
			0, []string{"count=100&startIndex=1", "count=100&startIndex=101"}},
		{"cursors", &fakeTarget{n: 10, spc: cursorSPC, cursor: "honour"},
			0, []string{"count=4&cursor=", "count=4&cursor=p5", "count=4&cursor=p9"}},
		{"cursors, exactly full pages", &fakeTarget{n: 8, spc: cursorSPC, cursor: "honour"},
			0, []string{"count=4&cursor=", "count=4&cursor=p5"}},
		{"cursors advertised, cursor ignored: on by startIndex", &fakeTarget{n: 10, spc: cursorSPC, cursor: "ignore"},
			0, []string{"count=4&cursor=", "count=4&startIndex=5", "count=4&startIndex=9"}},
		{"cursors advertised, the empty cursor rejected: by startIndex", &fakeTarget{n: 6, spc: cursorSPC, cursor: "reject"},
			0, []string{"count=4&cursor=", "count=4&startIndex=1", "count=4&startIndex=5"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.target)
			defer srv.Close()
			c := newClient(t, srv.URL+"/scim/v2", nil)
			got, err := listIDs(t, c, tt.pageSize)
			if err != nil {
				t.Fatal(err)
			}
			if want := wantIDs(tt.target.n); !slices.Equal(got, want) {
				t.Errorf("resources %v, want %v", got, want)
			}
			if q := tt.target.take(); !slices.Equal(q, tt.want) {
				t.Errorf("requests %q, want %q", q, tt.want)
			}
			// The ServiceProviderConfig is read once per client.
			if _, err := listIDs(t, c, tt.pageSize); err != nil {
				t.Fatal(err)
			}
			tt.target.mu.Lock()
			reads := tt.target.spcReads
			tt.target.mu.Unlock()
			if reads != 1 {
				t.Errorf("/ServiceProviderConfig read %d times, want once", reads)
			}
		})
	}
}

func TestListAllStuckCursorIsAnError(t *testing.T) {
	target := &fakeTarget{n: 10, spc: cursorSPC, cursor: "stuck"}
	srv := httptest.NewServer(target)
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	_, err := listIDs(t, c, 0)
	if err == nil || !strings.Contains(err.Error(), "same nextCursor twice") {
		t.Fatalf("want an error about a cursor that does not advance, got %v", err)
	}
	if n := len(target.take()); n != 2 {
		t.Errorf("%d requests before giving up, want 2", n)
	}
}

func TestListAllUnreachableTarget(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/scim/v2"
	srv.Close()
	c := newClient(t, base, func(o *Options) { o.Retries = -1 })
	if _, err := listIDs(t, c, 0); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
}

// TestDecodePage reads list answers as servers write them: members in any
// order and case, null where a value may be missing; what is not a
// ListResponse is an error that names the URL.
func TestDecodePage(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		total      int
		next       string
		ids        []string
		early      bool // atResources saw the nextCursor
		bad        bool
	}{
		{"miscim's order", `{"schemas":["x"],"totalResults":3,"itemsPerPage":2,"nextCursor":"c2","Resources":[{"id":"a"},{"id":"b"}]}`,
			3, "c2", []string{"a", "b"}, true, false},
		{"nextCursor after the resources", `{"Resources":[{"id":"a"}],"nextCursor":"c2","totalResults":3}`, 3, "c2", []string{"a"}, false, false},
		{"other case", `{"TOTALRESULTS":1,"resources":[{"id":"a"}],"NextCursor":null}`, 1, "", []string{"a"}, false, false},
		{"no resources member", `{"totalResults":0}`, 0, "", nil, false, false},
		{"null resources", `{"totalResults":0,"Resources":null}`, 0, "", nil, false, false},
		{"an array", `[{"id":"a"}]`, 0, "", nil, false, true},
		{"resources not an array", `{"Resources":{"id":"a"}}`, 0, "", nil, false, true},
		{"cut off", `{"totalResults":2,"Resources":[{"id":"a"},`, 0, "", nil, false, true},
		{"HTML", `<html>login</html>`, 0, "", nil, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tt.body) }))
			defer srv.Close()
			c := newClient(t, srv.URL+"/scim/v2", nil)
			resp, err := c.scimCall(context.Background(), "GET", srv.URL+"/scim/v2/Users", nil, "")
			if err != nil {
				t.Fatal(err)
			}
			early := false
			env, res, err := fetched{url: srv.URL + "/scim/v2/Users", resp: resp}.decode(func(e envelope) { early = e.nextCursor != "" })
			if tt.bad {
				if err == nil || !strings.Contains(err.Error(), "/scim/v2/Users") {
					t.Fatalf("want an error naming the URL, got %v", err)
				}
				return
			}
			var ids []string
			for _, r := range res {
				ids = append(ids, r["id"].(string))
			}
			if err != nil || env.totalResults != tt.total || env.nextCursor != tt.next || !slices.Equal(ids, tt.ids) || early != tt.early {
				t.Fatalf("got %+v %v %v early=%v, want total %d next %q ids %v early=%v", env, ids, err, early, tt.total, tt.next, tt.ids, tt.early)
			}
		})
	}
}
