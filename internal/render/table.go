package render

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/charmbracelet/lipgloss"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/miscim/miscim/internal/iostreams"
)

// Fit says how a column gives way when a table is wider than the terminal
// (docs/configuration.md, "Output on a terminal").
type Fit int

const (
	// Keep is for the columns that identify a row (name, id, status,
	// check): their values are never cut. Only when those columns alone
	// are wider than the terminal are their values broken onto more lines,
	// whole.
	Keep Fit = iota
	// Truncate is for free text where one line per row matters more than
	// the whole value (a group's description in a list of thousands): it
	// is cut to the width left and ends in "…".
	Truncate
	// Wrap is for free text that must be read whole (a check's detail, a
	// hint, a variable's description): it is broken onto more lines at
	// spaces.
	Wrap
)

// Column is one column of a table.
type Column struct {
	Header string
	Fit    Fit
	// Hide lets the column be left out on a terminal too narrow to show
	// it beside the others (0: never left out); the column with the
	// highest Hide goes first. Piped output always has every column.
	Hide int
	// Min is how narrow a Truncate or Wrap column may be made before
	// columns are left out (0: 12 for Truncate, 20 for Wrap): a column
	// that is the reason to read the table (a log's detail) keeps its
	// width while others give way.
	Min int
}

// Cell is one cell: its text and, on a terminal with color, the style it
// is drawn in (nil: plain). The style is applied after the text has been
// fitted, line by line, so that cutting or wrapping never splits an
// escape sequence.
type Cell struct {
	Text  string
	Style *lipgloss.Style
}

// Table is rows of cells under a header. Commands declare how each column
// may give way (Column.Fit, Column.Hide); Render does the fitting.
type Table struct {
	Columns []Column
	Rows    [][]Cell
}

// NewTable returns an empty table with the given columns.
func NewTable(cols ...Column) *Table { return &Table{Columns: cols} }

// AddRow appends a row of plain cells.
func (t *Table) AddRow(texts ...string) {
	row := make([]Cell, len(texts))
	for i, s := range texts {
		row[i] = Cell{Text: s}
	}
	t.Rows = append(t.Rows, row)
}

// AddCells appends a row of cells that may be styled.
func (t *Table) AddCells(cells ...Cell) { t.Rows = append(t.Rows, cells) }

// Widths of the fitting (display columns).
const (
	columnGap   = 2  // spaces between two columns
	truncateMin = 12 // a Truncate column narrower than this is hidden first, if it may be
	wrapMin     = 20 // the same for Wrap: narrower, a paragraph reads badly
	hardMin     = 5  // nothing is made narrower than this (or its header)
	ellipsis    = "…"
)

// Render writes the table. On a terminal: aligned columns under an
// upper-case header, fitted to ios.TerminalWidth() (see layout), with no
// trailing whitespace; columns left out to fit are named on stderr.
// Piped: one tab-separated record per line, every column, untruncated,
// without header or styling, so that scripts can cut(1) it.
func (t *Table) Render(ios *iostreams.IOStreams) error {
	for i, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("table row %d has %d cells for %d columns", i+1, len(r), len(t.Columns))
		}
	}
	if !ios.IsStdoutTTY() {
		return t.renderPiped(ios.Out)
	}
	return t.renderTerminal(ios)
}

// pipedCell keeps a record on one line and its fields apart.
var pipedCell = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")

func (t *Table) renderPiped(w io.Writer) error {
	var b strings.Builder
	for _, r := range t.Rows {
		for i, c := range r {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(pipedCell.Replace(c.Text))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *Table) renderTerminal(ios *iostreams.IOStreams) error {
	headers := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		headers[i] = strings.ToUpper(terminalText(c.Header))
	}
	texts := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		texts[i] = make([]string, len(r))
		for j, c := range r {
			texts[i][j] = terminalText(c.Text)
		}
	}
	width := ios.TerminalWidth()
	widths := layout(t.Columns, headers, texts, width)

	th := NewTheme(ios)
	var visible []int
	var header []any
	for i, w := range widths {
		if w > 0 {
			visible = append(visible, i)
			header = append(header, th.Header.Render(headers[i]))
		}
	}
	var buf bytes.Buffer
	tbl := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Lines: tw.LinesNone, Separators: tw.SeparatorsNone},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		// The cells arrive fitted (and wrapped, one line per "\n"):
		// tablewriter only aligns them.
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: strings.Repeat(" ", columnGap), Overwrite: true}),
	)
	tbl.Header(header...)
	for i, r := range t.Rows {
		row := make([]any, 0, len(visible))
		for _, j := range visible {
			row = append(row, styleLines(fitCell(texts[i][j], widths[j], t.Columns[j].Fit), r[j].Style))
		}
		if err := tbl.Append(row...); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	if _, err := ios.Out.Write(trimTrailingSpace(buf.Bytes())); err != nil {
		return err
	}
	var hidden []string
	for i, w := range widths {
		if w == 0 {
			hidden = append(hidden, headers[i])
		}
	}
	if len(hidden) > 0 {
		eth := NewErrTheme(ios)
		fmt.Fprintln(ios.ErrOut, eth.Muted.Render(fmt.Sprintf("%s left out to fit %d columns: widen the terminal, or see every column with -o json",
			strings.Join(hidden, ", "), width)))
	}
	return nil
}

// layout decides the width of each column (0: left out) so that the table
// fits in width display columns, giving way in this order:
//
//  1. Truncate and Wrap columns shrink, the widest first, down to a
//     readable minimum (their Min, else truncateMin or wrapMin, or their
//     header);
//  2. while that is not enough, the column with the highest Hide is left
//     out and step 1 starts again;
//  3. with nothing left to hide, Keep columns are wrapped at spaces, the
//     widest first, down to their longest word: "url (optional)" takes two
//     lines, and no word is broken;
//  4. then Truncate and Wrap columns shrink to hardMin (or their header);
//  5. then Keep columns are wrapped inside words, the widest first, down
//     to hardMin (or their header).
//
// A table that is still too wide (a terminal of a few columns) is printed
// as it is then.
func layout(cols []Column, headers []string, rows [][]string, width int) []int {
	n := len(cols)
	natural := make([]int, n)
	floor := make([]int, n) // the header: columns never get narrower
	word := make([]int, n)  // the widest word of a Keep column
	for i := range cols {
		floor[i] = max(DisplayWidth(headers[i]), 1)
		natural[i] = floor[i]
	}
	for _, r := range rows {
		for i, s := range r {
			w := DisplayWidth(s)
			natural[i] = max(natural[i], w)
			if cols[i].Fit == Keep && w > word[i] {
				word[i] = max(word[i], widestWord(s))
			}
		}
	}
	free := func(i int) bool { return cols[i].Fit != Keep }
	keep := func(i int) bool { return cols[i].Fit == Keep }
	readable := func(i int) int {
		if cols[i].Min > 0 {
			return max(floor[i], cols[i].Min)
		}
		if cols[i].Fit == Wrap {
			return max(floor[i], wrapMin)
		}
		return max(floor[i], truncateMin)
	}
	hard := func(i int) int { return max(floor[i], hardMin) }

	var hideOrder []int
	for i, c := range cols {
		if c.Hide > 0 {
			hideOrder = append(hideOrder, i)
		}
	}
	// Highest Hide first; among equals, the rightmost.
	sort.SliceStable(hideOrder, func(a, b int) bool {
		ca, cb := cols[hideOrder[a]], cols[hideOrder[b]]
		if ca.Hide != cb.Hide {
			return ca.Hide > cb.Hide
		}
		return hideOrder[a] > hideOrder[b]
	})

	widths := append([]int(nil), natural...)
	shrink(widths, width, free, readable)
	for _, i := range hideOrder {
		if tableWidth(widths) <= width {
			break
		}
		natural[i] = 0
		widths = append(widths[:0], natural...)
		shrink(widths, width, free, readable)
	}
	shrink(widths, width, keep, func(i int) int { return max(floor[i], word[i]) })
	shrink(widths, width, free, hard)
	shrink(widths, width, keep, hard)
	return widths
}

// widestWord is the display width of the widest space-separated word of s.
func widestWord(s string) int {
	w := 0
	for _, f := range strings.Fields(s) {
		w = max(w, DisplayWidth(f))
	}
	return w
}

// shrink narrows the widest eligible column by one, again and again, until
// the table fits or no eligible column is above its minimum: the slack
// goes to the narrow columns, and wide free text pays first.
func shrink(widths []int, width int, eligible func(int) bool, minimum func(int) int) {
	for excess := tableWidth(widths) - width; excess > 0; excess-- {
		widest := -1
		for i, w := range widths {
			if w > 0 && eligible(i) && w > minimum(i) && (widest < 0 || w >= widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			return
		}
		widths[widest]--
	}
}

// tableWidth is the width of the widest line of a table with these column
// widths (0: left out): the columns and the gaps between them.
func tableWidth(widths []int) int {
	total, shown := 0, 0
	for _, w := range widths {
		if w > 0 {
			total += w
			shown++
		}
	}
	if shown > 1 {
		total += columnGap * (shown - 1)
	}
	return total
}

// fitCell makes s at most width wide, as the column's Fit says: cut with
// an ellipsis, or broken into lines joined by "\n".
func fitCell(s string, width int, fit Fit) string {
	if DisplayWidth(s) <= width {
		return s
	}
	if fit == Truncate {
		return truncate(s, width)
	}
	return strings.Join(wrap(s, width), "\n")
}

// styleLines styles each line on its own, so that every line of a wrapped
// cell opens and closes its style.
func styleLines(s string, style *lipgloss.Style) string {
	if style == nil || s == "" {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return strings.Join(lines, "\n")
}

// DisplayWidth is the number of terminal columns s takes: escape sequences
// take none, wide runes (CJK, most emoji) take two. Tables are measured,
// cut and padded with this one function, the one tablewriter pads with.
func DisplayWidth(s string) int { return twwidth.Width(s) }

func runeWidth(r rune) int { return twwidth.Width(string(r)) }

// truncate cuts s to width columns, the last of them an ellipsis.
func truncate(s string, width int) string {
	if DisplayWidth(s) <= width {
		return s
	}
	budget := width - DisplayWidth(ellipsis)
	if budget < 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := runeWidth(r)
		if used+rw > budget {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	return strings.TrimRight(b.String(), " ") + ellipsis
}

// wrap breaks s into lines of at most width columns: at spaces where it
// can, inside a word that is wider than a line where it must. Nothing of s
// is lost but runs of spaces.
func wrap(s string, width int) []string {
	var lines []string
	var line strings.Builder
	lineWidth := 0
	flush := func() {
		lines = append(lines, line.String())
		line.Reset()
		lineWidth = 0
	}
	for _, word := range strings.Fields(s) {
		ww := DisplayWidth(word)
		switch {
		case lineWidth > 0 && lineWidth+1+ww <= width:
			line.WriteByte(' ')
			line.WriteString(word)
			lineWidth += 1 + ww
			continue
		case lineWidth > 0:
			flush()
		}
		if ww <= width {
			line.WriteString(word)
			lineWidth = ww
			continue
		}
		for _, r := range word {
			rw := runeWidth(r)
			// A zero-width rune (a combining mark) stays with the rune
			// before it; a line holds at least one rune.
			if lineWidth > 0 && rw > 0 && lineWidth+rw > width {
				flush()
			}
			line.WriteRune(r)
			lineWidth += rw
		}
	}
	if line.Len() > 0 || len(lines) == 0 {
		flush()
	}
	return lines
}

// terminalText makes a value safe to lay out on a terminal: tabs and line
// breaks become spaces (a cell is one line until it is wrapped), and other
// control characters, escape sequences among them, become U+FFFD, so that
// a value read from the target can neither move the cursor nor restyle
// the terminal, and every rune has a width.
func terminalText(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return '\uFFFD'
		}
		return r
	}, s))
}

// trimTrailingSpace removes the spaces tablewriter pads the last column
// with, and the resets it writes after them: no line ends in whitespace.
// A line that lost a reset gets one back unless its text ends with one
// (cells close their styles themselves; see styleLines).
func trimTrailingSpace(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		trimmed, reset := l, false
		for {
			if t := bytes.TrimRight(trimmed, " "); len(t) < len(trimmed) {
				trimmed = t
				continue
			}
			if t, ok := bytes.CutSuffix(trimmed, []byte(sgrReset)); ok {
				trimmed, reset = t, true
				continue
			}
			break
		}
		if reset && bytes.Contains(trimmed, []byte("\x1b[")) && !bytes.HasSuffix(trimmed, []byte(sgrReset)) {
			trimmed = append(trimmed[:len(trimmed):len(trimmed)], sgrReset...)
		}
		lines[i] = trimmed
	}
	return bytes.Join(lines, []byte("\n"))
}

// sgrReset ends every style.
const sgrReset = "\x1b[0m"
