package reqlog

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Set is what Read found: the exchanges in replay order, each input file
// with its detected format, and every problem met.
type Set struct {
	Exchanges []Exchange
	Inputs    []Input
	Problems  []Problem
	// Untimed counts the exchanges whose record has no time; they are
	// ordered as Read says.
	Untimed int
}

// Input is one file read.
type Input struct {
	File     string
	Format   Format
	Records  int // exchanges read
	Problems int // records or parts of the file skipped
}

// Read reads request logs from files and directories (recursively; names
// beginning with a dot are left out), each file in its own detected
// format, gzip-compressed or not, and returns the exchanges in replay
// order:
//
//   - by time (the record's request time), then by the record's own
//     sequence number, then in input order (files by path, records in
//     file order);
//   - a record without a time takes the time of the record before it in
//     the same file, or, at the top of a file, of the first timed record
//     after it; in a file without any time, records keep file order and
//     come before every timed record.
//
// A malformed record, or a part of a file that cannot be read (a cut-off
// gzip stream, a truncated JSON document), is a Problem with its
// position; reading goes on. Read returns an error only when a path
// cannot be read at all.
func Read(paths []string) (*Set, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	set := &Set{}
	var keys []orderKey
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		in := Input{File: name}
		first := len(set.Exchanges)
		ReadData(name, data, &in.Format,
			func(x Exchange) { set.Exchanges = append(set.Exchanges, x); in.Records++ },
			func(p Problem) { set.Problems = append(set.Problems, p); in.Problems++ })
		set.Inputs = append(set.Inputs, in)
		keys = appendKeys(keys, set.Exchanges[first:], first)
	}
	for _, x := range set.Exchanges {
		if x.Time.IsZero() {
			set.Untimed++
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if !a.t.Equal(b.t) {
			return a.t.Before(b.t)
		}
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		return a.i < b.i
	})
	ordered := make([]Exchange, len(keys))
	for n, k := range keys {
		ordered[n] = set.Exchanges[k.i]
		ordered[n].OrderTime = k.t
	}
	set.Exchanges = ordered
	return set, nil
}

type orderKey struct {
	t   time.Time
	seq uint64
	i   int
}

// appendKeys adds the order keys of one file's exchanges, giving untimed
// records the time of their neighbours (see Read).
func appendKeys(keys []orderKey, xs []Exchange, base int) []orderKey {
	var last time.Time
	pending := 0 // untimed records at the top of the file
	for n, x := range xs {
		t := x.Time
		if t.IsZero() {
			if last.IsZero() {
				pending++
			}
			t = last
		} else {
			for p := n - pending; p < n; p++ {
				keys[len(keys)-n+p].t = x.Time
			}
			pending = 0
			last = t
		}
		keys = append(keys, orderKey{t: t, seq: x.Seq, i: base + n})
	}
	return keys
}

// expand turns the arguments into the list of files to read: a directory
// stands for every file under it, in lexical order.
func expand(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// ReadData reads the exchanges of one file's contents: it undoes gzip
// (by name or by magic number), detects the format, sets *f, and hands
// each exchange to emit and each problem to problem, in file order.
func ReadData(name string, data []byte, f *Format, emit func(Exchange), problem func(Problem)) {
	if strings.HasSuffix(strings.ToLower(name), ".gz") || bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		f.Gzip = true
		plain, err := gunzip(data)
		if err != nil {
			problem(Problem{Position: Position{File: name, Offset: int64(len(plain))}, Err: err})
		}
		data = plain
	}
	readPlain(name, data, f, emit, problem)
}

// maxInflated bounds a decompressed file (a gzip bomb must not exhaust
// memory); request logs are far smaller.
const maxInflated = 4 << 30

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a readable gzip file: %w", err)
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, io.LimitReader(zr, maxInflated+1))
	switch {
	case err != nil:
		return out.Bytes(), fmt.Errorf("gzip data corrupt or cut short after %d decompressed bytes (%v): what follows is not read", out.Len(), err)
	case out.Len() > maxInflated:
		return out.Bytes()[:maxInflated], fmt.Errorf("decompresses to more than %d bytes: the rest is not read", int64(maxInflated))
	}
	return out.Bytes(), nil
}

// lineIndex maps byte offsets to line numbers.
type lineIndex []int // offsets of the newlines

func newLineIndex(data []byte) lineIndex {
	var nl lineIndex
	for i, c := range data {
		if c == '\n' {
			nl = append(nl, i)
		}
	}
	return nl
}

func (l lineIndex) line(off int) int { return sort.SearchInts(l, off) + 1 }

func readPlain(name string, data []byte, f *Format, emit func(Exchange), problem func(Problem)) {
	lines := newLineIndex(data)
	pos := func(off int) Position { return Position{File: name, Line: lines.line(off), Offset: int64(off)} }
	start := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) { // a UTF-8 byte order mark
		start = 3
	}
	start = skipSpace(data, start)
	if start >= len(data) {
		f.Container = "empty"
		return
	}
	switch {
	case data[start] == '{' && isHAR(data[start:]):
		f.Container = ContainerHAR
		readHAR(data, start, pos, f, emit, problem)
	case data[start] == '{' && json.Valid(bytes.TrimSpace(data[start:lineEnd(data, start)])):
		// The first line holds a whole document: one record per line.
		f.Container = ContainerJSONLines
		readLines(data, start, pos, f, emit, problem)
	case data[start] == '{' || data[start] == '[':
		f.Container = ContainerJSON
		readStream(data, start, pos, f, emit, problem)
	case looksLikeHTTP(data[start:]):
		f.Container = ContainerHTTP
		readHTTPDump(data, pos, emit, problem)
	default:
		f.Container = ContainerUnknown
		line, _, _ := bytes.Cut(data[start:], []byte("\n"))
		problem(Problem{Position: pos(start), Err: fmt.Errorf("not a format replay reads (JSON, JSON Lines, HAR or HTTP/1.1 messages); it starts with %q", clip(string(line)))})
	}
}

// isHAR reports whether the object at the start of data has a "log"
// member first, as every HAR writer puts it.
func isHAR(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	t, err := dec.Token()
	return err == nil && t == "log"
}

// record reads one JSON value of a JSON or JSON Lines file: an object is
// a record (miscim's, or generic), an array a list of records.
func record(raw []byte, p Position, f *Format, emit func(Exchange), problem func(Problem)) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			problem(Problem{Position: p, Err: fmt.Errorf("malformed JSON: %w", err)})
			return
		}
		for i, el := range list {
			ep := p
			ep.Path = fmt.Sprintf("%s[%d]", p.Path, i)
			record(el, ep, f, emit, problem)
		}
		return
	case len(raw) == 0 || raw[0] != '{':
		problem(Problem{Position: p, Err: errNotObject})
		return
	}
	if isMiscimRecord(raw) {
		r, err := DecodeRecord(raw)
		if err == nil {
			var x Exchange
			if x, err = exchangeOf(r, p); err == nil {
				f.addKind(fmt.Sprintf("miscim v%d", r.Format))
				emit(x)
				return
			}
		}
		problem(Problem{Position: p, Err: err})
		return
	}
	x, err := genericExchange(raw, p)
	if err != nil {
		problem(Problem{Position: p, Err: err})
		return
	}
	f.addKind(KindGeneric)
	emit(x)
}

// readLines reads JSON Lines: one value per line; a bad line is reported
// and the next line read.
func readLines(data []byte, off int, pos func(int) Position, f *Format, emit func(Exchange), problem func(Problem)) {
	for off < len(data) {
		end := lineEnd(data, off)
		line := bytes.TrimSpace(data[off:end])
		if len(line) > 0 {
			p := pos(off)
			if !json.Valid(line) {
				problem(Problem{Position: p, Err: lineError(line)})
			} else {
				record(line, p, f, emit, problem)
			}
		}
		off = end
	}
}

// lineError says why a line is not JSON: cut off, or malformed.
func lineError(line []byte) error {
	var v any
	err := json.Unmarshal(line, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset >= int64(len(line)) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the record is cut short (the line ends inside it)")
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

// readStream reads one or more JSON documents, each an object (a record)
// or an array (of records). JSON has no way to resynchronise after a
// syntax error, so the first one ends the file, reported with what was
// left unread.
func readStream(data []byte, start int, pos func(int) Position, f *Format, emit func(Exchange), problem func(Problem)) {
	dec := json.NewDecoder(bytes.NewReader(data[start:]))
	fail := func(off int, err error) {
		problem(Problem{Position: pos(off), Err: streamError(err, len(data)-off)})
	}
	for {
		off := skipSpace(data, start+int(dec.InputOffset()))
		if off >= len(data) {
			return
		}
		switch data[off] {
		case '[':
			if _, err := dec.Token(); err != nil {
				fail(off, err)
				return
			}
			if !decodeElements(dec, data, start, fail, func(i, off int, raw json.RawMessage) {
				p := pos(off)
				p.Path = fmt.Sprintf("[%d]", i)
				record(raw, p, f, emit, problem)
			}) {
				return
			}
			if _, err := dec.Token(); err != nil {
				fail(start+int(dec.InputOffset()), err)
				return
			}
		case '{':
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				fail(off, err)
				return
			}
			record(raw, pos(off), f, emit, problem)
		default:
			fail(off, fmt.Errorf("expected a JSON object or array, found %q", clip(string(data[off:lineEnd(data, off)]))))
			return
		}
	}
}

// decodeElements decodes the elements of the array dec has just opened,
// one by one, handing each to do with its index and its offset in data
// (dec reads data[start:]). A syntax error goes to fail and ends the
// reading: false.
func decodeElements(dec *json.Decoder, data []byte, start int, fail func(int, error), do func(i, off int, raw json.RawMessage)) bool {
	for i := 0; dec.More(); i++ {
		off := skipSpaceAndComma(data, start+int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			fail(off, err)
			return false
		}
		do(i, off, raw)
	}
	return true
}

func skipSpaceAndComma(data []byte, off int) int {
	for off < len(data) && (data[off] == ',' || data[off] == ' ' || data[off] == '\t' || data[off] == '\r' || data[off] == '\n') {
		off++
	}
	return off
}

func streamError(err error, left int) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("the JSON document is cut short: the file ends inside it (%d bytes from here not read)", left)
	}
	return fmt.Errorf("malformed JSON (%v): the remaining %d bytes are not read", err, left)
}

// readHAR walks log.entries entry by entry, so that a malformed entry is
// reported by its index and a truncated archive still yields the entries
// before the cut.
func readHAR(data []byte, start int, pos func(int) Position, f *Format, emit func(Exchange), problem func(Problem)) {
	dec := json.NewDecoder(bytes.NewReader(data[start:]))
	fail := func(off int, err error) {
		problem(Problem{Position: pos(off), Err: streamError(err, len(data)-off)})
	}
	expect := func(d json.Delim) bool {
		off := start + int(dec.InputOffset())
		t, err := dec.Token()
		if err != nil {
			fail(off, err)
			return false
		}
		if t != d {
			fail(off, fmt.Errorf("expected %q, found %v", d.String(), t))
			return false
		}
		return true
	}
	skip := func() bool {
		off := start + int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			fail(off, err)
			return false
		}
		return true
	}
	key := func() (string, bool) {
		off := start + int(dec.InputOffset())
		t, err := dec.Token()
		if err != nil {
			fail(off, err)
			return "", false
		}
		s, _ := t.(string)
		return s, true
	}
	if !expect('{') {
		return
	}
	var version, creator string
	detail := func() {
		f.Detail = strings.TrimSpace(version)
		if creator != "" {
			f.Detail = strings.TrimSpace(f.Detail + " (" + creator + ")")
		}
	}
	entries := false
	for dec.More() {
		k, ok := key()
		if !ok {
			return
		}
		if k != "log" {
			if !skip() {
				return
			}
			continue
		}
		if !expect('{') {
			return
		}
		for dec.More() {
			k, ok := key()
			if !ok {
				return
			}
			switch k {
			case "version":
				off := start + int(dec.InputOffset())
				if err := dec.Decode(&version); err != nil {
					fail(off, err)
					return
				}
				detail()
			case "creator":
				off := start + int(dec.InputOffset())
				var c struct{ Name, Version string }
				if err := dec.Decode(&c); err != nil {
					fail(off, err)
					return
				}
				creator = strings.TrimSpace(c.Name + " " + c.Version)
				detail()
			case "entries":
				entries = true
				if !expect('[') {
					return
				}
				if !decodeElements(dec, data, start, fail, func(i, off int, raw json.RawMessage) {
					p := pos(off)
					p.Path = fmt.Sprintf("log.entries[%d]", i)
					x, err := harExchange(raw, p)
					if err != nil {
						problem(Problem{Position: p, Err: err})
						return
					}
					emit(x)
				}) {
					return
				}
				if !expect(']') {
					return
				}
			default:
				if !skip() {
					return
				}
			}
		}
		if !expect('}') {
			return
		}
	}
	if !entries {
		problem(Problem{Position: pos(start), Err: errors.New("HAR file without log.entries: nothing to replay")})
	}
}
