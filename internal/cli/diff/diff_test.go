package diff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/cli/clitest"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
)

// tenantFile is provisioned; changedFile is it with Erin unassigned.
const (
	tenantFile  = "testdata/tenant.yaml"
	changedFile = "testdata/tenant-changed.yaml"
)

var clock = func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }

// newEngine is a real engine on SQLite with sequential ids and a fixed
// clock, so golden files are stable; dir holds its database.
func newEngine(t *testing.T, dir string) *engine.Engine {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "miscim.db"), sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var n atomic.Int64
	ids := func() string { i := n.Add(1); return fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i) }
	return engine.New(st, engine.WithIDGenerator(ids), engine.WithClock(clock))
}

// engineClient reads the engine through the real handler, as the
// embedded target does.
func engineClient(t *testing.T, e *engine.Engine) *client.Client {
	t.Helper()
	srv := server.New(e, server.Options{LogDir: t.TempDir()})
	t.Cleanup(func() { srv.Close() })
	c, err := client.New(client.Options{BaseURL: target.EmbeddedBaseURL, Transport: client.HandlerTransport(server.LocalAdmin(srv))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// provision creates what the tenant wants in the target: every user and
// group in scope with its create body, then the memberships by id.
func provision(t *testing.T, c *client.Client, path string) map[string]string {
	t.Helper()
	ctx := context.Background()
	tn, err := tenant.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := mapping.New(tn, mapping.Default(), mapping.Options{Env: &expr.Env{Now: clock}})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for u := range tn.Users() {
		d := mp.User(u)
		if !d.Scope.InScope {
			continue
		}
		body := d.Resource(true)
		body["schemas"] = []any{scim.UserSchema}
		r, err := c.Create(ctx, client.Users, body)
		if err != nil {
			t.Fatal(err)
		}
		ids[d.Name] = r["id"].(string)
		ids[u.ObjectID()] = r["id"].(string)
	}
	for g := range tn.Groups() {
		d := mp.Group(g)
		if !d.Scope.InScope {
			continue
		}
		body := d.Resource(true)
		body["schemas"] = []any{scim.GroupSchema}
		r, err := c.Create(ctx, client.Groups, body)
		if err != nil {
			t.Fatal(err)
		}
		ids[d.Name] = r["id"].(string)
		for _, m := range d.Members {
			patchMembers(t, c, r["id"].(string), "add", ids[m])
		}
	}
	return ids
}

func patchMembers(t *testing.T, c *client.Client, group, op, user string) {
	t.Helper()
	body := map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": []any{map[string]any{"op": op, "path": "members", "value": []any{map[string]any{"value": user}}}}}
	if _, err := c.Patch(context.Background(), client.Groups, group, body, ""); err != nil {
		t.Fatal(err)
	}
}

func patchUser(t *testing.T, c *client.Client, id string, ops ...map[string]any) {
	t.Helper()
	var list []any
	for _, o := range ops {
		list = append(list, o)
	}
	body := map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": list}
	if _, err := c.Patch(context.Background(), client.Users, id, body, ""); err != nil {
		t.Fatal(err)
	}
}

// changedTarget is the tenant provisioned, then changed in the target
// and in the tenant so that every kind of change shows: Bob's surname and
// Ann's state changed in Metric Insights, Carol deleted there, a local
// admin and a user and a group made by hand, a user whose tenant object
// is gone, Dave taken out of Finance and Fay put into Sales by hand; in
// the tenant, Erin unassigned (changedFile). It returns changedFile.
func changedTarget(t *testing.T, c *client.Client, e *engine.Engine) string {
	t.Helper()
	ctx := context.Background()
	ids := provision(t, c, tenantFile)
	patchUser(t, c, ids["bob.stone@contoso.com"], map[string]any{"op": "replace", "path": "name.familyName", "value": "Stoner"})
	patchUser(t, c, ids["ann.lee@contoso.com"], map[string]any{"op": "replace", "path": "active", "value": false})
	if err := c.Delete(ctx, client.Users, ids["carol.king@contoso.com"], ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.CreateToken(ctx, "admin@example.com", "admin", 0); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"temp.contractor@contoso.com","emails":[{"value":"temp@contoso.com"}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"11111111-0000-4000-8000-000000000099","userName":"gone.user@contoso.com","emails":[{"value":"gone.user@contoso.com","type":"work"}]}`,
	} {
		if _, err := c.Create(ctx, client.Users, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create(ctx, client.Groups, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Marketing"}`)); err != nil {
		t.Fatal(err)
	}
	patchMembers(t, c, ids["Finance"], "remove", ids["dave.moss@contoso.com"])
	patchMembers(t, c, ids["Sales"], "add", ids["fay.wong@contoso.com"])
	return changedFile
}

// options are a run's options against client c.
func options(ios *iostreams.IOStreams, c *client.Client, tenantPath string, format render.Format) *Options {
	return &Options{IO: ios, Format: format, TenantFlags: cmdutil.TenantFlags{Tenant: tenantPath, Scope: "assigned"}, Limit: DefaultLimit, Now: clock,
		Target:     func(context.Context) (*target.Target, error) { return &target.Target{Client: c}, nil },
		TargetName: func() string { return "embedded" },
		Resolve: func(string, string) (config.Resolved, error) {
			return config.Resolved{}, errors.New("no second target")
		},
	}
}

func TestGolden(t *testing.T) {
	e := newEngine(t, t.TempDir())
	c := engineClient(t, e)
	changed := changedTarget(t, c, e)
	for _, tc := range []struct {
		name     string
		tty      bool
		width    int
		format   render.Format
		identity string
		only     string
		limit    int
		want     int
	}{
		{name: "report-tty-80", tty: true, width: 80, want: 3},
		{name: "report-tty-160", tty: true, width: 160, want: 3},
		{name: "report-piped", want: 3},
		{name: "report-json", format: render.FormatJSON, want: 3},
		{name: "report-members-tty-80", tty: true, width: 80, only: "members", want: 3},
		{name: "report-limit-tty-80", tty: true, width: 80, limit: 2, want: 3},
		{name: "identity-bob-tty-80", tty: true, width: 80, identity: "bob.stone@contoso.com", want: 3},
		{name: "identity-bob-tty-160", tty: true, width: 160, identity: "bob.stone@contoso.com", want: 3},
		{name: "identity-sales-tty-80", tty: true, width: 80, identity: "Sales", want: 3},
		{name: "identity-unmanaged-piped", identity: "temp.contractor@contoso.com", want: 3},
		{name: "identity-fay-json", format: render.FormatJSON, identity: "fay.wong@contoso.com", want: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, errOut := clitest.Streams(tc.tty, tc.width)
			format := tc.format
			if format == "" {
				format = render.FormatTable
			}
			opts := options(ios, c, changed, format)
			opts.Identity, opts.Only = tc.identity, tc.only
			if tc.limit > 0 {
				opts.Limit = tc.limit
			}
			err := diffRun(context.Background(), opts)
			if got := clitest.ExitCode(err); got != tc.want {
				t.Errorf("exit %d, want %d (%v)", got, tc.want, err)
			}
			clitest.Golden(t, tc.name, tc.width, out, errOut, nil)
		})
	}
}

// Tenant and mapping files that cannot be read: exit 2, naming the file
// and the position; nothing is compared.
func TestMalformedInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badTenant := write("tenant.yaml", "users:\n  - objectId: 11111111-0000-4000-8000-000000000001\n    accountEnabled: maybe\n")
	badGraph := write("users.json", `{"value":[{"id":"11111111-0000-4000-8000-000000000001","userPrincipalName":"a@b.c"},]}`)
	badMapping := write("mapping.yaml", "users:\n  attributes:\n    - target: userName\n      expression: Join(\n")
	for _, tc := range []struct {
		name, tenant, mapping, want string
	}{
		{"native tenant", badTenant, "", "tenant.yaml:3: $.users[0].accountEnabled"},
		{"graph page", badGraph, "", "users.json:1"},
		{"mapping", tenantFile, badMapping, "mapping.yaml:4"},
		{"no such tenant", filepath.Join(dir, "nothere"), "", "nothere: cannot read the tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, _ := clitest.Streams(false, 0)
			opts := options(ios, nil, tc.tenant, render.FormatTable)
			opts.Mapping = tc.mapping
			opts.Target = func(context.Context) (*target.Target, error) { return nil, errors.New("the target is not needed") }
			err := diffRun(context.Background(), opts)
			if clitest.ExitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (exit %d), want exit 2 naming %q", err, clitest.ExitCode(err), tc.want)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no tenant", Options{}, "--tenant is required"},
		{"bad only", Options{TenantFlags: cmdutil.TenantFlags{Tenant: tenantFile}, Only: "people"}, `invalid value "people" for --only`},
		{"bad scope", Options{TenantFlags: cmdutil.TenantFlags{Tenant: tenantFile, Scope: "some"}}, `invalid --scope "some"`},
		{"against and tenant", Options{TenantFlags: cmdutil.TenantFlags{Tenant: tenantFile}, Against: "x.db"}, "--against compares two targets"},
		{"token without against", Options{TenantFlags: cmdutil.TenantFlags{Tenant: tenantFile}, AgainstTokenFile: "t"}, "give --against too"},
		{"negative limit", Options{TenantFlags: cmdutil.TenantFlags{Tenant: tenantFile}, Limit: -1}, "invalid --limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.check()
			var fe *cmdutil.FlagError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a usage error %q", err, tc.want)
			}
		})
	}
}

// --against two embedded databases: the same pairing and report, and
// exit 0 once they hold the same.
func TestAgainstTwoDatabases(t *testing.T) {
	ctx := context.Background()
	dirA, dirB := t.TempDir(), t.TempDir()
	open := func(db string) (*target.Target, error) {
		return target.Open(ctx, target.Config{DBPath: db, LogDir: t.TempDir()})
	}
	for _, dir := range []string{dirA, dirB} {
		tg, err := open(filepath.Join(dir, "miscim.db"))
		if err != nil {
			t.Fatal(err)
		}
		provision(t, tg.Client, tenantFile)
		tg.Close()
	}
	run := func(against string) (Output, int, string) {
		ios, out, errOut := clitest.Streams(false, 0)
		opts := options(ios, nil, "", render.FormatJSON)
		opts.Against = against
		opts.Target = func(context.Context) (*target.Target, error) { return open(filepath.Join(dirA, "miscim.db")) }
		opts.Resolve = func(spec, tokenFile string) (config.Resolved, error) {
			return config.ResolveOther(spec, tokenFile, config.Resolved{}, config.Env{Getenv: func(string) string { return "" }, ReadFile: os.ReadFile})
		}
		opts.OpenAgainst = func(_ context.Context, r config.Resolved) (*target.Target, error) { return open(r.DB) }
		if err := opts.check(); err != nil {
			t.Fatal(err)
		}
		err := diffRun(ctx, opts)
		var o Output
		if clitest.ExitCode(err) != 2 {
			if jerr := json.Unmarshal(out.Bytes(), &o); jerr != nil {
				t.Fatalf("%v: %s", jerr, out)
			}
		}
		return o, clitest.ExitCode(err), errOut.String() + fmt.Sprint(err)
	}
	o, code, _ := run(filepath.Join(dirB, "miscim.db"))
	if code != 0 || !o.Identical || o.Summary.Users.Paired != 6 || o.Summary.Members.Desired != 4 || o.Against != filepath.Join(dirB, "miscim.db") {
		t.Fatalf("identical databases: exit %d, %+v", code, o)
	}
	tg, err := open(filepath.Join(dirB, "miscim.db"))
	if err != nil {
		t.Fatal(err)
	}
	lr, err := tg.Client.List(ctx, client.Users, client.ListParams{Filter: `userName eq "erin.hale@contoso.com"`})
	if err != nil || len(lr.Resources) != 1 {
		t.Fatal(err)
	}
	patchUser(t, tg.Client, lr.Resources[0]["id"].(string), map[string]any{"op": "Replace", "path": "active", "value": "False"})
	tg.Close()
	o, code, _ = run(filepath.Join(dirB, "miscim.db"))
	if code != 3 || len(o.Changes) != 1 || o.Changes[0].Kind != "changed" || o.Changes[0].Identity != "erin.hale@contoso.com" ||
		o.Changes[0].Attributes[0].Attribute != "active" || o.Changes[0].Attributes[0].Target != true || o.Changes[0].Attributes[0].Desired != false {
		t.Errorf("one user disabled in the reference: exit %d, %+v", code, o.Changes)
	}
	_, code, msg := run(filepath.Join(dirB, "nothere.db"))
	if code != 2 || !strings.Contains(msg, "no embedded database there") {
		t.Errorf("a database that does not exist: exit %d, %s", code, msg)
	}
}
