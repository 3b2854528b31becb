package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/store/storetest"
)

// The real thing: `miscim serve` processes on one database, behind
// Debian's haproxy with the configuration of docs/deploy/haproxy.cfg.

const replicaToken = "replica-test-token"

// buildMiscim builds the binary under test into dir.
func buildMiscim(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "miscim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// replica is a running serve process.
type replica struct {
	name   string
	base   string // SCIM base URL
	cmd    *exec.Cmd
	stderr *lockedBuffer
	logDir string
}

// startServe starts `miscim serve` on db as the named replica and waits
// for it to listen.
func startServe(t *testing.T, bin, dir, name, db string, extra ...string) *replica {
	t.Helper()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(replicaToken), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, stderr: &lockedBuffer{}, logDir: filepath.Join(dir, "log-"+name)}
	ready := filepath.Join(dir, name+".ready")
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--ready-file", ready, "--replica", name,
		"--admin-token-file", tokenFile, "--quiet", "--log-dir", r.logDir}, extra...)
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	r.cmd.Stderr = r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); r.base == ""; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && len(b) > 0 {
			r.base = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatalf("serve %s not ready: %s", name, r.stderr.String())
		}
	}
	return r
}

func (r *replica) hostPort() string {
	return strings.TrimSuffix(strings.TrimPrefix(r.base, "http://"), "/scim/v2")
}

// needHAProxy returns the haproxy binary, or skips (fails under
// MISCIM_REQUIRE_POSTGRES=1, as in CI, which installs it).
func needHAProxy(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "haproxy not found: the multi-replica test skipped (apt-get install haproxy; .ci/run does)"
	if os.Getenv(storetest.EnvRequirePostgres) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startHAProxy runs haproxy with docs/deploy/haproxy.cfg in front of the
// replicas and returns the SCIM base URL it serves.
func startHAProxy(t *testing.T, replicas ...*replica) string {
	t.Helper()
	bin := needHAProxy(t)
	listen := freePort(t)
	cmd := exec.Command(bin, "-db", "-f", filepath.Join("..", "..", "docs", "deploy", "haproxy.cfg"))
	cmd.Env = append(os.Environ(), "MISCIM_LISTEN="+listen)
	for i, r := range replicas {
		cmd.Env = append(cmd.Env, fmt.Sprintf("MISCIM_REPLICA_%d=%s", i+1, r.hostPort()))
	}
	out := &lockedBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + listen + "/scim/v2"
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + listen + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy does not answer on %s: %s", listen, out.String())
		}
	}
}

// scimClient sends SCIM requests with the replicas' token.
type scimClient struct{ hc *http.Client }

func newSCIMClient() *scimClient {
	return &scimClient{hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
}

// do sends a request; status is 0 when no answer came back.
func (c *scimClient) do(method, url, body string, hdr ...string) (int, http.Header, []byte) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+replicaToken)
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func (c *scimClient) must(t *testing.T, want int, method, url, body string) map[string]any {
	t.Helper()
	code, _, b := c.do(method, url, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, code, b, want)
	}
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	return doc
}

func userBody(name string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name + `","active":true,"emails":[{"value":"` + name + `@example.com","type":"work"}]}`
}

func memberPatch(op, userID string) string {
	if op == "add" {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"` + userID + `"}]}]}`
	}
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members[value eq \"` + userID + `\"]"}]}`
}

// membership is what the test knows of one (group, user) pair: only its
// owner (one client) changes it, so its last acknowledged change is its
// state, unless a later change got no answer (unknown).
type membership struct {
	member  bool
	unknown bool
}

// load is the shared workload of the multi-replica tests.
type load struct {
	front   string
	groups  []string
	owned   [][]string // user ids per client
	counter string     // a user every client updates with If-Match

	mu          sync.Mutex
	members     map[[2]string]*membership
	collideIDs  map[string][]string // userName → ids answered 201
	collideSeen map[string]int      // userName → 409s
	counterOK   int                 // 200s of If-Match updates of counter
	counterLost int                 // If-Match updates without an answer
	errors      atomic.Int64        // 5xx and requests without an answer
	requests    atomic.Int64
}

const loadClients = 16

func newLoad(t *testing.T, front string) *load {
	c := newSCIMClient()
	l := &load{front: front, members: map[[2]string]*membership{}, collideIDs: map[string][]string{}, collideSeen: map[string]int{}}
	for g := range 3 {
		l.groups = append(l.groups, c.must(t, 201, "POST", front+"/Groups", `{"displayName":"Shared `+fmt.Sprint(g)+`"}`)["id"].(string))
	}
	l.owned = make([][]string, loadClients)
	for cl := range loadClients {
		for u := range 6 {
			id := c.must(t, 201, "POST", front+"/Users", userBody(fmt.Sprintf("owned-%d-%d", cl, u)))["id"].(string)
			l.owned[cl] = append(l.owned[cl], id)
			for _, g := range l.groups {
				l.members[[2]string{g, id}] = &membership{}
			}
		}
	}
	l.counter = c.must(t, 201, "POST", front+"/Users", userBody("counter"))["id"].(string)
	return l
}

// run drives the clients for d; phase names the colliding userNames.
func (l *load) run(d time.Duration, phase string) {
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for cl := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newSCIMClient()
			rng := rand.New(rand.NewPCG(uint64(cl), uint64(len(phase))))
			for i := 0; time.Now().Before(stop); i++ {
				l.requests.Add(1)
				switch r := rng.IntN(10); {
				case r < 6: // a member change of a shared group
					g := l.groups[rng.IntN(len(l.groups))]
					u := l.owned[cl][rng.IntN(len(l.owned[cl]))]
					op := []string{"add", "remove"}[rng.IntN(2)]
					code, _, _ := c.do("PATCH", l.front+"/Groups/"+g, memberPatch(op, u))
					l.mu.Lock()
					m := l.members[[2]string{g, u}]
					if code == 204 {
						m.member, m.unknown = op == "add", false
					} else {
						m.unknown = true
						l.errors.Add(1)
					}
					l.mu.Unlock()
				case r < 8: // a userName every client tries
					name := fmt.Sprintf("collide-%s-%d", phase, rng.IntN(12))
					code, _, b := c.do("POST", l.front+"/Users", userBody(name))
					l.mu.Lock()
					switch code {
					case 201:
						var doc map[string]any
						_ = json.Unmarshal(b, &doc)
						l.collideIDs[name] = append(l.collideIDs[name], doc["id"].(string))
					case 409:
						l.collideSeen[name]++
					default:
						l.errors.Add(1)
					}
					l.mu.Unlock()
				default: // read-modify-write of one user with If-Match
					code, hdr, _ := c.do("GET", l.front+"/Users/"+l.counter, "")
					if code != 200 {
						l.errors.Add(1)
						continue
					}
					code, _, _ = c.do("PATCH", l.front+"/Users/"+l.counter,
						`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"name.givenName","value":"c`+fmt.Sprint(cl, i)+`"}]}`,
						"If-Match", hdr.Get("ETag"))
					l.mu.Lock()
					switch code {
					case 200:
						l.counterOK++
					case 412:
					default:
						l.counterLost++
						l.errors.Add(1)
					}
					l.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

// verify checks, through base, what the acknowledged answers promise.
func (l *load) verify(t *testing.T, base, phase string, exact bool) {
	t.Helper()
	c := newSCIMClient()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, g := range l.groups {
		doc := c.must(t, 200, "GET", base+"/Groups/"+g, "")
		got := map[string]bool{}
		if ms, ok := doc["members"].([]any); ok {
			for _, m := range ms {
				got[m.(map[string]any)["value"].(string)] = true
			}
		}
		checked := 0
		for key, m := range l.members {
			if key[0] != g || m.unknown {
				continue
			}
			checked++
			if got[key[1]] != m.member {
				t.Errorf("%s: group %s, user %s: member %v, but the last acknowledged change made it %v (a lost membership change)", base, g, key[1], got[key[1]], m.member)
			}
		}
		if checked == 0 {
			t.Errorf("group %s: no membership known to check", g)
		}
	}
	for name, ids := range l.collideIDs {
		if !strings.Contains(name, "-"+phase+"-") {
			continue
		}
		if len(ids) > 1 {
			t.Errorf("userName %s was created %d times: %v", name, len(ids), ids)
		}
		doc := c.must(t, 200, "GET", base+"/Users?filter=userName+eq+%22"+name+"%22", "")
		if n := doc["totalResults"].(float64); n != 1 {
			t.Errorf("userName %s: %v users hold it, want exactly 1", name, n)
			continue
		}
		if got := doc["Resources"].([]any)[0].(map[string]any)["id"]; len(ids) == 1 && got != ids[0] {
			t.Errorf("userName %s is held by %v, not by %s, the one answered 201", name, got, ids[0])
		}
	}
	doc := c.must(t, 200, "GET", base+"/Users/"+l.counter, "")
	version := doc["meta"].(map[string]any)["version"].(string)
	if exact {
		if want := fmt.Sprintf(`W/"%d"`, 1+l.counterOK); version != want {
			t.Errorf("the If-Match user is at version %s after %d acknowledged updates from 1: want %s", version, l.counterOK, want)
		}
	} else {
		var v int
		fmt.Sscanf(strings.Trim(strings.TrimPrefix(version, "W/"), `"`), "%d", &v)
		if v < 1+l.counterOK || v > 1+l.counterOK+l.counterLost {
			t.Errorf("the If-Match user is at version %d: want between %d (acknowledged) and %d (with the unanswered)", v, 1+l.counterOK, 1+l.counterOK+l.counterLost)
		}
	}
}

// TestReplicasBehindHAProxy: two serve processes on one PostgreSQL
// database behind haproxy; 16 clients change the members of the same
// groups, create users with colliding userNames and update one user with
// If-Match, through haproxy's round robin (so through both replicas). No
// membership change is lost, each userName is held by exactly one user,
// the versions count exactly the acknowledged updates, and both replicas
// show the same. Then one replica is killed with SIGKILL under that load:
// no acknowledged write is lost and the other keeps answering.
func TestReplicasBehindHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL-backed replicas and haproxy")
	}
	db := storetest.PostgresURL(t)
	needHAProxy(t)
	dir := t.TempDir()
	bin := buildMiscim(t, dir)
	a := startServe(t, bin, dir, "replica-a", db)
	b := startServe(t, bin, dir, "replica-b", db)
	for _, r := range []*replica{a, b} {
		if !strings.Contains(r.stderr.String(), "PostgreSQL") || !strings.Contains(r.stderr.String(), "replica "+r.name) {
			t.Fatalf("serve %s does not report its database and name: %s", r.name, r.stderr.String())
		}
	}
	front := startHAProxy(t, a, b)
	l := newLoad(t, front)

	l.run(4*time.Second, "one")
	if n := l.errors.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed (5xx or no answer) with both replicas up", n, l.requests.Load())
	}
	for _, r := range []*replica{a, b} {
		l.verify(t, r.base, "one", true)
	}
	t.Logf("phase one: %d requests, %d If-Match updates acknowledged", l.requests.Load(), l.counterOK)

	// kill -9 of replica a under load; a prober asks b directly all along.
	var probeFail, probeOK atomic.Int64
	stopProbe := make(chan struct{})
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		c := newSCIMClient()
		for {
			select {
			case <-stopProbe:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if code, _, _ := c.do("GET", b.base+"/Groups/"+l.groups[0]+"?excludedAttributes=members", ""); code == 200 {
				probeOK.Add(1)
			} else {
				probeFail.Add(1)
			}
		}
	}()
	killed := make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		_ = a.cmd.Process.Signal(syscall.SIGKILL)
		close(killed)
	}()
	before := l.errors.Load()
	l.run(5*time.Second, "two")
	<-killed
	close(stopProbe)
	<-probeDone
	if probeFail.Load() != 0 || probeOK.Load() < 20 {
		t.Errorf("replica b answered %d probes and failed %d while a was killed", probeOK.Load(), probeFail.Load())
	}
	// After the kill, haproxy sends everything to b: the front answers.
	c := newSCIMClient()
	for i := range 20 {
		if code, _, body := c.do("GET", front+"/Users/"+l.counter, ""); code != 200 {
			t.Fatalf("request %d through haproxy after the kill: %d %s", i, code, body)
		}
	}
	l.verify(t, b.base, "two", false)
	l.verify(t, front, "one", false)
	t.Logf("phase two: %d requests failed around the kill, %d answers lost", l.errors.Load()-before, l.counterLost)
}

// TestReplicasSeeChangesWithinOneSecond: a system variable set on one
// replica applies on the other within a second; a revoked token and a
// demoted user stop authenticating on the other within a second too
// (each replica re-reads what it caches every 500 ms; docs/storage.md).
func TestReplicasSeeChangesWithinOneSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL-backed replicas")
	}
	db := storetest.PostgresURL(t)
	dir := t.TempDir()
	bin := buildMiscim(t, dir)
	a := startServe(t, bin, dir, "a", db)
	b := startServe(t, bin, dir, "b", db)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--db", db)...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("miscim %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	tokenA := run("tokens", "create", "--user", "ops@example.com", "--role", "admin")
	withToken := func(tok, method, url, body string) int {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	within := func(what string, cond func() bool) {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > time.Second {
				t.Fatalf("%s: not seen within one second", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s: seen after %s", what, time.Since(start).Round(time.Millisecond))
	}
	// Both replicas have the token's user cached as authenticated.
	for _, r := range []*replica{a, b} {
		if code := withToken(tokenA, "GET", r.base+"/Users?count=1", ""); code != 200 {
			t.Fatalf("token on %s: %d", r.name, code)
		}
	}

	// The request logger, the variable each replica caches, switched on by
	// `miscim vars set --db`: replica b starts logging within a second.
	run("vars", "set", "ENABLE_SCIM_REQUEST_LOGGER", "Y")
	within("ENABLE_SCIM_REQUEST_LOGGER=Y set by `vars set --db` applies on replica b", func() bool {
		withToken(replicaToken, "GET", b.base+"/Users?count=1", "")
		entries, _ := os.ReadDir(b.logDir)
		return len(entries) > 0
	})
	names, _ := filepath.Glob(filepath.Join(b.logDir, "scim-*-b-*.jsonl"))
	if len(names) == 0 {
		entries, _ := os.ReadDir(b.logDir)
		t.Errorf("replica b's request log segments do not carry its name: %v", entries)
	}

	// A demoted user: its token gives 403 on b within a second.
	c := newSCIMClient()
	code, _, body := c.do("GET", a.base+"/Users?filter=userName+eq+%22ops@example.com%22", "")
	var lr map[string]any
	_ = json.Unmarshal(body, &lr)
	if code != 200 || lr["totalResults"].(float64) != 1 {
		t.Fatalf("find the token's user: %d %s", code, body)
	}
	opsID := lr["Resources"].([]any)[0].(map[string]any)["id"].(string)
	if code := withToken(tokenA, "GET", b.base+"/Users?count=1", ""); code != 200 { // b caches the authentication
		t.Fatalf("token on b before the demotion: %d", code)
	}
	c.must(t, 200, "PATCH", a.base+"/Users/"+opsID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"miUserType","value":"regular"}]}`)
	within("a user demoted on replica a is refused on replica b", func() bool {
		return withToken(tokenA, "GET", b.base+"/Users?count=1", "") == 403
	})

	// A revoked token: 401 on b within a second.
	tokenB := run("tokens", "create", "--user", "ops2@example.com", "--role", "admin")
	if code := withToken(tokenB, "GET", b.base+"/Users?count=1", ""); code != 200 {
		t.Fatalf("second token on b: %d", code)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(run("tokens", "list", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	var id string
	for _, tk := range list {
		if tk["user"] == "ops2@example.com" {
			id = tk["id"].(string)
		}
	}
	run("tokens", "revoke", id)
	within("a token revoked by `tokens revoke --db` is refused on replica b", func() bool {
		return withToken(tokenB, "GET", b.base+"/Users?count=1", "") == 401
	})
}

// TestTwoServesOnOneSQLiteFileWithAnOddPath: two serve processes on one
// SQLite file whose path holds '?', '#', '%' and spaces, under concurrent
// creates and membership PATCHes through both: no 5xx, every change lands,
// and the file is where the path says. (The part after '?' used to be
// read as connection parameters, displacing the busy timeout, and both
// processes then answered 500 under this load.)
func TestTwoServesOnOneSQLiteFileWithAnOddPath(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	dir := t.TempDir()
	bin := buildMiscim(t, dir)
	db := filepath.Join(dir, "odd dir #1", "miscim?mode=ro&x=%41 #frag.db")
	a := startServe(t, bin, dir, "a", db, "--sync", "normal")
	b := startServe(t, bin, dir, "b", db, "--sync", "normal")
	c := newSCIMClient()
	group := c.must(t, 201, "POST", a.base+"/Groups", `{"displayName":"G"}`)["id"].(string)
	var wg sync.WaitGroup
	var failures atomic.Int64
	var ids sync.Map
	for cl := range 8 {
		r := []*replica{a, b}[cl%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newSCIMClient()
			for i := range 25 {
				code, _, body := c.do("POST", r.base+"/Users", userBody(fmt.Sprintf("odd-%d-%d", cl, i)))
				if code != 201 {
					failures.Add(1)
					t.Errorf("POST through %s: %d %s", r.name, code, body)
					continue
				}
				var doc map[string]any
				_ = json.Unmarshal(body, &doc)
				id := doc["id"].(string)
				if code, _, body := c.do("PATCH", r.base+"/Groups/"+group, memberPatch("add", id)); code != 204 {
					failures.Add(1)
					t.Errorf("PATCH through %s: %d %s", r.name, code, body)
					continue
				}
				ids.Store(id, true)
			}
		}()
	}
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d requests failed", failures.Load())
	}
	doc := c.must(t, 200, "GET", b.base+"/Groups/"+group, "")
	if n := len(doc["members"].([]any)); n != 200 {
		t.Fatalf("the group has %d members, want 200", n)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the database is not at its path: %v", err)
	}
	if !strings.Contains(a.stderr.String(), "database "+db+", synchronous=NORMAL") {
		t.Errorf("serve does not report the path as given: %s", a.stderr.String())
	}
}

// TestReplayMergesReplicaLogs: a client's requests go alternately to two
// replicas on one database, each writing its own request log; replay of
// both directories together against a fresh embedded database sends them
// in the order they were made (a user is created through one replica and
// changed through the other) and every answer matches.
func TestReplayMergesReplicaLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL-backed replicas")
	}
	db := storetest.PostgresURL(t)
	dir := t.TempDir()
	bin := buildMiscim(t, dir)
	a := startServe(t, bin, dir, "a", db)
	b := startServe(t, bin, dir, "b", db)
	c := newSCIMClient()
	for _, r := range []*replica{a, b} {
		req, _ := http.NewRequest("PUT", strings.TrimSuffix(r.base, "/scim/v2")+"/api/system-variables/ENABLE_SCIM_REQUEST_LOGGER", strings.NewReader(`{"value":"Y"}`))
		req.Header.Set("Authorization", "Bearer "+replicaToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("switch the request log on: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	time.Sleep(time.Second) // both replicas' caches of the switch
	on := func(i int) *replica { return []*replica{a, b}[i%2] }
	sent := 0
	for i := range 10 {
		name := fmt.Sprintf("merged-%d@example.com", i)
		doc := c.must(t, 201, "POST", on(i).base+"/Users", userBody(name))
		id := doc["id"].(string)
		c.must(t, 200, "PATCH", on(i+1).base+"/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"name.familyName","value":"Changed"}]}`)
		c.must(t, 200, "GET", on(i).base+"/Users/"+id, "")
		g := c.must(t, 201, "POST", on(i+1).base+"/Groups", `{"displayName":"merged `+fmt.Sprint(i)+`","members":[{"value":"`+id+`"}]}`)["id"].(string)
		c.must(t, 204, "PATCH", on(i).base+"/Groups/"+g, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"renamed `+fmt.Sprint(i)+`"}]}`)
		c.must(t, 204, "DELETE", on(i+1).base+"/Users/"+id, "")
		sent += 6
	}
	// Stop both so that their logs are flushed and closed.
	for _, r := range []*replica{a, b} {
		_ = r.cmd.Process.Signal(os.Interrupt)
		_ = r.cmd.Wait()
		if names, _ := filepath.Glob(filepath.Join(r.logDir, "scim-*-"+r.name+"-*.jsonl")); len(names) == 0 {
			t.Fatalf("replica %s's segments do not carry its name", r.name)
		}
	}
	cmd := exec.Command(bin, "replay", a.logDir, b.logDir, "--db", filepath.Join(dir, "replayed.db"), "-o", "json")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("replay of both logs: %v\n%s", err, out)
	}
	var report struct {
		Summary map[string]any `json:"summary"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("replay -o json: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf(`"matched": %d`, sent)) && !strings.Contains(string(out), fmt.Sprintf(`"matched":%d`, sent)) {
		t.Fatalf("replay did not match all %d requests:\n%s", sent, out)
	}
}
