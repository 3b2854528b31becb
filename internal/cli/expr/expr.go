// Package expr implements `miscim expr`: Entra's expression builder,
// offline. It evaluates an attribute-mapping expression against attribute
// values given with --set and prints the result, or the call tree with
// --explain (docs/expr.md).
package expr

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	entraexpr "github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// Options are the inputs of `miscim expr`.
type Options struct {
	IO     *iostreams.IOStreams
	Format render.Format
	// Expression is the expression as typed.
	Expression string
	// Sets are the --set attr=value flags, in order.
	Sets    []string
	Explain bool
	// Now is the clock of Now() and time-only dates.
	Now func() time.Time
	// Seed, when set, makes Guid() and RandomString() repeatable.
	Seed          *uint64
	DefaultDomain string
	// TenantFlags and User name a tenant user to evaluate against:
	// --tenant, --mapping and --scope decide IsSoftDeleted; --set values
	// go on top of the user's.
	cmdutil.TenantFlags
	User string
}

// NewCmdExpr returns the expr command. runF replaces the run function in
// tests of flag parsing.
func NewCmdExpr(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	var now, seed string
	cmd := &cobra.Command{
		Use:   "expr EXPRESSION [--tenant PATH --user ID|UPN] [--set attr=value ...] [--explain]",
		Short: "Evaluate an Entra attribute-mapping expression offline",
		Long: `Evaluate an attribute-mapping expression the way Entra's expression builder
does, against attribute values given with --set, and print the result.

The language is Microsoft's ("Reference for writing expressions for attribute
mappings"): function calls, [attribute] references, "string" constants with
\" and \\ escapes, arguments left empty between commas, IIF's comparisons
= <> > >= < <=, at most 10,000 characters. Names are case-sensitive, of
functions and of attributes alike: [Mail] is not [mail].

--set attr=value gives an attribute a value; --set attr= gives it the empty
string; an attribute that is not set is null. Repeat --set with the same
attribute for a multi-valued attribute (proxyAddresses, appRoleAssignments).
Booleans are the strings True and False, as Entra renders them.

--tenant PATH --user ID|UPN evaluates against a user of a tenant export
(docs/tenant.md), found by objectId or userPrincipalName: the user's
attributes as Entra reads them, with the computed ones — IsSoftDeleted
from the user's scope (--scope, and the scoping filters of --mapping),
userPrincipalName with a guest's #EXT# stripped and
originalUserPrincipalName. --set values go on top, replacing the user's.

The result goes to stdout alone, for $(miscim expr ...): a multi-valued
result one value per line. A null result prints nothing, and says so on
stderr: Entra would not flow the attribute; so does a value that
IgnoreFlowIfNullOrEmpty drops. -o json prints
{"expression","result","null","multiValued","ignoreFlow","redacted"}, result
being a string, an array of strings, or null. --explain prints the call tree:
each argument with its value, what each call did, and what was not
evaluated.

Functions that need Entra's cloud (AppRoleAssignmentsComplex,
SelectUniqueValue, DefaultDomain without --default-domain) fail with "not
available offline". Every function, with its null handling, is in
docs/expr.md.

Exit codes: 0 evaluated (a null result included), 2 the expression does not
parse (the expression is printed with a caret under the failing character),
a bad --set, or a function not available offline, 3 the expression fails on
these values (IIF on a null attribute, a date that does not parse ...).`,
		Example: `  # Metric Insights' active mapping for an active user
  miscim expr 'Switch([IsSoftDeleted], , "False", "1", "True", "0")' --set IsSoftDeleted=False

  # see every argument and result
  miscim expr 'Join("@", ToLower([givenName]), "contoso.com")' --set givenName=Ann --explain

  # a multi-valued attribute: one value per line
  miscim expr 'RemoveDuplicates([proxyAddresses])' --set proxyAddresses=smtp:a@x --set proxyAddresses=smtp:a@x

  # in a script
  upn=$(miscim expr 'ToLower([userPrincipalName])' --set userPrincipalName=Ann@Contoso.com)

  # against a user of a tenant export, IsSoftDeleted computed
  miscim expr 'Switch([IsSoftDeleted], , "False", "1", "True", "0")' --tenant export/ --user diego.walters@contoso.com

  # the same user, as if enabled
  miscim expr 'Coalesce([mail], [userPrincipalName])' --tenant export/ --user diego.walters@contoso.com --set mail=`,
		Args: cmdutil.ExactArgs(1, "the expression (quote it for the shell)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Expression = args[0]
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			opts.Now = f.Now
			if now != "" {
				t, err := time.Parse(time.RFC3339, now)
				if err != nil {
					return cmdutil.FlagErrorf("invalid --now %q: use RFC 3339, e.g. 2026-01-31T09:00:00Z", now)
				}
				opts.Now = func() time.Time { return t }
			}
			if (opts.Tenant == "") != (opts.User == "") {
				return cmdutil.FlagErrorf("--tenant and --user go together: --tenant PATH --user ID|UPN evaluates against that tenant user")
			}
			if opts.Tenant == "" && (cmd.Flags().Changed("mapping") || cmd.Flags().Changed("scope")) {
				return cmdutil.FlagErrorf("--mapping and --scope decide IsSoftDeleted of a tenant user: give --tenant PATH --user ID|UPN")
			}
			if err := opts.TenantFlags.Check(); err != nil {
				return err
			}
			if seed != "" {
				v, err := strconv.ParseUint(seed, 10, 64)
				if err != nil {
					return cmdutil.FlagErrorf("invalid --seed %q: use a whole number", seed)
				}
				opts.Seed = &v
			}
			if runF != nil {
				return runF(opts)
			}
			return exprRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.Sets, "set", nil, "give an attribute a value: attr=value (repeat the attribute for several values; attr= is the empty string)")
	fl.BoolVar(&opts.Explain, "explain", false, "print the call tree: each argument and result")
	fl.StringVar(&now, "now", "", "the time Now() returns, RFC 3339 (default: the clock)")
	fl.StringVar(&seed, "seed", "", "make Guid() and RandomString() repeatable with this seed")
	fl.StringVar(&opts.DefaultDomain, "default-domain", "", "the tenant's default verified domain, for DefaultDomain()")
	opts.TenantFlags.Register(cmd)
	fl.StringVar(&opts.User, "user", "", "with --tenant: the user to evaluate against, by objectId or userPrincipalName")
	_ = cmd.RegisterFlagCompletionFunc("set", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("user", cobra.NoFileCompletions)
	return cmd
}

// parseSets turns --set flags into attributes: a name given twice or more
// is multi-valued.
func parseSets(sets []string) (entraexpr.Map, []string, error) {
	values := map[string][]string{}
	var order []string
	for _, s := range sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			return nil, nil, cmdutil.FlagErrorf("invalid --set %q: write attr=value (attr= for the empty string)", s)
		}
		if name == "" || strings.ContainsAny(name, "[]") || strings.TrimSpace(name) != name {
			return nil, nil, cmdutil.FlagErrorf("invalid --set %q: the attribute name must be given exactly, without brackets or spaces, e.g. --set mail=ann@contoso.com", s)
		}
		if _, seen := values[name]; !seen {
			order = append(order, name)
		}
		values[name] = append(values[name], value)
	}
	m := entraexpr.Map{}
	for name, vs := range values {
		if len(vs) == 1 {
			m[name] = entraexpr.Str(vs[0])
		} else {
			m[name] = entraexpr.Multi(vs...)
		}
	}
	return m, order, nil
}

func exprRun(opts *Options) error {
	sets, setOrder, err := parseSets(opts.Sets)
	if err != nil {
		return err
	}
	e, err := entraexpr.Parse(opts.Expression)
	if err != nil {
		var pe *entraexpr.ParseError
		if errors.As(err, &pe) {
			ie := &cmdutil.InputError{Err: fmt.Errorf("%s\n%s", pe.Error(), entraexpr.Caret(pe.Src, pe.Pos))}
			if pe.Hint != "" {
				ie.Hints = []string{pe.Hint}
			}
			return ie
		}
		return err
	}
	var attrs entraexpr.Attributes = sets
	available := map[string]string{}
	for name := range sets {
		available[name] = "--set gave"
	}
	if opts.Tenant != "" {
		mp, err := opts.TenantFlags.Load(opts.Now)
		if err != nil {
			return err
		}
		u, err := mp.Tenant().FindUser(opts.User)
		if err != nil {
			return &cmdutil.InputError{Err: fmt.Errorf("--user: %w", err),
				Hints: []string{"give the user's objectId or userPrincipalName; miscim tenant show --tenant " + opts.Tenant + " --users lists them"}}
		}
		attrs = mapping.Overlay(sets, mp.UserAttributes(u))
		for _, name := range mp.UserAttributeNames(u) {
			if _, set := available[name]; !set {
				available[name] = "the user has"
			}
		}
	}
	warn(opts, e, available, setOrder)
	env := &entraexpr.Env{Now: opts.Now, DefaultDomain: opts.DefaultDomain}
	if opts.Seed != nil {
		var key [32]byte
		for i := 0; i < 8; i++ {
			key[i] = byte(*opts.Seed >> (8 * i))
		}
		env.Rand = rand.NewChaCha8(key)
	}
	var res entraexpr.Result
	var tree *entraexpr.Step
	if opts.Explain {
		res, tree, err = e.Explain(attrs, env)
	} else {
		res, err = e.Eval(attrs, env)
	}
	if err != nil {
		return evalFailed(opts, e, tree, err)
	}
	out := newOutput(e, res, tree)
	if done, err := render.Structured(opts.IO.Out, opts.Format, out); done {
		if err != nil {
			return err
		}
		reportNull(opts, res)
		return nil
	}
	if opts.Explain {
		if err := render.WriteTree(opts.IO, treeOf(tree)); err != nil {
			return err
		}
	} else if res.Flows() {
		var b strings.Builder
		for _, v := range res.Value.Values() {
			b.WriteString(v + "\n")
		}
		if _, err := fmt.Fprint(opts.IO.Out, b.String()); err != nil {
			return err
		}
	}
	reportNull(opts, res)
	return nil
}

// reportNull says on stderr that nothing flows, and why.
func reportNull(opts *Options, res entraexpr.Result) {
	switch {
	case res.IgnoreFlow:
		fmt.Fprintln(opts.IO.ErrOut, "IgnoreFlowIfNullOrEmpty: the value is null or empty, so Entra drops the attribute from the flow")
	case res.Value.IsNull():
		fmt.Fprintln(opts.IO.ErrOut, "the result is null: Entra does not flow a null value, the attribute is left out")
	default:
		if s, ok := res.Value.Single(); ok && s == "" && opts.IO.IsStderrTTY() && opts.Format == render.FormatTable && !opts.Explain {
			fmt.Fprintln(opts.IO.ErrOut, "the result is the empty string")
		}
	}
}

// warn prints, on stderr, Entra's documented pitfalls in the expression,
// attributes it reads in another case than the available ones (given with
// --set, or the tenant user's; available maps each name to where it is
// from), and --set names that the expression does not read as written.
func warn(opts *Options, e *entraexpr.Expr, available map[string]string, setOrder []string) {
	th := render.NewErrTheme(opts.IO)
	w := func(format string, args ...any) {
		fmt.Fprintln(opts.IO.ErrOut, th.Warn.Render("warning: ")+fmt.Sprintf(format, args...))
	}
	for _, d := range e.Warnings() {
		w("%s", d.Msg)
	}
	read := map[string]bool{}
	names := make([]string, 0, len(available))
	for name := range available {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, a := range e.Attributes() {
		read[a] = true
		if _, ok := available[a]; ok {
			continue
		}
		for _, name := range names {
			if strings.EqualFold(name, a) {
				w("[%s] is not set, so it is null; %s %q: attribute names are case-sensitive", a, available[name], name)
			}
		}
	}
	var unused []string
	for _, name := range setOrder {
		if !read[name] {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	for _, name := range unused {
		if !anyFold(e.Attributes(), name) {
			w("--set %s: the expression does not read [%s]", name, name)
		}
	}
}

func anyFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// evalFailed reports an evaluation error: the expression with a caret
// under the failing call, exit 3 (the expression fails on these values),
// or exit 2 for a function miscim cannot evaluate offline.
func evalFailed(opts *Options, e *entraexpr.Expr, tree *entraexpr.Step, err error) error {
	var ee *entraexpr.EvalError
	if !errors.As(err, &ee) {
		return err
	}
	if opts.Format != render.FormatTable {
		out := output{Expression: e.Source(), Null: true, Error: &errorJSON{Function: ee.Func, Message: ee.Msg, Character: ee.Char()}}
		if tree != nil {
			out.Explain = stepJSONOf(tree)
		}
		if _, werr := render.Structured(opts.IO.Out, opts.Format, out); werr != nil {
			return werr
		}
	} else if tree != nil {
		if werr := render.WriteTree(opts.IO, treeOf(tree)); werr != nil {
			return werr
		}
	}
	msg := fmt.Errorf("%s\n%s", ee.Error(), entraexpr.Caret(ee.Src, ee.Pos))
	var hints []string
	if ee.Hint != "" {
		hints = append(hints, ee.Hint)
	}
	if errors.Is(err, entraexpr.ErrNotOffline) {
		return &cmdutil.InputError{Err: msg, Hints: hints}
	}
	return &cmdutil.ExitError{Code: 3, Err: cmdutil.WithHint(msg, hints...)}
}

// output is the JSON form (docs/expr.md).
type output struct {
	Expression  string     `json:"expression"`
	Result      any        `json:"result"`
	Null        bool       `json:"null"`
	MultiValued bool       `json:"multiValued"`
	IgnoreFlow  bool       `json:"ignoreFlow"`
	Redacted    bool       `json:"redacted"`
	Warnings    []string   `json:"warnings,omitempty"`
	Error       *errorJSON `json:"error,omitempty"`
	Explain     *stepJSON  `json:"explain,omitempty"`
}

type errorJSON struct {
	Function  string `json:"function"`
	Message   string `json:"message"`
	Character int    `json:"character"`
}

type stepJSON struct {
	Expr      string      `json:"expr"`
	Kind      string      `json:"kind"`
	Name      string      `json:"name,omitempty"`
	Param     string      `json:"param,omitempty"`
	Evaluated bool        `json:"evaluated"`
	Value     any         `json:"value"`
	Note      string      `json:"note,omitempty"`
	Error     string      `json:"error,omitempty"`
	Args      []*stepJSON `json:"args,omitempty"`
}

// jsonValue is a value in JSON: a string, an array of strings, or null.
func jsonValue(v entraexpr.Value) any {
	switch v.Kind() {
	case entraexpr.KindNull:
		return nil
	case entraexpr.KindMulti:
		return v.Values()
	}
	s, _ := v.Single()
	return s
}

func newOutput(e *entraexpr.Expr, res entraexpr.Result, tree *entraexpr.Step) output {
	out := output{Expression: e.Source(), IgnoreFlow: res.IgnoreFlow, Redacted: res.Redacted,
		MultiValued: res.Value.Kind() == entraexpr.KindMulti}
	if res.Flows() {
		out.Result = jsonValue(res.Value)
	} else {
		out.Null = true
	}
	for _, d := range e.Warnings() {
		out.Warnings = append(out.Warnings, d.Msg)
	}
	if tree != nil {
		out.Explain = stepJSONOf(tree)
	}
	return out
}

func stepJSONOf(st *entraexpr.Step) *stepJSON {
	j := &stepJSON{Expr: st.Expr, Kind: st.Kind, Name: st.Name, Param: st.Param, Evaluated: st.Evaluated, Note: st.Note, Error: st.Err}
	if st.Evaluated {
		j.Value = jsonValue(st.Value)
	}
	for _, a := range st.Args {
		j.Args = append(j.Args, stepJSONOf(a))
	}
	return j
}

// treeOf turns the call tree into lines: "param: text → value (note)".
func treeOf(st *entraexpr.Step) *render.TreeNode {
	var b strings.Builder
	if st.Param != "" {
		b.WriteString(st.Param + ": ")
	}
	text := strings.Join(strings.Fields(st.Expr), " ")
	switch st.Kind {
	case "omitted":
		text = "(omitted)"
	case "call":
		if len([]rune(text)) > 60 && st.Param != "" {
			text = st.Name + "(…)"
		}
	}
	b.WriteString(text)
	n := &render.TreeNode{}
	switch {
	case st.Err != "":
		b.WriteString("  ✗ " + st.Err)
		n.Failed = true
	case !st.Evaluated:
		if st.Kind != "omitted" {
			b.WriteString("  (not evaluated)")
		}
		n.Muted = true
	case st.Kind == "constant":
		// The value is the text.
	case st.Kind == "omitted":
		b.WriteString(" → null")
	default:
		b.WriteString(" → " + st.Value.String())
	}
	if st.Note != "" && st.Err == "" {
		b.WriteString("  (" + st.Note + ")")
	}
	n.Label = b.String()
	for _, a := range st.Args {
		n.Children = append(n.Children, treeOf(a))
	}
	return n
}
