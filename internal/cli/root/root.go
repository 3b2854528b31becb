// Package root builds miscim's command tree: the root command with the
// global flags of DESIGN §1.1 and every subcommand.
package root

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/cli/diff"
	"github.com/miscim/miscim/internal/cli/expr"
	"github.com/miscim/miscim/internal/cli/groups"
	"github.com/miscim/miscim/internal/cli/logs"
	"github.com/miscim/miscim/internal/cli/mapping"
	"github.com/miscim/miscim/internal/cli/replay"
	"github.com/miscim/miscim/internal/cli/serve"
	"github.com/miscim/miscim/internal/cli/simulate"
	"github.com/miscim/miscim/internal/cli/tenant"
	"github.com/miscim/miscim/internal/cli/testconnection"
	"github.com/miscim/miscim/internal/cli/tokens"
	"github.com/miscim/miscim/internal/cli/users"
	"github.com/miscim/miscim/internal/cli/vars"
	"github.com/miscim/miscim/internal/cli/version"
	"github.com/miscim/miscim/internal/render"
)

// Command groups shown by help.
const (
	groupDiagnostics = "diagnostics"
	groupServer      = "server"
	groupAdmin       = "admin"
)

// NewCmdRoot returns the root command. f.Flags is bound to the global
// flags, which commands read through f.Config after parsing.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "miscim <command> [flags]",
		Short: "Test, simulate and diagnose SCIM provisioning from Microsoft Entra ID into Metric Insights",
		Long: `miscim is the admin and diagnostics tool for SCIM 2.0 provisioning from
Microsoft Entra ID into Metric Insights (MI 7.1.2+, https://<MI host>/scim/v2).

Every command talks to a target: the embedded SCIM engine (the default, a
local SQLite database that behaves like MI's endpoint) or any SCIM endpoint
given with --url, such as a real MI or a running "miscim serve".

Tables fit the terminal's width (COLUMNS, when set, overrides the detected
width): free text is wrapped or cut, names and ids never are. Piped, a table
is one whole tab-separated record per line, without header.

Exit codes: 0 success, 1 unexpected failure, 2 usage or input error,
3 problems found, 4 authentication rejected, 5 target unavailable,
130 interrupted.`,
		Example: `  # check a Metric Insights endpoint the way Entra's Test Connection does
  miscim test-connection --url https://mi.example.com/scim/v2 --token-file mi.token

  # delete MI users on soft delete instead of disabling them
  miscim vars set SCIM_REMOVE_USER_ON_SOFT_DELETE Y

  # serve the embedded engine, and create an Admin API token for it
  miscim serve --addr 127.0.0.1:8080 &
  miscim tokens create --user admin@example.com --role admin`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.SetOut(f.IO.Out)
	cmd.SetErr(f.IO.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })

	fl := f.Flags
	pf := cmd.PersistentFlags()
	pf.StringVar(&fl.URL, "url", "", "SCIM base URL of a remote target, e.g. https://mi.example.com/scim/v2 (env MISCIM_URL; empty: the embedded engine)")
	pf.StringVar(&fl.Token, "token", "", "bearer token for --url (env MISCIM_TOKEN; prefer --token-file in CI)")
	pf.StringVar(&fl.TokenFile, "token-file", "", "read the bearer token from a file (env MISCIM_TOKEN_FILE)")
	pf.StringVar(&fl.DB, "db", "", "embedded engine database (env MISCIM_DB; default $XDG_DATA_HOME/miscim/miscim.db)")
	pf.StringVar(&fl.Config, "config", "", "config file with named profiles (env MISCIM_CONFIG; default $XDG_CONFIG_HOME/miscim/config.yaml)")
	pf.StringVar(&fl.Profile, "profile", "", "profile from the config file (env MISCIM_PROFILE)")
	pf.StringVarP(&fl.Output, "output", "o", "table", "output format: table, json or yaml")
	pf.BoolVar(&fl.NoColor, "no-color", false, "no ANSI styling (also NO_COLOR, or when stdout is not a terminal)")
	pf.DurationVar(&fl.Timeout, "timeout", 60*time.Second, "per-request timeout (Entra's own limit is 60s)")
	pf.BoolVar(&fl.Insecure, "insecure", false, "skip TLS certificate verification for --url")
	pf.StringVar(&fl.CAFile, "ca-file", "", "PEM file of CA certificates to trust for --url")
	pf.BoolVarP(&fl.Verbose, "verbose", "v", false, "trace requests and responses on stderr (Authorization redacted)")
	fl.Changed = func(name string) bool { return cmd.PersistentFlags().Changed(name) }
	cmdutil.EnumFlag(cmd, "output", render.Formats)
	_ = cmd.MarkPersistentFlagFilename("token-file")
	_ = cmd.MarkPersistentFlagFilename("db", "db")
	_ = cmd.MarkPersistentFlagFilename("config", "yaml", "yml")
	_ = cmd.MarkPersistentFlagFilename("ca-file", "pem", "crt")
	_ = cmd.RegisterFlagCompletionFunc("profile", profileCompletion(f))

	cmd.AddGroup(
		&cobra.Group{ID: groupDiagnostics, Title: "Diagnostics:"},
		&cobra.Group{ID: groupServer, Title: "Engine:"},
		&cobra.Group{ID: groupAdmin, Title: "Administration:"},
	)
	add := func(group string, c *cobra.Command) {
		c.GroupID = group
		cmd.AddCommand(c)
	}
	add(groupDiagnostics, testconnection.NewCmdTestConnection(f, nil))
	add(groupDiagnostics, users.NewCmdUsers(f))
	add(groupDiagnostics, groups.NewCmdGroups(f))
	add(groupDiagnostics, tenant.NewCmdTenant(f))
	add(groupDiagnostics, mapping.NewCmdMapping(f))
	add(groupDiagnostics, expr.NewCmdExpr(f, nil))
	add(groupDiagnostics, simulate.NewCmdSimulate(f, nil))
	add(groupDiagnostics, diff.NewCmdDiff(f, nil))
	add(groupDiagnostics, replay.NewCmdReplay(f, nil))
	add(groupDiagnostics, logs.NewCmdLogs(f, nil))
	add(groupServer, serve.NewCmdServe(f, nil))
	add(groupAdmin, vars.NewCmdVars(f))
	add(groupAdmin, tokens.NewCmdTokens(f))
	add(groupAdmin, version.NewCmdVersion(f, nil))
	cmd.SetHelpCommandGroupID(groupAdmin)
	cmd.SetCompletionCommandGroupID(groupAdmin)
	cmd.InitDefaultHelpCmd()
	cmd.InitDefaultCompletionCmd()
	return cmd
}

func profileCompletion(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names := cmdutil.ProfileNames(f)
		out := make([]cobra.Completion, len(names))
		for i, n := range names {
			out[i] = cobra.Completion(n)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
