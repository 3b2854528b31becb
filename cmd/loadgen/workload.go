package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is one measured run: one workload against one server.
type result struct {
	requests int64
	errors   int64
	elapsed  time.Duration
	p50, p99 time.Duration
	firstErr string
	byOp     map[string][2]time.Duration // p50 and p99 per kind of request
	// CPU time the server process and the load generator used in the
	// run; 0 when the system does not say.
	serverCPU, clientCPU time.Duration
	// serve's group commit in the run, from its /metrics: writes, commits
	// and syncs of the log (zero for the baselines).
	writes, commits, syncs float64
}

// cpuPerRequest is what one request cost a process, in CPU time.
func (r result) cpuPerRequest(cpu time.Duration) time.Duration {
	if r.requests == 0 {
		return 0
	}
	return cpu / time.Duration(r.requests)
}

// latencies collects one client's request times, in all and per kind of
// request (method, and for GET whether it filters).
type latencies struct {
	all  []time.Duration
	byOp map[string][]time.Duration
}

func (l *latencies) add(op string, d time.Duration) {
	l.all = append(l.all, d)
	l.byOp[op] = append(l.byOp[op], d)
}

func opName(method, path string) string {
	switch {
	case method == "GET" && strings.Contains(path, "?filter="):
		return "GET filter"
	case method == "GET":
		return "GET id"
	}
	return method
}

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// driver sends requests to one server and records their latencies.
type driver struct {
	base, token string
	pid         int // the server's process
	hc          *http.Client
	errs        atomic.Int64
	errMu       sync.Mutex
	firstErr    string
}

func newDriver(base string, pid, clients int) *driver {
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2}
	return &driver{base: base, token: token, pid: pid, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

func (d *driver) close() { d.hc.Transport.(*http.Transport).CloseIdleConnections() }

func (d *driver) fail(format string, args ...any) {
	d.errs.Add(1)
	d.errMu.Lock()
	if d.firstErr == "" {
		d.firstErr = fmt.Sprintf(format, args...)
	}
	d.errMu.Unlock()
}

// do sends one request, appends its latency to lat and returns the body;
// an error or an unexpected status counts as an error of the run.
func (d *driver) do(lat *latencies, method, path, body string, want int) []byte {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, d.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+d.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	t0 := time.Now()
	resp, err := d.hc.Do(req)
	if err != nil {
		d.fail("%s %s: %v", method, path, err)
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if lat != nil {
		lat.add(opName(method, path), time.Since(t0))
	}
	if err != nil || resp.StatusCode != want {
		d.fail("%s %s: %d (want %d) %s", method, path, resp.StatusCode, want, b)
	}
	return b
}

func userBody(userName string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"` + userName + `","userName":"` + userName +
		`","active":true,"emails":[{"primary":true,"type":"work","value":"` + userName + `"}],"name":{"givenName":"Load","familyName":"Test"}}`
}

func filterPath(userName string) string {
	return "/Users?filter=userName+eq+%22" + userName + "%22"
}

const (
	patchName    = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"name.familyName","value":"Updated"}]}`
	patchDisable = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`
)

func createdID(b []byte) string {
	var created struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &created) != nil {
		return ""
	}
	return created.ID
}

// mixedClient repeats what Entra does for one user: the match query (GET
// with filter), create (POST), read back (GET by filter), update (PATCH),
// disable (PATCH active "False"), delete (DELETE). Two requests of six
// read, four write.
func mixedClient(ctx context.Context, d *driver, lat *latencies, prefix string) {
	for i := 0; ctx.Err() == nil; i++ {
		user := fmt.Sprintf("%s-%d@example.com", prefix, i)
		d.do(lat, "GET", filterPath(user), "", 200)
		id := createdID(d.do(lat, "POST", "/Users", userBody(user), 201))
		if id == "" {
			continue
		}
		d.do(lat, "GET", filterPath(user), "", 200)
		d.do(lat, "PATCH", "/Users/"+id, patchName, 200)
		d.do(lat, "PATCH", "/Users/"+id, patchDisable, 200)
		d.do(lat, "DELETE", "/Users/"+id, "", 204)
	}
}

// seeded is a user the read-only workload reads.
type seeded struct{ id, userName string }

// seed creates n users for the read-only workload, with several clients.
func seed(d *driver, n, clients int) ([]seeded, error) {
	out := make([]seeded, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				name := fmt.Sprintf("reader-%06d@example.com", i)
				out[i] = seeded{id: createdID(d.do(nil, "POST", "/Users", userBody(name), 201)), userName: name}
			}
		})
	}
	wg.Wait()
	if d.errs.Load() > 0 {
		return nil, fmt.Errorf("seeding %d users: %s", n, d.firstErr)
	}
	return out, nil
}

// readClient alternates what Entra reads: the match query (GET with
// filter) and a GET by id, of random seeded users.
func readClient(ctx context.Context, d *driver, lat *latencies, users []seeded, rng *rand.Rand) {
	for ctx.Err() == nil {
		u := users[rng.IntN(len(users))]
		d.do(lat, "GET", filterPath(u.userName), "", 200)
		u = users[rng.IntN(len(users))]
		d.do(lat, "GET", "/Users/"+u.id, "", 200)
	}
}

// measure runs clients copies of client against d for dur.
func measure(d *driver, dur time.Duration, clients int, client func(ctx context.Context, c int, lat *latencies)) result {
	d.errs.Store(0)
	d.firstErr = ""
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var mu sync.Mutex
	total := latencies{byOp: map[string][]time.Duration{}}
	var wg sync.WaitGroup
	srv0, cli0 := processCPU(d.pid), processCPU(os.Getpid())
	st0 := storeMetrics(d.base)
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Go(func() {
			lat := &latencies{all: make([]time.Duration, 0, 1<<14), byOp: map[string][]time.Duration{}}
			client(ctx, c, lat)
			mu.Lock()
			total.all = append(total.all, lat.all...)
			for op, l := range lat.byOp {
				total.byOp[op] = append(total.byOp[op], l...)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	r := result{requests: int64(len(total.all)), errors: d.errs.Load(), elapsed: time.Since(start), firstErr: d.firstErr,
		byOp: map[string][2]time.Duration{}}
	if srv1, cli1 := processCPU(d.pid), processCPU(os.Getpid()); srv0 >= 0 && cli0 >= 0 {
		r.serverCPU, r.clientCPU = srv1-srv0, cli1-cli0
	}
	if st0 != nil {
		st1 := storeMetrics(d.base)
		r.writes = st1["miscim_store_writes_total"] - st0["miscim_store_writes_total"]
		r.commits = st1["miscim_store_commits_total"] - st0["miscim_store_commits_total"]
		r.syncs = st1["miscim_store_wal_syncs_total"] - st0["miscim_store_wal_syncs_total"]
	}
	r.p50, r.p99 = percentile(total.all, 50), percentile(total.all, 99)
	for op, l := range total.byOp {
		r.byOp[op] = [2]time.Duration{percentile(l, 50), percentile(l, 99)}
	}
	return r
}

// storeMetrics reads serve's group-commit counters from its /metrics; nil
// for a server that has none.
func storeMetrics(base string) map[string]float64 {
	resp, err := http.Get(strings.TrimSuffix(base, "/scim/v2") + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(name, "miscim_store_") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// processCPU returns the user and system CPU time a process has used, from
// /proc (Linux; clock ticks of 10ms), or -1 when it cannot tell.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// percentile returns the p-th percentile (nearest rank) of lat, sorting it.
func percentile(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	if !slices.IsSorted(lat) {
		slices.Sort(lat)
	}
	i := (len(lat)*p + 99) / 100 // ceil(n·p/100), 1-based rank
	return lat[max(i, 1)-1]
}
