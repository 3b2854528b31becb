package simulate

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/entra/provlog"
	entrasync "github.com/miscim/miscim/internal/entra/sync"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// cycleOutput is one cycle as the command reports it.
type cycleOutput struct {
	where   where
	state   string
	dialect entrasync.Dialect
	res     *entrasync.Result
	records []provlog.Record
	planned []entrasync.Request
}

// collector keeps the records of a cycle when something needs them (the
// report, provisioning on demand, a dry run's plan).
type collector struct {
	keep    bool
	mu      gosync.Mutex
	records []provlog.Record
}

func (c *collector) Add(_ context.Context, r provlog.Record) error {
	if !c.keep {
		return nil
	}
	c.mu.Lock()
	c.records = append(c.records, r)
	c.mu.Unlock()
	return nil
}

// live draws the progress bar and one line per object on a terminal
// (stderr), and nothing otherwise (DESIGN §1.2).
type live struct {
	on   bool
	ios  *iostreams.IOStreams
	th   render.Theme
	mu   gosync.Mutex
	bar  *iostreams.Progress
	last int
}

func newLive(ios *iostreams.IOStreams, on bool) *live {
	return &live{on: on && ios.IsStderrTTY(), ios: ios, th: render.NewErrTheme(ios)}
}

// progress is the simulator's progress callback.
func (l *live) progress(done, total int) {
	if !l.on {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bar == nil {
		l.bar = l.ios.NewProgress(total, "simulate", "obj")
	}
	l.bar.Add(done - l.last)
	l.last = done
}

// sink is the live line: provlog's line of each record, laid out by
// render, above the bar.
func (l *live) sink() provlog.Sink {
	if !l.on {
		return nil
	}
	return provlog.LineSink(func(line provlog.Line) error {
		text := render.ProvisioningLine(l.th, line, l.ios.TerminalWidth())
		l.mu.Lock()
		bar := l.bar
		l.mu.Unlock()
		if bar != nil && bar.Active() {
			bar.Println(text)
			return nil
		}
		fmt.Fprintln(l.ios.ErrOut, text)
		return nil
	})
}

func (l *live) done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bar != nil {
		l.bar.Done()
		l.bar = nil
	}
}

// detailOf is what a line or a report says beside the status: the error
// code and reason, the skip reason, or the changed attributes.
func detailOf(r provlog.Record) string {
	if ei := r.ProvisioningStatusInfo.ErrorInformation; ei != nil {
		return ei.ErrorCode + ": " + strings.Join(strings.Fields(ei.Reason), " ")
	}
	for i := len(r.ProvisioningSteps) - 1; i >= 0; i-- {
		if sr := r.ProvisioningSteps[i].Details["SkipReason"]; sr != "" && r.ProvisioningStatusInfo.Status == provlog.StatusSkipped {
			return sr
		}
	}
	var names []string
	for _, m := range r.ModifiedProperties {
		names = append(names, m.DisplayName)
	}
	return strings.Join(names, ", ")
}

// The JSON (and YAML) output: stable field names, documented in
// docs/simulate.md.

// Output is the document -o json prints for one cycle.
type Output struct {
	Cycle      Cycle            `json:"cycle"`
	Target     string           `json:"target"`
	State      string           `json:"state"`
	Dialect    string           `json:"dialect"`
	Summary    Summary          `json:"summary"`
	Quarantine *Quarantine      `json:"quarantine"`
	Planned    []Planned        `json:"planned,omitempty"`
	Records    []provlog.Record `json:"records,omitempty"`
}

// Cycle identifies the cycle.
type Cycle struct {
	ID          string `json:"id"`
	Seq         int64  `json:"seq"`
	Kind        string `json:"kind"`
	JobID       string `json:"jobId"`
	DryRun      bool   `json:"dryRun"`
	Restarted   string `json:"restarted,omitempty"`
	Started     string `json:"started"`
	Finished    string `json:"finished"`
	JobTime     string `json:"jobTime"`
	DurationMs  int64  `json:"durationMs"`
	Interrupted bool   `json:"interrupted"`
}

// Summary counts the cycle's outcome.
type Summary struct {
	Objects           int            `json:"objects"`
	Counts            []Count        `json:"counts"`
	Requests          map[string]int `json:"requests"`
	RequestsTotal     int            `json:"requestsTotal"`
	RequestsPerSecond float64        `json:"requestsPerSecond"`
	Escrowed          int            `json:"escrowed"`
	Staged            int            `json:"staged"`
	Removals          int            `json:"removals"`
	ReferenceFailures int            `json:"referenceFailures"`
	Problems          bool           `json:"problems"`
}

// Count is the number of records of one action and status.
type Count struct {
	Action string `json:"action"`
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// Quarantine is the job's quarantine.
type Quarantine struct {
	Reason       string `json:"reason"`
	Error        string `json:"error"`
	CurrentBegan string `json:"currentBegan"`
	SeriesBegan  string `json:"seriesBegan"`
	SeriesCount  int    `json:"seriesCount"`
	NextAttempt  string `json:"nextAttempt"`
}

// Planned is one request a dry run would send.
type Planned struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   string `json:"body,omitempty"`
}

var actions = []provlog.Action{provlog.ActionCreate, provlog.ActionUpdate, provlog.ActionDisable, provlog.ActionDelete, provlog.ActionStagedDelete, provlog.ActionOther}
var statuses = []provlog.Status{provlog.StatusSuccess, provlog.StatusWarning, provlog.StatusFailure, provlog.StatusSkipped}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func outputOf(co *cycleOutput, withRecords bool) Output {
	r := co.res
	d := r.Finished.Sub(r.Started)
	out := Output{
		Cycle: Cycle{ID: r.CycleID, Seq: r.Seq, Kind: string(r.Kind), JobID: r.JobID, DryRun: r.DryRun, Restarted: r.Restarted,
			Started: rfc3339(r.Started), Finished: rfc3339(r.Finished), JobTime: rfc3339(r.JobTime), DurationMs: d.Milliseconds(), Interrupted: r.Interrupted},
		Target: co.where.name, State: co.state, Dialect: string(co.dialect),
		Summary: Summary{Objects: r.Objects, Counts: []Count{}, Requests: map[string]int{}, RequestsTotal: r.TotalRequests(),
			Escrowed: r.Escrowed, Staged: r.Staged, Removals: r.Removals, ReferenceFailures: r.ReferenceFailures, Problems: r.Problems()},
	}
	for m, n := range r.Requests {
		out.Summary.Requests[m] = n
	}
	if d > 0 && !r.DryRun {
		out.Summary.RequestsPerSecond = float64(int(float64(r.TotalRequests())/d.Seconds()*10+0.5)) / 10
	}
	for _, a := range actions {
		for _, s := range statuses {
			if n := r.Count(a, s); n > 0 {
				out.Summary.Counts = append(out.Summary.Counts, Count{Action: string(a), Status: string(s), Count: n})
			}
		}
	}
	if q := r.Quarantine; q != nil {
		out.Quarantine = &Quarantine{Reason: q.Reason, Error: q.Error, CurrentBegan: rfc3339(q.CurrentBegan), SeriesBegan: rfc3339(q.SeriesBegan),
			SeriesCount: q.SeriesCount, NextAttempt: rfc3339(q.NextAttempt)}
	}
	if r.DryRun {
		out.Planned = []Planned{}
		for _, p := range co.planned {
			out.Planned = append(out.Planned, Planned{Method: p.Method, Path: p.Path, Body: string(p.Body)})
		}
	}
	if withRecords {
		out.Records = co.records
		if out.Records == nil {
			out.Records = []provlog.Record{}
		}
	}
	return out
}

// formatDuration is a duration as people read it: 850ms, 12.4s, 3m05s.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// renderCycle prints one cycle: the on-demand steps or the dry run's
// plan, then the summary table and the lines under it.
func renderCycle(o *Options, co *cycleOutput) error {
	ios := o.IO
	if done, err := render.Structured(ios.Out, o.Format, outputOf(co, o.OnDemand != "")); done {
		return err
	}
	th := render.NewTheme(ios)
	r := co.res
	if o.OnDemand != "" {
		if err := renderSteps(ios, th, co.records); err != nil {
			return err
		}
	}
	if r.DryRun {
		if err := renderPlan(ios, co.planned); err != nil {
			return err
		}
	}
	title := fmt.Sprintf("%s cycle %d against %s", r.Kind, r.Seq, co.where.name)
	if r.Kind == entrasync.CycleOnDemand {
		title = "provisioning on demand against " + co.where.name
	}
	if r.DryRun {
		title = "dry run of the " + title + ": nothing sent"
	}
	fmt.Fprintln(ios.Out, th.Bold.Render(title))
	if r.Restarted != "" {
		fmt.Fprintln(ios.Out, th.Warn.Render("restarted: "+r.Restarted+" (a new initial cycle, as Entra starts one)"))
	}
	counts := provlog.Counts{}
	for a, m := range r.Counts {
		for st, n := range m {
			counts[provlog.Key{Action: a, Status: st}] = n
		}
	}
	if counts.Total() > 0 {
		if err := render.ProvisioningSummary(th, counts).Render(ios); err != nil {
			return err
		}
	}
	methods := make([]string, 0, len(r.Requests))
	for m := range r.Requests {
		methods = append(methods, m)
	}
	sort.Slice(methods, func(i, j int) bool { return methodRank(methods[i]) < methodRank(methods[j]) })
	var parts []string
	for _, m := range methods {
		parts = append(parts, fmt.Sprintf("%s %d", m, r.Requests[m]))
	}
	d := r.Finished.Sub(r.Started)
	verb := "sent"
	if r.DryRun {
		verb = "planned"
	}
	fields := []render.Field{
		{Key: "objects", Value: fmt.Sprint(r.Objects)},
		{Key: "requests " + verb, Value: fmt.Sprintf("%d (%s)", r.TotalRequests(), strings.Join(parts, ", "))},
		{Key: "duration", Value: formatDuration(d)},
	}
	if d > 0 && !r.DryRun {
		fields = append(fields, render.Field{Key: "requests/s", Value: fmt.Sprintf("%.1f", float64(r.TotalRequests())/d.Seconds())})
	}
	if r.Escrowed > 0 {
		fields = append(fields, render.Field{Key: "in escrow", Value: fmt.Sprintf("%d (retried on later cycles)", r.Escrowed)})
	}
	if r.ReferenceFailures > 0 {
		fields = append(fields, render.Field{Key: "reference failures", Value: fmt.Sprintf("%d member(s) without a target user, retried on the next cycle", r.ReferenceFailures)})
	}
	if r.Staged > 0 {
		fields = append(fields, render.Field{Key: "staged deletes", Value: fmt.Sprintf("%d of %d removals held back by --delete-threshold %d: run with --allow-deletes to apply them", r.Staged, r.Removals, o.DeleteThreshold)})
	}
	if q := r.Quarantine; q != nil {
		fields = append(fields, render.Field{Key: "quarantine", Value: fmt.Sprintf("%s since %s: %s (next attempt %s)", q.Reason, rfc3339(q.CurrentBegan), q.Error, rfc3339(q.NextAttempt))})
	}
	if r.Interrupted {
		fields = append(fields, render.Field{Key: "interrupted", Value: "the finished objects are saved; the next run resumes"})
	}
	fields = append(fields, render.Field{Key: "state", Value: co.state})
	if err := render.WriteFields(ios, fields); err != nil {
		return err
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out)
	}
	return nil
}

func methodRank(m string) int {
	if i := slices.Index([]string{"GET", "POST", "PATCH", "PUT", "DELETE"}, m); i >= 0 {
		return i
	}
	return 9
}

// renderSteps prints provisioning on demand's steps for each object, as
// the portal lists them.
func renderSteps(ios *iostreams.IOStreams, th render.Theme, records []provlog.Record) error {
	for _, r := range records {
		head := fmt.Sprintf("%s %s: %s, %s", r.SourceIdentity.IdentityType, r.SourceIdentity.DisplayName, r.ProvisioningAction, r.ProvisioningStatusInfo.Status)
		fmt.Fprintln(ios.Out, th.Bold.Render(head))
		t := render.NewTable(render.Column{Header: "step"}, render.Column{Header: "status"}, render.Column{Header: "description", Fit: render.Wrap}, render.Column{Header: "details", Fit: render.Wrap, Hide: 1})
		for _, s := range r.ProvisioningSteps {
			t.AddRow(stepTitle(s), string(s.Status), s.Description, detailsText(s.Details))
		}
		if err := t.Render(ios); err != nil {
			return err
		}
		if ei := r.ProvisioningStatusInfo.ErrorInformation; ei != nil {
			fmt.Fprintln(ios.Out, th.Err.Render(ei.ErrorCode+": "+ei.Reason))
			if ei.RecommendedAction != "" {
				fmt.Fprintln(ios.Out, th.Muted.Render("recommended: "+ei.RecommendedAction))
			}
		}
		for _, m := range r.ModifiedProperties {
			fmt.Fprintf(ios.Out, "  %s: %s → %s\n", m.DisplayName, strOr(m.OldValue, "(none)"), strOr(m.NewValue, "(none)"))
		}
		fmt.Fprintln(ios.Out)
	}
	return nil
}

// stepTitle names a step as the portal's provisioning-on-demand page
// does.
func stepTitle(s provlog.Step) string {
	switch s.ProvisioningStepType {
	case provlog.StepImport:
		return "import"
	case provlog.StepScoping:
		return "determine scope"
	case provlog.StepMatching:
		return "match"
	case provlog.StepProcessing:
		return "action"
	case provlog.StepReferenceResolution:
		return "references"
	case provlog.StepExport:
		return "export"
	}
	return string(s.ProvisioningStepType)
}

func detailsText(d provlog.Details) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+d[k])
	}
	return strings.Join(parts, "; ")
}

func strOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// renderPlan lists the requests a dry run would send.
func renderPlan(ios *iostreams.IOStreams, planned []entrasync.Request) error {
	t := render.NewTable(render.Column{Header: "#"}, render.Column{Header: "request", Fit: render.Wrap}, render.Column{Header: "body", Fit: render.Truncate, Hide: 1})
	for i, p := range planned {
		t.AddRow(fmt.Sprint(i+1), p.Method+" "+p.Path, string(p.Body))
	}
	if err := t.Render(ios); err != nil {
		return err
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out)
	}
	return nil
}

// commitReport writes the JUnit report: a suite per cycle, a test case
// per object; a failure fails its case, a skip or a staged delete skips
// it.
func commitReport(rep *cmdutil.ReportFile, runs []*cycleOutput) error {
	doc := render.JUnitSuites{Name: "miscim simulate"}
	for _, co := range runs {
		r := co.res
		suite := render.JUnitSuite{Name: fmt.Sprintf("%s cycle %d", r.Kind, r.Seq), Timestamp: r.Started.UTC().Format(time.RFC3339),
			Time: render.JUnitSeconds(r.Finished.Sub(r.Started)), Properties: []render.JUnitProperty{
				{Name: "target", Value: co.where.name}, {Name: "cycleId", Value: r.CycleID}, {Name: "jobId", Value: r.JobID},
				{Name: "dialect", Value: string(co.dialect)}, {Name: "dryRun", Value: fmt.Sprint(r.DryRun)}}}
		if q := r.Quarantine; q != nil {
			suite.Properties = append(suite.Properties, render.JUnitProperty{Name: "quarantine", Value: q.Reason + ": " + q.Error})
		}
		for _, rec := range co.records {
			c := render.JUnitCase{Name: fmt.Sprintf("%s %s %s", rec.ProvisioningAction, strings.ToLower(rec.SourceIdentity.IdentityType), rec.SourceIdentity.DisplayName),
				Classname: "simulate." + strings.ToLower(rec.SourceIdentity.IdentityType), Time: render.JUnitSeconds(time.Duration(rec.DurationInMilliseconds) * time.Millisecond)}
			switch rec.ProvisioningStatusInfo.Status {
			case provlog.StatusFailure:
				ei := rec.ProvisioningStatusInfo.ErrorInformation
				msg, text := "failed", ""
				if ei != nil {
					msg, text = ei.ErrorCode, ei.Reason
				}
				c.Failure = &render.JUnitFailure{Message: msg, Type: string(rec.ProvisioningAction), Text: text}
			case provlog.StatusSkipped:
				msg := detailOf(rec)
				if rec.ProvisioningAction == provlog.ActionStagedDelete {
					c.Failure = &render.JUnitFailure{Message: "StagedDelete", Type: "stagedDelete", Text: "held back by the deletion threshold"}
				} else {
					c.Skipped = &render.JUnitSkipped{Message: msg}
				}
			default:
				c.SystemOut = detailOf(rec)
			}
			suite.Cases = append(suite.Cases, c)
		}
		doc.Suites = append(doc.Suites, suite)
	}
	doc.Totals()
	b, err := render.JUnitXML(doc)
	if err != nil {
		return err
	}
	return rep.Commit(b)
}
