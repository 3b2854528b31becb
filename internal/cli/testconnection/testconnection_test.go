package testconnection

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/cli/clitest"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/probe"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
	"github.com/miscim/miscim/internal/testkit"
)

func golden(t *testing.T, name string, got []byte) { testkit.Golden(t, name, got) }

// miscimServer is a real engine on SQLite behind the real handler, with the
// API tokens of an Admin and of a regular user.
type miscimServer struct {
	handler       http.Handler
	admin, viewer string
}

func newMiscim(t *testing.T) *miscimServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "miscim.db"), sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := engine.New(st)
	_, admin, err := e.CreateToken(ctx, "admin@example.com", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, viewer, err := e.CreateToken(ctx, "viewer@example.com", "regular", 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(e, server.Options{})
	t.Cleanup(func() { srv.Close() })
	return &miscimServer{handler: srv, admin: admin, viewer: viewer}
}

// Deliberately broken endpoints: the real handler with one fault.

// notFoundOnEmpty answers 404 to an authenticated query, as endpoints that
// treat "no match" as "not found" do (entra-behavior §1).
func notFoundOnEmpty(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" && strings.HasSuffix(r.URL.Path, "/Users") && r.URL.Query().Get("filter") != "" {
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"Resource not found"}`)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// openWithout lets requests without a token in, as the Admin.
func openWithout(h http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		h.ServeHTTP(w, r)
	})
}

// withContentType relabels every answer.
func withContentType(h http.Handler, ct string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// slow answers after 5 s, or when the client gives up.
func slow(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(5 * time.Second):
		}
		h.ServeHTTP(w, r)
	})
}

// expiredCert is a self-signed certificate for 127.0.0.1 that expired
// yesterday.
func expiredCert(t *testing.T) tls.Certificate {
	now := time.Now()
	return testkit.SelfSignedCert(t, now.Add(-30*24*time.Hour), now.Add(-24*time.Hour)).TLS
}

// fakeClock advances 1 ms per reading, so durations are stable.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t0 = t0.Add(time.Millisecond)
		return t0
	}
}

// fakeGUIDs numbers the probes' GUIDs.
func fakeGUIDs() func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}
}

// remote builds Options for a remote target at base.
func remote(t *testing.T, base, token string, co client.Options) (*Options, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	co.BaseURL, co.Token = base, token
	c, err := client.New(co)
	if err != nil {
		t.Fatal(err)
	}
	opts := &Options{
		IO:     ios,
		Format: render.FormatTable,
		Count:  3,
		Target: func(context.Context) (*target.Target, error) { return &target.Target{Client: c}, nil },
		Config: config.Resolved{URL: base, Token: token, Timeout: co.Timeout, Insecure: co.Insecure},
	}
	return opts, out, errOut
}

func statuses(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 4 {
			t.Fatalf("piped line %q has %d fields, want 4", l, len(f))
		}
		m[f[1]] = f[0] + "\t" + f[3]
	}
	return m
}

func TestTargets(t *testing.T) {
	m := newMiscim(t)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}()

	type want struct {
		check, status, detail string
	}
	tests := []struct {
		name     string
		handler  http.Handler // nil: no server (closed port)
		tls      bool
		token    string
		co       client.Options
		wantExit int
		want     []want
		wantHint string // on stderr: piped output puts failures' hints there
	}{
		{
			name: "healthy miscim", handler: m.handler, token: m.admin, wantExit: 0,
			want: []want{
				{"url", "pass", "http on loopback"}, {"dns", "pass", "IP address"}, {"tcp", "pass", "connected to 127.0.0.1:"},
				{"tls", "skip", "http: no TLS"}, {"auth-no-token", "pass", "401 without a token"}, {"auth-token", "pass", "token accepted (200)"},
				{"entra-probe", "pass", "200, empty ListResponse (totalResults 0)"}, {"group-probe", "pass", "200, empty ListResponse"},
				{"service-provider-config", "pass", "patch true"}, {"resource-types", "pass", "User (/Users)"}, {"schemas", "pass", "schemas:"},
				{"content-type", "pass", "application/scim+json"}, {"latency", "pass", "3 probes: p50 "},
			},
		},
		{
			name: "a: 404 on an empty filter result", handler: notFoundOnEmpty(m.handler), token: m.admin, wantExit: 3,
			want:     []want{{"entra-probe", "fail", "404 for a userName that matches nothing: Resource not found"}, {"auth-token", "pass", "token accepted (404)"}},
			wantHint: "hint: entra-probe: Entra's Test Connection fails on this: it requires 200 with an empty ListResponse",
		},
		{
			name: "b: 200 without a token", handler: openWithout(m.handler, m.admin), token: m.admin, wantExit: 3,
			want:     []want{{"auth-no-token", "fail", "the endpoint accepts requests without a token"}, {"entra-probe", "pass", ""}},
			wantHint: "hint: auth-no-token: require a bearer token",
		},
		{
			name: "c1: text/html", handler: withContentType(m.handler, "text/html; charset=utf-8"), token: m.admin, wantExit: 0,
			want: []want{{"content-type", "fail", "text/html; charset=utf-8: not JSON"}, {"entra-probe", "pass", ""}},
		},
		{
			name: "c2: application/json", handler: withContentType(m.handler, "application/json"), token: m.admin, wantExit: 0,
			want: []want{{"content-type", "warn", "application/json: SCIM's media type is application/scim+json"}},
		},
		{
			name: "d: expired certificate", handler: m.handler, tls: true, token: m.admin, wantExit: 3,
			want: []want{
				{"url", "pass", "https"}, {"tls", "fail", "certificate expired on"},
				{"entra-probe", "skip", "not run: TLS failed"}, {"latency", "skip", "not run: TLS failed"},
			},
			wantHint: "hint: tls: renew the certificate",
		},
		{
			name: "e: slow answer", handler: slow(m.handler), token: m.admin, co: client.Options{Timeout: 150 * time.Millisecond, Retries: -1}, wantExit: 3,
			want: []want{
				{"auth-no-token", "fail", "no response within 150ms (timeout)"},
				{"entra-probe", "fail", "no response within 150ms (timeout)"},
				{"group-probe", "skip", "not run: no answer to /Users"},
			},
			wantHint: "hint: entra-probe: Entra reports CredentialValidationUnavailable",
		},
		{
			name: "f: connection refused", token: m.admin, wantExit: 3,
			want: []want{
				{"tcp", "fail", "connect to " + closed + ": connection refused"},
				{"tls", "skip", "not run: TCP connect failed"}, {"auth-token", "skip", "not run: TCP connect failed"},
				{"entra-probe", "skip", "not run: TCP connect failed"},
			},
			wantHint: "hint: tcp: is the server running",
		},
		{
			name: "g: a regular user's token", handler: m.handler, token: m.viewer, wantExit: 3,
			want: []want{
				{"auth-no-token", "pass", ""}, {"auth-token", "fail", "token refused (403)"},
				{"entra-probe", "fail", "403: "},
				{"group-probe", "skip", "not run: token refused (see auth-token)"},
				{"content-type", "skip", "not run: token refused"}, {"latency", "skip", "not run: token refused"},
			},
			wantHint: "hint: auth-token: the token's user is not an Admin: MI accepts only an Admin's API token",
		},
		{
			name: "wrong token", handler: m.handler, token: "miscim_wrong", wantExit: 3,
			want:     []want{{"auth-token", "fail", "token rejected (401)"}},
			wantHint: "invalid credentials",
		},
		{
			name: "no token", handler: m.handler, wantExit: 3,
			want:     []want{{"auth-token", "fail", "no token configured (the request got 401)"}},
			wantHint: "--token-file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := "http://" + closed + "/scim/v2"
			if tt.handler != nil {
				ts := httptest.NewUnstartedServer(tt.handler)
				if tt.tls {
					ts.TLS = &tls.Config{Certificates: []tls.Certificate{expiredCert(t)}}
					ts.StartTLS()
				} else {
					ts.Start()
				}
				defer ts.Close()
				base = ts.URL + "/scim/v2"
			}
			opts, out, errOut := remote(t, base, tt.token, tt.co)
			err := testConnectionRun(context.Background(), opts)
			if got := clitest.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit %d (%v), want %d\n%s%s", got, err, tt.wantExit, out, errOut)
			}
			rows := statuses(t, out.String())
			if len(rows) != 13 {
				t.Errorf("%d rows, want 13:\n%s", len(rows), out)
			}
			for _, w := range tt.want {
				got, ok := rows[w.check]
				if !ok || !strings.HasPrefix(got, w.status+"\t") || !strings.Contains(got, w.detail) {
					t.Errorf("%s: got %q, want %s ~%q", w.check, got, w.status, w.detail)
				}
			}
			if tt.wantExit == 0 {
				for name, row := range rows {
					if strings.HasPrefix(row, "fail") && name != "content-type" {
						t.Errorf("%s failed: %s", name, row)
					}
				}
			}
			if !strings.Contains(errOut.String(), tt.wantHint) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantHint, errOut)
			}
			if !strings.Contains(errOut.String(), " passed") {
				t.Errorf("no summary on stderr:\n%s", errOut)
			}
		})
	}
}

func TestEmbedded(t *testing.T) {
	dir := t.TempDir()
	ios, _, out, errOut := iostreams.Test()
	opts := &Options{
		IO: ios, Format: render.FormatJSON, Count: 2,
		Target: func(ctx context.Context) (*target.Target, error) {
			return target.Open(ctx, target.Config{DBPath: filepath.Join(dir, "miscim.db"), LogDir: filepath.Join(dir, "log")})
		},
	}
	if err := testConnectionRun(context.Background(), opts); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var rpt Report
	if err := json.Unmarshal(out.Bytes(), &rpt); err != nil {
		t.Fatal(err)
	}
	if rpt.Target != "embedded" || !rpt.Passed || len(rpt.Checks) != 13 {
		t.Fatalf("report %+v", rpt)
	}
	for _, c := range rpt.Checks {
		switch c.Name {
		case "url", "dns", "tcp", "tls":
			if c.Status != "skip" || c.Detail != "embedded engine: no network" {
				t.Errorf("%s: %s %q", c.Name, c.Status, c.Detail)
			}
		case "auth-no-token":
			if c.Status != "skip" || !strings.Contains(c.Detail, "in-process calls run as the built-in admin") {
				t.Errorf("%s: %s %q", c.Name, c.Status, c.Detail)
			}
		default:
			if c.Status != "pass" {
				t.Errorf("%s: %s %q", c.Name, c.Status, c.Detail)
			}
		}
	}
}

func TestEntraOnly(t *testing.T) {
	m := newMiscim(t)
	ts := httptest.NewServer(m.handler)
	defer ts.Close()
	opts, out, _ := remote(t, ts.URL+"/scim/v2?aadOptscim062020", m.admin, client.Options{})
	opts.EntraOnly = true
	if err := testConnectionRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "pass\tentra-probe\t"; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 2 || !strings.Contains(got, "pass\tgroup-probe\t") {
		t.Errorf("got\n%s", got)
	}
}

// normalize replaces what changes from run to run: the test server's
// port. Nothing else: trailing whitespace would be a failure the golden
// files must show.
func normalize(s, base string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	host = strings.SplitN(host, "/", 2)[0]
	return strings.ReplaceAll(s, host, "127.0.0.1:PORT")
}

func TestGolden(t *testing.T) {
	m := newMiscim(t)
	tests := []struct {
		name    string
		handler http.Handler
		format  render.Format
		width   int // 0: piped; else a terminal of that many columns
		exit    int
	}{
		{"healthy-piped", m.handler, render.FormatTable, 0, 0},
		{"healthy-tty-80", m.handler, render.FormatTable, 80, 0},
		{"healthy-json", m.handler, render.FormatJSON, 0, 0},
		{"broken-piped", withContentType(notFoundOnEmpty(m.handler), "application/json"), render.FormatTable, 0, 3},
		// Details and hints wrapped in their column, never cut.
		{"broken-tty-80", withContentType(notFoundOnEmpty(m.handler), "application/json"), render.FormatTable, 80, 3},
		{"broken-tty-160", withContentType(notFoundOnEmpty(m.handler), "application/json"), render.FormatTable, 160, 3},
		{"broken-json", withContentType(notFoundOnEmpty(m.handler), "application/json"), render.FormatJSON, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(tt.handler)
			defer ts.Close()
			base := ts.URL + "/scim/v2"
			opts, out, errOut := remote(t, base, m.admin, client.Options{})
			opts.Format, opts.Now, opts.NewGUID = tt.format, fakeClock(), fakeGUIDs()
			opts.IO.SetStdoutTTY(tt.width > 0)
			opts.IO.SetTerminalWidth(tt.width)
			err := testConnectionRun(context.Background(), opts)
			if got := clitest.ExitCode(err); got != tt.exit {
				t.Fatalf("exit %d (%v), want %d", got, err, tt.exit)
			}
			if tt.width > 0 {
				testkit.FitsTerminal(t, out.Bytes(), tt.width, render.DisplayWidth)
			}
			golden(t, tt.name, []byte(normalize(out.String()+"--- stderr\n"+errOut.String(), base)))
		})
	}
}

func TestJUnitReport(t *testing.T) {
	m := newMiscim(t)
	ts := httptest.NewServer(notFoundOnEmpty(m.handler))
	defer ts.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "junit.xml")
	opts, _, _ := remote(t, ts.URL+"/scim/v2", m.admin, client.Options{})
	opts.Report = path
	if err := testConnectionRun(context.Background(), opts); clitest.ExitCode(err) != 3 {
		t.Fatalf("got %v, want exit 3", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc render.JUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d suites", len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Name != "miscim test-connection" || s.Tests != 13 || len(s.Cases) != 13 {
		t.Errorf("suite %q with tests=%d and %d cases, want 13", s.Name, s.Tests, len(s.Cases))
	}
	var failed, skipped []string
	for _, c := range s.Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
		}
		if c.Skipped != nil {
			skipped = append(skipped, c.Name)
		}
	}
	if strings.Join(failed, ",") != "entra-probe" || s.Failures != 1 || doc.Failures != 1 {
		t.Errorf("failures %v (suite says %d)", failed, s.Failures)
	}
	if strings.Join(skipped, ",") != "tls" || s.Skipped != 1 {
		t.Errorf("skipped %v (suite says %d)", skipped, s.Skipped)
	}
	for _, c := range s.Cases {
		if c.Name == "entra-probe" && (c.Failure.Type != "required" || !strings.Contains(c.Failure.Message, "404") || !strings.Contains(c.Failure.Text, "empty ListResponse")) {
			t.Errorf("entra-probe failure %+v", c.Failure)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("report mode %v, %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestJUnitReportUnwritable(t *testing.T) {
	dir := t.TempDir()
	ran := false
	tests := []struct{ name, path string }{
		{"missing directory", filepath.Join(dir, "nodir", "junit.xml")},
		{"a directory", dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			opts := &Options{IO: ios, Format: render.FormatTable, Report: tt.path,
				Target: func(context.Context) (*target.Target, error) { ran = true; return nil, errors.New("not reached") }}
			err := testConnectionRun(context.Background(), opts)
			var ie *cmdutil.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want an InputError (exit 2)", err)
			}
			if ran {
				t.Error("the checks ran before the report path was checked")
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestJUnitReportNotLeftOnError(t *testing.T) {
	// The target cannot be opened: no report, and no temporary file.
	dir := t.TempDir()
	ios, _, _, _ := iostreams.Test()
	opts := &Options{IO: ios, Format: render.FormatTable, Report: filepath.Join(dir, "junit.xml"),
		Target: func(context.Context) (*target.Target, error) { return nil, errors.New("boom") }}
	if err := testConnectionRun(context.Background(), opts); err == nil {
		t.Fatal("want an error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestTableOnTerminal(t *testing.T) {
	// Symbols with color on; hint lines under failed rows; "(optional)".
	rs := []probe.Result{
		{Name: "entra-probe", Status: probe.Fail, Required: true, Detail: "404", Hint: "fix it", Duration: 3 * time.Millisecond},
		{Name: "group-probe", Status: probe.Pass, Detail: "ok"},
		{Name: "tls", Status: probe.Skip, Required: true, Detail: "http: no TLS"},
		{Name: "content-type", Status: probe.Warn, Detail: "application/json", Hint: "use scim+json"},
	}
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(true)
	ios.SetColorEnabled(true)
	if err := renderTable(ios, rs); err != nil {
		t.Fatal(err)
	}
	testkit.FitsTerminal(t, out.Bytes(), iostreams.DefaultWidth, render.DisplayWidth)
	got := out.String()
	for _, s := range []string{"✓", "✗", "!", "-", "hint: fix it", "hint: use scim+json", "group-probe (optional)", "STATUS", "3ms"} {
		if !strings.Contains(got, s) {
			t.Errorf("table lacks %q:\n%s", s, got)
		}
	}
	if strings.Contains(errOut.String(), "hint:") {
		t.Errorf("hints repeated on stderr on a terminal:\n%s", errOut)
	}
	if !strings.Contains(errOut.String(), "1 passed, 1 warning, 1 failed, 1 skipped") {
		t.Errorf("summary: %q", errOut)
	}
}

func TestNewCmdTestConnection(t *testing.T) {
	tests := []struct {
		args    string
		want    Options
		wantErr string
	}{
		{args: "", want: Options{Count: 5}},
		{args: "--count 20 --report out.xml", want: Options{Count: 20, Report: "out.xml"}},
		{args: "--count 0", want: Options{Count: 0}},
		{args: "--entra-only", want: Options{Count: 5, EntraOnly: true}},
		{args: "--count -1", wantErr: "invalid --count -1"},
		{args: "--count 5000", wantErr: "invalid --count 5000"},
		{args: "--entra-only --count 3", wantErr: "--count has no effect with --entra-only"},
		{args: "extra", wantErr: "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IO: ios, Flags: &config.Flags{Output: "json"}, Now: time.Now,
				Config: func() (config.Resolved, error) {
					return config.Resolved{URL: "https://mi.example.com/scim/v2", Token: "x"}, nil
				}}
			var got *Options
			cmd := NewCmdTestConnection(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(&strings.Builder{})
			cmd.SetErr(&strings.Builder{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want flag error %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Count != tt.want.Count || got.EntraOnly != tt.want.EntraOnly || got.Report != tt.want.Report {
				t.Errorf("got %+v", got)
			}
			if got.Format != render.FormatJSON || got.Config.URL != "https://mi.example.com/scim/v2" {
				t.Errorf("format %q, config %+v", got.Format, got.Config)
			}
		})
	}
}
