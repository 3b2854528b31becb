package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	got := readReport(t, report)
	checkAgainstExpected(t, got)
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
	Request   string
	Assertion string
	Failure   string // "" when it passed
}

func (r result) key() string { return r.Request + " :: " + r.Assertion }

// readReport reads newman's JSON report: run.executions[].assertions[],
// and request errors, which count as failures of a pseudo-assertion.
func readReport(t *testing.T, path string) []result {
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
	var out []result
	for _, ex := range rep.Run.Executions {
		name := folderOf[ex.Item.ID] + " / " + ex.Item.Name
		seenName[name]++
		if total[name] > 1 {
			name = fmt.Sprintf("%s #%d", name, seenName[name])
		}
		if ex.RequestError != nil {
			out = append(out, result{Request: name, Assertion: "(request)", Failure: ex.RequestError.Message})
		}
		for _, a := range ex.Assertions {
			r := result{Request: name, Assertion: a.Assertion}
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
	return out
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
