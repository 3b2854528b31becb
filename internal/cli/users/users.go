// Package users implements `miscim users list|get`: read-only inspection of
// the target's users through SCIM, so that it works the same against the
// embedded engine, a `miscim serve` and a real Metric Insights. The MI view
// (MI username, user type, auth method, source) comes from miscim's
// read-only extension when the target sends it, and is "-" otherwise.
package users

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/scim"
)

// missing is what a cell shows when the target did not send the value.
const missing = "-"

// NewCmdUsers returns the users command group.
func NewCmdUsers(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users <command>",
		Short: "Inspect the users of the target",
		Long: `Read the target's users through SCIM, as Entra sees them, with the Metric
Insights view beside them: MI username (prefixed while soft-deleted), user
type, authentication method and source.

The MI view comes from miscim's read-only extension
urn:ietf:params:scim:schemas:extension:miscim:2.0:User, which the embedded
engine and "miscim serve" send; against a real Metric Insights these
columns may show "-".`,
		Example: `  miscim users list
  miscim --url https://mi.example.com/scim/v2 --token-file mi.token users get alice@example.com`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdGet(f, nil))
	return cmd
}

// ListOptions are the inputs of listRun.
type ListOptions struct {
	IO     *iostreams.IOStreams
	Format render.Format
	Filter string
	Limit  int // 0: all
	Client *client.Client
}

// NewCmdList returns `users list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list [--filter SCIMFILTER] [--limit N]",
		Short: "List users, with their Metric Insights view",
		Long: `List the target's users, reading every page unless --limit stops earlier:
by cursor (RFC 9865) when the target advertises cursors, else by
startIndex, in pages of the target's maxResults (100 when it states none).
--filter is a SCIM filter (RFC 7644 §3.4.2.2) that the target evaluates; a
filter it rejects is an input error (exit 2).

Columns: USERNAME, ACTIVE (enabled/disabled), MI USERNAME (with the
scim-deleted- prefix while soft-deleted), TYPE, AUTH, SOURCE, EMAIL (the
address MI keeps: work, else primary, else first), ID. On a terminal too
narrow for them all, MI USERNAME and EMAIL are cut, then SOURCE, AUTH, TYPE,
EMAIL and MI USERNAME left out (named on stderr); USERNAME, ACTIVE and ID
stay whole. Piped, each user is one tab-separated line without header.

JSON and YAML output: an array of the SCIM user resources exactly as the
target returned them.`,
		Example: `  miscim users list
  miscim users list --filter 'active eq false'
  miscim users list --filter 'userName sw "a"' --limit 10 -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if opts.Limit < 0 {
				return cmdutil.FlagErrorf("invalid --limit %d: use a positive number, or 0 for all users", opts.Limit)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return f.WithClient(cmd.Context(), func(c *client.Client) error {
				opts.Client = c
				return listRun(cmd.Context(), opts)
			})
		},
	}
	cmd.Flags().StringVar(&opts.Filter, "filter", "", `SCIM filter evaluated by the target, e.g. 'userName eq "alice@example.com"'`)
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "stop after N users (0: all)")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	// A table needs only the view of each user: keep that, not the
	// resource, so that listing 100,000 users holds strings, not 100,000
	// decoded documents. JSON and YAML print the resources as they came.
	structured := opts.Format == render.FormatJSON || opts.Format == render.FormatYAML
	users := []scim.Resource{} // JSON: [] rather than null when none match
	var views []userView
	err := cmdutil.Collect(ctx, opts.Client, client.Users, client.ListParams{Filter: opts.Filter}, opts.Limit, func(r scim.Resource) {
		if structured {
			users = append(users, r)
		} else {
			views = append(views, view(r))
		}
	})
	if err != nil {
		return cmdutil.FilterError(err, opts.Filter)
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, users); done {
		return err
	}
	if len(views) == 0 {
		if opts.IO.IsStdoutTTY() {
			fmt.Fprintln(opts.IO.ErrOut, "no users matched")
		}
		return nil
	}
	// On a narrow terminal the user's name, state and id stay whole; the
	// MI username and email are cut, and the short MI columns go first.
	t := render.NewTable(
		render.Column{Header: "username"},
		render.Column{Header: "active"},
		render.Column{Header: "mi username", Fit: render.Truncate, Hide: 1},
		render.Column{Header: "type", Hide: 3},
		render.Column{Header: "auth", Hide: 4},
		render.Column{Header: "source", Hide: 5},
		render.Column{Header: "email", Fit: render.Truncate, Hide: 2},
		render.Column{Header: "id"},
	)
	for _, v := range views {
		t.AddRow(v.UserName, v.Active, v.MIUsername, v.UserType, v.AuthMethod, v.Source, v.Email, v.ID)
	}
	return t.Render(opts.IO)
}

// GetOptions are the inputs of getRun.
type GetOptions struct {
	IO     *iostreams.IOStreams
	Format render.Format
	Arg    string // id or userName
	Client *client.Client
}

// NewCmdGet returns `users get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "get ID|USERNAME",
		Short: "Show one user, with its Metric Insights view",
		Long: `Show one user, found by id (GET /Users/ID) or, when no user has that id,
by userName (filter userName eq "USERNAME", case-insensitive as Entra's
match query). No such user is an input error (exit 2).

On a terminal: one "attribute: value" line per attribute, the MI view
included; piped: "attribute<TAB>value" lines. JSON and YAML output: the
SCIM user resource exactly as the target returned it.`,
		Example: `  miscim users get alice@example.com
  miscim users get 2819c223-7f76-453a-919d-413861904646 -o json`,
		Args:              cmdutil.IDArg("the user's id or userName (see `miscim users list`)"),
		ValidArgsFunction: cmdutil.CompleteNames(f, client.Users, "userName"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			opts.Arg = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return f.WithClient(cmd.Context(), func(c *client.Client) error {
				opts.Client = c
				return getRun(cmd.Context(), opts)
			})
		},
	}
}

func getRun(ctx context.Context, opts *GetOptions) error {
	u, err := find(ctx, opts.Client, opts.Arg)
	if err != nil {
		return err
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, u); done {
		return err
	}
	v := view(u)
	return render.WriteFields(opts.IO, []render.Field{
		{Key: "id", Value: v.ID},
		{Key: "userName", Value: v.UserName},
		{Key: "externalId", Value: v.ExternalID},
		{Key: "active", Value: v.Active},
		{Key: "name.givenName", Value: v.GivenName},
		{Key: "name.familyName", Value: v.FamilyName},
		{Key: "email", Value: v.Email},
		{Key: "miUsername", Value: v.MIUsername},
		{Key: "userType", Value: v.UserType},
		{Key: "authMethod", Value: v.AuthMethod},
		{Key: "source", Value: v.Source},
		{Key: "meta.created", Value: v.Created},
		{Key: "meta.lastModified", Value: v.LastModified},
	})
}

// find returns the user whose id is arg or, failing that, whose userName
// is arg. Not found is an *cmdutil.InputError.
func find(ctx context.Context, c *client.Client, arg string) (scim.Resource, error) {
	u, err := c.Get(ctx, client.Users, arg, client.ListParams{})
	if err == nil {
		return u, nil
	}
	if !notAnID(err) {
		return nil, err
	}
	lr, err := c.List(ctx, client.Users, client.ListParams{Filter: "userName eq " + scim.QuoteString(arg)})
	if err != nil {
		return nil, err
	}
	switch len(lr.Resources) {
	case 0:
		return nil, &cmdutil.InputError{
			Err:   fmt.Errorf("no user has the id or userName %q", arg),
			Hints: []string{"run `miscim users list` to see the users of the target"},
		}
	case 1:
		return lr.Resources[0], nil
	}
	// userName is unique case-insensitively in MI; a target that is not
	// strict gets the exact spelling, else the choice is the user's.
	ids := make([]string, 0, len(lr.Resources))
	for _, r := range lr.Resources {
		if scim.GetString(r, "userName") == arg {
			return r, nil
		}
		ids = append(ids, scim.GetString(r, "id"))
	}
	return nil, &cmdutil.InputError{
		Err:   fmt.Errorf("%d users have the userName %q: ids %s", len(ids), arg, strings.Join(ids, ", ")),
		Hints: []string{"pass the id instead: miscim users get ID"},
	}
}

// notAnID reports an answer to GET /Users/{arg} that means "no resource
// with that id": 404, or 400 from servers that reject an id of the wrong
// form (a user name where a number is expected).
func notAnID(err error) bool {
	var se *scim.Error
	return errors.As(err, &se) && (se.Status == 404 || se.Status == 400)
}

// userView is the flat, display-ready form of a user resource: every
// value a string, "-" where the target sent nothing.
type userView struct {
	ID, UserName, ExternalID, Active, GivenName, FamilyName, Email string
	MIUsername, UserType, AuthMethod, Source                       string
	Created, LastModified                                          string
}

// view flattens a user resource for display.
func view(u scim.Resource) userView {
	name, _ := get(u, "name").(map[string]any)
	meta, _ := get(u, "meta").(map[string]any)
	ext := extension(u)
	return userView{
		ID:           cell(scim.GetString(u, "id")),
		UserName:     cell(scim.GetString(u, "userName")),
		ExternalID:   cell(scim.GetString(u, "externalId")),
		Active:       activeText(u),
		GivenName:    cell(scim.GetString(name, "givenName")),
		FamilyName:   cell(scim.GetString(name, "familyName")),
		Email:        cell(email(u)),
		MIUsername:   cell(scim.GetString(ext, "miUsername")),
		UserType:     cell(scim.GetString(ext, "userType")),
		AuthMethod:   cell(scim.GetString(ext, "authMethod")),
		Source:       cell(scim.GetString(ext, "source")),
		Created:      cell(scim.GetString(meta, "created")),
		LastModified: cell(scim.GetString(meta, "lastModified")),
	}
}

// extension returns miscim's extension object, or nil when the target
// does not send it (a real MI may not).
func extension(u scim.Resource) map[string]any {
	ext, _ := get(u, scim.MiscimUserSchema).(map[string]any)
	return ext
}

// activeText reads active the lenient way the engine does ("True", "1"…);
// an absent active is shown as missing rather than guessed.
func activeText(u scim.Resource) string {
	v := get(u, "active")
	if v == nil {
		return missing
	}
	b, ok := scim.ParseBool(v)
	switch {
	case !ok:
		return fmt.Sprint(v)
	case b:
		return "enabled"
	}
	return "disabled"
}

// email picks the address MI keeps (DESIGN §3.1): the work one, else the
// primary one, else the first.
func email(u scim.Resource) string {
	list, _ := get(u, "emails").([]any)
	var primary, first string
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		v := scim.GetString(m, "value")
		if v == "" {
			continue
		}
		if strings.EqualFold(scim.GetString(m, "type"), "work") {
			return v
		}
		if b, _ := scim.ParseBool(get(m, "primary")); b && primary == "" {
			primary = v
		}
		if first == "" {
			first = v
		}
	}
	if primary != "" {
		return primary
	}
	return first
}

// get reads a member case-insensitively (RFC 7643 §2.1); nil obj is fine.
func get(obj map[string]any, key string) any {
	if obj == nil {
		return nil
	}
	v, _, _ := scim.Get(obj, key)
	return v
}

func cell(s string) string {
	if s == "" {
		return missing
	}
	return s
}
