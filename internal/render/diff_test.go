package render

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// apply rebuilds both sides from the edits.
func apply(edits []Edit) (a, b []string) {
	for _, e := range edits {
		if e.Kind != Added {
			a = append(a, e.Line)
		}
		if e.Kind != Removed {
			b = append(b, e.Line)
		}
	}
	return a, b
}

func TestDiffLinesRebuildsBothSides(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d"}
	for n := 0; n < 500; n++ {
		a := make([]string, r.IntN(12))
		for i := range a {
			a[i] = words[r.IntN(len(words))]
		}
		b := make([]string, r.IntN(12))
		for i := range b {
			b[i] = words[r.IntN(len(words))]
		}
		edits := DiffLines(a, b)
		ga, gb := apply(edits)
		if strings.Join(ga, ",") != strings.Join(a, ",") || strings.Join(gb, ",") != strings.Join(b, ",") {
			t.Fatalf("diff of %v and %v rebuilds %v and %v", a, b, ga, gb)
		}
		// The shortest edit script never exceeds replacing everything,
		// and keeps every line two equal texts share.
		changes := 0
		for _, e := range edits {
			if e.Kind != Same {
				changes++
			}
		}
		if changes > len(a)+len(b) {
			t.Fatalf("%d changes for %v → %v", changes, a, b)
		}
	}
	if edits := DiffLines([]string{"x", "y"}, []string{"x", "y"}); len(edits) != 2 || edits[0].Kind != Same || edits[1].Kind != Same {
		t.Errorf("equal texts: %v", edits)
	}
}

func TestDiffLinesIsMinimal(t *testing.T) {
	a := strings.Split("a b c a b b a", " ")
	b := strings.Split("c b a b a c", " ")
	changes := 0
	for _, e := range DiffLines(a, b) {
		if e.Kind != Same {
			changes++
		}
	}
	if changes != 5 { // Myers' paper's example: D = 5
		t.Errorf("%d changes, want 5", changes)
	}
}

func TestUnifiedDiff(t *testing.T) {
	var a, b []string
	for i := 1; i <= 20; i++ {
		a = append(a, "line "+string(rune('a'+i-1)))
	}
	b = append(b, a...)
	b[2] = "changed c"
	b = append(b[:15], b[16:]...) // line p removed
	got := UnifiedDiff("expected", "actual", strings.Join(a, "\n")+"\n", strings.Join(b, "\n")+"\n", 2, 0)
	want := `--- expected
+++ actual
@@ -1,5 +1,5 @@
 line a
 line b
-line c
+changed c
 line d
 line e
@@ -14,5 +14,4 @@
 line n
 line o
-line p
 line q
 line r
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if d := UnifiedDiff("x", "y", "same\n", "same\n", 3, 0); d != "" {
		t.Errorf("equal texts give %q", d)
	}
	cut := UnifiedDiff("expected", "actual", strings.Join(a, "\n"), strings.Join(b, "\n"), 2, 3)
	if !strings.HasSuffix(cut, "… diff cut at 3 lines (3 changed lines in all)\n") || strings.Count(cut, "\n") != 6 {
		t.Errorf("cut diff:\n%s", cut)
	}
}

func TestDiffLinesGivesUpOnHugeDistances(t *testing.T) {
	a := make([]string, 3000)
	b := make([]string, 3000)
	for i := range a {
		a[i], b[i] = "a", "b"
	}
	edits := DiffLines(a, b)
	ga, gb := apply(edits)
	if len(edits) != 6000 || len(ga) != 3000 || len(gb) != 3000 {
		t.Errorf("%d edits", len(edits))
	}
}
