// Command loadgen measures `miscim serve` over loopback against baselines
// measured in the same run, and checks the targets of DESIGN §8 and §3.7:
//
//   - mixed Entra workload (filter GET, POST, PATCH, DELETE): serve with
//     durable SQLite against the durable baseline — a trivial SCIM handler
//     that appends every write as one record to a file on the same disk as
//     the database and fdatasyncs it before answering, concurrent writes
//     sharing one sync — at least 0.7 of its throughput, p99 under 20 ms;
//   - read-only workload (filter GET, GET by id): serve against the same
//     trivial handler in memory, at least 0.5 of its throughput;
//   - the request log (ENABLE_SCIM_REQUEST_LOGGER=Y) costs at most 20% of
//     serve's mixed throughput, and every request of that run is in the log.
//
// Each server runs as its own process, like serve, so all share the machine
// with the load generator on equal terms. The runs are interleaved in
// rounds and the ratios computed within each round, so that a neighbour's
// load falls on both sides of a ratio; the verdict is on the median round.
// It exits 3 when a target is missed.
//
//	go run ./cmd/loadgen -miscim bin/miscim -duration 5s -clients 8 -rounds 3
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/loadrun"
)

// config is what one load run measures.
type config struct {
	miscim     string
	duration   time.Duration
	clients    int
	rounds     int
	users      int
	sync       string
	profileDir string
	verbose    bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.miscim, "miscim", "bin/miscim", "miscim binary to measure")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each measured run")
	flag.IntVar(&cfg.clients, "clients", 8, "concurrent clients")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of interleaved runs; the verdict is on the median")
	flag.IntVar(&cfg.users, "users", 2000, "users created for the read-only workload")
	flag.StringVar(&cfg.sync, "sync", "full", "serve --sync mode: full or normal (the targets apply to full)")
	flag.StringVar(&cfg.profileDir, "profile", "", "write CPU and allocation profiles of serve under the mix of round 1 to this directory, and print where the time goes")
	flag.BoolVar(&cfg.verbose, "v", false, "also print p50 and p99 per kind of request")
	trivial := flag.Bool("serve-trivial", false, "internal: serve the trivial SCIM handler")
	journal := flag.String("journal", "", "internal: with -serve-trivial, make it durable with this journal file")
	ready := flag.String("ready-file", "", "internal: with -serve-trivial, where to write the base URL")
	flag.Parse()
	if *trivial {
		if err := serveTrivial(*ready, *journal); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.clients < 1 || cfg.rounds < 1 || cfg.users < 1 || cfg.duration <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -clients, -rounds, -users and -duration must be positive")
		os.Exit(2)
	}
	if cfg.sync != "full" && cfg.sync != "normal" {
		fmt.Fprintln(os.Stderr, "loadgen: -sync must be full or normal")
		os.Exit(2)
	}
	code, err := run(cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

const token = "load-admin-token"

// The runs of one round, in the order they are measured.
const (
	mixedMemory   = "mixed, trivial in-memory handler"
	mixedDurable  = "mixed, trivial durable handler"
	mixedServe    = "mixed, miscim serve"
	mixedServeLog = "mixed, miscim serve, request log on"
	readMemory    = "read-only, trivial in-memory handler"
	readServe     = "read-only, miscim serve"
)

var runOrder = []string{mixedMemory, mixedDurable, mixedServe, mixedServeLog, readMemory, readServe}

// round is one measurement of every run, and what the request log holds.
type round struct {
	runs   map[string]result
	logged int // records the log run added
	leaked int // records the runs with logging off added (must be 0)
}

func run(cfg config, out io.Writer) (int, error) {
	// The database, the durable baseline's journal and the request log
	// share one directory, so one disk.
	dir, err := os.MkdirTemp("", "miscim-load-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return 0, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}

	env := append(os.Environ(), "NO_COLOR=1", "XDG_STATE_HOME="+dir)
	memProc, err := loadrun.Start(dir, "trivial", env, self, "-serve-trivial")
	if err != nil {
		return 0, err
	}
	defer memProc.Stop()
	durProc, err := loadrun.Start(dir, "durable", env, self, "-serve-trivial", "-journal", filepath.Join(dir, "trivial.journal"))
	if err != nil {
		return 0, err
	}
	defer durProc.Stop()
	logDir := filepath.Join(dir, "log")
	serveArgs := []string{"serve", "--addr", "127.0.0.1:0", "--quiet", "--admin-token-file", tokenFile,
		"--sync", cfg.sync, "--db", filepath.Join(dir, "miscim.db"), "--log-dir", logDir}
	var pprofAddr string
	if cfg.profileDir != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return 0, err
		}
		serveArgs = append(serveArgs, "--pprof-addr", pprofAddr)
	}
	serveProc, err := loadrun.Start(dir, "serve", env, cfg.miscim, serveArgs...)
	if err != nil {
		return 0, err
	}
	defer serveProc.Stop()

	fmt.Fprintf(out, "load run: %d clients, %s per run, %d rounds, loopback; serve with SQLite synchronous=%s\n",
		cfg.clients, cfg.duration, cfg.rounds, strings.ToUpper(cfg.sync))
	if p, err := probeFsync(dir, 200); err == nil {
		fmt.Fprintf(out, "disk: fdatasync after a 4 KiB append, beside the database: p50 %s, p90 %s (%d syncs)\n",
			ms(p.p50), ms(p.p90), p.n)
	} else {
		return 0, fmt.Errorf("measure fdatasync: %w", err)
	}

	mem := newServer(memProc.URL, memProc.PID(), cfg.clients)
	dur := newServer(durProc.URL, durProc.PID(), cfg.clients)
	srv := newServer(serveProc.URL, serveProc.PID(), cfg.clients)
	defer mem.Close()
	defer dur.Close()
	defer srv.Close()
	memUsers, err := loadrun.Seed(mem.Driver, cfg.users, cfg.clients)
	if err != nil {
		return 0, fmt.Errorf("in-memory handler: %w", err)
	}
	srvUsers, err := loadrun.Seed(srv.Driver, cfg.users, cfg.clients)
	if err != nil {
		return 0, fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(out, "read-only workload over %d users seeded in each server\n", cfg.users)

	var rounds []round
	for n := 1; n <= cfg.rounds; n++ {
		r, err := measureRound(cfg, n, logDir, mem, dur, srv, memUsers, srvUsers, pprofAddr)
		if err != nil {
			return 0, err
		}
		rounds = append(rounds, r)
		fmt.Fprintf(out, "\nround %d\n", n)
		printRound(out, r, cfg.verbose)
	}
	if recs, syncs, err := journalStats(durProc.URL); err == nil && syncs > 0 {
		fmt.Fprintf(out, "\ndurable baseline: %d writes in %d fdatasyncs (%.1f per sync)\n", recs, syncs, float64(recs)/float64(syncs))
	}
	v := judge(rounds)
	printVerdict(out, v, len(rounds))
	if !v.ok() {
		fmt.Fprintln(out, "result: a target was missed")
		return 3, nil
	}
	fmt.Fprintln(out, "result: all targets met")
	return 0, nil
}

func measureRound(cfg config, n int, logDir string, mem, dur, srv server, memUsers, srvUsers []loadrun.Seeded, pprofAddr string) (round, error) {
	r := round{runs: map[string]result{}}
	mixed := func(s server, name string) func() result {
		return func() result {
			return measure(s, cfg.duration, cfg.clients, func(ctx context.Context, c int, lat *loadrun.Latencies) {
				loadrun.MixedClient(ctx, s.Driver, lat, fmt.Sprintf("load-%d-%s-%d", n, shortName(name), c))
			})
		}
	}
	reads := func(s server, users []loadrun.Seeded) func() result {
		return func() result {
			return measure(s, cfg.duration, cfg.clients, func(ctx context.Context, c int, lat *loadrun.Latencies) {
				loadrun.ReadClient(ctx, s.Driver, lat, users, newRand(n, c))
			})
		}
	}
	before, err := countRecords(logDir)
	if err != nil {
		return r, err
	}
	r.runs[mixedMemory] = mixed(mem, mixedMemory)()
	r.runs[mixedDurable] = mixed(dur, mixedDurable)()
	if n == 1 && pprofAddr != "" {
		res, err := profiled(cfg, pprofAddr, "mixed", mixed(srv, mixedServe))
		if err != nil {
			return r, err
		}
		r.runs[mixedServe] = res
	} else {
		r.runs[mixedServe] = mixed(srv, mixedServe)()
	}

	// The log run: switch the logger on (the engine re-reads the switch
	// within 500ms), measure, switch it off, and count what it wrote.
	if err := setLogger(srv.Base, "Y"); err != nil {
		return r, err
	}
	time.Sleep(time.Second)
	mid, err := countRecords(logDir)
	if err != nil {
		return r, err
	}
	r.leaked = mid - before
	if n == 1 && pprofAddr != "" {
		res, err := profiled(cfg, pprofAddr, "mixed-log", mixed(srv, mixedServeLog))
		if err != nil {
			return r, err
		}
		r.runs[mixedServeLog] = res
	} else {
		r.runs[mixedServeLog] = mixed(srv, mixedServeLog)()
	}
	if err := setLogger(srv.Base, "N"); err != nil {
		return r, err
	}
	time.Sleep(time.Second)
	// The records of the log run reach the disk when the writer's queue
	// runs empty; give it a moment.
	want := int(r.runs[mixedServeLog].requests)
	after := 0
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if after, err = countRecords(logDir); err != nil {
			return r, err
		}
		// Only SCIM requests are logged (not the admin API's PUT), so the
		// count must match exactly.
		if after-mid >= want || time.Now().After(deadline) {
			break
		}
	}
	r.logged = after - mid

	r.runs[readMemory] = reads(mem, memUsers)()
	if n == 1 && pprofAddr != "" {
		res, err := profiled(cfg, pprofAddr, "read-only", reads(srv, srvUsers))
		if err != nil {
			return r, err
		}
		r.runs[readServe] = res
	} else {
		r.runs[readServe] = reads(srv, srvUsers)()
	}
	end, err := countRecords(logDir)
	if err != nil {
		return r, err
	}
	r.leaked += end - after
	return r, nil
}

func shortName(run string) string {
	switch run {
	case mixedMemory:
		return "mem"
	case mixedDurable:
		return "dur"
	case mixedServe:
		return "srv"
	case mixedServeLog:
		return "log"
	}
	return "x"
}

func setLogger(base, value string) error {
	api := strings.TrimSuffix(base, "/scim/v2") + "/api/system-variables/ENABLE_SCIM_REQUEST_LOGGER"
	req, _ := http.NewRequest(http.MethodPut, api, strings.NewReader(`{"value":"`+value+`"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("set ENABLE_SCIM_REQUEST_LOGGER: %d %s", resp.StatusCode, b)
	}
	return nil
}
