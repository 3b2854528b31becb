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
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/miscim/miscim/internal/loadrun"
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

// result is one deployment's runs over all rounds.
type result struct {
	name      string
	requests  int64
	errors    int64
	elapsed   time.Duration
	latencies []time.Duration
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
	env := append(os.Environ(), "NO_COLOR=1")
	serve := func(name, db string) (string, error) {
		p, err := loadrun.Start(dir, name, env, miscim, "serve", "--addr", "127.0.0.1:0", "--quiet", "--replica", name,
			"--admin-token-file", tokenFile, "--db", db, "--log-dir", filepath.Join(dir, "log-"+name))
		if err != nil {
			return "", err
		}
		stops = append(stops, p.Stop)
		return p.URL, nil
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
			r := measure(tg.url, d/rounds, clients, fmt.Sprint(round))
			results[i].name = tg.name
			results[i].requests += r.Requests
			results[i].errors += r.Errors
			results[i].elapsed += r.Elapsed
			results[i].latencies = append(results[i].latencies, r.Latencies...)
		}
	}
	fmt.Printf("%-34s %10s %8s %9s %9s\n", "deployment", "req/s", "errors", "p50", "p99")
	failed := false
	for _, r := range results {
		p50, p99 := loadrun.Percentile(r.latencies, 50), loadrun.Percentile(r.latencies, 99)
		fmt.Printf("%-34s %10.0f %8d %9s %9s\n", r.name, float64(r.requests)/r.elapsed.Seconds(), r.errors, p50.Round(time.Microsecond), p99.Round(time.Microsecond))
		failed = failed || r.errors > 0
	}
	if failed {
		return fmt.Errorf("requests failed")
	}
	return nil
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
// cmd/loadgen does (loadrun.MixedClient): match query, create, read back,
// update, disable, delete.
func measure(base string, d time.Duration, clients int, round string) loadrun.Run {
	dr := loadrun.NewDriver(base, token, clients)
	defer dr.Close()
	run := runSeq.Add(1)
	return loadrun.Measure(dr, d, clients, func(ctx context.Context, c int, lat *loadrun.Latencies) {
		loadrun.MixedClient(ctx, dr, lat, fmt.Sprintf("load-%s-%d-%d", round, run, c))
	})
}
