package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/scim"
)

const testToken = "s3cr3t-token-0123456789"

// newClient builds a client for a test server with a short backoff.
func newClient(t *testing.T, base string, mod func(*Options)) *Client {
	t.Helper()
	opts := Options{BaseURL: base, Token: testToken, retryWait: time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func users(n int) []scim.Resource {
	out := make([]scim.Resource, n)
	for i := range out {
		out[i] = scim.Resource{"id": fmt.Sprintf("u%d", i+1), "userName": fmt.Sprintf("user%d", i+1)}
	}
	return out
}

// pagingServer serves all over GET /scim/v2/Users; mode decides how it
// treats startIndex/count.
func pagingServer(t *testing.T, all []scim.Resource, mode string, requests *[]string) *httptest.Server {
	var mu sync.Mutex
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/scim/v2/Users" {
			http.NotFound(w, r) // no /ServiceProviderConfig: ListAll pages by startIndex
			return
		}
		mu.Lock()
		*requests = append(*requests, r.URL.RawQuery)
		mu.Unlock()
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		var page []scim.Resource
		switch mode {
		case "honour":
			if start < 1 {
				start = 1
			}
			for i := start - 1; i < len(all) && len(page) < count; i++ {
				page = append(page, all[i])
			}
		case "ignore-all": // returns everything every time
			page = all
		case "ignore-start": // honours count, ignores startIndex
			page = all[:min(count, len(all))]
		}
		writeJSON(w, 200, scim.NewListResponse(len(all), start, page))
	}))
}

func TestListAll(t *testing.T) {
	all := users(5)
	for _, tc := range []struct {
		mode     string
		wantN    int
		wantReqs int
	}{
		{"honour", 5, 3},
		{"ignore-all", 5, 1},
		// The third request runs ahead while the second page, a repeat,
		// is read: it may or may not reach the server before it is
		// cancelled.
		{"ignore-start", 2, 2},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var reqs []string
			srv := pagingServer(t, all, tc.mode, &reqs)
			defer srv.Close()
			c := newClient(t, srv.URL+"/scim/v2", nil)
			var got []string
			err := c.ListAll(context.Background(), Users, ListParams{Filter: `userName sw "user"`}, 2, func(r scim.Resource) error {
				got = append(got, r["id"].(string))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			srv.Close() // waits for the handlers: reqs is complete
			if n := len(reqs); len(got) != tc.wantN || n < tc.wantReqs || (n > tc.wantReqs && tc.mode != "ignore-start") || n > tc.wantReqs+1 {
				t.Fatalf("got %v in %d requests %v, want %d resources in %d requests", got, len(reqs), reqs, tc.wantN, tc.wantReqs)
			}
			if tc.mode == "honour" && !strings.Contains(reqs[2], "startIndex=5") {
				t.Errorf("third request %q does not ask for startIndex=5", reqs[2])
			}
		})
	}
}

func TestListAllStopsOnCallbackError(t *testing.T) {
	var reqs []string
	srv := pagingServer(t, users(5), "honour", &reqs)
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	stop := errors.New("stop")
	err := c.ListAll(context.Background(), Users, ListParams{}, 2, func(scim.Resource) error { return stop })
	srv.Close() // waits for the handlers: reqs is complete
	// One request may have run ahead for the next page; none outlives
	// ListAll.
	if !errors.Is(err, stop) || len(reqs) < 1 || len(reqs) > 2 {
		t.Fatalf("err %v after %d requests", err, len(reqs))
	}
}

func TestErrorBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/scim/v2/Users/numeric":
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(404)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":404,"detail":"user numeric not found"}`)
		case "/scim/v2/Users":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(409)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"taken"}`)
		case "/scim/v2/Users/plain":
			w.WriteHeader(400)
			io.WriteString(w, "bad things happened")
		case "/scim/v2/Users/empty":
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	ctx := context.Background()

	check := func(err error, status int, scimType, detail string) {
		t.Helper()
		var se *scim.Error
		if !errors.As(err, &se) {
			t.Fatalf("error %v (%T) is not a *scim.Error", err, err)
		}
		if se.Status != status || se.ScimType != scimType || se.Detail != detail {
			t.Errorf("got %+v, want %d %q %q", se, status, scimType, detail)
		}
		if errors.Is(err, ErrUnavailable) {
			t.Errorf("%v must not be unavailability", err)
		}
	}
	_, err := c.Get(ctx, Users, "numeric", ListParams{})
	check(err, 404, "", "user numeric not found")
	_, err = c.Create(ctx, Users, scim.Resource{"userName": "x"})
	check(err, 409, "uniqueness", "taken")
	_, err = c.Get(ctx, Users, "plain", ListParams{})
	check(err, 400, "", "bad things happened")
	err = c.Delete(ctx, Users, "empty", "")
	check(err, 404, "", "Not Found")
}

func TestAuthErrors(t *testing.T) {
	for _, status := range []int{401, 403} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, status, &scim.Error{Status: status, Detail: "no"})
		}))
		c := newClient(t, srv.URL+"/scim/v2", nil)
		_, err := c.List(context.Background(), Users, ListParams{})
		srv.Close()
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != status || errors.Is(err, ErrUnavailable) {
			t.Errorf("status %d: got %v (%T)", status, err, err)
		}
	}
}

func TestNonSCIM5xxIsUnavailableAfterRetries(t *testing.T) {
	for _, tc := range []struct {
		status   int
		page     string
		detail   string
		attempts int32
	}{
		// 500: the server processed the request and failed; not retried.
		{500, "<html><head><title>Internal Error</title></head><body><h1>Oops</h1></body></html>", "Internal Error Oops", 1},
		// 502 from a proxy: retried twice.
		{502, "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center>nginx</center></body></html>", "502 Bad Gateway nginx", 3},
	} {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.page)
		}))
		c := newClient(t, srv.URL+"/scim/v2", nil)
		_, err := c.Get(context.Background(), Users, "x", ListParams{})
		srv.Close()
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%d: got %v, want ErrUnavailable", tc.status, err)
		}
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != tc.status || se.Detail != tc.detail {
			t.Errorf("%d: cause %+v", tc.status, se)
		}
		if hits.Load() != tc.attempts {
			t.Errorf("%d: %d attempts, want %d", tc.status, hits.Load(), tc.attempts)
		}
		if !strings.HasPrefix(err.Error(), "GET "+srv.URL+"/scim/v2/Users/x: server error ") {
			t.Errorf("message %q", err)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		method   string
		statuses []int // answered in turn, the last one repeats
		want     int   // attempts
		ok       bool
	}{
		{"GET 502 thrice", http.MethodGet, []int{502}, 3, false},
		{"GET 504 then 200", http.MethodGet, []int{504, 200}, 2, true},
		{"GET 429 then 200", http.MethodGet, []int{429, 200}, 2, true},
		{"PUT 503 thrice", http.MethodPut, []int{503}, 3, false},
		{"DELETE 502 then 204", http.MethodDelete, []int{502, 204}, 2, true},
		{"POST 500 once", http.MethodPost, []int{500}, 1, false},
		{"POST 502 once", http.MethodPost, []int{502}, 1, false},
		{"POST 429 then 201", http.MethodPost, []int{429, 201}, 2, true},
		{"PATCH 504 once", http.MethodPatch, []int{504}, 1, false},
		{"PATCH 503 then 200", http.MethodPatch, []int{503, 200}, 2, true},
		{"GET 404 once", http.MethodGet, []int{404}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(hits.Add(1))
				s := tc.statuses[min(n, len(tc.statuses))-1]
				if s == 204 {
					w.WriteHeader(s)
					return
				}
				if s >= 400 {
					writeJSON(w, s, &scim.Error{Status: s, Detail: "try later"})
					return
				}
				writeJSON(w, s, scim.Resource{"id": "1", "userName": "a"})
			}))
			defer srv.Close()
			c := newClient(t, srv.URL+"/scim/v2", nil)
			ctx := context.Background()
			var err error
			switch tc.method {
			case http.MethodGet:
				_, err = c.Get(ctx, Users, "1", ListParams{})
			case http.MethodPut:
				_, err = c.Replace(ctx, Users, "1", scim.Resource{"userName": "a"}, "")
			case http.MethodDelete:
				err = c.Delete(ctx, Users, "1", "")
			case http.MethodPost:
				_, err = c.Create(ctx, Users, scim.Resource{"userName": "a"})
			case http.MethodPatch:
				_, err = c.Patch(ctx, Users, "1", scim.Resource{"Operations": []any{}}, "")
			}
			if got := int(hits.Load()); got != tc.want {
				t.Errorf("%d attempts, want %d", got, tc.want)
			}
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && tc.statuses[len(tc.statuses)-1] >= 500 && !errors.Is(err, ErrUnavailable) {
				t.Errorf("5xx error %v is not ErrUnavailable", err)
			}
			if err != nil && strings.Contains(err.Error(), "attempts") != (tc.want > 1) {
				t.Errorf("message %q does not say the attempts", err)
			}
		})
	}
}

func TestPatchHonoursRetryAfter(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 503, &scim.Error{Status: 503, Detail: "busy"})
			return
		}
		writeJSON(w, 200, scim.Resource{"id": "1", "active": false})
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	start := time.Now()
	res, err := c.Patch(context.Background(), Users, "1", []byte(`{"Operations":[]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if res["id"] != "1" || hits.Load() != 2 {
		t.Fatalf("res %v after %d attempts", res, hits.Load())
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %v, Retry-After asked for 1s", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":    0,
		"0":   0,
		"3":   3 * time.Second,
		"120": 30 * time.Second,
		"x":   0,
		now.Add(10 * time.Second).Format(http.TimeFormat): 10 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
		now.Add(time.Hour).Format(http.TimeFormat):        30 * time.Second,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/scim/v2"
}

func TestConnectionRefused(t *testing.T) {
	base := closedURL(t)
	c := newClient(t, base, nil)
	_, err := c.List(context.Background(), Users, ListParams{})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v", err)
	}
	want := "connect to " + base + ": connection refused (after 3 attempts)"
	if err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Attempts != 3 {
		t.Errorf("attempts: %+v", ue)
	}
	// A POST is never retried on a transport error.
	_, err = c.Create(context.Background(), Users, scim.Resource{})
	if !errors.As(err, &ue) || ue.Attempts != 1 {
		t.Errorf("POST attempts: %v", err)
	}
}

func TestDNSFailure(t *testing.T) {
	c := newClient(t, "http://miscim-test.invalid/scim/v2", func(o *Options) { o.Retries = -1 })
	_, err := c.List(context.Background(), Users, ListParams{})
	var dns *net.DNSError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &dns) {
		t.Fatalf("got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "connect to http://miscim-test.invalid/scim/v2: ") {
		t.Errorf("message %q", err)
	}
}

func TestTLS(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, scim.NewListResponse(0, 1, nil))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			hits.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	base := srv.URL + "/scim/v2"
	ctx := context.Background()

	c := newClient(t, base, nil)
	_, err := c.List(ctx, Users, ListParams{})
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &cv) || !errors.As(err, &ua) {
		t.Fatalf("got %v (%T)", err, err)
	}
	if !strings.HasPrefix(err.Error(), "connect to "+base+": tls: failed to verify certificate") {
		t.Errorf("message %q", err)
	}
	// A certificate that is not trusted will not be on retry: one attempt.
	if hits.Load() != 1 {
		t.Errorf("%d connections for an untrusted certificate, want 1", hits.Load())
	}

	c = newClient(t, base, func(o *Options) { o.Insecure = true })
	if _, err := c.List(ctx, Users, ListParams{}); err != nil {
		t.Errorf("insecure: %v", err)
	}

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, p, 0o600); err != nil {
		t.Fatal(err)
	}
	c = newClient(t, base, func(o *Options) { o.CAFile = caFile })
	if _, err := c.List(ctx, Users, ListParams{}); err != nil {
		t.Errorf("ca-file: %v", err)
	}
}

func TestNewValidation(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "no SCIM base URL"},
		{Options{BaseURL: "mi.example.com/scim/v2"}, "has no scheme: use https://mi.example.com/scim/v2"},
		{Options{BaseURL: "ftp://mi.example.com/scim/v2"}, `scheme "ftp" is not supported`},
		{Options{BaseURL: "https:///scim/v2"}, "has no host"},
		{Options{BaseURL: "https://u:p@mi.example.com/scim/v2"}, "holds credentials"},
		{Options{BaseURL: "https://mi.example.com/scim/v2", CAFile: filepath.Join(dir, "missing.pem")}, "read CA file"},
		{Options{BaseURL: "https://mi.example.com/scim/v2", CAFile: notPEM}, "holds no PEM certificate"},
	} {
		_, err := New(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", func(o *Options) { o.Timeout = 100 * time.Millisecond; o.Retries = -1 })
	start := time.Now()
	_, err := c.Get(context.Background(), Users, "1", ListParams{})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no response within 100ms") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("timed out after %v", d)
	}
}

func TestCancelPassesThrough(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.List(ctx, Users, ListParams{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct {
		method, path, rawQuery, filter, ct, accept, auth, ifMatch, body string
	}
	var last seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		last = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.URL.Query().Get("filter"),
			r.Header.Get("Content-Type"), r.Header.Get("Accept"), r.Header.Get("Authorization"), r.Header.Get("If-Match"), string(b)}
		switch r.Method {
		case http.MethodPatch:
			w.WriteHeader(204)
		case http.MethodGet:
			if strings.HasSuffix(r.URL.Path, "/Users") {
				writeJSON(w, 200, scim.NewListResponse(0, 1, nil))
				return
			}
			fallthrough
		default:
			writeJSON(w, 200, scim.Resource{"id": "x"})
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2/?aadOptscim062020", nil)
	ctx := context.Background()
	if c.BaseURL() != srv.URL+"/scim/v2" || !c.FlagNoticed() {
		t.Fatalf("BaseURL %q, flag %v", c.BaseURL(), c.FlagNoticed())
	}

	filter := `userName eq "a+b c@example.com"`
	if _, err := c.List(ctx, Users, ListParams{Filter: filter, StartIndex: 1, Count: 10, Attributes: []string{"userName", "active"}}); err != nil {
		t.Fatal(err)
	}
	if last.filter != filter || strings.Contains(last.rawQuery, "+") || !strings.Contains(last.rawQuery, "%2B") || strings.Contains(last.rawQuery, "aadOpt") {
		t.Errorf("filter %q in query %q", last.filter, last.rawQuery)
	}
	if !strings.Contains(last.rawQuery, "attributes=userName%2Cactive") || !strings.Contains(last.rawQuery, "count=10") {
		t.Errorf("query %q", last.rawQuery)
	}
	if last.accept != "application/scim+json, application/json" || last.auth != "Bearer "+testToken {
		t.Errorf("headers %+v", last)
	}

	if _, err := c.Get(ctx, Users, "a/b c", ListParams{ExcludedAttributes: []string{"members"}}); err != nil {
		t.Fatal(err)
	}
	if last.path != "/scim/v2/Users/a%2Fb%20c" || last.rawQuery != "excludedAttributes=members" {
		t.Errorf("path %q query %q", last.path, last.rawQuery)
	}

	res, err := c.Patch(ctx, Groups, "g1", map[string]any{"Operations": []any{}}, `W/"3"`)
	if err != nil || res != nil {
		t.Fatalf("Patch 204: %v %v", res, err)
	}
	if last.method != http.MethodPatch || last.ct != "application/scim+json" || last.ifMatch != `W/"3"` || last.body != `{"Operations":[]}` {
		t.Errorf("patch %+v", last)
	}

	for _, f := range []func() error{
		func() error { _, err := c.ServiceProviderConfig(ctx); return err },
		func() error { _, err := c.Replace(ctx, Users, "x", scim.Resource{}, ""); return err },
	} {
		if err := f(); err != nil {
			t.Error(err)
		}
	}
}

func TestDiscoveryBareArray(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/Schemas") {
			io.WriteString(w, `[{"id":"a"},{"id":"b"}]`)
			return
		}
		io.WriteString(w, `{"totalResults":1,"Resources":[{"id":"User"}]}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	s, err := c.Schemas(context.Background())
	if err != nil || s.TotalResults != 2 || len(s.Resources) != 2 {
		t.Fatalf("%+v %v", s, err)
	}
	rt, err := c.ResourceTypes(context.Background())
	if err != nil || rt.TotalResults != 1 {
		t.Fatalf("%+v %v", rt, err)
	}
}

func TestNonJSONSuccess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><title>Sign in</title></html>")
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	_, err := c.Get(context.Background(), Users, "1", ListParams{})
	if err == nil || !strings.Contains(err.Error(), "not SCIM JSON") || !strings.Contains(err.Error(), "Sign in") {
		t.Fatalf("got %v", err)
	}
}

func TestRedirectOfPostIsNotFollowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/scim/v2/Users", http.StatusMovedPermanently)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	_, err := c.Create(context.Background(), Users, scim.Resource{})
	if err == nil || !strings.Contains(err.Error(), "redirects (301)") {
		t.Fatalf("got %v", err)
	}
}

func TestTraceRedactsToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A server that echoes the request headers must not leak the token
		// through the trace either.
		writeJSON(w, 201, scim.Resource{"id": "1", "echo": r.Header.Get("Authorization")})
	}))
	defer srv.Close()
	var trace bytes.Buffer
	c := newClient(t, srv.URL+"/scim/v2", func(o *Options) { o.Trace = &trace })
	res, err := c.Create(context.Background(), Users, scim.Resource{"userName": "bjensen"})
	if err != nil {
		t.Fatal(err)
	}
	if res["echo"] != "Bearer "+testToken {
		t.Fatalf("the trace must not change the body the caller gets: %v", res)
	}
	out := trace.String()
	if strings.Contains(out, testToken) {
		t.Fatalf("trace leaks the token:\n%s", out)
	}
	for _, want := range []string{
		"> POST " + srv.URL + "/scim/v2/Users\n",
		"> Authorization: Bearer [REDACTED]\n",
		"> Content-Type: application/scim+json\n",
		`"userName": "bjensen"`,
		"< 201 Created in ",
		"< Content-Type: application/scim+json\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}

func TestTraceTruncatesBodies(t *testing.T) {
	var buf bytes.Buffer
	writeBody(&buf, bytes.Repeat([]byte("x"), 5000))
	if !strings.Contains(buf.String(), "… (904 more bytes)") || buf.Len() > 4200 {
		t.Errorf("body not truncated: %d bytes", buf.Len())
	}
}

func TestDo(t *testing.T) {
	var gotAuth []string
	var gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Values("Authorization")
		gotQuery = r.URL.RawQuery
		w.Header().Set("X-Seen", r.Method+" "+r.URL.Path)
		w.WriteHeader(404)
		io.WriteString(w, "nope")
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	ctx := context.Background()

	resp, err := c.Do(ctx, RawRequest{Method: "GET", Path: "/Users?filter=userName+eq+%22a%22"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 404 || string(resp.Body) != "nope" || resp.Header.Get("X-Seen") != "GET /scim/v2/Users" {
		t.Errorf("resp %+v", resp)
	}
	if gotQuery != "filter=userName+eq+%22a%22" {
		t.Errorf("query sent as %q, want it verbatim", gotQuery)
	}
	if len(gotAuth) != 1 || gotAuth[0] != "Bearer "+testToken {
		t.Errorf("auth %q", gotAuth)
	}

	_, _ = c.Do(ctx, RawRequest{Method: "GET", Path: "Users", Header: http.Header{"Authorization": {"Bearer other"}}})
	if len(gotAuth) != 1 || gotAuth[0] != "Bearer other" {
		t.Errorf("auth override %q", gotAuth)
	}

	h := http.Header{}
	h.Set("Authorization", "")
	resp, err = c.DoURL(ctx, http.MethodGet, srv.URL+"/", h, nil)
	if err != nil || resp.Status != 404 || len(gotAuth) != 0 {
		t.Errorf("DoURL without auth: %v %v %q", resp, err, gotAuth)
	}

	_, err = c.DoURL(ctx, http.MethodGet, closedURL(t), nil, nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("DoURL to a closed port: %v", err)
	}
}

func TestAdminBase(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:8080/scim/v2":       "http://h:8080/api",
		"https://h/prefix/SCIM/v2/":   "https://h/prefix/api",
		"https://h/scim":              "https://h/api",
		"https://h/x/scim/v2?aadOpt=": "https://h/x/api",
	} {
		c := newClient(t, in, nil)
		if got := c.AdminBaseURL(); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

func TestAdminAPI(t *testing.T) {
	changed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := Var{Name: "SCIM_REMOVE_USER_ON_SOFT_DELETE", Value: "Y", Default: "N", Allowed: []string{"Y", "N"}, IsSet: true,
		LastChange: &VarChange{At: changed, Who: "admin", Old: "", New: "Y"}}
	var putBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/system-variables":
			writeJSON(w, 200, []Var{v})
		case r.URL.Path == "/api/system-variables/history":
			writeJSON(w, 200, map[string]any{"history": []VarChange{*v.LastChange}})
		case r.URL.Path == "/api/system-variables/NOPE":
			writeJSON(w, 404, &scim.Error{Status: 404, Detail: "unknown system variable"})
		case r.Method == http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			putBody = string(b)
			writeJSON(w, 200, v)
		case r.Method == http.MethodDelete:
			w.WriteHeader(204)
		default:
			writeJSON(w, 200, v)
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", nil)
	ctx := context.Background()

	vars, err := c.Vars(ctx)
	if err != nil || len(vars) != 1 || vars[0].Name != v.Name || !vars[0].LastChange.At.Equal(changed) || vars[0].LastChange.Who != "admin" {
		t.Fatalf("Vars: %+v %v", vars, err)
	}
	got, err := c.SetVar(ctx, v.Name, "y")
	if err != nil || got.Value != "Y" || putBody != `{"value":"y"}` {
		t.Fatalf("SetVar: %+v %v body %s", got, err, putBody)
	}
	got, err = c.UnsetVar(ctx, v.Name)
	if err != nil || got.Name != v.Name {
		t.Fatalf("UnsetVar: %+v %v", got, err)
	}
	hist, err := c.VarHistory(ctx, "")
	if err != nil || len(hist) != 1 || hist[0].New != "Y" {
		t.Fatalf("VarHistory: %+v %v", hist, err)
	}
	_, err = c.Var(ctx, "NOPE")
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != 404 || errors.Is(err, ErrNoAdminAPI) {
		t.Fatalf("unknown variable: %v", err)
	}
}

func TestNoAdminAPI(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"404 text": func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
		"405":      func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(405) },
		"HTML 200": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><html><body>Metric Insights</body></html>")
		},
		"foreign 401": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			io.WriteString(w, `{"message":"token required"}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := newClient(t, srv.URL+"/scim/v2", nil)
			for _, call := range []func() error{
				func() error { _, err := c.Vars(context.Background()); return err },
				func() error { _, err := c.SetVar(context.Background(), "X", "Y"); return err },
			} {
				err := call()
				if !errors.Is(err, ErrNoAdminAPI) || !strings.Contains(err.Error(), "Admin > System > System Variables") {
					t.Errorf("got %v", err)
				}
				var se *scim.Error
				if errors.As(err, &se) {
					t.Errorf("%v must not look like a SCIM error (exit 4 for a 401)", err)
				}
			}
		})
	}
}
