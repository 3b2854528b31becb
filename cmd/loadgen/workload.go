package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/loadrun"
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

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// server is one server under load: a driver for its SCIM endpoint, and
// its process, whose CPU time a run reports.
type server struct {
	*loadrun.Driver
	pid int
}

func newServer(base string, pid, clients int) server {
	return server{Driver: loadrun.NewDriver(base, token, clients), pid: pid}
}

// measure runs clients copies of client against s for dur (the workload of
// internal/loadrun), with the CPU time the server and the load generator
// used, and serve's group-commit counters.
func measure(s server, dur time.Duration, clients int, client func(ctx context.Context, c int, lat *loadrun.Latencies)) result {
	srv0, cli0 := loadrun.ProcessCPU(s.pid), loadrun.ProcessCPU(os.Getpid())
	st0 := storeMetrics(s.Base)
	run := loadrun.Measure(s.Driver, dur, clients, client)
	r := result{requests: run.Requests, errors: run.Errors, elapsed: run.Elapsed, firstErr: run.FirstErr,
		byOp: map[string][2]time.Duration{}}
	if srv1, cli1 := loadrun.ProcessCPU(s.pid), loadrun.ProcessCPU(os.Getpid()); srv0 >= 0 && cli0 >= 0 {
		r.serverCPU, r.clientCPU = srv1-srv0, cli1-cli0
	}
	if st0 != nil {
		st1 := storeMetrics(s.Base)
		r.writes = st1["miscim_store_writes_total"] - st0["miscim_store_writes_total"]
		r.commits = st1["miscim_store_commits_total"] - st0["miscim_store_commits_total"]
		r.syncs = st1["miscim_store_wal_syncs_total"] - st0["miscim_store_wal_syncs_total"]
	}
	r.p50, r.p99 = loadrun.Percentile(run.Latencies, 50), loadrun.Percentile(run.Latencies, 99)
	for op, l := range run.ByOp {
		r.byOp[op] = [2]time.Duration{loadrun.Percentile(l, 50), loadrun.Percentile(l, 99)}
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
