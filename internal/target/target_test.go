package target

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

func TestOpenEmbedded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "nested", "miscim.db")
	var trace bytes.Buffer
	tg, err := Open(ctx, Config{DBPath: db, LogDir: filepath.Join(dir, "log"), Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if !tg.Embedded || tg.Engine == nil || tg.DBPath != db || tg.Client.BaseURL() != EmbeddedBaseURL {
		t.Fatalf("target %+v", tg)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("database not created: %v", err)
	}

	created, err := tg.Client.Create(ctx, client.Users, scim.Resource{
		"schemas":  []string{scim.UserSchema},
		"userName": "bjensen@example.com",
		"active":   true,
		"emails":   []any{map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := created["id"].(string)
	if id == "" {
		t.Fatalf("created %v", created)
	}
	got, err := tg.Client.Get(ctx, client.Users, id, client.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if got["userName"] != "bjensen@example.com" {
		t.Errorf("got %v", got)
	}

	// Errors arrive as *scim.Error, exactly as over the network.
	_, err = tg.Client.Create(ctx, client.Users, scim.Resource{"schemas": []string{scim.UserSchema}, "userName": "BJensen@example.com",
		"emails": []any{map[string]any{"value": "b2@example.com", "type": "work"}}})
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != http.StatusConflict {
		t.Errorf("duplicate: %v", err)
	}

	// The admin API works in-process (the local administrator needs no
	// token).
	vars, err := tg.Client.Vars(ctx)
	if err != nil || len(vars) == 0 {
		t.Errorf("vars: %v %v", vars, err)
	}
	if !strings.Contains(trace.String(), "> POST "+EmbeddedBaseURL+"/Users") {
		t.Errorf("trace:\n%s", trace.String())
	}

	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// The data persists across opens.
	tg, err = Open(ctx, Config{DBPath: db, LogDir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := tg.Client.Get(ctx, client.Users, id, client.ListParams{}); err != nil {
		t.Errorf("after reopen: %v", err)
	}
}

func TestOpenRemote(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/scim+json")
		_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`))
	}))
	defer srv.Close()
	tg, err := Open(context.Background(), Config{URL: srv.URL + "/scim/v2?aadOptscim062020", Token: "tok-123456"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Embedded || tg.Engine != nil || !tg.Client.FlagNoticed() {
		t.Fatalf("target %+v", tg)
	}
	lr, err := tg.Client.List(context.Background(), client.Users, client.ListParams{Filter: `userName eq "x"`})
	if err != nil || lr.TotalResults != 0 || auth != "Bearer tok-123456" {
		t.Fatalf("%+v %v auth %q", lr, err, auth)
	}

	if _, err := Open(context.Background(), Config{URL: "mi.example.com"}); err == nil {
		t.Error("a URL without scheme must be rejected")
	}
}

func TestDefaultPaths(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	if got := DefaultDBPathFrom(env(map[string]string{"XDG_DATA_HOME": "/x/data", "HOME": "/home/u"})); got != "/x/data/miscim/miscim.db" {
		t.Errorf("db with XDG: %s", got)
	}
	if got := DefaultDBPathFrom(env(map[string]string{"XDG_DATA_HOME": "relative", "HOME": "/home/u"})); got != "/home/u/.local/share/miscim/miscim.db" {
		t.Errorf("db without XDG: %s", got)
	}

	mi := t.TempDir()
	if got := DefaultLogDirFrom(env(map[string]string{"HOME": "/home/u"}), mi); got != mi {
		t.Errorf("log dir with a writable MI dir: %s", got)
	}
	if got := DefaultLogDirFrom(env(map[string]string{"XDG_STATE_HOME": "/x/state"}), filepath.Join(mi, "missing")); got != "/x/state/miscim/scim-log" {
		t.Errorf("log dir with XDG: %s", got)
	}
	if got := DefaultLogDirFrom(env(map[string]string{"HOME": "/home/u"}), ""); got != "/home/u/.local/state/miscim/scim-log" {
		t.Errorf("log dir fallback: %s", got)
	}
	entries, _ := os.ReadDir(mi)
	if len(entries) != 0 {
		t.Errorf("the writability probe left %v behind", entries)
	}
}

func TestIsLoopback(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"", true},
		{"http://127.0.0.1:8080/scim/v2", true},
		{"http://127.1.2.3/scim/v2", true},
		{"http://[::1]:9000/scim/v2", true},
		{"http://[::ffff:127.0.0.1]/scim/v2", true},
		{"http://localhost/scim/v2", true},
		{"https://LOCALHOST./scim/v2", true},
		{"http://mi.localhost:8080/scim/v2", true},
		{"https://mi.example.com/scim/v2", false},
		{"http://10.0.0.5/scim/v2", false},
		{"http://0.0.0.0:8080/scim/v2", false},
		{"http://localhost.example.com/scim/v2", false},
		{"http://127.0.0.1.nip.io/scim/v2", false},
		{"not a url", false},
	} {
		if got := IsLoopback(tc.url); got != tc.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestCheckWrites(t *testing.T) {
	none := func(string) string { return "" }
	env := func(k string) string {
		if k == EnvAllowWrites {
			return "1"
		}
		return ""
	}
	remote := "https://mi.example.com/scim/v2"
	if g := CheckWrites("replay", remote, false, none); g.Allowed || !strings.Contains(g.Notice, "replay: https://mi.example.com/scim/v2 is not a loopback address: running as --dry-run") || strings.Contains(g.Notice, "\n") {
		t.Errorf("remote without permission: %+v", g)
	}
	for _, g := range []WriteGuard{CheckWrites("replay", remote, true, none), CheckWrites("replay", remote, false, env), CheckWrites("replay", "http://127.0.0.1:1/scim/v2", false, none), CheckWrites("replay", "", false, none)} {
		if !g.Allowed || g.Notice != "" {
			t.Errorf("%+v", g)
		}
	}
}

// TestOpenStoreChoosesByURL: a postgres:// URL is PostgreSQL (a server
// that cannot be reached is ErrUnavailable, exit 5, and no file appears);
// anything else, a libpq key=value string included, is a SQLite file at
// that path.
func TestOpenStoreChoosesByURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, _, err := OpenStore(context.Background(), "postgres://miscim@127.0.0.1:1/miscim?sslmode=disable&connect_timeout=2", "")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("unreachable PostgreSQL: %v, want ErrUnavailable", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a postgres URL left files behind: %v", entries)
	}
	_, _, err = OpenStore(context.Background(), "postgres://miscim@127.0.0.1:1/miscim?pool_max_conns=zero", "")
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("a malformed URL: %v, want a ConfigError", err)
	}
	st, info, err := OpenStore(context.Background(), "host=localhost dbname=miscim", "")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if info.Kind != "sqlite" {
		t.Fatalf("a key=value string opened %s", info.Kind)
	}
	if _, err := os.Stat(filepath.Join(dir, "host=localhost dbname=miscim")); err != nil {
		t.Fatalf("the key=value string is not the SQLite file's name: %v", err)
	}
}
