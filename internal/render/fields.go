package render

import (
	"fmt"
	"strings"

	"github.com/miscim/miscim/internal/iostreams"
)

// Field is one line of a key/value block.
type Field struct{ Key, Value string }

// WriteFields prints a key/value block: aligned "key: value" lines on a
// terminal; piped, "key<TAB>value" lines so that scripts can cut -f2.
func WriteFields(ios *iostreams.IOStreams, fields []Field) error {
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	var b strings.Builder
	if !ios.IsStdoutTTY() {
		for _, f := range fields {
			b.WriteString(f.Key + "\t" + clean.Replace(f.Value) + "\n")
		}
	} else {
		width := 0
		for _, f := range fields {
			width = max(width, len(f.Key)+1)
		}
		th := NewTheme(ios)
		for _, f := range fields {
			// Pad before styling: escape sequences have no width.
			pad := strings.Repeat(" ", width-len(f.Key)-1+2)
			b.WriteString(th.Bold.Render(f.Key+":") + pad + clean.Replace(f.Value) + "\n")
		}
	}
	_, err := fmt.Fprint(ios.Out, b.String())
	return err
}
