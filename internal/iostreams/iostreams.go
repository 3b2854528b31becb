// Package iostreams owns where miscim writes and how: stdout, stderr and
// stdin, whether each is a terminal, how wide that terminal is (COLUMNS),
// and whether output is styled (NO_COLOR, --no-color, CLICOLOR,
// MISCIM_FORCE_TTY). Commands write only through it, never to os.Stdout
// directly, so they can be tested without a shell.
package iostreams

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// IOStreams are a command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdoutTTY bool
	stderrTTY bool
	color     bool

	// columns is COLUMNS when it holds a positive number, else 0.
	columns int
	// detectWidth asks the terminal for its width; nil in tests.
	detectWidth func() (int, bool)
}

// DefaultWidth is the width assumed when neither COLUMNS nor the terminal
// says: the classic terminal, and what Test streams have.
const DefaultWidth = 80

// System returns the process's streams. Styling is on only when stdout is
// a terminal and neither NO_COLOR (any value) nor CLICOLOR=0 is set;
// MISCIM_FORCE_TTY=1 makes both streams count as terminals (demos, tests).
func System(getenv func(string) string) *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.stdoutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	s.stderrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	if getenv("MISCIM_FORCE_TTY") != "" && getenv("MISCIM_FORCE_TTY") != "0" {
		s.stdoutTTY, s.stderrTTY = true, true
	}
	s.color = s.stdoutTTY && getenv("NO_COLOR") == "" && getenv("CLICOLOR") != "0" && getenv("TERM") != "dumb"
	s.columns = parseColumns(getenv("COLUMNS"))
	s.detectWidth = func() (int, bool) {
		// stdout first; with MISCIM_FORCE_TTY and stdout redirected, the
		// terminal the user looks at is likely the one stderr goes to.
		for _, f := range []*os.File{os.Stdout, os.Stderr} {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				return w, true
			}
		}
		return 0, false
	}
	return s
}

// parseColumns reads COLUMNS: a positive number of columns, else 0 (unset,
// empty or not a number: ignored, and the terminal is asked).
func parseColumns(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// Test returns streams over buffers: not terminals, no color, and
// DefaultWidth columns wide once SetStdoutTTY makes stdout a terminal.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// TerminalWidth is how many columns terminal output must fit in: COLUMNS
// when it holds a positive number (it overrides detection, so that a user
// or a script can ask for another width), else the width of the terminal,
// else DefaultWidth. Output that is not for a terminal (IsStdoutTTY false)
// has no width: it is never cut or wrapped.
func (s *IOStreams) TerminalWidth() int {
	if s.columns > 0 {
		return s.columns
	}
	if s.detectWidth != nil {
		if w, ok := s.detectWidth(); ok {
			return w
		}
	}
	return DefaultWidth
}

// SetTerminalWidth fixes the width, as COLUMNS does (tests).
func (s *IOStreams) SetTerminalWidth(n int) { s.columns = max(n, 0) }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal: progress bars and
// spinners appear only then (DESIGN §1.2).
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetStdoutTTY overrides terminal detection of stdout (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }

// SetStderrTTY overrides terminal detection of stderr (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// ColorEnabled reports whether output may be styled.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// SetColorEnabled turns styling on or off (--no-color, tests).
func (s *IOStreams) SetColorEnabled(v bool) { s.color = v }
