package tenant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// Large JSON files (a Graph export of 100,000 users is about 85 MB) are
// read as a stream with jsontext's Decoder (the syntax layer of Go's
// encoding/json/v2): the envelope ({"@odata.context": …, "value": [ … ]})
// token by token, and each array element whole with ReadValue, which
// validates it (RFC 8259, UTF-8 included) in one pass and hands over its
// bytes; the jv walker then reads those bytes without building maps.
// Memory stays proportional to one element.
//
// jsontext counts bytes, not lines: lineReader, between the file and the
// decoder, notes where the newlines are so that an element, a key or an
// error gets its line.

// jsonOptions are the decoder's options. jsontext's defaults are kept:
// invalid UTF-8 and lone surrogate escapes (\ud800) are errors, not
// U+FFFD, and so is an object that repeats a key: the JSON loaders refuse
// what the YAML loader refuses, instead of keeping one of the two values
// without saying so.
var jsonOptions = []jsontext.Options{}

// jsonReader reads one JSON document.
type jsonReader struct {
	dec   *jsontext.Decoder
	lines lineReader
	file  string
	big   bool // an element larger than maxPooledValue was read: the decoder's buffer is not kept
}

// maxPooledValue is the largest element whose buffer a pooled reader keeps.
const maxPooledValue = 1 << 20

// jsonReaders recycles readers and their buffers: an export has a file per
// page and per group.
var jsonReaders = sync.Pool{New: func() any {
	return &jsonReader{lines: lineReader{buf: make([]byte, 0, 64<<10)}}
}}

// noInput is what a pooled decoder reads from until it is reset.
var noInput = bytes.NewReader(nil)

func newJSONReader(r io.Reader, file string) *jsonReader {
	s := jsonReaders.Get().(*jsonReader)
	s.file, s.big = file, false
	s.lines.reset(r)
	if s.dec == nil {
		s.dec = jsontext.NewDecoder(&s.lines, jsonOptions...)
	} else {
		s.dec.Reset(&s.lines, jsonOptions...)
	}
	return s
}

// release returns the reader to the pool; it and the bytes it returned
// must not be used after.
func (s *jsonReader) release() {
	s.lines.reset(noInput)
	if s.big {
		s.dec = nil
	} else {
		s.dec.Reset(noInput)
	}
	jsonReaders.Put(s)
}

// line is the line of the input just after the last token or value read.
func (s *jsonReader) line() int { return s.lines.lineAt(s.dec.InputOffset()) }

// fail turns the decoder's error into a *LoadError naming the file, the
// line and the JSON path (path when the error has none).
func (s *jsonReader) fail(err error, path string) error {
	var se *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		line := s.lines.lineAt(se.ByteOffset)
		ptr := se.JSONPointer
		if errors.Is(se.Err, jsontext.ErrDuplicateName) {
			ptr = ptr.Parent() // the object's path; the message names the key
		}
		if p := s.pointerPath(ptr); p != "$" || path == "" {
			path = p
		}
		le := &LoadError{Source: Source{File: s.file, Line: line, Path: path}, Err: err,
			Msg: "not valid JSON: " + se.Err.Error(), Hint: "check that line for a missing comma, quote or bracket"}
		switch {
		case errors.Is(se.Err, io.ErrUnexpectedEOF):
			le.Msg = "not valid JSON: the file ends in the middle of the document"
			le.Hint = "the file was cut short: save or export it again"
		case errors.Is(se.Err, jsontext.ErrDuplicateName):
			// The last token is the key itself, taken as it was read.
			le.Msg = fmt.Sprintf("the key %q is given twice in one object", se.JSONPointer.LastToken())
			le.Hint = "give each key once"
		case isTextError(se.Err):
			le.Hint = "JSON text is UTF-8 and a \\u escape of half a surrogate pair is no character: save the file as UTF-8 (Graph writes it so; an editor may have saved it in another encoding)"
		}
		return le
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &LoadError{Source: Source{File: s.file, Line: s.lines.lineAt(s.lines.read), Path: path},
			Msg: "not valid JSON: the file ends in the middle of the document", Hint: "the file was cut short: save or export it again"}
	}
	cause := err
	if u := errors.Unwrap(err); u != nil {
		cause = u
	}
	return &LoadError{Source: Source{File: s.file}, Msg: "read: " + cause.Error(), Err: cause}
}

// isTextError reports jsontext's errors about the text of a string
// rather than the structure: invalid UTF-8 and lone surrogates. jsontext
// exports no sentinel for them; TestGraphTextErrorHints pins the messages.
func isTextError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UTF-8") || strings.Contains(msg, "surrogate")
}

// pointerPath renders a JSON Pointer as the loaders' paths ($.value[3]),
// as deep as the decoder's stack: the envelope and the element being
// read. The part of the pointer inside an element is left out: jsontext
// takes those names from its read buffer, which a refill in the middle
// of the element may have moved on (the name comes out empty or wrong);
// the line says where in the element the error is.
func (s *jsonReader) pointerPath(p jsontext.Pointer) string {
	b := []byte{'$'}
	depth := 0
	for tok := range p.Tokens() {
		depth++
		if depth > s.dec.StackDepth() {
			break
		}
		if k, _ := s.dec.StackIndex(depth); k == '[' {
			b = append(append(append(b, '['), tok...), ']')
		} else {
			b = append(append(b, '.'), tok...)
		}
	}
	return string(b)
}

// token reads the next token of the envelope.
func (s *jsonReader) token(path string) (jsontext.Token, error) {
	t, err := s.dec.ReadToken()
	if err != nil {
		return t, s.fail(err, path)
	}
	return t, nil
}

// more reports whether the current object or array has another member;
// at an error it says yes, and the next read reports the error.
func (s *jsonReader) more() bool {
	k := s.dec.PeekKind()
	return k != '}' && k != ']'
}

// element reads the next value whole (an array element, or the value
// after a key) and returns its bytes, valid until the next call, and the
// line it starts on.
func (s *jsonReader) element(path string) ([]byte, int, error) { return s.elementAt(path, -1) }

// elementAt is element for the index-th element of the array at path:
// the path is only rendered for an error.
func (s *jsonReader) elementAt(path string, index int) ([]byte, int, error) {
	v, err := s.dec.ReadValue()
	if err != nil {
		return nil, 0, s.fail(err, pathOf(path, index))
	}
	if len(v) > maxPooledValue {
		s.big = true
	}
	return v, s.lines.lineAt(s.dec.InputOffset() - int64(len(v))), nil
}

func pathOf(prefix string, index int) string {
	if index < 0 {
		return prefix
	}
	return elemPath(prefix, index)
}

// expectDelim reads an object or an array's opening delimiter.
func (s *jsonReader) expectDelim(want jsontext.Kind, path, what string) error {
	if s.dec.PeekKind() == want {
		_, err := s.token(path)
		return err
	}
	raw, line, err := s.element(path)
	if err != nil {
		return err
	}
	return &LoadError{Source: Source{File: s.file, Line: line, Path: path}, Msg: fmt.Sprintf("want %s, got %s", what, jv{b: raw}.kind())}
}

// describeKind names a token's kind for an error.
func describeKind(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return k.String()
}

// skipValue skips the value after a key, returning it when it is a string.
func (s *jsonReader) skipValue(path string) (string, error) {
	raw, _, err := s.element(path)
	if err != nil {
		return "", err
	}
	v, _ := jv{b: raw}.str()
	return v, nil
}

// end checks that nothing but whitespace follows the top-level value.
func (s *jsonReader) end() error {
	if s.dec.PeekKind() == 0 {
		_, err := s.dec.ReadToken()
		if err == io.EOF {
			return nil
		}
		var se *jsontext.SyntacticError
		if !errors.As(err, &se) {
			return s.fail(err, "")
		}
	}
	rest := s.dec.UnreadBuffer()
	ws := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n"))
	c := "the end of the file"
	if ws < len(rest) {
		c = describeByte(rest[ws])
	}
	return &LoadError{Source: Source{File: s.file, Line: s.lines.lineAt(s.dec.InputOffset() + int64(ws))},
		Msg:  fmt.Sprintf("unexpected data (%s) after the end of the JSON document", c),
		Hint: "a file holds one JSON document; put each page in its own file (docs/tenant.md)"}
}

func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// lineReader passes a file on to the decoder in 64 KiB reads and notes
// the offset of every newline it passes on, so that lineAt can turn the
// decoder's byte offsets into lines. Offsets asked about only grow (an
// element, a key or an error is never before the last one asked about),
// so the newlines before them are dropped as they are passed.
type lineReader struct {
	r    io.Reader
	buf  []byte
	pos  int   // next byte of buf to pass on
	read int64 // bytes passed on
	err  error
	nl   []int64 // newlines passed on, from nl[head] on after the last offset asked about
	head int
	line int // 1 + newlines dropped from nl
}

func (l *lineReader) reset(r io.Reader) {
	*l = lineReader{r: r, buf: l.buf[:0], nl: l.nl[:0], line: 1}
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.pos == len(l.buf) {
		if l.err != nil {
			return 0, l.err
		}
		n, err := l.r.Read(l.buf[:cap(l.buf)])
		l.buf, l.pos, l.err = l.buf[:n], 0, err
		if n == 0 {
			return 0, err
		}
		if l.head > 0 && l.head >= len(l.nl)/2 {
			l.line += l.head
			l.nl = l.nl[:copy(l.nl, l.nl[l.head:])]
			l.head = 0
		}
		for i := 0; ; {
			j := bytes.IndexByte(l.buf[i:], '\n')
			if j < 0 {
				break
			}
			l.nl = append(l.nl, l.read+int64(i+j))
			i += j + 1
		}
	}
	n := copy(p, l.buf[l.pos:])
	l.pos += n
	l.read += int64(n)
	return n, nil
}

// lineAt is the line of the byte at offset off.
func (l *lineReader) lineAt(off int64) int {
	for l.head < len(l.nl) && l.nl[l.head] < off {
		l.head++
	}
	return l.line + l.head
}
