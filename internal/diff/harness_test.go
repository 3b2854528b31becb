package diff

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
)

// baseTenant is the tenant the tests provision and then change: Ann is
// assigned directly and a member of Sales, Bob assigned through Sales,
// Carol not at all, Fay directly only; Dave is assigned but disabled;
// Erin is assigned and in the recycle bin. Sales
// is assigned (Ann, Bob, Dave), Finance is not (Ann).
const baseTenant = `
users:
  - objectId: 11111111-0000-4000-8000-000000000001
    userPrincipalName: ann@contoso.com
    givenName: Ann
    surname: Lee
    mail: ann@contoso.com
    accountEnabled: true
  - objectId: 11111111-0000-4000-8000-000000000002
    userPrincipalName: bob@contoso.com
    givenName: Bob
    surname: Stone
    mail: bob@contoso.com
    accountEnabled: true
  - objectId: 11111111-0000-4000-8000-000000000003
    userPrincipalName: carol@contoso.com
    givenName: Carol
    surname: King
    mail: carol@contoso.com
    accountEnabled: true
  - objectId: 11111111-0000-4000-8000-000000000004
    userPrincipalName: dave@contoso.com
    givenName: Dave
    surname: Moss
    mail: dave@contoso.com
    accountEnabled: false
  - objectId: 11111111-0000-4000-8000-000000000005
    userPrincipalName: erin@contoso.com
    givenName: Erin
    surname: Hale
    mail: erin@contoso.com
    accountEnabled: true
    softDeleted: true
  - objectId: 11111111-0000-4000-8000-000000000006
    userPrincipalName: fay@contoso.com
    givenName: Fay
    surname: Wong
    mail: fay@contoso.com
    accountEnabled: true
groups:
  - objectId: 22222222-0000-4000-8000-000000000001
    displayName: Sales
    description: Sales team
    members:
      - 11111111-0000-4000-8000-000000000001
      - 11111111-0000-4000-8000-000000000002
      - 11111111-0000-4000-8000-000000000004
  - objectId: 22222222-0000-4000-8000-000000000002
    displayName: Finance
    members:
      - 11111111-0000-4000-8000-000000000001
assignments:
  - principalId: 11111111-0000-4000-8000-000000000001
  - principalId: 22222222-0000-4000-8000-000000000001
  - principalId: 11111111-0000-4000-8000-000000000004
  - principalId: 11111111-0000-4000-8000-000000000005
  - principalId: 11111111-0000-4000-8000-000000000006
`

// Ids of the base tenant.
const (
	annID   = "11111111-0000-4000-8000-000000000001"
	bobID   = "11111111-0000-4000-8000-000000000002"
	carolID = "11111111-0000-4000-8000-000000000003"
	daveID  = "11111111-0000-4000-8000-000000000004"
	erinID  = "11111111-0000-4000-8000-000000000005"
	fayID   = "11111111-0000-4000-8000-000000000006"
	salesID = "22222222-0000-4000-8000-000000000001"
)

var fixedNow = func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }

// mapper loads a tenant snapshot and binds Metric Insights' mapping (or
// m) to it.
func mapper(t testing.TB, yaml string, m *mapping.Mapping, scope mapping.ScopeMode) *mapping.Mapper {
	t.Helper()
	tn, err := tenant.Parse("tenant.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if m == nil {
		m = mapping.Default()
	}
	mp, err := mapping.New(tn, m, mapping.Options{Scope: scope, Env: &expr.Env{Now: fixedNow}})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// testTarget is a real engine on SQLite behind the real handler, read
// through the client as the embedded target is.
type testTarget struct {
	e *engine.Engine
	c *client.Client
}

func newTarget(t testing.TB) *testTarget {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "miscim.db"), sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var n atomic.Int64
	ids := func() string { i := n.Add(1); return fmt.Sprintf("%08d-aaaa-4000-8000-%012d", i, i) }
	e := engine.New(st, engine.WithIDGenerator(ids), engine.WithClock(fixedNow))
	srv := server.New(e, server.Options{LogDir: t.TempDir()})
	t.Cleanup(func() { srv.Close() })
	c, err := client.New(client.Options{BaseURL: target.EmbeddedBaseURL, Transport: client.HandlerTransport(server.LocalAdmin(srv))})
	if err != nil {
		t.Fatal(err)
	}
	return &testTarget{e: e, c: c}
}

// provision puts what the tenant wants into the target, the way a cycle
// leaves it: every user and group in scope created with its create body,
// then the groups' members added by id.
func (tt *testTarget) provision(t testing.TB, mp *mapping.Mapper) {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	for u := range mp.Tenant().Users() {
		d := mp.User(u)
		if !d.Scope.InScope {
			continue
		}
		body := d.Resource(true)
		body["schemas"] = []any{scim.UserSchema}
		r, err := tt.c.Create(ctx, client.Users, body)
		if err != nil {
			t.Fatalf("create %s: %v", d.Name, err)
		}
		ids[u.ObjectID()] = r["id"].(string)
	}
	for g := range mp.Tenant().Groups() {
		d := mp.Group(g)
		if !d.Scope.InScope {
			continue
		}
		body := d.Resource(true)
		body["schemas"] = []any{scim.GroupSchema}
		r, err := tt.c.Create(ctx, client.Groups, body)
		if err != nil {
			t.Fatalf("create %s: %v", d.Name, err)
		}
		var vals []any
		for _, m := range d.Members {
			vals = append(vals, map[string]any{"value": ids[m]})
		}
		if len(vals) > 0 {
			patch := map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": []any{map[string]any{"op": "add", "path": "members", "value": vals}}}
			if _, err := tt.c.Patch(ctx, client.Groups, r["id"].(string), patch, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// id finds a target object's id by name.
func (tt *testTarget) id(t testing.TB, resource, attr, name string) string {
	t.Helper()
	lr, err := tt.c.List(context.Background(), resource, client.ListParams{Filter: attr + " eq " + scim.QuoteString(name)})
	if err != nil || len(lr.Resources) != 1 {
		t.Fatalf("find %s %s: %v (%d found)", resource, name, err, len(lr.Resources))
	}
	return lr.Resources[0]["id"].(string)
}

// patch sends a PATCH of one operation.
func (tt *testTarget) patch(t testing.TB, resource, id string, op map[string]any) {
	t.Helper()
	body := map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": []any{op}}
	if _, err := tt.c.Patch(context.Background(), resource, id, body, ""); err != nil {
		t.Fatal(err)
	}
}

// diff reads the target and compares.
func (tt *testTarget) diff(t testing.TB, mp *mapping.Mapper, opts Options) *Report {
	t.Helper()
	snap, err := Read(context.Background(), tt.c, "embedded", ReadOptions{Mapping: mp.Mapping(), Users: true, Groups: true, Members: true})
	if err != nil {
		t.Fatal(err)
	}
	return Compare(mp, snap, opts)
}

// brief is a change in one line, for comparing reports in tests.
func brief(c Change) string {
	s := fmt.Sprintf("%s %s %s", c.Kind, c.Object, c.Identity)
	if c.Action != "" {
		s += " " + string(c.Action)
	}
	if c.Member != nil {
		s += " member " + c.Member.Identity
	}
	for _, a := range c.Attributes {
		s += fmt.Sprintf(" %s:%s→%s", a.Attribute, Show(a.Target), Show(a.Desired))
	}
	return s
}

func briefs(r *Report) []string {
	out := []string{}
	for _, c := range r.Changes {
		out = append(out, brief(c))
	}
	return out
}

func edit(s string, pairs ...string) string {
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("edit: " + pairs[i] + " not found")
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}
