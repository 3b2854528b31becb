package loadrun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "test-token"

// fakeSCIM keeps users in memory and answers the requests of the
// workloads as a SCIM server does; failDelete makes DELETE answer 500.
type fakeSCIM struct {
	mu         sync.Mutex
	users      map[string]string // id → userName
	names      map[string]bool   // userNames ever created
	seq        int
	failDelete bool
	unauth     int
}

func newFake() *fakeSCIM { return &fakeSCIM{users: map[string]string{}, names: map[string]bool{}} }

func (f *fakeSCIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		f.unauth++
		w.WriteHeader(401)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/scim/v2/Users/")
	switch {
	case r.Method == "GET" && r.URL.Path == "/scim/v2/Users":
		if !strings.HasPrefix(r.URL.Query().Get("filter"), "userName eq ") {
			w.WriteHeader(400)
			return
		}
		_, _ = io.WriteString(w, `{"totalResults":0,"Resources":[]}`)
	case r.Method == "POST" && r.URL.Path == "/scim/v2/Users":
		var u struct{ UserName string }
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil || u.UserName == "" || r.Header.Get("Content-Type") != "application/scim+json" {
			w.WriteHeader(400)
			return
		}
		f.seq++
		id := fmt.Sprint(f.seq)
		f.users[id], f.names[u.UserName] = u.UserName, true
		w.WriteHeader(201)
		_, _ = fmt.Fprintf(w, `{"id":%q}`, id)
	case f.users[id] == "":
		w.WriteHeader(404)
	case r.Method == "GET", r.Method == "PATCH":
		_, _ = io.WriteString(w, `{}`)
	case r.Method == "DELETE" && f.failDelete:
		w.WriteHeader(500)
	case r.Method == "DELETE":
		delete(f.users, id)
		w.WriteHeader(204)
	default:
		w.WriteHeader(405)
	}
}

func serveFake(t *testing.T, f *fakeSCIM) *Driver {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	d := NewDriver(srv.URL+"/scim/v2", testToken, 4)
	t.Cleanup(d.Close)
	return d
}

func mixed(d *Driver, prefix string) func(ctx context.Context, c int, lat *Latencies) {
	return func(ctx context.Context, c int, lat *Latencies) {
		MixedClient(ctx, d, lat, fmt.Sprintf("%s-%d", prefix, c))
	}
}

// TestMixedWorkload: each user goes through the six requests of its life
// cycle, every client under its own names; the run counts and times them
// all, per kind of request too.
func TestMixedWorkload(t *testing.T) {
	f := newFake()
	d := serveFake(t, f)
	r := Measure(d, 200*time.Millisecond, 3, mixed(d, "t"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Errors != 0 || r.FirstErr != "" || f.unauth != 0 {
		t.Fatalf("%d errors (first %q), %d unauthorised", r.Errors, r.FirstErr, f.unauth)
	}
	posts := int64(len(r.ByOp["POST"]))
	if posts == 0 || r.Requests != 6*posts || int64(len(r.Latencies)) != r.Requests {
		t.Fatalf("%d requests, %d latencies for %d users: want six requests a user", r.Requests, len(r.Latencies), posts)
	}
	for op, want := range map[string]int64{"GET filter": 2 * posts, "PATCH": 2 * posts, "DELETE": posts} {
		if got := int64(len(r.ByOp[op])); got != want {
			t.Errorf("%d %s requests, want %d", got, op, want)
		}
	}
	if len(f.users) != 0 || int64(len(f.names)) != posts {
		t.Errorf("%d users left, %d names for %d creations: each user is deleted, each name new", len(f.users), len(f.names), posts)
	}
	for c := range 3 {
		if !f.names[fmt.Sprintf("t-%d-0@example.com", c)] {
			t.Errorf("client %d created no t-%d-0@example.com", c, c)
		}
	}
	if !slices.IsSorted(r.Latencies) || r.RPS() <= 0 {
		t.Errorf("latencies sorted %v, %f req/s", slices.IsSorted(r.Latencies), r.RPS())
	}
}

// TestMeasureCountsFailures: a request answered with another status than
// the workload wants is an error of the run, the first one described; a
// new run starts counting from zero.
func TestMeasureCountsFailures(t *testing.T) {
	f := newFake()
	f.failDelete = true
	d := serveFake(t, f)
	r := Measure(d, 100*time.Millisecond, 2, mixed(d, "f"))
	if r.Errors == 0 || r.Errors != int64(len(r.ByOp["DELETE"])) {
		t.Fatalf("%d errors for %d failed deletes", r.Errors, len(r.ByOp["DELETE"]))
	}
	if !strings.HasPrefix(r.FirstErr, "DELETE /Users/") || !strings.Contains(r.FirstErr, ": 500 (want 204)") {
		t.Errorf("first error %q", r.FirstErr)
	}
	f.mu.Lock()
	f.failDelete = false
	f.mu.Unlock()
	if r := Measure(d, 50*time.Millisecond, 2, mixed(d, "g")); r.Errors != 0 || r.FirstErr != "" {
		t.Errorf("the next run starts with %d errors (%q)", r.Errors, r.FirstErr)
	}
	bad := NewDriver("http://127.0.0.1:1/scim/v2", testToken, 1)
	defer bad.Close()
	if b := bad.Do(nil, "GET", "/Users/x", "", 200); b != nil {
		t.Error("a body from a server that is not there")
	}
	if n, first := bad.Errors(); n != 1 || !strings.HasPrefix(first, "GET /Users/x: ") {
		t.Errorf("unreachable server: %d errors, %q", n, first)
	}
}

// TestReadWorkload: Seed creates the users the read-only workload reads,
// by filter and by id, and nothing else.
func TestReadWorkload(t *testing.T) {
	f := newFake()
	d := serveFake(t, f)
	users, err := Seed(d, 25, 4)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	if len(users) != 25 || len(f.users) != 25 {
		t.Errorf("%d seeded, %d in the server", len(users), len(f.users))
	}
	for _, u := range users {
		if f.users[u.ID] != u.UserName {
			t.Errorf("seeded %+v, the server has %q under that id", u, f.users[u.ID])
		}
	}
	f.mu.Unlock()
	r := Measure(d, 100*time.Millisecond, 2, func(ctx context.Context, c int, lat *Latencies) {
		ReadClient(ctx, d, lat, users, rand.New(rand.NewPCG(1, uint64(c))))
	})
	if r.Errors != 0 || r.Requests == 0 || len(r.ByOp) != 2 || len(r.ByOp["GET filter"]) != len(r.ByOp["GET id"]) {
		t.Errorf("%d requests, %d errors (%s), by kind %d filter / %d id", r.Requests, r.Errors, r.FirstErr, len(r.ByOp["GET filter"]), len(r.ByOp["GET id"]))
	}
	if _, err := Seed(NewDriver(d.Base, "wrong", 1), 2, 1); err == nil || !strings.Contains(err.Error(), "seeding 2 users: POST /Users: 401 (want 201)") {
		t.Errorf("seeding with a wrong token: %v", err)
	}
}

func TestPercentile(t *testing.T) {
	lat := []time.Duration{}
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}} {
		if got := Percentile(lat, tc.p); got != tc.want {
			t.Errorf("p%d = %s, want %s", tc.p, got, tc.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %s", got)
	}
}

// TestStart runs a process that writes its ready file as serve does, and
// one that exits first.
func TestStart(t *testing.T) {
	dir := t.TempDir()
	// Start appends --ready-file FILE: $1 and $2 of the script.
	p, err := Start(dir, "ok", os.Environ(), "sh", "-c", `printf 'http://127.0.0.1:9/scim/v2\n' > "$2"; exec sleep 30`, "sh")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != "http://127.0.0.1:9/scim/v2" {
		t.Errorf("URL %q", p.URL)
	}
	if _, err := os.Stat(filepath.Join(dir, "ok.ready")); err != nil {
		t.Error(err)
	}
	if p.CPU() < 0 {
		t.Error("no CPU time for a running process")
	}
	t0 := time.Now()
	p.Stop()
	if ProcessCPU(p.PID()) != -1 {
		t.Error("CPU time for a process that has exited")
	}
	if time.Since(t0) > 10*time.Second {
		t.Error("Stop did not stop the process")
	}
	t0 = time.Now()
	_, err = Start(dir, "dead", os.Environ(), "sh", "-c", `echo no database >&2; exit 1`, "sh")
	if err == nil || err.Error() != "dead did not become ready: no database\n" {
		t.Errorf("a process that exits: %v", err)
	}
	if time.Since(t0) > 10*time.Second {
		t.Error("Start waited for a process that had exited")
	}
	if _, err := Start(dir, "none", os.Environ(), filepath.Join(dir, "no-such-binary")); err == nil || !strings.HasPrefix(err.Error(), "start none: ") {
		t.Errorf("a binary that is not there: %v", err)
	}
}

func TestProcessCPU(t *testing.T) {
	if ProcessCPU(os.Getpid()) < 0 {
		t.Skip("no /proc here")
	}
	if got := ProcessCPU(-5); got != -1 {
		t.Errorf("ProcessCPU of no process = %s", got)
	}
}

// TestEnv: a measured process sees none of the user's miscim settings and
// keeps its configuration and state in its own directory.
func TestEnv(t *testing.T) {
	t.Setenv("MISCIM_URL", "https://mi.example.com/scim/v2")
	t.Setenv("XDG_CONFIG_HOME", "/home/someone/.config")
	t.Setenv("LOADRUN_KEPT", "yes")
	env := Env("/tmp/run")
	has := func(kv string) bool { return slices.Contains(env, kv) }
	for _, kv := range []string{"HOME=/tmp/run", "XDG_CONFIG_HOME=/tmp/run", "XDG_STATE_HOME=/tmp/run", "XDG_DATA_HOME=/tmp/run", "NO_COLOR=1", "LOADRUN_KEPT=yes"} {
		if !has(kv) {
			t.Errorf("Env lacks %s", kv)
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "MISCIM_") || kv == "XDG_CONFIG_HOME=/home/someone/.config" {
			t.Errorf("Env keeps %s", kv)
		}
	}
}
