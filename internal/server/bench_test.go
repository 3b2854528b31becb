package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/engine"
)

// BenchmarkServeMixed drives the handler in-process (no sockets) with a
// mixed Entra workload — the matching filter GET, POST, a disable PATCH,
// DELETE — against SQLite with its durable default (synchronous=FULL),
// with the request logger off and on, so that the cost of logging can be
// compared with DESIGN §3.7's budget (at most 20%). One op is the four
// requests; the on case includes draining the log queue to disk.
//
// The log directory is shared by the successive runs the benchmark
// framework makes, as a server's log directory lives as long as the
// server: on ext4, creating the first few thousand files of a new
// directory costs several times what it costs later, and a directory per
// run would measure only that start.
func BenchmarkServeMixed(b *testing.B) {
	logDir := filepath.Join(b.TempDir(), "scim-log")
	for _, logging := range []bool{false, true} {
		name := "logger=off"
		dir := ""
		if logging {
			name, dir = "logger=on", logDir
		}
		b.Run(name, func(b *testing.B) { benchMixed(b, dir) })
	}
}

func benchMixed(b *testing.B, logDir string) {
	e := newEngine(b, "") // default: synchronous=FULL
	ctx := context.Background()
	_, token, err := e.CreateToken(ctx, "admin@example.com", "admin", 0)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{LogDir: logDir}
	if logDir != "" {
		if _, err := e.SetVar(ctx, engine.VarRequestLogger, "Y", "bench"); err != nil {
			b.Fatal(err)
		}
	}
	s := New(e, opts)
	defer s.Close()

	send := func(method, target, body string, want int) []byte {
		var r *strings.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		var req = httptest.NewRequest(method, target, nil)
		if r != nil {
			req = httptest.NewRequest(method, target, r)
			req.Header.Set("Content-Type", "application/scim+json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
		}
		return w.Body.Bytes()
	}
	const disable = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		userName := fmt.Sprintf("bench.user%07d@contoso.com", i)
		send("GET", "/scim/v2/Users?filter=userName+eq+%22"+userName+"%22", "", 200)
		created := send("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"`+
			fmt.Sprint(i)+`","userName":"`+userName+`","active":true,"emails":[{"primary":true,"type":"work","value":"`+userName+`"}],"name":{"givenName":"G","familyName":"F"}}`, 201)
		var doc struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(created, &doc); err != nil {
			b.Fatal(err)
		}
		send("PATCH", "/scim/v2/Users/"+doc.ID, disable, 200)
		send("DELETE", "/scim/v2/Users/"+doc.ID, "", 204)
	}
	if err := s.Close(); err != nil { // drain the log queue inside the timing
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(4*b.N)/b.Elapsed().Seconds(), "req/s")
}
