// Command demo shows miscim working end to end on a fresh machine: it
// starts `miscim serve` on the embedded engine, creates an Admin token, and
// replays what Microsoft Entra ID sends for the bundled sample tenant —
// Test Connection, an initial cycle, an incremental cycle in both PATCH
// dialects, soft delete in both SCIM_REMOVE_USER_ON_SOFT_DELETE modes and a
// restore — printing every request with its answer, then the Metric
// Insights view of the result. `make demo` runs it.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/scim"
)

//go:embed tenant.json
var tenantJSON []byte

type tenant struct {
	Users []struct {
		ObjectID   string `json:"objectId"`
		UPN        string `json:"userPrincipalName"`
		GivenName  string `json:"givenName"`
		Surname    string `json:"surname"`
		Mail       string `json:"mail"`
		MIUserType string `json:"miUserType"`
	} `json:"users"`
	Groups []struct {
		ObjectID    string   `json:"objectId"`
		DisplayName string   `json:"displayName"`
		Description string   `json:"description"`
		Members     []string `json:"members"`
	} `json:"groups"`
}

func main() {
	miscim := flag.String("miscim", "bin/miscim", "the miscim binary")
	flag.Parse()
	if err := run(*miscim); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// logTransport prints each request Entra would send, with the answer.
type logTransport struct{ next http.RoundTripper }

func (t logTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	path := r.URL.Path
	if i := strings.Index(path, "/scim/v2"); i >= 0 {
		path = path[i+len("/scim/v2"):]
	}
	if q, _ := url.QueryUnescape(r.URL.RawQuery); q != "" {
		path += "?" + q
	}
	status := "error"
	if resp != nil {
		status = resp.Status
	}
	fmt.Printf("   %-6s %-78s → %s\n", r.Method, path, status)
	return resp, err
}

func step(format string, args ...any) { fmt.Printf("\n"+format+"\n", args...) }

func run(miscim string) error {
	var t tenant
	if err := json.Unmarshal(tenantJSON, &t); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "miscim-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "miscim.db")
	ctx := context.Background()

	step("1. miscim tokens create --user admin@contoso.com --role admin")
	tok, err := exec.Command(miscim, "tokens", "create", "--db", db, "--user", "admin@contoso.com", "--role", "admin").Output()
	if err != nil {
		return fmt.Errorf("tokens create: %w", err)
	}
	token := strings.TrimSpace(string(tok))
	fmt.Printf("   token %s…%s (stored hashed)\n", token[:10], token[len(token)-4:])

	step("2. miscim serve --addr 127.0.0.1:0 (the embedded engine, SQLite at %s)", db)
	ready := filepath.Join(dir, "ready")
	srv := exec.Command(miscim, "serve", "--db", db, "--addr", "127.0.0.1:0", "--ready-file", ready, "--quiet", "--log-dir", filepath.Join(dir, "scim-log"))
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }()
	base, err := waitFile(ready, &srvErr)
	if err != nil {
		return err
	}
	fmt.Printf("   Tenant URL: %s\n", base)

	c, err := client.New(client.Options{BaseURL: base, Token: token, Transport: logTransport{http.DefaultTransport}})
	if err != nil {
		return err
	}

	step("3. Test Connection: a user that cannot exist must give 200 and an empty list")
	lr, err := c.List(ctx, client.Users, client.ListParams{Filter: `userName eq "6f1c0c4e-9c1e-4bb0-8a1c-1f2a4b8c9d0e"`})
	if err != nil {
		return err
	}
	fmt.Printf("   totalResults %d: Entra's Test Connection succeeds\n", lr.TotalResults)

	step("4. Initial cycle: match each user by userName, then create it; then groups and members")
	ids := map[string]string{}
	for _, u := range t.Users {
		lr, err := c.List(ctx, client.Users, client.ListParams{Filter: "userName eq " + scim.QuoteString(u.UPN)})
		if err != nil {
			return err
		}
		if lr.TotalResults > 0 {
			ids[u.ObjectID] = lr.Resources[0]["id"].(string)
			continue
		}
		body := map[string]any{
			"schemas":    []string{scim.UserSchema, scim.EnterpriseUserSchema},
			"externalId": u.ObjectID, "userName": u.UPN, "active": true,
			"name":   map[string]any{"givenName": u.GivenName, "familyName": u.Surname},
			"emails": []any{map[string]any{"primary": true, "type": "work", "value": u.Mail}},
		}
		if u.MIUserType != "" {
			body["miUserType"] = u.MIUserType
		}
		r, err := c.Create(ctx, client.Users, body)
		if err != nil {
			return err
		}
		ids[u.ObjectID] = r["id"].(string)
	}
	groupIDs := map[string]string{}
	for _, g := range t.Groups {
		if _, err := c.List(ctx, client.Groups, client.ListParams{Filter: "displayName eq " + scim.QuoteString(g.DisplayName), ExcludedAttributes: []string{"members"}}); err != nil {
			return err
		}
		r, err := c.Create(ctx, client.Groups, map[string]any{
			"schemas": []string{scim.GroupSchema}, "externalId": g.ObjectID, "displayName": g.DisplayName, "description": g.Description,
		})
		if err != nil {
			return err
		}
		groupIDs[g.ObjectID] = r["id"].(string)
		for _, m := range g.Members {
			if _, err := c.Patch(ctx, client.Groups, r["id"].(string), patch(op("Add", "members", []any{map[string]any{"$ref": nil, "value": ids[m]}})), ""); err != nil {
				return err
			}
		}
	}

	adele, alex, diego, grady := ids[t.Users[0].ObjectID], ids[t.Users[1].ObjectID], ids[t.Users[2].ObjectID], ids[t.Users[3].ObjectID]
	step("5. Incremental cycle, default dialect: Adele's mail changed, Alex left the tenant's app (disable with \"False\")")
	mustPatch(ctx, c, client.Users, adele, patch(op("Replace", `emails[type eq "work"].value`, "adele.vance@fabrikam.com")))
	mustPatch(ctx, c, client.Users, alex, patch(op("Replace", "active", "False")))

	step("6. Incremental cycle, aadOptscim062020 dialect: Diego renamed (one path-less op), Diego leaves MI Analysts")
	mustPatch(ctx, c, client.Users, diego, patch(map[string]any{"op": "replace", "value": map[string]any{"name.givenName": "Diego A.", "name.familyName": "Siciliani-Ruiz"}}))
	mustPatch(ctx, c, client.Groups, groupIDs[t.Groups[0].ObjectID], patch(map[string]any{"op": "remove", "path": "members[value eq " + scim.QuoteString(diego) + "]"}))

	step("7. miscim vars set SCIM_REMOVE_USER_ON_SOFT_DELETE Y, then Grady is soft-deleted: deleted from MI")
	if _, err := c.SetVar(ctx, "SCIM_REMOVE_USER_ON_SOFT_DELETE", "Y"); err != nil {
		return err
	}
	mustPatch(ctx, c, client.Users, grady, patch(map[string]any{"op": "replace", "path": "active", "value": false}))
	if _, err := c.Get(ctx, client.Users, grady, client.ListParams{}); err != nil {
		fmt.Printf("   GET Grady now: %v\n", err)
	}

	step("8. Grady is assigned again: active true on the same id re-creates the user")
	mustPatch(ctx, c, client.Users, grady, patch(op("Replace", "active", "True")))

	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return err
	}
	cli := func(args ...string) error {
		shown := make([]string, len(args))
		for i, a := range args {
			shown[i] = a
			if strings.ContainsAny(a, " \t") {
				shown[i] = strconv.Quote(a)
			}
		}
		fmt.Printf("\n$ miscim %s\n", strings.Join(shown, " "))
		cmd := exec.Command(miscim, append([]string{"--url", base, "--token-file", tokenFile}, args...)...)
		cmd.Env = os.Environ()
		if term.IsTerminal(int(os.Stdout.Fd())) {
			// Our output goes to a terminal through this process; let the
			// command know, so it draws tables rather than tab-separated lines.
			cmd.Env = append(cmd.Env, "MISCIM_FORCE_TTY=1")
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	step("Result, read back through SCIM with miscim's own commands (--url %s)", base)
	for _, args := range [][]string{
		{"users", "list"},
		{"groups", "list"},
		{"groups", "members", "MI Analysts"},
		{"vars", "list"},
		{"test-connection", "--entra-only"},
	} {
		if err := cli(args...); err != nil {
			return fmt.Errorf("miscim %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

func op(name, path string, value any) map[string]any {
	return map[string]any{"op": name, "path": path, "value": value}
}

func patch(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": list}
}

func mustPatch(ctx context.Context, c *client.Client, resource, id string, body any) {
	if _, err := c.Patch(ctx, resource, id, body, ""); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func waitFile(path string, log *bytes.Buffer) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("miscim serve did not start: %s", log.String())
}
