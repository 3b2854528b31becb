// Package loadrun owns the SCIM load workload the measuring commands drive
// over loopback (cmd/loadgen, cmd/replicaload; cmd/listbench starts its
// server the same way): a Driver that sends requests to one server and
// times them, the mixed Entra workload (a user's life cycle: match query,
// create, read back, update, disable, delete) and the read-only one (match
// query and GET by id of seeded users), Measure to run clients of either
// for a time, Start to run a server process and wait until it says where
// it listens, and what every benchmark command shares (cmd/simbench,
// cmd/diffbench, cmd/tenantload too): the isolated environment of the
// processes it measures and the load average it reports. It measures and returns numbers; what is printed, and
// against which target, is the command's.
package loadrun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Driver sends requests to one SCIM base URL with a bearer token and
// counts those that fail. It is safe for concurrent use.
type Driver struct {
	Base     string // the SCIM base URL, ending in /scim/v2
	token    string
	hc       *http.Client
	errs     atomic.Int64
	errMu    sync.Mutex
	firstErr string
}

// NewDriver returns a driver keeping enough idle connections for clients
// concurrent clients.
func NewDriver(base, token string, clients int) *Driver {
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2}
	return &Driver{Base: base, token: token, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// Close closes the driver's idle connections.
func (d *Driver) Close() { d.hc.Transport.(*http.Transport).CloseIdleConnections() }

// Errors is how many requests failed since the driver was made or last
// measured with, and the first one's description.
func (d *Driver) Errors() (int64, string) {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	return d.errs.Load(), d.firstErr
}

func (d *Driver) reset() {
	d.errMu.Lock()
	d.errs.Store(0)
	d.firstErr = ""
	d.errMu.Unlock()
}

func (d *Driver) fail(format string, args ...any) {
	d.errs.Add(1)
	d.errMu.Lock()
	if d.firstErr == "" {
		d.firstErr = fmt.Sprintf(format, args...)
	}
	d.errMu.Unlock()
}

// Do sends one request, adds its latency to lat (when not nil) and
// returns the body; an error or a status other than want counts as a
// failed request.
func (d *Driver) Do(lat *Latencies, method, path, body string, want int) []byte {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, d.Base+path, rd)
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

// Latencies are one client's request times, in all and per kind of
// request (the method, and for GET whether it filters).
type Latencies struct {
	All  []time.Duration
	ByOp map[string][]time.Duration
}

func (l *Latencies) add(op string, d time.Duration) {
	l.All = append(l.All, d)
	l.ByOp[op] = append(l.ByOp[op], d)
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

// MixedClient repeats what Entra does for one user until ctx ends: the
// match query (GET with filter), create (POST), read back (GET by filter),
// update (PATCH), disable (PATCH active "False"), delete (DELETE). Two
// requests of six read, four write. The users are named prefix-N.
func MixedClient(ctx context.Context, d *Driver, lat *Latencies, prefix string) {
	for i := 0; ctx.Err() == nil; i++ {
		user := fmt.Sprintf("%s-%d@example.com", prefix, i)
		d.Do(lat, "GET", filterPath(user), "", 200)
		id := createdID(d.Do(lat, "POST", "/Users", userBody(user), 201))
		if id == "" {
			continue
		}
		d.Do(lat, "GET", filterPath(user), "", 200)
		d.Do(lat, "PATCH", "/Users/"+id, patchName, 200)
		d.Do(lat, "PATCH", "/Users/"+id, patchDisable, 200)
		d.Do(lat, "DELETE", "/Users/"+id, "", 204)
	}
}

// Seeded is a user the read-only workload reads.
type Seeded struct{ ID, UserName string }

// Seed creates n users for the read-only workload, with several clients.
func Seed(d *Driver, n, clients int) ([]Seeded, error) {
	out := make([]Seeded, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				name := fmt.Sprintf("reader-%06d@example.com", i)
				out[i] = Seeded{ID: createdID(d.Do(nil, "POST", "/Users", userBody(name), 201)), UserName: name}
			}
		})
	}
	wg.Wait()
	if failed, first := d.Errors(); failed > 0 {
		return nil, fmt.Errorf("seeding %d users: %s", n, first)
	}
	return out, nil
}

// ReadClient alternates what Entra reads until ctx ends: the match query
// (GET with filter) and a GET by id, of random seeded users.
func ReadClient(ctx context.Context, d *Driver, lat *Latencies, users []Seeded, rng *rand.Rand) {
	for ctx.Err() == nil {
		u := users[rng.IntN(len(users))]
		d.Do(lat, "GET", filterPath(u.UserName), "", 200)
		u = users[rng.IntN(len(users))]
		d.Do(lat, "GET", "/Users/"+u.ID, "", 200)
	}
}

// Run is one measured run of a workload against one server.
type Run struct {
	Requests int64
	Errors   int64
	FirstErr string // the first failed request, "" when none failed
	Elapsed  time.Duration
	// Latencies of every request of every client, sorted.
	Latencies []time.Duration
	ByOp      map[string][]time.Duration // per kind of request, sorted
}

// RPS is the run's throughput, in requests per second.
func (r Run) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Measure runs clients copies of client against d for dur and returns
// what they did; c numbers each copy from 0. The driver's error count
// starts from zero.
func Measure(d *Driver, dur time.Duration, clients int, client func(ctx context.Context, c int, lat *Latencies)) Run {
	d.reset()
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var mu sync.Mutex
	total := Latencies{ByOp: map[string][]time.Duration{}}
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			lat := &Latencies{All: make([]time.Duration, 0, 1<<14), ByOp: map[string][]time.Duration{}}
			client(ctx, c, lat)
			mu.Lock()
			total.All = append(total.All, lat.All...)
			for op, l := range lat.ByOp {
				total.ByOp[op] = append(total.ByOp[op], l...)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	r := Run{Requests: int64(len(total.All)), Elapsed: time.Since(start), Latencies: total.All, ByOp: total.ByOp}
	r.Errors, r.FirstErr = d.Errors()
	slices.Sort(r.Latencies)
	for _, l := range r.ByOp {
		slices.Sort(l)
	}
	return r
}

// Percentile returns the p-th percentile (nearest rank) of lat, sorting it
// first when it is not sorted; 0 for no latencies.
func Percentile(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	if !slices.IsSorted(lat) {
		slices.Sort(lat)
	}
	i := (len(lat)*p + 99) / 100 // ceil(n·p/100), 1-based rank
	return lat[max(i, 1)-1]
}
