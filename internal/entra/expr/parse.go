package expr

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxLength is the longest expression Entra accepts, in characters
// (KNOWN: "The maximum supported length for a single attribute mapping
// expression is 10,000 characters"). Characters are counted as .NET
// counts them, in UTF-16 code units.
const MaxLength = 10000

// nodeKind is the kind of an expression node.
type nodeKind uint8

const (
	nodeCall    nodeKind = iota // Name(arg, …)
	nodeAttr                    // [name]
	nodeString                  // "text"
	nodeNumber                  // 7, -10, 42568.75, &HF7
	nodeName                    // vbBinaryCompare, vbTextCompare
	nodeOmitted                 // nothing between two commas
	nodeCompare                 // left op right (IIF conditions, CBool)
)

// node is one element of a parsed expression. pos and end are byte
// offsets of its text in the source.
type node struct {
	kind     nodeKind
	pos, end int
	name     string // function, attribute or name; the literal's text for numbers
	val      Value  // constants: their value
	op       string // nodeCompare: = <> > >= < <=
	args     []*node
	fn       *function
	prep     any // per-call data prepared at check time (compiled regex …)
}

// ParseError is an expression that Entra would not save: a syntax error,
// an unknown function, a wrong argument count. Pos is the byte offset of
// the character at fault (len(Src) for the end of the expression).
type ParseError struct {
	Src  string
	Pos  int
	Msg  string
	Hint string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s (character %d)", e.Msg, e.Char())
}

// Char is the 1-based character (rune) index of Pos.
func (e *ParseError) Char() int { return utf8.RuneCountInString(e.Src[:e.Pos]) + 1 }

// Caret renders src on one line with a caret under the character at byte
// offset pos, two spaces in: the form miscim prints under an error. Line
// breaks and tabs show as spaces; a long expression is cut to a window
// around pos, marked with "…".
func Caret(src string, pos int) string {
	if pos < 0 {
		pos = 0
	}
	if pos > len(src) {
		pos = len(src)
	}
	const keepBefore, keepAfter = 60, 40
	before := []rune(src[:pos])
	after := []rune(src[pos:])
	prefix, suffix := "", ""
	cut := len(before)+len(after) > keepBefore+keepAfter // else short enough to show whole
	if cut && len(before) > keepBefore {
		before = before[len(before)-keepBefore:]
		prefix = "…"
	}
	if cut && len(after) > keepAfter {
		after = after[:keepAfter]
		suffix = "…"
	}
	clean := strings.NewReplacer("\n", " ", "\r", " ", "\t", " ")
	line := prefix + clean.Replace(string(before)) + clean.Replace(string(after)) + suffix
	col := utf8.RuneCountInString(prefix) + len(before)
	return "  " + line + "\n  " + strings.Repeat(" ", col) + "^"
}

// parser is a recursive-descent parser over the source bytes.
type parser struct {
	src string
	i   int
}

func (p *parser) fail(pos int, format string, args ...any) *ParseError {
	return &ParseError{Src: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// parse parses a whole expression: one argument form, then the end.
func parse(src string) (*node, error) {
	if n := utf16Len(src); n > MaxLength {
		return nil, &ParseError{Src: src, Pos: byteOffsetOfUnit(src, MaxLength), Hint: "split the logic over several attributes, or shorten constant lists",
			Msg: fmt.Sprintf("the expression is %d characters long; Entra accepts at most %d", n, MaxLength)}
	}
	if !utf8.ValidString(src) {
		i := 0
		for i < len(src) {
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, &ParseError{Src: src, Pos: i, Msg: "the expression is not valid UTF-8 text"}
	}
	p := &parser{src: src}
	p.skipSpace()
	if p.i == len(src) {
		return nil, p.fail(p.i, "the expression is empty: write a function call, an [attribute] or a \"constant\"")
	}
	n, err := p.arg()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i < len(src) {
		if src[p.i] == ',' || src[p.i] == ')' {
			return nil, p.fail(p.i, "unexpected %q: the expression is complete before it (an argument list belongs in a function's parentheses)", src[p.i])
		}
		return nil, p.fail(p.i, "unexpected %s after a complete expression", describeAt(src, p.i))
	}
	return n, nil
}

// arg parses one argument: an operand, optionally compared with another.
func (p *parser) arg() (*node, error) {
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	op, ok, err := p.compareOp()
	if err != nil || !ok {
		return left, err
	}
	p.skipSpace()
	if p.i == len(p.src) || p.src[p.i] == ',' || p.src[p.i] == ')' {
		return nil, p.fail(p.i, "the comparison %s needs a value on its right", op)
	}
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	at := p.i
	if op2, ok, _ := p.compareOp(); ok {
		return nil, &ParseError{Src: p.src, Pos: at, Msg: fmt.Sprintf("a second comparison (%s) in one argument: Entra compares two values at a time", op2),
			Hint: "IIF has no AND or OR: nest IIF calls (EXPR, IIF known limitations)"}
	}
	return &node{kind: nodeCompare, pos: left.pos, end: right.end, op: op, args: []*node{left, right}}, nil
}

// compareOp reads one of IIF's comparison operators.
func (p *parser) compareOp() (string, bool, error) {
	rest := p.src[p.i:]
	for _, op := range []string{"<>", "<=", ">=", "=", "<", ">"} {
		if strings.HasPrefix(rest, op) {
			if op == "=" && strings.HasPrefix(rest, "==") {
				return "", false, p.fail(p.i, "\"==\" is not an operator: equality is a single \"=\"")
			}
			p.i += len(op)
			return op, true, nil
		}
	}
	if strings.HasPrefix(rest, "!=") {
		return "", false, p.fail(p.i, "\"!=\" is not an operator: not-equal is \"<>\"")
	}
	return "", false, nil
}

// operand parses a call, an attribute, a constant or a name.
func (p *parser) operand() (*node, error) {
	if p.i >= len(p.src) {
		return nil, p.fail(p.i, "the expression ends where a value was expected")
	}
	c := p.src[p.i]
	switch {
	case c == '[':
		return p.attribute()
	case c == '"':
		return p.stringConst()
	case c >= '0' && c <= '9', c == '-', c == '&':
		return p.number()
	case isIdentStart(c):
		return p.callOrName()
	}
	return nil, p.fail(p.i, "unexpected %s where a value was expected: write a function call, an [attribute] or a \"constant\"", describeAt(p.src, p.i))
}

func (p *parser) attribute() (*node, error) {
	start := p.i
	p.i++
	for p.i < len(p.src) && p.src[p.i] != ']' {
		if p.src[p.i] == '[' || p.src[p.i] == '\n' {
			return nil, &ParseError{Src: p.src, Pos: start, Msg: "the attribute name opened here has no closing ]"}
		}
		p.i++
	}
	if p.i == len(p.src) {
		return nil, &ParseError{Src: p.src, Pos: start, Msg: "the attribute name opened here has no closing ]"}
	}
	name := p.src[start+1 : p.i]
	p.i++
	if name == "" {
		return nil, p.fail(start, "empty attribute name []: write the attribute, e.g. [userPrincipalName]")
	}
	if strings.TrimSpace(name) != name {
		return nil, p.fail(start+1, "the attribute name %q has spaces around it: attribute names are exact", name)
	}
	return &node{kind: nodeAttr, pos: start, end: p.i, name: name}, nil
}

// stringConst reads "…" where \" is a quote and \\ a backslash; any other
// backslash stays as it is, so that regular expressions such as "\+"
// reach Replace intact (Microsoft's own examples rely on it).
func (p *parser) stringConst() (*node, error) {
	start := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '"':
			p.i++
			return &node{kind: nodeString, pos: start, end: p.i, val: Str(b.String())}, nil
		case c == '\\' && p.i+1 < len(p.src) && (p.src[p.i+1] == '"' || p.src[p.i+1] == '\\'):
			b.WriteByte(p.src[p.i+1])
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return nil, &ParseError{Src: p.src, Pos: start, Msg: "the string constant opened here has no closing quote",
		Hint: `inside a constant, write \" for a quote and \\ for a backslash`}
}

// number reads 7, -10, 42568.75 or a VBA hex/octal literal (&HF7, &O17),
// as BitAnd's documented example writes them.
func (p *parser) number() (*node, error) {
	start := p.i
	if p.src[p.i] == '&' {
		p.i++
		if p.i == len(p.src) {
			return nil, p.fail(start, "\"&\" must start a hex (&HFF) or octal (&O17) number")
		}
		base := 0
		switch p.src[p.i] {
		case 'H', 'h':
			base = 16
		case 'O', 'o':
			base = 8
		default:
			return nil, p.fail(start, "\"&\" must start a hex (&HFF) or octal (&O17) number")
		}
		p.i++
		d := p.i
		for p.i < len(p.src) && isDigitIn(p.src[p.i], base) {
			p.i++
		}
		if p.i == d {
			return nil, p.fail(d, "the %s number has no digits", map[int]string{16: "hex", 8: "octal"}[base])
		}
		if p.i < len(p.src) && isIdentPart(p.src[p.i]) {
			return nil, p.fail(p.i, "%q is not a %s digit", p.src[p.i], map[int]string{16: "hex", 8: "octal"}[base])
		}
		n, err := strconv.ParseInt(p.src[d:p.i], base, 64)
		if err != nil {
			return nil, p.fail(start, "the number %s is too large", p.src[start:p.i])
		}
		return &node{kind: nodeNumber, pos: start, end: p.i, name: p.src[start:p.i], val: Str(strconv.FormatInt(n, 10))}, nil
	}
	if p.src[p.i] == '-' {
		p.i++
		if p.i == len(p.src) || p.src[p.i] < '0' || p.src[p.i] > '9' {
			return nil, p.fail(start, "\"-\" must start a number, e.g. -10")
		}
	}
	for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
		p.i++
	}
	if p.i+1 < len(p.src) && p.src[p.i] == '.' && p.src[p.i+1] >= '0' && p.src[p.i+1] <= '9' {
		p.i++
		for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			p.i++
		}
	}
	if p.i < len(p.src) && (isIdentPart(p.src[p.i]) || p.src[p.i] == '.') {
		return nil, p.fail(p.i, "unexpected %s in a number: a text constant needs double quotes", describeAt(p.src, p.i))
	}
	text := p.src[start:p.i]
	return &node{kind: nodeNumber, pos: start, end: p.i, name: text, val: Str(text)}, nil
}

// callOrName reads Name( … ) or a bare name such as vbTextCompare.
func (p *parser) callOrName() (*node, error) {
	start := p.i
	for p.i < len(p.src) && isIdentPart(p.src[p.i]) {
		p.i++
	}
	name := p.src[start:p.i]
	nameEnd := p.i
	p.skipSpace()
	if p.i == len(p.src) || p.src[p.i] != '(' {
		p.i = nameEnd
		if v, ok := names[name]; ok {
			return &node{kind: nodeName, pos: start, end: nameEnd, name: name, val: v}, nil
		}
		e := p.fail(start, "%q is not a value: a text constant needs double quotes (\"%s\"), an attribute brackets ([%s]), a function parentheses", name, name, name)
		if _, ok := functions[name]; ok {
			e.Msg = fmt.Sprintf("the function %s needs parentheses: %s", name, functions[name].signature)
		}
		return nil, e
	}
	open := p.i
	p.i++
	call := &node{kind: nodeCall, pos: start, name: name}
	p.skipSpace()
	if p.i < len(p.src) && p.src[p.i] == ')' {
		p.i++
		call.end = p.i
		return call, nil
	}
	for {
		p.skipSpace()
		if p.i == len(p.src) {
			return nil, &ParseError{Src: p.src, Pos: open, Msg: fmt.Sprintf("the parenthesis of %s( opened here is not closed", name)}
		}
		if c := p.src[p.i]; c == ',' || c == ')' {
			call.args = append(call.args, &node{kind: nodeOmitted, pos: p.i, end: p.i})
		} else {
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, a)
			p.skipSpace()
		}
		if p.i == len(p.src) {
			return nil, &ParseError{Src: p.src, Pos: open, Msg: fmt.Sprintf("the parenthesis of %s( opened here is not closed", name)}
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case ')':
			p.i++
			call.end = p.i
			return call, nil
		default:
			return nil, p.fail(p.i, "unexpected %s in the arguments of %s: separate arguments with commas", describeAt(p.src, p.i), name)
		}
	}
}

// names are the bare names the language knows: InStr's compare types,
// with VBA's values (EXPR, InStr).
var names = map[string]Value{
	"vbBinaryCompare": Str("0"),
	"vbTextCompare":   Str("1"),
}

func isIdentStart(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

func isDigitIn(c byte, base int) bool {
	if base == 8 {
		return c >= '0' && c <= '7'
	}
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// describeAt names the character at byte offset i for an error message.
func describeAt(src string, i int) string {
	if i >= len(src) {
		return "end of the expression"
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	return strconv.QuoteRune(r)
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // an invalid byte decodes as U+FFFD: one unit
	}
	return n
}

// byteOffsetOfUnit is the byte offset of the UTF-16 code unit with index
// unit (0-based).
func byteOffsetOfUnit(s string, unit int) int {
	n := 0
	for i, r := range s {
		if n >= unit {
			return i
		}
		n += utf16.RuneLen(r)
	}
	return len(s)
}

// print writes n in the canonical form: ", " between arguments, nothing
// for an omitted argument, constants re-escaped, numbers as written.
func (n *node) print(b *strings.Builder) {
	switch n.kind {
	case nodeCall:
		b.WriteString(n.name)
		b.WriteByte('(')
		for i, a := range n.args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.print(b)
		}
		b.WriteByte(')')
	case nodeAttr:
		b.WriteByte('[')
		b.WriteString(n.name)
		b.WriteByte(']')
	case nodeString:
		b.WriteString(quoteConst(n.val.s))
	case nodeNumber, nodeName:
		b.WriteString(n.name)
	case nodeCompare:
		n.args[0].print(b)
		b.WriteString(" " + n.op + " ")
		n.args[1].print(b)
	}
}

// quoteConst writes s as a string constant.
func quoteConst(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(s[i])
		}
	}
	b.WriteByte('"')
	return b.String()
}
