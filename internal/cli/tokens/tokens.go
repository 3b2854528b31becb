// Package tokens implements `miscim tokens create|list|revoke`: API tokens
// of the embedded engine, whose Admin tokens are what SCIM clients (Entra's
// Secret Token) authenticate with.
package tokens

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/scim"
)

// Roles a token's user may have.
var Roles = []string{"admin", "power", "regular"}

// NewCmdTokens returns the tokens command group.
func NewCmdTokens(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens <command>",
		Short: "Manage API tokens of the embedded engine",
		Long: `API tokens authenticate SCIM clients against the embedded engine and
"miscim serve", as MI's personal API tokens do. SCIM accepts only the token
of an Admin user. Tokens are stored hashed; the secret is shown once.

Tokens live in the embedded database; for a real Metric Insights, create the
token in MI itself.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdCreate(f, nil), NewCmdList(f, nil), NewCmdRevoke(f, nil))
	return cmd
}

// withEngine opens the embedded engine; tokens make no sense for --url.
func withEngine(ctx context.Context, f *cmdutil.Factory, fn func(*engine.Engine) error) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	if cfg.URL != "" {
		return cmdutil.FlagErrorf("tokens work on the embedded database only (--db); for a real Metric Insights at %s create the API token in MI", cfg.URL)
	}
	t, err := f.Target(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	return fn(t.Engine)
}

// ParseExpiry reads a lifetime such as 90d, 12h, 30m or "never" (0).
func ParseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch s {
	case "", "0", "never", "none":
		return 0, nil
	}
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("invalid --expires %q: use a number of days such as 90d, a duration such as 12h, or never", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid --expires %q: use a number of days such as 90d, a duration such as 12h, or never", s)
	}
	return d, nil
}

// TokenJSON is the JSON shape of a token (DESIGN §1.3).
type TokenJSON struct {
	ID      string `json:"id"`
	User    string `json:"user"`
	Role    string `json:"role"`
	Token   string `json:"token,omitempty"`
	Created string `json:"created"`
	Expires string `json:"expires"` // "" when the token never expires
}

func toJSON(i engine.TokenInfo, secret string) TokenJSON {
	t := TokenJSON{ID: i.ID, User: i.User, Role: i.Role, Token: secret, Created: engine.FormatTime(i.Created)}
	if !i.Expires.IsZero() {
		t.Expires = engine.FormatTime(i.Expires)
	}
	return t
}

// CreateOptions are the inputs of createRun.
type CreateOptions struct {
	IO      *iostreams.IOStreams
	Format  render.Format
	User    string
	Role    string
	Expires time.Duration
	Create  func(ctx context.Context, user, role string, ttl time.Duration) (engine.TokenInfo, string, error)
}

// NewCmdCreate returns `tokens create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IO}
	var expires string
	cmd := &cobra.Command{
		Use:   "create --user NAME [--role admin|power|regular] [--expires 90d]",
		Short: "Create an API token, and its user if needed",
		Long: `Create an API token for the user NAME, creating NAME as a local user with
--role when no user has that name (an existing user keeps its type). Only an
Admin's token is accepted for SCIM.

Table output is the token alone on stdout, for $(miscim tokens create …).
JSON output: {"id","user","role","token","created","expires"}.

Tokens never expire unless --expires is given: Entra quarantines a
provisioning job whose token stops working.`,
		Example: `  miscim tokens create --user admin@example.com --role admin
  TOKEN=$(miscim tokens create --user ci --role admin --expires 90d)`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if strings.TrimSpace(opts.User) == "" {
				return cmdutil.FlagErrorf("--user is required: the name of the user the token belongs to")
			}
			if err := cmdutil.CheckEnum("role", opts.Role, Roles); err != nil {
				return err
			}
			if opts.Expires, err = ParseExpiry(expires); err != nil {
				return cmdutil.FlagErrorf("%v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return withEngine(cmd.Context(), f, func(e *engine.Engine) error {
				opts.Create = e.CreateToken
				return createRun(cmd.Context(), opts)
			})
		},
	}
	cmd.Flags().StringVar(&opts.User, "user", "", "user the token belongs to (created as a local user if missing)")
	cmd.Flags().StringVar(&opts.Role, "role", "admin", "user type of a new user: admin, power or regular")
	cmd.Flags().StringVar(&expires, "expires", "never", "lifetime: days (90d), a duration (12h) or never")
	cmdutil.EnumFlag(cmd, "role", Roles)
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	info, secret, err := opts.Create(ctx, opts.User, opts.Role, opts.Expires)
	if err != nil {
		return err
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, toJSON(info, secret)); done {
		return err
	}
	if info.Role != engine.UserTypeAdmin {
		th := render.NewErrTheme(opts.IO)
		fmt.Fprintln(opts.IO.ErrOut, th.Warn.Render(fmt.Sprintf("warning: %s is a %s user; SCIM accepts only an Admin's token", info.User, info.Role)))
	}
	_, err = fmt.Fprintln(opts.IO.Out, secret)
	return err
}

// ListOptions are the inputs of listRun.
type ListOptions struct {
	IO     *iostreams.IOStreams
	Format render.Format
	List   func(ctx context.Context) ([]engine.TokenInfo, error)
	Now    func() time.Time
}

// NewCmdList returns `tokens list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Now: f.Now}
	return &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Long: `List the API tokens of the embedded database: id, user, role, creation and
expiry. JSON output is an array of {"id","user","role","created","expires"}.`,
		Example: "  miscim tokens list\n  miscim tokens list -o json",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return withEngine(cmd.Context(), f, func(e *engine.Engine) error {
				opts.List = e.Tokens
				return listRun(cmd.Context(), opts)
			})
		},
	}
}

func listRun(ctx context.Context, opts *ListOptions) error {
	list, err := opts.List(ctx)
	if err != nil {
		return err
	}
	out := make([]TokenJSON, 0, len(list))
	for _, i := range list {
		out = append(out, toJSON(i, ""))
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, out); done {
		return err
	}
	if len(out) == 0 {
		if opts.IO.IsStdoutTTY() {
			fmt.Fprintln(opts.IO.ErrOut, "no tokens; create one with `miscim tokens create --user NAME`")
		}
		return nil
	}
	t := render.NewTable(
		render.Column{Header: "id"},
		render.Column{Header: "user"},
		render.Column{Header: "role"},
		render.Column{Header: "created", Hide: 1},
		render.Column{Header: "expires"},
	)
	for _, j := range out {
		exp := j.Expires
		if exp == "" {
			exp = "never"
		} else if i, _ := time.Parse(time.RFC3339, j.Expires); !i.IsZero() && !opts.Now().Before(i) {
			exp += " (expired)"
		}
		t.AddRow(j.ID, j.User, j.Role, j.Created, exp)
	}
	return t.Render(opts.IO)
}

// RevokeOptions are the inputs of revokeRun.
type RevokeOptions struct {
	IO     *iostreams.IOStreams
	ID     string
	Revoke func(ctx context.Context, id string) error
}

// NewCmdRevoke returns `tokens revoke`.
func NewCmdRevoke(f *cmdutil.Factory, runF func(context.Context, *RevokeOptions) error) *cobra.Command {
	opts := &RevokeOptions{IO: f.IO}
	return &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke an API token",
		Example: "  miscim tokens revoke k3j9x2aa",
		Args:    cmdutil.ExactArgs(1, "the token id (see `miscim tokens list`)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return withEngine(cmd.Context(), f, func(e *engine.Engine) error {
				opts.Revoke = e.RevokeToken
				return revokeRun(cmd.Context(), opts)
			})
		},
	}
}

func revokeRun(ctx context.Context, opts *RevokeOptions) error {
	if err := opts.Revoke(ctx, opts.ID); err != nil {
		var se *scim.Error
		if errors.As(err, &se) && se.Status == 404 {
			return &cmdutil.InputError{Err: err}
		}
		return err
	}
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "revoked token %s\n", opts.ID)
	}
	return nil
}
