package expr

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
)

// functions is the language: every function of Microsoft's reference
// (EXPR; entra-behavior §5.3), with the parameter names the reference
// uses. Signatures are exact: an unknown name or a wrong argument count is
// a ParseError, as Entra refuses to save such a mapping.
var functions map[string]*function

// Functions the checker treats specially.
var fnIgnoreFlow, fnSelectUnique, fnSwitch *function

func req(names ...string) []param {
	out := make([]param, len(names))
	for i, n := range names {
		out[i] = param{name: n}
	}
	return out
}

func opt(names ...string) []param {
	out := req(names...)
	for i := range out {
		out[i].optional = true
	}
	return out
}

func cat(ps ...[]param) []param {
	var out []param
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

func init() {
	list := []*function{
		{name: "Append", signature: "Append(source, suffix)", params: req("source", "suffix"), eval: evalAppend},
		{name: "AppRoleAssignmentsComplex", signature: "AppRoleAssignmentsComplex([appRoleAssignments])", params: req("appRoleAssignments"),
			eval: notOffline("it builds the roles complex attribute from the app's role definitions in Entra")},
		{name: "AssertiveAppRoleAssignmentsComplex", signature: "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])", params: req("appRoleAssignments"),
			eval: notOffline("it builds the roles complex attribute from the app's role definitions in Entra")},
		{name: "BitAnd", signature: "BitAnd(value1, value2)", params: req("value1", "value2"), eval: evalBitAnd},
		{name: "CBool", signature: "CBool(Expression)", params: req("Expression"), eval: evalCBool},
		{name: "CDate", signature: "CDate(expression)", params: req("expression"), eval: evalCDate},
		{name: "Coalesce", signature: "Coalesce(source1, source2, …, defaultValue)", params: req("source1"),
			repeat: func(i, k, total int) param { return param{name: fmt.Sprintf("source%d", k+1), optional: true} }, eval: evalCoalesce},
		{name: "ConvertToBase64", signature: "ConvertToBase64(source)", params: req("source"), eval: evalBase64},
		{name: "ConvertToUTF8Hex", signature: "ConvertToUTF8Hex(source)", params: req("source"), eval: evalUTF8Hex},
		{name: "Count", signature: "Count(attribute)", params: req("attribute"), eval: evalCount},
		{name: "CStr", signature: "CStr(value)", params: req("value"), eval: evalCStr},
		{name: "DateAdd", signature: "DateAdd(interval, value, dateTime)", params: req("interval", "value", "dateTime"), eval: evalDateAdd, check: checkInterval},
		{name: "DateDiff", signature: "DateDiff(interval, date1, date2)", params: req("interval", "date1", "date2"), eval: evalDateDiff, check: checkInterval},
		{name: "DateFromNum", signature: "DateFromNum(value)", params: req("value"), eval: evalDateFromNum},
		{name: "DefaultDomain", signature: "DefaultDomain()", eval: evalDefaultDomain},
		{name: "FormatDateTime", signature: "FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat)",
			params: cat(req("source"), opt("dateTimeStyles"), req("inputFormat", "outputFormat")), eval: evalFormatDateTime, check: checkFormatDateTime},
		{name: "Guid", signature: "Guid()", eval: evalGuid},
		{name: "IgnoreFlowIfNullOrEmpty", signature: "IgnoreFlowIfNullOrEmpty(expression)", params: req("expression"), eval: evalIgnoreFlow},
		{name: "IIF", signature: "IIF(condition, valueIfTrue, valueIfFalse)", params: req("condition", "valueIfTrue", "valueIfFalse"), eval: evalIIF, check: checkIIF},
		{name: "InStr", signature: "InStr(value1, value2, start, compareType)", params: cat(req("value1", "value2"), opt("start", "compareType")), eval: evalInStr, check: checkInStr},
		{name: "IsNull", signature: "IsNull(Expression)", params: req("Expression"), eval: evalIsNull},
		{name: "IsNullOrEmpty", signature: "IsNullOrEmpty(Expression)", params: req("Expression"), eval: evalIsNullOrEmpty},
		{name: "IsPresent", signature: "IsPresent(Expression)", params: req("Expression"), eval: evalIsPresent},
		{name: "IsString", signature: "IsString(Expression)", params: req("Expression"), eval: evalIsString},
		{name: "Item", signature: "Item(attribute, index)", params: req("attribute", "index"), eval: evalItem},
		{name: "Join", signature: "Join(separator, source1, source2, …)", params: req("separator", "source1"),
			repeat: func(i, k, total int) param { return param{name: fmt.Sprintf("source%d", k+1), optional: true} }, eval: evalJoin},
		{name: "Left", signature: "Left(String, NumChars)", params: req("String", "NumChars"), eval: evalLeft},
		{name: "Len", signature: "Len(String)", params: req("String"), eval: evalLen},
		{name: "Mid", signature: "Mid(source, start, length)", params: req("source", "start", "length"), eval: evalMid},
		{name: "NormalizeDiacritics", signature: "NormalizeDiacritics(source)", params: req("source"), eval: evalNormalizeDiacritics},
		{name: "Not", signature: "Not(source)", params: req("source"), eval: evalNot},
		{name: "Now", signature: "Now()", eval: evalNow},
		{name: "NumFromDate", signature: "NumFromDate(value)", params: req("value"), eval: evalNumFromDate},
		{name: "PCase", signature: "PCase(source, wordSeparators)", params: cat(req("source"), opt("wordSeparators")), eval: evalPCase},
		{name: "RandomString", signature: "RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase, CharactersToAvoid)",
			params: cat(req("Length", "MinimumNumbers", "MinimumSpecialCharacters", "MinimumCapital", "MinimumLowerCase"), opt("CharactersToAvoid")), eval: evalRandomString},
		{name: "Redact", signature: "Redact(attribute/value)", params: req("attribute/value"), eval: evalRedact},
		{name: "RemoveDuplicates", signature: "RemoveDuplicates(attribute)", params: req("attribute"), eval: evalRemoveDuplicates},
		{name: "Replace", signature: "Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)",
			params: cat(req("source"), opt("oldValue", "regexPattern", "regexGroupName", "replacementValue", "replacementAttributeName", "template")), eval: evalReplace, check: checkReplace},
		{name: "SelectUniqueValue", signature: "SelectUniqueValue(uniqueValueRule1, uniqueValueRule2, …)", params: req("uniqueValueRule1", "uniqueValueRule2"),
			repeat: func(i, k, total int) param { return param{name: fmt.Sprintf("uniqueValueRule%d", k+2)} },
			eval:   notOffline("it checks each candidate for uniqueness in the target directory, and Entra supports it only for Workday, SuccessFactors and API-driven provisioning to Active Directory")},
		{name: "SingleAppRoleAssignment", signature: "SingleAppRoleAssignment([appRoleAssignments])", params: req("appRoleAssignments"), eval: evalSingleAppRole},
		{name: "Split", signature: "Split(source, delimiter)", params: req("source", "delimiter"), eval: evalSplit},
		{name: "StripSpaces", signature: "StripSpaces(source)", params: req("source"), eval: evalStripSpaces},
		{name: "Switch", signature: "Switch(source, defaultValue, key1, value1, key2, value2, …)", params: cat(req("source"), opt("defaultValue")),
			repeat: func(i, k, total int) param {
				if k%2 == 1 {
					return param{name: fmt.Sprintf("key%d", (k+1)/2)}
				}
				return param{name: fmt.Sprintf("value%d", k/2)}
			}, eval: evalSwitch, check: checkSwitch},
		{name: "ToLower", signature: "ToLower(source, culture)", params: cat(req("source"), opt("culture")), eval: evalToLower, check: checkCulture},
		{name: "ToUpper", signature: "ToUpper(source, culture)", params: cat(req("source"), opt("culture")), eval: evalToUpper, check: checkCulture},
		{name: "Word", signature: "Word(String, WordNumber, Delimiters)", params: req("String", "WordNumber", "Delimiters"), eval: evalWord},
	}
	functions = make(map[string]*function, len(list))
	for _, f := range list {
		f.min, f.max = 0, len(f.params)
		for _, p := range f.params {
			if !p.optional {
				f.min++
			}
		}
		// Trailing optional parameters may be left out, as
		// InStr("The quick brown fox","quick") does; one in the middle is
		// left empty between commas.
		if f.repeat != nil {
			f.max = -1
		}
		functions[f.name] = f
	}
	// FormatDateTime's empty dateTimeStyles sits between required
	// parameters: its four slots are always written.
	functions["FormatDateTime"].min = 4
	functions["Switch"].min = 4
	fnIgnoreFlow, fnSelectUnique, fnSwitch = functions["IgnoreFlowIfNullOrEmpty"], functions["SelectUniqueValue"], functions["Switch"]
}

// notOffline is the evaluation of a function that needs Entra's cloud.
func notOffline(why string) func(c *evalCtx, n *node) (Value, error) {
	return func(c *evalCtx, n *node) (Value, error) {
		e := c.fail(n, "not available offline: %s", why)
		e.err = ErrNotOffline
		return Value{}, e
	}
}

// --- flow and logic --------------------------------------------------------

func evalIgnoreFlow(c *evalCtx, n *node) (Value, error) { return c.arg(n, 0) }

func evalRedact(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	c.redacted = true
	c.note("shown as [Redact] in provisioning logs")
	return v, err
}

// evalIIF fails when an attribute read in the condition is null or empty:
// "If the source attribute used within the IIF function is empty or null,
// the condition check fails" (EXPR, IIF known limitations), even inside
// IsNullOrEmpty or IsPresent, as Microsoft's unsupported examples show.
func evalIIF(c *evalCtx, n *node) (Value, error) {
	c.cond++
	saved := c.condAttr
	c.condAttr = nil
	cv, err := c.arg(n, 0)
	bad := c.condAttr
	c.condAttr = saved
	c.cond--
	if err != nil {
		return Value{}, err
	}
	if bad != nil {
		what := "null"
		if v := c.attrs.Attr(bad.name); !v.IsNull() {
			what = "empty"
		}
		e := c.fail(n, "the condition reads [%s], which is %s: Entra fails IIF's condition check on a null or empty attribute", bad.name, what)
		e.Hint = fmt.Sprintf(`test for empty values with Switch, e.g. Switch([%s], [%s], "", "Other") (EXPR, IIF known limitations)`, bad.name, bad.name)
		return Value{}, e
	}
	s, single := cv.Single()
	b, ok := parseBool(s)
	if !single || !ok {
		return Value{}, c.fail(n, "the condition is %s; it must be True or False (a comparison such as [country]=\"USA\")", cv)
	}
	if b {
		c.note("condition True: valueIfTrue")
		return c.arg(n, 1)
	}
	c.note("condition False: valueIfFalse")
	return c.arg(n, 2)
}

func checkIIF(ck *checker, n *node) error {
	cond := n.args[0]
	if cond.kind == nodeCall {
		switch cond.name {
		case "IsNullOrEmpty", "IsPresent", "IsNull":
			ck.warn(cond.pos, "%s as IIF's condition is documented as unsupported: the condition check fails whenever the attribute is null or empty; use Switch([attr], [attr], \"\", \"Other\")", cond.name)
		}
	}
	return nil
}

// evalSwitch compares source with each key, case-sensitively (EXPR,
// Switch); a null source matches the key "" ("check for empty or null
// values", hr-user-creation-issues). No match: defaultValue, which is null
// when omitted.
func evalSwitch(c *evalCtx, n *node) (Value, error) {
	src, _, err := c.one(n, 0)
	if err != nil {
		return Value{}, err
	}
	for k := 2; k+1 < len(n.args); k += 2 {
		key, _, err := c.one(n, k)
		if err != nil {
			return Value{}, err
		}
		if key == src {
			if c.trace {
				c.note("matched %s", n.fn.paramName(k, len(n.args)))
			}
			return c.arg(n, k+1)
		}
	}
	if present(n, 1) {
		c.note("no key matched: defaultValue")
	} else {
		c.note("no key matched and no defaultValue: null")
	}
	return c.arg(n, 1)
}

func checkSwitch(ck *checker, n *node) error {
	if (len(n.args)-2)%2 != 0 {
		return ck.fail(n.args[len(n.args)-1].pos, "", "Switch: key %d has no value; keys and values come in pairs: %s", (len(n.args)-1)/2, fnSwitch.signature)
	}
	if src := n.args[0]; src.kind == nodeCall {
		switch src.name {
		case "IsPresent", "IsNull", "IsNullOrEmpty":
			ck.warn(src.pos, "Microsoft advises against %s as Switch's source; use the attribute itself with \"\" as one of the keys", src.name)
		}
	}
	return nil
}

func evalCoalesce(c *evalCtx, n *node) (Value, error) {
	for i := range n.args {
		v, err := c.arg(n, i)
		if err != nil || !v.IsNull() {
			if err == nil && c.trace {
				c.note("first value that is not null: %s", n.fn.paramName(i, len(n.args)))
			}
			return v, err
		}
	}
	c.note("every value is null")
	return Value{}, nil
}

func evalIsNull(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	return Bool(v.IsNull()), err
}

func evalIsNullOrEmpty(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	return Bool(v.isEmpty()), err
}

func evalIsPresent(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	return Bool(!v.isEmpty()), err
}

// evalIsString: a single string (or a DateTime, which is used as one) is a
// string; null and several values are not.
func evalIsString(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	_, single := v.Single()
	return Bool(single), err
}

// evalNot: "If source value is True, returns False. Otherwise, returns
// True" (EXPR, Not) — any other value, null included, gives True.
func evalNot(c *evalCtx, n *node) (Value, error) {
	s, _, err := c.one(n, 0)
	if err != nil {
		return Value{}, err
	}
	b, ok := parseBool(s)
	return Bool(!(ok && b)), nil
}

// evalCBool: non-zero (or "True") is True, else False (EXPR, CBool);
// null is False.
func evalCBool(c *evalCtx, n *node) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil || isNull {
		return falseValue, err
	}
	b, ok := parseBool(s)
	if !ok {
		return Value{}, c.fail(n, "%q is neither a number nor True/False", s)
	}
	return Bool(b), nil
}

func evalCStr(c *evalCtx, n *node) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	return Str(s), nil
}

func evalBitAnd(c *evalCtx, n *node) (Value, error) {
	a, aNull, err := c.integer(n, 0)
	if err != nil {
		return Value{}, err
	}
	b, bNull, err := c.integer(n, 1)
	if err != nil || aNull || bNull {
		return Value{}, err
	}
	return itoa(a & b), nil
}

// --- multi-valued ---------------------------------------------------------

func evalCount(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	return itoa(int64(len(v.Values()))), err
}

func evalItem(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	idx, err := c.requiredInteger(n, 1)
	if err != nil {
		return Value{}, err
	}
	if idx < 1 {
		return Value{}, c.fail(n, "index %d: items count from 1 (\"Index 0 shouldn't be used\")", idx)
	}
	vals := v.Values()
	if idx > int64(len(vals)) {
		if c.trace {
			c.note("only %d values: null", len(vals))
		}
		return Value{}, nil
	}
	return Str(vals[idx-1]), nil
}

func evalRemoveDuplicates(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	if err != nil || v.kind != KindMulti {
		return v, err
	}
	seen := make(map[string]bool, len(v.list))
	out := make([]string, 0, len(v.list))
	for _, s := range v.list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return Multi(out...), nil
}

func evalSingleAppRole(c *evalCtx, n *node) (Value, error) {
	v, err := c.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	vals := v.Values()
	switch len(vals) {
	case 0:
		return Value{}, nil
	case 1:
		return Str(vals[0]), nil
	}
	e := c.fail(n, "the user has %d app role assignments (%s); SingleAppRoleAssignment supports one (EXPR)", len(vals), strings.Join(vals, ", "))
	e.Hint = "assign one role per user, or map roles with AppRoleAssignmentsComplex"
	return Value{}, e
}

// evalSplit splits on the delimiter and trims each value, as Microsoft's
// example shows ("PermissionSetOne, PermissionSetTwo" → two values
// without the space).
func evalSplit(c *evalCtx, n *node) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	d, _, err := c.one(n, 1)
	if err != nil {
		return Value{}, err
	}
	var parts []string
	if d == "" {
		parts = []string{s}
	} else {
		parts = strings.Split(s, d)
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return Multi(parts...), nil
}

// evalJoin joins every non-empty value, expanding multi-valued sources;
// null and "" sources are skipped, as Microsoft's example
// Join(", ", "", [surname], [givenName]) → "Doe, John" shows. With no
// source that is not null, the result is null.
func evalJoin(c *evalCtx, n *node) (Value, error) {
	sep, _, err := c.one(n, 0)
	if err != nil {
		return Value{}, err
	}
	var b strings.Builder
	first, anyValue := true, false
	for i := 1; i < len(n.args); i++ {
		v, err := c.arg(n, i)
		if err != nil {
			return Value{}, err
		}
		if v.kind == KindNull {
			continue
		}
		anyValue = true
		for _, s := range v.Values() {
			if s == "" {
				continue
			}
			if !first {
				b.WriteString(sep)
			}
			b.WriteString(s)
			first = false
		}
	}
	if !anyValue {
		return Value{}, nil
	}
	return Str(b.String()), nil
}

// --- strings ---------------------------------------------------------------

func evalAppend(c *evalCtx, n *node) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	suffix, _, err := c.one(n, 1)
	if err != nil {
		return Value{}, err
	}
	return Str(s + suffix), nil
}

// stringFunc is a function of one string that maps null to null.
func stringFunc(f func(string) string) func(c *evalCtx, n *node) (Value, error) {
	return func(c *evalCtx, n *node) (Value, error) {
		s, isNull, err := c.one(n, 0)
		if err != nil || isNull {
			return Value{}, err
		}
		return Str(f(s)), nil
	}
}

var (
	evalStripSpaces         = stringFunc(func(s string) string { return strings.ReplaceAll(s, " ", "") })
	evalNormalizeDiacritics = stringFunc(normalizeDiacritics)
	evalUTF8Hex             = stringFunc(func(s string) string { return fmt.Sprintf("%X", s) })
	evalBase64              = stringFunc(func(s string) string {
		units := utf16.Encode([]rune(s))
		b := make([]byte, 2*len(units))
		for i, u := range units {
			b[2*i], b[2*i+1] = byte(u), byte(u>>8)
		}
		return base64.StdEncoding.EncodeToString(b)
	})
)

func evalLen(c *evalCtx, n *node) (Value, error) {
	s, _, err := c.one(n, 0)
	return itoa(int64(utf16Len(s))), err
}

// evalLeft: n = 0 → "", n < 0 → the string, null → "", shorter → the
// string (EXPR, Left).
func evalLeft(c *evalCtx, n *node) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil {
		return Value{}, err
	}
	k, err := c.requiredInteger(n, 1)
	if err != nil {
		return Value{}, err
	}
	switch {
	case isNull || k == 0:
		return Str(""), nil
	case k < 0:
		return Str(s), nil
	}
	return Str(substring16(s, 0, k)), nil
}

func evalMid(c *evalCtx, n *node) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil {
		return Value{}, err
	}
	start, err := c.requiredInteger(n, 1)
	if err != nil {
		return Value{}, err
	}
	length, err := c.requiredInteger(n, 2)
	if err != nil || isNull {
		return Value{}, err
	}
	if start < 1 {
		return Value{}, c.fail(n, "start is %d; the first character is 1", start)
	}
	if length < 0 {
		return Value{}, c.fail(n, "length is %d; it cannot be negative", length)
	}
	return Str(substring16(s, start-1, length)), nil
}

// evalWord returns the n-th word, words being the non-empty runs between
// delimiter characters; "" when n < 1, the string is null or has fewer
// words (EXPR, Word).
func evalWord(c *evalCtx, n *node) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil {
		return Value{}, err
	}
	k, err := c.requiredInteger(n, 1)
	if err != nil {
		return Value{}, err
	}
	delims, _, err := c.one(n, 2)
	if err != nil {
		return Value{}, err
	}
	if isNull || k < 1 {
		return Str(""), nil
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if k > int64(len(words)) {
		return Str(""), nil
	}
	return Str(words[k-1]), nil
}

// evalInStr follows VBA's InStr: 1-based position of value2 in value1 from
// start, 0 when absent; "" or null value1 gives 0, "" value2 gives start.
func evalInStr(c *evalCtx, n *node) (Value, error) {
	s, _, err := c.one(n, 0)
	if err != nil {
		return Value{}, err
	}
	sub, _, err := c.one(n, 1)
	if err != nil {
		return Value{}, err
	}
	start, isNull, err := c.integer(n, 2)
	if err != nil {
		return Value{}, err
	}
	if isNull {
		start = 1
	}
	if start < 1 {
		return Value{}, c.fail(n, "start is %d; the first character is 1", start)
	}
	text := false
	ct, ctNull, err := c.one(n, 3)
	if err != nil {
		return Value{}, err
	}
	if !ctNull {
		if text, err = compareType(ct); err != nil {
			return Value{}, c.fail(n, "%v", err)
		}
	}
	return itoa(inStr(s, sub, start, text)), nil
}

func compareType(s string) (text bool, err error) {
	switch strings.TrimSpace(s) {
	case "0", "vbBinaryCompare":
		return false, nil
	case "1", "vbTextCompare":
		return true, nil
	}
	return false, fmt.Errorf("compareType %q: use vbBinaryCompare (case-sensitive) or vbTextCompare (case-insensitive)", s)
}

func checkInStr(ck *checker, n *node) error {
	if s, ok := constArg(n, 3); ok {
		if _, err := compareType(s); err != nil {
			return ck.fail(n.args[3].pos, "", "InStr: %v", err)
		}
	}
	return nil
}

func evalPCase(c *evalCtx, n *node) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	seps, sepsNull, err := c.one(n, 1)
	if err != nil {
		return Value{}, err
	}
	if sepsNull {
		return Str(toTitleCase(strings.ToLower(s))), nil
	}
	return Str(properCase(s, seps)), nil
}

func evalToLower(c *evalCtx, n *node) (Value, error) { return caseFunc(c, n, false) }
func evalToUpper(c *evalCtx, n *node) (Value, error) { return caseFunc(c, n, true) }

func caseFunc(c *evalCtx, n *node, upper bool) (Value, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	culture, _, err := c.one(n, 1)
	if err != nil {
		return Value{}, err
	}
	out, err := changeCase(s, culture, upper)
	if err != nil {
		return Value{}, c.fail(n, "%v", err)
	}
	return Str(out), nil
}

func checkCulture(ck *checker, n *node) error {
	if s, ok := constArg(n, 1); ok {
		if _, err := changeCase("", s, false); err != nil {
			return ck.fail(n.args[1].pos, "", "%s: %v", n.name, err)
		}
	}
	return nil
}

func evalDefaultDomain(c *evalCtx, n *node) (Value, error) {
	if c.env == nil || c.env.DefaultDomain == "" {
		e := c.fail(n, "not available offline: it returns the tenant's default verified domain")
		e.err = ErrNotOffline
		e.Hint = "give the domain with --default-domain"
		return Value{}, e
	}
	return Str(c.env.DefaultDomain), nil
}
