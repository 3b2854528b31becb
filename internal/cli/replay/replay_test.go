package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/cli/clitest"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/reqlog"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
	"github.com/miscim/miscim/internal/testkit"
)

// deterministic is an engine with sequential ids (prefix p) and a fixed
// clock, so that rendered output is stable.
func deterministic(t *testing.T, p int) *engine.Engine {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "miscim.db"), sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var n atomic.Int64
	ids := func() string { i := n.Add(1); return fmt.Sprintf("%d%07d-0000-4000-8000-%012d", p, i, i) }
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	return engine.New(st, engine.WithIDGenerator(ids), engine.WithClock(clock))
}

func inProcess(t *testing.T, e *engine.Engine, logDir string) (*client.Client, *server.Server) {
	t.Helper()
	srv := server.New(e, server.Options{LogDir: logDir})
	c, err := client.New(client.Options{BaseURL: target.EmbeddedBaseURL, Transport: client.HandlerTransport(server.LocalAdmin(srv))})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// fixture records a short Entra-shaped session into dir/log, with times,
// request ids and durations pinned so that output naming them is stable.
func fixture(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	e := deterministic(t, 1)
	if _, err := e.SetVar(ctx, engine.VarRequestLogger, "Y", "test"); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(t.TempDir(), "raw")
	c, srv := inProcess(t, e, raw)
	send := func(method, path, body string) {
		t.Helper()
		if _, err := c.Do(ctx, client.RawRequest{Method: method, Path: path, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	send("GET", `/Users?filter=userName+eq+%22ann@contoso.com%22`, "")
	send("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"e1","userName":"ann@contoso.com","active":true,"name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"primary":true,"type":"work","value":"ann@contoso.com"}]}`)
	send("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@contoso.com","emails":[{"value":"bob@contoso.com"}]}`)
	send("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Analysts","members":[{"value":"10000001-0000-4000-8000-000000000001"}]}`)
	send("PATCH", "/Groups/10000003-0000-4000-8000-000000000003", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"10000002-0000-4000-8000-000000000002"}]}]}`)
	send("PATCH", "/Users/10000001-0000-4000-8000-000000000001", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	send("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ANN@contoso.com","emails":[{"value":"x@contoso.com"}]}`)
	send("GET", "/Groups/10000003-0000-4000-8000-000000000003", "")
	send("DELETE", "/Users/10000002-0000-4000-8000-000000000002", "")
	send("GET", "/Users/10000002-0000-4000-8000-000000000002", "")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	recs, probs, err := reqlog.ReadDir(raw)
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	var b bytes.Buffer
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i, r := range recs {
		r.Time = base.Add(time.Duration(i) * 1500 * time.Millisecond).Format(time.RFC3339Nano)
		r.RequestID = fmt.Sprintf("req-%d", i+1)
		r.DurationMs = 1
		delete(r.ResponseHeaders, "X-Request-Id")
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "log", "scim-20261127T100000.000000000Z-000000000001.jsonl"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// steps is a clock that moves 250 ms each time it is read.
func steps() func() time.Time {
	var n atomic.Int64
	return func() time.Time {
		return time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC).Add(time.Duration(n.Add(1)) * 250 * time.Millisecond)
	}
}

type run struct {
	opts        *Options
	out, errOut *bytes.Buffer
}

// setup records the fixture in a fresh directory, changes into it, and
// returns options that replay it against a fresh deterministic engine
// whose ids differ from the log's.
func setup(t *testing.T, tty bool, width int) run {
	t.Helper()
	dir := t.TempDir()
	fixture(t, dir)
	t.Chdir(dir)
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetStderrTTY(false)
	if width > 0 {
		ios.SetTerminalWidth(width)
	}
	e := deterministic(t, 2)
	opts := &Options{
		IO: ios, Format: render.FormatTable, Paths: []string{"log"}, Concurrency: 1, Now: steps(),
		Getenv: func(string) string { return "" },
		Target: func(context.Context) (*target.Target, error) {
			c, srv := inProcess(t, e, "")
			t.Cleanup(func() { srv.Close() })
			return &target.Target{Client: c, Embedded: true}, nil
		},
	}
	return run{opts: opts, out: out, errOut: errOut}
}

// pkgDir is where the goldens are: the tests change into the fixture's
// directory, whose relative paths the output names.
var pkgDir, _ = os.Getwd()

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	if err := os.Chdir(pkgDir); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, name, got)
}

func golden(t *testing.T, name string, r run, tty bool, width int) {
	t.Helper()
	if tty {
		testkit.FitsTerminal(t, r.out.Bytes(), width, render.DisplayWidth)
	}
	goldenFile(t, name, []byte(r.out.String()+"--- stderr\n"+r.errOut.String()))
}

// tamperLast changes the last logged familyName, that of the PATCH
// response (request 6), and nothing else.
func tamperLast(b []byte) []byte {
	i := bytes.LastIndex(b, []byte(`"familyName":"Lee"`))
	return append(append(append([]byte(nil), b[:i]...), `"familyName":"Leigh"`...), b[i+len(`"familyName":"Lee"`):]...)
}

func TestReplayGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tty    bool
		width  int
		format render.Format
		dry    bool
		tamper bool
		code   int
	}{
		{"dry-run-piped", false, 0, render.FormatTable, true, false, 0},
		{"dry-run-tty-100", true, 100, render.FormatTable, true, false, 0},
		{"dry-run-json", false, 0, render.FormatJSON, true, false, 0},
		{"matched-piped", false, 0, render.FormatTable, false, false, 0},
		{"matched-tty-80", true, 80, render.FormatTable, false, false, 0},
		{"mismatch-piped", false, 0, render.FormatTable, false, true, 3},
		{"mismatch-tty-100", true, 100, render.FormatTable, false, true, 3},
		{"mismatch-json", false, 0, render.FormatJSON, false, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := setup(t, tc.tty, tc.width)
			r.opts.Format, r.opts.DryRun = tc.format, tc.dry
			if tc.tamper {
				name := filepath.Join("log", "scim-20261127T100000.000000000Z-000000000001.jsonl")
				b, _ := os.ReadFile(name)
				os.WriteFile(name, tamperLast(b), 0o644)
			}
			err := replayRun(context.Background(), r.opts)
			if got := clitest.ExitCode(err); got != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s%s", got, err, tc.code, r.out, r.errOut)
			}
			golden(t, tc.name, r, tc.tty, tc.width)
		})
	}
}

// TestJUnitReport: one case per request, the mismatch a failure with its
// diff, the skipped request skipped; written whole or not at all.
func TestJUnitReport(t *testing.T) {
	r := setup(t, false, 0)
	name := filepath.Join("log", "scim-20261127T100000.000000000Z-000000000001.jsonl")
	b, _ := os.ReadFile(name)
	os.WriteFile(name, append(tamperLast(b), []byte("{\"format\":1,\"seq\":99,\n")...), 0o644)
	r.opts.Report = "junit.xml"
	if code := clitest.ExitCode(replayRun(context.Background(), r.opts)); code != 3 {
		t.Fatalf("exit %d", code)
	}
	x, err := os.ReadFile("junit.xml")
	if err != nil {
		t.Fatal(err)
	}
	x = regexp.MustCompile(`time="[0-9.]+"`).ReplaceAll(x, []byte(`time="-"`))
	goldenFile(t, "junit", x)
	t.Chdir(t.TempDir())
	// An unwritable report path is found before anything is sent.
	r = setup(t, false, 0)
	r.opts.Report = filepath.Join("missing", "junit.xml")
	opened := false
	r.opts.Target = func(context.Context) (*target.Target, error) { opened = true; return nil, errors.New("no") }
	if code := clitest.ExitCode(replayRun(context.Background(), r.opts)); code != 2 || opened {
		t.Errorf("exit %d, target opened %v", code, opened)
	}
}

func TestReplayInputErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(*Options)
		code    int
		message string
	}{
		{"missing path", func(o *Options) { o.Paths = []string{"nowhere"} }, 2, "cannot read the request log: stat nowhere"},
		{"empty directory", func(o *Options) { os.Mkdir("empty", 0o755); o.Paths = []string{"empty"} }, 2, "no request records in empty"},
		{"strict", func(o *Options) {
			os.WriteFile("bad.jsonl", []byte("{\"format\":1,\n"), 0o644)
			o.Paths, o.Strict = []string{"log", "bad.jsonl"}, true
		}, 2, "1 malformed record(s)"},
		{"since", func(o *Options) { o.Since = "yesterday" }, 2, `invalid --since "yesterday"`},
		{"since after until", func(o *Options) { o.Since, o.Until = "2026-11-28", "2026-11-27" }, 2, "is not before --until"},
		{"match", func(o *Options) { o.Match = "(" }, 2, "invalid --match"},
		{"ignore", func(o *Options) { o.Ignore = []string{"emails[0]"} }, 2, "invalid --ignore"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := setup(t, false, 0)
			tc.change(r.opts)
			err := replayRun(context.Background(), r.opts)
			if code := clitest.ExitCode(err); code != tc.code || !strings.Contains(fmt.Sprint(err), tc.message) {
				t.Errorf("exit %d, error %v; want %d %q", code, err, tc.code, tc.message)
			}
		})
	}
}

func TestReplayProblemsAreReported(t *testing.T) {
	r := setup(t, false, 0)
	os.WriteFile("bad.jsonl", []byte("{\"method\":\"GET\"}\nnot json\n"), 0o644)
	r.opts.Paths = []string{"log", "bad.jsonl"}
	if code := clitest.ExitCode(replayRun(context.Background(), r.opts)); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, r.out, r.errOut)
	}
	for _, want := range []string{"warning: skipped bad.jsonl:1: no URL or path", "warning: skipped bad.jsonl:2: malformed JSON"} {
		if !strings.Contains(r.errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errOut)
		}
	}
	// Counted as skipped in the summary: sent, matched, mismatched,
	// failed, unchecked, skipped (the 2 malformed and the logged 401-free
	// fixture has none), filtered.
	if !strings.HasPrefix(r.out.String(), "10\t10\t0\t0\t0\t2\t0\t") {
		t.Errorf("summary %q", r.out)
	}
}

// TestWriteGuard: a remote target that is not loopback gets nothing
// without --allow-writes; the run says so in one line and is a dry run.
func TestWriteGuard(t *testing.T) {
	r := setup(t, false, 0)
	r.opts.Config = config.Resolved{URL: "https://mi.example.com/scim/v2"}
	r.opts.Target = func(context.Context) (*target.Target, error) { t.Fatal("the target was opened"); return nil, nil }
	if code := clitest.ExitCode(replayRun(context.Background(), r.opts)); code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(r.errOut.String()), "\n")
	if !strings.HasPrefix(lines[0], "replay: https://mi.example.com/scim/v2 is not a loopback address: running as --dry-run") ||
		!strings.Contains(lines[len(lines)-1], "dry run: 10 request(s) (7 write(s)) would be sent to https://mi.example.com/scim/v2") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	// With the environment variable, it sends.
	r = setup(t, false, 0)
	r.opts.Config = config.Resolved{URL: "https://mi.example.com/scim/v2"}
	r.opts.Getenv = func(k string) string {
		if k == target.EnvAllowWrites {
			return "1"
		}
		return ""
	}
	if code := clitest.ExitCode(replayRun(context.Background(), r.opts)); code != 0 || !strings.Contains(r.errOut.String(), "all answers as logged") {
		t.Errorf("exit %d:\n%s", code, r.errOut)
	}
}

func TestNewCmdReplayFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IO: ios, Env: config.Env{Getenv: func(string) string { return "" }}, Flags: &config.Flags{Output: "json"},
		Config: func() (config.Resolved, error) { return config.Resolved{}, nil }}
	var got *Options
	cmd := NewCmdReplay(f, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"a", "b.har", "--concurrency", "4", "--rate", "50", "--ignore", "x", "--ignore", "y.z", "--strict", "--stop-on-mismatch", "--since", "1h", "--report", "r.xml"})
	cmd.SetOut(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Paths, ",") != "a,b.har" || got.Concurrency != 4 || got.Rate != 50 || strings.Join(got.Ignore, ",") != "x,y.z" ||
		!got.Strict || !got.StopOnMismatch || got.Since != "1h" || got.Report != "r.xml" || got.Format != render.FormatJSON {
		t.Errorf("options %+v", got)
	}
	for _, args := range [][]string{{"--concurrency", "0"}, {"--concurrency", "65"}, {"--rate", "-1"}} {
		cmd := NewCmdReplay(f, func(context.Context, *Options) error { return nil })
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.Execute(); clitest.ExitCode(err) != 2 {
			t.Errorf("%v: %v", args, err)
		}
	}
}
