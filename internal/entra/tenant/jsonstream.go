package tenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Large JSON files (a Graph export of 100,000 users is about 85 MB) are
// read as a stream: the envelope ({"@odata.context": …, "value": [ … ]})
// token by token, and each array element as one value, validated against
// RFC 8259 and handed over as its bytes, which the jv walker then reads
// without building maps. Memory stays proportional to one element.
//
// Why not encoding/json's Decoder: decoding each element into a
// json.RawMessage scans it twice (once to find its end, once more in
// Unmarshal), and Token is slower still; measured on the load benchmark
// (docs/performance.md), the Decoder alone took about as long as the
// whole 2-second budget on this machine. The scanner here accepts exactly
// what encoding/json accepts (FuzzJSONStream checks that against
// json.Valid) and reads each byte once.

// jsonStream reads one JSON document from r.
type jsonStream struct {
	r    io.Reader
	file string
	buf  []byte
	pos  int   // next unread byte of buf
	base int64 // stream offset of buf[0]
	eof  bool
	rerr error
	line int // line of buf[pos]

	stack []byte // open containers of the envelope: '{' or '['
	state state
}

type state uint8

const (
	stValue      state = iota // a value is expected
	stFirst                   // just after '{' or '[': a key/element or the closer
	stKey                     // after ',' in an object: a key
	stColon                   // after a key
	stCommaOrEnd              // after a value in a container
	stDone                    // the top-level value is complete
)

const maxJSONDepth = 10000 // encoding/json's limit

// streamBuffers recycles the 64 KiB read buffers: an export has a file
// per page and per group.
var streamBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func newJSONStream(r io.Reader, file string) *jsonStream {
	buf := streamBuffers.Get().(*[]byte)
	return &jsonStream{r: r, file: file, buf: (*buf)[:0], line: 1}
}

// release returns the read buffer; the stream and the bytes it returned
// must not be used after.
func (s *jsonStream) release() {
	if cap(s.buf) <= 1<<20 {
		b := s.buf[:0]
		streamBuffers.Put(&b)
	}
	s.buf = nil
}

// fill reads more input, keeping buf[keep:] (keep ≤ pos); it reports
// whether bytes were added.
func (s *jsonStream) fill(keep int) bool {
	if s.eof {
		return false
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.buf = s.buf[:n]
		s.pos -= keep
		s.base += int64(keep)
	}
	if len(s.buf) == cap(s.buf) {
		s.buf = append(s.buf, make([]byte, cap(s.buf))...)[:len(s.buf)]
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err != nil {
		s.eof = true
		if err != io.EOF {
			s.rerr = err
		}
	}
	return n > 0 || !s.eof
}

// peek skips whitespace, counting lines, and returns the next byte; ok
// is false at the end of the input.
func (s *jsonStream) peek() (byte, bool) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case '\n':
				s.line++
				s.pos++
			case ' ', '\t', '\r':
				s.pos++
			default:
				return c, true
			}
		}
		if !s.fill(s.pos) {
			return 0, false
		}
	}
}

func (s *jsonStream) syntax(line int, path, msg string, args ...any) error {
	if s.rerr != nil {
		return &LoadError{Source: Source{File: s.file}, Msg: "read: " + s.rerr.Error(), Err: s.rerr}
	}
	return &LoadError{Source: Source{File: s.file, Line: line, Path: path}, Msg: "not valid JSON: " + fmt.Sprintf(msg, args...),
		Hint: "check that line for a missing comma, quote or bracket"}
}

func describeByte(c byte, ok bool) string {
	if !ok {
		return "the end of the file"
	}
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// separator consumes what must come before the next token in the current
// state (',' or ':'), and reports whether a closer may come instead.
func (s *jsonStream) separator(path string) (closerOK bool, err error) {
	switch s.state {
	case stDone:
		return false, s.syntax(s.line, path, "unexpected data after the end of the document")
	case stColon:
		c, ok := s.peek()
		if c != ':' || !ok {
			return false, s.syntax(s.line, path, "want ':' after an object key, got %s", describeByte(c, ok))
		}
		s.pos++
		s.state = stValue
	case stCommaOrEnd:
		c, ok := s.peek()
		if ok && (c == '}' || c == ']') {
			return true, nil
		}
		if c != ',' || !ok {
			return false, s.syntax(s.line, path, "want ',' or the end of the %s, got %s", s.containerName(), describeByte(c, ok))
		}
		s.pos++
		if s.inObject() {
			s.state = stKey
		} else {
			s.state = stValue
		}
	case stFirst:
		return true, nil
	}
	return false, nil
}

func (s *jsonStream) inObject() bool { return len(s.stack) > 0 && s.stack[len(s.stack)-1] == '{' }

func (s *jsonStream) containerName() string {
	if s.inObject() {
		return "object"
	}
	return "array"
}

// afterValue moves the state on once a value is complete.
func (s *jsonStream) afterValue() {
	if len(s.stack) == 0 {
		s.state = stDone
	} else {
		s.state = stCommaOrEnd
	}
}

// more reports whether the current object or array has another member.
func (s *jsonStream) more() bool {
	c, ok := s.peek()
	return ok && c != '}' && c != ']'
}

// token reads the next token of the envelope: json.Delim for brackets,
// string for keys and strings, json.Number, bool or nil.
func (s *jsonStream) token(path string) (json.Token, error) {
	closerOK, err := s.separator(path)
	if err != nil {
		return nil, err
	}
	c, ok := s.peek()
	if !ok {
		return nil, s.syntax(s.line, path, "the file ends in the middle of the document")
	}
	wantKey := s.state == stKey || (s.state == stFirst && s.inObject())
	switch {
	case (c == '}' || c == ']') && closerOK:
		if (c == '}') != s.inObject() {
			return nil, s.syntax(s.line, path, "unexpected %q in an %s", c, s.containerName())
		}
		s.pos++
		s.stack = s.stack[:len(s.stack)-1]
		s.afterValue()
		return json.Delim(c), nil
	case wantKey:
		if c != '"' {
			return nil, s.syntax(s.line, path, "want an object key (a string), got %s", describeByte(c, true))
		}
		raw, _, err := s.value(path, -1)
		if err != nil {
			return nil, err
		}
		key, _ := jv{b: raw}.str()
		s.state = stColon
		return key, nil
	case c == '{' || c == '[':
		if len(s.stack) >= maxJSONDepth {
			return nil, s.syntax(s.line, path, "nested too deeply")
		}
		s.pos++
		s.stack = append(s.stack, c)
		s.state = stFirst
		return json.Delim(c), nil
	}
	raw, _, err := s.value(path, -1)
	if err != nil {
		return nil, err
	}
	v := jv{b: raw}
	switch {
	case v.isString():
		str, _ := v.str()
		return str, nil
	case v.isNull():
		return nil, nil
	case v.isBool():
		b, _ := v.boolean()
		return b, nil
	}
	return json.Number(raw), nil
}

// expectDelim reads one delimiter token.
func (s *jsonStream) expectDelim(want json.Delim, path, what string) error {
	line := s.line
	t, err := s.token(path)
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return &LoadError{Source: Source{File: s.file, Line: line, Path: path}, Msg: fmt.Sprintf("want %s, got %s", what, describeToken(t))}
	}
	return nil
}

func describeToken(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return string(v)
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprint(t)
}

// element reads the next value whole (an array element, or the value
// after a key) and returns its bytes, valid until the next call, and the
// line it starts on.
func (s *jsonStream) element(path string) ([]byte, int, error) { return s.elementAt(path, -1) }

// elementAt is element for the index-th element of the array at path:
// the path is only rendered for an error.
func (s *jsonStream) elementAt(path string, index int) ([]byte, int, error) {
	if _, err := s.separator(pathOf(path, index)); err != nil {
		return nil, 0, err
	}
	if s.state == stKey || (s.state == stFirst && s.inObject()) {
		return nil, 0, s.syntax(s.line, pathOf(path, index), "want an object key")
	}
	return s.value(path, index)
}

func pathOf(prefix string, index int) string {
	if index < 0 {
		return prefix
	}
	return elemPath(prefix, index)
}

// value scans one complete value at the current position.
func (s *jsonStream) value(prefix string, index int) ([]byte, int, error) {
	if _, ok := s.peek(); !ok {
		return nil, 0, s.syntax(s.line, pathOf(prefix, index), "the file ends where a value should be")
	}
	start := s.pos
	for {
		end, errAt, msg := scanValue(s.buf, start, len(s.stack), s.eof)
		switch {
		case end >= 0:
			raw := s.buf[start:end]
			line := s.line
			s.line += bytes.Count(raw, []byte{'\n'})
			s.pos = end
			s.afterValue()
			return raw, line, nil
		case errAt >= 0 && (msg != errMsgMore || s.eof):
			line := s.line + bytes.Count(s.buf[start:min(errAt, len(s.buf))], []byte{'\n'})
			if msg == errMsgMore {
				msg = "the file ends in the middle of a value"
			}
			return nil, 0, s.syntax(line, pathOf(prefix, index), "%s", msg)
		}
		// The value runs past the buffer: keep it, read more, scan again.
		keep := start
		s.fill(keep)
		start = s.pos
	}
}

// skipValue skips the value after a key, returning it when it is a string.
func (s *jsonStream) skipValue(path string) (string, error) {
	raw, _, err := s.element(path)
	if err != nil {
		return "", err
	}
	if len(raw) > 0 && raw[0] == '"' {
		v, _ := jv{b: raw}.str()
		return v, nil
	}
	return "", nil
}

// end checks that nothing but whitespace follows the top-level value.
func (s *jsonStream) end() error {
	if c, ok := s.peek(); ok {
		return &LoadError{Source: Source{File: s.file, Line: s.line}, Msg: fmt.Sprintf("unexpected data (%s) after the end of the JSON document", describeByte(c, true)),
			Hint: "a file holds one JSON document; put each page in its own file (docs/tenant.md)"}
	}
	if s.rerr != nil {
		return &LoadError{Source: Source{File: s.file}, Msg: "read: " + s.rerr.Error(), Err: s.rerr}
	}
	return nil
}

// errMsgMore marks a scan that reached the end of the buffer.
const errMsgMore = "more input needed"

// scanValue validates the value starting at b[i] and returns the index
// after it; or -1 and the index and text of the error, errMsgMore when
// the value continues past b.
func scanValue(b []byte, i, depth int, atEOF bool) (end, errAt int, msg string) {
	type frame struct {
		obj   bool
		first bool
	}
	var stack []frame
	expectKey := false
	for {
		// One value (or a key) at b[i].
		i = skipJSONSpace(b, i)
		if i >= len(b) {
			return -1, i, errMsgMore
		}
		c := b[i]
		if expectKey && c != '"' {
			return -1, i, fmt.Sprintf("want an object key (a string), got %s", describeByte(c, true))
		}
		switch {
		case c == '{' || c == '[':
			if depth+len(stack) >= maxJSONDepth {
				return -1, i, "nested too deeply"
			}
			stack = append(stack, frame{obj: c == '{', first: true})
			i++
			j := skipJSONSpace(b, i)
			if j >= len(b) {
				return -1, j, errMsgMore
			}
			if (c == '{' && b[j] == '}') || (c == '[' && b[j] == ']') {
				stack = stack[:len(stack)-1]
				i = j + 1
				break
			}
			expectKey = c == '{'
			continue
		case c == '"':
			j, e, m := scanString(b, i)
			if j < 0 {
				return -1, e, m
			}
			i = j
			if expectKey {
				expectKey = false
				i = skipJSONSpace(b, i)
				if i >= len(b) {
					return -1, i, errMsgMore
				}
				if b[i] != ':' {
					return -1, i, fmt.Sprintf("want ':' after an object key, got %s", describeByte(b[i], true))
				}
				i++
				continue
			}
		case c == '-' || (c >= '0' && c <= '9'):
			j, e, m := scanNumber(b, i, atEOF && len(stack) == 0)
			if j < 0 {
				return -1, e, m
			}
			i = j
		case c == 't' || c == 'f' || c == 'n':
			lit := "null"
			switch c {
			case 't':
				lit = "true"
			case 'f':
				lit = "false"
			}
			for k := 0; k < len(lit); k++ {
				if i+k >= len(b) {
					return -1, i + k, errMsgMore
				}
				if b[i+k] != lit[k] {
					return -1, i + k, fmt.Sprintf("invalid character %s in literal %s", describeByte(b[i+k], true), lit)
				}
			}
			i += len(lit)
		default:
			return -1, i, fmt.Sprintf("invalid character %s looking for the beginning of a value", describeByte(c, true))
		}
		// A value is complete: close containers, or expect the next member.
		for {
			if len(stack) == 0 {
				return i, -1, ""
			}
			top := &stack[len(stack)-1]
			i = skipJSONSpace(b, i)
			if i >= len(b) {
				return -1, i, errMsgMore
			}
			c := b[i]
			if c == ',' {
				i++
				expectKey = top.obj
				break
			}
			if (top.obj && c == '}') || (!top.obj && c == ']') {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			what := "array element"
			if top.obj {
				what = "object member"
			}
			return -1, i, fmt.Sprintf("invalid character %s after an %s: want ',' or the end of the %s", describeByte(c, true), what, map[bool]string{true: "object", false: "array"}[top.obj])
		}
	}
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString validates the string at b[i] (which is '"').
func scanString(b []byte, i int) (end, errAt int, msg string) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, -1, ""
		case c == '\\':
			if j+1 >= len(b) {
				return -1, j, errMsgMore
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				for k := 2; k < 6; k++ {
					if j+k >= len(b) {
						return -1, j + k, errMsgMore
					}
					if !isHex(b[j+k]) {
						return -1, j + k, fmt.Sprintf("invalid character %s in a \\u escape", describeByte(b[j+k], true))
					}
				}
				j += 5
			default:
				return -1, j + 1, fmt.Sprintf("invalid escape \\%c in a string", b[j+1])
			}
		case c < 0x20:
			return -1, j, fmt.Sprintf("invalid character %s in a string (control characters must be escaped)", describeByte(c, true))
		}
	}
	return -1, len(b), errMsgMore
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// scanNumber validates RFC 8259's number at b[i]. A number ends at the
// first byte that cannot continue it; at the end of the buffer more input
// is needed to know.
func scanNumber(b []byte, i int, atEOF bool) (end, errAt int, msg string) {
	j := i
	if b[j] == '-' {
		j++
	}
	// At the end of the input a top-level number simply ends.
	digits := func() (int, bool) {
		k := j
		for k < len(b) && b[k] >= '0' && b[k] <= '9' {
			k++
		}
		return k, k < len(b) || atEOF
	}
	if j >= len(b) {
		return -1, j, errMsgMore
	}
	switch {
	case b[j] == '0':
		j++
	case b[j] >= '1' && b[j] <= '9':
		k, ok := digits()
		if !ok {
			return -1, k, errMsgMore
		}
		j = k
	default:
		return -1, j, fmt.Sprintf("invalid character %s in a number", describeByte(b[j], true))
	}
	if j >= len(b) {
		if atEOF {
			return j, -1, ""
		}
		return -1, j, errMsgMore
	}
	if b[j] == '.' {
		j++
		if j >= len(b) {
			return -1, j, errMsgMore
		}
		if b[j] < '0' || b[j] > '9' {
			return -1, j, fmt.Sprintf("invalid character %s after a decimal point", describeByte(b[j], true))
		}
		k, ok := digits()
		if !ok {
			return -1, k, errMsgMore
		}
		j = k
	}
	if j >= len(b) {
		return j, -1, ""
	}
	if b[j] == 'e' || b[j] == 'E' {
		j++
		if j >= len(b) {
			return -1, j, errMsgMore
		}
		if b[j] == '+' || b[j] == '-' {
			j++
		}
		if j >= len(b) {
			return -1, j, errMsgMore
		}
		if b[j] < '0' || b[j] > '9' {
			return -1, j, fmt.Sprintf("invalid character %s in an exponent", describeByte(b[j], true))
		}
		k, ok := digits()
		if !ok {
			return -1, k, errMsgMore
		}
		j = k
	}
	return j, -1, ""
}
