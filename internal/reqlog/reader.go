package reqlog

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maxLine bounds one record: bodies are capped by the server's body limit
// (1 MiB by default), twice over for request and response, plus headers.
const maxLine = 8 << 20

// ReadSegment reads the miscim records of one segment, in order, each as
// the current Record whatever its version. A line that is not a record of
// a version this reader knows is reported, not returned. Replay reads
// through Read, which takes every format.
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
		rec, err := DecodeRecord(b)
		if err != nil {
			probs = append(probs, Problem{Position: Position{File: name, Line: line, Offset: -1}, Err: err})
			continue
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return recs, probs, fmt.Errorf("read %s: %w", name, err)
	}
	return recs, probs, nil
}

// ReadDir reads every segment (scim-*.jsonl) of a request-log directory,
// segment after segment in name order: one writer's log in request order.
// (Several replicas' logs are merged by request time by Read.)
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
