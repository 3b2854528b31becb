// Package diff implements `miscim diff`: what the tenant should produce in
// the target (the tenant export mapped and scoped as Entra does,
// internal/entra/mapping) against what the target holds (read through
// SCIM, internal/diff), or one target against another (--against); a
// grouped diff with a summary, -o json, one object explained in full
// (--identity), and exit 3 when anything differs.
package diff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	gosync "sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/cli/simulate"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/diff"
	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	entrasync "github.com/miscim/miscim/internal/entra/sync"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/store/postgres"
	"github.com/miscim/miscim/internal/target"
)

// DefaultLimit is how many entries of each section a terminal shows.
const DefaultLimit = 100

// Options are the inputs of diffRun.
type Options struct {
	IO     *iostreams.IOStreams
	Format render.Format
	cmdutil.TenantFlags
	// Only is --only: users, groups or members ("" all).
	Only string
	// Identity is --identity: the one object to explain.
	Identity string
	// Against is --against: the reference target (URL, profile or
	// database); AgainstTokenFile its token.
	Against          string
	AgainstTokenFile string
	IgnoreUnmanaged  bool
	// Limit caps each section on a terminal (0: everything).
	Limit int
	// Plan is --plan: the requests the next simulate cycle would send.
	Plan bool
	// NoState is --no-state: the simulator's connector space is not read.
	NoState bool
	// Sim holds the simulator's settings that locate its state file and
	// shape what a cycle sends (--state, --dialect, --member-batch,
	// --remove-members-on-soft-delete); nil: no connector space.
	Sim *simulate.Options

	// Target opens the target; the run closes it. TargetName names it.
	Target     func(ctx context.Context) (*target.Target, error)
	TargetName func() string
	// OpenAgainst opens the --against target with its resolved settings.
	OpenAgainst func(ctx context.Context, r config.Resolved) (*target.Target, error)
	// Resolve resolves --against's settings.
	Resolve func(spec, tokenFile string) (config.Resolved, error)
	Now     func() time.Time

	plan *simulate.Plan // the plan made with --plan
}

// NewCmdDiff returns the diff command; runF replaces the run function in
// tests.
func NewCmdDiff(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Target: f.Target, Now: f.Now, Limit: DefaultLimit}
	opts.Sim = simulate.PlanOptions(config.Resolved{}, f.Env.Getenv, f.Now)
	opts.TargetName = func() string {
		r, err := f.Config()
		if err != nil || r.URL == "" {
			return "embedded"
		}
		return strings.TrimSpace(r.URL)
	}
	opts.Resolve = func(spec, tokenFile string) (config.Resolved, error) {
		base, err := f.Config()
		if err != nil {
			return base, err
		}
		return config.ResolveOther(spec, tokenFile, base, f.Env)
	}
	if f.TargetWith != nil {
		opts.OpenAgainst = func(ctx context.Context, r config.Resolved) (*target.Target, error) {
			return f.TargetWith(ctx, func(c *target.Config) {
				c.URL, c.Token, c.DBPath, c.Insecure, c.CAFile = r.URL, r.Token, r.DB, r.Insecure, r.CAFile
			})
		}
	}
	cmd := &cobra.Command{
		Use:   "diff --tenant PATH [--mapping F] [--scope assigned|all] [--only users|groups|members] [--identity X] | --against URL|PROFILE|DB",
		Short: "Compare what the tenant should produce with what the target holds",
		Long: `Compare what Entra's provisioning would make of a tenant export — mapped and
scoped as "simulate" maps it (--mapping, --scope; docs/mapping.md) — with
the users, groups and memberships the target holds, read through SCIM with
paging. Answers "why is this user not in Metric Insights?" and "what will
the next cycle do?".

Objects are paired by the mapping's matching attributes, then externalId:
users by userName (case-insensitively), groups by displayName. A user
Metric Insights disabled by soft delete is found by its userName as SCIM
shows it (the scim-deleted-<id>- prefix of its MI username is no rename).

Changes, each with what the next cycle does:
  missing      in scope, not in the target: the next cycle creates it
  changed      attributes differ: target value against desired value, only
               for what the mapping keeps in step on update, compared as
               Entra compares (booleans by meaning: "1", "True" and true
               are one value; Metric Insights' one email)
  outOfScope   out of scope (unassigned, filtered out, disabled,
               soft-deleted) and still active in the target: disabled; a
               group: deleted
  removed      its tenant object is gone: deleted
  unmanaged    in the target, never in the tenant (--ignore-unmanaged
               leaves these out)
  duplicate    several objects on one side pair with one on the other
  memberAdded, memberRemoved  memberships to add and to remove

--only users|groups|members reports one part. --identity X explains one
object in full: both sides, how they pair, every mapped attribute with
where its value comes from and how it compares.

When simulate keeps a state file for the target (--state chooses it,
--no-state ignores it), its connector space is read from a copy: objects
pair by their link first, a linked object the target lost is reported as
Entra's InvalidAnchor (never re-created), and only linked objects whose
tenant object is gone are deleted.

--plan also prints the requests the next simulate cycle would send
(method, path, body), exactly as simulate --dry-run plans them, and in
-o json each change's own requests (--dialect, --member-batch and
--remove-members-on-soft-delete as simulate's).

--against URL|PROFILE|DB compares the target with a second one (a SCIM URL
with --against-token-file, a profile of the config file, or an embedded
database) with the same pairing and report; the second plays the tenant's
part (missing: only there; extra: only in the target).

Output: on a terminal a grouped diff (each section at most --limit
entries), then a summary table; piped, one tab-separated record per change
and attribute (kind, object, action, identity, sourceId, targetId,
attribute, target, desired, reason); -o json lists every change with the
stable fields of docs/diff.md. Exit 0 when identical, 3 when anything
differs, 2 for a tenant or mapping that cannot be read (the message names
the file and position).`,
		Example: `  miscim diff --tenant export/
  miscim diff --tenant export/ --only members -o json
  miscim diff --tenant export/ --identity adele.vance@contoso.com
  miscim diff --tenant export/ --plan
  miscim --url https://mi.example.com/scim/v2 --token-file mi.token diff --tenant export/ --ignore-unmanaged
  miscim diff --against https://mi.example.com/scim/v2 --against-token-file mi.token`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if cmd.Flags().Changed("dialect") {
				opts.Sim.SetDialect(opts.Sim.Dialect)
			}
			if err := opts.check(); err != nil {
				return err
			}
			if opts.Sim.Config, err = f.Config(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	opts.TenantFlags.Register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.Only, "only", "", "report one part: users, groups or members")
	fl.StringVar(&opts.Identity, "identity", "", "explain one object in full: a UPN, userName, displayName, objectId or target id")
	fl.StringVar(&opts.Against, "against", "", "compare the target with this one instead of a tenant: a SCIM base URL, a profile or an embedded database")
	fl.StringVar(&opts.AgainstTokenFile, "against-token-file", "", "read the bearer token of --against's URL from `FILE`")
	fl.BoolVar(&opts.IgnoreUnmanaged, "ignore-unmanaged", false, "leave out the target objects that were never in the tenant (local admins)")
	fl.IntVar(&opts.Limit, "limit", DefaultLimit, "entries of each section a terminal shows (0: all); piped and JSON output list everything")
	fl.BoolVar(&opts.Plan, "plan", false, "also print the requests the next simulate cycle would send, as simulate --dry-run plans them")
	fl.StringVar(&opts.Sim.State, "state", "", "the simulator's state file (default: where simulate keeps it for the target)")
	fl.BoolVar(&opts.NoState, "no-state", false, "do not read the simulator's connector space: pair by the matching attributes alone")
	fl.StringVar(&opts.Sim.Dialect, "dialect", opts.Sim.Dialect, "with --plan: the PATCH dialect, legacy or aadOptscim062020 (as simulate's)")
	fl.IntVar(&opts.Sim.MemberBatch, "member-batch", opts.Sim.MemberBatch, "with --plan: members per membership PATCH (as simulate's)")
	fl.BoolVar(&opts.Sim.RemoveMembersOnSoftDelete, "remove-members-on-soft-delete", false, "with --plan: remove a soft-deleted user from its groups (as simulate's)")
	cmdutil.EnumFlag(cmd, "only", diff.Onlys)
	cmdutil.EnumFlag(cmd, "dialect", entrasync.Dialects)
	_ = cmd.MarkFlagFilename("state", "db")
	_ = cmd.MarkFlagFilename("against-token-file")
	return cmd
}

func (o *Options) check() error {
	if o.Only != "" {
		if err := cmdutil.CheckEnum("only", o.Only, diff.Onlys); err != nil {
			return err
		}
		o.Only = strings.ToLower(o.Only)
	}
	if o.Limit < 0 {
		return cmdutil.FlagErrorf("invalid --limit %d: give a number of entries, or 0 for all", o.Limit)
	}
	if o.Sim != nil {
		if _, err := entrasync.ParseDialect(o.Sim.Dialect); err != nil {
			return cmdutil.FlagErrorf("invalid --dialect %q: use legacy or aadOptscim062020", o.Sim.Dialect)
		}
		if o.Sim.MemberBatch < 1 || o.Sim.MemberBatch > 1000 {
			return cmdutil.FlagErrorf("invalid --member-batch %d: use 1 (Entra's observed behaviour) to 1000", o.Sim.MemberBatch)
		}
	}
	if o.Plan {
		switch {
		case o.Against != "":
			return cmdutil.FlagErrorf("--plan plans the next simulate cycle of a tenant, and --against compares two targets: leave out one")
		case o.NoState:
			return cmdutil.FlagErrorf("--plan plans from the simulator's connector space: leave out --no-state")
		case o.Identity != "":
			return cmdutil.FlagErrorf("--plan lists the whole cycle's requests: leave out --identity (simulate --on-demand %s --dry-run plans one object)", o.Identity)
		}
	}
	if o.Against != "" {
		if o.Tenant != "" {
			return cmdutil.FlagErrorf("--against compares two targets and reads no tenant: leave out --tenant, or --against")
		}
		if o.Scope != string(mapping.ScopeAssigned) && o.Scope != "" {
			return cmdutil.FlagErrorf("--scope applies to a tenant, and --against reads none")
		}
		return nil
	}
	if o.AgainstTokenFile != "" {
		return cmdutil.FlagErrorf("--against-token-file is the token of --against's URL: give --against too")
	}
	if err := o.TenantFlags.Check(); err != nil {
		return err
	}
	if o.Tenant == "" {
		return cmdutil.FlagErrorf("--tenant is required: the tenant export to compare the target with (docs/tenant.md), or --against a second target")
	}
	return nil
}

// readOptions are what the target is read for.
func (o *Options) readOptions(m *mapping.Mapping, keep func(*diff.Object) bool) diff.ReadOptions {
	only := diff.Only(o.Only)
	ro := diff.ReadOptions{Mapping: m, Users: true, Groups: only != diff.OnlyUsers, Keep: keep}
	// Memberships need both sides' users and groups; --only groups does
	// not read members.
	ro.Members = ro.Groups && only != diff.OnlyGroups
	if o.Identity != "" {
		ro.Users, ro.Groups, ro.Members = true, true, true
	}
	return ro
}

func diffRun(ctx context.Context, opts *Options) error {
	if opts.Against != "" {
		return againstRun(ctx, opts)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	m, err := cmdutil.LoadMapping(opts.Mapping)
	if err != nil {
		return err
	}
	// The tenant is read while the target is: both take a while on a
	// large tenant. A tenant that cannot be read is reported first. To
	// explain one object, the tenant is read first: it says which
	// resources to keep whole.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var tn *tenant.Tenant
	var snap *diff.Snapshot
	if opts.Identity != "" {
		if tn, err = cmdutil.LoadTenant(opts.Tenant); err != nil {
			return err
		}
		if snap, err = opts.read(ctx, m, diff.Keep(opts.Identity, tn)); err != nil {
			return err
		}
	} else {
		var tenantErr, readErr error
		var wg gosync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tn, tenantErr = cmdutil.LoadTenant(opts.Tenant); tenantErr != nil {
				cancel()
			}
		}()
		snap, readErr = opts.read(ctx, m, nil)
		wg.Wait()
		if tenantErr != nil {
			return tenantErr
		}
		if readErr != nil {
			return readErr
		}
	}
	mp, err := mapping.New(tn, m, mapping.Options{Scope: mapping.ScopeMode(opts.Scope), Env: &expr.Env{Now: now}})
	if err != nil {
		return cmdutil.FlagErrorf("%v", err)
	}
	links, plan, err := opts.connectorSpace(ctx, mp)
	if err != nil {
		return err
	}
	rep := diff.Compare(mp, snap, diff.Options{Only: diff.Only(opts.Only), IgnoreUnmanaged: opts.IgnoreUnmanaged, Links: links})
	head := header{Tenant: tn.Path(), Format: string(tn.Format()), Mapping: m.Name(), Scope: string(mp.Mode()), Target: snap.Name, Only: opts.Only}
	if links != nil {
		head.State = links.State
	}
	opts.plan = plan
	return opts.finish(rep, head)
}

// connectorSpace reads what the simulator remembers of the target, when
// it has a state file for it (and --no-state is not given), and plans
// the next cycle with --plan, exactly as simulate --dry-run does
// (internal/cli/simulate.PlanNext).
func (o *Options) connectorSpace(ctx context.Context, mp *mapping.Mapper) (*diff.Links, *simulate.Plan, error) {
	if o.Sim == nil || o.NoState {
		return nil, nil, nil
	}
	var users, groups map[string]*entrasync.Entry
	var path string
	var plan *simulate.Plan
	if o.Plan {
		p, err := simulate.PlanNext(ctx, o.Sim, mp)
		if err != nil {
			return nil, nil, err
		}
		plan, path, users, groups = p, p.State, p.Users, p.Groups
	} else {
		var err error
		if path, users, groups, err = simulate.ConnectorSpace(ctx, o.Sim); err != nil {
			return nil, nil, err
		}
	}
	if path == "" {
		return nil, plan, nil
	}
	links := &diff.Links{Users: map[string]string{}, Groups: map[string]string{}, State: path}
	for k, e := range users {
		if e.TargetID != "" {
			links.Users[k] = e.TargetID
		}
	}
	for k, e := range groups {
		if e.TargetID != "" {
			links.Groups[k] = e.TargetID
		}
	}
	return links, plan, nil
}

// read opens the target and reads it.
func (o *Options) read(ctx context.Context, m *mapping.Mapping, keep func(*diff.Object) bool) (*diff.Snapshot, error) {
	t, err := o.Target(ctx)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return diff.Read(ctx, t.Client, o.TargetName(), o.readOptions(m, keep))
}

func againstRun(ctx context.Context, opts *Options) error {
	m, err := cmdutil.LoadMapping(opts.Mapping)
	if err != nil {
		return err
	}
	r, err := opts.Resolve(opts.Against, opts.AgainstTokenFile)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.URL)
	if name == "" {
		name = r.DB
		if !postgres.IsURL(r.DB) {
			if _, err := os.Stat(r.DB); err != nil {
				return &cmdutil.InputError{Err: fmt.Errorf("--against %s: no embedded database there (%v)", opts.Against, errors.Unwrap(err)),
					Hints: []string{"give a SCIM base URL (https://…/scim/v2), a profile of the config file, or the path of a miscim database"}}
			}
		}
	}
	var keep func(*diff.Object) bool
	if opts.Identity != "" {
		keep = diff.Keep(opts.Identity, nil)
	}
	ro := opts.readOptions(m, keep)
	var ref *diff.Snapshot
	var refErr error
	var wg gosync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t, err := opts.OpenAgainst(ctx, r)
		if err != nil {
			refErr = err
			return
		}
		defer t.Close()
		ref, refErr = diff.Read(ctx, t.Client, name, ro)
	}()
	snap, err := opts.read(ctx, m, keep)
	wg.Wait()
	if err != nil {
		return err
	}
	if refErr != nil {
		return fmt.Errorf("--against %s: %w", name, refErr)
	}
	if snap.Name == name {
		snap.Name = "the target"
	}
	rep := diff.CompareTargets(m, snap, ref, diff.Options{Only: diff.Only(opts.Only)})
	head := header{Mapping: m.Name(), Target: snap.Name, Against: ref.Name, Only: opts.Only}
	return opts.finish(rep, head)
}

// finish renders the report, or the explanation, and sets the exit code.
func (o *Options) finish(rep *diff.Report, head header) error {
	if o.Identity != "" {
		e, err := rep.Explain(o.Identity)
		var le *diff.LookupError
		if errors.As(err, &le) {
			return &cmdutil.InputError{Err: err, Hints: []string{"give a UPN, userName, displayName, objectId or target id"}}
		}
		if err != nil {
			return err
		}
		if err := renderExplanation(o, e, head); err != nil {
			return err
		}
		if len(e.Changes) > 0 {
			return &cmdutil.ExitError{Code: 3}
		}
		return nil
	}
	if err := renderReport(o, rep, head); err != nil {
		return err
	}
	if !rep.Identical() {
		return &cmdutil.ExitError{Code: 3}
	}
	return nil
}
