package reqlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Problem is a record a reader could not use: where it is and why. Readers
// report problems and go on; they never drop a record silently.
type Problem struct {
	File string
	Line int
	Err  error
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %v", p.File, p.Line, p.Err) }

// maxLine bounds one record: bodies are capped by the server's body limit
// (1 MiB by default), twice over for request and response, plus headers.
const maxLine = 8 << 20

// ReadSegment reads the records of one segment, in order. A line that is
// not a record of a format this reader knows is reported, not returned.
func ReadSegment(r io.Reader, name string) ([]Record, []Problem, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var recs []Record
	var probs []Problem
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			probs = append(probs, Problem{File: name, Line: line, Err: fmt.Errorf("not a request record: %w", err)})
			continue
		}
		if rec.Format < 1 || rec.Format > FormatVersion {
			probs = append(probs, Problem{File: name, Line: line, Err: fmt.Errorf("format version %d is not one this miscim reads (1 to %d)", rec.Format, FormatVersion)})
			continue
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return recs, probs, fmt.Errorf("read %s: %w", name, err)
	}
	return recs, probs, nil
}

// ReadDir reads every segment (scim-*.jsonl) of a request-log directory in
// request order.
func ReadDir(dir string) ([]Record, []Problem, error) {
	names, err := filepath.Glob(filepath.Join(dir, "scim-*.jsonl"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	var recs []Record
	var probs []Problem
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return recs, probs, err
		}
		r, p, err := ReadSegment(f, name)
		f.Close()
		recs, probs = append(recs, r...), append(probs, p...)
		if err != nil {
			return recs, probs, err
		}
	}
	return recs, probs, nil
}
