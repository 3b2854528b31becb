package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Line diffs: a unified diff of two texts (replay's expected and actual
// bodies), computed with Myers' O(ND) algorithm so that the usual case —
// two large documents that differ in a line or two — costs little.

// EditKind says what a diff line does.
type EditKind int

// Edit kinds.
const (
	Same EditKind = iota
	Removed
	Added
)

// Edit is one line of a diff.
type Edit struct {
	Kind EditKind
	Line string
}

// maxEdits bounds the edit distance the diff searches for; beyond it the
// texts are shown as wholly replaced (the diff would not be readable
// anyway, and the search costs grow with its square).
const maxEdits = 2000

// DiffLines returns the edits that turn a into b, shortest first found.
func DiffLines(a, b []string) []Edit {
	n, m := len(a), len(b)
	limit := min(n+m, maxEdits)
	offset := limit + 1
	v := make([]int, 2*limit+3)
	// trace[d] is v as it was before step d, over k in [-d-1, d+1].
	var trace [][]int
	found := false
	for d := 0; d <= limit && !found; d++ {
		snap := make([]int, 2*d+3)
		copy(snap, v[offset-d-1:offset+d+2])
		trace = append(trace, snap)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			} else {
				x = v[offset+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[offset+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		edits := make([]Edit, 0, n+m)
		for _, l := range a {
			edits = append(edits, Edit{Removed, l})
		}
		for _, l := range b {
			edits = append(edits, Edit{Added, l})
		}
		return edits
	}
	var rev []Edit
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		snap := trace[d]
		at := func(k int) int { return snap[k+d+1] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			rev = append(rev, Edit{Same, a[x-1]})
			x, y = x-1, y-1
		}
		if d > 0 {
			if x == prevX {
				rev = append(rev, Edit{Added, b[y-1]})
			} else {
				rev = append(rev, Edit{Removed, a[x-1]})
			}
		}
		x, y = prevX, prevY
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// UnifiedDiff renders the diff of a and b (texts split into lines) as a
// unified diff with context lines around each change and the labels of
// both sides, without styling; "" when they are equal. maxLines caps the
// lines shown (0: no cap), naming how many were left out.
func UnifiedDiff(aLabel, bLabel, a, b string, context, maxLines int) string {
	var sb strings.Builder
	writeUnified(&sb, aLabel, bLabel, a, b, context, maxLines)
	return sb.String()
}

// WriteDiff writes the unified diff of a and b to w for a terminal, each
// line after prefix: with the theme's styles (removed lines in th.Err,
// added lines in th.OK, hunk headers muted) and, when width is not 0,
// lines longer than width folded (Fold), so that nothing is cut.
func WriteDiff(w io.Writer, th Theme, prefix, aLabel, bLabel, a, b string, context, maxLines, width int) error {
	var sb strings.Builder
	writeUnified(&sb, aLabel, bLabel, a, b, context, maxLines)
	var out strings.Builder
	pw := DisplayWidth(prefix)
	for _, l := range splitLines(sb.String()) {
		var style *lipgloss.Style
		switch {
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "-"):
			style = &th.Err
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "+"):
			style = &th.OK
		case strings.HasPrefix(l, "@@"), strings.HasPrefix(l, "…"):
			style = &th.Muted
		}
		fw := 0
		if width > 0 {
			fw = max(width-pw, 20)
		}
		for _, part := range Fold(l, fw, "  ") {
			if style != nil {
				part = style.Render(part)
			}
			out.WriteString(prefix + part + "\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func writeUnified(sb *strings.Builder, aLabel, bLabel, a, b string, context, maxLines int) {
	edits := DiffLines(splitLines(a), splitLines(b))
	changed := false
	for _, e := range edits {
		if e.Kind != Same {
			changed = true
			break
		}
	}
	if !changed {
		return
	}
	shown := 0
	emit := func(s string) bool {
		if maxLines > 0 && shown >= maxLines {
			return false
		}
		sb.WriteString(s)
		sb.WriteByte('\n')
		shown++
		return true
	}
	sb.WriteString("--- " + aLabel + "\n")
	sb.WriteString("+++ " + bLabel + "\n")
	total := 0
	for _, e := range edits {
		if e.Kind != Same {
			total++
		}
	}
	// Hunks: runs of changes with up to context kept lines around them;
	// two runs closer than 2×context share a hunk.
	i := 0
	aLine, bLine := 1, 1
	for i < len(edits) {
		if edits[i].Kind == Same {
			i, aLine, bLine = i+1, aLine+1, bLine+1
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(edits) {
			if edits[end].Kind != Same {
				end++
				continue
			}
			run := end
			for run < len(edits) && edits[run].Kind == Same {
				run++
			}
			if run == len(edits) || run-end > 2*context {
				end = min(end+context, len(edits))
				break
			}
			end = run
		}
		back := i - start
		as, bs := aLine-back, bLine-back
		var ac, bc int
		for _, e := range edits[start:end] {
			if e.Kind != Added {
				ac++
			}
			if e.Kind != Removed {
				bc++
			}
		}
		if !emit(fmt.Sprintf("@@ -%s +%s @@", hunkRange(as, ac), hunkRange(bs, bc))) {
			break
		}
		full := true
		for _, e := range edits[start:end] {
			var line string
			switch e.Kind {
			case Same:
				line = " " + e.Line
			case Removed:
				line = "-" + e.Line
			case Added:
				line = "+" + e.Line
			}
			if !emit(line) {
				full = false
				break
			}
		}
		for _, e := range edits[i:end] {
			if e.Kind != Added {
				aLine++
			}
			if e.Kind != Removed {
				bLine++
			}
		}
		i = end
		if !full {
			break
		}
	}
	if maxLines > 0 && shown >= maxLines {
		sb.WriteString(fmt.Sprintf("… diff cut at %d lines (%d changed lines in all)", maxLines, total) + "\n")
	}
}

func hunkRange(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

// Fold makes one line of free text safe for a terminal (control
// characters and escape sequences replaced, as in table cells) and cuts it
// into lines of at most width columns, keeping its spacing; lines after the
// first start with indent. width 0 only makes it safe.
func Fold(s string, width int, indent string) []string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '\uFFFD'
		}
		return r
	}, s)
	if width <= 0 || DisplayWidth(s) <= width {
		return []string{strings.TrimRight(s, " ")}
	}
	var lines []string
	var line strings.Builder
	used := 0
	iw := DisplayWidth(indent)
	for _, r := range s {
		rw := runeWidth(r)
		if used > 0 && rw > 0 && used+rw > width {
			lines = append(lines, strings.TrimRight(line.String(), " "))
			line.Reset()
			line.WriteString(indent)
			used = iw
		}
		line.WriteRune(r)
		used += rw
	}
	if l := strings.TrimRight(line.String(), " "); strings.TrimSpace(l) != "" || len(lines) == 0 {
		lines = append(lines, l)
	}
	return lines
}
