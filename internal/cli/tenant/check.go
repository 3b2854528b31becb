// Package tenant implements `miscim tenant check` and `miscim tenant
// show`: a tenant export read and mapped as Entra's provisioning service
// would (internal/entra/tenant, internal/entra/mapping), checked against
// what Metric Insights accepts (internal/entra/tenantcheck), or shown as
// miscim read it. Neither needs a target: nothing is sent.
package tenant

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/entra/tenantcheck"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// NewCmdTenant returns the tenant command group.
func NewCmdTenant(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant <command>",
		Short: "Check or show a tenant export as Entra would provision it",
		Long: `Read a tenant export — miscim's native snapshot, a Microsoft Graph export
directory, or the Entra admin center's CSV downloads (docs/tenant.md) — map
it through the app's attribute mappings (docs/mapping.md; Metric Insights'
documented mapping by default) and scope, and check or show the result.
Nothing is sent to a target.`,
		Example: `  miscim tenant check --tenant export/
  miscim tenant show --tenant tenant.yaml --users`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdCheck(f, nil), NewCmdShow(f, nil))
	return cmd
}

// CheckOptions are the inputs of checkRun.
type CheckOptions struct {
	IO     *iostreams.IOStreams
	Format render.Format
	cmdutil.TenantFlags
	// Report is the path of a JUnit XML report; "" writes none.
	Report string
	// Strict makes warnings fail the check too (exit 3).
	Strict bool
	Now    func() time.Time
}

// NewCmdCheck returns `tenant check`.
func NewCmdCheck(f *cmdutil.Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IO, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "check --tenant PATH [--mapping F] [--scope assigned|all] [--report FILE] [--strict]",
		Short: "Find what Metric Insights will reject or Entra will trip on, before anything is sent",
		Long: `Map every user and group of a tenant export as Entra's provisioning service
would, and report, per object, what will fail before a single request is
sent:

  errors    Metric Insights rejects the object, or Entra fails it: no email
            (MI requires one), a userName over 100 characters, userNames or
            group names equal when compared case-insensitively, no userName
            or group name, a matching attribute empty for an object or the
            same for two, an expression that fails on the object, an active
            value MI does not accept as a boolean, a mapping without
            userName or emails
  warnings  provisioning goes on, but not as the tenant suggests: members
            out of scope left out of their group, a group possibly
            truncated by $expand=members, members unknown to the export,
            active that does not flow or would not disable, a soft-deleted
            user's tombstone UPN over 100 characters, an assigned group that
            is not security-enabled, a mapped attribute no object has,
            documented expression pitfalls
  info      what Entra leaves out by design: nested groups, devices and
            contacts as members, users whose accountEnabled was not exported

Only objects in scope are checked for what their creation would meet (see
--scope and the mapping's scoping filters; docs/mapping.md).

Output: one row per finding (severity, object, problem, and the fix
beneath it on a terminal); the counts on stderr. Piped, each finding is one
tab-separated line: severity, code, object kind, objectId, name,
attribute, problem, fix, source. -o json: {"tenant","format","mapping",
"scope","summary","findings"} (docs/tenant.md). --report writes JUnit XML:
one test case per check, failing when it found errors (or, with --strict,
warnings).

Exit codes: 0 no errors (warnings are allowed unless --strict), 2 the
tenant or mapping cannot be read (the message names the file and line),
3 errors found (or warnings, with --strict).`,
		Example: `  # the bundled sample tenant, with Metric Insights' mapping
  miscim tenant check --tenant docs/examples/tenant/graph

  # a custom mapping, every user of the tenant, JUnit for CI
  miscim tenant check --tenant export/ --mapping mapping.yaml --scope all --report tenant-check.xml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if err := opts.TenantFlags.Check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return checkRun(opts)
		},
	}
	opts.TenantFlags.Register(cmd)
	cmd.Flags().StringVar(&opts.Report, "report", "", "write a JUnit XML report to `FILE`")
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "fail (exit 3) on warnings too")
	_ = cmd.MarkFlagFilename("report", "xml")
	return cmd
}

func checkRun(opts *CheckOptions) error {
	// Claim the report file first: an unwritable path is found before the
	// tenant is read.
	var rep *cmdutil.ReportFile
	if opts.Report != "" {
		var err error
		if rep, err = cmdutil.CreateReport(opts.Report); err != nil {
			return err
		}
		defer rep.Abort()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	mp, err := opts.TenantFlags.Load(now)
	if err != nil {
		return err
	}
	r := tenantcheck.Check(mp)
	if done, err := render.Structured(opts.IO.Out, opts.Format, checkJSONOf(r)); done {
		if err != nil {
			return err
		}
	} else if err := renderFindings(opts.IO, r); err != nil {
		return err
	}
	if rep != nil {
		b, err := render.JUnitXML(junitOf(r, opts.Strict, started, now().Sub(started)))
		if err != nil {
			return err
		}
		if err := rep.Commit(b); err != nil {
			return err
		}
	}
	if r.Count(tenantcheck.Error) > 0 || opts.Strict && r.Count(tenantcheck.Warning) > 0 {
		return &cmdutil.ExitError{Code: 3}
	}
	return nil
}

// summary is the counts line: objects in scope, findings by severity.
func summary(r *tenantcheck.Report) string {
	return fmt.Sprintf("%s and %s in scope of %s and %s: %s, %s, %s",
		plural(r.UsersInScope, "user"), plural(r.GroupsInScope, "group"), plural(r.Users, "user"), plural(r.Groups, "group"),
		plural(r.Count(tenantcheck.Error), "error"), plural(r.Count(tenantcheck.Warning), "warning"), plural(r.Count(tenantcheck.Info), "note"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func objectText(f tenantcheck.Finding) string {
	switch {
	case f.Object.Kind == "mapping" || f.Object.Kind == "tenant":
		return f.Object.Kind
	case f.Object.Name != "":
		return f.Object.Kind + " " + f.Object.Name
	case f.Object.ID != "":
		return f.Object.Kind + " " + f.Object.ID
	}
	return f.Object.Kind
}

// renderFindings prints one row per finding: SEVERITY, OBJECT, PROBLEM,
// with the fix on a muted line beneath on a terminal; piped, one
// tab-separated record per finding with every field. The summary goes to
// stderr.
func renderFindings(ios *iostreams.IOStreams, r *tenantcheck.Report) error {
	eth := render.NewErrTheme(ios)
	line := summary(r)
	switch {
	case r.Count(tenantcheck.Error) > 0:
		line = eth.Err.Render(line)
	case r.Count(tenantcheck.Warning) > 0:
		line = eth.Warn.Render(line)
	default:
		line = eth.OK.Render(line)
	}
	if len(r.Findings) == 0 {
		if ios.IsStdoutTTY() {
			fmt.Fprintln(ios.Out, "no problems found")
		}
		_, err := fmt.Fprintln(ios.ErrOut, line)
		return err
	}
	var tbl *render.Table
	if !ios.IsStdoutTTY() {
		tbl = render.NewTable(render.Column{Header: "severity"}, render.Column{Header: "code"}, render.Column{Header: "kind"},
			render.Column{Header: "id"}, render.Column{Header: "name"}, render.Column{Header: "attribute"},
			render.Column{Header: "problem"}, render.Column{Header: "fix"}, render.Column{Header: "source"})
		for _, f := range r.Findings {
			tbl.AddRow(f.Severity.String(), f.Code, f.Object.Kind, f.Object.ID, f.Object.Name, f.Attribute, f.Problem, f.Fix, f.Source)
		}
	} else {
		th := render.NewTheme(ios)
		// The object wraps like the problem: one 104-character UPN must not
		// leave the problem a few columns.
		tbl = render.NewTable(render.Column{Header: "severity"}, render.Column{Header: "object", Fit: render.Wrap}, render.Column{Header: "problem", Fit: render.Wrap})
		for _, f := range r.Findings {
			tbl.AddCells(severityCell(th, f.Severity), render.Cell{Text: objectText(f)}, render.Cell{Text: f.Problem})
			if f.Fix != "" {
				tbl.AddCells(render.Cell{}, render.Cell{}, render.Cell{Text: "fix: " + f.Fix, Style: &th.Muted})
			}
		}
	}
	if err := tbl.Render(ios); err != nil {
		return err
	}
	_, err := fmt.Fprintln(ios.ErrOut, line)
	return err
}

func severityCell(th render.Theme, s tenantcheck.Severity) render.Cell {
	switch s {
	case tenantcheck.Error:
		return render.Cell{Text: "error", Style: &th.Err}
	case tenantcheck.Warning:
		return render.Cell{Text: "warning", Style: &th.Warn}
	}
	return render.Cell{Text: "info", Style: &th.Muted}
}

// checkJSON is the JSON/YAML output (docs/tenant.md, "tenant check").
type checkJSON struct {
	Tenant   string        `json:"tenant"`
	Format   string        `json:"format"`
	Mapping  string        `json:"mapping"`
	Scope    string        `json:"scope"`
	Summary  summaryJSON   `json:"summary"`
	Findings []findingJSON `json:"findings"`
}

type summaryJSON struct {
	Users         int `json:"users"`
	Groups        int `json:"groups"`
	UsersInScope  int `json:"usersInScope"`
	GroupsInScope int `json:"groupsInScope"`
	Errors        int `json:"errors"`
	Warnings      int `json:"warnings"`
	Info          int `json:"info"`
}

type findingJSON struct {
	Severity  string     `json:"severity"`
	Code      string     `json:"code"`
	Object    objectJSON `json:"object"`
	Attribute string     `json:"attribute,omitempty"`
	Problem   string     `json:"problem"`
	Fix       string     `json:"fix"`
	Source    string     `json:"source,omitempty"`
}

type objectJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

func checkJSONOf(r *tenantcheck.Report) checkJSON {
	out := checkJSON{Tenant: r.Tenant, Format: string(r.Format), Mapping: r.Mapping, Scope: string(r.Scope),
		Summary: summaryJSON{Users: r.Users, Groups: r.Groups, UsersInScope: r.UsersInScope, GroupsInScope: r.GroupsInScope,
			Errors: r.Count(tenantcheck.Error), Warnings: r.Count(tenantcheck.Warning), Info: r.Count(tenantcheck.Info)},
		Findings: []findingJSON{}}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, findingJSON{Severity: f.Severity.String(), Code: f.Code,
			Object: objectJSON{Kind: f.Object.Kind, ID: f.Object.ID, Name: f.Object.Name}, Attribute: f.Attribute,
			Problem: f.Problem, Fix: f.Fix, Source: f.Source})
	}
	return out
}

const suiteName = "miscim tenant check"

// junitOf is the report: one test case per check — every check tenant
// check runs, and each loader finding that occurred — so that CI sees the
// same test names from run to run. A check fails with its errors (and,
// strict, its warnings); other findings are its system-out.
func junitOf(r *tenantcheck.Report, strict bool, started time.Time, took time.Duration) render.JUnitSuites {
	byCode := map[string][]tenantcheck.Finding{}
	codes := slices.Clone(tenantcheck.Checks)
	for _, f := range r.Findings {
		if _, ok := byCode[f.Code]; !ok && !slices.Contains(codes, f.Code) {
			codes = append(codes, f.Code)
		}
		byCode[f.Code] = append(byCode[f.Code], f)
	}
	s := render.JUnitSuite{Name: suiteName, Timestamp: started.UTC().Format(time.RFC3339), Time: render.JUnitSeconds(took),
		Properties: []render.JUnitProperty{{Name: "tenant", Value: r.Tenant}, {Name: "format", Value: string(r.Format)},
			{Name: "mapping", Value: r.Mapping}, {Name: "scope", Value: string(r.Scope)}}}
	for _, code := range codes {
		c := render.JUnitCase{Name: code, Classname: "miscim.tenant-check", Time: "0.000"}
		var failing, other []string
		worst := tenantcheck.Info
		for _, f := range byCode[code] {
			text := objectText(f) + ": " + f.Problem
			if f.Fix != "" {
				text += "\n  fix: " + f.Fix
			}
			if f.Severity == tenantcheck.Error || strict && f.Severity == tenantcheck.Warning {
				failing = append(failing, text)
				worst = max(worst, f.Severity)
			} else {
				other = append(other, f.Severity.String()+": "+text)
			}
		}
		if len(failing) > 0 {
			c.Failure = &render.JUnitFailure{Message: fmt.Sprintf("%s: %s", plural(len(failing), "finding"), firstLine(failing[0])),
				Type: worst.String(), Text: strings.Join(failing, "\n")}
		}
		if len(other) > 0 {
			c.SystemOut = strings.Join(other, "\n")
		}
		s.Cases = append(s.Cases, c)
	}
	doc := render.JUnitSuites{Name: suiteName, Time: s.Time, Suites: []render.JUnitSuite{s}}
	doc.Totals()
	return doc
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
