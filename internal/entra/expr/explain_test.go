package expr

import (
	"fmt"
	"strings"
	"testing"
)

// dump renders a step tree one line per node, for comparisons.
func dump(st *Step, depth int, b *strings.Builder) {
	fmt.Fprintf(b, "%s%s %s %s", strings.Repeat("  ", depth), st.Param, st.Kind, st.Expr)
	if st.Evaluated {
		fmt.Fprintf(b, " = %v", st.Value)
	} else {
		b.WriteString(" (not evaluated)")
	}
	if st.Note != "" {
		fmt.Fprintf(b, " [%s]", st.Note)
	}
	if st.Err != "" {
		fmt.Fprintf(b, " !%s", st.Err)
	}
	b.WriteByte('\n')
	for _, a := range st.Args {
		dump(a, depth+1, b)
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		attrs Map
		want  string
	}{
		{"MI active", `Switch([IsSoftDeleted], , "False", "1", "True", "0")`, Map{"IsSoftDeleted": Bool(false)}, `
 call Switch([IsSoftDeleted], , "False", "1", "True", "0") = "1" [matched key1]
  source attribute [IsSoftDeleted] = "False"
  defaultValue omitted  (not evaluated)
  key1 constant "False" = "False"
  value1 constant "1" = "1"
  key2 constant "True" (not evaluated)
  value2 constant "0" (not evaluated)
`},
		{"nested with comparison", `IIF(Len([LastName]) <= 5, Left([LastName], 2), "long")`, Map{"LastName": s("Smith")}, `
 call IIF(Len([LastName]) <= 5, Left([LastName], 2), "long") = "Sm" [condition True: valueIfTrue]
  condition comparison Len([LastName]) <= 5 = "True"
    left call Len([LastName]) = "5"
      String attribute [LastName] = "Smith"
    right constant 5 = "5"
  valueIfTrue call Left([LastName], 2) = "Sm"
    String attribute [LastName] = "Smith"
    NumChars constant 2 = "2"
  valueIfFalse constant "long" (not evaluated)
`},
		{"failure", `Join("-", IIF([c]="x", "a", "b"), [d])`, nil, `
 call Join("-", IIF([c]="x", "a", "b"), [d]) = null !the condition reads [c], which is null: Entra fails IIF's condition check on a null or empty attribute
  separator constant "-" = "-"
  source1 call IIF([c]="x", "a", "b") = null !the condition reads [c], which is null: Entra fails IIF's condition check on a null or empty attribute
    condition comparison [c]="x" = "False"
      left attribute [c] = null
      right constant "x" = "x"
    valueIfTrue constant "a" (not evaluated)
    valueIfFalse constant "b" (not evaluated)
  source2 attribute [d] (not evaluated)
`},
		{"IgnoreFlow", `IgnoreFlowIfNullOrEmpty([department])`, Map{"department": s("")}, `
 call IgnoreFlowIfNullOrEmpty([department]) = "" [null or empty: Entra drops the attribute from the flow]
  expression attribute [department] = ""
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustParse(tt.expr)
			r, st, err := e.Explain(tt.attrs, testEnv())
			var b strings.Builder
			dump(st, 0, &b)
			if got := "\n" + b.String(); got != tt.want {
				t.Errorf("tree:%s\nwant:%s", got, tt.want)
			}
			plain, perr := e.Eval(tt.attrs, testEnv())
			if (err == nil) != (perr == nil) || !plain.Value.Equal(r.Value) || plain.IgnoreFlow != r.IgnoreFlow {
				t.Errorf("Explain %+v %v differs from Eval %+v %v", r, err, plain, perr)
			}
		})
	}
}
