package render

import (
	"fmt"
	"strings"

	"github.com/miscim/miscim/internal/iostreams"
)

// Field is one line of a key/value block.
type Field struct{ Key, Value string }

// fieldsMinValue is the narrowest the value column is wrapped to: on a
// terminal narrower than the keys plus this, long values run on.
const fieldsMinValue = 20

// WriteFields prints a key/value block: aligned "key: value" lines on a
// terminal, a value wider than the terminal wrapped under itself (never
// cut: this is the command that shows one object whole), no line ending in
// whitespace; piped, "key<TAB>value" lines so that scripts can cut -f2.
func WriteFields(ios *iostreams.IOStreams, fields []Field) error {
	var b strings.Builder
	if !ios.IsStdoutTTY() {
		for _, f := range fields {
			b.WriteString(f.Key + "\t" + pipedCell.Replace(f.Value) + "\n")
		}
	} else {
		keyWidth := 0
		for _, f := range fields {
			keyWidth = max(keyWidth, DisplayWidth(terminalText(f.Key))+1)
		}
		indent := keyWidth + columnGap
		valueWidth := max(ios.TerminalWidth()-indent, fieldsMinValue)
		th := NewTheme(ios)
		for _, f := range fields {
			key := terminalText(f.Key)
			// Pad before styling: escape sequences have no width.
			b.WriteString(th.Bold.Render(key + ":"))
			lines := wrap(terminalText(f.Value), valueWidth)
			if lines[0] == "" {
				b.WriteByte('\n')
				continue
			}
			b.WriteString(strings.Repeat(" ", indent-DisplayWidth(key)-1))
			b.WriteString(strings.Join(lines, "\n"+strings.Repeat(" ", indent)) + "\n")
		}
	}
	_, err := fmt.Fprint(ios.Out, b.String())
	return err
}

// WrapText makes one line of free text safe for a terminal (as table cells
// are) and breaks it at spaces into lines of at most width columns; a word
// wider than a line is cut. Runs of spaces become one. width 0 only makes
// it safe.
func WrapText(s string, width int) []string {
	s = terminalText(s)
	if width <= 0 {
		return []string{strings.Join(strings.Fields(s), " ")}
	}
	return wrap(s, width)
}
