// Package clitest holds what the command packages' tests share: streams
// that are a terminal or a pipe, golden files of a command's whole output,
// and the exit code a command's error gets.
package clitest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/testkit"
)

// Streams are test streams whose stdout is a terminal (tty) of width
// columns (0: the default width), or a pipe.
func Streams(tty bool, width int) (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	if width > 0 {
		ios.SetTerminalWidth(width)
	}
	return ios, out, errOut
}

// Golden checks that a terminal's output fits its width (width > 0), then
// compares stdout, stderr and the error with its hints with the golden
// file name.
func Golden(t *testing.T, name string, width int, out, errOut *bytes.Buffer, err error) {
	t.Helper()
	if width > 0 {
		testkit.FitsTerminal(t, out.Bytes(), width, render.DisplayWidth)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s--- stderr\n%s", out, errOut)
	if err != nil {
		fmt.Fprintf(&b, "--- error\n%s\n", err)
		for _, h := range cmdutil.Hints(err) {
			fmt.Fprintf(&b, "hint: %s\n", h)
		}
	}
	testkit.Golden(t, name, b.Bytes())
}

// ExitCode is the exit code internal/app gives the errors a command
// returns itself: an ExitError's code, 2 for input and flag errors, 0 for
// none, else 1. (app.ExitCode, which also maps the client's and store's
// errors, cannot be imported here: app imports every command.)
func ExitCode(err error) int {
	var ee *cmdutil.ExitError
	var ie *cmdutil.InputError
	var fe *cmdutil.FlagError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ie), errors.As(err, &fe):
		return 2
	}
	return 1
}
