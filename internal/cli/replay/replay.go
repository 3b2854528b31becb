// Package replay implements `miscim replay`: it reads request logs (every
// format internal/reqlog reads), plans and runs the replay of internal/replay
// against the target, and renders the outcome — a progress bar on a
// terminal, one entry per mismatch with a diff, a summary table, -o json,
// a JUnit report — with the exit code of DESIGN §1.2: 0 when every request
// matched, 3 otherwise, 2 for bad input.
package replay

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/replay"
	"github.com/miscim/miscim/internal/reqlog"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
)

// maxConcurrency bounds --concurrency.
const maxConcurrency = 64

// Options are the inputs of replayRun.
type Options struct {
	IO     *iostreams.IOStreams
	Format render.Format
	// Paths are the log directories and files; empty means
	// target.MILogDir.
	Paths []string

	Since, Until   string
	Match          string
	Ignore         []string
	DryRun         bool
	StopOnMismatch bool
	Strict         bool
	AllowWrites    bool
	Concurrency    int
	Rate           float64
	Report         string
	// Sync is the embedded database's synchronous mode: "normal"
	// (default) or "full".
	Sync string

	// Target opens the target; the run closes it.
	Target func(ctx context.Context) (*target.Target, error)
	// Config is the resolved global settings (the URL, for the write
	// guard and the report).
	Config config.Resolved
	Getenv func(string) string
	Now    func() time.Time
}

// NewCmdReplay returns the replay command; runF replaces the run function
// in tests.
func NewCmdReplay(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Target: f.Target, Now: f.Now, Getenv: f.Env.Getenv}
	if f.TargetWith != nil {
		// The embedded database in the synchronous mode --sync names.
		opts.Target = func(ctx context.Context) (*target.Target, error) {
			return f.TargetWith(ctx, func(c *target.Config) {
				c.Sync = sqlite.SyncNormal
				if strings.EqualFold(opts.Sync, "full") {
					c.Sync = sqlite.SyncFull
				}
			})
		}
	}
	cmd := &cobra.Command{
		Use:   "replay [LOGDIR|FILE...]",
		Short: "Re-send logged SCIM requests to the target and compare the answers",
		Long: `Re-send the SCIM requests of a request log to the target and compare each
answer with the logged one. The default LOGDIR is Metric Insights' own,
` + target.MILogDir + `; directories are read recursively.

Formats, detected per file (--dry-run shows which), gzip-compressed or not:
miscim's request log (every version), HAR 1.2 (browsers, proxies,
"simulate --har"), JSON or JSON Lines records of any layout whose fields
are found by name (method/verb, url/uri/path/requestUri, headers,
body/requestBody/payload, status/statusCode/responseCode, responseBody,
time/timestamp; one document per file, an array, or one per line), and raw
HTTP/1.1 dumps (request, then response). Records are replayed in order of
time, then sequence. A malformed record is reported with its file and
position and skipped; --strict makes that exit 2.

Ids the logged responses introduced (a created resource's id or
Location, the ids of listed resources) are mapped to the ids the target
returns, and replaced in paths, filters and bodies before sending. Each
answer is compared with the logged one: status, then body, without the
volatile members (id, meta.created, meta.lastModified, meta.location,
meta.version, the $ref of members and groups, and each --ignore PATH),
set-like arrays (members, emails, schemas, Resources…) compared as sets,
ids compared after remapping. --ignore takes dotted attribute names, []
for every element of an array: meta.resourceType, emails[].display,
urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value.

Against a --url that is not a loopback address, replay sends nothing
unless --allow-writes (or MISCIM_ALLOW_WRITES=1) is given: it runs as
--dry-run and says so. Requests logged as rejected (401/403) are skipped:
the log holds no credential to reproduce them.

The embedded database is written with synchronous=NORMAL unless --sync
full: a replay can be run again from its log, so it does without an fsync
per write (the database still survives a crash of miscim).

--concurrency N sends up to N requests at once while keeping the order of
the requests on each resource, and creations before their uses. Requests
that span resources (DELETE, lists without an identity filter) wait for
everything before them.

Output: on a terminal a progress bar, then each mismatch with the
request, the status and a diff of expected versus actual, then a summary
table (sent, matched, mismatched, failed, unchecked, skipped, filtered,
duration, requests/s). Exit 0 when every request matched, 3 when any
mismatched or failed, 2 for unreadable or malformed input, 4 and 5 as
every command. JSON output and every rule: docs/replay.md.`,
		Example: `  miscim replay --dry-run
  miscim replay ./scim-log --concurrency 4 --report replay.xml
  miscim replay capture.har --match '^(POST|PATCH) /Users' --ignore meta.resourceType
  miscim --url https://mi-test.example.com/scim/v2 --token-file mi.token replay ./scim-log --allow-writes
  miscim replay requests.jsonl.gz --since 2026-11-27T09:00:00Z --until 2026-11-27T10:00:00Z -o json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			opts.Paths = args
			if opts.Concurrency < 1 || opts.Concurrency > maxConcurrency {
				return cmdutil.FlagErrorf("invalid --concurrency %d: use 1 (log order) to %d", opts.Concurrency, maxConcurrency)
			}
			if err := cmdutil.CheckEnum("sync", opts.Sync, []string{"normal", "full"}); err != nil {
				return err
			}
			if opts.Rate < 0 {
				return cmdutil.FlagErrorf("invalid --rate %g: use a number of requests per second, or 0 for no limit", opts.Rate)
			}
			if opts.Config, err = f.Config(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return replayRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Since, "since", "", "replay requests from this time: RFC 3339, a date (UTC), or a duration ago (90m, 24h)")
	fl.StringVar(&opts.Until, "until", "", "replay requests before this time (same forms as --since)")
	fl.StringVar(&opts.Match, "match", "", "replay only requests whose \"METHOD path?query\" matches this regular expression")
	fl.StringArrayVar(&opts.Ignore, "ignore", nil, "leave this body `PATH` out of comparisons (repeatable), e.g. meta.resourceType or emails[].display")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "read, order and show the plan and the detected formats; send nothing")
	fl.BoolVar(&opts.StopOnMismatch, "stop-on-mismatch", false, "stop sending after the first mismatch or failure")
	fl.BoolVar(&opts.Strict, "strict", false, "exit 2 before sending anything when a record is malformed")
	fl.BoolVar(&opts.AllowWrites, "allow-writes", false, "send writes to a --url that is not a loopback address (env "+target.EnvAllowWrites+"=1)")
	fl.IntVar(&opts.Concurrency, "concurrency", 1, "requests in flight at once, keeping per-resource order")
	fl.Float64Var(&opts.Rate, "rate", 0, "at most `R` requests per second (0: no limit)")
	fl.StringVar(&opts.Report, "report", "", "write a JUnit XML report to `FILE`")
	fl.StringVar(&opts.Sync, "sync", "normal", "embedded database's synchronous mode: normal (survives a crash, no fsync per write) or full (survives power loss)")
	_ = cmd.MarkFlagFilename("report", "xml")
	cmdutil.EnumFlag(cmd, "sync", []string{"normal", "full"})
	return cmd
}

// settings are the checked inputs of a run.
type settings struct {
	filter  replay.Filter
	ignores []replay.IgnorePath
}

func checkSettings(opts *Options, now time.Time) (settings, error) {
	var s settings
	var err error
	if s.filter.Since, err = cmdutil.ParseWhen("since", opts.Since, now); err != nil {
		return s, err
	}
	if s.filter.Until, err = cmdutil.ParseWhen("until", opts.Until, now); err != nil {
		return s, err
	}
	if !s.filter.Since.IsZero() && !s.filter.Until.IsZero() && !s.filter.Since.Before(s.filter.Until) {
		return s, cmdutil.FlagErrorf("--since %s is not before --until %s: nothing could be replayed", opts.Since, opts.Until)
	}
	if opts.Match != "" {
		if s.filter.Match, err = regexp.Compile(opts.Match); err != nil {
			return s, cmdutil.FlagErrorf("invalid --match %q: %v", opts.Match, err)
		}
	}
	if s.ignores, err = replay.Ignores(opts.Ignore); err != nil {
		return s, cmdutil.FlagErrorf("invalid --ignore: %v", err)
	}
	return s, nil
}

// replayRun reads, plans, runs and reports.
func replayRun(ctx context.Context, opts *Options) error {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s, err := checkSettings(opts, now())
	if err != nil {
		return err
	}
	eth := render.NewErrTheme(opts.IO)
	guard := target.CheckWrites("replay", opts.Config.URL, opts.AllowWrites, getenv)
	if !guard.Allowed && !opts.DryRun {
		fmt.Fprintln(opts.IO.ErrOut, eth.Warn.Render(guard.Notice))
		opts.DryRun = true
	}

	// Claim the report before reading gigabytes of log: an unwritable
	// path is found at once.
	var rep *cmdutil.ReportFile
	if opts.Report != "" {
		if rep, err = cmdutil.CreateReport(opts.Report); err != nil {
			return err
		}
		defer rep.Abort()
	}

	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{target.MILogDir}
	}
	set, err := reqlog.Read(paths)
	if err != nil {
		hint := "give the request-log directory or files: miscim replay DIR|FILE..."
		if len(opts.Paths) == 0 {
			hint = "no log directory given, and Metric Insights' (" + target.MILogDir + ") cannot be read: " + hint
		}
		return &cmdutil.InputError{Err: fmt.Errorf("cannot read the request log: %w", err), Hints: []string{hint}}
	}
	reportProblems(opts.IO, set.Problems)
	if opts.Strict && len(set.Problems) > 0 {
		return &cmdutil.InputError{
			Err:   fmt.Errorf("%d malformed record(s) or unreadable part(s) of the log (listed above); --strict sends nothing", len(set.Problems)),
			Hints: []string{"fix or remove them, or run without --strict to skip them"},
		}
	}
	if len(set.Exchanges) == 0 {
		return &cmdutil.InputError{
			Err:   fmt.Errorf("no request records in %s", strings.Join(paths, ", ")),
			Hints: []string{"replay reads miscim's request log, HAR 1.2, JSON or JSON Lines records and HTTP/1.1 dumps; see docs/replay.md"},
		}
	}
	plan := replay.NewPlan(set, s.filter)
	targetName := "embedded"
	if opts.Config.URL != "" {
		targetName = strings.TrimSpace(opts.Config.URL)
	}

	if opts.DryRun {
		if err := renderPlan(opts, set, plan, targetName); err != nil {
			return err
		}
		if rep != nil {
			if err := commitReport(rep, junitOfPlan(set, plan, targetName, now())); err != nil {
				return err
			}
		}
		return nil
	}

	t, err := opts.Target(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	progress := opts.IO.NewProgress(len(plan.Requests), "replay", "req")
	started := now()
	result, err := replay.Run(ctx, plan, replay.Options{
		Client:         t.Client,
		Concurrency:    opts.Concurrency,
		Rate:           opts.Rate,
		StopOnMismatch: opts.StopOnMismatch,
		Ignore:         s.ignores,
		Progress:       func() { progress.Add(1) },
		Now:            now,
	})
	progress.Done()
	if err != nil {
		return err
	}
	if err := renderResult(opts, set, plan, result, targetName); err != nil {
		return err
	}
	if rep != nil {
		if err := commitReport(rep, junitOf(set, result, targetName, started)); err != nil {
			return err
		}
	}
	switch {
	case result.Stopped == "unavailable", result.Stopped == "auth":
		return result.Err
	case result.Stopped == "interrupted":
		return ctx.Err()
	case result.Count(replay.Mismatched) > 0 || result.Count(replay.Failed) > 0:
		return &cmdutil.ExitError{Code: 3}
	}
	return nil
}

func commitReport(rep *cmdutil.ReportFile, doc render.JUnitSuites) error {
	b, err := render.JUnitXML(doc)
	if err != nil {
		return err
	}
	return rep.Commit(b)
}

// maxProblemLines caps the problems listed on stderr; -o json lists all.
const maxProblemLines = 20

// reportProblems lists what was skipped while reading, on stderr.
func reportProblems(ios *iostreams.IOStreams, probs []reqlog.Problem) {
	eth := render.NewErrTheme(ios)
	for i, p := range probs {
		if i == maxProblemLines {
			fmt.Fprintln(ios.ErrOut, eth.Warn.Render(fmt.Sprintf("warning: %d more problems (all of them in -o json)", len(probs)-i)))
			break
		}
		fmt.Fprintln(ios.ErrOut, eth.Warn.Render("warning: skipped "+p.String()))
	}
}
