// Command listbench measures how reading a large target costs, over
// loopback against `miscim serve` with 100,000 users (issue 8, DESIGN §8):
//
//   - every page of the users read in sequence, by startIndex and by cursor
//     (RFC 9865), and the time of the last page against the first (target:
//     within 2x: a page costs its own size wherever it is);
//   - `miscim users list` of all of them (target: < 5 s), by cursor as
//     serve advertises, and by startIndex through a proxy that hides the
//     cursor support, as a target without cursors is read.
//
// It prints the numbers and exits 3 when a target is missed.
//
//	go run ./cmd/listbench -miscim bin/miscim
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
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/loadrun"
	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/sqlite"
)

const token = "listbench-admin-token"

func main() {
	miscim := flag.String("miscim", "bin/miscim", "miscim binary to measure")
	users := flag.Int("users", 100_000, "users in the store")
	pageSize := flag.Int("page", 100, "page size of the page-by-page walks")
	walks := flag.Int("walks", 3, "walks per paging method; first and last page are medians over them")
	flag.Parse()
	code, err := run(*miscim, *users, *pageSize, *walks)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listbench:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(miscim string, users, pageSize, walks int) (int, error) {
	dir, err := os.MkdirTemp("", "miscim-listbench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "miscim.db")
	t0 := time.Now()
	if err := seed(db, users); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("%d users seeded in %s\n", users, time.Since(t0).Round(time.Millisecond))
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return 0, err
	}
	serve, err := loadrun.Start(dir, "serve", loadrun.Env(dir), miscim, "serve", "--addr", "127.0.0.1:0", "--quiet", "--db", db,
		"--admin-token-file", tokenFile, "--log-dir", filepath.Join(dir, "log"))
	if err != nil {
		return 0, err
	}
	defer serve.Stop()
	base := serve.URL
	fmt.Printf("miscim serve on %s (synchronous=FULL)\n\n", base)

	ok := true
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	fmt.Printf("every page of %d users, %d per page, read in sequence; %d walks per method:\n", users, pageSize, walks)
	fmt.Printf("%-11s %6s %11s %11s %11s %11s %9s\n", "paging", "pages", "walk", "first 10", "last 10", "all pages", "last/first")
	lastPage := map[string]url.Values{}
	for _, method := range []string{"startIndex", "cursor"} {
		var firsts, lasts, medians, walkTimes []time.Duration
		var pages int
		for range walks {
			w, err := walk(hc, base, method, pageSize, users)
			if err != nil {
				return 0, err
			}
			pages = len(w.times)
			firsts = append(firsts, median(w.times[:min(10, pages)]))
			lasts = append(lasts, median(w.times[max(0, pages-10):]))
			medians = append(medians, median(w.times))
			walkTimes = append(walkTimes, w.total)
			lastPage[method] = w.last
		}
		first, last := median(firsts), median(lasts)
		fmt.Printf("%-11s %6d %11s %11s %11s %11s %9.2f\n", method, pages, round(median(walkTimes)), round(first), round(last), round(median(medians)), float64(last)/float64(first))
	}
	fmt.Println("(first 10, last 10: the median page time among the first and the last ten pages of a walk, median over the walks)")

	// The same comparison, robust to a busy machine: the first and the last
	// page of the walks above, asked alternately, 51 times each.
	const rounds = 51
	fmt.Printf("\nfirst page against last page, asked alternately %d times each (median):\n", rounds)
	fmt.Printf("%-11s %11s %11s %9s\n", "paging", "first page", "last page", "last/first")
	for _, method := range []string{"startIndex", "cursor"} {
		firstQ := url.Values{"count": {fmt.Sprint(pageSize)}, "startIndex": {"1"}}
		if method == "cursor" {
			firstQ = url.Values{"count": {fmt.Sprint(pageSize)}, "cursor": {""}}
		}
		var firsts, lasts []time.Duration
		for range rounds {
			for i, q := range []url.Values{firstQ, lastPage[method]} {
				d, _, err := get(hc, base, q)
				if err != nil {
					return 0, err
				}
				if i == 0 {
					firsts = append(firsts, d)
				} else {
					lasts = append(lasts, d)
				}
			}
		}
		first, last := median(firsts), median(lasts)
		ratio := float64(last) / float64(first)
		fmt.Printf("%-11s %11s %11s %9.2f\n", method, round(first), round(last), ratio)
		if ratio > 2 {
			ok = false
		}
	}
	fmt.Println("target: the last page within 2x of the first")

	proxy, err := hideCursors(base)
	if err != nil {
		return 0, err
	}
	defer proxy.Close()
	fmt.Printf("\nmiscim users list of %d users over loopback, output piped; median of 3 runs:\n", users)
	fmt.Printf("  %-62s %8s %11s %11s\n", "", "wall", "CPU list", "CPU serve")
	for _, tt := range []struct{ name, url string }{
		{"by cursor (serve advertises cursors), pages of 1,000", base},
		{"by startIndex (a proxy hides the cursors), pages of 1,000", proxy.URL},
	} {
		var walls, cpus, serveCPUs []time.Duration
		for range 3 {
			before := serve.CPU()
			r, err := usersList(miscim, dir, tt.url, tokenFile)
			if err != nil {
				return 0, err
			}
			if r.lines != users {
				return 0, fmt.Errorf("users list %s printed %d users, want %d", tt.name, r.lines, users)
			}
			walls, cpus, serveCPUs = append(walls, r.wall), append(cpus, r.cpu), append(serveCPUs, serve.CPU()-before)
		}
		m := median(walls)
		fmt.Printf("  %-62s %8s %11s %11s\n", tt.name, round(m), round(median(cpus)), cpuText(median(serveCPUs)))
		if tt.url == base && m >= 5*time.Second {
			ok = false
		}
	}
	fmt.Println("target: < 5 s wall (the cursor run, miscim against miscim)")
	fmt.Println("(CPU: user+system time of the users list process and of serve during the run; it does not grow with")
	fmt.Println(" the load of the machine, the wall time does)")
	if !ok {
		fmt.Println("\nresult: a target was missed")
		return 3, nil
	}
	fmt.Println("\nresult: all targets met")
	return 0, nil
}

// seed writes the users straight into the store, in batches: what is
// measured is reading them.
func seed(db string, n int) error {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db, sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()
	const batch = 5000
	for start := 0; start < n; start += batch {
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				name := fmt.Sprintf("user%07d@example.com", i)
				u := store.User{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), ExternalID: fmt.Sprintf("ext-%d", i), UserName: name,
					GivenName: "Given", FamilyName: fmt.Sprintf("Family%d", i), Email: name, EmailType: "work", Active: true,
					UserType: "regular", AuthMethod: "sso", Source: "scim", MIUsername: name, Created: now, Modified: now, Version: 1}
				if err := tx.InsertUser(u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func cpuText(d time.Duration) string {
	if d < 0 {
		return "n/a"
	}
	return round(d)
}

// walked is one walk: the time of each page request (until its body was
// read), of the whole walk, and the query of the last page.
type walked struct {
	times []time.Duration
	total time.Duration
	last  url.Values
}

// walk reads every page once, in sequence.
func walk(hc *http.Client, base, method string, size, users int) (walked, error) {
	var w walked
	seen := 0
	cursor := ""
	t0 := time.Now()
	for start := 1; ; start += size {
		q := url.Values{"count": {fmt.Sprint(size)}}
		if method == "cursor" {
			q.Set("cursor", cursor)
		} else {
			q.Set("startIndex", fmt.Sprint(start))
		}
		d, body, err := get(hc, base, q)
		if err != nil {
			return w, err
		}
		w.times, w.last = append(w.times, d), q
		var lr struct {
			TotalResults int               `json:"totalResults"`
			NextCursor   string            `json:"nextCursor"`
			Resources    []json.RawMessage `json:"Resources"`
		}
		if err := json.Unmarshal(body, &lr); err != nil {
			return w, err
		}
		seen += len(lr.Resources)
		done := start+size > lr.TotalResults
		if method == "cursor" {
			cursor, done = lr.NextCursor, lr.NextCursor == ""
		}
		if done {
			break
		}
	}
	w.total = time.Since(t0)
	if seen != users {
		return w, fmt.Errorf("%s walk read %d users, want %d", method, seen, users)
	}
	return w, nil
}

// get asks for one page of /Users and times it until the body is read.
func get(hc *http.Client, base string, q url.Values) (time.Duration, []byte, error) {
	req, err := http.NewRequest("GET", base+"/Users?"+q.Encode(), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	t := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t)
	if err != nil || resp.StatusCode != 200 {
		return 0, nil, fmt.Errorf("GET %s: %d %v %.200s", req.URL, resp.StatusCode, err, body)
	}
	return d, body, nil
}

// listRun is one `miscim users list`.
type listRun struct {
	wall, cpu time.Duration
	lines     int
}

// usersList times `miscim users list` against base, its output piped, and
// counts the users it printed (one line each).
func usersList(miscim, dir, base, tokenFile string) (listRun, error) {
	cmd := exec.Command(miscim, "--url", base, "--token-file", tokenFile, "users", "list")
	cmd.Env = loadrun.Env(dir)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	t := time.Now()
	if err := cmd.Run(); err != nil {
		return listRun{}, fmt.Errorf("users list: %v: %s", err, stderr.String())
	}
	return listRun{wall: time.Since(t), cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		lines: bytes.Count(out.Bytes(), []byte("\n"))}, nil
}

// hideCursors is a reverse proxy to base that removes the pagination
// member of /ServiceProviderConfig, so that clients page it by startIndex.
type proxyServer struct {
	URL string
	srv *http.Server
}

func (p *proxyServer) Close() { _ = p.srv.Close() }

func hideCursors(base string) (*proxyServer, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	rp.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasSuffix(resp.Request.URL.Path, "/ServiceProviderConfig") {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return err
		}
		delete(doc, "pagination")
		if b, err = json.Marshal(doc); err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &proxyServer{URL: "http://" + ln.Addr().String() + u.Path, srv: srv}, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
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
	return d.Round(time.Microsecond).String()
}
