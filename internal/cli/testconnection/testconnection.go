// Package testconnection implements `miscim test-connection`: the checks of
// internal/probe run against the target, rendered as a table (or JSON/YAML)
// and optionally as a JUnit report for CI. It checks what Entra's Test
// Connection button checks (entra-behavior §1), then goes further
// (DESIGN §4). Exit 0 when every required check passes, 3 when one fails.
package testconnection

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/probe"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/target"
)

// maxCount bounds --count: the probes run one after the other.
const maxCount = 1000

// Options are the inputs of testConnectionRun.
type Options struct {
	IO     *iostreams.IOStreams
	Format render.Format
	// Count is how many probes the latency check sends (--count).
	Count int
	// EntraOnly runs only what Entra's Test Connection sends.
	EntraOnly bool
	// Report is the path of a JUnit XML report; "" writes none.
	Report string
	// Target opens the target; the run closes it.
	Target func(ctx context.Context) (*target.Target, error)
	// Config is the resolved global settings: URL, token presence, TLS
	// settings and timeout for the network checks.
	Config config.Resolved

	// Now is the clock; NewGUID the probes' random values. Tests replace
	// both so that rendered output is stable.
	Now     func() time.Time
	NewGUID func() string
	// Probe adjusts the probe configuration before the run (tests: DNS,
	// dialer, certificate roots).
	Probe func(*probe.Config)
}

// NewCmdTestConnection returns the test-connection command. runF replaces
// the run function in tests.
func NewCmdTestConnection(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, Now: f.Now, Target: f.Target}
	if f.ProbeTarget != nil {
		opts.Target = f.ProbeTarget
	}
	cmd := &cobra.Command{
		Use:   "test-connection [--count N] [--entra-only] [--report FILE]",
		Short: "Check a SCIM endpoint the way Entra's Test Connection does, and more",
		Long: `Check the target the way Entra's "Test Connection" button does, then go
further, one row per check:

  url                      https, path ends in /scim/v2, aadOptscim062020 flag
  dns, tcp, tls            name resolution, connection, TLS version, chain,
                           host name and days until the certificate expires
  auth-no-token            a request without a token must get 401
  auth-token               the token must not get 401 (rejected) or 403 (not
                           an Admin's token: MI accepts only an Admin's)
  entra-probe              GET /Users?filter=userName eq "<random GUID>" must
                           answer 200 with an empty ListResponse: the exact
                           rule of Entra's button
  group-probe              the same for /Groups?excludedAttributes=members
  service-provider-config, resource-types, schemas
                           discovery endpoints
  content-type             application/scim+json
  latency                  p50/p95 of --count probes (fail above 60s,
                           Entra's limit; warn above 5s)

Required checks: dns, tcp, tls, auth-no-token, auth-token, entra-probe,
latency. The others report problems that do not stop Entra's Test
Connection or user provisioning. Exit 0 when every required check passes
(warnings allowed), 3 when one fails.

--entra-only runs just what Entra sends: entra-probe and group-probe.
Against the embedded engine (no --url) the network rows are skipped, not
faked, and auth-no-token is skipped: in-process calls run as the built-in
admin.

JSON output: {"target","passed","checks":[{"name","status","required",
"durationMs","detail","hint"}]}; see docs/test-connection.md.`,
		Example: `  miscim test-connection --url https://mi.example.com/scim/v2 --token-file mi.token
  miscim test-connection --url https://mi.example.com/scim/v2?aadOptscim062020 --token-file mi.token --entra-only
  miscim test-connection --url "$MI_URL" --token-file mi.token --report junit.xml -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if opts.Count < 0 || opts.Count > maxCount {
				return cmdutil.FlagErrorf("invalid --count %d: use 0 (no latency check) to %d", opts.Count, maxCount)
			}
			if opts.EntraOnly && cmd.Flags().Changed("count") {
				return cmdutil.FlagErrorf("--count has no effect with --entra-only: Entra's Test Connection sends one probe")
			}
			if opts.Config, err = f.Config(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return testConnectionRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Count, "count", probe.DefaultCount, "probes sent by the latency check (0 skips it)")
	cmd.Flags().BoolVar(&opts.EntraOnly, "entra-only", false, "run only what Entra's Test Connection sends")
	cmd.Flags().StringVar(&opts.Report, "report", "", "write a JUnit XML report to `FILE`")
	_ = cmd.MarkFlagFilename("report", "xml")
	return cmd
}

// testConnectionRun runs the checks, prints them and chooses the exit code.
func testConnectionRun(ctx context.Context, opts *Options) error {
	// Claim the report file first: an unwritable path is a usage problem
	// (exit 2) better found before a minute of checks than after.
	var rep *cmdutil.ReportFile
	if opts.Report != "" {
		var err error
		if rep, err = cmdutil.CreateReport(opts.Report); err != nil {
			return err
		}
		defer rep.Abort()
	}

	t, err := opts.Target(ctx)
	if err != nil {
		return err
	}
	defer t.Close()

	now := opts.Now
	if now == nil {
		now = time.Now
	}
	pc := probe.Config{
		Client:    t.Client,
		Embedded:  t.Embedded,
		HasToken:  opts.Config.Token != "",
		Timeout:   opts.Config.Timeout,
		Insecure:  opts.Config.Insecure,
		CAFile:    opts.Config.CAFile,
		Count:     opts.Count,
		EntraOnly: opts.EntraOnly,
		Now:       now,
		NewGUID:   opts.NewGUID,
	}
	sp := newSpinner(opts.IO)
	pc.Progress = sp.show
	if opts.Probe != nil {
		opts.Probe(&pc)
	}
	started := now()
	results, err := probe.Run(ctx, pc)
	sp.clear()
	if err != nil {
		return err
	}

	rpt := newReport(targetName(opts, t), results)
	if done, err := render.Structured(opts.IO.Out, opts.Format, rpt); done {
		if err != nil {
			return err
		}
	} else if err := renderTable(opts.IO, results); err != nil {
		return err
	}
	if rep != nil {
		b, err := render.JUnitXML(junitOf(rpt, results, started))
		if err != nil {
			return err
		}
		if err := rep.Commit(b); err != nil {
			return err
		}
	}
	if !rpt.Passed {
		return &cmdutil.ExitError{Code: 3}
	}
	return nil
}

// targetName is what the report calls the target: the URL as configured
// (Entra's flag included), or "embedded".
func targetName(opts *Options, t *target.Target) string {
	if t.Embedded {
		return "embedded"
	}
	if opts.Config.URL != "" {
		return strings.TrimSpace(opts.Config.URL)
	}
	return t.Client.BaseURL()
}

// Report is the JSON/YAML output (docs/test-connection.md).
type Report struct {
	Target string        `json:"target"`
	Passed bool          `json:"passed"`
	Checks []CheckResult `json:"checks"`
}

// CheckResult is one check in the JSON/YAML output.
type CheckResult struct {
	Name       string `json:"name"`
	Status     string `json:"status"`
	Required   bool   `json:"required"`
	DurationMs int64  `json:"durationMs"`
	Detail     string `json:"detail"`
	Hint       string `json:"hint"`
}

func newReport(target string, rs []probe.Result) Report {
	r := Report{Target: target, Passed: probe.Passed(rs), Checks: make([]CheckResult, 0, len(rs))}
	for _, c := range rs {
		r.Checks = append(r.Checks, CheckResult{
			Name: c.Name, Status: string(c.Status), Required: c.Required,
			DurationMs: c.Duration.Milliseconds(), Detail: c.Detail, Hint: c.Hint,
		})
	}
	return r
}

// renderTable prints one row per check: STATUS, CHECK, DURATION, DETAIL.
// On a terminal, hint lines follow failed and warning rows, the status is a
// symbol when color is on, and details and hints are wrapped to the
// terminal's width, never cut: they say what to fix. Piped, each check is
// one tab-separated line with the status as a word, and hints of failures
// go to stderr. The summary line goes to stderr either way.
func renderTable(ios *iostreams.IOStreams, rs []probe.Result) error {
	th := render.NewTheme(ios)
	tty := ios.IsStdoutTTY()
	symbols := tty && ios.ColorEnabled()
	tbl := render.NewTable(
		render.Column{Header: "status"},
		render.Column{Header: "check"},
		render.Column{Header: "duration"},
		render.Column{Header: "detail", Fit: render.Wrap},
	)
	for _, r := range rs {
		dur := "-"
		if r.Status != probe.Skip {
			dur = probe.FormatDuration(r.Duration)
		}
		name := r.Name
		if !r.Required && tty {
			name += " (optional)"
		}
		tbl.AddCells(statusCell(th, r.Status, symbols), render.Cell{Text: name}, render.Cell{Text: dur}, render.Cell{Text: r.Detail})
		if tty && r.Hint != "" && (r.Status == probe.Fail || r.Status == probe.Warn) {
			tbl.AddCells(render.Cell{}, render.Cell{}, render.Cell{}, render.Cell{Text: "hint: " + r.Hint, Style: &th.Muted})
		}
	}
	if err := tbl.Render(ios); err != nil {
		return err
	}

	eth := render.NewErrTheme(ios)
	if !tty {
		for _, r := range rs {
			if r.Status == probe.Fail && r.Hint != "" {
				fmt.Fprintln(ios.ErrOut, eth.Muted.Render(fmt.Sprintf("hint: %s: %s", r.Name, r.Hint)))
			}
		}
	}
	c := probe.Count(rs)
	line := c.String()
	switch {
	case !probe.Passed(rs):
		line = eth.Err.Render(line)
	case c.Failed > 0 || c.Warnings > 0:
		line = eth.Warn.Render(line)
	default:
		line = eth.OK.Render(line)
	}
	_, err := fmt.Fprintln(ios.ErrOut, line)
	return err
}

// statusCell is ✓ ! ✗ - with color on a terminal, else the status word.
func statusCell(th render.Theme, s probe.Status, symbols bool) render.Cell {
	if !symbols {
		return render.Cell{Text: string(s)}
	}
	switch s {
	case probe.Pass:
		return render.Cell{Text: "✓", Style: &th.OK}
	case probe.Warn:
		return render.Cell{Text: "!", Style: &th.Warn}
	case probe.Fail:
		return render.Cell{Text: "✗", Style: &th.Err}
	}
	return render.Cell{Text: "-", Style: &th.Muted}
}

// spinner names the running check on a terminal's stderr (DESIGN §1.2:
// progress only when stderr is a terminal).
type spinner struct {
	ios    *iostreams.IOStreams
	active bool
}

func newSpinner(ios *iostreams.IOStreams) *spinner { return &spinner{ios: ios} }

func (s *spinner) show(name string) {
	if !s.ios.IsStderrTTY() {
		return
	}
	s.active = true
	fmt.Fprintf(s.ios.ErrOut, "\r\033[Kchecking %s…", name)
}

func (s *spinner) clear() {
	if s.active {
		fmt.Fprint(s.ios.ErrOut, "\r\033[K")
		s.active = false
	}
}
