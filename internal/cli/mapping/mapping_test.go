package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/config"
	entramapping "github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/testkit"
)

var examples = filepath.Join("..", "..", "..", "docs", "examples", "mapping")

func run(t *testing.T, opts ShowOptions, tty bool, width int) (string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	if width > 0 {
		ios.SetTerminalWidth(width)
	}
	opts.IO = ios
	err := showRun(&opts)
	if width > 0 {
		testkit.FitsTerminal(t, out.Bytes(), width, render.DisplayWidth)
	}
	s := out.String() + "--- stderr\n" + errOut.String()
	if err != nil {
		s += "--- error\n" + err.Error() + "\n"
		for _, h := range cmdutil.Hints(err) {
			s += "hint: " + h + "\n"
		}
	}
	return s, err
}

func TestShowGolden(t *testing.T) {
	tests := []struct {
		name    string
		mapping string
		tty     bool
		width   int
		format  render.Format
	}{
		{"show-tty-80", "", true, 80, render.FormatTable},
		{"show-tty-160", "", true, 160, render.FormatTable},
		{"show-piped", "", false, 0, render.FormatTable},
		{"show-yaml", "", false, 0, render.FormatYAML},
		{"show-json", "", false, 0, render.FormatJSON},
		{"show-sales-only-tty-80", filepath.Join(examples, "sales-only.yaml"), true, 80, render.FormatTable},
		{"show-sales-only-tty-160", filepath.Join(examples, "sales-only.yaml"), true, 160, render.FormatTable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := run(t, ShowOptions{Format: tt.format, Mapping: tt.mapping}, tt.tty, tt.width)
			if err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, tt.name, []byte(got))
		})
	}
}

// TestShowRoundTrips: -o yaml and -o json read back with --mapping to the
// same mapping, for the default and every example.
func TestShowRoundTrips(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(examples, "*.yaml"))
	for _, src := range append([]string{""}, files...) {
		for _, format := range []render.Format{render.FormatYAML, render.FormatJSON} {
			t.Run(fmt.Sprint(filepath.Base(src), format), func(t *testing.T) {
				ios, _, out, _ := iostreams.Test()
				if err := showRun(&ShowOptions{IO: ios, Format: format, Mapping: src}); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(t.TempDir(), "m."+string(format))
				if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				back, err := entramapping.Load(p)
				if err != nil {
					t.Fatalf("does not read back: %v\n%s", err, out)
				}
				orig, _ := cmdutil.LoadMapping(src)
				if !reflect.DeepEqual(fileOf(back), fileOf(orig)) {
					t.Errorf("reads back differently:\n%+v\n%+v", fileOf(back), fileOf(orig))
				}
			})
		}
	}
}

// TestShowErrors: an unreadable mapping is exit 2 with the file, the line
// and, for an expression, a caret under the character.
func TestShowErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("users:\n  attributes:\n    - {target: userName, source: userPrincipalName, matching: 1}\n    - {target: active, expression: 'Switch([IsSoftDeleted], , \"False\" \"1\")'}\n"), 0o644)
	got, err := run(t, ShowOptions{Format: render.FormatTable, Mapping: bad}, false, 0)
	var ie *cmdutil.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an input error (exit 2)", err)
	}
	testkit.Golden(t, "show-error", []byte(strings.ReplaceAll(got, dir, "DIR")))
	if _, err := run(t, ShowOptions{Mapping: filepath.Join(dir, "none.yaml")}, false, 0); !errors.As(err, &ie) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestFlags(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IO: ios, Flags: &config.Flags{Output: "yaml"}}
	cmd := NewCmdMapping(f)
	cmd.SetArgs([]string{"show", "--mapping", filepath.Join(examples, "user-type.yaml")})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "target: miUserType\n      source: extensionAttribute1") {
		t.Errorf("mapping show --mapping user-type.yaml -o yaml:\n%s", out)
	}
}
