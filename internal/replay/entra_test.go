package replay

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/reqlog"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
)

// The test inputs: what `miscim serve` logs while Entra provisions a
// tenant (the sequence cmd/demo sends, over real HTTP), read back as the
// request log.

const adminToken = "replay-test-admin-token"

// source is a `miscim serve` equivalent on loopback (the real handler
// behind a real listener) with the request logger on.
type source struct {
	c      *client.Client
	logDir string
	close  func()
}

func newSource(t testing.TB, sync sqlite.Sync) *source {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "source.db"), sqlite.Options{Sync: sync})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(st)
	if _, err := e.SetVar(context.Background(), engine.VarRequestLogger, "Y", "test"); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(dir, "scim-log")
	srv := server.New(e, server.Options{LogDir: logDir, AdminToken: adminToken})
	hs := httptest.NewServer(srv)
	c, err := client.New(client.Options{BaseURL: hs.URL + "/scim/v2", Token: adminToken})
	if err != nil {
		t.Fatal(err)
	}
	s := &source{c: c, logDir: logDir}
	s.close = func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
		st.Close()
	}
	return s
}

// finish stops the source so that its log is complete.
func (s *source) finish() { s.close() }

func patchOps(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": list}
}

func op(name, path string, value any) map[string]any {
	m := map[string]any{"op": name, "value": value}
	if path != "" {
		m["path"] = path
	}
	return m
}

func userName(i int) string { return fmt.Sprintf("user%05d@contoso.com", i) }

// entraTraffic sends what Entra sends for a tenant of n users and n/5
// groups: Test Connection, an initial cycle (match query then create, per
// user; groups, then one member per PATCH), an incremental cycle in both
// PATCH dialects (attribute changes, soft delete with "False", a path-less
// replace, a member removed by value filter, a restore), reads by id, a
// PUT, a duplicate create (409), a DELETE and the read of the deleted
// user (404), and a full list.
func entraTraffic(ctx context.Context, c *client.Client, n int) error {
	if _, err := c.List(ctx, client.Users, client.ListParams{Filter: `userName eq "6f1c0c4e-9c1e-4bb0-8a1c-1f2a4b8c9d0e"`}); err != nil {
		return err
	}
	ids := make([]string, n)
	for i := range n {
		u := userName(i)
		if _, err := c.List(ctx, client.Users, client.ListParams{Filter: "userName eq " + scim.QuoteString(u)}); err != nil {
			return err
		}
		r, err := c.Create(ctx, client.Users, map[string]any{
			"schemas":    []string{scim.UserSchema, scim.EnterpriseUserSchema},
			"externalId": fmt.Sprintf("0a21f0f2-%04d", i), "userName": u, "active": true,
			"name":   map[string]any{"givenName": fmt.Sprintf("Given%d", i), "familyName": "Family"},
			"emails": []any{map[string]any{"primary": true, "type": "work", "value": u}},
		})
		if err != nil {
			return err
		}
		ids[i] = r["id"].(string)
	}
	var groups []string
	for g := 0; g < max(1, n/5); g++ {
		name := fmt.Sprintf("MI Group %d", g)
		if _, err := c.List(ctx, client.Groups, client.ListParams{Filter: "displayName eq " + scim.QuoteString(name), ExcludedAttributes: []string{"members"}}); err != nil {
			return err
		}
		r, err := c.Create(ctx, client.Groups, map[string]any{"schemas": []string{scim.GroupSchema}, "externalId": fmt.Sprintf("g-%d", g), "displayName": name, "description": "replayed"})
		if err != nil {
			return err
		}
		gid := r["id"].(string)
		groups = append(groups, gid)
		for i := g; i < n; i += max(1, n/5) {
			if _, err := c.Patch(ctx, client.Groups, gid, patchOps(op("Add", "members", []any{map[string]any{"$ref": nil, "value": ids[i]}})), ""); err != nil {
				return err
			}
		}
	}
	// Incremental cycle, legacy dialect.
	for i := 0; i < n; i += 3 {
		if _, err := c.Get(ctx, client.Users, ids[i], client.ListParams{}); err != nil {
			return err
		}
		if _, err := c.Patch(ctx, client.Users, ids[i], patchOps(op("Replace", `emails[type eq "work"].value`, "changed."+userName(i))), ""); err != nil {
			return err
		}
	}
	for i := 1; i < n; i += 4 {
		if _, err := c.Patch(ctx, client.Users, ids[i], patchOps(op("Replace", "active", "False")), ""); err != nil {
			return err
		}
	}
	// aadOptscim062020: a path-less replace, a member removed by filter.
	if _, err := c.Patch(ctx, client.Users, ids[0], patchOps(op("replace", "", map[string]any{"name.givenName": "Renamed", "name.familyName": "Person"})), ""); err != nil {
		return err
	}
	if _, err := c.Patch(ctx, client.Groups, groups[0], patchOps(op("remove", "members[value eq "+scim.QuoteString(ids[0])+"]", nil)), ""); err != nil {
		return err
	}
	if _, err := c.Get(ctx, client.Groups, groups[0], client.ListParams{}); err != nil {
		return err
	}
	// Restore, PUT, a duplicate, a delete and what follows it.
	if n > 1 {
		if _, err := c.Patch(ctx, client.Users, ids[1], patchOps(op("Replace", "active", "True")), ""); err != nil {
			return err
		}
	}
	if _, err := c.Replace(ctx, client.Users, ids[n-1], map[string]any{
		"schemas": []string{scim.UserSchema}, "userName": userName(n - 1), "active": true,
		"emails": []any{map[string]any{"type": "work", "value": userName(n - 1)}}, "title": "replaced",
	}, ""); err != nil {
		return err
	}
	dup, err := c.Do(ctx, client.RawRequest{Method: http.MethodPost, Path: "/Users", Body: []byte(`{"schemas":["` + scim.UserSchema + `"],"userName":"` + strings.ToUpper(userName(2)) + `","emails":[{"value":"x@contoso.com"}]}`)})
	if err != nil || dup.Status != http.StatusConflict {
		return fmt.Errorf("duplicate create: %v %v", dup, err)
	}
	if err := c.Delete(ctx, client.Users, ids[n-1], ""); err != nil {
		return err
	}
	if gone, err := c.Do(ctx, client.RawRequest{Method: http.MethodGet, Path: "/Users/" + ids[n-1]}); err != nil || gone.Status != http.StatusNotFound {
		return fmt.Errorf("read after delete: %v %v", gone, err)
	}
	if _, err := c.List(ctx, client.Users, client.ListParams{StartIndex: 1, Count: 100}); err != nil {
		return err
	}
	if _, err := c.List(ctx, client.Groups, client.ListParams{}); err != nil {
		return err
	}
	if _, err := c.ServiceProviderConfig(ctx); err != nil {
		return err
	}
	return nil
}

// recorded drives entraTraffic through a fresh source and returns the
// source's client (still open, for reading its state) and the log it
// wrote.
func recorded(t testing.TB, n int) (*client.Client, func(), string) {
	t.Helper()
	s := newSource(t, sqlite.SyncNormal)
	if err := entraTraffic(context.Background(), s.c, n); err != nil {
		t.Fatal(err)
	}
	return s.c, s.finish, s.logDir
}

// freshTarget is the embedded target on a new database, as `miscim
// replay` opens it (synchronous=NORMAL unless --sync full).
func freshTarget(t testing.TB) *target.Target { return freshTargetSync(t, sqlite.SyncNormal) }

func freshTargetSync(t testing.TB, sync sqlite.Sync) *target.Target {
	t.Helper()
	dir := t.TempDir()
	tg, err := target.Open(context.Background(), target.Config{DBPath: filepath.Join(dir, "replay.db"), LogDir: filepath.Join(dir, "log"), Sync: sync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// state is the directory a target holds, as SCIM shows it, without what
// the target assigns: users by userName, groups by displayName with their
// members' userNames.
func state(t testing.TB, c *client.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	names := map[string]string{}
	err := c.ListAll(ctx, client.Users, client.ListParams{}, 100, func(r scim.Resource) error {
		id := scim.GetString(r, "id")
		names[id] = scim.GetString(r, "userName")
		delete(r, "id")
		delete(r, "meta")
		if ext, ok := r[scim.MiscimUserSchema].(map[string]any); ok {
			if mu, ok := ext["miUsername"].(string); ok && strings.HasPrefix(mu, "scim-deleted-") {
				ext["miUsername"] = "scim-deleted-<id>-" + mu[len("scim-deleted-")+9:]
			}
		}
		out["user "+names[id]] = canonical(r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.ListAll(ctx, client.Groups, client.ListParams{}, 100, func(r scim.Resource) error {
		var members []string
		if list, ok := r["members"].([]any); ok {
			for _, m := range list {
				members = append(members, names[scim.GetString(m.(map[string]any), "value")])
			}
		}
		sort.Strings(members)
		delete(r, "id")
		delete(r, "meta")
		r["members"] = members
		out["group "+scim.GetString(r, "displayName")] = canonical(r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readLog(t testing.TB, paths ...string) *reqlog.Set {
	t.Helper()
	set, err := reqlog.Read(paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Problems) > 0 {
		t.Fatalf("problems reading the log: %v", set.Problems)
	}
	return set
}
