package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/testkit"
)

// scimHandler answers like a SCIM endpoint whose behaviour the test picks:
// 401 without a token (unless open), and the given status, content type
// and body for every authenticated request.
func scimHandler(open bool, status int, ctype, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open && r.Header.Get("Authorization") == "" {
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":401,"detail":"authentication required"}`))
			return
		}
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	})
}

const emptyList = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`

func newClient(t *testing.T, base string, opts client.Options) *client.Client {
	t.Helper()
	opts.BaseURL = base
	if opts.Retries == 0 {
		opts.Retries = -1
	}
	c, err := client.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func find(t *testing.T, rs []Result, name string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s result in %+v", name, rs)
	return Result{}
}

func TestEntraProbeRule(t *testing.T) {
	// The exact rule of Entra's Test Connection (entra-behavior §1).
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		want       Status
		wantDetail string
		wantHint   string
	}{
		{"empty list", 200, "application/scim+json", emptyList, Pass, "200, empty ListResponse", ""},
		{"lower-case members", 200, "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalresults":0,"resources":[]}`, Pass, "totalResults 0", ""},
		{"no schema urn", 200, "application/scim+json", `{"totalResults":0,"Resources":[]}`, Warn, "no ListResponse schema URN", "RFC 7644"},
		{"404 for no match", 404, "application/scim+json", `{"status":"404","detail":"User not found"}`, Fail, "404 for a userName that matches nothing: User not found", "requires 200 with an empty ListResponse"},
		{"400", 400, "application/scim+json", `{"status":400,"scimType":"invalidFilter","detail":"bad filter"}`, Fail, "400", "Entra's Test Connection fails on this"},
		{"html page", 200, "text/html", "<html><title>Sign in</title></html>", Fail, "not a SCIM ListResponse (Content-Type text/html): Sign in", "Entra's Test Connection"},
		{"json array", 200, "application/json", `[]`, Fail, "not a SCIM ListResponse", ""},
		{"filter ignored", 200, "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,"Resources":[{},{},{}]}`, Fail, "totalResults 3 (3 resources)", "unrelated"},
		{"resources without total", 200, "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[{"id":"x"}]}`, Fail, "totalResults 0 (1 resources)", ""},
		{"500", 500, "text/plain", "boom", Fail, "500", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(scimHandler(false, tt.status, tt.ctype, tt.body))
			defer ts.Close()
			rs, err := Run(context.Background(), Config{
				Client:    newClient(t, ts.URL+"/scim/v2", client.Options{Token: "t"}),
				HasToken:  true,
				EntraOnly: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 2 || rs[0].Name != CheckEntraProbe || rs[1].Name != CheckGroupProbe {
				t.Fatalf("--entra-only ran %+v", rs)
			}
			r := rs[0]
			if r.Status != tt.want || !strings.Contains(r.Detail, tt.wantDetail) || !strings.Contains(r.Hint, tt.wantHint) {
				t.Errorf("got %s %q hint %q; want %s %q hint ~%q", r.Status, r.Detail, r.Hint, tt.want, tt.wantDetail, tt.wantHint)
			}
			if !r.Required || rs[1].Required {
				t.Errorf("entra-probe must be required and group-probe optional")
			}
			if Passed(rs) != (tt.want != Fail) {
				t.Errorf("Passed = %v", Passed(rs))
			}
		})
	}
}

func TestAuthChecks(t *testing.T) {
	tests := []struct {
		name     string
		h        http.Handler
		hasToken bool
		noToken  Status
		token    Status
		hint     string
	}{
		{"401 then accepted", scimHandler(false, 200, "application/scim+json", emptyList), true, Pass, Pass, ""},
		{"open endpoint", scimHandler(true, 200, "application/scim+json", emptyList), true, Fail, Pass, ""},
		{"open login page", scimHandler(true, 200, "text/html", "<html>login</html>"), true, Warn, Pass, ""},
		{"no token configured", scimHandler(false, 200, "application/scim+json", emptyList), false, Pass, Fail, "--token-file"},
		{"rejected", scimHandler(false, 401, "application/scim+json", `{"status":401,"detail":"invalid token"}`), true, Pass, Fail, "invalid credentials"},
		{"not an admin", scimHandler(false, 403, "application/scim+json", `{"status":403,"detail":"not an Admin"}`), true, Pass, Fail, "MI accepts only an Admin's API token"},
		{"403 for no token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) }), true, Warn, Fail, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(tt.h)
			defer ts.Close()
			tok := ""
			if tt.hasToken {
				tok = "secret"
			}
			rs, err := Run(context.Background(), Config{Client: newClient(t, ts.URL+"/scim/v2", client.Options{Token: tok}), HasToken: tt.hasToken, Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			nt, tk := find(t, rs, CheckAuthNoToken), find(t, rs, CheckAuthToken)
			if nt.Status != tt.noToken || tk.Status != tt.token {
				t.Errorf("auth-no-token %s (%s), auth-token %s (%s); want %s, %s", nt.Status, nt.Detail, tk.Status, tk.Detail, tt.noToken, tt.token)
			}
			if !strings.Contains(tk.Hint, tt.hint) {
				t.Errorf("auth-token hint %q, want ~%q", tk.Hint, tt.hint)
			}
		})
	}
}

func TestURLCheck(t *testing.T) {
	tests := []struct {
		url    string
		want   Status
		detail string
		hint   string
	}{
		{"https://mi.example.com/scim/v2", Pass, "https; path ends in /scim/v2", ""},
		{"https://mi.example.com/scim/v2/?aadOptscim062020", Pass, "aadOptscim062020 flag in the URL: Entra will use the RFC-compliant PATCH dialect", ""},
		{"http://mi.example.com/scim/v2", Warn, "http: Entra accepts only https", "https"},
		{"http://127.0.0.1:8080/scim/v2", Pass, "http on loopback", ""},
		{"http://localhost:8080/scim/v2", Pass, "http on loopback", ""},
		{"https://mi.example.com/api/scim", Warn, "path /api/scim does not end in /scim/v2", "MI's Tenant URL is https://<MI host>/scim/v2"},
		{"https://mi.example.com", Warn, "path / does not end in /scim/v2", "MI's Tenant URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r := newRunner(Config{Client: newClient(t, tt.url, client.Options{})})
			res := r.checkURL(context.Background())
			if res.Status != tt.want || !strings.Contains(res.Detail, tt.detail) || !strings.Contains(res.Hint, tt.hint) {
				t.Errorf("got %s %q hint %q", res.Status, res.Detail, res.Hint)
			}
		})
	}
}

func TestDNS(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		lookup func(context.Context, string) ([]string, error)
		want   Status
		detail string
	}{
		{"ip literal", "https://10.0.0.1/scim/v2", nil, Pass, "IP address"},
		{"ipv6 literal", "https://[::1]:8443/scim/v2", nil, Pass, "IP address"},
		{"resolves", "https://mi.example.com/scim/v2", func(context.Context, string) ([]string, error) { return []string{"192.0.2.1", "192.0.2.2"}, nil }, Pass, "mi.example.com → 192.0.2.1, 192.0.2.2"},
		{"no such host", "https://nope.invalid/scim/v2", func(_ context.Context, h string) ([]string, error) {
			return nil, &net.DNSError{Err: "no such host", Name: h, IsNotFound: true}
		}, Fail, "lookup nope.invalid: no such host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Run(context.Background(), Config{Client: newClient(t, tt.url, client.Options{}), LookupHost: tt.lookup, HasToken: true, Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			r := find(t, rs, CheckDNS)
			if r.Status != tt.want || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("got %s %q", r.Status, r.Detail)
			}
			if tt.want == Fail {
				// Nothing after a failed lookup can run: skipped, not failed again.
				for _, r := range rs[2:] {
					if r.Status != Skip || r.Detail != "not run: DNS failed" {
						t.Errorf("%s: %s %q after DNS failure", r.Name, r.Status, r.Detail)
					}
				}
				if Passed(rs) {
					t.Error("a DNS failure must fail the run")
				}
			}
		})
	}
}

// certificate makes a self-signed certificate for 127.0.0.1 valid in
// [notBefore, notAfter].
func certificate(t *testing.T, notBefore, notAfter time.Time) (tls.Certificate, []byte) {
	c := testkit.SelfSignedCert(t, notBefore, notAfter)
	return c.TLS, c.CertPEM
}

func TestTLS(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name      string
		notBefore time.Time
		notAfter  time.Time
		caFile    bool
		insecure  bool
		host      string // "" = 127.0.0.1
		want      Status
		detail    string
		httpRuns  bool // the HTTP checks run after it
	}{
		{"expired", now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), true, false, "", Fail, "certificate expired on", false},
		{"expired, insecure", now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), false, true, "", Fail, "certificate expired on", true},
		{"untrusted", now.Add(-time.Hour), now.Add(90 * 24 * time.Hour), false, false, "", Fail, "unknown authority", false},
		{"private CA via --ca-file", now.Add(-time.Hour), now.Add(90 * 24 * time.Hour), true, false, "", Warn, "chain verified with --ca-file only for 127.0.0.1; expires in 89 days", true},
		{"untrusted, insecure", now.Add(-time.Hour), now.Add(90 * 24 * time.Hour), false, true, "", Warn, "verification skipped (--insecure)", true},
		{"expiring soon", now.Add(-time.Hour), now.Add(10*24*time.Hour + time.Hour), true, false, "", Warn, "expires in 10 days", true},
		{"wrong host", now.Add(-time.Hour), now.Add(90 * 24 * time.Hour), true, false, "localhost.localdomain", Fail, "not valid for localhost.localdomain", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, pemBytes := certificate(t, tt.notBefore, tt.notAfter)
			ts := httptest.NewUnstartedServer(scimHandler(false, 200, "application/scim+json", emptyList))
			ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			ts.StartTLS()
			defer ts.Close()
			caFile := ""
			if tt.caFile {
				caFile = filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			base := ts.URL + "/scim/v2"
			cfg := Config{HasToken: true, Count: 1, Insecure: tt.insecure, CAFile: caFile, SystemRoots: x509.NewCertPool()}
			if tt.host != "" {
				// A name that does not match the certificate, resolved to the
				// test server.
				_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "https://"))
				base = "https://" + tt.host + ":" + port + "/scim/v2"
				cfg.LookupHost = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
			}
			cfg.Client = newClient(t, base, client.Options{Token: "t", Insecure: tt.insecure, CAFile: caFile})
			rs, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := find(t, rs, CheckTLS)
			if r.Status != tt.want || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("got %s %q (hint %q)", r.Status, r.Detail, r.Hint)
			}
			if !strings.HasPrefix(r.Detail, "TLS 1.3") {
				t.Errorf("detail %q does not name the version", r.Detail)
			}
			ep := find(t, rs, CheckEntraProbe)
			if tt.httpRuns && ep.Status != Pass {
				t.Errorf("entra-probe %s %q, want pass", ep.Status, ep.Detail)
			}
			if !tt.httpRuns && (ep.Status != Skip || ep.Detail != "not run: TLS failed") {
				t.Errorf("entra-probe %s %q, want skipped after TLS failure", ep.Status, ep.Detail)
			}
		})
	}
}

func TestTCPRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rs, err := Run(context.Background(), Config{Client: newClient(t, "http://"+addr+"/scim/v2", client.Options{Token: "t"}), HasToken: true, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	r := find(t, rs, CheckTCP)
	if r.Status != Fail || r.Detail != "connect to "+addr+": connection refused" || !strings.Contains(r.Hint, "firewall") {
		t.Errorf("tcp: %+v", r)
	}
	for _, r := range rs[3:] {
		if r.Status != Skip {
			t.Errorf("%s: %s after a refused connection", r.Name, r.Status)
		}
	}
	if Passed(rs) {
		t.Error("refused connection must fail the run")
	}
}

func TestTimeoutSkipsOptionalChecks(t *testing.T) {
	// The no-token request times out; Entra's probe is still sent (it is
	// what decides Entra's button), the optional checks are skipped rather
	// than each waiting for its own timeout.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer ts.Close()
	rs, err := Run(context.Background(), Config{
		Client:   newClient(t, ts.URL+"/scim/v2", client.Options{Token: "t", Timeout: 100 * time.Millisecond}),
		HasToken: true, Count: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CheckAuthNoToken, CheckAuthToken, CheckEntraProbe} {
		if r := find(t, rs, name); r.Status != Fail || !strings.Contains(r.Detail, "timeout") {
			t.Errorf("%s: %s %q", name, r.Status, r.Detail)
		}
	}
	for _, name := range []string{CheckGroupProbe, CheckServiceProviderConfig, CheckContentType, CheckLatency} {
		if r := find(t, rs, name); r.Status != Skip {
			t.Errorf("%s: %s %q, want skip", name, r.Status, r.Detail)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := []struct {
		ctype string
		want  Status
	}{
		{"application/scim+json; charset=utf-8", Pass},
		{"application/json", Warn},
		{"text/html; charset=utf-8", Fail},
		{"", Fail},
	}
	for _, tt := range tests {
		t.Run(tt.ctype, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") == "" {
					w.WriteHeader(401)
					return
				}
				w.Header()["Content-Type"] = []string{tt.ctype} // present even when empty: no sniffing
				w.Write([]byte(emptyList))
			})
			ts := httptest.NewServer(h)
			defer ts.Close()
			rs, err := Run(context.Background(), Config{Client: newClient(t, ts.URL+"/scim/v2", client.Options{Token: "t"}), HasToken: true, Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			r := find(t, rs, CheckContentType)
			if r.Status != tt.want || r.Required {
				t.Errorf("got %s %q required=%v", r.Status, r.Detail, r.Required)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	// A clock that advances 1 s per reading: each probe takes 1 s, so p50
	// and p95 are exact.
	step := func(d time.Duration) func() time.Time {
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		return func() time.Time { t0 = t0.Add(d); return t0 }
	}
	tests := []struct {
		step   time.Duration
		want   Status
		detail string
	}{
		{time.Millisecond, Pass, "5 probes: p50 1ms, p95 1ms"},
		{6 * time.Second, Warn, "5 probes: p50 6000ms, p95 6000ms"},
		{61 * time.Second, Fail, "5 probes: p50 61.0s, p95 61.0s"},
	}
	ts := httptest.NewServer(scimHandler(false, 200, "application/scim+json", emptyList))
	defer ts.Close()
	for _, tt := range tests {
		t.Run(string(tt.want), func(t *testing.T) {
			rs, err := Run(context.Background(), Config{Client: newClient(t, ts.URL+"/scim/v2", client.Options{Token: "t"}), HasToken: true, Count: 5, Now: step(tt.step)})
			if err != nil {
				t.Fatal(err)
			}
			r := find(t, rs, CheckLatency)
			if r.Status != tt.want || r.Detail != tt.detail || !r.Required {
				t.Errorf("got %s %q", r.Status, r.Detail)
			}
		})
	}
}

func TestEmbeddedSkipsNetwork(t *testing.T) {
	ts := httptest.NewServer(scimHandler(true, 200, "application/scim+json", emptyList))
	defer ts.Close()
	rs, err := Run(context.Background(), Config{Client: newClient(t, ts.URL+"/scim/v2", client.Options{}), Embedded: true, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CheckURL, CheckDNS, CheckTCP, CheckTLS} {
		if r := find(t, rs, name); r.Status != Skip || r.Detail != "embedded engine: no network" {
			t.Errorf("%s: %s %q", name, r.Status, r.Detail)
		}
	}
	if r := find(t, rs, CheckAuthNoToken); r.Status != Skip || !strings.Contains(r.Detail, "built-in admin") {
		t.Errorf("auth-no-token: %s %q", r.Status, r.Detail)
	}
	if r := find(t, rs, CheckAuthToken); r.Status != Pass || !strings.Contains(r.Detail, "built-in admin") {
		t.Errorf("auth-token: %s %q", r.Status, r.Detail)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	}))
	defer ts.Close()
	_, err := Run(ctx, Config{Client: newClient(t, ts.URL+"/scim/v2", client.Options{Token: "t"}), HasToken: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		in     []time.Duration
		p      int
		want   time.Duration
		reason string
	}{
		{nil, 50, 0, "empty"},
		{ms(7), 95, 7 * time.Millisecond, "one"},
		{ms(5, 1, 4, 2, 3), 50, 3 * time.Millisecond, "median of 5"},
		{ms(5, 1, 4, 2, 3), 95, 5 * time.Millisecond, "p95 of 5 is the max"},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19 * time.Millisecond, "p95 of 20"},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond, "nearest rank rounds up"},
	}
	for _, tt := range tests {
		if got := Percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.reason, got, tt.want)
		}
	}
}

func TestCountsString(t *testing.T) {
	tests := []struct {
		c    Counts
		want string
	}{
		{Counts{Passed: 7, Warnings: 1, Failed: 1}, "7 passed, 1 warning, 1 failed"},
		{Counts{Passed: 3, Warnings: 2, Skipped: 4}, "3 passed, 2 warnings, 4 skipped"},
		{Counts{}, "0 passed"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{0: "0ms", 1500 * time.Microsecond: "1ms", 9999 * time.Millisecond: "9999ms", 61200 * time.Millisecond: "61.2s"}
	for d, want := range tests {
		if got := FormatDuration(d); got != want {
			t.Errorf("%v: got %q, want %q", d, got, want)
		}
	}
}
