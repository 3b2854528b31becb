package server

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestNoBannedImports keeps terminal and CLI libraries out of the server
// (DESIGN §2: cobra only under internal/cli, resty only in
// internal/client, tablewriter and lipgloss only in render/iostreams).
func TestNoBannedImports(t *testing.T) {
	banned := []string{"github.com/spf13/cobra", "github.com/charmbracelet/lipgloss", "github.com/olekukonko/tablewriter", "github.com/go-resty/resty"}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if strings.HasPrefix(path, b) {
					t.Errorf("%s imports %s", e.Name(), path)
				}
			}
		}
	}
}
