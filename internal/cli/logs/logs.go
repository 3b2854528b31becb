// Package logs implements `miscim logs` and `miscim logs cycles`: the
// provisioning logs `miscim simulate` stored in the simulator's state
// (internal/entra/provlog), selected by cycle, action, status, identity
// and time, as a table, as Graph's provisioningObjectSummary JSON, as
// JSON Lines, or as the portal's three CSV files. Nothing is sent to a
// target: the logs are the simulator's, not the target's.
package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/entra/simstate"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// File formats of --format.
const (
	FileCSV   = "csv"
	FileJSONL = "jsonl"
)

// Options are the inputs of logsRun.
type Options struct {
	IO     *iostreams.IOStreams
	Format render.Format // -o
	// File is --format: FileCSV writes the three CSV files to Out,
	// FileJSONL one record per line to stdout; "" prints -o's form.
	File string
	Out  string
	// Query selects the records (cycle, action, status, identity, since).
	Query provlog.Query
	// StatePath names the state in messages.
	StatePath string
	Store     *provlog.Store
}

// flags are the selection flags as given, checked into a Query.
type flags struct {
	cycles, actions, statuses []string
	identity, since           string
}

// query checks the selection flags.
func (fl *flags) query(now time.Time) (provlog.Query, error) {
	var q provlog.Query
	for _, c := range splitList(fl.cycles) {
		if strings.EqualFold(c, "latest") {
			q.Latest = true
			continue
		}
		q.Cycles = append(q.Cycles, c)
	}
	for _, a := range splitList(fl.actions) {
		act, err := provlog.ParseAction(a)
		if err != nil {
			return q, cmdutil.FlagErrorf("invalid --action: %v", err)
		}
		q.Actions = append(q.Actions, act)
	}
	for _, s := range splitList(fl.statuses) {
		st, err := provlog.ParseStatus(s)
		if err != nil {
			return q, cmdutil.FlagErrorf("invalid --status: %v", err)
		}
		q.Statuses = append(q.Statuses, st)
	}
	q.Identity = strings.TrimSpace(fl.identity)
	since, err := cmdutil.ParseWhen("since", fl.since, now)
	if err != nil {
		return q, err
	}
	q.Since = since
	return q, nil
}

// splitList reads repeated and comma-separated values (--status
// failure,skipped --status warning), blanks dropped.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// NewCmdLogs returns `logs` and its `cycles` subcommand.
func NewCmdLogs(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	var fl flags
	var state string
	cmd := &cobra.Command{
		Use:   "logs [--cycle ID|latest] [--action A] [--status S] [--identity X] [--since T] [--state FILE] [--format csv|jsonl [--out DIR]]",
		Short: "Show the provisioning logs simulate recorded",
		Long: `Show the provisioning logs that "miscim simulate" stored: one record per
object and cycle, as Entra's provisioning logs have (docs/logs.md).

The logs are read from the simulator's state file: --state FILE, or by
default the file simulate uses for the same target — beside the embedded
database (miscim.db's is miscim.simulate.db), or for --url under
$XDG_STATE_HOME/miscim/simulate/. No request is sent to the target.

Selection (every condition given must hold; repeat a flag, or separate
values with commas, to accept any of several values):
  --cycle ID|latest  the records of those cycles ("miscim logs cycles" lists
                     them; latest is the last cycle run)
  --action A         create, update, delete, disable, stagedDelete, other
  --status S         success, failure, skipped, warning
  --identity X       a source or target id, display name or UPN, whole and
                     in any case
  --since T          at or after T: RFC 3339, a date (UTC), or a duration
                     ago (90m, 24h)

Output: a table (TIME (UTC), ACTION, STATUS, TYPE, IDENTITY, TARGET ID and
DETAIL: the changed properties, the error code and reason, or why the
object was skipped); on a narrow terminal TARGET ID, TYPE and TIME are
left out in that order and DETAIL is wrapped. Piped, one tab-separated line
per record without header. -o json: a JSON array of the records in the
shape of Microsoft Graph's provisioningObjectSummary, as the portal's JSON
download is; -o yaml the same in YAML.

--format jsonl writes one record per line to stdout, as simulate
--log-file does. --format csv writes the portal's three CSV files —
ProvisioningLogs.csv, ProvisioningLogs_ProvisioningSteps.csv and
ProvisioningLogs_ModifiedProperties.csv, joined by Change ID — into
--out DIR (default: the current directory), replacing files of those
names; their columns are miscim's (docs/logs.md).

Exit codes: 0, also when nothing matched; 2 bad flags, no state file, or a
cycle the state does not hold.`,
		Example: `  miscim logs --cycle latest --status failure
  miscim logs --identity alice@contoso.com -o json
  miscim logs --cycle latest --format csv --out logs/
  miscim logs cycles`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if opts.Query, err = fl.query(f.Now()); err != nil {
				return err
			}
			switch strings.ToLower(opts.File) {
			case "":
			case FileCSV, FileJSONL:
				opts.File = strings.ToLower(opts.File)
				if f.Flags.Changed != nil && f.Flags.Changed("output") {
					return cmdutil.FlagErrorf("--format %s and -o %s both choose the output: give one", opts.File, f.Flags.Output)
				}
			default:
				return cmdutil.FlagErrorf("invalid --format %q: use csv or jsonl (-o chooses table, json or yaml)", opts.File)
			}
			if cmd.Flags().Changed("out") && opts.File != FileCSV {
				return cmdutil.FlagErrorf("--out is where --format csv writes its files: add --format csv")
			}
			if opts.Out == "" {
				opts.Out = "."
			}
			return withStore(cmd.Context(), f, state, func(path string, s *provlog.Store) error {
				opts.StatePath, opts.Store = path, s
				if runF != nil {
					return runF(cmd.Context(), opts)
				}
				return logsRun(cmd.Context(), opts)
			})
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&state, "state", "", "the simulator's state `FILE` (default: the one simulate uses for the target)")
	_ = cmd.MarkPersistentFlagFilename("state", "db")
	fs := cmd.Flags()
	fs.StringSliceVar(&fl.cycles, "cycle", nil, "only the records of cycle `ID` (or latest)")
	fs.StringSliceVar(&fl.actions, "action", nil, "only this provisioning action: create, update, delete, disable, stagedDelete, other")
	fs.StringSliceVar(&fl.statuses, "status", nil, "only this status: success, failure, skipped, warning")
	fs.StringVar(&fl.identity, "identity", "", "only the records of the object with this id, display name or UPN (any case)")
	fs.StringVar(&fl.since, "since", "", "only records from this time: RFC 3339, a date (UTC), or a duration ago (90m, 24h)")
	fs.StringVar(&opts.File, "format", "", "write a file format instead of -o: csv (the portal's three files, to --out) or jsonl (stdout)")
	fs.StringVar(&opts.Out, "out", "", "directory of the --format csv files (default: the current directory)")
	_ = cmd.MarkFlagDirname("out")
	cmdutil.EnumFlag(cmd, "format", []string{FileCSV, FileJSONL})
	cmdutil.EnumFlag(cmd, "action", stringsOf(provlog.Actions))
	cmdutil.EnumFlag(cmd, "status", stringsOf(provlog.Statuses))
	_ = cmd.RegisterFlagCompletionFunc("cycle", completeCycles(f, &state))
	cmd.AddCommand(NewCmdCycles(f, &state, nil))
	return cmd
}

func stringsOf[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// StatePath is the state file `logs` reads: --state, or the one simulate
// uses for the target the settings name (simstate.DefaultPath).
func StatePath(f *cmdutil.Factory, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	r, err := f.Config()
	if err != nil {
		return "", err
	}
	return simstate.DefaultPath(r.URL, r.DB, f.Env.Getenv), nil
}

// withStore opens the state file's provisioning logs for fn.
func withStore(ctx context.Context, f *cmdutil.Factory, flag string, fn func(path string, s *provlog.Store) error) error {
	path, err := StatePath(f, flag)
	if err != nil {
		return err
	}
	db, err := simstate.OpenExisting(ctx, path)
	if errors.Is(err, simstate.ErrNoState) {
		return &cmdutil.InputError{
			Err: fmt.Errorf("no provisioning logs: %v", err),
			Hints: []string{
				"run `miscim simulate --tenant PATH` first: it stores the logs there",
				"or pass --state FILE: the state of another target or database",
			},
		}
	}
	if err != nil {
		return &cmdutil.InputError{Err: err, Hints: []string{"pass --state FILE to read another state"}}
	}
	defer db.Close()
	s, err := provlog.NewStore(db)
	if err != nil {
		return &cmdutil.InputError{Err: fmt.Errorf("read the provisioning logs in %s: %w", path, err)}
	}
	defer s.Close()
	return fn(path, s)
}

func logsRun(ctx context.Context, opts *Options) error {
	switch {
	case opts.File == FileCSV:
		return writeCSV(ctx, opts)
	case opts.File == FileJSONL:
		return writeJSONL(ctx, opts)
	case opts.Format == render.FormatJSON:
		return writeJSON(ctx, opts)
	case opts.Format == render.FormatYAML:
		records := []provlog.Record{}
		for r, err := range opts.Store.Records(ctx, opts.Query) {
			if err != nil {
				return queryError(err, opts)
			}
			records = append(records, r)
		}
		return render.YAML(opts.IO.Out, records)
	}
	return writeTable(ctx, opts)
}

// queryError explains an unknown cycle.
func queryError(err error, opts *Options) error {
	if errors.Is(err, provlog.ErrUnknownCycle) {
		return &cmdutil.InputError{
			Err:   fmt.Errorf("%v in %s", err, opts.StatePath),
			Hints: []string{"`miscim logs cycles` lists the cycles stored (older ones are pruned: docs/logs.md)"},
		}
	}
	return err
}

// writeJSON streams the records as one indented JSON array, exactly as
// render.JSON would write the decoded records, without holding them all.
func writeJSON(ctx context.Context, opts *Options) error {
	var buf bytes.Buffer
	n := 0
	for raw, err := range opts.Store.RawRecords(ctx, opts.Query) {
		if err != nil {
			return queryError(err, opts)
		}
		if n == 0 {
			buf.WriteString("[\n  ")
		} else {
			buf.WriteString(",\n  ")
		}
		if err := json.Indent(&buf, raw, "  ", "  "); err != nil {
			return fmt.Errorf("a stored record is not JSON: %w", err)
		}
		n++
		if buf.Len() > 64<<10 {
			if _, err := opts.IO.Out.Write(buf.Bytes()); err != nil {
				return err
			}
			buf.Reset()
		}
	}
	if n == 0 {
		buf.WriteString("[]\n")
	} else {
		buf.WriteString("\n]\n")
	}
	_, err := opts.IO.Out.Write(buf.Bytes())
	return err
}

func writeJSONL(ctx context.Context, opts *Options) error {
	var buf bytes.Buffer
	for raw, err := range opts.Store.RawRecords(ctx, opts.Query) {
		if err != nil {
			return queryError(err, opts)
		}
		buf.Write(raw)
		buf.WriteByte('\n')
		if buf.Len() > 64<<10 {
			if _, err := opts.IO.Out.Write(buf.Bytes()); err != nil {
				return err
			}
			buf.Reset()
		}
	}
	_, err := opts.IO.Out.Write(buf.Bytes())
	return err
}

func writeCSV(ctx context.Context, opts *Options) error {
	dir, err := provlog.CreateCSVDir(opts.Out)
	if err != nil {
		return &cmdutil.InputError{Err: err, Hints: []string{"choose another --out DIR"}}
	}
	defer dir.Abort()
	records, steps, props := 0, 0, 0
	for r, err := range opts.Store.Records(ctx, opts.Query) {
		if err != nil {
			return queryError(err, opts)
		}
		if err := dir.Add(ctx, r); err != nil {
			return err
		}
		records++
		steps += len(r.ProvisioningSteps)
		props += len(r.ModifiedProperties)
	}
	if err := dir.Commit(ctx); err != nil {
		return err
	}
	paths := dir.Paths()
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s (%s), %s (%s) and %s (%s)\n",
		paths[0], plural(records, "record"), paths[1], plural(steps, "step"), paths[2], plural(props, "modified property"))
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// timeLayout is how the table shows activityDateTime: UTC, to the second.
const timeLayout = "2006-01-02 15:04:05"

func writeTable(ctx context.Context, opts *Options) error {
	th := render.NewTheme(opts.IO)
	// The detail is what a log is read for (the error and its reason): it
	// wraps rather than being cut. The time, type and target id give way
	// first on a narrow terminal.
	t := render.NewTable(
		render.Column{Header: "time (UTC)", Hide: 1},
		render.Column{Header: "action"},
		render.Column{Header: "status"},
		render.Column{Header: "type", Hide: 2},
		render.Column{Header: "identity"},
		render.Column{Header: "target id", Hide: 3},
		render.Column{Header: "detail", Fit: render.Wrap, Min: 40},
	)
	for r, err := range opts.Store.Records(ctx, opts.Query) {
		if err != nil {
			return queryError(err, opts)
		}
		l := provlog.LineOf(&r)
		status := render.StatusStyle(th, l.Status)
		t.AddCells(
			render.Cell{Text: r.ActivityDateTime.UTC().Format(timeLayout)},
			render.Cell{Text: l.Action.Display()},
			render.Cell{Text: l.Status.Display(), Style: &status},
			render.Cell{Text: dash(l.Type)},
			render.Cell{Text: dash(l.Identity)},
			render.Cell{Text: dash(r.TargetIdentity.ID)},
			render.Cell{Text: l.Detail},
		)
	}
	if len(t.Rows) == 0 {
		if opts.IO.IsStdoutTTY() {
			fmt.Fprintln(opts.IO.ErrOut, "no provisioning logs matched")
		}
		return nil
	}
	return t.Render(opts.IO)
}

// dash shows an empty value (a failed create has no target id).
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// CyclesOptions are the inputs of cyclesRun.
type CyclesOptions struct {
	IO        *iostreams.IOStreams
	Format    render.Format
	StatePath string
	Store     *provlog.Store
}

// NewCmdCycles returns `logs cycles`.
func NewCmdCycles(f *cmdutil.Factory, state *string, runF func(context.Context, *CyclesOptions) error) *cobra.Command {
	opts := &CyclesOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "cycles [--state FILE]",
		Short: "List the provisioning cycles whose logs are stored",
		Long: `List the provisioning cycles whose logs the simulator's state holds, oldest
first (the last is the one --cycle latest selects), with their records
counted by status. The state keeps 30 days of cycles, at most 100
(docs/logs.md).

Columns: CYCLE (the id --cycle takes), STARTED and ENDED (the first and
last record's time, UTC), RECORDS, then the count of each status; on a
narrow terminal ENDED, WARNING, SKIPPED and SUCCESS give way, in that
order. -o json:
an array of {"cycleId","started","ended","records","counts"}, counts by
action then status ({"create":{"success":3}}).`,
		Example: `  miscim logs cycles
  miscim logs cycles -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			return withStore(cmd.Context(), f, *state, func(path string, s *provlog.Store) error {
				opts.StatePath, opts.Store = path, s
				if runF != nil {
					return runF(cmd.Context(), opts)
				}
				return cyclesRun(cmd.Context(), opts)
			})
		},
	}
}

func cyclesRun(ctx context.Context, opts *CyclesOptions) error {
	cycles, err := opts.Store.Cycles(ctx)
	if err != nil {
		return err
	}
	if cycles == nil {
		cycles = []provlog.Cycle{}
	}
	if done, err := render.Structured(opts.IO.Out, opts.Format, cycles); done {
		return err
	}
	if len(cycles) == 0 {
		if opts.IO.IsStdoutTTY() {
			fmt.Fprintf(opts.IO.ErrOut, "no cycles stored in %s\n", opts.StatePath)
		}
		return nil
	}
	th := render.NewTheme(opts.IO)
	// On a narrow terminal the cycle, its start, its records and its
	// failures stay; the end and the other counts give way.
	hide := map[provlog.Status]int{provlog.StatusSuccess: 1, provlog.StatusSkipped: 2, provlog.StatusWarning: 3}
	cols := []render.Column{{Header: "cycle"}, {Header: "started (UTC)"}, {Header: "ended (UTC)", Hide: 4}, {Header: "records"}}
	for _, s := range provlog.Statuses {
		cols = append(cols, render.Column{Header: string(s), Hide: hide[s]})
	}
	t := render.NewTable(cols...)
	for _, c := range cycles {
		cells := []render.Cell{{Text: c.ID}, {Text: c.Started.Format(timeLayout)}, {Text: c.Ended.Format(timeLayout)}, {Text: fmt.Sprint(c.Records)}}
		for _, s := range provlog.Statuses {
			n := c.Counts.ByStatus(s)
			st := th.Muted
			if n > 0 {
				st = render.StatusStyle(th, s)
			}
			cells = append(cells, render.Cell{Text: fmt.Sprint(n), Style: &st})
		}
		t.AddCells(cells...)
	}
	return t.Render(opts.IO)
}

// completeCycles offers the stored cycle ids, newest first, with their
// start and record count.
func completeCycles(f *cmdutil.Factory, state *string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		out := []cobra.Completion{cobra.CompletionWithDesc("latest", "the last cycle run")}
		_ = withStore(cmd.Context(), f, *state, func(_ string, s *provlog.Store) error {
			cycles, err := s.Cycles(cmd.Context())
			for i := len(cycles) - 1; err == nil && i >= 0; i-- {
				c := cycles[i]
				out = append(out, cobra.CompletionWithDesc(c.ID, fmt.Sprintf("%s, %d records", c.Started.Format(timeLayout), c.Records)))
			}
			return err
		})
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
