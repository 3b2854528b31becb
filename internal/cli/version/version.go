// Package version implements `miscim version`.
package version

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/build"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// Options are the inputs of versionRun.
type Options struct {
	IO     *iostreams.IOStreams
	Format render.Format
	Info   build.Info
}

// NewCmdVersion returns the version command. runF replaces the run
// function in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of miscim",
		Example: "  miscim version\n  miscim version -o json",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			opts.Info = build.Get()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return versionRun(opts)
		},
	}
}

// versionRun prints the version: one line, or build.Info as JSON/YAML
// ({"version","commit","date","goVersion","platform"}).
func versionRun(opts *Options) error {
	if done, err := render.Structured(opts.IO.Out, opts.Format, opts.Info); done {
		return err
	}
	i := opts.Info
	line := "miscim " + i.Version
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		line += " (commit " + c
		if i.Date != "" {
			line += ", built " + i.Date
		}
		line += ")"
	}
	_, err := fmt.Fprintf(opts.IO.Out, "%s %s %s\n", line, i.GoVersion, i.Platform)
	return err
}
