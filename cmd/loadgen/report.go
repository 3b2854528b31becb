package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/miscim/miscim/internal/loadrun"
	"github.com/miscim/miscim/internal/reqlog"
)

// check is one target, judged on the median of its per-round values.
type check struct {
	name   string
	values []float64 // one per round
	target string
	pass   func(float64) bool
	format func(float64) string
	all    bool // every round must pass, not the median
}

func (c check) median() float64 {
	v := slices.Clone(c.values)
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (c check) met() bool {
	if len(c.values) == 0 {
		return false
	}
	if c.all {
		for _, v := range c.values {
			if !c.pass(v) {
				return false
			}
		}
		return true
	}
	return c.pass(c.median())
}

type verdict struct {
	checks []check
	info   []check // ratios printed for context, not targets
	errors []string
}

func (v verdict) ok() bool {
	for _, c := range v.checks {
		if !c.met() {
			return false
		}
	}
	return len(v.errors) == 0
}

func ratio(a, b result) float64 {
	if b.rps() == 0 {
		return 0
	}
	return a.rps() / b.rps()
}

// cpuRatio compares what a request cost two servers in CPU time.
func cpuRatio(a, b result) float64 {
	cb := b.cpuPerRequest(b.serverCPU)
	if cb <= 0 {
		return 0
	}
	return float64(a.cpuPerRequest(a.serverCPU)) / float64(cb)
}

func fixed2(x float64) string  { return fmt.Sprintf("%.2f", x) }
func percent(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
func millis(x float64) string  { return fmt.Sprintf("%.2fms", x) }

// judge computes the targets of DESIGN §8 and §3.7 from the rounds.
func judge(rounds []round) verdict {
	per := func(f func(round) float64) []float64 {
		out := make([]float64, len(rounds))
		for i, r := range rounds {
			out[i] = f(r)
		}
		return out
	}
	v := verdict{
		checks: []check{
			{name: "mixed: serve / durable baseline", target: "≥ 0.70", format: fixed2,
				values: per(func(r round) float64 { return ratio(r.runs[mixedServe], r.runs[mixedDurable]) }),
				pass:   func(x float64) bool { return x >= 0.70 }},
			{name: "read-only: serve / in-memory baseline", target: "≥ 0.50", format: fixed2,
				values: per(func(r round) float64 { return ratio(r.runs[readServe], r.runs[readMemory]) }),
				pass:   func(x float64) bool { return x >= 0.50 }},
			{name: "mixed: serve p99", target: "< 20ms", format: millis,
				values: per(func(r round) float64 { return float64(r.runs[mixedServe].p99) / 1e6 }),
				pass:   func(x float64) bool { return x < 20 }},
			{name: "request log cost (mixed)", target: "≤ 20%", format: percent,
				values: per(func(r round) float64 { return 1 - ratio(r.runs[mixedServeLog], r.runs[mixedServe]) }),
				pass:   func(x float64) bool { return x <= 0.20 }},
			{name: "request log: records written / requests", target: "= 1, every round", format: fixed2, all: true,
				values: per(func(r round) float64 {
					if n := r.runs[mixedServeLog].requests; n > 0 {
						return float64(r.logged) / float64(n)
					}
					return 0
				}),
				pass: func(x float64) bool { return x == 1 }},
			{name: "request log off: records written", target: "= 0, every round", format: func(x float64) string { return fmt.Sprint(int(x)) }, all: true,
				values: per(func(r round) float64 { return float64(r.leaked) }),
				pass:   func(x float64) bool { return x == 0 }},
		},
		info: []check{
			{name: "mixed: durable baseline / in-memory", format: fixed2,
				values: per(func(r round) float64 { return ratio(r.runs[mixedDurable], r.runs[mixedMemory]) })},
			{name: "mixed: serve / in-memory baseline", format: fixed2,
				values: per(func(r round) float64 { return ratio(r.runs[mixedServe], r.runs[mixedMemory]) })},
			{name: "mixed: server CPU per request, serve / durable", format: fixed2,
				values: per(func(r round) float64 { return cpuRatio(r.runs[mixedServe], r.runs[mixedDurable]) })},
			{name: "read-only: server CPU per request, serve / memory", format: fixed2,
				values: per(func(r round) float64 { return cpuRatio(r.runs[readServe], r.runs[readMemory]) })},
		},
	}
	for i, r := range rounds {
		for _, name := range runOrder {
			if res := r.runs[name]; res.errors > 0 {
				v.errors = append(v.errors, fmt.Sprintf("round %d, %s: %d errors, the first: %s", i+1, name, res.errors, res.firstErr))
			}
		}
	}
	return v
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

func printRound(out io.Writer, r round, verbose bool) {
	fmt.Fprintf(out, "  %-38s %8s %7s %9s %9s %11s %11s\n", "run", "req/s", "errors", "p50", "p99", "server CPU", "client CPU")
	for _, name := range runOrder {
		res := r.runs[name]
		fmt.Fprintf(out, "  %-38s %8.0f %7d %9s %9s %9.0fµs %9.0fµs\n", name, res.rps(), res.errors, ms(res.p50), ms(res.p99),
			float64(res.cpuPerRequest(res.serverCPU))/1e3, float64(res.cpuPerRequest(res.clientCPU))/1e3)
		if verbose {
			for _, op := range []string{"GET filter", "GET id", "POST", "PATCH", "DELETE"} {
				if l, ok := res.byOp[op]; ok {
					fmt.Fprintf(out, "    %-36s %8s %7s %9s %9s\n", op, "", "", ms(l[0]), ms(l[1]))
				}
			}
		}
	}
	fmt.Fprintln(out, "  (CPU: per request, of the server process and of the load generator)")
	for _, name := range []string{mixedServe, mixedServeLog} {
		if res := r.runs[name]; res.commits > 0 {
			fmt.Fprintf(out, "  %s: %.0f writes in %.0f commits (%.1f per commit), %.0f syncs of the log (%.1f writes per sync)\n",
				name, res.writes, res.commits, res.writes/res.commits, res.syncs, res.writes/max(res.syncs, 1))
		}
	}
	fmt.Fprintf(out, "  request log: %d records written for %d requests\n", r.logged, r.runs[mixedServeLog].requests)
}

func printVerdict(out io.Writer, v verdict, rounds int) {
	fmt.Fprintf(out, "\nratios and targets (DESIGN §8, §3.7), median of %d rounds [each round]\n", rounds)
	line := func(c check, status string) {
		vals := make([]string, len(c.values))
		for i, x := range c.values {
			vals[i] = c.format(x)
		}
		fmt.Fprintf(out, "  %-42s %8s  [%s]  %-18s %s\n", c.name, c.format(c.median()), strings.Join(vals, " "), c.target, status)
	}
	for _, c := range v.checks {
		status := "met"
		if !c.met() {
			status = "MISSED"
		}
		line(c, status)
	}
	for _, c := range v.info {
		line(c, "(for reference)")
	}
	for _, e := range v.errors {
		fmt.Fprintln(out, "  error:", e)
	}
}

// countRecords returns how many request records the log directory holds;
// a line that is not a record fails the run.
func countRecords(dir string) (int, error) {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return 0, nil
	}
	recs, probs, err := reqlog.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("read the request log: %w", err)
	}
	if len(probs) > 0 {
		return 0, fmt.Errorf("the request log holds %d lines that are not records, the first: %s", len(probs), probs[0])
	}
	return len(recs), nil
}

// journalStats asks the durable baseline how many writes it synced, in how
// many fdatasyncs.
func journalStats(base string) (records, syncs uint64, err error) {
	resp, err := http.Get(strings.TrimSuffix(base, "/scim/v2") + "/journal-stats")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var st struct{ Records, Syncs uint64 }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, 0, err
	}
	return st.Records, st.Syncs, nil
}

type fsyncProbe struct {
	n        int
	p50, p90 time.Duration
}

// probeFsync measures what every durable write must wait for on this disk:
// fdatasync after appending 4 KiB (one SQLite page) to a file in dir.
func probeFsync(dir string, n int) (fsyncProbe, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return fsyncProbe{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		page[0] = byte(i)
		t0 := time.Now()
		if _, err := f.Write(page); err != nil {
			return fsyncProbe{}, err
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return fsyncProbe{}, err
		}
		lat = append(lat, time.Since(t0))
	}
	return fsyncProbe{n: n, p50: loadrun.Percentile(lat, 50), p90: loadrun.Percentile(lat, 90)}, nil
}

func newRand(round, client int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(round), uint64(client)))
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
