package expr

import (
	"fmt"
	"sort"
	"strings"
)

// param is one parameter of a function.
type param struct {
	name     string
	optional bool
}

// function is one entry of the function table.
type function struct {
	name      string
	signature string  // as Microsoft's reference writes it
	params    []param // fixed parameters
	// repeat names a repeated parameter at index i (1-based count k) for
	// functions with a variable number of arguments; nil for fixed ones.
	repeat   func(i, k int, total int) param
	min, max int // argument counts; max < 0: no upper bound
	eval     func(c *evalCtx, n *node) (Value, error)
	// check runs extra checks on a call once its arguments are counted.
	check func(ck *checker, n *node) error
}

func (f *function) paramName(i, total int) string {
	if i < len(f.params) {
		return f.params[i].name
	}
	if f.repeat != nil {
		return f.repeat(i, i-len(f.params)+1, total).name
	}
	return fmt.Sprintf("argument %d", i+1)
}

func (f *function) param(i, total int) param {
	if i < len(f.params) {
		return f.params[i]
	}
	if f.repeat != nil {
		return f.repeat(i, i-len(f.params)+1, total)
	}
	return param{name: fmt.Sprintf("argument %d", i+1)}
}

// checker validates a parsed tree and prepares its calls.
type checker struct {
	src  string
	e    *Expr
	seen map[string]bool
}

func (ck *checker) fail(pos int, hint, format string, args ...any) *ParseError {
	return &ParseError{Src: ck.src, Pos: pos, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

func (ck *checker) warn(pos int, format string, args ...any) {
	ck.e.warnings = append(ck.e.warnings, Diagnostic{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// check validates n, whose parent call is parent (nil at the top) and
// which is that call's argument i.
func (ck *checker) check(n, parent *node, i int) error {
	switch n.kind {
	case nodeAttr:
		if !ck.seen[n.name] {
			ck.seen[n.name] = true
			ck.e.attrs = append(ck.e.attrs, n.name)
		}
		return nil
	case nodeCompare:
		for j, a := range n.args {
			if err := ck.check(a, n, j); err != nil {
				return err
			}
		}
		return nil
	case nodeCall:
	default:
		return nil
	}
	f, ok := functions[n.name]
	if !ok {
		return ck.unknown(n)
	}
	n.fn = f
	nargs := len(n.args)
	if nargs < f.min || (f.max >= 0 && nargs > f.max) {
		want := fmt.Sprintf("%d", f.min)
		switch {
		case f.max < 0:
			want = fmt.Sprintf("at least %d", f.min)
		case f.max != f.min:
			want = fmt.Sprintf("%d to %d", f.min, f.max)
		}
		plural := "s"
		if strings.HasSuffix(want, " 1") || want == "1" {
			plural = ""
		}
		return ck.fail(n.pos, "", "%s takes %s argument%s, got %d: %s", n.name, want, plural, nargs, f.signature)
	}
	if f == fnIgnoreFlow && parent != nil {
		return ck.fail(n.pos, "wrap the whole expression: IgnoreFlowIfNullOrEmpty(IIF(…)), IgnoreFlowIfNullOrEmpty(Switch(…))",
			"IgnoreFlowIfNullOrEmpty must wrap the whole expression: it tells Entra to drop the attribute, it does not return a value to %s", parent.describe())
	}
	if f == fnSelectUnique && parent != nil {
		return ck.fail(n.pos, "", "SelectUniqueValue must be the whole expression; it cannot be nested (EXPR, SelectUniqueValue)")
	}
	for j, a := range n.args {
		if a.kind == nodeOmitted && !f.param(j, nargs).optional {
			hint := ""
			if strings.HasPrefix(f.param(j, nargs).name, "key") {
				hint = `write "" for the empty string`
			}
			return ck.fail(a.pos, hint, "%s: %s is required and cannot be left empty: %s", n.name, f.paramName(j, nargs), f.signature)
		}
		if err := ck.check(a, n, j); err != nil {
			return err
		}
	}
	if f.check != nil {
		if err := f.check(ck, n); err != nil {
			return err
		}
	}
	return nil
}

// describe names a call or comparison for a message.
func (n *node) describe() string {
	if n.kind == nodeCompare {
		return "the comparison " + n.op
	}
	return n.name
}

// unknown reports a call of a function that does not exist, suggesting
// the right spelling.
func (ck *checker) unknown(n *node) error {
	for name, f := range functions {
		if strings.EqualFold(name, n.name) {
			return ck.fail(n.pos, "", "unknown function %q: function names are case-sensitive; did you mean %s? %s", n.name, name, f.signature)
		}
	}
	best, dist := "", 3
	for name := range functions {
		if d := editDistance(strings.ToLower(name), strings.ToLower(n.name)); d < dist || d == dist && name < best {
			best, dist = name, d
		}
	}
	if best != "" {
		return ck.fail(n.pos, "", "unknown function %q; did you mean %s? %s", n.name, best, functions[best].signature)
	}
	return ck.fail(n.pos, "the functions are listed in docs/expr.md", "unknown function %q", n.name)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// constArg returns argument i of n when it is a constant (or a name), for
// checks that can run before evaluation.
func constArg(n *node, i int) (string, bool) {
	if i >= len(n.args) {
		return "", false
	}
	switch a := n.args[i]; a.kind {
	case nodeString, nodeNumber, nodeName:
		return a.val.s, true
	}
	return "", false
}

// present reports whether argument i of n is written (not omitted).
func present(n *node, i int) bool { return i < len(n.args) && n.args[i].kind != nodeOmitted }

// FunctionNames lists every function of the language, sorted.
func FunctionNames() []string {
	out := make([]string, 0, len(functions))
	for name := range functions {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Signature returns a function's documented signature, e.g.
// "Switch(source, defaultValue, key1, value1, key2, value2, …)".
func Signature(name string) (string, bool) {
	f, ok := functions[name]
	if !ok {
		return "", false
	}
	return f.signature, true
}
