package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/store/storetest"
)

// env is a server over a real engine on SQLite in a temporary directory.
type env struct {
	t     testing.TB
	e     *engine.Engine
	s     *Server
	token string // API token of an Admin user "admin@example.com"
	logs  *syncBuffer
}

// syncBuffer collects the server's slog output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newEngine returns an engine on a fresh store of the kind
// MISCIM_TEST_STORE names (SQLite by default, in a temporary directory, in
// the given synchronous mode; or PostgreSQL).
func newEngine(t testing.TB, sync sqlite.Sync) *engine.Engine {
	t.Helper()
	if storetest.Kind() == "postgres" {
		return engine.New(storetest.Open(t))
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "miscim.db"), sqlite.Options{Sync: sync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return engine.New(st)
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	e := newEngine(t, sqlite.SyncNormal)
	_, token, err := e.CreateToken(context.Background(), "admin@example.com", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slogTo(logs)
	}
	s := New(e, opts)
	t.Cleanup(func() { s.Close() })
	return &env{t: t, e: e, s: s, token: token, logs: logs}
}

// resp is a recorded answer.
type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

func (r resp) String() string {
	return fmt.Sprintf("%d %s", r.Code, strings.TrimSpace(r.ResponseRecorder.Body.String()))
}

// req sends a request through the handler (no socket) with the admin
// token. body is a string sent as is, or a value marshalled to JSON.
func (v *env) req(method, target string, body any, hdr ...string) resp {
	v.t.Helper()
	return v.reqAs(v.token, method, target, body, hdr...)
}

func (v *env) reqAs(token, method, target string, body any, hdr ...string) resp {
	v.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			v.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, target, rd)
	if rd != nil {
		r.Header.Set("Content-Type", "application/scim+json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
		} else {
			r.Header.Set(hdr[i], hdr[i+1])
		}
	}
	w := httptest.NewRecorder()
	v.s.ServeHTTP(w, r)
	out := resp{ResponseRecorder: w}
	if b := w.Body.Bytes(); len(b) > 0 && b[0] == '{' {
		_ = json.Unmarshal(b, &out.body)
	}
	return out
}

// expect fails the test unless the status is want.
func (r resp) expect(t testing.TB, want int) resp {
	t.Helper()
	if r.Code != want {
		t.Fatalf("status %d, want %d: %s", r.Code, want, r.ResponseRecorder.Body.String())
	}
	return r
}

func (r resp) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func (r resp) num(key string) int {
	f, _ := r.body[key].(float64)
	return int(f)
}

// userBody is Entra's create-user body (entra-behavior §2.3).
func userBody(userName string) map[string]any {
	return map[string]any{
		"schemas":    []any{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName":   userName,
		"active":     true,
		"emails":     []any{map[string]any{"primary": true, "type": "work", "value": userName}},
		"meta":       map[string]any{"resourceType": "User"},
		"name":       map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles":      []any{},
	}
}

func (v *env) createUser(userName string) string {
	v.t.Helper()
	r := v.req("POST", "/scim/v2/Users", userBody(userName)).expect(v.t, 201)
	return r.str("id")
}

func (v *env) createGroup(name string) string {
	v.t.Helper()
	r := v.req("POST", "/scim/v2/Groups", map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"externalId":  "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
		"displayName": name,
		"meta":        map[string]any{"resourceType": "Group"},
	}).expect(v.t, 201)
	return r.str("id")
}

func patchBody(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": list}
}

func op(kind, path string, value any) map[string]any {
	m := map[string]any{"op": kind}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

// memberIDs lists a group's member ids as the engine keeps them.
func (v *env) memberIDs(groupID string) []string {
	v.t.Helper()
	g, err := v.e.GetGroup(context.Background(), groupID, true)
	if err != nil {
		v.t.Fatal(err)
	}
	var ids []string
	for _, m := range g["members"].([]any) {
		ids = append(ids, m.(map[string]any)["value"].(string))
	}
	return ids
}
