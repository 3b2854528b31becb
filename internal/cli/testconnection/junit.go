package testconnection

import (
	"fmt"
	"time"

	"github.com/miscim/miscim/internal/probe"
	"github.com/miscim/miscim/internal/render"
)

// The JUnit report: one testsuite, one testcase per check, <failure> for
// a failed check, <skipped> for a skipped one.

const suiteName = "miscim test-connection"

// junitOf builds the report document.
func junitOf(rpt Report, rs []probe.Result, started time.Time) render.JUnitSuites {
	s := render.JUnitSuite{
		Name:       suiteName,
		Timestamp:  started.UTC().Format(time.RFC3339),
		Properties: []render.JUnitProperty{{Name: "target", Value: rpt.Target}, {Name: "passed", Value: fmt.Sprint(rpt.Passed)}},
	}
	var total time.Duration
	for _, r := range rs {
		total += r.Duration
		c := render.JUnitCase{Name: r.Name, Classname: "miscim.test-connection", Time: render.JUnitSeconds(r.Duration)}
		switch r.Status {
		case probe.Fail:
			typ := "required"
			if !r.Required {
				typ = "optional"
			}
			text := ""
			if r.Hint != "" {
				text = "hint: " + r.Hint
			}
			c.Failure = &render.JUnitFailure{Message: r.Detail, Type: typ, Text: text}
		case probe.Skip:
			c.Skipped = &render.JUnitSkipped{Message: r.Detail}
		default:
			c.SystemOut = string(r.Status) + ": " + r.Detail
			if r.Hint != "" {
				c.SystemOut += "\nhint: " + r.Hint
			}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = render.JUnitSeconds(total)
	doc := render.JUnitSuites{Name: suiteName, Time: s.Time, Suites: []render.JUnitSuite{s}}
	doc.Totals()
	return doc
}
