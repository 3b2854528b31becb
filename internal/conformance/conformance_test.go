package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// folders are the collection's folders run against miscim: all but "Get
// Token", which asks Microsoft's reference server for a token MI does not
// offer (the token is passed in instead).
var folders = []string{
	"Endpoint tests", "User tests", "Group tests", "ComplexAttribute tests",
	"User tests with garbage", "Group tests with garbage", "Teardown garbage",
}

// floors are, per folder, the requests it holds and the assertions (pm.test
// calls) in their test scripts: a run in which a folder executed fewer
// requests, or fewer assertions, skipped something, and fails whatever the
// assertions that did run said. The collection has no conditional or
// looping pm.test and no setNextRequest, so every request runs once and
// every pm.test once. TestFloorsMatchTheCollection derives these numbers
// from testdata/PostmanCollection.json: a new collection must be counted
// again here, on purpose (docs/conformance.md).
var floors = map[string]floor{
	"Endpoint tests":           {Requests: 5, Assertions: 8},
	"User tests":               {Requests: 12, Assertions: 17},
	"Group tests":              {Requests: 19, Assertions: 21},
	"ComplexAttribute tests":   {Requests: 6, Assertions: 8},
	"User tests with garbage":  {Requests: 22, Assertions: 36},
	"Group tests with garbage": {Requests: 6, Assertions: 7},
	"Teardown garbage":         {Requests: 6, Assertions: 6},
}

// floor is what one folder must at least have run.
type floor struct{ Requests, Assertions int }

type expectedFailure struct {
	Request   string `yaml:"request"`
	Assertion string `yaml:"assertion"`
	Reason    string `yaml:"reason"`
}

// newmanPath finds newman: $MISCIM_NEWMAN, the copy `make test` installs
// under .cache/newman, or PATH.
func newmanPath(t *testing.T) string {
	if p := os.Getenv("MISCIM_NEWMAN"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	local := filepath.Join(filepath.Dir(file), "..", "..", ".cache", "newman", "node_modules", ".bin", "newman")
	if _, err := os.Stat(local); err == nil {
		return local
	}
	if p, err := exec.LookPath("newman"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" || os.Getenv("MISCIM_REQUIRE_NEWMAN") != "" {
		t.Fatal("newman not found: run `make newman` (npm install of newman@6 into .cache/newman) or set MISCIM_NEWMAN")
	}
	t.Skip("newman not found: `make test` installs it (make newman); skipping Microsoft's SCIM test collection")
	return ""
}

func TestMicrosoftSCIMCollection(t *testing.T) {
	newman := newmanPath(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "miscim")
	build := exec.Command("go", "build", "-o", bin, "github.com/miscim/miscim/cmd/miscim")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build miscim: %v\n%s", err, out)
	}
	const token = "conformance-admin-token"
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ready := filepath.Join(dir, "ready")
	// The collection counts users, so the store starts empty and the static
	// administrator token adds no user.
	serve := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--ready-file", ready,
		"--admin-token-file", filepath.Join(dir, "token"), "--db", filepath.Join(dir, "db"), "--sync", "normal", "--quiet")
	serve.Env = append(os.Environ(), "XDG_STATE_HOME="+dir, "NO_COLOR=1")
	var serveLog bytes.Buffer
	serve.Stderr = &serveLog
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
	}()
	base := waitReady(t, ready, &serveLog)
	host := strings.TrimPrefix(strings.TrimSuffix(base, "/scim/v2"), "http://")
	server, port, _ := strings.Cut(host, ":")

	report := filepath.Join(dir, "report.json")
	args := []string{"run", filepath.Join("testdata", "PostmanCollection.json"),
		"--env-var", "Protocol=http", "--env-var", "Server=" + server, "--env-var", "Port=:" + port,
		"--env-var", "Api=scim/v2", "--env-var", "token=" + token,
		"--reporters", "json", "--reporter-json-export", report, "--disable-unicode"}
	for _, f := range folders {
		args = append(args, "--folder", f)
	}
	run := exec.CommandContext(ctx, newman, args...)
	out, err := run.CombinedOutput()
	if _, statErr := os.Stat(report); statErr != nil {
		t.Fatalf("newman wrote no report (%v):\n%s", err, out)
	}
	got, executed := readReport(t, report)
	for _, p := range floorProblems(got, executed) {
		t.Error(p)
	}
	checkAgainstExpected(t, got)
}

// pmTest is an assertion in a Postman test script.
var pmTest = regexp.MustCompile(`\bpm\.test\(`)

// collectionFloors counts, per folder of the collection, its requests and
// the pm.test calls of their test scripts (line comments left out).
func collectionFloors(t *testing.T) map[string]floor {
	b, err := os.ReadFile(filepath.Join("testdata", "PostmanCollection.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Item []struct {
			Name string `json:"name"`
			Item []struct {
				Name  string `json:"name"`
				Event []struct {
					Listen string `json:"listen"`
					Script struct {
						Exec []string `json:"exec"`
					} `json:"script"`
				} `json:"event"`
				Item []json.RawMessage `json:"item"`
			} `json:"item"`
		} `json:"item"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("PostmanCollection.json: %v", err)
	}
	out := map[string]floor{}
	for _, f := range c.Item {
		var fl floor
		for _, it := range f.Item {
			if len(it.Item) > 0 {
				t.Fatalf("%s / %s is a nested folder: count its requests too", f.Name, it.Name)
			}
			fl.Requests++
			for _, ev := range it.Event {
				if ev.Listen != "test" {
					continue
				}
				for _, line := range ev.Script.Exec {
					code, _, _ := strings.Cut(line, "//")
					fl.Assertions += len(pmTest.FindAllString(code, -1))
				}
			}
		}
		out[f.Name] = fl
	}
	return out
}

func TestFloorsMatchTheCollection(t *testing.T) {
	// Runs without newman: the floors are what the collection holds.
	got := collectionFloors(t)
	for _, f := range folders {
		if got[f] != floors[f] {
			t.Errorf("folder %q holds %d requests and %d assertions; floors say %d and %d",
				f, got[f].Requests, got[f].Assertions, floors[f].Requests, floors[f].Assertions)
		}
		if floors[f].Assertions == 0 {
			t.Errorf("folder %q has no floor", f)
		}
	}
	if len(floors) != len(folders) {
		t.Errorf("floors for %d folders, %d folders run", len(floors), len(folders))
	}
}

// floorProblems names every folder that executed fewer requests or ran
// fewer assertions than it holds: newman stopped early, a --folder matched
// nothing, or requests were skipped. A request that got no response counts
// as executed, and fails its pseudo-assertion elsewhere; its real
// assertions are missing here.
func floorProblems(results []result, executed map[string]int) []string {
	ran := map[string]int{}
	for _, r := range results {
		if r.Assertion != requestErrorAssertion {
			ran[r.Folder]++
		}
	}
	var problems []string
	for _, f := range folders {
		want := floors[f]
		if executed[f] < want.Requests {
			problems = append(problems, fmt.Sprintf("folder %q executed %d of its %d requests: newman skipped some", f, executed[f], want.Requests))
		}
		if ran[f] < want.Assertions {
			problems = append(problems, fmt.Sprintf("folder %q ran %d assertions, fewer than the %d its requests hold: newman skipped some", f, ran[f], want.Assertions))
		}
	}
	return problems
}

func TestFloorsCatchWhatWasSkipped(t *testing.T) {
	// A complete run, made up: each folder its requests and assertions.
	complete := func() ([]result, map[string]int) {
		var rs []result
		executed := map[string]int{}
		for _, f := range folders {
			executed[f] = floors[f].Requests
			for i := range floors[f].Assertions {
				rs = append(rs, result{Folder: f, Request: fmt.Sprintf("%s / r%d", f, i), Assertion: "ok"})
			}
		}
		return rs, executed
	}
	rs, executed := complete()
	if p := floorProblems(rs, executed); len(p) != 0 {
		t.Fatalf("a complete run has problems: %q", p)
	}
	tests := []struct {
		name   string
		change func([]result, map[string]int) ([]result, map[string]int)
		want   []string
	}{
		{"one assertion fewer", func(rs []result, ex map[string]int) ([]result, map[string]int) {
			for i, r := range rs {
				if r.Folder == "Group tests" {
					return append(rs[:i:i], rs[i+1:]...), ex
				}
			}
			return rs, ex
		}, []string{`folder "Group tests" ran 20 assertions, fewer than the 21 its requests hold`}},
		{"a request without assertions skipped", func(rs []result, ex map[string]int) ([]result, map[string]int) {
			ex["User tests"]--
			return rs, ex
		}, []string{`folder "User tests" executed 11 of its 12 requests`}},
		{"a folder that did not run", func(rs []result, ex map[string]int) ([]result, map[string]int) {
			var kept []result
			for _, r := range rs {
				if r.Folder != "Teardown garbage" {
					kept = append(kept, r)
				}
			}
			delete(ex, "Teardown garbage")
			return kept, ex
		}, []string{`folder "Teardown garbage" executed 0 of its 6 requests`, `folder "Teardown garbage" ran 0 assertions, fewer than the 6`}},
		{"request errors are no assertions", func(rs []result, ex map[string]int) ([]result, map[string]int) {
			var kept []result
			for _, r := range rs {
				if r.Folder == "Endpoint tests" {
					r.Assertion, r.Failure = requestErrorAssertion, "connect ECONNREFUSED"
				}
				kept = append(kept, r)
			}
			return kept, ex
		}, []string{`folder "Endpoint tests" ran 0 assertions, fewer than the 8`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := floorProblems(tt.change(complete()))
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q, want it to say %q", got[i], w)
				}
			}
		})
	}
}

func waitReady(t *testing.T, path string, log *bytes.Buffer) string {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("miscim serve did not become ready:\n%s", log)
	return ""
}

// result is one assertion of one request.
type result struct {
	Folder    string
	Request   string
	Assertion string
	Failure   string // "" when it passed
}

// requestErrorAssertion is the pseudo-assertion a request that got no
// response fails.
const requestErrorAssertion = "(request)"

func (r result) key() string { return r.Request + " :: " + r.Assertion }

// readReport reads newman's JSON report: run.executions[].assertions[],
// and request errors, which count as failures of a pseudo-assertion; and
// how many requests each folder executed.
func readReport(t *testing.T, path string) ([]result, map[string]int) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Collection struct {
			Item []struct {
				Name string `json:"name"`
				ID   string `json:"id"`
				Item []struct {
					Name string `json:"name"`
					ID   string `json:"id"`
				} `json:"item"`
			} `json:"item"`
		} `json:"collection"`
		Run struct {
			Executions []struct {
				Item struct {
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"item"`
				RequestError *struct {
					Message string `json:"message"`
				} `json:"requestError"`
				Assertions []struct {
					Assertion string `json:"assertion"`
					Error     *struct {
						Message string `json:"message"`
					} `json:"error"`
				} `json:"assertions"`
			} `json:"executions"`
		} `json:"run"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("newman report: %v", err)
	}
	folderOf := map[string]string{}
	for _, f := range rep.Collection.Item {
		for _, it := range f.Item {
			folderOf[it.ID] = f.Name
		}
	}
	// Some requests share a name ("Get group by id" twice in Group tests);
	// those are numbered in run order: "… / Get group by id #2".
	total := map[string]int{}
	for _, ex := range rep.Run.Executions {
		total[folderOf[ex.Item.ID]+" / "+ex.Item.Name]++
	}
	seenName := map[string]int{}
	executed := map[string]int{}
	var out []result
	for _, ex := range rep.Run.Executions {
		folder := folderOf[ex.Item.ID]
		executed[folder]++
		name := folder + " / " + ex.Item.Name
		seenName[name]++
		if total[name] > 1 {
			name = fmt.Sprintf("%s #%d", name, seenName[name])
		}
		if ex.RequestError != nil {
			out = append(out, result{Folder: folder, Request: name, Assertion: requestErrorAssertion, Failure: ex.RequestError.Message})
		}
		for _, a := range ex.Assertions {
			r := result{Folder: folder, Request: name, Assertion: a.Assertion}
			if a.Error != nil {
				r.Failure = a.Error.Message
				if r.Failure == "" {
					r.Failure = "failed"
				}
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatal("newman ran no assertion")
	}
	return out, executed
}

func checkAgainstExpected(t *testing.T, results []result) {
	b, err := os.ReadFile(filepath.Join("testdata", "expected-failures.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var expected []expectedFailure
	if err := yaml.Unmarshal(b, &expected); err != nil {
		t.Fatalf("expected-failures.yaml: %v", err)
	}
	want := map[string]expectedFailure{}
	for _, e := range expected {
		if strings.TrimSpace(e.Reason) == "" {
			t.Errorf("expected failure %s :: %s has no reason", e.Request, e.Assertion)
		}
		want[e.Request+" :: "+e.Assertion] = e
	}
	passed, failed := 0, 0
	seen := map[string]bool{}
	var problems []string
	for _, r := range results {
		seen[r.key()] = true
		_, isExpected := want[r.key()]
		switch {
		case r.Failure == "" && isExpected:
			problems = append(problems, fmt.Sprintf("now passes, remove it from expected-failures.yaml: %s", r.key()))
		case r.Failure != "" && !isExpected:
			problems = append(problems, fmt.Sprintf("unexpected failure: %s: %s", r.key(), r.Failure))
		}
		if r.Failure == "" {
			passed++
		} else {
			failed++
		}
	}
	for k := range want {
		if !seen[k] {
			problems = append(problems, "listed in expected-failures.yaml but not run: "+k)
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("Microsoft SCIM collection: %d assertions, %d passed, %d failed (%d expected)", len(results), passed, failed, len(want))
}
