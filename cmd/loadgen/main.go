// Command loadgen measures `miscim serve` under a mixed Entra workload over
// loopback and compares it, in the same run, with a trivial in-memory SCIM
// handler: the ratio of their throughputs is what DESIGN §8 sets a target
// for (≥ 0.5, p99 < 20 ms), and a third run with the request logger on
// shows what logging costs (≤ 20%).
//
// Each virtual client repeats what Entra does for one user: match query
// (GET with filter), create (POST), read back (GET by filter), update
// (PATCH), disable (PATCH active "False"), delete (DELETE). The trivial
// handler runs as a separate process, like serve, so both share the machine
// with the load generator on equal terms.
//
//	go run ./cmd/loadgen -miscim bin/miscim -duration 10s -clients 8
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var syncMode string

func main() {
	miscim := flag.String("miscim", "bin/miscim", "miscim binary to measure")
	duration := flag.Duration("duration", 10*time.Second, "length of each measured run")
	clients := flag.Int("clients", 8, "concurrent clients")
	flag.StringVar(&syncMode, "sync", "full", "serve --sync mode: full or normal")
	trivial := flag.Bool("serve-trivial", false, "internal: serve the trivial in-memory SCIM handler")
	ready := flag.String("ready-file", "", "internal: with -serve-trivial, where to write the base URL")
	flag.Parse()
	if *trivial {
		if err := serveTrivial(*ready); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		return
	}
	code, err := run(*miscim, *duration, *clients)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

type result struct {
	name     string
	requests int64
	errors   int64
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func run(miscim string, d time.Duration, clients int) (int, error) {
	dir, err := os.MkdirTemp("", "miscim-load-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	const token = "load-admin-token"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return 0, err
	}

	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	trivialURL, stopTrivial, err := start(dir, "trivial", self, "-serve-trivial")
	if err != nil {
		return 0, err
	}
	defer stopTrivial()
	serveURL, stopServe, err := start(dir, "serve", miscim, "serve", "--addr", "127.0.0.1:0", "--quiet",
		"--admin-token-file", tokenFile, "--sync", syncMode, "--db", filepath.Join(dir, "miscim.db"), "--log-dir", filepath.Join(dir, "log"))
	if err != nil {
		return 0, err
	}
	defer stopServe()

	fmt.Printf("mixed Entra workload, %d clients, %s per run, loopback, SQLite synchronous=%s\n\n", clients, d, strings.ToUpper(syncMode))
	base := measure("trivial in-memory handler", trivialURL, token, d, clients)
	off := measure("miscim serve", serveURL, token, d, clients)
	if err := setLogger(serveURL, token, "Y"); err != nil {
		return 0, err
	}
	time.Sleep(time.Second) // the switch is cached for up to 500ms
	on := measure("miscim serve, request log on", serveURL, token, d, clients)

	fmt.Printf("%-32s %10s %8s %9s %9s\n", "run", "req/s", "errors", "p50", "p99")
	for _, r := range []result{base, off, on} {
		fmt.Printf("%-32s %10.0f %8d %9s %9s\n", r.name, r.rps(), r.errors, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond))
	}
	ratio := off.rps() / base.rps()
	logCost := 1 - on.rps()/off.rps()
	fmt.Printf("\nthroughput ratio serve/trivial: %.2f (target ≥ 0.50)\n", ratio)
	fmt.Printf("serve p99: %s (target < 20ms)\n", off.p99.Round(time.Microsecond))
	fmt.Printf("request logging cost: %.1f%% of throughput (target ≤ 20%%)\n", 100*logCost)
	ok := ratio >= 0.5 && off.p99 < 20*time.Millisecond && logCost <= 0.20 && off.errors == 0 && on.errors == 0
	if !ok {
		fmt.Println("result: a target was missed")
		return 3, nil
	}
	fmt.Println("result: all targets met")
	return 0, nil
}

// start runs a server process and waits for its ready file.
func start(dir, name, bin string, args ...string) (string, func(), error) {
	ready := filepath.Join(dir, name+".ready")
	cmd := exec.Command(bin, append(args, "--ready-file", ready)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "XDG_STATE_HOME="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", name, err)
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b)), stop, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("%s did not become ready: %s", name, stderr.String())
}

func setLogger(base, token, value string) error {
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

var runSeq atomic.Int64

// measure drives clients through the Entra user life cycle for d.
func measure(name, base, token string, d time.Duration, clients int) result {
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
				user := fmt.Sprintf("load-%d-%d-%d@example.com", run, c, i)
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
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{name: name, requests: int64(len(lat)), errors: errs.Load(), elapsed: elapsed}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[len(lat)*99/100]
	}
	return r
}
