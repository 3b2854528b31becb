// Package render turns command results into text: tables (tablewriter on a
// terminal, fitted to its width; tab-separated lines when piped), key/value
// blocks, JSON and YAML, and the styles of the theme (lipgloss). It is the
// only package besides iostreams that knows about styling and display
// width.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/goccy/go-yaml"
	"github.com/muesli/termenv"

	"github.com/miscim/miscim/internal/iostreams"
)

// Format is an output format chosen with -o.
type Format string

// Output formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
)

// Formats lists the formats -o accepts.
var Formats = []string{string(FormatTable), string(FormatJSON), string(FormatYAML)}

// ParseFormat checks a -o value.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case "", FormatTable:
		return FormatTable, nil
	case FormatJSON:
		return FormatJSON, nil
	case FormatYAML:
		return FormatYAML, nil
	}
	return "", fmt.Errorf("unknown output format %q: use table, json or yaml", s)
}

// JSON writes v as indented JSON followed by a newline. The field names and
// shapes are the stable, documented contract of each command's JSON output.
func JSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// YAML writes v as YAML with the same field names as its JSON form.
func YAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return err
	}
	out, err := yaml.Marshal(integers(generic))
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// integers turns whole float64 values (how encoding/json decodes every
// number) into int64, so YAML shows 1 rather than 1.0.
func integers(v any) any {
	switch t := v.(type) {
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
	case []any:
		for i := range t {
			t[i] = integers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = integers(t[k])
		}
	}
	return v
}

// Structured writes v as JSON or YAML; it reports false for the table
// format, which the caller renders itself.
func Structured(w io.Writer, f Format, v any) (bool, error) {
	switch f {
	case FormatJSON:
		return true, JSON(w, v)
	case FormatYAML:
		return true, YAML(w, v)
	}
	return false, nil
}

// Theme holds the semantic styles; commands never pick raw colors.
type Theme struct {
	Header, OK, Warn, Err, Muted, Bold lipgloss.Style
}

// NewTheme returns the styles for stdout; with color off they render
// plain text.
func NewTheme(ios *iostreams.IOStreams) Theme {
	return themeFor(ios.Out, ios.ColorEnabled())
}

// NewErrTheme returns the styles for stderr.
func NewErrTheme(ios *iostreams.IOStreams) Theme {
	return themeFor(ios.ErrOut, ios.ColorEnabled() && ios.IsStderrTTY())
}

func themeFor(w io.Writer, color bool) Theme {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	r.SetHasDarkBackground(true) // avoids querying the terminal
	return Theme{
		Header: r.NewStyle().Bold(true),
		OK:     r.NewStyle().Foreground(lipgloss.Color("2")),
		Warn:   r.NewStyle().Foreground(lipgloss.Color("3")),
		Err:    r.NewStyle().Foreground(lipgloss.Color("1")),
		Muted:  r.NewStyle().Foreground(lipgloss.Color("8")),
		Bold:   r.NewStyle().Bold(true),
	}
}
