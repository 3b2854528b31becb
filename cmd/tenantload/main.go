// Command tenantload measures how fast internal/entra/tenant loads a large
// Microsoft Graph export (DESIGN §8 and issue 9: 100,000 users, 1,000
// groups and 200,000 memberships in under 2 s and 300 MB resident). It
// writes the export with tenantgen.Large into a temporary directory, then
// loads it several times, each in a fresh child process so that the peak
// resident set (VmHWM) is the loader's alone, and prints the wall time,
// the CPU time and the peak RSS of each run and their medians. It exits 3
// when a median misses its target.
//
//	go run ./cmd/tenantload -users 100000 -groups 1000 -memberships 200000
//
// The wall time depends on what else the machine runs; the CPU time
// (user + system) is what the load itself costs. For scale, each run is
// paired with a baseline measured the same way in the same run: a fresh
// process that reads every file of the export and checks it with
// encoding/json's json.Valid, building nothing; the ratio of the two says
// what the snapshot costs beyond one pass of Go's own JSON scanner.
//
// To compare two versions of the loader in one run, build tenantload from
// the other version and name it with -against: each run then also loads
// the export with that binary, right after the load measured, and the
// medians of both are printed side by side.
//
//	git stash && go build -o /tmp/tenantload-before ./cmd/tenantload && git stash pop
//	go run ./cmd/tenantload -against /tmp/tenantload-before
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
	"github.com/miscim/miscim/internal/loadrun"
)

func main() {
	users := flag.Int("users", 100000, "users in the generated export")
	groups := flag.Int("groups", 1000, "groups")
	memberships := flag.Int("memberships", 200000, "direct memberships")
	runs := flag.Int("runs", 5, "measured loads, each in its own process")
	dir := flag.String("dir", "", "use (or keep) the export in this directory instead of a temporary one")
	maxTime := flag.Duration("target-time", 2*time.Second, "target for the median wall time")
	maxRSS := flag.Int("target-rss-mb", 300, "target for the median peak RSS, MB")
	load := flag.String("load", "", "internal: load this export once and report")
	validate := flag.String("validate", "", "internal: read and json.Valid every file of this export once and report")
	against := flag.String("against", "", "another build of tenantload to compare with: each run also loads the export with it")
	flag.Parse()
	if *validate != "" {
		if err := validateOnce(*validate); err != nil {
			fmt.Fprintln(os.Stderr, "tenantload:", err)
			os.Exit(1)
		}
		return
	}
	if *load != "" {
		if err := loadOnce(*load); err != nil {
			fmt.Fprintln(os.Stderr, "tenantload:", err)
			os.Exit(1)
		}
		return
	}
	code, err := run(*users, *groups, *memberships, *runs, *dir, *against, *maxTime, *maxRSS)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tenantload:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// loadOnce is the child: one load, its wall time and what it holds.
func loadOnce(dir string) error {
	start := time.Now()
	t, err := tenant.Load(dir)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%d %d %d %d %d %d\n", wall.Nanoseconds(), ms.HeapAlloc, hwm, t.UserCount(), t.GroupCount(), t.MembershipCount())
	runtime.KeepAlive(t)
	return nil
}

// peakRSS is the process's peak resident set (VmHWM), in bytes. It is read
// in the child itself: the maxrss that wait4 reports for a child started
// by fork and exec can carry the parent's peak over (Linux keeps the
// larger of the two across exec), which would count the export's
// generator.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// validateOnce is the baseline child: every file read and validated.
func validateOnce(dir string) error {
	start := time.Now()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !json.Valid(b) {
			return fmt.Errorf("%s: not valid JSON", p)
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d 0 0 %d 0 0\n", time.Since(start).Nanoseconds(), n)
	return nil
}

type result struct {
	wall, cpu, baseline        time.Duration
	rssMB, heapMB              float64
	users, groups, memberships int
	other                      *result // the load by -against's binary
}

// child runs one measured process and reads its report.
func child(self string, args ...string) (result, error) {
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	f := strings.Fields(string(out))
	if len(f) != 6 {
		return result{}, fmt.Errorf("unexpected output %q", out)
	}
	n := make([]int64, 6)
	for i := range f {
		if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return result{}, fmt.Errorf("unexpected output %q", out)
		}
	}
	return result{
		wall:   time.Duration(n[0]),
		cpu:    cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		heapMB: float64(n[1]) / (1 << 20),
		rssMB:  float64(n[2]) / (1 << 20),
		users:  int(n[3]), groups: int(n[4]), memberships: int(n[5]),
	}, nil
}

func run(users, groups, memberships, runs int, dir, against string, maxTime time.Duration, maxRSS int) (int, error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tenantload-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	export := filepath.Join(dir, "graph")
	if _, err := os.Stat(filepath.Join(export, "users.json")); errors.Is(err, os.ErrNotExist) {
		start := time.Now()
		if err := tenantgen.WriteGraph(export, tenantgen.Large(users, groups, memberships), 999); err != nil {
			return 0, err
		}
		fmt.Printf("wrote a Graph export of %d users, %d groups, %d memberships (%s) in %s\n",
			users, groups, memberships, size(export), time.Since(start).Round(time.Millisecond))
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	var rs []result
	fmt.Printf("%-8s %10s %10s %10s %10s %14s\n", "run", "wall", "cpu", "peak RSS", "live heap", "baseline wall")
	row := func(name string, r result, baseline string) {
		fmt.Printf("%-8s %10s %10s %7.0f MB %7.0f MB %14s\n", name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), r.rssMB, r.heapMB, baseline)
	}
	check := func(r result, what string, i int) error {
		if r.users != users || r.groups != groups || r.memberships != memberships {
			return fmt.Errorf("%s run %d read %d users, %d groups, %d memberships", what, i+1, r.users, r.groups, r.memberships)
		}
		return nil
	}
	for i := range runs {
		r, err := child(self, "-load", export)
		if err != nil {
			return 0, fmt.Errorf("load run %d: %w", i+1, err)
		}
		if err := check(r, "load", i); err != nil {
			return 0, err
		}
		if against != "" {
			o, err := child(against, "-load", export)
			if err != nil {
				return 0, fmt.Errorf("load run %d by %s: %w", i+1, against, err)
			}
			if err := check(o, "-against load", i); err != nil {
				return 0, err
			}
			r.other = &o
		}
		base, err := child(self, "-validate", export)
		if err != nil {
			return 0, fmt.Errorf("baseline run %d: %w", i+1, err)
		}
		r.baseline = base.wall
		rs = append(rs, r)
		row(strconv.Itoa(i+1), r, r.baseline.Round(time.Millisecond).String())
		if r.other != nil {
			row("  against", *r.other, "")
		}
	}
	med := func(get func(result) float64) float64 {
		vs := make([]float64, len(rs))
		for i, r := range rs {
			vs[i] = get(r)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	wall := time.Duration(med(func(r result) float64 { return float64(r.wall) }))
	cpu := time.Duration(med(func(r result) float64 { return float64(r.cpu) }))
	rss := med(func(r result) float64 { return r.rssMB })
	base := time.Duration(med(func(r result) float64 { return float64(r.baseline) }))
	fmt.Printf("median: wall %s (target < %s), cpu %s, peak RSS %.0f MB (target < %d MB)\n",
		wall.Round(time.Millisecond), maxTime, cpu.Round(time.Millisecond), rss, maxRSS)
	if against != "" {
		owall := time.Duration(med(func(r result) float64 { return float64(r.other.wall) }))
		ocpu := time.Duration(med(func(r result) float64 { return float64(r.other.cpu) }))
		orss := med(func(r result) float64 { return r.other.rssMB })
		fmt.Printf("against %s: median wall %s, cpu %s, peak RSS %.0f MB; this / against: wall %.2f, cpu %.2f, peak RSS %.2f\n",
			against, owall.Round(time.Millisecond), ocpu.Round(time.Millisecond), orss, float64(wall)/float64(owall), float64(cpu)/float64(ocpu), rss/orss)
	}
	fmt.Printf("baseline (read + json.Valid of every file): wall %s; load / baseline = %.2f; load average %s\n",
		base.Round(time.Millisecond), float64(wall)/float64(base), loadrun.LoadAverage())
	code := 0
	if wall >= maxTime {
		fmt.Println("target missed: load time")
		code = 3
	}
	if rss >= float64(maxRSS) {
		fmt.Println("target missed: resident memory")
		code = 3
	}
	return code, nil
}

func size(dir string) string {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}
