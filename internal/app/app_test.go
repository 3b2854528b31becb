package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/target"
)

func testEnv() config.Env {
	return config.Env{Getenv: func(string) string { return "" }, ReadFile: func(string) ([]byte, error) { return nil, errors.New("no files") }, HomeDir: "/home/u"}
}

// TestCommandTree checks every command the way a reviewer would: a Short
// that starts upper-case without a final period, an Example on every leaf,
// explicit Args, and usage text on every flag.
func TestCommandTree(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewRoot(NewFactory(ios, testEnv()))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := c.CommandPath()
		if c.Hidden || c.Name() == "help" || strings.HasPrefix(name, "miscim completion") {
			return
		}
		if c.Short == "" || !unicode.IsUpper([]rune(c.Short)[0]) || strings.HasSuffix(c.Short, ".") {
			t.Errorf("%s: Short %q must start upper-case and not end with a period", name, c.Short)
		}
		if !c.HasSubCommands() && c.Example == "" {
			t.Errorf("%s: a leaf command needs an Example", name)
		}
		if c.Args == nil {
			t.Errorf("%s: Args must be set", name)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Usage == "" {
				t.Errorf("%s --%s: no usage text", name, f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestExitCodes(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"failure", ctx, errors.New("boom"), ExitFailure},
		{"flag error", ctx, cmdutil.FlagErrorf("bad flag"), ExitUsage},
		{"input error", ctx, &cmdutil.InputError{Err: errors.New("bad file")}, ExitUsage},
		{"config error", ctx, fmt.Errorf("wrap: %w", &config.Error{Msg: "bad profile"}), ExitUsage},
		{"problems found", ctx, &cmdutil.ExitError{Code: ExitProblems}, ExitProblems},
		{"401", ctx, &scim.Error{Status: 401, Detail: "no"}, ExitAuth},
		{"403 wrapped", ctx, fmt.Errorf("list users: %w", &scim.Error{Status: 403}), ExitAuth},
		{"404 is a failure", ctx, &scim.Error{Status: 404}, ExitFailure},
		{"503", ctx, &scim.Error{Status: 503}, ExitUnavailable},
		{"unavailable", ctx, &client.UnavailableError{Method: "GET", URL: "https://x/scim/v2", Err: errors.New("connection refused")}, ExitUnavailable},
		{"interrupted", canceled, context.Canceled, ExitInterrupted},
		{"bad target URL", ctx, &target.ConfigError{Err: errors.New(`scheme "ftp" is not supported`)}, ExitUsage},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestRunPrintsErrorAndHints(t *testing.T) {
	ios, _, out, errOut := iostreams.Test()
	code := Run(context.Background(), []string{"version", "-o", "xml"}, ios, testEnv())
	if code != ExitUsage {
		t.Fatalf("exit %d", code)
	}
	if out.Len() != 0 {
		t.Errorf("stdout must stay empty on error, got %q", out)
	}
	want := "error: unknown output format \"xml\": use table, json or yaml\nhint: run 'miscim version --help' for usage\n"
	if errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}
