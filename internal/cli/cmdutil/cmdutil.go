// Package cmdutil holds what every command shares: the Factory that gives
// commands their dependencies (streams, settings, target, clock), the error
// types that choose exit codes, and flag helpers. Only internal/cli and
// internal/app use it.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/target"
)

// Factory provides dependencies lazily: `miscim version` never opens a
// database or reads a token.
type Factory struct {
	IO     *iostreams.IOStreams
	Env    config.Env
	Now    func() time.Time
	Flags  *config.Flags
	Config func() (config.Resolved, error)
	// Target opens the target the settings name; the caller closes it.
	Target func(ctx context.Context) (*target.Target, error)
	// ProbeTarget is Target without retries: diagnostics send each probe
	// once, as Entra does.
	ProbeTarget func(ctx context.Context) (*target.Target, error)
	// TargetWith is Target with the configuration adjusted by the command
	// (replay's synchronous mode for the embedded database).
	TargetWith func(ctx context.Context, adjust func(*target.Config)) (*target.Target, error)
}

// WithClient opens the target for the duration of fn and gives fn its
// SCIM client.
func (f *Factory) WithClient(ctx context.Context, fn func(*client.Client) error) error {
	t, err := f.Target(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	return fn(t.Client)
}

// Output returns the -o format.
func (f *Factory) Output() (render.Format, error) {
	format, err := render.ParseFormat(f.Flags.Output)
	if err != nil {
		return "", FlagErrorf("%v", err)
	}
	return format, nil
}

// FlagError is a usage error: a bad flag, argument or combination. The
// command's usage is printed after it; exit code 2.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// InputError is bad input that is not a flag: an unknown variable, an
// invalid value, an unreadable or malformed file. Exit code 2.
type InputError struct {
	Err   error
	Hints []string
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ExitError carries an exit code for a result the command already
// reported, such as failed checks (3).
type ExitError struct {
	Code int
	Err  error // may be nil: nothing more to print
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// HintError adds hint lines to an error; app prints them under it.
type HintError struct {
	Err   error
	Hints []string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint wraps err with hint lines.
func WithHint(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hints: hints}
}

// Hints collects the hint lines attached anywhere in err's chain.
func Hints(err error) []string {
	var out []string
	for err != nil {
		switch e := err.(type) {
		case *HintError:
			out = append(out, e.Hints...)
		case *InputError:
			out = append(out, e.Hints...)
		}
		err = errors.Unwrap(err)
	}
	return out
}

// ExactArgs is cobra.ExactArgs returning a FlagError.
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			if len(args) < n {
				return FlagErrorf("%s: missing %s", cmd.CommandPath(), what)
			}
			return FlagErrorf("%s: too many arguments (%s); expected %s", cmd.CommandPath(), strings.Join(args[n:], " "), what)
		}
		return nil
	}
}

// NoArgs is cobra.NoArgs returning a FlagError.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 && cmd.HasSubCommands() {
		return FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	if len(args) > 0 {
		return FlagErrorf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

// EnumFlag registers completion for a flag with a fixed set of values.
func EnumFlag(cmd *cobra.Command, name string, values []string) {
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(toCompletions(values), cobra.ShellCompDirectiveNoFileComp))
}

func toCompletions(values []string) []cobra.Completion {
	out := make([]cobra.Completion, len(values))
	for i, v := range values {
		out[i] = cobra.Completion(v)
	}
	return out
}

// CheckEnum validates a flag value against a set.
func CheckEnum(flag, value string, allowed []string) error {
	for _, a := range allowed {
		if strings.EqualFold(value, a) {
			return nil
		}
	}
	return FlagErrorf("invalid value %q for --%s: use %s", value, flag, strings.Join(allowed, ", "))
}

// ProfileNames lists the profiles of the config file the settings name,
// for completion; errors yield none.
func ProfileNames(f *Factory) []string {
	r, err := f.Config()
	if err != nil {
		return nil
	}
	file, err := config.Load(r.ConfigPath, f.Env)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(file.Profiles))
	for n := range file.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// MaxArgs is cobra.MaximumNArgs returning a FlagError.
func MaxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return FlagErrorf("%s: too many arguments (%s); expected at most %s", cmd.CommandPath(), strings.Join(args[n:], " "), what)
		}
		return nil
	}
}
