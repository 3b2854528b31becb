package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/reqlog"
)

func readLogDir(t *testing.T, dir string) (names []string, records []reqlog.Record, raw [][]byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		raw = append(raw, b)
	}
	records, probs, err := reqlog.ReadDir(dir)
	if err != nil || len(probs) > 0 {
		t.Fatalf("read %s: %v %v", dir, err, probs)
	}
	return names, records, raw
}

func TestRequestLogger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scim-log")
	v := newEnv(t, Options{LogDir: dir, AdminToken: "static-admin-secret"})

	// Variable N: nothing is written, not even the directory.
	v.req("GET", "/scim/v2/Users", nil).expect(t, 200)
	v.createUser("before@example.com")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("log directory exists while logging is off: %v", err)
	}

	// Switch it on through the admin API; the admin call itself is not
	// logged, the SCIM requests after it are, one record each.
	v.req("PUT", "/api/system-variables/"+engine.VarRequestLogger, `{"value":"Y"}`).expect(t, 200)
	probe := "/scim/v2/Users?filter=userName+eq+%22nobody%22&aadOptscim062020"
	v.req("GET", probe, nil).expect(t, 200)
	id := v.createUser("ann@example.com")
	v.reqAs("static-admin-secret", "PATCH", "/scim/v2/Users/"+id, patchBody(op("Replace", "active", "False"))).expect(t, 200)
	v.req("POST", "/scim/v2/Users", `{"broken`).expect(t, 400)
	v.req("DELETE", "/scim/v2/Users/"+id, nil).expect(t, 204)
	v.reqAs("", "GET", "/scim/v2/Users", nil).expect(t, 401)
	v.req("GET", "/api/system-variables", nil).expect(t, 200)
	v.reqAs("", "GET", "/healthz", nil).expect(t, 200)
	v.reqAs("", "GET", "/metrics", nil).expect(t, 200)
	if err := v.s.Close(); err != nil {
		t.Fatal(err)
	}

	names, recs, raw := readLogDir(t, dir)
	if len(recs) != 6 {
		t.Fatalf("%d records, want 6: %v", len(recs), names)
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("names not sorted: %v", names)
	}
	wantMethods := []string{"GET", "POST", "PATCH", "POST", "DELETE", "GET"}
	wantStatus := []int{200, 201, 200, 400, 204, 401}
	for i, r := range recs {
		if r.Method != wantMethods[i] || r.Status != wantStatus[i] || r.Seq != uint64(i+1) || r.Format != reqlog.FormatVersion {
			t.Errorf("record %d (%s): %s %d seq %d", i, r.RequestID, r.Method, r.Status, r.Seq)
		}
		if r.RequestID == "" || r.Time == "" || r.DurationMs <= 0 || r.RemoteAddr == "" {
			t.Errorf("record %d incomplete: %+v", i, r)
		}
		if got := r.ResponseHeaders["X-Request-Id"]; len(got) != 1 || got[0] != r.RequestID {
			t.Errorf("record %d: response X-Request-Id %v, requestId %s", i, got, r.RequestID)
		}
	}
	if recs[0].Path != probe {
		t.Errorf("path = %q, want %q", recs[0].Path, probe)
	}
	for i, r := range recs[:5] {
		if got := r.RequestHeaders["Authorization"]; len(got) != 1 || got[0] != "Bearer [REDACTED]" {
			t.Errorf("record %d Authorization = %v", i, got)
		}
	}
	// The token strings appear in no file.
	for i, b := range raw {
		for _, secret := range []string{v.token, "static-admin-secret", strings.TrimPrefix(v.token, "miscim_")} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains a token", names[i])
			}
		}
	}
	// Bodies are JSON where they were JSON, strings where they were not.
	var created map[string]any
	if err := json.Unmarshal(recs[1].RequestBody, &created); err != nil || created["userName"] != "ann@example.com" {
		t.Errorf("request body = %s (%v)", recs[1].RequestBody, err)
	}
	var answer map[string]any
	if err := json.Unmarshal(recs[1].ResponseBody, &answer); err != nil || answer["id"] != id {
		t.Errorf("response body = %s (%v)", recs[1].ResponseBody, err)
	}
	var broken string
	if err := json.Unmarshal(recs[3].RequestBody, &broken); err != nil || broken != `{"broken` {
		t.Errorf("malformed body logged as %s", recs[3].RequestBody)
	}
	if recs[4].ResponseBody != nil || recs[0].RequestBody != nil {
		t.Errorf("empty bodies logged: %s / %s", recs[4].ResponseBody, recs[0].RequestBody)
	}
	if ct := recs[1].ResponseHeaders["Content-Type"]; len(ct) != 1 || ct[0] != scimContentType {
		t.Errorf("response Content-Type = %v", ct)
	}
}

// TestRequestLoggerNeedsLogDir: with the variable Y but no LogDir,
// nothing is logged and nothing breaks.
func TestRequestLoggerNeedsLogDir(t *testing.T) {
	v := newEnv(t, Options{})
	v.req("PUT", "/api/system-variables/"+engine.VarRequestLogger, `{"value":"Y"}`).expect(t, 200)
	v.req("GET", "/scim/v2/Users", nil).expect(t, 200)
	if v.s.rlog != nil {
		t.Error("a request-log writer exists without LogDir")
	}
}

// TestRequestLoggerWriteError: an unwritable directory is logged, and the
// request still succeeds.
func TestRequestLoggerWriteError(t *testing.T) {
	parent := t.TempDir()
	blocker := filepath.Join(parent, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	v := newEnv(t, Options{LogDir: filepath.Join(blocker, "log")})
	v.req("PUT", "/api/system-variables/"+engine.VarRequestLogger, `{"value":"Y"}`).expect(t, 200)
	v.req("GET", "/scim/v2/Users", nil).expect(t, 200)
	v.req("GET", "/scim/v2/Users", nil).expect(t, 200)
	if err := v.s.Close(); err == nil {
		t.Error("Close reported no write error")
	}
	if n := strings.Count(v.logs.String(), "request log write failed"); n != 1 {
		t.Errorf("write failure logged %d times, want once: %s", n, v.logs.String())
	}
}

func TestPanicIsA500WithRequestID(t *testing.T) {
	v := newEnv(t, Options{})
	v.s.testHook = func(r *http.Request) {
		if strings.Contains(r.URL.Path, "boom") {
			panic("kaboom: secret internals")
		}
	}
	r := v.req("GET", "/scim/v2/Users/boom", nil, "X-Request-Id", "req-42")
	scimError(t, r, 500, "")
	if r.str("detail") != "internal error; request id req-42" {
		t.Errorf("detail = %q", r.str("detail"))
	}
	body := r.Body.String()
	for _, leak := range []string{"kaboom", "goroutine", ".go:", "panic"} {
		if strings.Contains(body, leak) {
			t.Errorf("500 body leaks %q: %s", leak, body)
		}
	}
	logs := v.logs.String()
	if !strings.Contains(logs, "kaboom") || !strings.Contains(logs, "goroutine") || !strings.Contains(logs, "req-42") {
		t.Errorf("panic not logged with stack and request id: %s", logs)
	}
	// The server keeps serving.
	v.req("GET", "/scim/v2/Users", nil).expect(t, 200)
}
