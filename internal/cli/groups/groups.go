// Package groups implements `miscim groups list|get|members`: read-only
// inspection of the target's groups through SCIM, so that it works the same
// against the embedded engine, a `miscim serve` and a real Metric Insights.
// Groups are read with excludedAttributes=members, as Entra reads them;
// members are loaded only by `groups members`.
package groups

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

// noMembers is the projection of every group read except `members`: a
// group may have 250,000 members, and Entra never reads them either.
var noMembers = []string{"members"}

// maxSingleLookups is how many members without a display name are looked
// up one by one (GET /Users/{id}); beyond it one paged walk over /Users is
// cheaper than a request per member.
const maxSingleLookups = 50

// NewCmdGroups returns the groups command group.
func NewCmdGroups(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "groups <command>",
		Short: "Inspect the groups of the target and their members",
		Long: `Read the target's groups through SCIM, as Entra sees them: name, alias
(externalId, MI's Group Alias), description and members.

Groups are always read with excludedAttributes=members, the way Entra reads
them, so that listing never loads memberships; only "groups members" does.`,
		Example: `  miscim groups list
  miscim groups members Finance`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdGet(f, nil), NewCmdMembers(f, nil))
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

// NewCmdList returns `groups list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list [--filter SCIMFILTER] [--limit N]",
		Short: "List groups, without loading their members",
		Long: `List the target's groups with excludedAttributes=members, reading every
page unless --limit stops earlier: by cursor (RFC 9865) when the target
advertises cursors, else by startIndex, in pages of the target's maxResults
(100 when it states none). --filter is a SCIM filter the target evaluates;
a filter it rejects is an input error (exit 2).

Columns: NAME (displayName), ALIAS (externalId), DESCRIPTION, ID. Piped,
each group is one tab-separated line without header.

JSON and YAML output: an array of the SCIM group resources exactly as the
target returned them (without members).`,
		Example: `  miscim groups list
  miscim groups list --filter 'displayName sw "Fin"' -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if opts.Limit < 0 {
				return cmdutil.FlagErrorf("invalid --limit %d: use a positive number, or 0 for all groups", opts.Limit)
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
	cmd.Flags().StringVar(&opts.Filter, "filter", "", `SCIM filter evaluated by the target, e.g. 'displayName eq "Finance"'`)
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "stop after N groups (0: all)")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	groups := []scim.Resource{} // JSON: [] rather than null when none match
	p := client.ListParams{Filter: opts.Filter, ExcludedAttributes: noMembers}
	err := cmdutil.Collect(ctx, opts.Client, client.Groups, p, opts.Limit, func(r scim.Resource) {
		groups = append(groups, r)
	})
	if err != nil {
		return cmdutil.FilterError(err, opts.Filter)
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, groups); done {
		return err
	}
	if len(groups) == 0 {
		if opts.IO.IsStdoutTTY() {
			fmt.Fprintln(opts.IO.ErrOut, "no groups matched")
		}
		return nil
	}
	// One line per group, however many: the description is cut, the
	// alias left out before the name or id would have to give way.
	t := render.NewTable(
		render.Column{Header: "name"},
		render.Column{Header: "alias", Hide: 1},
		render.Column{Header: "description", Fit: render.Truncate},
		render.Column{Header: "id"},
	)
	for _, g := range groups {
		t.AddRow(cell(g, "displayName"), cell(g, "externalId"), cell(g, "description"), cell(g, "id"))
	}
	return t.Render(opts.IO)
}

// GetOptions are the inputs of getRun.
type GetOptions struct {
	IO     *iostreams.IOStreams
	Format render.Format
	Arg    string // id or displayName
	Client *client.Client
}

// NewCmdGet returns `groups get`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "get ID|NAME",
		Short: "Show one group, without its members",
		Long: `Show one group, found by id (GET /Groups/ID) or, when no group has that
id, by name (filter displayName eq "NAME"), always with
excludedAttributes=members; "miscim groups members" lists the members. No
such group is an input error (exit 2).

On a terminal: one "attribute: value" line per attribute; piped:
"attribute<TAB>value" lines. JSON and YAML output: the SCIM group resource
exactly as the target returned it (without members).`,
		Example: `  miscim groups get Finance
  miscim groups get 6c5bb468-14b2-4183-baf2-06d523e03bd3 -o json`,
		Args:              cmdutil.IDArg("the group's id or name (see `miscim groups list`)"),
		ValidArgsFunction: cmdutil.CompleteNames(f, client.Groups, "displayName"),
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
	g, err := find(ctx, opts.Client, opts.Arg, false)
	if err != nil {
		return err
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, g); done {
		return err
	}
	meta, _ := get(g, "meta").(map[string]any)
	return render.WriteFields(opts.IO, []render.Field{
		{Key: "id", Value: cell(g, "id")},
		{Key: "displayName", Value: cell(g, "displayName")},
		{Key: "externalId", Value: cell(g, "externalId")},
		{Key: "description", Value: cell(g, "description")},
		{Key: "meta.created", Value: cell(meta, "created")},
		{Key: "meta.lastModified", Value: cell(meta, "lastModified")},
	})
}

// find returns the group whose id is arg or, failing that, whose
// displayName is arg; with members only when withMembers is set. Not found
// is an *cmdutil.InputError.
func find(ctx context.Context, c *client.Client, arg string, withMembers bool) (scim.Resource, error) {
	var p client.ListParams
	if !withMembers {
		p.ExcludedAttributes = noMembers
	}
	g, err := c.Get(ctx, client.Groups, arg, p)
	if err == nil {
		return g, nil
	}
	if !notAnID(err) {
		return nil, err
	}
	// The name lookup never loads members: they are read below, by id,
	// for the one group found.
	lr, err := c.List(ctx, client.Groups, client.ListParams{
		Filter:             "displayName eq " + scim.QuoteString(arg),
		ExcludedAttributes: noMembers,
	})
	if err != nil {
		return nil, err
	}
	var found scim.Resource
	switch len(lr.Resources) {
	case 0:
		return nil, &cmdutil.InputError{
			Err:   fmt.Errorf("no group has the id or name %q", arg),
			Hints: []string{"run `miscim groups list` to see the groups of the target"},
		}
	case 1:
		found = lr.Resources[0]
	default:
		// displayName is unique case-insensitively in MI; a target that
		// is not strict gets the exact spelling, else the user chooses.
		var ids []string
		for _, r := range lr.Resources {
			if scim.GetString(r, "displayName") == arg {
				found = r
				break
			}
			ids = append(ids, scim.GetString(r, "id"))
		}
		if found == nil {
			return nil, &cmdutil.InputError{
				Err:   fmt.Errorf("%d groups have the name %q: ids %s", len(lr.Resources), arg, strings.Join(ids, ", ")),
				Hints: []string{"pass the id instead"},
			}
		}
	}
	if !withMembers {
		return found, nil
	}
	return c.Get(ctx, client.Groups, scim.GetString(found, "id"), client.ListParams{})
}

// notAnID reports an answer to GET /Groups/{arg} that means "no resource
// with that id": 404, or 400 from servers that reject an id of the wrong
// form.
func notAnID(err error) bool {
	var se *scim.Error
	return errors.As(err, &se) && (se.Status == 404 || se.Status == 400)
}

// MembersOptions are the inputs of membersRun.
type MembersOptions struct {
	IO     *iostreams.IOStreams
	Format render.Format
	Arg    string // id or displayName
	Client *client.Client
}

// NewCmdMembers returns `groups members`.
func NewCmdMembers(f *cmdutil.Factory, runF func(context.Context, *MembersOptions) error) *cobra.Command {
	opts := &MembersOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "members ID|NAME",
		Short: "List the members of one group",
		Long: `List the members of one group, found by id or name as "groups get" finds
it, read with GET /Groups/ID including members.

Columns: USERNAME, ID. USERNAME is the member's display as the target
returned it; a target that sends no display (a member is only a user id in
SCIM) has each such member looked up in /Users, and a member that is no
user shows "-". Piped, each member is one tab-separated line.

JSON and YAML output: an array of the member objects exactly as the target
returned them ({"value","display",...}; value is the user id).`,
		Example: `  miscim groups members Finance
  miscim groups members Finance | cut -f1`,
		Args:              cmdutil.IDArg("the group's id or name (see `miscim groups list`)"),
		ValidArgsFunction: cmdutil.CompleteNames(f, client.Groups, "displayName"),
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
				return membersRun(cmd.Context(), opts)
			})
		},
	}
}

func membersRun(ctx context.Context, opts *MembersOptions) error {
	g, err := find(ctx, opts.Client, opts.Arg, true)
	if err != nil {
		return err
	}
	members := []map[string]any{} // JSON: [] rather than null
	list, _ := get(g, "members").([]any)
	for _, m := range list {
		if obj, ok := m.(map[string]any); ok {
			members = append(members, obj)
		}
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, members); done {
		return err
	}
	if len(members) == 0 {
		if opts.IO.IsStdoutTTY() {
			fmt.Fprintf(opts.IO.ErrOut, "group %s has no members\n", scim.GetString(g, "displayName"))
		}
		return nil
	}
	names, err := memberNames(ctx, opts.Client, members)
	if err != nil {
		return err
	}
	t := render.NewTable(render.Column{Header: "username"}, render.Column{Header: "id"})
	for _, m := range members {
		id := scim.GetString(m, "value")
		name := scim.GetString(m, "display")
		if name == "" {
			name = names[id]
		}
		t.AddRow(orMissing(name), orMissing(id))
	}
	return t.Render(opts.IO)
}

// memberNames finds the userName of each member the target sent without
// a display. A few are read one by one; many in one paged walk over
// /Users, which costs far fewer requests than one per member. A member
// that is not a user (404) stays unnamed; other failures are returned.
func memberNames(ctx context.Context, c *client.Client, members []map[string]any) (map[string]string, error) {
	want := map[string]bool{}
	for _, m := range members {
		if id := scim.GetString(m, "value"); id != "" && scim.GetString(m, "display") == "" {
			want[id] = true
		}
	}
	names := map[string]string{}
	if len(want) == 0 {
		return names, nil
	}
	p := client.ListParams{Attributes: []string{"userName"}}
	if len(want) <= maxSingleLookups {
		for id := range want {
			u, err := c.Get(ctx, client.Users, id, p)
			if notAnID(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			names[id] = scim.GetString(u, "userName")
		}
		return names, nil
	}
	err := cmdutil.Collect(ctx, c, client.Users, p, 0, func(u scim.Resource) {
		if id := scim.GetString(u, "id"); want[id] {
			names[id] = scim.GetString(u, "userName")
		}
	})
	return names, err
}

// get reads a member case-insensitively (RFC 7643 §2.1); nil obj is fine.
func get(obj map[string]any, key string) any {
	if obj == nil {
		return nil
	}
	v, _, _ := scim.Get(obj, key)
	return v
}

// cell is a string member for display, "-" when absent.
func cell(obj map[string]any, key string) string { return orMissing(scim.GetString(obj, key)) }

func orMissing(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
