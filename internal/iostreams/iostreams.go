// Package iostreams owns where miscim writes and how: stdout, stderr and
// stdin, whether each is a terminal, and whether output is styled
// (NO_COLOR, --no-color, CLICOLOR, MISCIM_FORCE_TTY). Commands write only
// through it, never to os.Stdout directly, so they can be tested without a
// shell.
package iostreams

import (
	"bytes"
	"io"
	"os"

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
}

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
	return s
}

// Test returns streams over buffers: not terminals, no color.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

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
