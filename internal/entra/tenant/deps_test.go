package tenant_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The package is part of the miscim binary: none of the standard library's
// testing packages may come with it (Parse once held its file in a
// testing/fstest MapFS).
func TestNoTestingPackagesInTheBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/miscim/miscim/internal/entra/tenant").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") {
			t.Errorf("internal/entra/tenant depends on %s", pkg)
		}
	}
}
