package logs

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/clitest"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/entra/simstate"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/testkit"
)

// fixture is provlog's: two cycles of Entra-shaped records.
const fixture = "../../entra/provlog/testdata/records.jsonl"

func readFixture(t testing.TB) []provlog.Record {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var out []provlog.Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		r, err := provlog.DecodeRecord(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// seeded writes the fixture into a new state file, as simulate would, and
// returns its path.
func seeded(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "miscim.simulate.db")
	db, err := simstate.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := provlog.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readFixture(t) {
		if err := s.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func terminal(width int) (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(true)
	ios.SetTerminalWidth(width)
	return ios, out, errOut
}

// run executes `logs ARGS` against the state at path, through the command
// (flags, state file, store) and the run function.
func run(t *testing.T, ios *iostreams.IOStreams, path, output string, args ...string) error {
	t.Helper()
	f := &cmdutil.Factory{IO: ios, Now: func() time.Time { return time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC) },
		Flags: &config.Flags{Output: output, Changed: func(name string) bool { return name == "output" && output != "table" }}}
	cmd := NewCmdLogs(f, nil)
	cmd.SetArgs(append(args, "--state", path))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.Execute()
}

func TestTableGolden(t *testing.T) {
	path := seeded(t)
	for _, tc := range []struct {
		name  string
		width int // 0: piped
		args  []string
	}{
		{"all-piped", 0, nil},
		{"all-tty-80", 80, nil},
		{"all-tty-160", 160, nil},
		{"failures-tty-80", 80, []string{"--status", "failure"}},
		{"latest-tty-120", 120, []string{"--cycle", "latest", "--action", "update,disable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			if tc.width > 0 {
				ios, out, errOut = terminal(tc.width)
			}
			if err := run(t, ios, path, "table", tc.args...); err != nil {
				t.Fatal(err)
			}
			if tc.width > 0 {
				testkit.FitsTerminal(t, out.Bytes(), tc.width, render.DisplayWidth)
			}
			testkit.Golden(t, tc.name, []byte(out.String()+"--- stderr\n"+errOut.String()))
		})
	}
}

func TestStructuredGolden(t *testing.T) {
	path := seeded(t)
	for _, tc := range []struct {
		name, output string
		args         []string
	}{
		{"identity-json", "json", []string{"--identity", "ANA.LEE@contoso.com"}},
		{"skipped-yaml", "yaml", []string{"--status", "skipped"}},
		{"cycle-jsonl", "table", []string{"--cycle", "9b2d4f60-1a3c-4e5f-8a7b-6c5d4e3f2a1b", "--format", "jsonl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			if err := run(t, ios, path, tc.output, tc.args...); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, tc.name, []byte(out.String()+"--- stderr\n"+errOut.String()))
		})
	}
}

// TestJSONIsGraphsShape: -o json streams exactly what render.JSON writes
// for the records (an array of provisioningObjectSummary objects), and an
// empty selection is [].
func TestJSONIsGraphsShape(t *testing.T) {
	path := seeded(t)
	ios, _, out, _ := iostreams.Test()
	if err := run(t, ios, path, "json"); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := render.JSON(&want, readFixture(t)); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Errorf("-o json differs from render.JSON of the records:\n%s", out)
	}
	ios, _, out, _ = iostreams.Test()
	if err := run(t, ios, path, "json", "--identity", "nobody"); err != nil || out.String() != "[]\n" {
		t.Errorf("empty: %q %v", out, err)
	}
	ios, out, errOut := terminal(80)
	if err := run(t, ios, path, "table", "--identity", "nobody"); err != nil || out.Len() != 0 || errOut.String() != "no provisioning logs matched\n" {
		t.Errorf("empty table: %q %q %v", out, errOut, err)
	}
}

// TestCSVGolden: the three files of the portal's download, written into
// --out, joined by change ID; a second download replaces them whole.
func TestCSVGolden(t *testing.T) {
	path := seeded(t)
	dir := filepath.Join(t.TempDir(), "download")
	ios, _, out, errOut := iostreams.Test()
	if err := run(t, ios, path, "table", "--format", "csv", "--out", dir); err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for _, name := range []string{provlog.CSVLogsFile, provlog.CSVStepsFile, provlog.CSVPropertiesFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		all.WriteString("=== " + name + "\n")
		all.Write(b)
	}
	testkit.Golden(t, "csv", all.Bytes())
	if out.Len() != 0 || !strings.Contains(errOut.String(), "(9 records)") || !strings.Contains(errOut.String(), "(30 steps)") {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
	ios, _, _, errOut = iostreams.Test()
	if err := run(t, ios, path, "table", "--format", "CSV", "--out", dir, "--status", "warning"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, provlog.CSVLogsFile))
	if lines := strings.Count(string(b), "\r\n"); lines != 1 || !strings.Contains(errOut.String(), "(0 records)") {
		t.Errorf("a download of nothing has %d lines: %q", lines, b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d files in the directory, want the 3 (no temporary file left)", len(entries))
	}
}

func TestCyclesGolden(t *testing.T) {
	path := seeded(t)
	for _, tc := range []struct {
		name   string
		width  int
		output string
	}{
		{"cycles-tty-80", 80, "table"},
		{"cycles-piped", 0, "table"},
		{"cycles-json", 0, "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			if tc.width > 0 {
				ios, out, errOut = terminal(tc.width)
			}
			if err := run(t, ios, path, tc.output, "cycles"); err != nil {
				t.Fatal(err)
			}
			if tc.width > 0 {
				testkit.FitsTerminal(t, out.Bytes(), tc.width, render.DisplayWidth)
			}
			testkit.Golden(t, tc.name, []byte(out.String()+"--- stderr\n"+errOut.String()))
		})
	}
}

// TestErrors: bad flags, a missing state and an unknown cycle are input
// errors (exit 2) that say what to do, and write nothing.
func TestErrors(t *testing.T) {
	path := seeded(t)
	out := t.TempDir()
	for _, tc := range []struct {
		name, state, output string
		args                []string
		want                string
	}{
		{"action", path, "table", []string{"--action", "created"}, `invalid --action: unknown provisioning action "created": use create, update, delete, disable, stagedDelete, other`},
		{"status", path, "table", []string{"--status", "ok,failure"}, `invalid --status: unknown provisioning status "ok"`},
		{"since", path, "table", []string{"--since", "yesterday"}, `invalid --since "yesterday"`},
		{"format", path, "table", []string{"--format", "xml"}, `invalid --format "xml": use csv or jsonl`},
		{"format and -o", path, "json", []string{"--format", "csv"}, "--format csv and -o json both choose the output"},
		{"out without csv", path, "table", []string{"--out", out}, "--out is where --format csv writes its files"},
		{"no state", filepath.Join(out, "none.db"), "table", nil, "no provisioning logs: no simulator state file at " + filepath.Join(out, "none.db")},
		{"unknown cycle", path, "table", []string{"--cycle", "latest,0000"}, `no provisioning cycle with that id: "0000" in ` + path},
		{"unknown cycle csv", path, "table", []string{"--cycle", "0000", "--format", "csv", "--out", out}, `no provisioning cycle with that id: "0000"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, stdout, _ := iostreams.Test()
			err := run(t, ios, tc.state, tc.output, tc.args...)
			if clitest.ExitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v (exit %d), want %q", err, clitest.ExitCode(err), tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("%d files left in --out after the failures", len(entries))
	}
}

// TestDefaultState: without --state, logs reads the state simulate uses
// for the target the settings name.
func TestDefaultState(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state"), "HOME": dir}
	for _, tc := range []struct {
		url, db, want string
	}{
		{"", filepath.Join(dir, "miscim.db"), filepath.Join(dir, "miscim.simulate.db")},
		{"https://mi.example.com/scim/v2", filepath.Join(dir, "miscim.db"), filepath.Join(dir, "state", "miscim", "simulate")},
	} {
		f := &cmdutil.Factory{Env: config.Env{Getenv: func(k string) string { return env[k] }},
			Config: func() (config.Resolved, error) { return config.Resolved{URL: tc.url, DB: tc.db}, nil }}
		got, err := StatePath(f, "")
		if err != nil || !strings.HasPrefix(got, tc.want) {
			t.Errorf("StatePath(%q, %q) = %q, %v; want %s…", tc.url, tc.db, got, err, tc.want)
		}
		if got, _ := StatePath(f, "x.db"); got != "x.db" {
			t.Errorf("--state ignored: %q", got)
		}
	}
}

// TestCycleCompletion offers latest and the stored cycles, newest first.
func TestCycleCompletion(t *testing.T) {
	path := seeded(t)
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IO: ios, Now: time.Now, Flags: &config.Flags{Output: "table"}}
	cmd := NewCmdLogs(f, nil)
	var out bytes.Buffer
	root := &cobra.Command{Use: "miscim"}
	root.AddCommand(cmd)
	root.SetOut(&out)
	root.SetArgs([]string{cobra.ShellCompRequestCmd, "logs", "--state", path, "--cycle", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	i1, i2 := strings.Index(got, "e4c3b2a1"), strings.Index(got, "9b2d4f60")
	if !strings.HasPrefix(got, "latest\t") || i1 < 0 || i2 < i1 || !strings.Contains(got, "2026-03-02 10:10:00, 5 records") {
		t.Errorf("completion:\n%s", got)
	}
}
