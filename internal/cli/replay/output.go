package replay

import (
	"fmt"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/replay"
	"github.com/miscim/miscim/internal/reqlog"
)

// The JSON (and YAML) output: stable field names, documented in
// docs/replay.md.

// Output is the document -o json prints.
type Output struct {
	Target     string     `json:"target"`
	DryRun     bool       `json:"dryRun"`
	Inputs     []Input    `json:"inputs"`
	Problems   []Problem  `json:"problems"`
	Summary    Summary    `json:"summary"`
	Mismatches []Mismatch `json:"mismatches"`
	Failures   []Failure  `json:"failures"`
	// Requests is the plan, in dry runs only.
	Requests []PlannedRequest `json:"requests,omitempty"`
}

// Input is one file read.
type Input struct {
	File     string `json:"file"`
	Format   string `json:"format"`
	Records  int    `json:"records"`
	Problems int    `json:"problems"`
}

// Problem is a malformed record or unreadable part of a file.
type Problem struct {
	Source string `json:"source"`
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Offset int64  `json:"offset"`
	Path   string `json:"path,omitempty"`
	Error  string `json:"error"`
}

// Summary counts the outcome.
type Summary struct {
	Records    int             `json:"records"`
	Planned    int             `json:"planned"`
	Writes     int             `json:"writes"`
	Sent       int             `json:"sent"`
	Matched    int             `json:"matched"`
	Mismatched int             `json:"mismatched"`
	Failed     int             `json:"failed"`
	Unchecked  int             `json:"unchecked"`
	Skipped    int             `json:"skipped"`
	Malformed  int             `json:"malformed"`
	NotSent    int             `json:"notSent"`
	Filtered   replay.Filtered `json:"filtered"`
	DurationMs int64           `json:"durationMs"`
	Rate       float64         `json:"requestsPerSecond"`
	IDs        int             `json:"idsRemapped"`
	Stopped    string          `json:"stopped"`
}

// Mismatch is one request whose answer differs from the logged one.
type Mismatch struct {
	Index          int                 `json:"index"`
	Source         string              `json:"source"`
	Method         string              `json:"method"`
	Path           string              `json:"path"`
	Sent           string              `json:"sent"`
	ExpectedStatus int                 `json:"expectedStatus"`
	Status         int                 `json:"status"`
	Differences    []replay.Difference `json:"differences"`
	Notes          []string            `json:"notes"`
	Diff           string              `json:"diff"`
}

// Failure is a request that got no answer.
type Failure struct {
	Index  int    `json:"index"`
	Source string `json:"source"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Sent   string `json:"sent"`
	Error  string `json:"error"`
}

// PlannedRequest is one request of a dry run's plan.
type PlannedRequest struct {
	Index          int    `json:"index"`
	Time           string `json:"time"`
	Method         string `json:"method"`
	Path           string `json:"path"`
	ExpectedStatus int    `json:"expectedStatus"`
	Source         string `json:"source"`
	Write          bool   `json:"write"`
	Skip           string `json:"skip,omitempty"`
}

func inputsOf(set *reqlog.Set) []Input {
	out := make([]Input, 0, len(set.Inputs))
	for _, in := range set.Inputs {
		out = append(out, Input{File: in.File, Format: in.Format.String(), Records: in.Records, Problems: in.Problems})
	}
	return out
}

func problemsOf(set *reqlog.Set) []Problem {
	out := make([]Problem, 0, len(set.Problems))
	for _, p := range set.Problems {
		out = append(out, Problem{Source: p.Position.String(), File: p.File, Line: p.Line, Offset: p.Offset, Path: p.Path, Error: p.Err.Error()})
	}
	return out
}

func pathOf(r *replay.Request) string {
	_, p, _ := strings.Cut(r.Display, " ")
	return p
}

// diffOf is the unified diff of a mismatch in -o json and reports.
func diffOf(r replay.Result) string {
	return render.UnifiedDiff("expected", "actual", r.Expected, r.Actual, 3, maxDiffLines)
}

// maxDiffLines caps the diff of one mismatch.
const maxDiffLines = 80

func summaryOf(set *reqlog.Set, plan *replay.Plan, rep *replay.Report) Summary {
	s := Summary{Records: len(set.Exchanges), Planned: len(plan.Requests), Writes: plan.Writes(), Filtered: plan.Filtered, Malformed: len(set.Problems)}
	s.Skipped = s.Malformed
	if rep == nil {
		for _, r := range plan.Requests {
			if r.Skip != "" {
				s.Skipped++
			}
		}
		return s
	}
	s.Sent = rep.Sent()
	s.Matched = rep.Count(replay.Matched)
	s.Mismatched = rep.Count(replay.Mismatched)
	s.Failed = rep.Count(replay.Failed)
	s.Unchecked = rep.Count(replay.Unchecked)
	s.Skipped += rep.Count(replay.Skipped)
	s.NotSent = rep.Count(replay.NotSent)
	s.DurationMs = rep.Duration.Milliseconds()
	if rep.Duration > 0 {
		s.Rate = float64(int(float64(s.Sent)/rep.Duration.Seconds()*10+0.5)) / 10
	}
	s.IDs = rep.IDs
	s.Stopped = rep.Stopped
	return s
}

func outputOf(set *reqlog.Set, plan *replay.Plan, rep *replay.Report, targetName string) Output {
	o := Output{Target: targetName, DryRun: rep == nil, Inputs: inputsOf(set), Problems: problemsOf(set), Summary: summaryOf(set, plan, rep),
		Mismatches: []Mismatch{}, Failures: []Failure{}}
	if rep == nil {
		o.Requests = []PlannedRequest{}
		for _, r := range plan.Requests {
			at := ""
			if !r.X.Time.IsZero() {
				at = r.X.Time.UTC().Format(time.RFC3339Nano)
			}
			o.Requests = append(o.Requests, PlannedRequest{Index: r.Index, Time: at, Method: r.X.Method, Path: pathOf(r), ExpectedStatus: r.X.Status, Source: r.X.Pos.String(), Write: r.Write, Skip: r.Skip})
		}
		return o
	}
	for _, r := range rep.Results {
		switch r.Outcome {
		case replay.Mismatched:
			notes := r.Notes
			if notes == nil {
				notes = []string{}
			}
			o.Mismatches = append(o.Mismatches, Mismatch{Index: r.Request.Index, Source: r.Request.X.Pos.String(), Method: r.Request.X.Method, Path: pathOf(r.Request),
				Sent: r.Sent, ExpectedStatus: r.Request.X.Status, Status: r.Status, Differences: r.Differences, Notes: notes, Diff: diffOf(r)})
		case replay.Failed:
			o.Failures = append(o.Failures, Failure{Index: r.Request.Index, Source: r.Request.X.Pos.String(), Method: r.Request.X.Method, Path: pathOf(r.Request), Sent: r.Sent, Error: errText(r.Err)})
		}
	}
	return o
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
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

// renderPlan prints a dry run: the inputs with their formats, the
// requests in order, and a line on stderr saying what would be sent.
func renderPlan(opts *Options, set *reqlog.Set, plan *replay.Plan, targetName string) error {
	ios := opts.IO
	if done, err := render.Structured(ios.Out, opts.Format, outputOf(set, plan, nil, targetName)); done {
		return err
	}
	if err := inputsTable(ios, set); err != nil {
		return err
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out)
	}
	t := render.NewTable(
		render.Column{Header: "#"},
		render.Column{Header: "time", Hide: 2},
		render.Column{Header: "request", Fit: render.Wrap},
		render.Column{Header: "logged"},
		render.Column{Header: "source", Fit: render.Truncate, Hide: 1},
		render.Column{Header: "note", Fit: render.Wrap},
	)
	for _, r := range plan.Requests {
		at := "-"
		if !r.X.Time.IsZero() {
			at = r.X.Time.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		status := "-"
		if r.X.HasResponse() {
			status = fmt.Sprint(r.X.Status)
		}
		note := r.Skip
		if note != "" {
			note = "skipped: " + note
		}
		t.AddRow(fmt.Sprint(r.Index), at, r.Display, status, r.X.Pos.String(), note)
	}
	if err := t.Render(ios); err != nil {
		return err
	}
	s := summaryOf(set, plan, nil)
	eth := render.NewErrTheme(ios)
	line := fmt.Sprintf("dry run: %d request(s) (%d write(s)) would be sent to %s; %d skipped, %d filtered out", s.Planned-(s.Skipped-s.Malformed), s.Writes, targetName, s.Skipped, s.Filtered.Total())
	if set.Untimed > 0 {
		line += fmt.Sprintf("; %d record(s) without a time ordered by their neighbours", set.Untimed)
	}
	_, err := fmt.Fprintln(ios.ErrOut, eth.Muted.Render(line))
	return err
}

// inputsTable lists the files read with their detected formats.
func inputsTable(ios *iostreams.IOStreams, set *reqlog.Set) error {
	t := render.NewTable(
		render.Column{Header: "file", Fit: render.Wrap},
		render.Column{Header: "format"},
		render.Column{Header: "records"},
		render.Column{Header: "problems"},
	)
	for _, in := range set.Inputs {
		t.AddRow(in.File, in.Format.String(), fmt.Sprint(in.Records), fmt.Sprint(in.Problems))
	}
	return t.Render(ios)
}

// renderResult prints a run: each mismatch and failure, then the summary
// table, then the verdict on stderr.
func renderResult(opts *Options, set *reqlog.Set, plan *replay.Plan, rep *replay.Report, targetName string) error {
	ios := opts.IO
	if done, err := render.Structured(ios.Out, opts.Format, outputOf(set, plan, rep, targetName)); done {
		return err
	}
	th := render.NewTheme(ios)
	tty := ios.IsStdoutTTY()
	width := 0
	if tty {
		width = ios.TerminalWidth()
	}
	var b strings.Builder
	// line writes one line of free text, folded to the terminal's width
	// (and made safe for it) on a terminal.
	line := func(prefix, text string, style func(...string) string) {
		w := 0
		if width > 0 {
			w = max(width-render.DisplayWidth(prefix), 20)
		}
		for _, part := range render.Fold(text, w, "  ") {
			if style != nil {
				part = style(part)
			}
			b.WriteString(prefix + part + "\n")
		}
	}
	for _, r := range rep.Results {
		if r.Outcome != replay.Mismatched && r.Outcome != replay.Failed {
			continue
		}
		mark := "MISMATCH"
		if r.Outcome == replay.Failed {
			mark = "FAILED"
		}
		if tty && ios.ColorEnabled() {
			mark = "✗"
		}
		line("", mark+" "+fmt.Sprintf("#%d %s", r.Request.Index, r.Request.Display), th.Bold.Render)
		line("  ", "from "+r.Request.X.Pos.String(), th.Muted.Render)
		if r.Sent != "" && r.Sent != r.Request.Rel {
			line("  ", "sent "+r.Request.X.Method+" "+r.Sent, nil)
		}
		if r.Outcome == replay.Failed {
			line("  ", errText(r.Err), th.Err.Render)
			b.WriteString("\n")
			continue
		}
		if r.Status != r.Request.X.Status {
			line("  ", fmt.Sprintf("status %d, expected %d", r.Status, r.Request.X.Status), th.Err.Render)
		}
		for _, n := range r.Notes {
			line("  ", "note: "+n, th.Warn.Render)
		}
		if err := render.WriteDiff(&b, th, "  ", "expected", "actual", r.Expected, r.Actual, 3, maxDiffLines, width); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	if _, err := fmt.Fprint(ios.Out, b.String()); err != nil {
		return err
	}
	s := summaryOf(set, plan, rep)
	t := render.NewTable(
		render.Column{Header: "sent"}, render.Column{Header: "matched"}, render.Column{Header: "mismatched"},
		render.Column{Header: "failed"}, render.Column{Header: "unchecked", Hide: 2}, render.Column{Header: "skipped"},
		render.Column{Header: "filtered", Hide: 1}, render.Column{Header: "time"}, render.Column{Header: "req/s"},
	)
	cell := func(n int, style *render.Theme, bad bool) render.Cell {
		c := render.Cell{Text: fmt.Sprint(n)}
		if bad && n > 0 && style != nil {
			c.Style = &style.Err
		}
		return c
	}
	t.AddCells(cell(s.Sent, nil, false), cell(s.Matched, nil, false), cell(s.Mismatched, &th, true), cell(s.Failed, &th, true),
		cell(s.Unchecked, nil, false), cell(s.Skipped, nil, false), cell(s.Filtered.Total(), nil, false),
		render.Cell{Text: formatDuration(rep.Duration)}, render.Cell{Text: fmt.Sprintf("%.1f", s.Rate)})
	if err := t.Render(ios); err != nil {
		return err
	}
	return verdict(ios, s, rep, targetName)
}

// verdict is the last line, on stderr.
func verdict(ios *iostreams.IOStreams, s Summary, rep *replay.Report, targetName string) error {
	eth := render.NewErrTheme(ios)
	var line string
	switch {
	case s.Mismatched+s.Failed == 0:
		line = eth.OK.Render(fmt.Sprintf("replay: %d request(s) sent to %s, all answers as logged", s.Sent, targetName))
		if s.Unchecked > 0 {
			line += eth.Muted.Render(fmt.Sprintf(" (%d without a logged response to compare)", s.Unchecked))
		}
	default:
		line = eth.Err.Render(fmt.Sprintf("replay: %d of %d request(s) sent to %s differ from the log (%d mismatched, %d failed)", s.Mismatched+s.Failed, s.Sent, targetName, s.Mismatched, s.Failed))
	}
	switch rep.Stopped {
	case "mismatch":
		line += eth.Muted.Render(fmt.Sprintf("; stopped at the first one (--stop-on-mismatch), %d not sent", s.NotSent))
	case "unavailable":
		line += eth.Muted.Render(fmt.Sprintf("; the target was lost, %d not sent", s.NotSent))
	case "auth":
		line += eth.Muted.Render(fmt.Sprintf("; the target refused the credentials, %d not sent", s.NotSent))
	case "interrupted":
		line += eth.Muted.Render(fmt.Sprintf("; interrupted, %d not sent", s.NotSent))
	}
	_, err := fmt.Fprintln(ios.ErrOut, line)
	return err
}

// The JUnit report: one test case per planned request (named by its
// index and request), a failure for a mismatch with the diff as text, an
// error for a request that got no answer, skipped for what was not sent;
// malformed records are skipped cases named by their position.

const suiteName = "miscim replay"

func junitCase(r *replay.Request) render.JUnitCase {
	return render.JUnitCase{Name: fmt.Sprintf("#%d %s", r.Index, r.Display), Classname: "miscim.replay"}
}

func problemCases(set *reqlog.Set) []render.JUnitCase {
	var out []render.JUnitCase
	for _, p := range set.Problems {
		out = append(out, render.JUnitCase{Name: p.Position.String(), Classname: "miscim.replay.input", Time: "0.000", Skipped: &render.JUnitSkipped{Message: "malformed record skipped: " + p.Err.Error()}})
	}
	return out
}

func junitSuite(set *reqlog.Set, targetName string, started time.Time, cases []render.JUnitCase, d time.Duration) render.JUnitSuites {
	s := render.JUnitSuite{
		Name:       suiteName,
		Timestamp:  started.UTC().Format(time.RFC3339),
		Time:       render.JUnitSeconds(d),
		Properties: []render.JUnitProperty{{Name: "target", Value: targetName}, {Name: "records", Value: fmt.Sprint(len(set.Exchanges))}},
		Cases:      append(cases, problemCases(set)...),
	}
	doc := render.JUnitSuites{Name: suiteName, Time: s.Time, Suites: []render.JUnitSuite{s}}
	doc.Totals()
	return doc
}

func junitOf(set *reqlog.Set, rep *replay.Report, targetName string, started time.Time) render.JUnitSuites {
	cases := make([]render.JUnitCase, 0, len(rep.Results))
	for _, r := range rep.Results {
		c := junitCase(r.Request)
		c.Time = render.JUnitSeconds(r.Duration)
		switch r.Outcome {
		case replay.Mismatched:
			msg := "body differs from the log"
			if r.Status != r.Request.X.Status {
				msg = fmt.Sprintf("status %d, expected %d", r.Status, r.Request.X.Status)
			}
			text := strings.Join(append(append([]string{}, r.Notes...), diffOf(r)), "\n")
			c.Failure = &render.JUnitFailure{Message: msg, Type: "mismatch", Text: text}
		case replay.Failed:
			c.Error = &render.JUnitFailure{Message: errText(r.Err), Type: "failed"}
		case replay.Skipped:
			c.Skipped = &render.JUnitSkipped{Message: r.Request.Skip}
		case replay.NotSent:
			c.Skipped = &render.JUnitSkipped{Message: "not sent: the run stopped (" + rep.Stopped + ")"}
		case replay.Unchecked:
			c.SystemOut = fmt.Sprintf("status %d; no logged response to compare", r.Status)
		}
		cases = append(cases, c)
	}
	return junitSuite(set, targetName, started, cases, rep.Duration)
}

func junitOfPlan(set *reqlog.Set, plan *replay.Plan, targetName string, started time.Time) render.JUnitSuites {
	cases := make([]render.JUnitCase, 0, len(plan.Requests))
	for _, r := range plan.Requests {
		c := junitCase(r)
		c.Time = "0.000"
		c.Skipped = &render.JUnitSkipped{Message: "not sent: dry run"}
		cases = append(cases, c)
	}
	return junitSuite(set, targetName, started, cases, 0)
}
