// Command diffbench measures `miscim diff` of DESIGN §8's tenant: 100,000
// users, 1,000 groups and 200,000 memberships (tenantgen.Large, a Microsoft
// Graph export on disk, --scope all so that every enabled user and every
// group is in scope), against the embedded target (target: < 5 s and
// < 500 MB resident) and over loopback to `miscim serve` (target: < 15 s).
//
// The target is seeded straight into a store with what the tenant maps to,
// as an initial cycle leaves it (the setup is not measured), so that diff
// finds it identical (exit 0, checked); then 1% of the users are changed
// in the store and diff finds exactly those (exit 3, checked). Each diff
// runs in a fresh process, three times per case; the median wall time,
// the CPU time (user + system) and the peak resident set of the diff
// process are printed, and serve's CPU for the loopback runs. It exits 3
// when a median misses its target.
//
//	go run ./cmd/diffbench -miscim bin/miscim
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
	"github.com/miscim/miscim/internal/loadrun"
	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/sqlite"
)

const token = "diffbench-admin-token"

func main() {
	miscim := flag.String("miscim", "bin/miscim", "miscim binary to measure")
	users := flag.Int("users", 100_000, "users in the tenant")
	groups := flag.Int("groups", 1000, "groups")
	memberships := flag.Int("memberships", 200_000, "direct memberships")
	runs := flag.Int("runs", 3, "runs per case")
	keep := flag.String("dir", "", "work in this directory and keep it (default: a temporary one, removed)")
	flag.Parse()
	code, err := run(*miscim, *users, *groups, *memberships, *runs, *keep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "diffbench:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(miscim string, users, groups, memberships, runs int, keep string) (int, error) {
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "miscim-diffbench-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	export := filepath.Join(dir, "tenant")
	db := filepath.Join(dir, "miscim.db")
	for _, f := range []string{db, db + "-wal", db + "-shm", export} {
		os.RemoveAll(f)
	}
	t0 := time.Now()
	if err := tenantgen.WriteGraph(export, tenantgen.Large(users, groups, memberships), 999); err != nil {
		return 0, fmt.Errorf("write the tenant: %w", err)
	}
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		return 0, err
	}
	seeded, err := seed(st, export)
	st.Close()
	if err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("tenant of %d users, %d groups, %d memberships written and the target seeded with %d users, %d groups, %d memberships in %s\n\n",
		users, groups, memberships, seeded.users, seeded.groups, seeded.members, time.Since(t0).Round(time.Millisecond))

	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return 0, err
	}
	ok := true
	fmt.Printf("%-44s %9s %9s %9s %10s %9s  %s\n", "miscim diff --scope all (median of "+fmt.Sprint(runs)+")", "wall", "CPU", "peak RSS", "CPU serve", "changes", "target")
	measure := func(name string, wantExit, wantChanges int, remote bool, maxWall time.Duration, maxRSS int64) error {
		var walls, cpus, serveCPUs []time.Duration
		var rsss []int64
		changes := 0
		for range runs {
			var base string
			var srv *served
			if remote {
				var err error
				if base, srv, err = startServe(dir, miscim, db, tokenFile); err != nil {
					return err
				}
			}
			before := srv.cpu()
			r, err := diff(miscim, dir, export, db, base, tokenFile)
			serveCPU := srv.cpu() - before
			srv.stop()
			if err != nil {
				return err
			}
			if r.exit != wantExit || r.changes != wantChanges {
				return fmt.Errorf("%s: exit %d with %d changes, want exit %d with %d: %s", name, r.exit, r.changes, wantExit, wantChanges, r.stderr)
			}
			walls, cpus, rsss, serveCPUs, changes = append(walls, r.wall), append(cpus, r.cpu), append(rsss, r.rss), append(serveCPUs, serveCPU), r.changes
		}
		wall, rss := median(walls), median(rsss)
		verdict := fmt.Sprintf("< %s", maxWall)
		if maxRSS > 0 {
			verdict += fmt.Sprintf(", < %d MB", maxRSS>>20)
		}
		if wall >= maxWall || maxRSS > 0 && rss >= maxRSS {
			ok = false
			verdict += ": missed"
		} else {
			verdict += ": met"
		}
		sc := "-"
		if remote {
			sc = round(median(serveCPUs))
		}
		fmt.Printf("%-44s %9s %9s %6d MB %10s %9d  %s\n", name, round(wall), round(median(cpus)), rss>>20, sc, changes, verdict)
		return nil
	}
	if err := measure("embedded, identical", 0, 0, false, 5*time.Second, 500<<20); err != nil {
		return 0, err
	}
	if err := measure("loopback to serve, identical", 0, 0, true, 15*time.Second, 0); err != nil {
		return 0, err
	}
	changed, err := change(db, seeded.users/100)
	if err != nil {
		return 0, err
	}
	if err := measure(fmt.Sprintf("embedded, %d users changed", changed), 3, changed, false, 5*time.Second, 500<<20); err != nil {
		return 0, err
	}
	if err := measure(fmt.Sprintf("loopback to serve, %d users changed", changed), 3, changed, true, 15*time.Second, 0); err != nil {
		return 0, err
	}
	fmt.Println("\n(wall: from start to exit of the diff process, tenant load included; CPU: its user+system time;")
	fmt.Println(" peak RSS: its maximum resident set; CPU serve: serve's user+system time during the run)")
	if !ok {
		fmt.Println("\nresult: a target was missed")
		return 3, nil
	}
	fmt.Println("\nresult: all targets met")
	return 0, nil
}

type seededCounts struct{ users, groups, members int }

// seed writes what the tenant maps to (Metric Insights' mapping, scope
// all) into the store, as an initial cycle leaves it: every user and
// group in scope, every in-scope direct membership.
func seed(st store.Store, export string) (seededCounts, error) {
	var n seededCounts
	ctx := context.Background()
	tn, err := tenant.Load(export)
	if err != nil {
		return n, err
	}
	mp, err := mapping.New(tn, mapping.Default(), mapping.Options{Scope: mapping.ScopeAll, Env: &expr.Env{}})
	if err != nil {
		return n, err
	}
	now := time.Now().UTC()
	ids := map[string]string{}
	value := func(d *mapping.Desired, target string) string {
		v, ok := d.Value(target)
		if !ok || v.Flow == mapping.FlowNone {
			return ""
		}
		s, _ := v.Value().Single()
		return s
	}
	var batch []store.User
	flush := func() error {
		err := st.Update(ctx, func(tx store.Tx) error {
			for _, u := range batch {
				if err := tx.InsertUser(u); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	for u := range tn.Users() {
		d := mp.User(u)
		if !d.Scope.InScope {
			continue
		}
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n.users)
		ids[u.ObjectID()] = id
		name := value(d, "userName")
		batch = append(batch, store.User{ID: id, ExternalID: value(d, "externalId"), UserName: name, GivenName: value(d, "name.givenName"),
			FamilyName: value(d, "name.familyName"), Email: value(d, `emails[type eq "work"].value`), EmailType: "work", Active: true,
			UserType: "regular", AuthMethod: "sso", Source: "scim", MIUsername: name, Created: now, Modified: now, Version: 1})
		n.users++
		if len(batch) == 5000 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, st.Update(ctx, func(tx store.Tx) error {
		for g := range tn.Groups() {
			d := mp.Group(g)
			if !d.Scope.InScope {
				continue
			}
			id := fmt.Sprintf("00000000-0000-4000-9000-%012d", n.groups)
			if err := tx.InsertGroup(store.Group{ID: id, DisplayName: value(d, "displayName"), ExternalID: value(d, "externalId"),
				Description: value(d, "description"), Created: now, Modified: now, Version: 1}); err != nil {
				return err
			}
			n.groups++
			members := make([]string, 0, len(d.Members))
			for _, m := range d.Members {
				members = append(members, ids[m])
			}
			added, err := tx.AddMembers(id, members)
			if err != nil {
				return err
			}
			n.members += added
		}
		return nil
	})
}

// change gives every 100th user another family name in the store: what
// diff must find.
func change(db string, n int) (int, error) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db, sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	changed := 0
	err = st.Update(ctx, func(tx store.Tx) error {
		for i := 0; i < n; i++ {
			u, err := tx.User(fmt.Sprintf("00000000-0000-4000-8000-%012d", i*100))
			if err != nil {
				return err
			}
			u.FamilyName += " (changed)"
			u.Version++
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	return changed, err
}

// result is one diff run.
type result struct {
	wall, cpu time.Duration
	rss       int64
	exit      int
	changes   int
	stderr    string
}

// diff runs miscim diff once, -o json, against the embedded database or
// base over loopback.
func diff(miscim, dir, export, db, base, tokenFile string) (result, error) {
	var r result
	args := []string{"--db", db}
	if base != "" {
		args = []string{"--url", base, "--token-file", tokenFile}
	}
	args = append(args, "diff", "--tenant", export, "--scope", "all", "-o", "json")
	cmd := exec.Command(miscim, args...)
	cmd.Env = loadrun.Env(dir)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	t0 := time.Now()
	err := cmd.Run()
	r.wall = time.Since(t0)
	r.stderr = strings.TrimSpace(stderr.String())
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	default:
		return r, err
	}
	ps := cmd.ProcessState
	r.cpu = ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		r.rss = ru.Maxrss << 10 // KiB on Linux
	}
	var doc struct {
		Changes []json.RawMessage `json:"changes"`
	}
	if r.exit == 0 || r.exit == 3 {
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			return r, fmt.Errorf("diff's JSON: %w (%s)", err, r.stderr)
		}
	}
	r.changes = len(doc.Changes)
	return r, nil
}

// served is a serve process (nil: none).
type served struct{ p *loadrun.Process }

func startServe(dir, miscim, db, tokenFile string) (string, *served, error) {
	p, err := loadrun.Start(dir, "serve", loadrun.Env(dir), miscim, "serve", "--addr", "127.0.0.1:0", "--quiet", "--db", db,
		"--admin-token-file", tokenFile, "--log-dir", filepath.Join(dir, "log"))
	if err != nil {
		return "", nil, err
	}
	return p.URL, &served{p: p}, nil
}

func (s *served) stop() {
	if s != nil {
		s.p.Stop()
	}
}

// cpu is serve's user+system time so far; 0 without a serve.
func (s *served) cpu() time.Duration {
	if s == nil {
		return 0
	}
	return max(0, s.p.CPU())
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.String()
}
