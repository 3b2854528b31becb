package sqlite

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFdatasyncPaths: both the raw call and the blocking one (taken after
// a slow sync) sync a file and report a failure; a fast blocking sync
// goes back to the raw call.
func TestFdatasyncPaths(t *testing.T) {
	t.Cleanup(func() { diskSlow.Store(false) })
	for _, slow := range []bool{false, true} {
		f, err := os.Create(filepath.Join(t.TempDir(), "f"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("record"); err != nil {
			t.Fatal(err)
		}
		diskSlow.Store(slow)
		if err := fdatasync(f); err != nil {
			t.Fatalf("slow=%v: fdatasync: %v", slow, err)
		}
		if slow && diskSlow.Load() {
			// Only a sync slower than slowSync keeps the blocking path;
			// a temporary file syncs well within it, except on a
			// stalling disk — try once more before failing.
			if err := fdatasync(f); err != nil || diskSlow.Load() {
				t.Errorf("after fast blocking syncs the raw call is not back (err %v)", err)
			}
		}
		f.Close()
		diskSlow.Store(slow)
		if err := fdatasync(f); err == nil {
			t.Errorf("slow=%v: fdatasync of a closed file succeeded", slow)
		}
	}
}
