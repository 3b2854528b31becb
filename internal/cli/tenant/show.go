package tenant

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/entra/mapping"
	entratenant "github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// ShowOptions are the inputs of showRun.
type ShowOptions struct {
	IO     *iostreams.IOStreams
	Format render.Format
	cmdutil.TenantFlags
	// Users and Groups list the objects instead of the counts.
	Users, Groups bool
	// Explain names one object (objectId, UPN or group name) to show
	// mapped, with where each value comes from.
	Explain string
	Now     func() time.Time
}

// NewCmdShow returns `tenant show`.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IO, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "show --tenant PATH [--mapping F] [--scope assigned|all] [--users] [--groups] [--explain ID|UPN|GROUP]",
		Short: "Show a tenant export as miscim reads it: counts, users, groups",
		Long: `Show what miscim read from a tenant export: the counts of users, groups,
memberships and assignments, and how many of them are assigned and in
scope (with --scope and the mapping's scoping filters), soft-deleted or
disabled. --users lists the users instead, --groups the groups (both:
users, then groups).

Users: USER PRINCIPAL NAME, DISPLAY NAME, MAIL, ENABLED (True, False, or ?
when the export left accountEnabled out, which reads as enabled), SCOPE
(in scope, or why not: not-assigned, scoping-filter, soft-deleted,
disabled), OBJECT ID. Groups: DISPLAY NAME, MEMBERS (direct: users,
nested groups, others; "20?" when possibly truncated by $expand=members),
SCOPE, DESCRIPTION, OBJECT ID. On a terminal too narrow for them all,
free text is cut and the last columns left out (named on stderr).

--explain ID|UPN|GROUP shows one object as Entra would provision it: its
scope and why (assignments, scoping filters, soft delete, accountEnabled),
IsSoftDeleted, the matching values in precedence order, then one row per
mapped attribute (TARGET, SOURCE, VALUE, FLOW: always, on-create,
if-target-empty or none, and a NOTE on why nothing flows or when), and a
group's members left out with why. For an expression's call tree, use
miscim expr --tenant PATH --user ID --explain.

-o json gives {"tenant","format","mapping","scope","counts"} and, with
--users or --groups, "users" or "groups": every object with its
attributes as read, its scope and its source (file and line); with
--explain the object: {"kind","objectId","name","source","scope","values",
"matching","resource","members","skippedMembers"}; see docs/tenant.md.
Exit codes: 0, or 2 when the tenant or mapping cannot be read or
--explain names no object.`,
		Example: `  miscim tenant show --tenant docs/examples/tenant/csv
  miscim tenant show --tenant export/ --users --scope all
  miscim tenant show --tenant tenant.yaml --groups -o json
  miscim tenant show --tenant export/ --explain diego.walters@contoso.com`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if err := opts.TenantFlags.Check(); err != nil {
				return err
			}
			if opts.Explain != "" && (opts.Users || opts.Groups) {
				return cmdutil.FlagErrorf("--explain shows one object; leave out --users and --groups")
			}
			if runF != nil {
				return runF(opts)
			}
			return showRun(opts)
		},
	}
	opts.TenantFlags.Register(cmd)
	cmd.Flags().BoolVar(&opts.Users, "users", false, "list the users")
	cmd.Flags().BoolVar(&opts.Groups, "groups", false, "list the groups")
	cmd.Flags().StringVar(&opts.Explain, "explain", "", "show one user or group mapped, with where each value comes from (objectId, UPN or group name)")
	_ = cmd.RegisterFlagCompletionFunc("explain", cobra.NoFileCompletions)
	return cmd
}

// counts are what tenant show sums up.
type counts struct {
	Users       userCounts  `json:"users"`
	Groups      groupCounts `json:"groups"`
	Memberships kindCounts  `json:"memberships"`
	Assignments kindCounts  `json:"assignments"`
	Findings    int         `json:"findings"`
}

// objectCounts are what users and groups are both counted by.
type objectCounts struct {
	Total       int `json:"total"`
	Assigned    int `json:"assigned"`
	InScope     int `json:"inScope"`
	SoftDeleted int `json:"softDeleted"`
}

func (c *objectCounts) add(s mapping.Scope, softDeleted bool) {
	c.Total++
	if s.Assigned {
		c.Assigned++
	}
	if s.InScope {
		c.InScope++
	}
	if softDeleted {
		c.SoftDeleted++
	}
}

type userCounts struct {
	objectCounts
	Disabled              int `json:"disabled"`
	AccountEnabledUnknown int `json:"accountEnabledUnknown"`
}

type groupCounts struct {
	objectCounts
	PossiblyTruncated int `json:"possiblyTruncated"`
}

// kindCounts count memberships or assignments by what they point at.
type kindCounts struct {
	Total  int `json:"total"`
	Users  int `json:"users"`
	Groups int `json:"groups"`
	Other  int `json:"other"`
}

func (c *kindCounts) add(user, group bool) {
	c.Total++
	switch {
	case user:
		c.Users++
	case group:
		c.Groups++
	default:
		c.Other++
	}
}

func countOf(mp *mapping.Mapper) counts {
	t := mp.Tenant()
	var c counts
	for u := range t.Users() {
		c.Users.add(mp.UserScope(u), u.SoftDeleted())
		switch u.AccountEnabled() {
		case entratenant.False:
			c.Users.Disabled++
		case entratenant.Unknown:
			c.Users.AccountEnabledUnknown++
		}
	}
	for g := range t.Groups() {
		c.Groups.add(mp.GroupScope(g), g.SoftDeleted())
		if g.PossiblyTruncated() {
			c.Groups.PossiblyTruncated++
		}
		for _, m := range g.Members() {
			c.Memberships.add(m.Kind == entratenant.MemberUser, m.Kind == entratenant.MemberGroup)
		}
	}
	for a := range t.Assignments() {
		c.Assignments.add(a.PrincipalType == entratenant.PrincipalUser, a.PrincipalType == entratenant.PrincipalGroup)
	}
	c.Findings = len(t.Findings())
	return c
}

// showJSON is the JSON/YAML output (docs/tenant.md, "tenant show").
type showJSON struct {
	Tenant  string      `json:"tenant"`
	Format  string      `json:"format"`
	Mapping string      `json:"mapping"`
	Scope   string      `json:"scope"`
	Counts  counts      `json:"counts"`
	Users   []userJSON  `json:"users,omitempty"`
	Groups  []groupJSON `json:"groups,omitempty"`
}

type scopeJSON struct {
	InScope    bool     `json:"inScope"`
	Assigned   bool     `json:"assigned"`
	OutOfScope []string `json:"outOfScope,omitempty"`
}

type userJSON struct {
	ObjectID          string         `json:"objectId"`
	UserPrincipalName string         `json:"userPrincipalName"`
	DisplayName       string         `json:"displayName,omitempty"`
	Mail              string         `json:"mail,omitempty"`
	AccountEnabled    *bool          `json:"accountEnabled"`
	SoftDeleted       bool           `json:"softDeleted"`
	DeletedDateTime   string         `json:"deletedDateTime,omitempty"`
	Scope             scopeJSON      `json:"scope"`
	Attributes        map[string]any `json:"attributes"`
	Source            string         `json:"source"`
}

type memberJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

type groupJSON struct {
	ObjectID          string         `json:"objectId"`
	DisplayName       string         `json:"displayName"`
	Description       string         `json:"description,omitempty"`
	SoftDeleted       bool           `json:"softDeleted"`
	PossiblyTruncated bool           `json:"possiblyTruncated"`
	Members           []memberJSON   `json:"members"`
	Scope             scopeJSON      `json:"scope"`
	Attributes        map[string]any `json:"attributes"`
	Source            string         `json:"source"`
}

func scopeJSONOf(s mapping.Scope) scopeJSON {
	return scopeJSON{InScope: s.InScope, Assigned: s.Assigned, OutOfScope: s.Causes.Codes()}
}

type attrReader interface {
	AttrNames() []string
	AttrValues(name string) ([]string, bool, bool)
}

func attributesOf(o attrReader) map[string]any {
	out := map[string]any{}
	for _, n := range o.AttrNames() {
		vals, multi, _ := o.AttrValues(n)
		if multi {
			out[n] = vals
		} else if len(vals) > 0 {
			out[n] = vals[0]
		}
	}
	return out
}

func userJSONOf(mp *mapping.Mapper, u *entratenant.User) userJSON {
	j := userJSON{ObjectID: u.ObjectID(), UserPrincipalName: u.UserPrincipalName(), DisplayName: u.DisplayName(), Mail: u.Mail(),
		SoftDeleted: u.SoftDeleted(), Scope: scopeJSONOf(mp.UserScope(u)), Attributes: attributesOf(u), Source: u.Source().String()}
	if b := u.AccountEnabled(); b != entratenant.Unknown {
		v := b == entratenant.True
		j.AccountEnabled = &v
	}
	if t := u.DeletedDateTime(); !t.IsZero() {
		j.DeletedDateTime = t.UTC().Format(time.RFC3339)
	}
	return j
}

func groupJSONOf(mp *mapping.Mapper, g *entratenant.Group) groupJSON {
	j := groupJSON{ObjectID: g.ObjectID(), DisplayName: g.DisplayName(), Description: g.Description(), SoftDeleted: g.SoftDeleted(),
		PossiblyTruncated: g.PossiblyTruncated(), Members: []memberJSON{}, Scope: scopeJSONOf(mp.GroupScope(g)),
		Attributes: attributesOf(g), Source: g.Source().String()}
	for _, m := range g.Members() {
		j.Members = append(j.Members, memberJSON{Kind: m.Kind.String(), ID: m.ID})
	}
	return j
}

func showRun(opts *ShowOptions) error {
	mp, err := opts.TenantFlags.Load(opts.Now)
	if err != nil {
		return err
	}
	t := mp.Tenant()
	if opts.Explain != "" {
		d, err := explainOf(mp, opts.Explain)
		if err != nil {
			return err
		}
		if done, err := render.Structured(opts.IO.Out, opts.Format, explainJSONOf(d)); done {
			return err
		}
		return renderExplain(opts.IO, mp, d)
	}
	c := countOf(mp)
	if opts.Format != render.FormatTable {
		out := showJSON{Tenant: t.Path(), Format: string(t.Format()), Mapping: mp.Mapping().Name(), Scope: string(mp.Mode()), Counts: c}
		if opts.Users {
			out.Users = []userJSON{}
			for u := range t.Users() {
				out.Users = append(out.Users, userJSONOf(mp, u))
			}
		}
		if opts.Groups {
			out.Groups = []groupJSON{}
			for g := range t.Groups() {
				out.Groups = append(out.Groups, groupJSONOf(mp, g))
			}
		}
		_, err := render.Structured(opts.IO.Out, opts.Format, out)
		return err
	}
	if !opts.Users && !opts.Groups {
		return renderCounts(opts.IO, mp, c)
	}
	if opts.Users {
		if err := renderUsers(opts.IO, mp); err != nil {
			return err
		}
	}
	if opts.Groups {
		if opts.Users && opts.IO.IsStdoutTTY() {
			fmt.Fprintln(opts.IO.Out)
		}
		if err := renderGroups(opts.IO, mp); err != nil {
			return err
		}
	}
	return nil
}

func renderCounts(ios *iostreams.IOStreams, mp *mapping.Mapper, c counts) error {
	t := mp.Tenant()
	n := strconv.Itoa
	fields := []render.Field{
		{Key: "tenant", Value: fmt.Sprintf("%s (%s)", t.Path(), t.Format())},
		{Key: "mapping", Value: mp.Mapping().Name()},
		{Key: "scope", Value: map[mapping.ScopeMode]string{mapping.ScopeAssigned: "assigned users and groups", mapping.ScopeAll: "all users and groups"}[mp.Mode()]},
		{Key: "users", Value: n(c.Users.Total)},
		{Key: "users assigned", Value: n(c.Users.Assigned)},
		{Key: "users in scope", Value: n(c.Users.InScope)},
		{Key: "users soft-deleted", Value: n(c.Users.SoftDeleted)},
		{Key: "users disabled", Value: n(c.Users.Disabled)},
	}
	if c.Users.AccountEnabledUnknown > 0 {
		fields = append(fields, render.Field{Key: "users accountEnabled unknown", Value: n(c.Users.AccountEnabledUnknown) + " (read as enabled)"})
	}
	fields = append(fields,
		render.Field{Key: "groups", Value: n(c.Groups.Total)},
		render.Field{Key: "groups assigned", Value: n(c.Groups.Assigned)},
		render.Field{Key: "groups in scope", Value: n(c.Groups.InScope)},
		render.Field{Key: "groups soft-deleted", Value: n(c.Groups.SoftDeleted)},
		render.Field{Key: "groups possibly truncated", Value: n(c.Groups.PossiblyTruncated)},
		render.Field{Key: "memberships", Value: fmt.Sprintf("%d (%d users, %d nested groups, %d other)", c.Memberships.Total, c.Memberships.Users, c.Memberships.Groups, c.Memberships.Other)},
		render.Field{Key: "assignments", Value: fmt.Sprintf("%d (%d users, %d groups, %d other)", c.Assignments.Total, c.Assignments.Users, c.Assignments.Groups, c.Assignments.Other)},
		render.Field{Key: "findings", Value: findingsText(c.Findings)},
	)
	return render.WriteFields(ios, fields)
}

func findingsText(n int) string {
	if n == 0 {
		return "0"
	}
	return strconv.Itoa(n) + " (miscim tenant check lists them)"
}

func scopeText(s mapping.Scope) string {
	if s.InScope {
		return "in scope"
	}
	return strings.Join(s.Causes.Codes(), ", ")
}

func enabledText(b entratenant.Bool) string {
	if b == entratenant.Unknown {
		return "?"
	}
	return b.String()
}

func renderUsers(ios *iostreams.IOStreams, mp *mapping.Mapper) error {
	tbl := render.NewTable(
		render.Column{Header: "user principal name"},
		render.Column{Header: "display name", Fit: render.Truncate, Hide: 4},
		render.Column{Header: "mail", Fit: render.Truncate, Hide: 3},
		render.Column{Header: "enabled", Hide: 2},
		render.Column{Header: "scope"},
		render.Column{Header: "object id", Hide: 1},
	)
	for u := range mp.Tenant().Users() {
		tbl.AddRow(u.UserPrincipalName(), u.DisplayName(), u.Mail(), enabledText(u.AccountEnabled()), scopeText(mp.UserScope(u)), u.ObjectID())
	}
	return tbl.Render(ios)
}

func membersText(g *entratenant.Group) string {
	var users, groups, other int
	for _, m := range g.Members() {
		switch m.Kind {
		case entratenant.MemberUser:
			users++
		case entratenant.MemberGroup:
			groups++
		default:
			other++
		}
	}
	s := strconv.Itoa(users)
	if g.PossiblyTruncated() {
		s += "?"
	}
	if groups > 0 {
		s += fmt.Sprintf(" +%d nested", groups)
	}
	if other > 0 {
		s += fmt.Sprintf(" +%d other", other)
	}
	return s
}

func renderGroups(ios *iostreams.IOStreams, mp *mapping.Mapper) error {
	tbl := render.NewTable(
		render.Column{Header: "display name"},
		render.Column{Header: "members"},
		render.Column{Header: "scope"},
		render.Column{Header: "description", Fit: render.Truncate, Hide: 2},
		render.Column{Header: "object id", Hide: 1},
	)
	for g := range mp.Tenant().Groups() {
		tbl.AddRow(g.DisplayName(), membersText(g), scopeText(mp.GroupScope(g)), g.Description(), g.ObjectID())
	}
	return tbl.Render(ios)
}
