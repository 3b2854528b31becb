package expr

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/testkit"
)

var clock = func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }

// TestOutputs runs the command on the documented cases and compares
// stdout, stderr and the exit code with golden files.
func TestOutputs(t *testing.T) {
	const active = `Switch([IsSoftDeleted], , "False", "1", "True", "0")`
	seed := uint64(7)
	tests := []struct {
		name    string
		opts    Options
		format  render.Format
		wantErr string // "input" (exit 2), "problems" (exit 3) or ""
	}{
		{"active", Options{Expression: active, Sets: []string{"IsSoftDeleted=False"}}, render.FormatTable, ""},
		{"active-null", Options{Expression: active, Sets: []string{"IsSoftDeleted=false"}}, render.FormatTable, ""},
		{"active-json", Options{Expression: active, Sets: []string{"IsSoftDeleted=True"}}, render.FormatJSON, ""},
		{"active-explain", Options{Expression: active, Sets: []string{"IsSoftDeleted=False"}, Explain: true}, render.FormatTable, ""},
		{"explain-json", Options{Expression: `Join("@", ToLower([givenName]), "contoso.com")`, Sets: []string{"givenName=Ann"}, Explain: true}, render.FormatJSON, ""},
		{"explain-nested", Options{Expression: `IIF(Len([LastName]) <= 5, Left(Join("", [LastName], [FirstName]), 10), Join("", Mid([LastName], 1, 9), Mid([FirstName], 1, 1)))`,
			Sets: []string{"FirstName=John", "LastName=Parker"}, Explain: true}, render.FormatTable, ""},
		{"multi", Options{Expression: `RemoveDuplicates([proxyAddresses])`, Sets: []string{"proxyAddresses=smtp:a@x", "proxyAddresses=SMTP:b@x", "proxyAddresses=smtp:a@x"}}, render.FormatTable, ""},
		{"multi-json", Options{Expression: `Split([extensionAttribute5], ",")`, Sets: []string{"extensionAttribute5=PermissionSetOne, PermissionSetTwo"}}, render.FormatJSON, ""},
		{"empty-set", Options{Expression: `Switch([statusFlag], "Default Value", "true", "1", "", "0")`, Sets: []string{"statusFlag="}}, render.FormatTable, ""},
		{"ignore-flow", Options{Expression: `IgnoreFlowIfNullOrEmpty([department])`, Sets: []string{"department="}}, render.FormatTable, ""},
		{"ignore-flow-json", Options{Expression: `IgnoreFlowIfNullOrEmpty([department])`}, render.FormatJSON, ""},
		{"yaml", Options{Expression: `Coalesce([mail], [userPrincipalName])`, Sets: []string{"userPrincipalName=John.Doe@contoso.com"}}, render.FormatYAML, ""},
		{"now-and-seed", Options{Expression: `Join(" ", Now(), Guid(), RandomString(8,2,2,2,2))`, Seed: &seed}, render.FormatTable, ""},
		{"warnings", Options{Expression: `Replace([Description], "@domain.onmicrosoft.com", , , "@domain.com", , )`, Sets: []string{"description=a@domain.onmicrosoft.com", "mail=x"}}, render.FormatTable, ""},
		{"syntax-error", Options{Expression: `Switch([IsSoftDeleted], , "False", "1", "True" "0")`}, render.FormatTable, "input"},
		{"unknown-function", Options{Expression: `switch([a], , "x", "y")`}, render.FormatTable, "input"},
		{"iif-null", Options{Expression: `IIF([country]="USA",[country],[department])`, Sets: []string{"department=Sales"}}, render.FormatTable, "problems"},
		{"iif-null-explain", Options{Expression: `IIF([country]="USA",[country],[department])`, Sets: []string{"department=Sales"}, Explain: true}, render.FormatTable, "problems"},
		{"iif-null-json", Options{Expression: `IIF([country]="USA",[country],[department])`}, render.FormatJSON, "problems"},
		{"not-offline", Options{Expression: `AppRoleAssignmentsComplex([appRoleAssignments])`}, render.FormatTable, "input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			opts := tt.opts
			opts.IO, opts.Format, opts.Now = ios, tt.format, clock
			err := exprRun(&opts)
			checkKind(t, err, tt.wantErr)
			var b bytes.Buffer
			fmt.Fprintf(&b, "$ miscim expr %s\n--- stdout\n%s--- stderr\n%s", describe(tt.opts, tt.format), out, errOut)
			if err != nil {
				fmt.Fprintf(&b, "--- error\n%s\n", err)
				for _, h := range cmdutil.Hints(err) {
					fmt.Fprintf(&b, "hint: %s\n", h)
				}
			}
			testkit.Golden(t, tt.name, b.Bytes())
		})
	}
}

func describe(o Options, f render.Format) string {
	parts := []string{"'" + o.Expression + "'"}
	for _, s := range o.Sets {
		parts = append(parts, "--set '"+s+"'")
	}
	if o.Explain {
		parts = append(parts, "--explain")
	}
	if o.Seed != nil {
		parts = append(parts, fmt.Sprintf("--seed %d", *o.Seed))
	}
	if f != render.FormatTable {
		parts = append(parts, "-o "+string(f))
	}
	return strings.Join(parts, " ")
}

func checkKind(t *testing.T, err error, want string) {
	t.Helper()
	var input *cmdutil.InputError
	var exit *cmdutil.ExitError
	switch want {
	case "":
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	case "input":
		if !errors.As(err, &input) {
			t.Fatalf("got %T %v, want an input error (exit 2)", err, err)
		}
	case "problems":
		if !errors.As(err, &exit) || exit.Code != 3 {
			t.Fatalf("got %T %v, want exit 3", err, err)
		}
	}
}

func TestParseSets(t *testing.T) {
	m, order, err := parseSets([]string{"mail=a=b@x", "p=1", "p=2", "e="})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m["mail"].Single(); v != "a=b@x" {
		t.Errorf("mail = %v: split at the first =", m["mail"])
	}
	if got := m["p"].Values(); len(got) != 2 || got[1] != "2" {
		t.Errorf("p = %v: repeated names are multi-valued", m["p"])
	}
	if v, ok := m["e"].Single(); !ok || v != "" {
		t.Errorf("e = %v: attr= is the empty string", m["e"])
	}
	if strings.Join(order, ",") != "mail,p,e" {
		t.Errorf("order %v", order)
	}
	for _, bad := range []string{"novalue", "=x", "[mail]=x", " mail=x"} {
		var fe *cmdutil.FlagError
		if _, _, err := parseSets([]string{bad}); !errors.As(err, &fe) {
			t.Errorf("--set %q: %v, want a flag error", bad, err)
		}
	}
}

// TestFlags checks flag parsing through the cobra command.
func TestFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IO: ios, Now: clock, Flags: &config.Flags{Output: "json"}}
	var got *Options
	cmd := NewCmdExpr(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"Now()", "--set", "a=1,2", "--set", "a=3", "--explain", "--now", "2021-08-25T17:41:18Z", "--seed", "42", "--default-domain", "contoso.com"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Expression != "Now()" || strings.Join(got.Sets, "|") != "a=1,2|a=3" || !got.Explain || *got.Seed != 42 ||
		got.DefaultDomain != "contoso.com" || got.Format != render.FormatJSON || !got.Now().Equal(time.Date(2021, 8, 25, 17, 41, 18, 0, time.UTC)) {
		t.Errorf("options %+v", got)
	}
	for _, args := range [][]string{{"Now()", "--now", "yesterday"}, {"Now()", "--seed", "x"}, {}} {
		cmd := NewCmdExpr(f, func(o *Options) error { return nil })
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		var fe *cmdutil.FlagError
		if err := cmd.Execute(); !errors.As(err, &fe) {
			t.Errorf("%v: %v, want a flag error", args, err)
		}
	}
}

// TestTenantUser: --tenant and --user evaluate against a tenant user, with
// IsSoftDeleted computed from the user's scope and --set values on top.
func TestTenantUser(t *testing.T) {
	const active = `Switch([IsSoftDeleted], , "False", "1", "True", "0")`
	sample := filepath.Join("..", "..", "..", "docs", "examples", "tenant")
	tests := []struct {
		name    string
		opts    Options
		format  render.Format
		wantErr string
	}{
		{"tenant-active", Options{Expression: active, User: "adele.siciliani@contoso.com"}, render.FormatTable, ""},
		{"tenant-disabled", Options{Expression: active, User: "diego.walters@contoso.com", Explain: true}, render.FormatTable, ""},
		{"tenant-soft-deleted", Options{Expression: `Join(" ", [IsSoftDeleted], [userPrincipalName])`, User: "nestor.wilke@contoso.com"}, render.FormatTable, ""},
		{"tenant-guest-json", Options{Expression: `Join(" | ", [userPrincipalName], [originalUserPrincipalName])`, User: "bo.chan_fabrikam.com#EXT#@contoso.onmicrosoft.com"}, render.FormatJSON, ""},
		{"tenant-set-overrides", Options{Expression: `Coalesce([mail], [userPrincipalName])`, User: "adele.siciliani@contoso.com", Sets: []string{"mail=override@contoso.com", "IsSoftDeleted=True"}}, render.FormatTable, ""},
		{"tenant-case-warning", Options{Expression: `[Mail]`, User: "adele.siciliani@contoso.com"}, render.FormatTable, ""},
		{"tenant-scope-all", Options{Expression: active, User: "ulrike.deyoung@contoso.com", TenantFlags: cmdutil.TenantFlags{Scope: "all"}}, render.FormatTable, ""},
		{"tenant-unknown-user", Options{Expression: active, User: "nobody@contoso.com"}, render.FormatTable, "input"},
		{"tenant-iif-fails", Options{Expression: `IIF([jobTitle]="Director", "D", "x")`, User: "lynne.garcia@contoso.com", Sets: []string{"jobTitle="}}, render.FormatTable, "problems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			opts := tt.opts
			opts.IO, opts.Format, opts.Now = ios, tt.format, clock
			opts.Tenant = filepath.Join(sample, "graph")
			err := exprRun(&opts)
			checkKind(t, err, tt.wantErr)
			var b bytes.Buffer
			scope := ""
			if tt.opts.Scope != "" {
				scope = " --scope " + tt.opts.Scope
			}
			fmt.Fprintf(&b, "$ miscim expr %s --tenant docs/examples/tenant/graph --user %s%s\n--- stdout\n%s--- stderr\n%s", describe(tt.opts, tt.format), tt.opts.User, scope, out, errOut)
			if err != nil {
				fmt.Fprintf(&b, "--- error\n%s\n", err)
				for _, h := range cmdutil.Hints(err) {
					fmt.Fprintf(&b, "hint: %s\n", strings.ReplaceAll(h, sample, "docs/examples/tenant"))
				}
			}
			testkit.Golden(t, tt.name, b.Bytes())
		})
	}
	// The three formats give the same value.
	for _, f := range []string{"native", "graph", "csv"} {
		ios, _, out, _ := iostreams.Test()
		opts := Options{IO: ios, Expression: active, User: "diego.walters@contoso.com", Now: clock, TenantFlags: cmdutil.TenantFlags{Tenant: filepath.Join(sample, f)}}
		if err := exprRun(&opts); err != nil || out.String() != "0\n" {
			t.Errorf("%s: %q %v", f, out, err)
		}
	}
}

func TestTenantFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IO: ios, Now: clock, Flags: &config.Flags{Output: "table"}}
	for _, args := range [][]string{
		{"[mail]", "--tenant", "t.yaml"},
		{"[mail]", "--user", "a@b"},
		{"[mail]", "--scope", "all"},
		{"[mail]", "--tenant", "t.yaml", "--user", "a@b", "--scope", "some"},
	} {
		cmd := NewCmdExpr(f, func(*Options) error { return nil })
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		var fe *cmdutil.FlagError
		if err := cmd.Execute(); !errors.As(err, &fe) {
			t.Errorf("%v: got %v, want a usage error", args, err)
		}
	}
	var got *Options
	cmd := NewCmdExpr(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"[mail]", "--tenant", "t.yaml", "--user", "a@b", "--mapping", "m.yaml", "--scope", "all"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Tenant != "t.yaml" || got.User != "a@b" || got.Mapping != "m.yaml" || got.Scope != "all" {
		t.Errorf("options %+v", got)
	}
}
