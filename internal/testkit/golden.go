// Package testkit holds helpers shared by tests: golden files, the check
// that terminal output fits its width, self-signed certificates and
// whole-database dumps. Only _test.go files import it.
package testkit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// csi matches a terminal control sequence (ECMA-48 CSI), styles among them.
var csi = regexp.MustCompile("\x1b\\[[0-?]*[ -/]*[@-~]")

// update is the one -update flag of every test binary that uses goldens:
// `go test ./... -update` rewrites them (make update-golden).
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// Golden compares got with testdata/<name>.golden, or rewrites the file
// with -update. Reviewers read golden diffs like code.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// FitsTerminal fails t for every line of out that ends in whitespace
// (before or after escape sequences, which show nothing) or is wider than
// width columns as displayWidth measures them (render's DisplayWidth:
// escape sequences take no columns, wide runes two). It is the check every
// terminal golden of a table passes.
func FitsTerminal(t testing.TB, out []byte, width int, displayWidth func(string) int) {
	t.Helper()
	for i, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if visible := csi.ReplaceAllString(line, ""); strings.TrimRight(visible, " \t") != visible {
			t.Errorf("line %d ends in whitespace: %q", i+1, line)
		}
		if w := displayWidth(line); w > width {
			t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, w, width, line)
		}
	}
}
