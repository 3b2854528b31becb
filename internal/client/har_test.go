package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miscim/miscim/internal/reqlog"
)

const harToken = "har-secret-token-1234"

// harDoc is a HAR file decoded without a schema, to check HAR 1.2's
// required members are all there.
type harDoc struct {
	Log struct {
		Version string            `json:"version"`
		Creator map[string]string `json:"creator"`
		Entries []map[string]any  `json:"entries"`
	} `json:"log"`
}

func readHAR(t *testing.T, path string) harDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(harToken)) {
		t.Errorf("the token is in the HAR file")
	}
	var d harDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if d.Log.Version != "1.2" || d.Log.Creator["name"] != "miscim" || d.Log.Creator["version"] != "test" {
		t.Errorf("log %+v", d.Log)
	}
	required := map[string][]string{
		"":          {"startedDateTime", "time", "request", "response", "cache", "timings"},
		"request":   {"method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"},
		"response":  {"status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize"},
		"timings":   {"send", "wait", "receive"},
		"content":   {"size", "mimeType"},
		"postData?": {"mimeType", "text"},
	}
	for i, e := range d.Log.Entries {
		obj := func(path string) map[string]any {
			switch path {
			case "":
				return e
			case "content":
				return e["response"].(map[string]any)["content"].(map[string]any)
			case "postData?":
				pd, _ := e["request"].(map[string]any)["postData"].(map[string]any)
				return pd
			}
			return e[path].(map[string]any)
		}
		for path, keys := range required {
			o := obj(path)
			if o == nil {
				continue
			}
			for _, k := range keys {
				if _, ok := o[k]; !ok {
					t.Errorf("entry %d: %s.%s missing", i, path, k)
				}
			}
		}
	}
	return d
}

func header(list any, name string) []string {
	var out []string
	for _, h := range list.([]any) {
		m := h.(map[string]any)
		if strings.EqualFold(m["name"].(string), name) {
			out = append(out, m["value"].(string))
		}
	}
	return out
}

// TestHARNetwork: over a real socket, every attempt is an entry (a 429
// retried is two), credentials are redacted, a new connection has its
// connect time and a reused one none, and replay's reader reads the file
// back with the bodies as sent and received.
func TestHARNetwork(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		if r.Method == http.MethodPost && posts.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"status":"429","detail":"slow down"}`)
			return
		}
		if r.Method == http.MethodPost {
			w.Header().Set("Location", "http://x/scim/v2/Users/1")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"1","userName":"ana@contoso.com","echo":"Bearer `+harToken+`"}`)
			return
		}
		io.WriteString(w, `{"totalResults":0,"Resources":[]}`)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "run.har")
	h, err := CreateHAR(path, "test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{BaseURL: srv.URL + "/scim/v2?aadOptscim062020", Token: harToken, HAR: h, retryWait: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.List(ctx, Users, ListParams{Filter: `userName eq "x"`}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, Users, map[string]any{"userName": "ana@contoso.com"}); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if h.Entries() != 3 {
		t.Fatalf("%d entries, want 3 (GET, POST 429, POST 201)", h.Entries())
	}
	d := readHAR(t, path)
	e := d.Log.Entries
	get, retried, created := e[0], e[1], e[2]
	req := get["request"].(map[string]any)
	if req["method"] != "GET" || !strings.HasPrefix(req["url"].(string), srv.URL+"/scim/v2/Users?filter=") {
		t.Errorf("request %v", req)
	}
	if q := req["queryString"].([]any); len(q) != 1 || q[0].(map[string]any)["value"] != `userName eq "x"` {
		t.Errorf("queryString %v", q)
	}
	if got := header(req["headers"], "Authorization"); len(got) != 1 || got[0] != "Bearer [REDACTED]" {
		t.Errorf("Authorization %v", got)
	}
	if got := header(req["headers"], "Host"); len(got) != 1 || got[0] != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("Host %v", got)
	}
	tm := get["timings"].(map[string]any)
	if tm["connect"].(float64) < 0 || tm["dns"].(float64) != -1 || tm["ssl"].(float64) != -1 || tm["wait"].(float64) < 0 {
		t.Errorf("first request on a new connection: timings %v", tm)
	}
	if tm2 := created["timings"].(map[string]any); tm2["connect"].(float64) != -1 {
		t.Errorf("reused connection: timings %v", tm2)
	}
	if retried["response"].(map[string]any)["status"].(float64) != 429 || created["response"].(map[string]any)["status"].(float64) != 201 {
		t.Errorf("statuses %v, %v", retried["response"], created["response"])
	}
	sum := 0.0
	for _, k := range []string{"blocked", "dns", "connect", "send", "wait", "receive"} {
		if v := tm[k].(float64); v > 0 {
			sum += v
		}
	}
	if got := get["time"].(float64); got < sum-0.01 || got > sum+0.01 {
		t.Errorf("time %v is not the sum of the timings %v", got, sum)
	}

	set, err := reqlog.Read([]string{path})
	if err != nil || len(set.Problems) > 0 {
		t.Fatalf("replay's reader: %v %v", err, set.Problems)
	}
	if f := set.Inputs[0].Format.String(); f != "HAR 1.2 (miscim test)" {
		t.Errorf("format %q", f)
	}
	x := set.Exchanges[2]
	if x.Method != "POST" || x.Status != 201 || string(x.RequestBody) != `{"userName":"ana@contoso.com"}` ||
		!strings.Contains(string(x.ResponseBody), `"echo":"Bearer [REDACTED]"`) || x.ResponseHeader.Get("Location") == "" ||
		x.RequestHeader.Get("Content-Type") != "application/scim+json" {
		t.Errorf("exchange %+v\n%s\n%s", x, x.RequestBody, x.ResponseBody)
	}
}

// TestHARInProcess: the in-process transport is recorded the same way,
// without connection phases.
func TestHARInProcess(t *testing.T) {
	var buf bytes.Buffer
	h, err := NewHARWriter(&buf, "test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{BaseURL: "http://embedded.miscim/scim/v2", HAR: h, Transport: HandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusNoContent)
	}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(context.Background(), Users, "7", ""); err != nil {
		t.Fatal(err)
	}
	h.Close()
	path := filepath.Join(t.TempDir(), "x.har")
	os.WriteFile(path, buf.Bytes(), 0o644)
	d := readHAR(t, path)
	e := d.Log.Entries[0]
	tm := e["timings"].(map[string]any)
	if tm["blocked"].(float64) != -1 || tm["connect"].(float64) != -1 || tm["send"].(float64) != 0 || e["response"].(map[string]any)["status"].(float64) != 204 {
		t.Errorf("entry %v", e)
	}
	if _, ok := e["request"].(map[string]any)["postData"]; ok {
		t.Error("postData for a request without a body")
	}
}

// TestHARFailuresAndBinary: a request that got no answer is an entry with
// status 0 and the error; a body that is not UTF-8 is base64.
func TestHARFailuresAndBinary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	var buf bytes.Buffer
	h, _ := NewHARWriter(&buf, "test")
	c, _ := New(Options{BaseURL: "http://" + addr + "/scim/v2", HAR: h, Retries: -1})
	if _, err := c.Get(context.Background(), Users, "1", ListParams{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("error %v", err)
	}
	bin := HandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte{0xff, 0xfe, 0x00})
	}))
	c2, _ := New(Options{BaseURL: "http://embedded.miscim/scim/v2", HAR: h, Transport: bin})
	c2.Do(context.Background(), RawRequest{Method: "POST", Path: "/Users", Body: []byte{0xc3, 0x28}})
	h.Close()
	var d harDoc
	if err := json.Unmarshal(buf.Bytes(), &d); err != nil || len(d.Log.Entries) != 2 {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	resp := d.Log.Entries[0]["response"].(map[string]any)
	if resp["status"].(float64) != 0 || !strings.Contains(resp["_error"].(string), "refused") {
		t.Errorf("failed request: %v", resp)
	}
	content := d.Log.Entries[1]["response"].(map[string]any)["content"].(map[string]any)
	post := d.Log.Entries[1]["request"].(map[string]any)["postData"].(map[string]any)
	if content["encoding"] != "base64" || content["text"] != "//4A" || post["encoding"] != "base64" || post["text"] != "wyg=" {
		t.Errorf("binary bodies: %v %v", content, post)
	}
}

// TestHARStreamed: entries are on disk as exchanges complete, each one
// whole, also from many goroutines at once; a run killed before Close
// leaves a file whose entries replay's reader still reads.
func TestHARStreamed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"id":"`+strings.TrimPrefix(r.URL.Path, "/scim/v2/Users/")+`"}`)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "run.har")
	h, err := CreateHAR(path, "test")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := New(Options{BaseURL: srv.URL + "/scim/v2", HAR: h})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if _, err := c.Get(context.Background(), Users, string(rune('a'+g))+string(rune('a'+i)), ListParams{}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// Not closed: as after kill -9.
	set, err := reqlog.Read([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Exchanges) != 200 || len(set.Problems) != 1 || !strings.Contains(set.Problems[0].Err.Error(), "cut short") {
		t.Fatalf("%d exchanges, problems %v", len(set.Exchanges), set.Problems)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	set, err = reqlog.Read([]string{path})
	if err != nil || len(set.Exchanges) != 200 || len(set.Problems) != 0 {
		t.Fatalf("after Close: %d exchanges, %v %v", len(set.Exchanges), err, set.Problems)
	}
	// After Close nothing more is written, and the file stays whole.
	c.Get(context.Background(), Users, "late", ListParams{})
	if h.Entries() != 200 {
		t.Errorf("%d entries after Close", h.Entries())
	}
}

// BenchmarkHAR is what recording costs per request: a create-user
// exchange in-process (what an initial cycle sends 100,000 of), with and
// without --har.
func BenchmarkHAR(b *testing.B) {
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223-7f76-453a-919d-413861904646","externalId":"ana.lee","userName":"ana.lee@contoso.com","active":true,"name":{"givenName":"Ana","familyName":"Lee"},"emails":[{"type":"work","value":"ana.lee@contoso.com","primary":true}],"meta":{"resourceType":"User","created":"2026-03-02T09:30:00Z","lastModified":"2026-03-02T09:30:00Z","version":"W/\"1\"","location":"http://embedded.miscim/scim/v2/Users/2819c223-7f76-453a-919d-413861904646"}}`
	rt := HandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/scim+json")
		w.Header().Set("Location", "http://embedded.miscim/scim/v2/Users/2819c223-7f76-453a-919d-413861904646")
		w.Header().Set("Etag", `W/"1"`)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, user)
	}))
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "externalId": "ana.lee", "userName": "ana.lee@contoso.com", "active": true,
		"name": map[string]any{"givenName": "Ana", "familyName": "Lee"}, "emails": []any{map[string]any{"type": "work", "value": "ana.lee@contoso.com", "primary": true}}}
	for _, withHAR := range []bool{false, true} {
		name := "without"
		if withHAR {
			name = "with"
		}
		b.Run(name, func(b *testing.B) {
			opts := Options{BaseURL: "http://embedded.miscim/scim/v2", Transport: rt}
			if withHAR {
				h, err := CreateHAR(filepath.Join(b.TempDir(), "b.har"), "bench")
				if err != nil {
					b.Fatal(err)
				}
				defer h.Close()
				opts.HAR = h
			}
			c, _ := New(opts)
			b.ReportAllocs()
			for range b.N {
				if _, err := c.Create(context.Background(), Users, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
