package scim

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file parses the filter language of RFC 7644 §3.4.2.2 and the PATCH
// "path" of RFC 7644 §3.5.2 into the syntax tree of filter_ast.go, and renders
// the tree back to canonical syntax.
//
// The parser is a hand-written recursive descent over the string. Nesting is
// bounded (maxFilterDepth) and so is the input (maxFilterLen), so a hostile
// filter cannot exhaust the stack or CPU; every failure is a 400 *Error whose
// detail points at the 1-based character position of the offending token.

const (
	// maxFilterLen bounds the length of a filter or path, in characters.
	maxFilterLen = 10000
	// maxFilterDepth bounds the nesting of "(", "not (" and "[".
	maxFilterDepth = 50

	// Fragments of the limit errors; the fuzz tests recognise them because
	// canonical rendering may legitimately push a filter that sits right at
	// a limit over it.
	tooLongMsg = "characters long; at most"
	tooDeepMsg = "levels deep"
)

// ParseFilter parses a SCIM filter (RFC 7644 §3.4.2.2): attribute
// comparisons with eq, ne, co, sw, ew, gt, ge, lt and le, presence tests
// with pr, "and", "or", "not (...)", parentheses and value paths such as
// `emails[type eq "work"]`. Keywords are case-insensitive; "and" binds tighter
// than "or" and both associate to the left. A bare unquoted comparison value
// that is neither true, false, null nor a JSON number is taken as a string, as
// Microsoft's SCIM reference server and validator do (`userName sw O`).
//
// Errors are *Error with status 400 and scimType invalidFilter.
func ParseFilter(s string) (Expr, error) {
	if err := checkUTF8Text("filter", ScimTypeInvalidFilter, s); err != nil {
		return nil, err
	}
	p := &parser{s: s}
	if err := p.checkLen(); err != nil {
		return nil, err
	}
	p.skipWS()
	if p.eof() {
		return nil, p.errAt(p.pos, "the filter is empty")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if !p.eof() {
		return nil, p.errAt(p.pos, `expected "and", "or" or the end of the filter, %s`, p.found(p.pos))
	}
	return e, nil
}

// ParsePath parses a PATCH operation path (RFC 7644 §3.5.2):
//
//	PATH = attrPath / valuePath [subAttr]
//
// for example `members`, `name.familyName`, `members[value eq "2819c223"]`,
// `emails[type eq "work"].value` or
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.
// Leading and trailing blanks are ignored. Errors are *Error with status 400
// and scimType invalidPath.
func ParsePath(s string) (AttrPath, error) {
	if err := checkUTF8Text("path", ScimTypeInvalidPath, s); err != nil {
		return AttrPath{}, err
	}
	p := &parser{s: s, path: true}
	if err := p.checkLen(); err != nil {
		return AttrPath{}, err
	}
	p.skipWS()
	if p.eof() {
		return AttrPath{}, p.errAt(p.pos, "the path is empty")
	}
	ap, err := p.parseAttrPath()
	if err != nil {
		return AttrPath{}, err
	}
	p.skipWS()
	if !p.eof() {
		return AttrPath{}, p.errAt(p.pos, "expected the end of the path, %s", p.found(p.pos))
	}
	return ap, nil
}

// parser holds the state of one parse. It is created per call: there is no
// shared mutable state.
type parser struct {
	s         string
	pos       int  // byte offset of the next unread byte
	depth     int  // current nesting of "(", "not (" and "["
	inBracket bool // inside a value filter, where "[" may not appear again
	path      bool // parsing a PATCH path: errors are invalidPath
}

func (p *parser) kind() string {
	if p.path {
		return "path"
	}
	return "filter"
}

// errAt builds the 400 error for a problem at byte offset off, reported as
// a 1-based character position.
func (p *parser) errAt(off int, format string, args ...any) *Error {
	typ := ScimTypeInvalidFilter
	if p.path {
		typ = ScimTypeInvalidPath
	}
	if off > len(p.s) {
		off = len(p.s)
	}
	pos := utf8.RuneCountInString(p.s[:off]) + 1
	return BadRequest(typ, "invalid %s at position %d: %s", p.kind(), pos, fmt.Sprintf(format, args...))
}

func (p *parser) checkLen() error {
	if len(p.s) <= maxFilterLen {
		return nil
	}
	if n := utf8.RuneCountInString(p.s); n > maxFilterLen {
		return p.errAt(len(p.s), "the %s is %d %s %d are allowed", p.kind(), n, tooLongMsg, maxFilterLen)
	}
	return nil
}

// enter records one more level of nesting at byte offset off.
func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > maxFilterDepth {
		return p.errAt(off, "parentheses, \"not\" and brackets nest more than %d %s", maxFilterDepth, tooDeepMsg)
	}
	return nil
}

func (p *parser) eof() bool { return p.pos >= len(p.s) }

func (p *parser) at(c byte) bool { return p.pos < len(p.s) && p.s[p.pos] == c }

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) skipWS() {
	for p.pos < len(p.s) && isWS(p.s[p.pos]) {
		p.pos++
	}
}

// wordEnd returns the end of the token starting at off: a run of bytes that
// are neither blanks nor one of the delimiters ( ) [ ] ".
func (p *parser) wordEnd(off int) int {
	for off < len(p.s) {
		switch c := p.s[off]; {
		case isWS(c), c == '(', c == ')', c == '[', c == ']', c == '"':
			return off
		}
		off++
	}
	return off
}

// valueEnd returns the end of a bare comparison value starting at off: it
// runs up to a blank, ")" or "]".
func (p *parser) valueEnd(off int) int {
	for off < len(p.s) {
		if c := p.s[off]; isWS(c) || c == ')' || c == ']' {
			return off
		}
		off++
	}
	return off
}

// keyword consumes the word at the current position if it is kw (lower-case
// ASCII), compared case-insensitively: RFC 7644 §3.4.2.2 makes operators
// and keywords case-insensitive.
func (p *parser) keyword(kw string) bool {
	end := p.wordEnd(p.pos)
	if asciiFoldEq(p.s[p.pos:end], kw) {
		p.pos = end
		return true
	}
	return false
}

// asciiFoldEq reports whether s equals the lower-case ASCII word kw, ignoring
// ASCII case only: Unicode folding would let "falſe" mean false.
func asciiFoldEq(s, kw string) bool {
	if len(s) != len(kw) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

// found describes the token at byte offset off for an error message.
func (p *parser) found(off int) string {
	if off >= len(p.s) {
		return "found end of " + p.kind()
	}
	switch c := p.s[off]; c {
	case '(', ')', '[', ']':
		return fmt.Sprintf("found %q", string(c))
	case '"':
		end := p.stringEnd(off)
		if end < 0 {
			end = len(p.s)
		}
		return "found " + clip(p.s[off:end])
	}
	return fmt.Sprintf("found %q", clip(p.s[off:p.wordEnd(off)]))
}

// clip shortens a token quoted in an error message.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// parseOr parses `andExpr *("or" andExpr)`, building a left-deep tree.
func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipWS()
		if !p.keyword("or") {
			p.pos = save
			return left, nil
		}
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &LogicalExpr{Op: Or, Left: left, Right: right}
	}
}

// parseAnd parses `term *("and" term)`: "and" binds tighter than "or"
// (RFC 7644 §3.4.2.2, Table 5 precedence).
func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipWS()
		if !p.keyword("and") {
			p.pos = save
			return left, nil
		}
		right, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		left = &LogicalExpr{Op: And, Left: left, Right: right}
	}
}

// parseTerm parses a parenthesised filter, `not (filter)` or an attribute
// expression.
func (p *parser) parseTerm() (Expr, error) {
	p.skipWS()
	if p.eof() {
		return nil, p.errAt(p.pos, `expected an attribute name, "(" or "not", %s`, p.found(p.pos))
	}
	if p.at('(') {
		return p.parseGroup()
	}
	start := p.pos
	if p.keyword("not") {
		// RFC 7644 §3.4.2.2: `"not" "(" valFilter ")"`; the parentheses are
		// mandatory.
		p.skipWS()
		if !p.at('(') {
			return nil, p.errAt(p.pos, `expected "(" after "not" at position %d (RFC 7644 requires parentheses), %s`,
				utf8.RuneCountInString(p.s[:start])+1, p.found(p.pos))
		}
		x, err := p.parseGroup()
		if err != nil {
			return nil, err
		}
		return &NotExpr{X: x}, nil
	}
	return p.parseAttrExpr()
}

// parseGroup parses `"(" filter ")"` at the current position.
func (p *parser) parseGroup() (Expr, error) {
	open := p.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.pos++
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if !p.at(')') {
		return nil, p.errAt(p.pos, `expected "and", "or" or ")" to close the "(" at position %d, %s`,
			utf8.RuneCountInString(p.s[:open])+1, p.found(p.pos))
	}
	p.pos++
	p.depth--
	return e, nil
}

// parseAttrExpr parses `attrPath "pr"`, `attrPath compareOp compValue`, a
// value path, or a value path with a sub-attribute followed by "pr" or a
// comparison.
func (p *parser) parseAttrExpr() (Expr, error) {
	start := p.pos
	ap, err := p.parseAttrPath()
	if err != nil {
		return nil, err
	}
	if ap.ValueFilter != nil && ap.SubAttr == "" {
		return &ValuePathExpr{Path: ap}, nil
	}
	pathText := p.s[start:p.pos]
	p.skipWS()
	opPos := p.pos
	opEnd := p.wordEnd(opPos)
	word := p.s[opPos:opEnd]
	var op CompareOp
	switch {
	case asciiFoldEq(word, "pr"):
		p.pos = opEnd
		// pr takes no value: anything but "and", "or", a closing bracket or
		// the end is an error here, with a clearer message than the caller's.
		save := p.pos
		p.skipWS()
		if !p.eof() && !p.at(')') && !p.at(']') {
			e := p.wordEnd(p.pos)
			if w := p.s[p.pos:e]; !asciiFoldEq(w, "and") && !asciiFoldEq(w, "or") {
				return nil, p.errAt(p.pos, `"pr" takes no value, %s`, p.found(p.pos))
			}
		}
		p.pos = save
		return &PresentExpr{Path: ap}, nil
	case asciiFoldEq(word, "eq"):
		op = OpEq
	case asciiFoldEq(word, "ne"):
		op = OpNe
	case asciiFoldEq(word, "co"):
		op = OpCo
	case asciiFoldEq(word, "sw"):
		op = OpSw
	case asciiFoldEq(word, "ew"):
		op = OpEw
	case asciiFoldEq(word, "gt"):
		op = OpGt
	case asciiFoldEq(word, "ge"):
		op = OpGe
	case asciiFoldEq(word, "lt"):
		op = OpLt
	case asciiFoldEq(word, "le"):
		op = OpLe
	default:
		return nil, p.errAt(opPos, "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after %q, %s",
			clip(pathText), p.found(opPos))
	}
	p.pos = opEnd
	v, err := p.parseValue(string(op))
	if err != nil {
		return nil, err
	}
	return &CompareExpr{Path: ap, Op: op, Value: v}, nil
}

// parseValue parses a compValue: a JSON string, number, true, false or null,
// or a bare word taken as a string.
func (p *parser) parseValue(op string) (any, error) {
	p.skipWS()
	start := p.pos
	if p.at('"') {
		return p.parseString()
	}
	end := p.valueEnd(start)
	if end == start {
		return nil, p.errAt(start, "expected a value after %q, %s", op, p.found(start))
	}
	w := p.s[start:end]
	p.pos = end
	switch {
	case asciiFoldEq(w, "true"):
		return true, nil
	case asciiFoldEq(w, "false"):
		return false, nil
	case asciiFoldEq(w, "null"):
		return nil, nil
	case isJSONNumber(w):
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return nil, p.errAt(start, "the number %q is out of range", clip(w))
		}
		return f, nil
	}
	return w, nil
}

// stringEnd returns the offset just past the closing quote of the string
// literal starting at off, or -1 when it is not terminated.
func (p *parser) stringEnd(off int) int {
	for i := off + 1; i < len(p.s); i++ {
		switch p.s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// parseString decodes the JSON string literal at the current position
// (RFC 7644 §3.4.2.2: compValue strings are JSON strings, RFC 7159). Raw
// control characters are tolerated.
func (p *parser) parseString() (string, error) {
	start := p.pos
	end := p.stringEnd(start)
	if end < 0 {
		return "", p.errAt(start, `the string starting here is not terminated (missing closing '"')`)
	}
	p.pos = end
	body := p.s[start+1 : end-1]
	if strings.IndexByte(body, '\\') < 0 {
		return body, nil
	}
	var b strings.Builder
	b.Grow(len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		escPos := start + 1 + i
		i++ // stringEnd guarantees a byte follows a backslash
		switch body[i] {
		case '"', '\\', '/':
			b.WriteByte(body[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(body, i+1)
			if !ok {
				return "", p.errAt(escPos, `invalid \u escape in string: expected four hexadecimal digits`)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if i+2 < len(body) && body[i+1] == '\\' && body[i+2] == 'u' {
					if r2, ok := hex4(body, i+3); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							b.WriteRune(d)
							i += 6
							continue
						}
					}
				}
				// Half a pair is no character: storing U+FFFD in its place
				// would compare against something the client never sent
				// (RFC 8259 §8.2).
				return "", p.errAt(escPos, `the escape %s is half of a UTF-16 surrogate pair, which is not a character: send the character itself, or both halves of its pair`, body[i-5:i+1])
			}
			b.WriteRune(r)
		default:
			return "", p.errAt(escPos, "invalid escape %q in string", body[i-1:i+1])
		}
	}
	return b.String(), nil
}

// hex4 decodes four hexadecimal digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// isJSONNumber reports whether s is a number in JSON syntax (RFC 8259 §6):
// strconv.ParseFloat alone would also accept "Inf", "0x1p3" and "1_0".
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseAttrPath parses `[URI ":"] name ["." subAttr]` or
// `[URI ":"] name "[" valFilter "]" ["." subAttr]` at the current position.
func (p *parser) parseAttrPath() (AttrPath, error) {
	start := p.pos
	end := p.wordEnd(start)
	if end == start {
		return AttrPath{}, p.errAt(start, "expected an attribute name, %s", p.found(start))
	}
	ap, err := p.splitAttr(start, end)
	if err != nil {
		return AttrPath{}, err
	}
	p.pos = end
	if !p.at('[') {
		return ap, nil
	}
	open := p.pos
	if ap.SubAttr != "" {
		return AttrPath{}, p.errAt(open, `a value filter "[...]" must follow the attribute name, not the sub-attribute %q`, ap.SubAttr)
	}
	if p.inBracket {
		return AttrPath{}, p.errAt(open, "value paths cannot be nested inside a value filter (RFC 7644 §3.4.2.2)")
	}
	if err := p.enter(open); err != nil {
		return AttrPath{}, err
	}
	p.pos++
	p.inBracket = true
	f, err := p.parseOr()
	if err != nil {
		return AttrPath{}, err
	}
	p.skipWS()
	if !p.at(']') {
		return AttrPath{}, p.errAt(p.pos, `expected "and", "or" or "]" to close the "[" at position %d, %s`,
			utf8.RuneCountInString(p.s[:open])+1, p.found(p.pos))
	}
	p.pos++
	p.inBracket = false
	p.depth--
	ap.ValueFilter = f
	if p.at('.') {
		p.pos++
		subStart := p.pos
		subEnd := p.wordEnd(subStart)
		sub := p.s[subStart:subEnd]
		if !validName(sub) {
			if sub == "" {
				return AttrPath{}, p.errAt(subStart, `expected a sub-attribute name after "].", %s`, p.found(subStart))
			}
			return AttrPath{}, p.errAt(subStart, "%q is not a valid sub-attribute name", clip(sub))
		}
		ap.SubAttr = sub
		p.pos = subEnd
	}
	return ap, nil
}

// splitAttr splits the attribute token s[start:end] into URI, name and
// sub-attribute. The URI is everything before the last ':' — schema URNs
// themselves contain ':' and '.' ("...:core:2.0:User") — so the '.' of a
// sub-attribute is only looked for after it (RFC 7644 §3.10).
func (p *parser) splitAttr(start, end int) (AttrPath, error) {
	tok := p.s[start:end]
	var ap AttrPath
	rest, restOff := tok, start
	if i := strings.LastIndexByte(tok, ':'); i >= 0 {
		ap.URI = tok[:i]
		rest, restOff = tok[i+1:], start+i+1
		if ap.URI == "" {
			return AttrPath{}, p.errAt(start, "expected a schema URI before %q", ":")
		}
		for j := 0; j < len(ap.URI); j++ {
			if c := ap.URI[j]; c <= ' ' || c >= 0x7f {
				return AttrPath{}, p.errAt(start+j, "invalid character in schema URI %q", clip(ap.URI))
			}
		}
	}
	name := rest
	if j := strings.IndexByte(rest, '.'); j >= 0 {
		name, ap.SubAttr = rest[:j], rest[j+1:]
		if !validName(ap.SubAttr) {
			if ap.SubAttr == "" {
				return AttrPath{}, p.errAt(restOff+j+1, "expected a sub-attribute name after %q, %s", clip(tok[:restOff+j+1-start]), p.found(restOff+j+1))
			}
			return AttrPath{}, p.errAt(restOff+j+1, "%q is not a valid sub-attribute name", clip(ap.SubAttr))
		}
	}
	if !validName(name) {
		if name == "" {
			return AttrPath{}, p.errAt(restOff, "expected an attribute name in %q", clip(tok))
		}
		return AttrPath{}, p.errAt(restOff, "%q is not a valid attribute name", clip(name))
	}
	ap.Name = name
	return ap, nil
}

// validName reports whether s is an ATTRNAME of RFC 7643 §2.1 / RFC 7644
// §3.4.2.2 (ALPHA *(ALPHA / DIGIT / "-" / "_")) or "$ref".
func validName(s string) bool {
	if asciiFoldEq(s, "$ref") {
		return true
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '-' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// String renders the path in canonical syntax: `[URI:]name[[filter]][.sub]`.
func (p AttrPath) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p AttrPath) write(b *strings.Builder) {
	if p.URI != "" {
		b.WriteString(p.URI)
		b.WriteByte(':')
	}
	b.WriteString(p.Name)
	if p.ValueFilter != nil {
		b.WriteByte('[')
		writeExpr(b, p.ValueFilter)
		b.WriteByte(']')
	}
	if p.SubAttr != "" {
		b.WriteByte('.')
		b.WriteString(p.SubAttr)
	}
}

// String renders the expression; children that are LogicalExprs of the other
// operator are parenthesised for readability, and right-hand children of the
// same operator must be, since both operators associate to the left.
func (e *LogicalExpr) String() string { return exprString(e) }

// String renders the expression as `not (X)`.
func (e *NotExpr) String() string { return exprString(e) }

// String renders the comparison with a lower-case operator and a JSON value.
func (e *CompareExpr) String() string { return exprString(e) }

// String renders the presence test as `path pr`.
func (e *PresentExpr) String() string { return exprString(e) }

// String renders the value path, `attr[filter]`.
func (e *ValuePathExpr) String() string { return exprString(e) }

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

// writeExpr renders e; nil nodes render as nothing rather than panicking.
func writeExpr(b *strings.Builder, e Expr) {
	switch x := e.(type) {
	case *LogicalExpr:
		if x == nil {
			return
		}
		writeChild(b, x.Op, x.Left, false)
		b.WriteByte(' ')
		b.WriteString(strings.ToLower(string(x.Op)))
		b.WriteByte(' ')
		writeChild(b, x.Op, x.Right, true)
	case *NotExpr:
		if x == nil {
			return
		}
		b.WriteString("not (")
		writeExpr(b, x.X)
		b.WriteByte(')')
	case *CompareExpr:
		if x == nil {
			return
		}
		x.Path.write(b)
		b.WriteByte(' ')
		b.WriteString(strings.ToLower(string(x.Op)))
		b.WriteByte(' ')
		writeValue(b, x.Value)
	case *PresentExpr:
		if x == nil {
			return
		}
		x.Path.write(b)
		b.WriteString(" pr")
	case *ValuePathExpr:
		if x == nil {
			return
		}
		x.Path.write(b)
	case nil:
	default:
		b.WriteString(e.String())
	}
}

func writeChild(b *strings.Builder, parent LogicalOp, child Expr, right bool) {
	if l, ok := child.(*LogicalExpr); ok && l != nil && (right || !strings.EqualFold(string(l.Op), string(parent))) {
		b.WriteByte('(')
		writeExpr(b, child)
		b.WriteByte(')')
		return
	}
	writeExpr(b, child)
}

// writeValue renders a comparison value as JSON.
func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeQuoted(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case float32:
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case interface{ String() string }: // json.Number and the like
		s := x.String()
		if isJSONNumber(s) {
			b.WriteString(s)
		} else {
			writeQuoted(b, s)
		}
	default:
		writeQuoted(b, fmt.Sprint(v))
	}
}

// QuoteString writes s as a filter string literal, which has JSON's string
// syntax (RFC 7644 §3.4.2.2): `userName eq ` + QuoteString(name).
func QuoteString(s string) string {
	var b strings.Builder
	writeQuoted(&b, s)
	return b.String()
}

// writeQuoted writes s as a JSON string. Invalid UTF-8 is written as U+FFFD,
// exactly as a re-parse of the output would hold it.
func writeQuoted(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // RuneError for invalid bytes
		i += size
	}
	b.WriteByte('"')
}
