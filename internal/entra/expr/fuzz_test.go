package expr

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	`Switch([IsSoftDeleted], , "False", "1", "True", "0")`,
	`IIF([country]="USA",IIF([state]="CA","True","False"),"False")`,
	`Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )`,
	`Join(", ", "", [surname], [givenName])`,
	`FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")`,
	`DateDiff("ww", CDate([a]), Now())`,
	`BitAnd(&HF, &HF7)`,
	`InStr("repEated","e",3,vbBinaryCompare)`,
	`IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr."))`,
	`PCase(NormalizeDiacritics(ToLower([n], "tr-TR")), " '-")`,
	`Split(Join(",", RandomString(8,1,1,1,1,"?"), Guid()), ",")`,
	`Item(RemoveDuplicates([p]), Count([p]))`,
	`"a \"q\" \\"`,
	`Left([x], -1) = Mid([x], 1, 2)`,
}

// FuzzParse: any input is an expression or a *ParseError pointing inside
// it, never a panic; a parsed expression prints to a form that parses to
// the same form.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Pos < 0 || pe.Pos > len(src) {
				t.Fatalf("position %d outside %d bytes", pe.Pos, len(src))
			}
			_ = Caret(src, pe.Pos)
			return
		}
		printed := e.String()
		again, err := Parse(printed)
		if err != nil {
			// Printing may lengthen an expression past the limit.
			if utf16Len(printed) > MaxLength {
				return
			}
			t.Fatalf("%q printed as %q, which does not parse: %v", src, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("%q → %q → %q", src, printed, again.String())
		}
	})
}

// FuzzEval: any expression evaluated against any attribute values gives a
// value or an *EvalError, never a panic, and Explain agrees with Eval.
func FuzzEval(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "x@contoso.com", "2020-03-16-07:00", uint8(i))
	}
	// Pathological patterns hit the match timeout; keep each short so that
	// the fuzzer explores instead of waiting.
	saved := regexTimeout
	regexTimeout = 5 * time.Millisecond
	f.Cleanup(func() { regexTimeout = saved })
	f.Fuzz(func(t *testing.T, src, a, b string, seed uint8) {
		e, err := Parse(src)
		if err != nil {
			return
		}
		values := Map{}
		for i, name := range e.Attributes() {
			switch i % 4 {
			case 0:
				values[name] = Str(a)
			case 1:
				values[name] = Str(b)
			case 2:
				values[name] = Multi(strings.Split(a, ",")...)
			}
		}
		env := func() *Env {
			return &Env{Now: func() time.Time { return time.Date(2021, 8, 25, 17, 41, 18, 0, time.UTC) },
				Rand: rand.NewChaCha8([32]byte{seed}), DefaultDomain: "contoso.com"}
		}
		r, err := e.Eval(values, env())
		if err != nil {
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("error %T %v is not an *EvalError", err, err)
			}
			if ee.Pos < 0 || ee.End > len(src) || ee.Pos > ee.End {
				t.Fatalf("position %d-%d outside %d bytes", ee.Pos, ee.End, len(src))
			}
		}
		r2, st, err2 := e.Explain(values, env())
		if (err == nil) != (err2 == nil) || !r.Value.Equal(r2.Value) || r.IgnoreFlow != r2.IgnoreFlow || st == nil {
			t.Fatalf("Explain (%v, %v) differs from Eval (%v, %v)", r2, err2, r, err)
		}
	})
}
