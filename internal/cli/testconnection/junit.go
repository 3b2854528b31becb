package testconnection

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/probe"
)

// JUnit XML, the subset CI systems read (Jenkins, GitLab, GitHub actions):
// one testsuite, one testcase per check, <failure> for a failed check,
// <skipped> for a skipped one.

// JUnitSuites is the document root.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is the test-connection run.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []JUnitProperty `xml:"properties>property"`
	Cases      []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is a name/value pair of the suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one check.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure"`
	Skipped   *JUnitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure marks a failed check: message is the detail, the text the
// hint.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnitSkipped marks a skipped check.
type JUnitSkipped struct {
	Message string `xml:"message,attr"`
}

const suiteName = "miscim test-connection"

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// junitOf builds the report document.
func junitOf(rpt Report, rs []probe.Result, started time.Time) JUnitSuites {
	s := JUnitSuite{
		Name:       suiteName,
		Tests:      len(rs),
		Timestamp:  started.UTC().Format(time.RFC3339),
		Properties: []JUnitProperty{{Name: "target", Value: rpt.Target}, {Name: "passed", Value: fmt.Sprint(rpt.Passed)}},
	}
	var total time.Duration
	for _, r := range rs {
		total += r.Duration
		c := JUnitCase{Name: r.Name, Classname: "miscim.test-connection", Time: seconds(r.Duration)}
		switch r.Status {
		case probe.Fail:
			s.Failures++
			typ := "required"
			if !r.Required {
				typ = "optional"
			}
			text := ""
			if r.Hint != "" {
				text = "hint: " + r.Hint
			}
			c.Failure = &JUnitFailure{Message: r.Detail, Type: typ, Text: text}
		case probe.Skip:
			s.Skipped++
			c.Skipped = &JUnitSkipped{Message: r.Detail}
		default:
			c.SystemOut = string(r.Status) + ": " + r.Detail
			if r.Hint != "" {
				c.SystemOut += "\nhint: " + r.Hint
			}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = seconds(total)
	return JUnitSuites{Name: suiteName, Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time, Suites: []JUnitSuite{s}}
}

// reportFile is a report being written: a temporary file beside the
// destination, renamed over it only once complete, so that a CI job never
// reads half a report.
type reportFile struct {
	path string
	tmp  *os.File
}

// createReport claims the temporary file. Failure is an InputError (exit
// 2): the path is the user's to fix.
func createReport(path string) (*reportFile, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, &cmdutil.InputError{Err: fmt.Errorf("--report %s is a directory", path), Hints: []string{"give a file name such as junit.xml"}}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, &cmdutil.InputError{Err: fmt.Errorf("cannot write --report %s: %w", path, err), Hints: []string{"check that the directory exists and is writable"}}
	}
	return &reportFile{path: path, tmp: tmp}, nil
}

// commit writes the document and renames it into place.
func (r *reportFile) commit(doc JUnitSuites) error {
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	b = append([]byte(xml.Header), b...)
	b = append(b, '\n')
	_, err = r.tmp.Write(b)
	if err == nil {
		err = r.tmp.Sync()
	}
	if cerr := r.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp makes 0600 files; a report is no secret.
		err = os.Chmod(r.tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(r.tmp.Name(), r.path)
	}
	if err != nil {
		os.Remove(r.tmp.Name())
		r.tmp = nil
		return &cmdutil.InputError{Err: fmt.Errorf("write --report %s: %w", r.path, err)}
	}
	r.tmp = nil
	return nil
}

// abort removes the temporary file of a report never committed.
func (r *reportFile) abort() {
	if r.tmp != nil {
		r.tmp.Close()
		os.Remove(r.tmp.Name())
		r.tmp = nil
	}
}
