package render

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/testkit"
)

// sample has every kind of column: identifying ones, one cut, one wrapped,
// one that may be left out, and wide runes (display width 2).
func sample() *Table {
	t := NewTable(
		Column{Header: "userName"},
		Column{Header: "active"},
		Column{Header: "note", Fit: Truncate, Hide: 1},
		Column{Header: "detail", Fit: Wrap},
		Column{Header: "id"},
	)
	t.AddRow("alice@example.com", "true", "imported from the HR feed on Monday", "everything the target answered was as Entra expects it", "2819c223-7f76-453a-919d-413861904646")
	t.AddRow("bob", "false", "b\tob", "404 for a userName that matches nothing: Resource not found", "17")
	t.AddRow("渡辺さん", "true", "東京本社の営業部に所属しています", "名前は全角文字で、一文字が二列を占めます", "18")
	return t
}

func terminal(width int) (*iostreams.IOStreams, *strings.Builder, *strings.Builder) {
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(true)
	ios.SetTerminalWidth(width)
	o, e := &strings.Builder{}, &strings.Builder{}
	ios.Out, ios.ErrOut = o, e
	_, _ = out, errOut
	return ios, o, e
}

func TestTableOnTerminal(t *testing.T) {
	for _, width := range []int{40, 80, 160} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			ios, out, errOut := terminal(width)
			if err := sample().Render(ios); err != nil {
				t.Fatal(err)
			}
			testkit.FitsTerminal(t, []byte(out.String()), width, DisplayWidth)
			testkit.Golden(t, fmt.Sprintf("table-%d", width), []byte(out.String()+"--- stderr\n"+errOut.String()))
		})
	}
}

func TestTablePiped(t *testing.T) {
	// Piped: one tab-separated record per line, every column whole, no
	// header, no styling, whatever COLUMNS says.
	ios, _, out, _ := iostreams.Test()
	ios.SetTerminalWidth(20)
	if err := sample().Render(ios); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "table-piped", out.Bytes())
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if n := strings.Count(line, "\t"); n != 4 {
			t.Errorf("record %d has %d tabs, want 4: %q", i+1, n, line)
		}
	}
}

func TestRowOfTheWrongLength(t *testing.T) {
	tbl := NewTable(Column{Header: "a"}, Column{Header: "b"})
	tbl.AddRow("only one")
	ios, _, out, _ := iostreams.Test()
	if err := tbl.Render(ios); err == nil || !strings.Contains(err.Error(), "row 1 has 1 cells for 2 columns") || out.Len() != 0 {
		t.Errorf("err %v, out %q", err, out)
	}
}

func TestLayout(t *testing.T) {
	keep := Column{Header: "k"}
	cut := Column{Header: "c", Fit: Truncate}
	wrapped := Column{Header: "w", Fit: Wrap}
	cell := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		cols  []Column
		row   []int    // natural width of each column, a word of x
		cells []string // or the cells themselves
		width int
		want  []int
	}{
		{"fits: untouched", []Column{keep, cut, keep}, []int{10, 30, 10}, nil, 80, []int{10, 30, 10}},
		{"exactly fits", []Column{keep, cut, keep}, []int{10, 30, 10}, nil, 54, []int{10, 30, 10}},
		{"the free column pays", []Column{keep, cut, keep}, []int{10, 30, 10}, nil, 50, []int{10, 26, 10}},
		{"the widest free column first", []Column{cut, wrapped, keep}, []int{30, 60, 5}, nil, 80, []int{30, 41, 5}},
		{"then both, evenly", []Column{cut, wrapped, keep}, []int{30, 60, 5}, nil, 50, []int{21, 20, 5}},
		{"keep columns never shrink while free ones can", []Column{keep, wrapped}, []int{40, 60}, nil, 62, []int{40, 20}},
		{"below readable: hide the highest Hide", []Column{keep, {Header: "h1", Hide: 1}, {Header: "h2", Hide: 2}, cut}, []int{40, 8, 8, 40}, nil, 66, []int{40, 8, 0, 14}},
		{"then the next", []Column{keep, {Header: "h1", Hide: 1}, {Header: "h2", Hide: 2}, cut}, []int{40, 8, 8, 40}, nil, 60, []int{40, 0, 0, 18}},
		{"without Min, free text shrinks to 20 before a column goes", []Column{{Header: "t", Hide: 1}, keep, wrapped}, []int{19, 26, 100}, nil, 80, []int{19, 26, 31}},
		{"with Min, a column goes first", []Column{{Header: "t", Hide: 1}, keep, {Header: "d", Fit: Wrap, Min: 40}}, []int{19, 26, 100}, nil, 80, []int{0, 26, 52}},
		{"hiding gives the width back", []Column{keep, {Header: "t", Fit: Truncate, Hide: 1}, wrapped}, []int{30, 40, 60}, nil, 60, []int{30, 0, 28}},
		{"equal Hide: the rightmost first", []Column{keep, {Header: "a", Hide: 1}, {Header: "b", Hide: 1}}, []int{60, 10, 10}, nil, 72, []int{60, 10, 0}},
		{"nothing to hide: free text down to hardMin", []Column{keep, cut}, []int{70, 30}, nil, 77, []int{70, 5}},
		{"then identifying columns wrap, the widest first", []Column{keep, keep, cut}, []int{50, 40, 30}, nil, 80, []int{36, 35, 5}},
		{"too narrow for anything: as narrow as it gets", []Column{keep, keep}, []int{50, 40}, nil, 5, []int{5, 5}},
		{"the header is the floor", []Column{{Header: "description", Fit: Truncate}, keep}, []int{40, 60}, nil, 65, []int{11, 52}},
		// test-connection on 60 columns: the check name takes two lines
		// before its detail is squeezed below a readable width.
		{"identifying columns wrap at spaces before free text gets unreadable", []Column{{Header: "status"}, {Header: "check"}, {Header: "duration"}, {Header: "detail", Fit: Wrap}},
			nil, []string{"pass", "service-provider-config (optional)", "1ms", strings.Repeat("word ", 20)}, 60, []int{6, 23, 8, 17}},
		{"a word is whole until free text is at its narrowest", []Column{keep, wrapped}, nil, []string{"a-long-identifier (optional)", strings.Repeat("word ", 20)}, 30, []int{17, 11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := make([]string, len(tt.cols))
			row := tt.cells
			for i, c := range tt.cols {
				headers[i] = strings.ToUpper(c.Header)
				if tt.cells == nil {
					row = append(row, cell(tt.row[i]))
				}
			}
			got := layout(tt.cols, headers, [][]string{row}, tt.width)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("widths %v, want %v (table %d wide for %d)", got, tt.want, tableWidth(got), tt.width)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"one too long", 11, "one too lo…"},
		{"cut at a space", 8, "cut at…"},
		{"東京本社の営業部", 7, "東京本…"},                   // 2 columns a rune: 3 runes and the ellipsis
		{"東京本社の営業部", 8, "東京本…"},                   // a wide rune never straddles the edge
		{"e\u0301te\u0301", 3, "e\u0301te\u0301"}, // combining accents take no width
		{"abc", 1, "…"},
	}
	for _, tt := range tests {
		got := truncate(tt.in, tt.width)
		if got != tt.want || DisplayWidth(got) > tt.width {
			t.Errorf("truncate(%q, %d) = %q (%d wide), want %q", tt.in, tt.width, got, DisplayWidth(got), tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"fits", 10, []string{"fits"}},
		{"", 10, []string{""}},
		{"404 for a userName that matches nothing", 16, []string{"404 for a", "userName that", "matches nothing"}},
		{"spaces   collapse  between words", 40, []string{"spaces collapse between words"}},
		{"see https://mi.example.com/scim/v2/Users", 12, []string{"see", "https://mi.e", "xample.com/s", "cim/v2/Users"}},
		{"名前は全角文字です", 7, []string{"名前は", "全角文", "字です"}},
		{"cafe\u0301s", 4, []string{"cafe\u0301", "s"}}, // the accent stays on its e
	}
	for _, tt := range tests {
		got := wrap(tt.in, tt.width)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		for _, l := range got {
			if DisplayWidth(l) > tt.width {
				t.Errorf("wrap(%q, %d): line %q is %d wide", tt.in, tt.width, l, DisplayWidth(l))
			}
		}
		// Nothing is lost but runs of spaces.
		if strings.Join(strings.Fields(tt.in), "") != strings.Join(strings.Fields(strings.Join(got, "")), "") {
			t.Errorf("wrap(%q, %d) lost text: %q", tt.in, tt.width, got)
		}
	}
}

// TestFitsEveryWidth renders the sample at every width from the narrowest
// it can fit to wider than it needs, with and without color: no line is
// wider than the terminal or ends in whitespace, and an identifying value
// is whole on one line as long as the identifying columns fit beside the
// narrowest the free text can be.
func TestFitsEveryWidth(t *testing.T) {
	const (
		// USERNAME, ACTIVE, DETAIL and ID at their narrowest (header or
		// hardMin; NOTE left out), and the gaps.
		narrowest = 8 + 2 + 6 + 2 + 6 + 2 + 5
		// The identifying columns whole (17, 6, 36), DETAIL at hardMin.
		keepWhole = 17 + 2 + 6 + 2 + 6 + 2 + 36
	)
	for _, color := range []bool{false, true} {
		for width := narrowest; width <= 240; width++ {
			ios, out, _ := terminal(width)
			ios.SetColorEnabled(color)
			tbl := sample()
			if err := tbl.Render(ios); err != nil {
				t.Fatal(err)
			}
			testkit.FitsTerminal(t, []byte(out.String()), width, DisplayWidth)
			plain := stripEscapes(out.String())
			if color && plain == out.String() {
				t.Fatalf("width %d: color on but no styling", width)
			}
			for _, r := range tbl.Rows {
				for _, j := range []int{0, 1, 4} {
					if v := r[j].Text; width >= keepWhole && !strings.Contains(plain, v) {
						t.Errorf("width %d, color %v: %s %q was cut:\n%s", width, color, tbl.Columns[j].Header, v, plain)
					}
				}
			}
			if t.Failed() {
				t.FailNow()
			}
		}
	}
}

// stripEscapes removes SGR sequences.
func stripEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestStyledCellsAreStyledLineByLine(t *testing.T) {
	ios, out, _ := terminal(40)
	ios.SetColorEnabled(true)
	th := NewTheme(ios)
	tbl := NewTable(Column{Header: "status"}, Column{Header: "detail", Fit: Wrap})
	tbl.AddCells(Cell{Text: "✗", Style: &th.Err}, Cell{Text: "hint: Entra's Test Connection fails on this: it requires 200", Style: &th.Muted})
	if err := tbl.Render(ios); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("the hint was not wrapped:\n%s", out)
	}
	for _, l := range lines[1:] {
		// Every line opens the style it uses and closes it: nothing bleeds
		// into the next line or column.
		if strings.Count(l, "\x1b[") < 2 || !strings.HasSuffix(l, "\x1b[0m") {
			t.Errorf("line not styled on its own: %q", l)
		}
	}
	testkit.FitsTerminal(t, []byte(out.String()), 40, DisplayWidth)
}

func TestValuesCannotDriveTheTerminal(t *testing.T) {
	// A value read from the target with an escape sequence, a bell or a
	// carriage return is shown, not obeyed; tabs and line breaks are
	// spaces, so that a row stays a row.
	ios, out, _ := terminal(80)
	tbl := NewTable(Column{Header: "name"}, Column{Header: "description", Fit: Truncate})
	tbl.AddRow("evil\x1b[2J\x07", "line one\nline two\r\tend")
	if err := tbl.Render(ios); err != nil {
		t.Fatal(err)
	}
	want := "NAME       DESCRIPTION\nevil\uFFFD[2J\uFFFD  line one line two  end\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
}

func TestLeftOutColumnsAreNamed(t *testing.T) {
	ios, out, errOut := terminal(50)
	tbl := NewTable(Column{Header: "id"}, Column{Header: "type", Hide: 2}, Column{Header: "source", Hide: 1}, Column{Header: "name"})
	tbl.AddRow(strings.Repeat("1", 36), "regular", "scim", "alice")
	if err := tbl.Render(ios); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "TYPE") || strings.Contains(out.String(), "SOURCE") || !strings.Contains(out.String(), "alice") {
		t.Errorf("stdout:\n%s", out)
	}
	if got := errOut.String(); got != "TYPE, SOURCE left out to fit 50 columns: widen the terminal, or see every column with -o json\n" {
		t.Errorf("stderr %q", got)
	}

	// Wide enough: every column, and nothing on stderr.
	ios, out, errOut = terminal(80)
	if err := tbl.Render(ios); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "SOURCE") || errOut.Len() != 0 {
		t.Errorf("stdout:\n%s\nstderr %q", out, errOut)
	}
}

func TestFields(t *testing.T) {
	fields := []Field{
		{Key: "id", Value: "00000004-0000-4000-8000-000000000004"},
		{Key: "displayName", Value: "Finance"},
		{Key: "description", Value: "Finance team, all regions, with the controllers of every subsidiary and the auditors who visit twice a year"},
		{Key: "externalId", Value: ""},
	}
	for _, width := range []int{40, 80} {
		ios, out, _ := terminal(width)
		if err := WriteFields(ios, fields); err != nil {
			t.Fatal(err)
		}
		testkit.FitsTerminal(t, []byte(out.String()), width, DisplayWidth)
		testkit.Golden(t, fmt.Sprintf("fields-%d", width), []byte(out.String()))
	}
	ios, _, out, _ := iostreams.Test()
	ios.SetTerminalWidth(20)
	if err := WriteFields(ios, fields); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\ndescription\t"+fields[2].Value+"\n") {
		t.Errorf("piped values are whole:\n%s", out)
	}
}

// BenchmarkTableOnTerminal is `users list` of 100,000 users drawn on an
// 80-column terminal: measuring, fitting and aligning every cell.
func BenchmarkTableOnTerminal(b *testing.B) {
	tbl := NewTable(
		Column{Header: "username"}, Column{Header: "active"},
		Column{Header: "mi username", Fit: Truncate, Hide: 1}, Column{Header: "type", Hide: 3},
		Column{Header: "auth", Hide: 4}, Column{Header: "source", Hide: 5},
		Column{Header: "email", Fit: Truncate, Hide: 2}, Column{Header: "id"},
	)
	for i := range 100_000 {
		name := fmt.Sprintf("user%06d@contoso.com", i)
		tbl.AddRow(name, "enabled", name, "regular", "sso", "scim", name, fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i))
	}
	for b.Loop() {
		ios, _, _ := terminal(80)
		ios.Out = io.Discard
		if err := tbl.Render(ios); err != nil {
			b.Fatal(err)
		}
	}
}
