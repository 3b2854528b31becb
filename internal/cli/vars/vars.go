// Package vars implements `miscim vars list|get|set|unset|history`: the
// SCIM system variables of Metric Insights (DESIGN §3.6), on the embedded
// database or through the admin API of a `miscim serve`.
package vars

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/scim"
)

// API is what the commands need of a target: miscim's admin API, which the
// embedded engine serves in-process and `miscim serve` over HTTP.
type API interface {
	Vars(ctx context.Context) ([]client.Var, error)
	Var(ctx context.Context, name string) (client.Var, error)
	SetVar(ctx context.Context, name, value string) (client.Var, error)
	UnsetVar(ctx context.Context, name string) (client.Var, error)
	VarHistory(ctx context.Context, name string) ([]client.VarChange, error)
}

// Options are the inputs shared by the vars commands.
type Options struct {
	IO     *iostreams.IOStreams
	Format render.Format
	API    API
	Name   string
	Value  string
}

// NewCmdVars returns the vars command group.
func NewCmdVars(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vars <command>",
		Short: "Manage the SCIM system variables",
		Long: `Manage Metric Insights' two SCIM system variables:

  ENABLE_SCIM_REQUEST_LOGGER        Y/N (default N): log every SCIM request and response
  SCIM_REMOVE_USER_ON_SOFT_DELETE   Y/N (default N): on soft delete, Y deletes the MI user,
                                    N disables it and prefixes its MI username

Without --url the variables of the embedded database change; a running
"miscim serve" on the same database applies the change within one second.
With --url they change through the admin API of a "miscim serve". A real
Metric Insights has no such API: change them there in Admin > System >
System Variables.

Names and values are case-insensitive; values are stored upper-case. Every
change is recorded with its time, who made it, and the old and new value.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newList(f), newGet(f), newSet(f), newUnset(f), newHistory(f))
	return cmd
}

// run opens the target and runs fn with its admin API.
func run(cmd *cobra.Command, f *cmdutil.Factory, opts *Options, runF func(context.Context, *Options) error, fn func(context.Context, *Options) error) error {
	var err error
	if opts.Format, err = f.Output(); err != nil {
		return err
	}
	ctx := cmd.Context()
	if runF != nil {
		return runF(ctx, opts)
	}
	return explain(f.WithClient(ctx, func(c *client.Client) error {
		opts.API = c
		return fn(ctx, opts)
	}))
}

// explain turns the admin API's answers into the documented exit codes: an
// unknown name or invalid value is an input error (2), and so is a target
// without the admin API, with the way to change the variable there.
func explain(err error) error {
	var se *scim.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrNoAdminAPI):
		return &cmdutil.InputError{Err: errors.New("the target has no system-variable API: a real Metric Insights changes them in the UI"),
			Hints: []string{"in Metric Insights: Admin > System > System Variables, edit the variable, then Commit Changes"}}
	case errors.As(err, &se) && (se.Status == 400 || se.Status == 404):
		return &cmdutil.InputError{Err: errors.New(se.Detail)}
	}
	return err
}

func nameCompletion(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, d := range engine.VarDefs {
		out = append(out, cobra.CompletionWithDesc(d.Name, d.Description))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func newList(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:   "list",
		Short: "List the SCIM system variables",
		Long: `List the SCIM system variables: name, value, default, last change and
description. JSON output is an array of
{"name","value","default","allowed","description","isSet","lastChange":{"at","who","old","new"}}.`,
		Example: "  miscim vars list\n  miscim vars list -o json",
		Args:    cmdutil.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return run(cmd, f, opts, nil, listRun) },
	}
}

func listRun(ctx context.Context, opts *Options) error {
	vars, err := opts.API.Vars(ctx)
	if err != nil {
		return err
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, vars); done {
		return err
	}
	// A handful of variables: the description is wrapped, read whole;
	// the last change (vars history has it all) goes first.
	t := render.NewTable(
		render.Column{Header: "name"},
		render.Column{Header: "value"},
		render.Column{Header: "default", Hide: 1},
		render.Column{Header: "last change", Fit: render.Truncate, Hide: 2},
		render.Column{Header: "description", Fit: render.Wrap},
	)
	for _, v := range vars {
		t.AddRow(v.Name, v.Value, v.Default, describeChange(v.LastChange), v.Description)
	}
	return t.Render(opts.IO)
}

func describeChange(c *client.VarChange) string {
	if c == nil {
		return "-"
	}
	return fmt.Sprintf("%s by %s: %s → %s", c.At.UTC().Format(time.RFC3339), c.Who, orUnset(c.Old), orUnset(c.New))
}

func orUnset(v string) string {
	if v == "" {
		return "(unset)"
	}
	return v
}

func newGet(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Print a variable's value",
		Long: `Print a variable's effective value, alone, for scripts:
$(miscim vars get SCIM_REMOVE_USER_ON_SOFT_DELETE). JSON output is the
variable object of "vars list".`,
		Example:           "  miscim vars get SCIM_REMOVE_USER_ON_SOFT_DELETE",
		Args:              cmdutil.ExactArgs(1, "the variable name"),
		ValidArgsFunction: nameCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return run(cmd, f, opts, nil, getRun)
		},
	}
}

func getRun(ctx context.Context, opts *Options) error {
	v, err := opts.API.Var(ctx, opts.Name)
	if err != nil {
		return err
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, v); done {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, v.Value)
	return err
}

func newSet(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:   "set NAME VALUE",
		Short: "Set a variable",
		Long: `Set a variable. The change applies to the next SCIM request (a running
"miscim serve" on the same database sees it within one second) and is
recorded in the history. Setting the value a variable already has changes
nothing and records nothing.`,
		Example: `  miscim vars set SCIM_REMOVE_USER_ON_SOFT_DELETE Y
  miscim vars set ENABLE_SCIM_REQUEST_LOGGER y`,
		Args: cmdutil.ExactArgs(2, "the variable name and its value"),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 1 {
				for _, d := range engine.VarDefs {
					if strings.EqualFold(d.Name, args[0]) {
						return d.Allowed, cobra.ShellCompDirectiveNoFileComp
					}
				}
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return nameCompletion(cmd, args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Value = args[0], args[1]
			return run(cmd, f, opts, nil, setRun)
		},
	}
}

func setRun(ctx context.Context, opts *Options) error {
	return change(ctx, opts, func(ctx context.Context, name string) (client.Var, error) {
		return opts.API.SetVar(ctx, name, opts.Value)
	})
}

// change reads the variable, changes it with do and reports what changed
// (or that nothing did: setting the value it has).
func change(ctx context.Context, opts *Options, do func(ctx context.Context, name string) (client.Var, error)) error {
	before, err := opts.API.Var(ctx, opts.Name)
	if err != nil {
		return err
	}
	after, err := do(ctx, opts.Name)
	if err != nil {
		return err
	}
	return reportChange(opts, before, after)
}

func reportChange(opts *Options, before, after client.Var) error {
	if done, err := render.Structured(opts.IO.Out, opts.Format, after); done {
		return err
	}
	if opts.IO.IsStderrTTY() {
		if before.Value == after.Value && before.IsSet == after.IsSet {
			fmt.Fprintf(opts.IO.ErrOut, "%s is already %s\n", after.Name, after.Value)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "%s: %s → %s\n", after.Name, before.Value, after.Value)
		}
	}
	return nil
}

func newUnset(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:               "unset NAME",
		Short:             "Return a variable to its default",
		Long:              `Remove a variable's value so that its default applies again; the change is recorded.`,
		Example:           "  miscim vars unset SCIM_REMOVE_USER_ON_SOFT_DELETE",
		Args:              cmdutil.ExactArgs(1, "the variable name"),
		ValidArgsFunction: nameCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return run(cmd, f, opts, nil, unsetRun)
		},
	}
}

func unsetRun(ctx context.Context, opts *Options) error {
	return change(ctx, opts, opts.API.UnsetVar)
}

func newHistory(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:   "history [NAME]",
		Short: "Show the recorded changes of the variables",
		Long: `Show every recorded change, oldest first: time, variable, old and new value,
and who made it ("local-admin" for changes made without --url, the token's
user through the admin API). JSON output is an array of
{"name","old","new","who","at"}; "" stands for unset.`,
		Example:           "  miscim vars history\n  miscim vars history SCIM_REMOVE_USER_ON_SOFT_DELETE -o json",
		Args:              cmdutil.MaxArgs(1, "one variable name"),
		ValidArgsFunction: nameCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			return run(cmd, f, opts, nil, historyRun)
		},
	}
}

func historyRun(ctx context.Context, opts *Options) error {
	changes, err := opts.API.VarHistory(ctx, opts.Name)
	if err != nil {
		return err
	}
	if changes == nil {
		changes = []client.VarChange{}
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, changes); done {
		return err
	}
	if len(changes) == 0 {
		if opts.IO.IsStdoutTTY() {
			fmt.Fprintln(opts.IO.ErrOut, "no changes recorded")
		}
		return nil
	}
	t := render.NewTable(
		render.Column{Header: "time"},
		render.Column{Header: "name"},
		render.Column{Header: "old", Fit: render.Truncate},
		render.Column{Header: "new", Fit: render.Truncate},
		render.Column{Header: "who", Fit: render.Truncate},
	)
	for _, c := range changes {
		t.AddRow(c.At.UTC().Format(time.RFC3339), c.Name, orUnset(c.Old), orUnset(c.New), c.Who)
	}
	return t.Render(opts.IO)
}
