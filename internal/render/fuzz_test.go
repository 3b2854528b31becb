package render

import (
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/iostreams"
)

// FuzzTableFits draws a table of arbitrary cells (any bytes: wide runes,
// combining marks, control characters, invalid UTF-8) at an arbitrary
// width and checks what users rely on: no line ends in whitespace; the
// table is as wide as layout decided, and that fits the terminal unless
// every column is already at its narrowest; an identifying value left at
// its width is shown whole; piped output is every cell, whole, one record
// per line.
func FuzzTableFits(f *testing.F) {
	f.Add("alice@example.com", "imported from the HR feed", "404 for a userName that matches nothing", "2819c223-7f76-453a-919d-413861904646", uint8(80))
	f.Add("渡辺さん", "東京本社の営業部に所属しています", "名前は全角文字で、一文字が二列を占めます", "18", uint8(30))
	f.Add("e\u0301te\u0301 (optional)", "b\tob\r\n", "\x1b[31mred\x1b[0m \x07 bell", "\xff\xfe", uint8(12))
	f.Add("", "", "", "", uint8(0))
	f.Fuzz(func(t *testing.T, name, note, detail, id string, w uint8) {
		width := int(w) + 10
		cols := []Column{
			{Header: "name"},
			{Header: "note", Fit: Truncate, Hide: 1},
			{Header: "detail", Fit: Wrap},
			{Header: "id"},
		}
		tbl := NewTable(cols...)
		tbl.AddRow(name, note, detail, id)
		tbl.AddRow(id, detail, note, name)

		ios, out, _ := terminal(width)
		if err := tbl.Render(ios); err != nil {
			t.Fatal(err)
		}
		headers := make([]string, len(cols))
		for i, c := range cols {
			headers[i] = strings.ToUpper(c.Header)
		}
		texts := [][]string{
			{terminalText(name), terminalText(note), terminalText(detail), terminalText(id)},
			{terminalText(id), terminalText(detail), terminalText(note), terminalText(name)},
		}
		widths := layout(cols, headers, texts, width)
		drawn := tableWidth(widths)
		if drawn > width {
			// Too narrow: then nothing could have given more way.
			for i, c := range cols {
				if c.Hide > 0 && widths[i] > 0 {
					t.Errorf("%d columns: too wide (%d) with %s still shown", width, drawn, headers[i])
				}
				natural := DisplayWidth(headers[i])
				for _, r := range texts {
					natural = max(natural, DisplayWidth(r[i]))
				}
				if narrowest := min(natural, max(DisplayWidth(headers[i]), hardMin)); c.Hide == 0 && widths[i] > narrowest {
					t.Errorf("%d columns: too wide (%d) with %s at %d, not %d", width, drawn, headers[i], widths[i], narrowest)
				}
			}
		}
		for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			if strings.TrimRight(line, " ") != line {
				t.Errorf("line %d ends in whitespace: %q", i+1, line)
			}
			if lw := DisplayWidth(line); lw > drawn {
				t.Errorf("line %d is %d columns wide, the layout %d (terminal %d): %q", i+1, lw, drawn, width, line)
			}
		}
		for _, r := range texts {
			for _, j := range []int{0, 3} {
				if r[j] != "" && widths[j] >= DisplayWidth(r[j]) && !strings.Contains(out.String(), r[j]) {
					t.Errorf("%s %q was cut though its column is %d wide:\n%s", headers[j], r[j], widths[j], out)
				}
			}
		}

		piped, _, pout, _ := iostreams.Test()
		if err := tbl.Render(piped); err != nil {
			t.Fatal(err)
		}
		want := ""
		for _, r := range tbl.Rows {
			fields := make([]string, len(r))
			for i, c := range r {
				fields[i] = pipedCell.Replace(c.Text)
			}
			want += strings.Join(fields, "\t") + "\n"
		}
		if pout.String() != want {
			t.Errorf("piped %q, want %q", pout, want)
		}
	})
}
