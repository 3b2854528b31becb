package expr

import (
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// Replace's arguments.
const (
	rSource = iota
	rOld
	rPattern
	rGroup
	rReplacement
	rAttribute
	rTemplate
)

// replaceMode is which of Replace's documented behaviours a call uses,
// decided by which arguments are written (EXPR, Replace).
type replaceMode uint8

const (
	modeOldReplacement   replaceMode = iota + 1 // oldValue + replacementValue
	modeOldTemplate                             // oldValue + template
	modeRegexReplacement                        // regexPattern + replacementValue
	modeRegexGroup                              // regexPattern + regexGroupName + replacementValue
	modeRegexAttribute                          // regexPattern + regexGroupName + replacementAttributeName
)

type replacePrep struct {
	mode replaceMode
	re   *regexp2.Regexp // the pattern when it is a constant
}

// regexTimeout bounds one regular-expression match: .NET's engine
// backtracks, so a pathological pattern must not hang a provisioning run.
// A variable so that the fuzz target can shorten it.
var regexTimeout = 2 * time.Second

// compileRegex compiles a pattern with .NET semantics (the reference
// points to .NET's grouping constructs; regexp2 is a port of .NET's
// engine: named groups (?<name>…), lookarounds, ${name} substitutions).
func compileRegex(pattern string) (*regexp2.Regexp, error) {
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = regexTimeout
	return re, nil
}

func checkReplace(ck *checker, n *node) error {
	has := func(i int) bool { return present(n, i) }
	var mode replaceMode
	switch {
	case has(rOld) && has(rPattern):
		return ck.fail(n.args[rPattern].pos, "", "Replace: give oldValue or regexPattern, not both")
	case has(rOld) && has(rReplacement):
		mode = modeOldReplacement
	case has(rOld) && has(rTemplate):
		mode = modeOldTemplate
	case has(rOld):
		return ck.fail(n.pos, `e.g. Replace([mail], "@contoso.com", , , "", , )`, "Replace with oldValue needs replacementValue (argument 5) or template (argument 7)")
	case has(rPattern) && has(rGroup) && has(rReplacement):
		mode = modeRegexGroup
	case has(rPattern) && has(rGroup) && has(rAttribute):
		mode = modeRegexAttribute
	case has(rPattern) && has(rReplacement):
		mode = modeRegexReplacement
	case has(rPattern):
		return ck.fail(n.pos, `e.g. Replace([mobile], , "[()\\s-]+", , "", , )`, "Replace with regexPattern needs replacementValue (argument 5), or regexGroupName with replacementAttributeName (arguments 4 and 6)")
	default:
		return ck.fail(n.pos, "the five forms are listed in docs/expr.md", "Replace needs oldValue (argument 2) or regexPattern (argument 3): %s", functions["Replace"].signature)
	}
	prep := &replacePrep{mode: mode}
	if s, ok := constArg(n, rPattern); ok {
		re, err := compileRegex(s)
		if err != nil {
			return ck.fail(n.args[rPattern].pos, "", "Replace: regexPattern %q: %v", s, err)
		}
		prep.re = re
		if g, ok := constArg(n, rGroup); ok && groupNumber(re, g) < 0 {
			return ck.fail(n.args[rGroup].pos, "", "Replace: regexPattern has no group named %q", g)
		}
	}
	n.prep = prep
	return nil
}

// groupNumber finds a group by name, or by number written as digits.
func groupNumber(re *regexp2.Regexp, name string) int {
	if k := re.GroupNumberFromName(name); k >= 0 {
		return k
	}
	if k, err := strconv.Atoi(name); err == nil {
		for _, g := range re.GetGroupNumbers() {
			if g == k {
				return k
			}
		}
	}
	return -1
}

func evalReplace(c *evalCtx, n *node) (Value, error) {
	prep := n.prep.(*replacePrep)
	src, srcNull, err := c.one(n, rSource)
	if err != nil {
		return Value{}, err
	}
	str := func(i int) (string, error) {
		s, _, err := c.one(n, i)
		return s, err
	}
	switch prep.mode {
	case modeOldReplacement, modeOldTemplate:
		old, err := str(rOld)
		if err != nil {
			return Value{}, err
		}
		if srcNull {
			return Value{}, nil
		}
		if old == "" {
			return Value{}, c.fail(n, "oldValue is empty; it must be the text to replace")
		}
		if prep.mode == modeOldReplacement {
			rep, err := str(rReplacement)
			if err != nil {
				return Value{}, err
			}
			return Str(strings.ReplaceAll(src, old, rep)), nil
		}
		tpl, err := str(rTemplate)
		if err != nil {
			return Value{}, err
		}
		return Str(strings.ReplaceAll(tpl, old, src)), nil
	}
	re := prep.re
	if re == nil {
		pattern, err := str(rPattern)
		if err != nil {
			return Value{}, err
		}
		if re, err = compileRegex(pattern); err != nil {
			return Value{}, c.fail(n, "regexPattern %q: %v", pattern, err)
		}
	}
	group := -1
	if prep.mode == modeRegexGroup || prep.mode == modeRegexAttribute {
		g, err := str(rGroup)
		if err != nil {
			return Value{}, err
		}
		if group = groupNumber(re, g); group < 0 {
			return Value{}, c.fail(n, "regexPattern has no group named %q", g)
		}
	}
	switch prep.mode {
	case modeRegexReplacement:
		rep, err := str(rReplacement)
		if err != nil || srcNull {
			return Value{}, err
		}
		out, err := re.Replace(src, rep, -1, -1)
		if err != nil {
			return Value{}, c.regexFailed(n, err)
		}
		return Str(out), nil
	case modeRegexGroup:
		rep, err := str(rReplacement)
		if err != nil || srcNull {
			return Value{}, err
		}
		out, err := re.ReplaceFunc(src, func(m regexp2.Match) string { return replaceGroup(m, group, rep) }, -1, -1)
		if err != nil {
			return Value{}, c.regexFailed(n, err)
		}
		return Str(out), nil
	}
	// modeRegexAttribute: "If source has a value, source is returned; if
	// source has no value, the function applies the regexPattern to the
	// replacementAttributeName and returns the value matching
	// regexGroupName."
	if !srcNull && src != "" {
		c.note("source has a value: returned as it is")
		return Str(src), nil
	}
	attr, attrNull, err := c.one(n, rAttribute)
	if err != nil || attrNull {
		return Value{}, err
	}
	m, err := re.FindStringMatch(attr)
	if err != nil {
		return Value{}, c.regexFailed(n, err)
	}
	if m == nil {
		c.note("regexPattern does not match replacementAttributeName: null")
		return Value{}, nil
	}
	g := m.GroupByNumber(group)
	if g == nil || len(g.Captures) == 0 {
		return Value{}, nil
	}
	return Str(g.String()), nil
}

// replaceGroup rewrites one match with each capture of group replaced.
func replaceGroup(m regexp2.Match, group int, rep string) string {
	g := m.GroupByNumber(group)
	if g == nil || len(g.Captures) == 0 {
		return m.String()
	}
	text := m.Runes()
	var b strings.Builder
	at := 0
	for _, cp := range g.Captures {
		rel := cp.Index - m.Index
		if rel < at || rel+cp.Length > len(text) {
			continue
		}
		b.WriteString(string(text[at:rel]))
		b.WriteString(rep)
		at = rel + cp.Length
	}
	b.WriteString(string(text[at:]))
	return b.String()
}

func (c *evalCtx) regexFailed(n *node, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "timeout") {
		msg = "the regular expression took longer than " + regexTimeout.String() + " (catastrophic backtracking?)"
	}
	return c.fail(n, "%s", msg)
}
