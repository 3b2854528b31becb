package sync

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/reqlog"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
	"github.com/miscim/miscim/internal/testkit/faulttarget"
)

// The end-to-end harness: the embedded engine behind the real HTTP
// handler, with its request logger on, as `miscim simulate` runs against
// it; each cycle's requests are read back from the request log the
// target wrote (internal/reqlog), so that what the tests check is what
// reached the target.

// memSink keeps the records of a run (the provisioning-log store's
// stand-in in these tests).
type memSink struct {
	mu      gosync.Mutex
	records []provlog.Record
}

func (s *memSink) Add(_ context.Context, r provlog.Record) error {
	s.mu.Lock()
	s.records = append(s.records, r)
	s.mu.Unlock()
	return nil
}

// find returns the record of an object by its source display name.
func (s *memSink) find(t testing.TB, name string) provlog.Record {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []provlog.Record
	for _, r := range s.records {
		if r.SourceIdentity.DisplayName == name {
			found = append(found, r)
		}
	}
	if len(found) == 0 {
		t.Fatalf("no record of %s in %d records", name, len(s.records))
	}
	return found[len(found)-1]
}

// clock is a controllable clock: every reading advances it a
// millisecond, so that record durations are stable.
type clock struct {
	mu sync0
	t  time.Time
}

type sync0 = gosync.Mutex

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t      *testing.T
	dir    string
	st     *sqlite.Store
	e      *engine.Engine
	state  *State
	clock  *clock
	sink   *memSink
	n      int
	ids    int
	idMu   gosync.Mutex
	policy Policy
	tenant string
	mapp   *mapping.Mapping
	// ctx is the context of the cycles (default Background).
	ctx context.Context
	// timeout is the client's per-request timeout (default 5s).
	timeout time.Duration
	// ft, when set, is the target instead of the request-logged engine:
	// internal/testkit/faulttarget, with a script of faults; it records
	// every request it receives, faulted or not.
	ft *faulttarget.Target
}

// newFaultHarness is a harness whose target is a fault target.
func newFaultHarness(t *testing.T, softDeleteMode string) *harness {
	t.Helper()
	h := newHarness(t, softDeleteMode)
	h.ft = faulttarget.New(t, faulttarget.Options{SoftDelete: softDeleteMode})
	h.e = h.ft.Engine
	return h
}

func newHarness(t *testing.T, softDeleteMode string) *harness {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "engine.db"), sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := engine.New(st)
	ctx := context.Background()
	if _, err := e.SetVar(ctx, engine.VarRequestLogger, "Y", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SetVar(ctx, engine.VarRemoveUserOnSoftDelete, softDeleteMode, "test"); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: dir, st: st, e: e, clock: &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, sink: &memSink{}, mapp: mapping.Default()}
	state, err := OpenState(ctx, filepath.Join(dir, "state.db"), target.EmbeddedBaseURL, h.newID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { state.Close() })
	h.state = state
	return h
}

// newID gives deterministic ids.
func (h *harness) newID() string {
	h.idMu.Lock()
	defer h.idMu.Unlock()
	h.ids++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", h.ids)
}

// setTenant writes the tenant the next cycles read.
func (h *harness) setTenant(yaml string) {
	h.t.Helper()
	p := filepath.Join(h.dir, "tenant.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.tenant = p
}

func (h *harness) mapper() *mapping.Mapper {
	h.t.Helper()
	tn, err := tenant.Load(h.tenant)
	if err != nil {
		h.t.Fatal(err)
	}
	mp, err := mapping.New(tn, h.mapp, mapping.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	return mp
}

// cycleRun is one cycle as the target saw it.
type cycleRun struct {
	res  *Result
	err  error
	reqs []reqlog.Exchange
}

// lines renders the requests one per line: METHOD path, then the body.
func (c *cycleRun) lines() []string {
	var out []string
	for _, x := range c.reqs {
		l := x.Method + " " + guidRe.ReplaceAllString(strings.TrimPrefix(x.Target, "/scim/v2"), "GUID")
		if len(x.RequestBody) > 0 {
			l += " " + string(x.RequestBody)
		}
		out = append(out, l)
	}
	return out
}

func (h *harness) requestTimeout() time.Duration {
	if h.timeout > 0 {
		return h.timeout
	}
	return 5 * time.Second
}

// run runs one cycle (or, with ref, provisioning on demand).
func (h *harness) run(ref string, adjust ...func(*Options)) *cycleRun {
	h.t.Helper()
	h.n++
	logDir := filepath.Join(h.dir, fmt.Sprintf("log%02d", h.n))
	var c *client.Client
	var srv *server.Server
	var err error
	if h.ft != nil {
		c = h.ft.InProcess(h.t, client.Options{Retries: -1, Timeout: h.requestTimeout()})
	} else {
		srv = server.New(h.e, server.Options{LogDir: logDir})
		c, err = client.New(client.Options{BaseURL: target.EmbeddedBaseURL, Transport: client.HandlerTransport(server.LocalAdmin(srv)), Retries: -1, Timeout: h.requestTimeout()})
		if err != nil {
			h.t.Fatal(err)
		}
	}
	opts := Options{
		Client: c, State: h.state, Mapper: h.mapper(), Sink: h.sink, Policy: h.policy, Concurrency: 1,
		Now: h.clock.now, NewID: h.newID, Sleep: func(context.Context, time.Duration) error { return nil },
	}
	for _, a := range adjust {
		a(&opts)
	}
	ctx := h.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	var res *Result
	if ref != "" {
		res, err = RunOnDemand(ctx, opts, ref)
	} else {
		res, err = Run(ctx, opts)
	}
	cr := &cycleRun{res: res, err: err}
	if h.ft != nil {
		for _, r := range h.ft.Requests() {
			x := reqlog.Exchange{Method: r.Method, Target: r.Path, RequestBody: r.Body, Status: r.Status}
			if r.Query != "" {
				x.Target += "?" + r.Query
			}
			cr.reqs = append(cr.reqs, x)
		}
		h.ft.Forget()
		return cr
	}
	if err := srv.Close(); err != nil {
		h.t.Fatal(err)
	}
	if _, serr := os.Stat(logDir); serr == nil {
		set, rerr := reqlog.Read([]string{logDir})
		if rerr != nil {
			h.t.Fatal(rerr)
		}
		cr.reqs = set.Exchanges
	}
	return cr
}

// countLines counts the cycle's requests that start with prefix.
func (h *harness) countLines(cr *cycleRun, prefix string) int {
	n := 0
	for _, l := range cr.lines() {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// mustRun runs a cycle that must not fail.
func (h *harness) mustRun(adjust ...func(*Options)) *cycleRun {
	h.t.Helper()
	cr := h.run("", adjust...)
	if cr.err != nil {
		h.t.Fatalf("cycle %d: %v", h.n, cr.err)
	}
	return cr
}

// user reads a user from the engine by userName (nil when SCIM does not
// find it).
func (h *harness) user(userName string) scim.Resource {
	h.t.Helper()
	lr, err := h.e.ListUsers(context.Background(), engine.Query{Filter: "userName eq " + scim.QuoteString(userName)})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(lr.Resources) == 0 {
		return nil
	}
	return lr.Resources[0]
}

func (h *harness) userByID(id string) (scim.Resource, error) {
	return h.e.GetUser(context.Background(), id)
}

func (h *harness) group(name string) scim.Resource {
	h.t.Helper()
	lr, err := h.e.ListGroups(context.Background(), engine.Query{Filter: "displayName eq " + scim.QuoteString(name)})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(lr.Resources) == 0 {
		return nil
	}
	g, err := h.e.GetGroup(context.Background(), lr.Resources[0]["id"].(string), true)
	if err != nil {
		h.t.Fatal(err)
	}
	return g
}

// memberNames lists a group's members by userName.
func (h *harness) memberNames(name string) []string {
	h.t.Helper()
	g := h.group(name)
	if g == nil {
		h.t.Fatalf("no group %s", name)
	}
	var out []string
	ms, _ := g["members"].([]any)
	for _, m := range ms {
		out = append(out, m.(map[string]any)["display"].(string))
	}
	slices.Sort(out)
	return out
}

// wantLines compares requests, with ids written as <id:userName> or
// <gid:group name> replaced by the engine's ids.
func (h *harness) wantLines(got []string, want ...string) {
	h.t.Helper()
	for i := range want {
		want[i] = h.expand(want[i])
	}
	if !slices.Equal(got, want) {
		h.t.Errorf("requests differ\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func (h *harness) expand(s string) string {
	for {
		i := strings.Index(s, "<")
		j := strings.Index(s, ">")
		if i < 0 || j < i {
			return s
		}
		ref := s[i+1 : j]
		var id string
		switch {
		case strings.HasPrefix(ref, "id:"):
			u := h.userAnyState(ref[3:])
			id = u
		case strings.HasPrefix(ref, "gid:"):
			g := h.group(ref[4:])
			if g == nil {
				h.t.Fatalf("no group %s", ref[4:])
			}
			id = g["id"].(string)
		case strings.HasPrefix(ref, "link:"):
			id = h.link(mapping.Users, ref[5:])
		case strings.HasPrefix(ref, "glink:"):
			id = h.link(mapping.Groups, ref[6:])
		default:
			return s
		}
		s = s[:i] + id + s[j+1:]
	}
}

// userAnyState finds a user's id by userName, or from the connector
// space when the engine no longer shows it.
func (h *harness) userAnyState(userName string) string {
	if u := h.user(userName); u != nil {
		return u["id"].(string)
	}
	h.t.Fatalf("no user %s in the engine", userName)
	return ""
}

// link is the target id the connector space holds for an objectId.
func (h *harness) link(k mapping.ObjectKind, objectID string) string {
	h.t.Helper()
	es, err := h.state.Entries(context.Background(), k, false)
	if err != nil {
		h.t.Fatal(err)
	}
	e := es[SourceKey(objectID)]
	if e == nil {
		h.t.Fatalf("no connector space entry for %s", objectID)
	}
	return e.TargetID
}

// guidRe matches the harness's ids, which only the probes send.
var guidRe = regexp.MustCompile(`00000000-0000-4000-8000-[0-9]{12}`)

// The cycle's probes as lines shows them.
const (
	userProbe  = "GET /Users?filter=userName%20eq%20%22GUID%22"
	groupProbe = "GET /Groups?excludedAttributes=members&filter=displayName%20eq%20%22GUID%22"
)

func count(res *Result, a provlog.Action, s provlog.Status) int { return res.Count(a, s) }
