package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// profiled runs measure while fetching a CPU profile and an allocation
// profile of serve (its --pprof-addr) over the same seconds, writes both to
// cfg.profileDir as <name>-cpu.pprof and <name>-allocs.pprof and prints
// where the time and the allocations go.
func profiled(cfg config, addr, name string, measure func() result) (result, error) {
	secs := max(int(cfg.duration.Seconds())-1, 1)
	type fetched struct {
		name string
		data []byte
		err  error
	}
	ch := make(chan fetched, 2)
	for _, p := range []string{"profile", "allocs"} {
		go func() {
			b, err := fetchProfile(fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, p, secs))
			ch <- fetched{p, b, err}
		}()
	}
	time.Sleep(200 * time.Millisecond) // let both start before the load does
	res := measure()
	if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
		return res, err
	}
	profiles := map[string]*profile.Profile{}
	for range 2 {
		f := <-ch
		if f.err != nil {
			return res, fmt.Errorf("profile serve: %w", f.err)
		}
		file := filepath.Join(cfg.profileDir, name+map[string]string{"profile": "-cpu.pprof", "allocs": "-allocs.pprof"}[f.name])
		if err := os.WriteFile(file, f.data, 0o644); err != nil {
			return res, err
		}
		p, err := profile.Parse(bytes.NewReader(f.data))
		if err != nil {
			return res, fmt.Errorf("read %s: %w", file, err)
		}
		profiles[f.name] = p
	}
	fmt.Printf("\nprofile of serve, %s workload (round 1, %ds), written to %s:\n", name, secs, cfg.profileDir)
	printBreakdown(os.Stdout, "CPU", profiles["profile"], "cpu", func(v int64) string { return time.Duration(v).Round(time.Millisecond).String() })
	printBreakdown(os.Stdout, "allocated bytes", profiles["allocs"], "alloc_space", func(v int64) string { return fmt.Sprintf("%.1f MB", float64(v)/1e6) })
	fmt.Printf("  per request: %s allocated in %s objects (%d requests)\n",
		perRequest(profiles["allocs"], "alloc_space", res.requests, "B"), perRequest(profiles["allocs"], "alloc_objects", res.requests, ""), res.requests)
	fmt.Printf("  details: go tool pprof -top -cum %s %s\n", cfg.miscim, filepath.Join(cfg.profileDir, name+"-cpu.pprof"))
	return res, nil
}

func fetchProfile(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, nil
}

// component names where a sample's time goes: the first rule, in this
// order, that matches a function on its stack (or, for the rules marked
// leaf, the function it was in). The order puts the specific before the
// general: an fdatasync is SQLite's commit, SQLite runs under
// database/sql, and everything a request does runs under net/http.
var components = []struct {
	name  string
	leaf  bool
	match func(fn string) bool
}{
	{"fdatasync (the durable commit)", false, func(fn string) bool {
		// The store syncs its log with a raw system call of its own
		// (internal/store/sqlite/fdatasync_linux.go).
		return strings.Contains(fn, "Fdatasync") || strings.Contains(fn, "Fsync") || strings.HasSuffix(fn, "/store/sqlite.fdatasync")
	}},
	{"SQLite (statements, commit; the driver)", false, func(fn string) bool { return strings.HasPrefix(fn, "github.com/ncruces/") }},
	{"database/sql", false, prefix("database/sql.")},
	{"request log", false, prefix("github.com/miscim/miscim/internal/reqlog.")},
	{"garbage collection", false, func(fn string) bool {
		return fn == "runtime.gcBgMarkWorker" || fn == "runtime.gcAssistAlloc" || fn == "runtime.bgsweep" || fn == "runtime.bgscavenge"
	}},
	{"allocation", true, func(fn string) bool {
		return strings.HasPrefix(fn, "runtime.mallocgc") || strings.HasPrefix(fn, "runtime.memclr") || fn == "runtime.growslice"
	}},
	{"JSON", false, prefix("encoding/json.")},
	{"metrics (Prometheus)", false, prefix("github.com/prometheus/")},
	{"access log (slog)", false, prefix("log/slog.")},
	{"miscim engine, scim, store", false, func(fn string) bool {
		return strings.HasPrefix(fn, "github.com/miscim/miscim/internal/engine.") || strings.HasPrefix(fn, "github.com/miscim/miscim/internal/scim.") ||
			strings.HasPrefix(fn, "github.com/miscim/miscim/internal/store")
	}},
	{"network syscalls (read, write, epoll)", true, func(fn string) bool {
		return strings.HasPrefix(fn, "syscall.") || strings.HasPrefix(fn, "internal/runtime/syscall") || strings.HasPrefix(fn, "runtime.netpoll") || fn == "runtime/internal/syscall.Syscall6"
	}},
	{"net/http (parsing, headers, connections)", false, prefix("net/http.")},
	{"scheduler and other runtime", false, prefix("runtime.")},
}

func prefix(p string) func(string) bool {
	return func(fn string) bool { return strings.HasPrefix(fn, p) }
}

func classify(s *profile.Sample) string {
	var fns []string // leaf first
	for _, loc := range s.Location {
		for _, l := range loc.Line {
			if l.Function != nil {
				fns = append(fns, l.Function.Name)
			}
		}
	}
	for _, c := range components {
		if c.leaf {
			if len(fns) > 0 && c.match(fns[0]) {
				return c.name
			}
			continue
		}
		for _, fn := range fns {
			if c.match(fn) {
				return c.name
			}
		}
	}
	return "other"
}

func sampleIndex(p *profile.Profile, typ string) int {
	for i, st := range p.SampleType {
		if st.Type == typ {
			return i
		}
	}
	return -1
}

func printBreakdown(out io.Writer, title string, p *profile.Profile, typ string, format func(int64) string) {
	i := sampleIndex(p, typ)
	if i < 0 {
		fmt.Fprintf(out, "  (no %s samples)\n", typ)
		return
	}
	by := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[i]
		by[classify(s)] += v
		total += v
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(by[b], by[a]) })
	var writer int64
	for _, s := range p.Sample {
		for _, loc := range s.Location {
			if slices.ContainsFunc(loc.Line, func(l profile.Line) bool {
				return l.Function != nil && strings.HasSuffix(l.Function.Name, "sqlite.(*Store).writeLoop")
			}) {
				writer += s.Value[i]
				break
			}
		}
	}
	fmt.Fprintf(out, "  %s: %s in all, %.1f%% of it in the store's single writer goroutine\n", title, format(total), 100*float64(writer)/float64(max(total, 1)))
	for _, n := range names {
		if total > 0 {
			fmt.Fprintf(out, "    %5.1f%%  %s\n", 100*float64(by[n])/float64(total), n)
		}
	}
}

func perRequest(p *profile.Profile, typ string, requests int64, unit string) string {
	i := sampleIndex(p, typ)
	if i < 0 || requests == 0 {
		return "?"
	}
	var total int64
	for _, s := range p.Sample {
		total += s.Value[i]
	}
	return fmt.Sprintf("%.0f%s", float64(total)/float64(requests), unit)
}
