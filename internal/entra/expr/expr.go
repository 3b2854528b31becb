package expr

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Expr is a parsed and checked expression. It is immutable: parse once,
// evaluate for every object.
type Expr struct {
	src      string
	root     *node
	attrs    []string
	warnings []Diagnostic
}

// Diagnostic is a remark on a valid expression that Entra documents as
// unreliable, with the byte offset it refers to.
type Diagnostic struct {
	Pos int
	Msg string
}

// Parse parses src and checks every call against its documented
// signature. Errors are *ParseError.
func Parse(src string) (*Expr, error) {
	root, err := parse(src)
	if err != nil {
		return nil, err
	}
	e := &Expr{src: src, root: root}
	ck := &checker{src: src, e: e, seen: map[string]bool{}}
	if err := ck.check(root, nil, 0); err != nil {
		return nil, err
	}
	return e, nil
}

// MustParse is Parse for expressions known to be valid (built-in
// mappings, tests); it panics on an error.
func MustParse(src string) *Expr {
	e, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return e
}

// Source returns the expression as it was given.
func (e *Expr) Source() string { return e.src }

// String returns the expression in canonical form: one space after each
// comma, nothing for an omitted argument, constants re-escaped. Parsing it
// gives the same expression.
func (e *Expr) String() string {
	var b strings.Builder
	e.root.print(&b)
	return b.String()
}

// Attributes returns the names of the attributes the expression reads, in
// order of first appearance: what a tenant loader must provide. The slice
// must not be changed.
func (e *Expr) Attributes() []string { return e.attrs }

// Warnings returns the documented pitfalls the expression contains.
func (e *Expr) Warnings() []Diagnostic { return e.warnings }

// Env is what evaluation may need beyond the object's attributes. The
// zero Env uses the system clock, crypto/rand and no default domain.
type Env struct {
	// Now is the clock of Now() and of time-only dates; nil is time.Now.
	Now func() time.Time
	// Rand feeds Guid() and RandomString(); nil is crypto/rand.
	Rand io.Reader
	// DefaultDomain is the tenant's default verified domain, for
	// DefaultDomain(); empty makes that function unavailable.
	DefaultDomain string
}

func (env *Env) now() time.Time {
	if env == nil || env.Now == nil {
		return time.Now().UTC()
	}
	return env.Now().UTC()
}

func (env *Env) rand() io.Reader {
	if env == nil || env.Rand == nil {
		return rand.Reader
	}
	return env.Rand
}

// Result is the outcome of one evaluation.
type Result struct {
	// Value is what the expression returned.
	Value Value
	// IgnoreFlow is true when IgnoreFlowIfNullOrEmpty found its value null
	// or empty: Entra drops the attribute from the flow, whatever Value is.
	IgnoreFlow bool
	// Redacted is true when a Redact() call contributed to Value: Entra's
	// provisioning logs show "[Redact]" instead of it.
	Redacted bool
}

// Flows reports whether Entra would send a value for the attribute: the
// value is not null and IgnoreFlowIfNullOrEmpty did not drop it.
func (r Result) Flows() bool { return !r.IgnoreFlow && !r.Value.IsNull() }

// ErrNotOffline marks a function that needs Entra's cloud (the target
// directory, the app's role definitions, the tenant's domains); errors.Is
// finds it in the *EvalError.
var ErrNotOffline = errors.New("not available offline")

// EvalError is an evaluation that fails on the given values: IIF on a null
// condition, a date that does not parse, a multi-valued attribute where
// one value is expected, a function that needs Entra's cloud.
type EvalError struct {
	Src      string
	Pos, End int    // byte offsets of the call that failed
	Func     string // its function
	Msg      string
	Hint     string
	err      error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("%s: %s (character %d)", e.Func, e.Msg, e.Char())
}

// Char is the 1-based character index of Pos.
func (e *EvalError) Char() int { return utf8.RuneCountInString(e.Src[:e.Pos]) + 1 }

func (e *EvalError) Unwrap() error { return e.err }

// Step is one node of an evaluation's call tree, for --explain: a call
// with its arguments, an attribute read, a constant.
type Step struct {
	// Expr is the node's source text.
	Expr string
	// Kind is "call", "attribute", "constant", "comparison" or "omitted".
	Kind string
	// Name is the function or attribute name.
	Name string
	// Param is the parameter this node fills in its parent call
	// ("source", "defaultValue", "key1" …); empty for the root.
	Param string
	// Evaluated is false for an argument the call never needed (Switch's
	// other keys, IIF's other branch, Coalesce after the first value).
	Evaluated bool
	Value     Value
	// Note explains what the call did ("matched key2", "dropped from the
	// flow", "[Redact] in provisioning logs").
	Note string
	// Err is the failure of this node, if it failed.
	Err  string
	Args []*Step
}

// Eval evaluates the expression against one object. env may be nil.
func (e *Expr) Eval(attrs Attributes, env *Env) (Result, error) {
	// The context escapes through the function table; pooling it keeps
	// an evaluation free of allocations.
	c := ctxPool.Get().(*evalCtx)
	*c = evalCtx{src: e.src, attrs: attrs, env: env}
	r, err := c.run(e.root)
	*c = evalCtx{}
	ctxPool.Put(c)
	return r, err
}

var ctxPool = sync.Pool{New: func() any { return new(evalCtx) }}

// Explain evaluates like Eval and also returns the call tree, complete up
// to the failing call when evaluation fails.
func (e *Expr) Explain(attrs Attributes, env *Env) (Result, *Step, error) {
	c := evalCtx{src: e.src, attrs: attrs, env: env, trace: true}
	root := c.newStep(e.root, "")
	c.step = root
	r, err := c.run(e.root)
	root.Evaluated = true
	root.Value = r.Value
	if err != nil && root.Err == "" {
		root.Err = errorText(err)
	}
	return r, root, err
}

func errorText(err error) string {
	var ee *EvalError
	if errors.As(err, &ee) {
		return ee.Msg
	}
	return err.Error()
}

// evalCtx is the state of one evaluation.
type evalCtx struct {
	src   string
	attrs Attributes
	env   *Env
	trace bool
	step  *Step // the step of the node being evaluated (tracing only)
	// cond counts the IIF conditions being evaluated; condAttr is the
	// first attribute read inside one that was null or empty.
	cond     int
	condAttr *node
	redacted bool
}

func (c *evalCtx) run(root *node) (Result, error) {
	if c.attrs == nil {
		c.attrs = Map(nil)
	}
	v, err := c.eval(root)
	if err != nil {
		return Result{}, err
	}
	r := Result{Value: v, Redacted: c.redacted}
	if root.kind == nodeCall && root.fn == fnIgnoreFlow && v.isEmpty() {
		r.IgnoreFlow = true
		if c.trace {
			c.step.Note = "null or empty: Entra drops the attribute from the flow"
		}
	}
	return r, nil
}

func (c *evalCtx) newStep(n *node, param string) *Step {
	st := &Step{Expr: c.src[n.pos:n.end], Param: param, Name: n.name}
	switch n.kind {
	case nodeCall:
		st.Kind = "call"
	case nodeAttr:
		st.Kind = "attribute"
	case nodeCompare:
		st.Kind = "comparison"
		st.Name = n.op
	case nodeOmitted:
		st.Kind = "omitted"
		st.Name = ""
	default:
		st.Kind = "constant"
		st.Name = ""
	}
	if n.kind == nodeCall || n.kind == nodeCompare {
		st.Args = make([]*Step, len(n.args))
		for i, a := range n.args {
			p := "left"
			if n.kind == nodeCompare && i == 1 {
				p = "right"
			} else if n.kind == nodeCall {
				p = n.fn.paramName(i, len(n.args))
			}
			st.Args[i] = c.newStep(a, p)
		}
	}
	return st
}

// eval evaluates one node.
func (c *evalCtx) eval(n *node) (Value, error) {
	switch n.kind {
	case nodeAttr:
		v := c.attrs.Attr(n.name)
		if c.cond > 0 && c.condAttr == nil && v.isEmpty() {
			c.condAttr = n
		}
		return v, nil
	case nodeString, nodeNumber, nodeName:
		return n.val, nil
	case nodeOmitted:
		return Value{}, nil
	case nodeCompare:
		return c.compare(n)
	}
	return n.fn.eval(c, n)
}

// arg evaluates argument i of call n; an argument beyond those written
// (an omitted trailing optional one) is null.
func (c *evalCtx) arg(n *node, i int) (Value, error) {
	if i >= len(n.args) {
		return Value{}, nil
	}
	if !c.trace {
		return c.eval(n.args[i])
	}
	parent := c.step
	st := parent.Args[i]
	c.step = st
	v, err := c.eval(n.args[i])
	c.step = parent
	st.Evaluated = true
	st.Value = v
	if err != nil && st.Err == "" {
		st.Err = errorText(err)
	}
	return v, err
}

// note records what call n did, for --explain. Callers that pass
// arguments test c.trace first: boxing them would allocate on every
// evaluation.
func (c *evalCtx) note(format string, args ...any) {
	if c.trace {
		c.step.Note = fmt.Sprintf(format, args...)
	}
}

// fail returns an evaluation error of call n.
func (c *evalCtx) fail(n *node, format string, args ...any) *EvalError {
	return &EvalError{Src: c.src, Pos: n.pos, End: n.end, Func: n.name, Msg: fmt.Sprintf(format, args...)}
}

// one evaluates argument i and returns it as one string; null reports
// isNull. Several values are an error: the function takes one.
func (c *evalCtx) one(n *node, i int) (s string, isNull bool, err error) {
	v, err := c.arg(n, i)
	if err != nil {
		return "", false, err
	}
	switch v.kind {
	case KindNull:
		return "", true, nil
	case KindString:
		return v.s, false, nil
	}
	if s, ok := v.Single(); ok {
		return s, false, nil
	}
	if len(v.list) == 0 {
		return "", true, nil
	}
	e := c.fail(n, "%s has %d values, and %s takes one", c.describeArg(n, i), len(v.list), n.name)
	e.Hint = "pick one with Item(…, 1), or combine them with Join(\",\", …)"
	return "", false, e
}

// describeArg names argument i of n for a message: its parameter and, for
// an attribute, the attribute.
func (c *evalCtx) describeArg(n *node, i int) string {
	p := n.fn.paramName(i, len(n.args))
	if i < len(n.args) && n.args[i].kind == nodeAttr {
		return fmt.Sprintf("%s [%s]", p, n.args[i].name)
	}
	return p
}

// integer evaluates argument i as a whole number.
func (c *evalCtx) integer(n *node, i int) (v int64, isNull bool, err error) {
	s, isNull, err := c.one(n, i)
	if err != nil || isNull {
		return 0, isNull, err
	}
	v, ok := parseInteger(s)
	if !ok {
		return 0, false, c.fail(n, "%s must be a whole number, not %q", n.fn.paramName(i, len(n.args)), s)
	}
	return v, false, nil
}

// requiredInteger is integer with null as an error.
func (c *evalCtx) requiredInteger(n *node, i int) (int64, error) {
	v, isNull, err := c.integer(n, i)
	if err == nil && isNull {
		err = c.fail(n, "%s is null; it must be a whole number", c.describeArg(n, i))
	}
	return v, err
}

// compare evaluates left op right: numerically when both sides are
// numbers, else as case-sensitive ordinal strings; null counts as "".
func (c *evalCtx) compare(n *node) (Value, error) {
	var sides [2]string
	for i := range sides {
		v, err := c.arg(n, i)
		if err != nil {
			return Value{}, err
		}
		if v.kind == KindMulti && len(v.list) > 1 {
			return Value{}, &EvalError{Src: c.src, Pos: n.pos, End: n.end, Func: n.op,
				Msg: fmt.Sprintf("the comparison's %s side has %d values; a comparison takes one", [2]string{"left", "right"}[i], len(v.list))}
		}
		sides[i], _ = v.Single()
	}
	var cmp int
	if a, ok := parseNumber(sides[0]); ok {
		if b, ok := parseNumber(sides[1]); ok {
			switch {
			case a < b:
				cmp = -1
			case a > b:
				cmp = 1
			}
			return Bool(cmpHolds(n.op, cmp)), nil
		}
	}
	cmp = strings.Compare(sides[0], sides[1])
	return Bool(cmpHolds(n.op, cmp)), nil
}

func cmpHolds(op string, cmp int) bool {
	switch op {
	case "=":
		return cmp == 0
	case "<>":
		return cmp != 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	}
	return cmp <= 0
}
