package tenant

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/clitest"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/testkit"
)

const small = "testdata/small.yaml"

var (
	sample = filepath.Join("..", "..", "..", "docs", "examples", "tenant")
	clock  = func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }
)

func TestCheckGolden(t *testing.T) {
	tests := []struct {
		name   string
		tenant string
		tty    bool
		width  int
		format render.Format
		strict bool
		code   int
	}{
		{"check-tty-80", small, true, 80, render.FormatTable, false, 3},
		{"check-tty-160", small, true, 160, render.FormatTable, false, 3},
		{"check-piped", small, false, 0, render.FormatTable, false, 3},
		{"check-json", small, false, 0, render.FormatJSON, false, 3},
		{"check-sample-graph-tty-160", filepath.Join(sample, "graph"), true, 160, render.FormatTable, false, 3},
		{"check-sample-csv-json", filepath.Join(sample, "csv"), false, 0, render.FormatJSON, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, errOut := clitest.Streams(tt.tty, tt.width)
			err := checkRun(&CheckOptions{IO: ios, Format: tt.format, TenantFlags: cmdutil.TenantFlags{Tenant: tt.tenant}, Strict: tt.strict, Now: clock})
			if got := clitest.ExitCode(err); got != tt.code {
				t.Errorf("exit code %d, want %d (%v)", got, tt.code, err)
			}
			clitest.Golden(t, tt.name, tt.width, out, errOut, err)
		})
	}
}

// TestCheckExitCodes: 0 clean, 0 with warnings only unless --strict, 3
// with errors, 2 for input that cannot be read.
func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean := write("clean.yaml", "users:\n  - {objectId: u1, userPrincipalName: a@contoso.com, givenName: A, surname: B, mail: a@contoso.com, accountEnabled: true}\nassignments:\n  - {principalId: u1}\n")
	warned := write("warned.yaml", "users:\n  - {objectId: u1, userPrincipalName: a@contoso.com, givenName: A, surname: B, mail: a@contoso.com, accountEnabled: true}\n"+
		"  - {objectId: u2, userPrincipalName: b@contoso.com, givenName: A, surname: B, mail: b@contoso.com, accountEnabled: false}\n"+
		"groups:\n  - {objectId: g1, displayName: G, description: d, members: [u1, u2]}\nassignments:\n  - {principalId: g1}\n")
	badTenant := write("bad.yaml", "users:\n  - {objectId: u1, accountEnabled: maybe}\n")
	badMapping := write("bad-mapping.yaml", "users:\n  attributes:\n    - {target: userName, expression: 'Left([a], 1', matching: 1}\n")
	tests := []struct {
		name    string
		flags   cmdutil.TenantFlags
		strict  bool
		code    int
		message string
	}{
		{"clean", cmdutil.TenantFlags{Tenant: clean}, false, 0, ""},
		{"warnings", cmdutil.TenantFlags{Tenant: warned}, false, 0, ""},
		{"warnings strict", cmdutil.TenantFlags{Tenant: warned}, true, 3, ""},
		{"errors", cmdutil.TenantFlags{Tenant: small}, false, 3, ""},
		{"unreadable tenant", cmdutil.TenantFlags{Tenant: badTenant}, false, 2, "bad.yaml:2: $.users[0].accountEnabled: want true or false"},
		{"missing tenant", cmdutil.TenantFlags{Tenant: filepath.Join(dir, "none")}, false, 2, "no such file or directory"},
		{"no tenant", cmdutil.TenantFlags{}, false, 2, "--tenant is required"},
		{"unreadable mapping", cmdutil.TenantFlags{Tenant: clean, Mapping: badMapping}, false, 2, "bad-mapping.yaml:3: $.users.attributes[0].expression: the parenthesis of Left( opened here is not closed (character 5)\n  Left([a], 1\n      ^"},
		{"bad scope", cmdutil.TenantFlags{Tenant: clean, Scope: "some"}, false, 2, "invalid --scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _ := clitest.Streams(false, 0)
			err := checkRun(&CheckOptions{IO: ios, Format: render.FormatTable, TenantFlags: tt.flags, Strict: tt.strict, Now: clock})
			if got := clitest.ExitCode(err); got != tt.code {
				t.Fatalf("exit code %d, want %d (%v)", got, tt.code, err)
			}
			if tt.message != "" && !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q, want it to contain %q", err, tt.message)
			}
		})
	}
}

// TestCheckReport: --report writes JUnit with one test case per check,
// failing for errors; the file is not written when the input is
// unreadable.
func TestCheckReport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tenant-check.xml")
	ios, _, _ := clitest.Streams(false, 0)
	err := checkRun(&CheckOptions{IO: ios, Format: render.FormatTable, TenantFlags: cmdutil.TenantFlags{Tenant: small}, Report: path, Now: clock})
	if clitest.ExitCode(err) != 3 {
		t.Fatalf("got %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "check-junit", b)
	var doc render.JUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JUnit XML: %v", err)
	}
	if doc.Failures != 4 || doc.Tests < 20 {
		t.Errorf("%d tests, %d failures; want every check, 4 failing: duplicate-username, no-email, username-too-long, duplicate-group-name", doc.Tests, doc.Failures)
	}

	strict := filepath.Join(dir, "strict.xml")
	_ = checkRun(&CheckOptions{IO: ios, Format: render.FormatTable, TenantFlags: cmdutil.TenantFlags{Tenant: small}, Report: strict, Strict: true, Now: clock})
	b, _ = os.ReadFile(strict)
	if err := xml.Unmarshal(b, &doc); err != nil || doc.Failures != 5 {
		t.Errorf("strict: %d failures, want 5 (warnings fail too): %v", doc.Failures, err)
	}

	bad := filepath.Join(dir, "bad.xml")
	err = checkRun(&CheckOptions{IO: ios, Format: render.FormatTable, TenantFlags: cmdutil.TenantFlags{Tenant: filepath.Join(dir, "none")}, Report: bad, Now: clock})
	if clitest.ExitCode(err) != 2 {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("an unreadable tenant leaves a report or temporary file behind: %v", entries)
	}
	if err := checkRun(&CheckOptions{IO: ios, TenantFlags: cmdutil.TenantFlags{Tenant: small}, Report: dir, Now: clock}); clitest.ExitCode(err) != 2 {
		t.Errorf("--report DIR: %v", err)
	}
}

func TestShowGolden(t *testing.T) {
	tests := []struct {
		name          string
		tenant        string
		tty           bool
		width         int
		format        render.Format
		users, groups bool
		scope         string
	}{
		{"show-tty-80", filepath.Join(sample, "graph"), true, 80, render.FormatTable, false, false, ""},
		{"show-piped", filepath.Join(sample, "csv"), false, 0, render.FormatTable, false, false, ""},
		{"show-json", filepath.Join(sample, "native"), false, 0, render.FormatJSON, false, false, ""},
		{"show-users-tty-80", small, true, 80, render.FormatTable, true, false, ""},
		{"show-users-tty-160", small, true, 160, render.FormatTable, true, false, ""},
		{"show-users-groups-tty-80", small, true, 80, render.FormatTable, true, true, ""},
		{"show-groups-tty-160", small, true, 160, render.FormatTable, false, true, "all"},
		{"show-users-piped", small, false, 0, render.FormatTable, true, false, ""},
		{"show-users-groups-json", small, false, 0, render.FormatJSON, true, true, ""},
	}
	explains := []struct {
		name, tenant, ref string
		tty               bool
		width             int
		format            render.Format
		mapping           string
	}{
		{"explain-disabled-tty-80", filepath.Join(sample, "graph"), "diego.walters@contoso.com", true, 80, render.FormatTable, ""},
		{"explain-disabled-tty-160", filepath.Join(sample, "graph"), "diego.walters@contoso.com", true, 160, render.FormatTable, ""},
		{"explain-group-tty-80", small, "Data Science", true, 80, render.FormatTable, ""},
		{"explain-group-piped", small, "22222222-0000-4000-8000-000000000001", false, 0, render.FormatTable, ""},
		{"explain-no-mail-json", small, "alex.wilber@contoso.com", false, 0, render.FormatJSON, ""},
		{"explain-sales-only-tty-160", filepath.Join(sample, "graph"), "ben.cline@contoso.com", true, 160, render.FormatTable, filepath.Join("..", "..", "..", "docs", "examples", "mapping", "sales-only.yaml")},
	}
	for _, tt := range explains {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, errOut := clitest.Streams(tt.tty, tt.width)
			err := showRun(&ShowOptions{IO: ios, Format: tt.format, TenantFlags: cmdutil.TenantFlags{Tenant: tt.tenant, Mapping: tt.mapping}, Explain: tt.ref, Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			clitest.Golden(t, tt.name, tt.width, out, errOut, nil)
		})
	}
	ios, _, _ := clitest.Streams(false, 0)
	if err := showRun(&ShowOptions{IO: ios, TenantFlags: cmdutil.TenantFlags{Tenant: small}, Explain: "nobody"}); clitest.ExitCode(err) != 2 || !strings.Contains(err.Error(), `no user or group "nobody"`) {
		t.Errorf("--explain nobody: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, errOut := clitest.Streams(tt.tty, tt.width)
			err := showRun(&ShowOptions{IO: ios, Format: tt.format, TenantFlags: cmdutil.TenantFlags{Tenant: tt.tenant, Scope: tt.scope},
				Users: tt.users, Groups: tt.groups, Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			clitest.Golden(t, tt.name, tt.width, out, errOut, nil)
		})
	}
}

// TestShowCountsAgreeAcrossFormats: the sample's three formats give the
// same counts.
func TestShowCountsAgreeAcrossFormats(t *testing.T) {
	var first string
	for _, f := range []string{"native", "graph", "csv"} {
		ios, out, _ := clitest.Streams(false, 0)
		if err := showRun(&ShowOptions{IO: ios, Format: render.FormatJSON, TenantFlags: cmdutil.TenantFlags{Tenant: filepath.Join(sample, f)}}); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		s = s[strings.Index(s, `"users": {`):strings.Index(s, `"assignments"`)]
		s = strings.ReplaceAll(s, `"possiblyTruncated": 1`, `"possiblyTruncated": 0`) // only Graph's $expand can truncate
		if first == "" {
			first = s
		} else if s != first {
			t.Errorf("%s counts differ:\n%s\nvs\n%s", f, s, first)
		}
	}
}

func factory(format string) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	return &cmdutil.Factory{IO: ios, Now: clock, Flags: &config.Flags{Output: format}}, out, errOut
}

func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.Execute()
}

// TestFlags: flags reach the options; bad ones are usage errors.
func TestFlags(t *testing.T) {
	f, _, _ := factory("json")
	var got *CheckOptions
	err := execute(NewCmdCheck(f, func(o *CheckOptions) error { got = o; return nil }),
		"--tenant", "t", "--mapping", "m.yaml", "--scope", "all", "--report", "r.xml", "--strict")
	if err != nil {
		t.Fatal(err)
	}
	if got.Tenant != "t" || got.Mapping != "m.yaml" || got.Scope != "all" || got.Report != "r.xml" || !got.Strict || got.Format != render.FormatJSON {
		t.Errorf("options %+v", got)
	}
	var show *ShowOptions
	if err := execute(NewCmdShow(f, func(o *ShowOptions) error { show = o; return nil }), "--tenant", "t", "--users", "--groups"); err != nil {
		t.Fatal(err)
	}
	if show.Tenant != "t" || !show.Users || !show.Groups || show.Scope != "assigned" {
		t.Errorf("show options %+v", show)
	}
	var fe *cmdutil.FlagError
	if err := execute(NewCmdCheck(f, nil), "--tenant", "t", "--scope", "everyone"); !errors.As(err, &fe) {
		t.Errorf("--scope everyone: %v", err)
	}
	if err := execute(NewCmdShow(f, nil), "--tenant", "t", "--explain", "x", "--users"); !errors.As(err, &fe) {
		t.Errorf("--explain with --users: %v", err)
	}
	if err := execute(NewCmdShow(f, nil), "extra"); !errors.As(err, &fe) {
		t.Errorf("an argument: %v", err)
	}
	// Through the real run, via the command.
	f, out, _ := factory("json")
	if err := execute(NewCmdTenant(f), "show", "--tenant", small); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"total": 8`) {
		t.Errorf("tenant show -o json: %s", out)
	}
}
