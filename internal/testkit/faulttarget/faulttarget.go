// Package faulttarget is a SCIM target for the simulator's tests: the
// real server handler (internal/server) over an embedded engine on a
// database of its own, behind a script of faults — a 409 on a POST, a 429
// with Retry-After, a 500, a slow answer or none at all (a timeout), a 404
// on a GET of a linked id, a connection reset — matched by method, path,
// filter, body and occurrence. It counts everything it received, faulted
// or not, so that a test can check the exact requests a cycle sent, the
// retries and their spacing.
//
// The same target serves in-process (InProcess: the client's in-process
// transport, as the embedded target) and over a socket (Serve: an
// httptest.Server, with a bearer token, as a remote target). Only tests
// use it; it sits beneath internal/testkit, and not in it, because
// testkit is imported by the server's and the engine's own tests.
package faulttarget

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
)

// Token is the bearer token the socket form accepts (the built-in
// administrator, as serve --admin-token-file).
const Token = "fault-target-admin-token"

// Options configure New.
type Options struct {
	// SoftDelete is SCIM_REMOVE_USER_ON_SOFT_DELETE: "Y" or "N" (the
	// default).
	SoftDelete string
	// IDs and Clock make the engine's ids and times deterministic (nil:
	// random ids, the wall clock).
	IDs   func() string
	Clock func() time.Time
}

// Target is the scripted target. It is an http.Handler: the faults, then
// the real handler.
type Target struct {
	// Engine is the engine behind the handler, for what a test does
	// behind provisioning's back (delete a linked user: a real 404).
	Engine *engine.Engine
	// DBPath is the engine's SQLite file.
	DBPath string

	srv  *server.Server
	done chan struct{} // closed at cleanup: hanging answers end

	mu       sync.Mutex
	faults   []*Fault
	received []Request
	gen      int // Forget's count: an answer after it updates nothing
}

// New starts a target on a database in t's temporary directory; it is
// closed when t ends.
func New(t testing.TB, opts Options) *Target {
	t.Helper()
	path := filepath.Join(t.TempDir(), "target.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	var eo []engine.Option
	if opts.IDs != nil {
		eo = append(eo, engine.WithIDGenerator(opts.IDs))
	}
	if opts.Clock != nil {
		eo = append(eo, engine.WithClock(opts.Clock))
	}
	e := engine.New(st, eo...)
	if opts.SoftDelete != "" {
		if _, err := e.SetVar(context.Background(), engine.VarRemoveUserOnSoftDelete, opts.SoftDelete, "faulttarget"); err != nil {
			t.Fatal(err)
		}
	}
	ft := &Target{Engine: e, DBPath: path, srv: server.New(e, server.Options{AdminToken: Token}), done: make(chan struct{})}
	t.Cleanup(func() {
		close(ft.done)
		ft.srv.Close()
		st.Close()
	})
	return ft
}

// InProcess returns a client of the target through the in-process
// transport, as the embedded target's (no socket, no token).
func (ft *Target) InProcess(t testing.TB, opts client.Options) *client.Client {
	t.Helper()
	opts.BaseURL = "http://faulttarget.miscim/scim/v2"
	opts.Transport = client.HandlerTransport(server.LocalAdmin(ft))
	c, err := client.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Serve puts the target behind a loopback listener and returns its SCIM
// base URL (http://127.0.0.1:PORT/scim/v2); requests need Token. The
// server is closed when t ends.
func (ft *Target) Serve(t testing.TB) string {
	t.Helper()
	hs := httptest.NewServer(ft)
	t.Cleanup(hs.Close)
	return hs.URL + "/scim/v2"
}

// Client returns a client of a Serve URL with Token.
func (ft *Target) Client(t testing.TB, baseURL string, opts client.Options) *client.Client {
	t.Helper()
	opts.BaseURL, opts.Token = baseURL, Token
	c, err := client.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Fault is one line of the script: which requests it matches and what
// happens to them instead of (or before) the real answer. The first
// fault whose conditions hold, and that has occurrences left, applies.
type Fault struct {
	// Method matches the request method in any case; "" any.
	Method string
	// Path matches the path below /scim/v2 ("/Users", "/Users/*",
	// "/Groups/2819c223-…"): segments compared in any case, "*" for any
	// one segment; "" any path.
	Path string
	// Filter is a substring of the filter query parameter, decoded
	// (`userName eq "ana@contoso.com"`); Body a substring of the request
	// body; "" either way matches any.
	Filter, Body string

	// Skip lets the first Skip matching requests through; Times then
	// applies the fault to that many (0: to every one after Skip).
	Skip, Times int

	// Status answers with this status and a SCIM error body (Detail,
	// ScimType), or RespBody when set; 0 passes the request to the real
	// handler once Delay has passed.
	Status   int
	Detail   string
	ScimType string
	RespBody string
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string
	// Delay waits this long first (a slow answer; longer than the
	// client's timeout, a timeout).
	Delay time.Duration
	// Hang never answers: the handler waits until the request's context
	// ends, as a client's timeout or cancellation ends it.
	Hang bool
	// Reset drops the connection without an answer: a TCP reset over a
	// socket (SO_LINGER 0), an aborted handler in-process.
	Reset bool

	matched, applied int
}

// Common faults, for the behaviours Entra must handle (entra-behavior
// §4.3). Set Skip and Times on the result for occurrences.

// Conflict is 409 uniqueness, as MI answers a POST of a userName or group
// name that exists.
func Conflict(method, path string) Fault {
	return Fault{Method: method, Path: path, Status: http.StatusConflict, ScimType: "uniqueness", Detail: "the value is already taken"}
}

// TooManyRequests is 429 with Retry-After (seconds, or an HTTP date).
func TooManyRequests(method, path, retryAfter string) Fault {
	return Fault{Method: method, Path: path, Status: http.StatusTooManyRequests, RetryAfter: retryAfter, Detail: "too many requests"}
}

// ServerError is 500 with a SCIM error body.
func ServerError(method, path string) Fault {
	return Fault{Method: method, Path: path, Status: http.StatusInternalServerError, Detail: "internal error"}
}

// NotFound is 404, as for a GET of a linked id deleted in the target.
func NotFound(method, path string) Fault {
	return Fault{Method: method, Path: path, Status: http.StatusNotFound, Detail: "resource not found"}
}

// Slow passes the request through after d.
func Slow(method, path string, d time.Duration) Fault {
	return Fault{Method: method, Path: path, Delay: d}
}

// Hang never answers (the client times out).
func Hang(method, path string) Fault { return Fault{Method: method, Path: path, Hang: true} }

// Reset drops the connection.
func Reset(method, path string) Fault { return Fault{Method: method, Path: path, Reset: true} }

// Script adds faults after those already scripted.
func (ft *Target) Script(faults ...Fault) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for i := range faults {
		f := faults[i]
		ft.faults = append(ft.faults, &f)
	}
}

// ClearScript removes every fault; what was received stays.
func (ft *Target) ClearScript() {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.faults = nil
}

// Request is one request the target received.
type Request struct {
	At     time.Time
	Method string
	// Path is below /scim/v2 ("/Users/42"), Query the raw query, Filter
	// the decoded filter parameter.
	Path, Query, Filter string
	Body                []byte
	// Status is what was answered; 0 when the connection was reset or no
	// answer was given.
	Status int
	// Fault is the index of the scripted fault that applied (in the order
	// Script added them), -1 when none did.
	Fault int
}

// String is "METHOD /path?query", the form tests compare sequences in.
func (r Request) String() string {
	if r.Query == "" {
		return r.Method + " " + r.Path
	}
	q, err := url.QueryUnescape(r.Query)
	if err != nil {
		q = r.Query
	}
	return r.Method + " " + r.Path + "?" + q
}

// Requests returns what was received so far, in order of arrival.
func (ft *Target) Requests() []Request {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return append([]Request(nil), ft.received...)
}

// Count is how many requests matched method and path (as a Fault
// matches them; "" for any).
func (ft *Target) Count(method, path string) int {
	f := Fault{Method: method, Path: path}
	n := 0
	for _, r := range ft.Requests() {
		if f.matches(r.Method, r.Path, r.Filter, r.Body) {
			n++
		}
	}
	return n
}

// Forget clears what was received (between cycles of a test).
func (ft *Target) Forget() {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.received = nil
	ft.gen++
}

// scimPath is the path below /scim/v2, or the path itself for anything
// else (/api, /healthz).
func scimPath(p string) string {
	const prefix = "/scim/v2"
	if len(p) >= len(prefix) && strings.EqualFold(p[:len(prefix)], prefix) {
		if rest := p[len(prefix):]; rest == "" || rest[0] == '/' {
			return rest
		}
	}
	return p
}

func (f *Fault) matches(method, path, filter string, body []byte) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, method) {
		return false
	}
	if f.Path != "" && !pathMatches(f.Path, path) {
		return false
	}
	if f.Filter != "" && !strings.Contains(filter, f.Filter) {
		return false
	}
	return f.Body == "" || bytes.Contains(body, []byte(f.Body))
}

func pathMatches(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && !strings.EqualFold(ps[i], xs[i]) {
			return false
		}
	}
	return true
}

// pick returns the fault that applies to a request, counting it; -1 for
// none.
func (ft *Target) pick(method, path, filter string, body []byte) (*Fault, int) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for i, f := range ft.faults {
		if !f.matches(method, path, filter, body) {
			continue
		}
		f.matched++
		if f.matched <= f.Skip || (f.Times > 0 && f.applied >= f.Times) {
			continue
		}
		f.applied++
		return f, i
	}
	return nil, -1
}

// statusWriter remembers the status the real handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP applies the script, then the real handler.
func (ft *Target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	path := scimPath(r.URL.Path)
	filter := r.URL.Query().Get("filter")
	f, idx := ft.pick(r.Method, path, filter, body)
	// Recorded on arrival, so that a request the client gave up on is
	// there as soon as the client returns; its status when answered.
	ft.mu.Lock()
	n, gen := len(ft.received), ft.gen
	ft.received = append(ft.received, Request{At: time.Now(), Method: r.Method, Path: path, Query: r.URL.RawQuery, Filter: filter, Body: body, Fault: idx})
	ft.mu.Unlock()
	status := 0
	defer func() {
		ft.mu.Lock()
		if gen == ft.gen {
			ft.received[n].Status = status
		}
		ft.mu.Unlock()
	}()
	if f != nil {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-ft.done:
				t.Stop()
				return
			}
		}
		switch {
		case f.Hang:
			select {
			case <-r.Context().Done():
			case <-ft.done:
			}
			return
		case f.Reset:
			reset(w)
			return
		case f.Status != 0:
			status = f.Status
			writeFault(w, f)
			return
		}
	}
	sw := &statusWriter{ResponseWriter: w}
	ft.srv.ServeHTTP(sw, r)
	status = sw.status
	if status == 0 {
		status = http.StatusOK
	}
}

// reset drops the connection: with SO_LINGER 0 the kernel sends a reset
// instead of a FIN, as a crashed proxy does. In-process there is no
// connection; aborting the handler is what the in-process transport
// reports as a lost answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	conn.Close()
}

func writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/scim+json")
	body := []byte(f.RespBody)
	if f.RespBody == "" {
		e := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": strconv.Itoa(f.Status), "detail": f.Detail}
		if f.ScimType != "" {
			e["scimType"] = f.ScimType
		}
		body, _ = json.Marshal(e)
	}
	w.WriteHeader(f.Status)
	if f.Status != http.StatusNoContent {
		_, _ = w.Write(body)
	}
}

// Faults describes the script and how often each fault matched and
// applied, for a failing test's message.
func (ft *Target) Faults() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	var b strings.Builder
	for i, f := range ft.faults {
		fmt.Fprintf(&b, "#%d %s %s filter=%q body=%q skip=%d times=%d: matched %d, applied %d\n", i, f.Method, f.Path, f.Filter, f.Body, f.Skip, f.Times, f.matched, f.applied)
	}
	return b.String()
}
