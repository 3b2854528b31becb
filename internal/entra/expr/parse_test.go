package expr

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		expr string
		at   string // the expression's text from the failing character on ("" = its end)
		want string // part of the message
	}{
		{"empty", "   ", "", "the expression is empty"},
		{"unknown function", `Swich([a], , "x", "y")`, `Swich(`, `unknown function "Swich"; did you mean Switch? Switch(source, defaultValue, key1, value1, key2, value2, …)`},
		{"wrong case", `switch([a], , "x", "y")`, `switch(`, `function names are case-sensitive; did you mean Switch?`},
		{"iif lower case", `iif([a]="x","y","z")`, `iif(`, `did you mean IIF?`},
		{"no such function", `Frobnicate([a])`, `Frobnicate(`, `unknown function "Frobnicate"`},
		{"too few arguments", `Append([a])`, `Append(`, `Append takes 2 arguments, got 1: Append(source, suffix)`},
		{"too many arguments", `ToLower([a], "en-US", "x")`, `ToLower(`, `ToLower takes 1 to 2 arguments, got 3: ToLower(source, culture)`},
		{"Switch without pair", `Switch([a], "d")`, `Switch(`, `Switch takes at least 4 arguments, got 2`},
		{"Switch odd", `Switch([a], , "k", "v", "k2")`, `"k2")`, `key 2 has no value; keys and values come in pairs`},
		{"Switch omitted key", `Switch([a], , , "v")`, `, "v")`, `key1 is required and cannot be left empty`},
		{"required omitted", `Append(, "x")`, `, "x")`, `Append: source is required`},
		{"Guid with argument", `Guid(1)`, `Guid(`, `Guid takes 0 arguments, got 1: Guid()`},
		{"Coalesce empty", `Coalesce()`, `Coalesce(`, `Coalesce takes at least 1 argument, got 0`},
		{"FormatDateTime three slots", `FormatDateTime([d], "yyyy", "MM")`, `FormatDateTime(`, `FormatDateTime takes 4 arguments, got 3`},
		{"unclosed call", `Join(",", [a]`, `(",", [a]`, `the parenthesis of Join( opened here is not closed`},
		{"unclosed string", `Append([a], "x)`, `"x)`, `the string constant opened here has no closing quote`},
		{"unclosed attribute", `Append([a, "x")`, `[a, "x")`, `the attribute name opened here has no closing ]`},
		{"empty attribute", `Append([], "x")`, `[], "x")`, `empty attribute name []`},
		{"spaced attribute", `Append([ mail ], "x")`, ` mail ], "x")`, `has spaces around it`},
		{"bare word", `Append([a], suffix)`, `suffix)`, `"suffix" is not a value: a text constant needs double quotes`},
		{"function without parentheses", `Append(Now, "x")`, `Now, "x")`, `the function Now needs parentheses: Now()`},
		{"missing comma", `Append([a] "x")`, `"x")`, `unexpected '"' in the arguments of Append: separate arguments with commas`},
		{"trailing text", `[a] [b]`, `[b]`, `unexpected '[' after a complete expression`},
		{"stray close", `[a])`, `)`, `unexpected ')': the expression is complete before it`},
		{"double equals", `IIF([a]=="x","y","z")`, `=="x"`, `"==" is not an operator: equality is a single "="`},
		{"not equal C style", `IIF([a]!="x","y","z")`, `!="x"`, `"!=" is not an operator: not-equal is "<>"`},
		{"chained comparison", `IIF([a]="x"="y","y","z")`, `="y","y"`, `a second comparison (=)`},
		{"comparison without right", `IIF([a]=,"y","z")`, `,"y","z")`, `the comparison = needs a value on its right`},
		{"bad character", `Append([a], #)`, `#)`, `unexpected '#' where a value was expected`},
		{"bad hex", `BitAnd(&HZZ, 1)`, `ZZ, 1)`, `the hex number has no digits`},
		{"number with letters", `Left("abc", 3x)`, `x)`, `unexpected 'x' in a number`},
		{"nested IgnoreFlow", `IIF(IgnoreFlowIfNullOrEmpty([country]),[country],"Other")`, `IgnoreFlowIfNullOrEmpty([country]),`, `IgnoreFlowIfNullOrEmpty must wrap the whole expression`},
		{"nested SelectUniqueValue", `ToLower(SelectUniqueValue([a], [b]))`, `SelectUniqueValue(`, `SelectUniqueValue must be the whole expression`},
		{"bad interval", `DateAdd("q", 1, Now())`, `"q", 1`, `DateAdd: interval "q" is not one of yyyy, m, d, ww, h, n, s`},
		{"bad culture", `ToLower([a], "english")`, `"english")`, `culture "english" is not a culture name`},
		{"bad compare type", `InStr("a", "b", 1, "vbNope")`, `"vbNope")`, `compareType "vbNope"`},
		{"bad regex", `Replace([a], , "(", , "x", , )`, `"(", , "x"`, `Replace: regexPattern "(":`},
		{"missing group", `Replace([a], , "(?<x>a)", "y", "z", , )`, `"y", "z"`, `regexPattern has no group named "y"`},
		{"Replace without mode", `Replace([a], "x", , , , , )`, `Replace(`, `Replace with oldValue needs replacementValue`},
		{"Replace both", `Replace([a], "x", "y", , "z", , )`, `"y", , "z"`, `give oldValue or regexPattern, not both`},
		{"Replace nothing", `Replace([a])`, `Replace(`, `Replace needs oldValue (argument 2) or regexPattern (argument 3)`},
		{"bad styles", `FormatDateTime([a], "Sideways", "yyyy", "yyyy")`, `"Sideways"`, `"Sideways" is not a DateTimeStyles value`},
		{"bad format", `FormatDateTime([a], , "q", "yyyy")`, `"q", "yyyy"`, `"q" is not a standard format`},
		{"unclosed format quote", `FormatDateTime([a], , "yyyy'x", "yyyy")`, `"yyyy'x"`, `is not closed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.expr)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%s) = %v, want a *ParseError", tt.expr, err)
			}
			if !strings.Contains(pe.Msg, tt.want) {
				t.Errorf("message %q does not contain %q", pe.Msg, tt.want)
			}
			if got := tt.expr[pe.Pos:]; tt.at == "" && got != "" || !strings.HasPrefix(got, tt.at) {
				t.Errorf("error at %q (byte %d), want at %q", got, pe.Pos, tt.at)
			}
		})
	}
}

func TestMaxLength(t *testing.T) {
	ok := `Join("", "` + strings.Repeat("a", MaxLength-12) + `")`
	if len(ok) != MaxLength {
		t.Fatalf("test setup: %d", len(ok))
	}
	if _, err := Parse(ok); err != nil {
		t.Fatalf("%d characters: %v", len(ok), err)
	}
	long := `Join("", "` + strings.Repeat("a", MaxLength-11) + `")`
	_, err := Parse(long)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Char() != MaxLength+1 || !strings.Contains(pe.Msg, "10001 characters long; Entra accepts at most 10000") {
		t.Fatalf("%d characters: %v", len(long), err)
	}
	// Characters are UTF-16 code units, as .NET counts them: an emoji is two.
	emoji := `Join("", "` + strings.Repeat("😀", (MaxLength-12)/2) + `x")`
	if _, err := Parse(emoji); err == nil {
		t.Errorf("%d UTF-16 units accepted", utf16Len(emoji))
	}
}

func TestInvalidUTF8(t *testing.T) {
	_, err := Parse("Append([a], \"\xff\")")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Pos != 13 || !strings.Contains(pe.Msg, "not valid UTF-8") {
		t.Fatalf("%v", err)
	}
}

func TestCaret(t *testing.T) {
	src := `Switch([IsSoftDeleted], , "False", "1", "True" "0")`
	_, err := Parse(src)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatal(err)
	}
	want := "  " + src + "\n  " + strings.Repeat(" ", strings.Index(src, `"0"`)) + "^"
	if got := Caret(src, pe.Pos); got != want {
		t.Errorf("Caret:\n%s\nwant:\n%s", got, want)
	}
	// A long expression is cut around the position; multi-byte text and
	// line breaks keep the caret under the character.
	long := strings.Repeat("é", 100) + "\n" + "X" + strings.Repeat("b", 100)
	got := Caret(long, strings.Index(long, "X"))
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "  …") || !strings.HasSuffix(lines[0], "…") {
		t.Fatalf("Caret window:\n%s", got)
	}
	col := len([]rune(lines[1])) - 1
	if r := []rune(lines[0]); r[col] != 'X' {
		t.Errorf("caret under %q, want X:\n%s", r[col], got)
	}
	if got := Caret("ab", 2); got != "  ab\n    ^" {
		t.Errorf("caret at the end: %q", got)
	}
}

// TestPrintRoundTrip: the canonical form parses to the same canonical
// form, keeps omitted arguments, escapes and numbers as written.
func TestPrintRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Switch([IsSoftDeleted], , "False", "1", "True", "0")`, `Switch([IsSoftDeleted], , "False", "1", "True", "0")`},
		{`Replace([s],"a",,,"b",,)`, `Replace([s], "a", , , "b", , )`},
		{"IIF( [c]=\"USA\" ,\n [c],[d] )", `IIF([c] = "USA", [c], [d])`},
		{`"a \"q\" \\ \d"`, `"a \"q\" \\ \\d"`},
		{`"ends with \\"`, `"ends with \\"`},
		{`BitAnd(&HF, -10.5)`, `BitAnd(&HF, -10.5)`},
		{`InStr("a","b",1,vbTextCompare)`, `InStr("a", "b", 1, vbTextCompare)`},
		{`Now()`, `Now()`},
		{`Join ("", [a])`, `Join("", [a])`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if got := e.String(); got != tt.want {
			t.Errorf("String(%s) = %s, want %s", tt.in, got, tt.want)
		}
		again, err := Parse(e.String())
		if err != nil || again.String() != e.String() {
			t.Errorf("re-parse of %s: %v %v", e.String(), again, err)
		}
	}
}

func TestAttributesAndWarnings(t *testing.T) {
	e := MustParse(`Switch(IsPresent([mail]), [upn], "True", [mail], "False", Join("@", [mail], [upn]))`)
	if got := strings.Join(e.Attributes(), ","); got != "mail,upn" {
		t.Errorf("Attributes = %s", got)
	}
	if w := e.Warnings(); len(w) != 1 || !strings.Contains(w[0].Msg, "IsPresent as Switch's source") {
		t.Errorf("Warnings = %v", w)
	}
	w := MustParse(`IIF(IsNullOrEmpty([country]),"Other",[country])`).Warnings()
	if len(w) != 1 || !strings.Contains(w[0].Msg, "documented as unsupported") {
		t.Errorf("IIF warnings = %v", w)
	}
	if w := MustParse(`Switch([IsSoftDeleted], , "False", "1", "True", "0")`).Warnings(); len(w) != 0 {
		t.Errorf("warnings on the MI mapping: %v", w)
	}
}

func TestFunctionTable(t *testing.T) {
	names := FunctionNames()
	// Every function of the reference (2024 and 2026 versions).
	want := strings.Fields(`AppRoleAssignmentsComplex Append AssertiveAppRoleAssignmentsComplex BitAnd CBool CDate CStr Coalesce
		ConvertToBase64 ConvertToUTF8Hex Count DateAdd DateDiff DateFromNum DefaultDomain FormatDateTime Guid IIF
		IgnoreFlowIfNullOrEmpty InStr IsNull IsNullOrEmpty IsPresent IsString Item Join Left Len Mid NormalizeDiacritics
		Not Now NumFromDate PCase RandomString Redact RemoveDuplicates Replace SelectUniqueValue SingleAppRoleAssignment
		Split StripSpaces Switch ToLower ToUpper Word`)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("FunctionNames:\n%v\nwant\n%v", names, want)
	}
	if sig, ok := Signature("IIF"); !ok || sig != "IIF(condition, valueIfTrue, valueIfFalse)" {
		t.Errorf("Signature(IIF) = %q", sig)
	}
}
