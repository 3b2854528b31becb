// Package simulate implements `miscim simulate`: Entra's provisioning
// service run against the target — the cycle's probe, then every object
// of the tenant as internal/entra/sync decides it, with the provisioning
// logs — once, on demand for one object, or every interval with --watch.
// It renders the outcome (a live line per object and a progress bar on
// a terminal, then a summary; -o json; a JUnit report) with the exit
// codes of DESIGN §1.2: 0 all succeeded, 3 an object failed, was escrowed
// or quarantined, or deletes were staged; 4 and 5 when the probe cannot
// authenticate or reach the target; 2 for bad input.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/build"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/entra/simstate"
	entrasync "github.com/miscim/miscim/internal/entra/sync"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/store/postgres"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
)

// maxConcurrency bounds --concurrency.
const maxConcurrency = 64

// Options are the inputs of simulateRun.
type Options struct {
	IO     *iostreams.IOStreams
	Format render.Format
	cmdutil.TenantFlags

	Dialect         string
	dialectSet      bool
	State           string
	Restart         bool
	RestartFull     bool
	DryRun          bool
	OnDemand        string
	Watch           bool
	Interval        time.Duration
	Concurrency     int
	MemberBatch     int
	Rate            float64
	Retries         int
	DeleteThreshold int
	AllowDeletes    bool
	AllowWrites     bool
	Report          string
	LogFile         string
	HAR             string
	Sync            string

	// The policies where Entra's behaviour is open (docs/simulate.md).
	BooleanValues             string
	SkipOutOfScopeDeletions   string // "" the mapping's setting, "true", "false"
	SkipScope                 string
	RemoveMembersOnSoftDelete bool
	TombstoneRename           bool
	EscrowSchedule            string

	// Target opens the target (retries off: the simulator retries by its
	// own policy; har, when not nil, records every exchange); the run
	// closes it.
	Target func(ctx context.Context, sync sqlite.Sync, har *client.HARWriter) (*target.Target, error)
	Config config.Resolved
	Getenv func(string) string
	Now    func() time.Time
	// Wait sleeps between --watch cycles; nil is a timer.
	Wait func(ctx context.Context, d time.Duration) error
}

// NewCmdSimulate returns the simulate command; runF replaces the run
// function in tests.
func NewCmdSimulate(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Now: f.Now, Getenv: f.Env.Getenv}
	opts.Target = func(ctx context.Context, sync sqlite.Sync, har *client.HARWriter) (*target.Target, error) {
		return f.TargetWith(ctx, func(c *target.Config) {
			c.Retries = -1
			c.Sync = sync
			c.HAR = har
		})
	}
	cmd := &cobra.Command{
		Use:   "simulate --tenant PATH [--mapping F] [--scope assigned|all] [flags]",
		Short: "Run Entra's provisioning cycles against the target",
		Long: `Run what Microsoft Entra's provisioning service does to a Metric Insights
SCIM endpoint — the same requests, in the same order, with the same
decisions and the same provisioning logs — offline, in seconds, against
the embedded engine or any --url target.

The first run is an initial cycle: every user and group of the tenant is
evaluated. Later runs are incremental cycles: only the objects that
changed since the last synced snapshot are (the tenant is read again each
time). Every cycle starts with Entra's probe, GET /Users?filter=userName
eq "<random GUID>" (and the group probe when groups are provisioned); a
failing probe stops the cycle. Per object: import, scope, match (a filter
query on the matching attributes in precedence order: none found → POST,
one → link and PATCH what differs, or skip with RedundantExport; more →
DuplicateTargetEntries), a linked object read with GET by id and
compared; a 404 there is InvalidAnchor, escrowed, never re-created.
Unassigned, filtered out, disabled and soft-deleted users are disabled
through active (a soft-deleted user also gets its tombstone UPN); users
deleted from the tenant are DELETEd. Groups are created without members;
members are added by PATCH after the users exist, and removed only when
the tenant's membership changed; an unassigned or deleted group's members
are disabled, then the group is DELETEd.

The simulator keeps its own state as Entra does — the connector space
(links, last exported values and memberships), the job's clock and
watermark, escrows, quarantine, staged deletes — in a SQLite file: beside
the embedded database, or per --url under $XDG_STATE_HOME/miscim/simulate;
--state overrides. --restart clears it as "Restart provisioning" does
(links kept); --restart-full also drops the links, so that everything is
matched again.

Failures are handled as Entra does: a 429 or 503 is retried honouring
Retry-After, a read or delete also after a 5xx or no answer (--retries);
a POST or PATCH that may have been processed is not repeated. A failed
object is escrowed and retried on later cycles with back-off
(--escrow-schedule); many failures quarantine the job (5,000 failures,
more than 40%, 40,000, 60,000 with references). With --delete-threshold
N, a cycle that would disable or delete more than N objects stages them
(StagedDelete) and exits 3 until --allow-deletes.

Against a --url that is not a loopback address nothing is written unless
--allow-writes (or MISCIM_ALLOW_WRITES=1) is given: simulate runs as
--dry-run and says so. A dry run sends nothing and changes nothing: it
plans from the connector space (a linked object is assumed to hold what
was last exported, a new one to match nothing).

Output: on a terminal, a live line per object and a progress bar on
stderr; then a summary of the records by action and status, the requests
sent by method, the duration and the rate. -o json gives the summary
(docs/simulate.md). --on-demand prints the object's steps (import,
scope, match, action, export) as the portal shows them. --report writes
JUnit XML, one test case per object.

Exit codes: 0 every object succeeded, 3 an object failed, is in escrow or
the job is quarantined, or deletes were staged, 4 the probe was refused
(401/403), 5 the target cannot be reached, 2 bad input, 130 interrupted
(the objects in flight finish and are saved; the next run resumes).`,
		Example: `  # the sample tenant's initial cycle against the embedded engine, then an incremental one
  miscim simulate --tenant docs/examples/tenant/graph
  miscim simulate --tenant docs/examples/tenant/graph

  # a running miscim serve, in the SCIM-compliant PATCH dialect, JUnit for CI
  miscim --url http://127.0.0.1:8080/scim/v2 --token-file token simulate --tenant export/ \
      --dialect aadOptscim062020 --report simulate.xml

  # one user, with the portal's steps
  miscim simulate --tenant export/ --on-demand ann@contoso.com

  # what the next cycle would send to a staging Metric Insights, sending nothing
  miscim --url https://mi-staging.example.com/scim/v2 --token-file mi.token simulate --tenant export/ --dry-run

  # a cycle every 40 minutes until Ctrl-C
  miscim simulate --tenant export/ --watch`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			opts.dialectSet = cmd.Flags().Changed("dialect")
			if cmd.Flags().Changed("skip-out-of-scope-deletions") {
				v, _ := cmd.Flags().GetBool("skip-out-of-scope-deletions")
				opts.SkipOutOfScopeDeletions = fmt.Sprint(v)
			}
			if err := checkOptions(opts); err != nil {
				return err
			}
			if opts.Config, err = f.Config(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return simulateRun(cmd.Context(), opts)
		},
	}
	opts.TenantFlags.Register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.Dialect, "dialect", string(entrasync.DialectLegacy), "PATCH dialect: legacy (Entra's default) or aadOptscim062020 (also chosen by ?aadOptscim062020 on --url)")
	fl.StringVar(&opts.State, "state", "", "the simulator's state file (default: beside the embedded database, or per --url under $XDG_STATE_HOME/miscim/simulate)")
	fl.BoolVar(&opts.Restart, "restart", false, `"Restart provisioning" first: clear the watermark, synced snapshots, escrows, quarantine, staged deletes and exported memberships; keep the links`)
	fl.BoolVar(&opts.RestartFull, "restart-full", false, "restart and drop the links too (Graph's restart with resetScope Full): every object is matched again")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "plan from the connector space; send nothing, change nothing")
	fl.StringVar(&opts.OnDemand, "on-demand", "", "provision one `ID|UPN|GROUPNAME` on demand: a user, or a group of at most 5 members")
	fl.BoolVar(&opts.Watch, "watch", false, "re-read the tenant and run a cycle every --interval until interrupted")
	fl.DurationVar(&opts.Interval, "interval", entrasync.DefaultInterval, "time between cycles with --watch, and the job clock's step between runs (escrow back-off)")
	fl.IntVar(&opts.Concurrency, "concurrency", entrasync.DefaultConcurrency, "objects evaluated at once (Entra was seen with 5 requests in flight)")
	fl.IntVar(&opts.MemberBatch, "member-batch", 1, "members per membership PATCH (Entra was seen sending one)")
	fl.Float64Var(&opts.Rate, "rate", 0, "at most `R` requests per second (0: no limit)")
	fl.IntVar(&opts.Retries, "retries", entrasync.DefaultRetries, "retries of a throttled or failed request within a cycle (0: none)")
	fl.IntVar(&opts.DeleteThreshold, "delete-threshold", 0, "stage the cycle's disables and deletes when they are more than `N` (0: no threshold)")
	fl.BoolVar(&opts.AllowDeletes, "allow-deletes", false, "apply the disables and deletes the threshold staged")
	fl.BoolVar(&opts.AllowWrites, "allow-writes", false, "send writes to a --url that is not a loopback address (env "+target.EnvAllowWrites+"=1)")
	fl.StringVar(&opts.Report, "report", "", "write a JUnit XML report to `FILE`, one test case per object")
	fl.StringVar(&opts.LogFile, "log-file", "", "write the provisioning logs as JSON Lines to `FILE` as the cycle runs (as logs --format jsonl)")
	fl.StringVar(&opts.HAR, "har", "", "record every HTTP exchange with the target as HAR 1.2 in `FILE` (token redacted; replay reads it)")
	fl.StringVar(&opts.Sync, "sync", "normal", "embedded database's synchronous mode: normal (survives a crash of miscim) or full (survives power loss)")
	fl.StringVar(&opts.BooleanValues, "boolean-values", string(entrasync.BooleanVerbatim), "how a Boolean attribute's value other than True/False (MI's \"1\"/\"0\") is sent: verbatim-string, coerce-boolean or export-error")
	fl.Bool("skip-out-of-scope-deletions", false, "do not disable users that leave scope (the job setting SkipOutOfScopeDeletions; default: the mapping's)")
	fl.StringVar(&opts.SkipScope, "skip-out-of-scope-deletions-for", string(entrasync.SkipAllCauses), "which exits SkipOutOfScopeDeletions spares: all (unassigned, filtered out, disabled, soft-deleted) or unassigned")
	fl.BoolVar(&opts.RemoveMembersOnSoftDelete, "remove-members-on-soft-delete", false, "remove a soft-deleted user from the groups it was exported to")
	fl.BoolVar(&opts.TombstoneRename, "tombstone-rename", true, "a soft-deleted user's userName flows as its tombstone UPN with the disable")
	fl.StringVar(&opts.EscrowSchedule, "escrow-schedule", "30m,1h,2h,4h,8h,16h,24h", "back-off between retries of a failed object, in job time")
	_ = cmd.MarkFlagFilename("state", "db")
	_ = cmd.MarkFlagFilename("report", "xml")
	_ = cmd.MarkFlagFilename("log-file", "jsonl")
	_ = cmd.MarkFlagFilename("har", "har")
	cmdutil.EnumFlag(cmd, "dialect", entrasync.Dialects)
	cmdutil.EnumFlag(cmd, "boolean-values", entrasync.BooleanPolicies)
	cmdutil.EnumFlag(cmd, "skip-out-of-scope-deletions-for", entrasync.SkipScopes)
	cmdutil.EnumFlag(cmd, "sync", []string{"normal", "full"})
	return cmd
}

// checkOptions validates the flags before anything is read.
func checkOptions(o *Options) error {
	if err := o.TenantFlags.Check(); err != nil {
		return err
	}
	if _, err := entrasync.ParseDialect(o.Dialect); err != nil {
		return cmdutil.FlagErrorf("invalid --dialect %q: use legacy or aadOptscim062020", o.Dialect)
	}
	if _, err := entrasync.ParseBooleanPolicy(o.BooleanValues); err != nil {
		return cmdutil.FlagErrorf("invalid --boolean-values %q: use %s", o.BooleanValues, strings.Join(entrasync.BooleanPolicies, ", "))
	}
	if err := cmdutil.CheckEnum("skip-out-of-scope-deletions-for", o.SkipScope, entrasync.SkipScopes); err != nil {
		return err
	}
	if err := cmdutil.CheckEnum("sync", o.Sync, []string{"normal", "full"}); err != nil {
		return err
	}
	if _, err := entrasync.ParseSchedule(o.EscrowSchedule); err != nil {
		return cmdutil.FlagErrorf("invalid --escrow-schedule %q: %v", o.EscrowSchedule, err)
	}
	switch {
	case o.Concurrency < 1 || o.Concurrency > maxConcurrency:
		return cmdutil.FlagErrorf("invalid --concurrency %d: use 1 to %d", o.Concurrency, maxConcurrency)
	case o.MemberBatch < 1 || o.MemberBatch > 1000:
		return cmdutil.FlagErrorf("invalid --member-batch %d: use 1 (Entra's observed behaviour) to 1000", o.MemberBatch)
	case o.Rate < 0:
		return cmdutil.FlagErrorf("invalid --rate %g: use a number of requests per second, or 0 for no limit", o.Rate)
	case o.Retries < 0:
		return cmdutil.FlagErrorf("invalid --retries %d: use 0 or more", o.Retries)
	case o.DeleteThreshold < 0:
		return cmdutil.FlagErrorf("invalid --delete-threshold %d: use 0 (none) or more", o.DeleteThreshold)
	case o.Interval < time.Second:
		return cmdutil.FlagErrorf("invalid --interval %s: use at least 1s (Entra's is 40m)", o.Interval)
	case o.Restart && o.RestartFull:
		return cmdutil.FlagErrorf("--restart and --restart-full together: --restart-full already restarts")
	case o.OnDemand != "" && o.Watch:
		return cmdutil.FlagErrorf("--on-demand and --watch together: provisioning on demand runs once")
	case o.OnDemand != "" && (o.Restart || o.RestartFull):
		return cmdutil.FlagErrorf("--on-demand with a restart: restart with a cycle, then provision on demand")
	}
	return nil
}

// policyOf turns the flags into the simulator's policies.
func policyOf(o *Options, dialect entrasync.Dialect) entrasync.Policy {
	bp, _ := entrasync.ParseBooleanPolicy(o.BooleanValues)
	sched, _ := entrasync.ParseSchedule(o.EscrowSchedule)
	p := entrasync.Policy{
		Dialect: dialect, Boolean: bp, SkipScope: entrasync.SkipScope(strings.ToLower(o.SkipScope)),
		RemoveMembersOnSoftDelete: o.RemoveMembersOnSoftDelete, NoTombstoneRename: !o.TombstoneRename,
		MemberBatch: o.MemberBatch, EscrowSchedule: sched,
	}
	if o.SkipOutOfScopeDeletions != "" {
		v := o.SkipOutOfScopeDeletions == "true"
		p.SkipOutOfScopeDeletions = &v
	}
	return p
}

// where is the target a run talks to and the state file that goes with
// it.
type where struct {
	// name is how output names the target; identity is what the state
	// file records it as.
	name, identity string
	state          string
	flag           bool // the URL carries ?aadOptscim062020
}

// locate decides the target's name, what the state records it as, and
// the state file: --state, else simstate.DefaultPath (beside the embedded
// database, or per target URL under $XDG_STATE_HOME/miscim/simulate),
// where `miscim logs` looks too.
func locate(o *Options) where {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var w where
	u := strings.TrimSpace(o.Config.URL)
	db := o.Config.DB
	if u == "" && db == "" {
		db = target.DefaultDBPathFrom(getenv)
	}
	w.state = simstate.DefaultPath(u, db, getenv)
	if u != "" {
		base := u
		if pu, err := url.Parse(u); err == nil {
			for k := range pu.Query() {
				if strings.EqualFold(k, "aadOptscim062020") {
					w.flag = true
				}
			}
			pu.User = nil
			pu.RawQuery, pu.Fragment = "", ""
			pu.Path = strings.TrimRight(pu.Path, "/")
			base = pu.String()
		}
		w.identity, w.name = base, base
	} else {
		w.identity = "embedded:" + db
		name := db
		if postgres.IsURL(db) {
			name = postgres.Redact(db)
		}
		w.name = "embedded (" + name + ")"
	}
	if o.State != "" {
		w.state = o.State
	}
	return w
}

// Run runs the cycles and reports, as the command does after its flags
// are checked.
func Run(ctx context.Context, o *Options) error { return simulateRun(ctx, o) }

// simulateRun runs the cycles and reports.
func simulateRun(ctx context.Context, o *Options) error {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	eth := render.NewErrTheme(o.IO)
	w := locate(o)
	guard := target.CheckWrites("simulate", o.Config.URL, o.AllowWrites, getenv)
	if !guard.Allowed && !o.DryRun {
		fmt.Fprintln(o.IO.ErrOut, eth.Warn.Render(guard.Notice))
		o.DryRun = true
	}
	dialect, _ := entrasync.ParseDialect(o.Dialect)
	if w.flag && !o.dialectSet {
		dialect = entrasync.DialectFlag
	}

	var rep *cmdutil.ReportFile
	if o.Report != "" {
		var err error
		if rep, err = cmdutil.CreateReport(o.Report); err != nil {
			return err
		}
		defer rep.Abort()
	}
	mp, err := o.TenantFlags.Load(now)
	if err != nil {
		return err
	}
	for _, f := range mp.Tenant().Findings() {
		if f.Severity == tenant.SeverityWarning {
			fmt.Fprintln(o.IO.ErrOut, eth.Warn.Render(f.String()))
		}
	}

	st, cleanup, err := openState(ctx, w, o.DryRun)
	if err != nil {
		return err
	}
	defer cleanup()
	if o.Restart || o.RestartFull {
		if err := st.Reset(ctx, o.RestartFull); err != nil {
			return err
		}
	}

	// The provisioning logs: stored in the state file for `miscim logs`,
	// and with --log-file as JSON Lines, as the cycle runs. A dry run
	// provisions nothing and logs nothing.
	var store *provlog.Store
	var jsonl *provlog.JSONLWriter
	var har *client.HARWriter
	closeLogs := func() error {
		var errs []error
		if store != nil {
			errs = append(errs, store.Close())
			store = nil
		}
		if jsonl != nil {
			errs = append(errs, jsonl.Close())
			jsonl = nil
		}
		if har != nil {
			errs = append(errs, har.Close())
			har = nil
		}
		return errors.Join(errs...)
	}
	defer closeLogs()
	if !o.DryRun {
		if store, err = provlog.NewStore(st.DB()); err != nil {
			return stateError(err)
		}
		if o.LogFile != "" {
			if jsonl, err = provlog.CreateJSONL(o.LogFile); err != nil {
				return &cmdutil.InputError{Err: err, Hints: []string{"--log-file names the JSON Lines file to write"}}
			}
		}
		if o.HAR != "" {
			if har, err = client.CreateHAR(o.HAR, build.Version); err != nil {
				return &cmdutil.InputError{Err: err, Hints: []string{"--har names the HAR file to write"}}
			}
		}
	}

	var tgt *target.Target
	if !o.DryRun {
		sync := sqlite.SyncNormal
		if strings.EqualFold(o.Sync, "full") {
			sync = sqlite.SyncFull
		}
		if tgt, err = o.Target(ctx, sync, har); err != nil {
			return err
		}
		defer tgt.Close()
	}

	var runs []*cycleOutput
	run := func(mp *mapping.Mapper) (*cycleOutput, error) {
		co := &cycleOutput{where: w, state: st.Path(), dialect: dialect}
		col := &collector{keep: rep != nil || o.OnDemand != ""}
		// On demand, the steps are the output; a cycle has a live line
		// per object and a progress bar.
		live := newLive(o.IO, o.OnDemand == "")
		var sinks provlog.Sink = provlog.NewMulti(col, live.sink())
		if store != nil {
			sinks = provlog.NewMulti(store, jsonlSink(jsonl), col, live.sink())
		}
		opts := entrasync.Options{
			State: st, Mapper: mp, Sink: sinks, Policy: policyOf(o, dialect),
			Concurrency: o.Concurrency, Rate: o.Rate, Retries: o.Retries, DeleteThreshold: o.DeleteThreshold,
			AllowDeletes: o.AllowDeletes, DryRun: o.DryRun, Interval: o.Interval, App: appOf(mp), Now: now,
			Progress: live.progress,
		}
		if o.Retries == 0 {
			opts.Retries = -1
		}
		if tgt != nil {
			opts.Client = tgt.Client
		}
		if o.DryRun {
			// Objects are evaluated --concurrency at a time: the planned
			// requests are appended under a lock.
			var mu gosync.Mutex
			opts.OnExchange = func(x entrasync.Exchange) {
				mu.Lock()
				co.planned = append(co.planned, x.Request)
				mu.Unlock()
			}
		}
		var res *entrasync.Result
		var err error
		if o.OnDemand != "" {
			res, err = entrasync.RunOnDemand(ctx, opts, o.OnDemand)
		} else {
			res, err = entrasync.Run(ctx, opts)
		}
		live.done()
		co.res, co.records = res, col.records
		if store != nil {
			if ferr := store.Flush(context.WithoutCancel(ctx)); ferr != nil && err == nil {
				err = ferr
			}
		}
		return co, err
	}

	for {
		co, err := run(mp)
		if co.res != nil {
			runs = append(runs, co)
			if rerr := renderCycle(o, co); rerr != nil {
				return rerr
			}
		}
		if err != nil {
			if rep != nil && len(runs) > 0 {
				_ = commitReport(rep, runs)
			}
			return runError(err)
		}
		if !o.Watch {
			break
		}
		wait := o.Interval
		if q := co.res.Quarantine; q != nil && q.NextAttempt.Sub(co.res.JobTime) > wait {
			// Quarantined: the schedule is reduced (QUAR).
			wait = q.NextAttempt.Sub(co.res.JobTime)
		}
		fmt.Fprintln(o.IO.ErrOut, eth.Muted.Render(fmt.Sprintf("next cycle in %s (Ctrl-C to stop)", wait)))
		sleep := o.Wait
		if sleep == nil {
			sleep = waitCtx
		}
		if err := sleep(ctx, wait); err != nil {
			if rep != nil {
				_ = commitReport(rep, runs)
			}
			return err
		}
		next, err := o.TenantFlags.Load(now)
		if err != nil {
			fmt.Fprintln(o.IO.ErrOut, eth.Err.Render("error: "+err.Error()+"; the cycle runs on the last tenant read"))
			continue
		}
		mp = next
	}
	if err := closeLogs(); err != nil {
		return err
	}
	if rep != nil {
		if err := commitReport(rep, runs); err != nil {
			return err
		}
	}
	for _, co := range runs {
		if co.res.Problems() {
			return &cmdutil.ExitError{Code: 3}
		}
	}
	return nil
}

func waitCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runError maps the simulator's errors to the exit codes: a refused probe
// is authentication (4), an unreachable one unavailability (5, both through
// the error they wrap); a non-compliant probe and a disabled job are
// problems (3); a subject provisioning on demand refuses and an unusable
// state file are bad input (2).
func runError(err error) error {
	var pe *entrasync.ProbeError
	var jd *entrasync.JobDisabledError
	var od *entrasync.OnDemandError
	var se *entrasync.StateError
	switch {
	case errors.As(err, &pe) && errors.Unwrap(pe) == nil:
		return &cmdutil.ExitError{Code: 3, Err: cmdutil.WithHint(err, "Entra's Test Connection expects 200 with an empty ListResponse for a query that matches nothing (miscim test-connection --entra-only)")}
	case errors.As(err, &jd):
		return &cmdutil.ExitError{Code: 3, Err: cmdutil.WithHint(err, "fix the cause, then run with --restart")}
	case errors.As(err, &od):
		return &cmdutil.InputError{Err: err}
	case errors.As(err, &se):
		return &cmdutil.InputError{Err: err}
	}
	return err
}

// openState opens the state file. A dry run works on a copy (VACUUM
// INTO), or on an empty state when there is none, so that nothing it
// does — a migration, a restart — reaches the real file.
func openState(ctx context.Context, w where, dry bool) (*entrasync.State, func(), error) {
	if !dry {
		st, err := entrasync.OpenState(ctx, w.state, w.identity, nil)
		if err != nil {
			return nil, nil, stateError(err)
		}
		return st, func() { st.Close() }, nil
	}
	dir, err := os.MkdirTemp("", "miscim-simulate-dry-run-*")
	if err != nil {
		return nil, nil, err
	}
	rm := func() { os.RemoveAll(dir) }
	copyPath := filepath.Join(dir, "state.db")
	if _, err := os.Stat(w.state); err == nil {
		if err := entrasync.CopyState(ctx, w.state, copyPath); err != nil {
			rm()
			return nil, nil, stateError(err)
		}
	}
	st, err := entrasync.OpenState(ctx, copyPath, w.identity, nil)
	if err != nil {
		rm()
		return nil, nil, stateError(err)
	}
	return st, func() { st.Close(); rm() }, nil
}

func stateError(err error) error {
	var se *entrasync.StateError
	if errors.As(err, &se) {
		return &cmdutil.InputError{Err: err, Hints: []string{"the state file is the simulator's own: --state chooses another, --restart-full starts over"}}
	}
	return err
}

// appOf names the app for the logs: the service principal the tenant's
// assignments name, else Metric Insights.
func appOf(mp *mapping.Mapper) entrasync.App {
	app := entrasync.App{Name: "Metric Insights"}
	for a := range mp.Tenant().Assignments() {
		if a.ResourceID != "" {
			app.ID = a.ResourceID
			if a.ResourceDisplayName != "" {
				app.Name = a.ResourceDisplayName
			}
			break
		}
	}
	return app
}

// jsonlSink is the --log-file sink, nil (left out by provlog.NewMulti)
// without one.
func jsonlSink(j *provlog.JSONLWriter) provlog.Sink {
	if j == nil {
		return nil
	}
	return j
}
