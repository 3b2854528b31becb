// Command replicaload measures `miscim serve` under the mixed Entra
// workload of cmd/loadgen on each of its deployments, in one run, with the
// same clients for the same time: one replica on SQLite (durable,
// synchronous=FULL), one replica on PostgreSQL, and two replicas on
// PostgreSQL behind haproxy with docs/deploy/haproxy.cfg. It prints
// throughput and latency (p50, p99) of each; docs/performance.md has the
// figures. PostgreSQL comes from MISCIM_TEST_POSTGRES (make bench starts a
// durable throwaway cluster for it, .ci/with-postgres --durable); each
// deployment gets a fresh schema.
//
//	go run ./cmd/replicaload -miscim bin/miscim -duration 10s -clients 8
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

const token = "replicaload-admin-token"

func main() {
	miscim := flag.String("miscim", "bin/miscim", "miscim binary to measure")
	duration := flag.Duration("duration", 10*time.Second, "length of each measured run")
	clients := flag.Int("clients", 8, "concurrent clients")
	haproxy := flag.String("haproxy", "haproxy", "haproxy binary")
	flag.Parse()
	if err := run(*miscim, *haproxy, *duration, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "replicaload:", err)
		os.Exit(1)
	}
}

type result struct {
	name     string
	requests int
	errors   int64
	elapsed  time.Duration
	p50, p99 time.Duration
}

func run(miscim, haproxy string, d time.Duration, clients int) error {
	pg := os.Getenv("MISCIM_TEST_POSTGRES")
	if pg == "" {
		return fmt.Errorf("MISCIM_TEST_POSTGRES is not set: run under .ci/with-postgres --durable (make bench does)")
	}
	if p, err := exec.LookPath(haproxy); err == nil {
		haproxy = p
	} else if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		haproxy = "/usr/sbin/haproxy"
	} else {
		return fmt.Errorf("haproxy not found: apt-get install haproxy")
	}
	dir, err := os.MkdirTemp("", "miscim-replicaload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return err
	}
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	serve := func(name, db string) (string, error) {
		base, stop, err := start(dir, name, miscim, "serve", "--addr", "127.0.0.1:0", "--quiet", "--replica", name,
			"--admin-token-file", tokenFile, "--db", db, "--log-dir", filepath.Join(dir, "log-"+name))
		if err == nil {
			stops = append(stops, stop)
		}
		return base, err
	}

	sqliteURL, err := serve("sqlite", filepath.Join(dir, "miscim.db"))
	if err != nil {
		return err
	}
	one, err := schemaURL(pg, "load_one")
	if err != nil {
		return err
	}
	pgURL, err := serve("pg-one", one)
	if err != nil {
		return err
	}
	two, err := schemaURL(pg, "load_two")
	if err != nil {
		return err
	}
	r1, err := serve("pg-a", two)
	if err != nil {
		return err
	}
	r2, err := serve("pg-b", two)
	if err != nil {
		return err
	}
	front, stop, err := startHAProxy(haproxy, r1, r2)
	if err != nil {
		return err
	}
	stops = append(stops, stop)

	var version string
	if conn, err := pgx.Connect(context.Background(), pg); err == nil {
		_ = conn.QueryRow(context.Background(), `SHOW server_version`).Scan(&version)
		conn.Close(context.Background())
	}
	fmt.Printf("mixed Entra workload, %d clients, %s per run, loopback; PostgreSQL %s (fsync on, synchronous_commit on)\n\n", clients, d, version)
	// Interleaved rounds, so that a slow moment of the machine does not
	// fall on one deployment only.
	targets := []struct{ name, url string }{
		{"SQLite, one replica", sqliteURL},
		{"PostgreSQL, one replica", pgURL},
		{"PostgreSQL, two behind haproxy", front},
	}
	results := make([]result, len(targets))
	const rounds = 2
	for round := range rounds {
		for i, tg := range targets {
			r := measure(tg.name, tg.url, d/rounds, clients, fmt.Sprint(round))
			results[i] = merge(results[i], r)
		}
	}
	fmt.Printf("%-34s %10s %8s %9s %9s\n", "deployment", "req/s", "errors", "p50", "p99")
	failed := false
	for _, r := range results {
		fmt.Printf("%-34s %10.0f %8d %9s %9s\n", r.name, float64(r.requests)/r.elapsed.Seconds(), r.errors, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond))
		failed = failed || r.errors > 0
	}
	if failed {
		return fmt.Errorf("requests failed")
	}
	return nil
}

// samples of each deployment, kept to compute percentiles over all rounds.
var samples = map[string][]time.Duration{}

func merge(acc, r result) result {
	acc.name = r.name
	acc.requests += r.requests
	acc.errors += r.errors
	acc.elapsed += r.elapsed
	lat := samples[r.name]
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		acc.p50, acc.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return acc
}

// schemaURL creates a fresh schema in the database and returns a URL whose
// connections use it.
func schemaURL(base, schema string) (string, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE; CREATE SCHEMA `+schema); err != nil {
		return "", err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// start runs a server process and waits for its ready file.
func start(dir, name, bin string, args ...string) (string, func(), error) {
	ready := filepath.Join(dir, name+".ready")
	cmd := exec.Command(bin, append(args, "--ready-file", ready)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", name, err)
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b)), stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("%s did not become ready: %s", name, stderr.String())
}

func startHAProxy(bin string, replicas ...string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	listen := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-db", "-f", filepath.Join("docs", "deploy", "haproxy.cfg"))
	cmd.Env = append(os.Environ(), "MISCIM_LISTEN="+listen)
	for i, r := range replicas {
		cmd.Env = append(cmd.Env, fmt.Sprintf("MISCIM_REPLICA_%d=%s", i+1, strings.TrimSuffix(strings.TrimPrefix(r, "http://"), "/scim/v2")))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + listen + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "http://" + listen + "/scim/v2", stop, nil
			}
		}
	}
	stop()
	return "", nil, fmt.Errorf("haproxy did not answer: %s", stderr.String())
}

var runSeq atomic.Int64

// measure drives clients through the Entra user life cycle for d, as
// cmd/loadgen does: match query, create, read back, update, disable,
// delete.
func measure(name, base string, d time.Duration, clients int, round string) result {
	tr := &http.Transport{MaxIdleConnsPerHost: clients * 2}
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	defer tr.CloseIdleConnections()
	run := runSeq.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			do := func(method, path, body string, want int) []byte {
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
				}
				req, _ := http.NewRequest(method, base+path, rd)
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/scim+json")
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					errs.Add(1)
					return nil
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				if resp.StatusCode != want {
					errs.Add(1)
				}
				return b
			}
			for i := 0; ctx.Err() == nil; i++ {
				user := fmt.Sprintf("load-%s-%d-%d-%d@example.com", round, run, c, i)
				filter := "/Users?filter=userName+eq+%22" + user + "%22"
				do("GET", filter, "", 200)
				b := do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"`+user+`","userName":"`+user+`","active":true,"emails":[{"primary":true,"type":"work","value":"`+user+`"}],"name":{"givenName":"Load","familyName":"Test"}}`, 201)
				var created struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(b, &created) != nil || created.ID == "" {
					continue
				}
				do("GET", filter, "", 200)
				do("PATCH", "/Users/"+created.ID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"name.familyName","value":"Updated"}]}`, 200)
				do("PATCH", "/Users/"+created.ID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, 200)
				do("DELETE", "/Users/"+created.ID, "", 204)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	samples[name] = append(samples[name], lat...)
	return result{name: name, requests: len(lat), errors: errs.Load(), elapsed: time.Since(start)}
}
