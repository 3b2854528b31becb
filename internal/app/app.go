// Package app is miscim's entry point: it wires the process (signals,
// streams, settings) to the command tree and is the one place where errors
// become exit codes and hints (DESIGN §1.2). Only app calls os.Exit's
// value; commands return errors.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/cli/root"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/target"
)

// Exit codes, the same in every command (DESIGN §1.2).
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitProblems    = 3
	ExitAuth        = 4
	ExitUnavailable = 5
	ExitInterrupted = 130
)

// Main runs miscim with the process's arguments, streams and environment
// and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := config.OSEnv()
	return Run(ctx, args, iostreams.System(env.Getenv), env)
}

// NewFactory wires a Factory to streams and an environment.
func NewFactory(ios *iostreams.IOStreams, env config.Env) *cmdutil.Factory {
	flags := &config.Flags{}
	f := &cmdutil.Factory{IO: ios, Env: env, Now: time.Now, Flags: flags}
	var once sync.Once
	var resolved config.Resolved
	var resolveErr error
	f.Config = func() (config.Resolved, error) {
		once.Do(func() { resolved, resolveErr = config.Resolve(*flags, env) })
		return resolved, resolveErr
	}
	open := func(ctx context.Context, retries int, adjust func(*target.Config)) (*target.Target, error) {
		r, err := f.Config()
		if err != nil {
			return nil, err
		}
		cfg := target.Config{URL: r.URL, Token: r.Token, DBPath: r.DB, Timeout: r.Timeout, Insecure: r.Insecure, CAFile: r.CAFile, Retries: retries}
		if r.Verbose {
			cfg.Trace = ios.ErrOut
		}
		if adjust != nil {
			adjust(&cfg)
		}
		return target.Open(ctx, cfg)
	}
	f.Target = func(ctx context.Context) (*target.Target, error) { return open(ctx, 0, nil) }
	f.ProbeTarget = func(ctx context.Context) (*target.Target, error) { return open(ctx, -1, nil) }
	f.TargetWith = func(ctx context.Context, adjust func(*target.Config)) (*target.Target, error) {
		return open(ctx, 0, adjust)
	}
	return f
}

// NewRoot returns the command tree wired to f.
func NewRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := root.NewCmdRoot(f)
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if f.Flags.NoColor || f.Env.Getenv("NO_COLOR") != "" {
			f.IO.SetColorEnabled(false)
		}
		return nil
	}
	return cmd
}

// Run executes one command line and returns its exit code.
func Run(ctx context.Context, args []string, ios *iostreams.IOStreams, env config.Env) int {
	cmd := NewRoot(NewFactory(ios, env))
	cmd.SetArgs(args)
	ran, err := cmd.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitCode(ctx, err)
	printError(ios, ran, err, code)
	return code
}

// ExitCode maps an error to the documented exit code.
func ExitCode(ctx context.Context, err error) int {
	var exitErr *cmdutil.ExitError
	var flagErr *cmdutil.FlagError
	var inputErr *cmdutil.InputError
	var cfgErr *config.Error
	var targetErr *target.ConfigError
	var scimErr *scim.Error
	switch {
	case errors.As(err, &exitErr):
		return exitErr.Code
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return ExitInterrupted
	case errors.Is(err, store.ErrUnavailable):
		return ExitUnavailable
	case errors.As(err, &flagErr), errors.As(err, &inputErr), errors.As(err, &cfgErr), errors.As(err, &targetErr):
		return ExitUsage
	case errors.Is(err, client.ErrUnavailable):
		return ExitUnavailable
	case errors.As(err, &scimErr) && (scimErr.Status == 401 || scimErr.Status == 403):
		return ExitAuth
	case errors.As(err, &scimErr) && scimErr.Status >= 500:
		return ExitUnavailable
	}
	return ExitFailure
}

func printError(ios *iostreams.IOStreams, cmd *cobra.Command, err error, code int) {
	th := render.NewErrTheme(ios)
	var exitErr *cmdutil.ExitError
	if errors.As(err, &exitErr) && exitErr.Err == nil {
		return // the command already reported
	}
	if code == ExitInterrupted {
		fmt.Fprintln(ios.ErrOut, "interrupted")
		return
	}
	msg := err.Error()
	fmt.Fprintln(ios.ErrOut, th.Err.Render("error: ")+firstLine(msg))
	for _, l := range restLines(msg) {
		fmt.Fprintln(ios.ErrOut, l)
	}
	hints := cmdutil.Hints(err)
	var scimErr *scim.Error
	switch {
	case code == ExitAuth && errors.As(err, &scimErr) && scimErr.Status == 401:
		hints = append(hints, "the target rejected the token: pass an MI Admin's API token with --token-file or MISCIM_TOKEN")
	case code == ExitAuth:
		hints = append(hints, "the token is valid but not an Admin's: MI accepts only Admin API tokens for SCIM")
	case code == ExitUnavailable && errors.Is(err, store.ErrUnavailable):
		hints = append(hints, "check that the PostgreSQL server --db (or MISCIM_DB) names is running and reachable from here")
	case code == ExitUnavailable:
		hints = append(hints, "check the URL, the network and TLS (--ca-file, --insecure); -v traces the requests")
	}
	var flagErr *cmdutil.FlagError
	if errors.As(err, &flagErr) && cmd != nil {
		hints = append(hints, fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath()))
	}
	for _, h := range hints {
		fmt.Fprintln(ios.ErrOut, th.Muted.Render("hint: "+h))
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func restLines(s string) []string {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return nil
	}
	return strings.Split(s[i+1:], "\n")
}
