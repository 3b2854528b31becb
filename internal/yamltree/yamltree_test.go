package yamltree

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var testOptions = Options{What: "a test file", Holds: "a and b"}

func str(text string, line int) Node { return Node{Kind: String, Text: text, Line: line} }

func num(text string, line int) Node { return Node{Kind: Number, Text: text, Line: line} }

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      Node
	}{
		{"scalars keep their text and line", "a: x\nb: 0123\nc: True\nd: ~\ne: -1.5e3\n",
			Node{Kind: Map, Line: 1, Keys: []string{"a", "b", "c", "d", "e"}, Vals: []Node{
				str("x", 1), num("0123", 2), {Kind: Bool, Text: "True", True: true, Line: 3}, {Kind: Null, Line: 4}, num("-1.5e3", 5)}}},
		{"a block list, each item on its line", "- a\n-\n- 'b: c'\n",
			Node{Kind: List, Line: 1, Items: []Node{str("a", 1), {Kind: Null, Line: 2}, str("b: c", 3)}}},
		{"nested block mappings", "top:\n  list:\n    - {k: 1}\n",
			Node{Kind: Map, Line: 1, Keys: []string{"top"}, Vals: []Node{{Kind: Map, Line: 2, Keys: []string{"list"}, Vals: []Node{
				{Kind: List, Line: 3, Items: []Node{{Kind: Map, Line: 3, Keys: []string{"k"}, Vals: []Node{num("1", 3)}}}}}}}}},
		{"JSON is YAML", "{\"a\": [1, \"x\", false],\n \"b\": null}",
			Node{Kind: Map, Line: 1, Keys: []string{"a", "b"}, Vals: []Node{
				{Kind: List, Line: 1, Items: []Node{num("1", 1), str("x", 1), {Kind: Bool, Text: "false", Line: 1}}}, {Kind: Null, Line: 2}}}},
		{"!!str makes a scalar a string", "a: !!str 5\nb: !!str true\n",
			Node{Kind: Map, Line: 1, Keys: []string{"a", "b"}, Vals: []Node{str("5", 1), str("true", 2)}}},
		{"a literal block", "a: |\n  one\n  two\n",
			Node{Kind: Map, Line: 1, Keys: []string{"a"}, Vals: []Node{str("one\ntwo\n", 1)}}},
		{"an anchor without its alias is its value", "a: &x 1\n",
			Node{Kind: Map, Line: 1, Keys: []string{"a"}, Vals: []Node{num("1", 1)}}},
		{"keys in file order", "b: 1\na: 2\n",
			Node{Kind: Map, Line: 1, Keys: []string{"b", "a"}, Vals: []Node{num("1", 1), num("2", 2)}}},
		{"a key that is not a string is its text", "1: a\ntrue: b\n",
			Node{Kind: Map, Line: 1, Keys: []string{"1", "true"}, Vals: []Node{str("a", 1), str("b", 2)}}},
		{"a tagged or anchored key is its text", "!!str 1: a\n&k b: c\n!!str &j d: e\n",
			Node{Kind: Map, Line: 1, Keys: []string{"1", "b", "d"}, Vals: []Node{str("a", 1), str("c", 2), str("e", 3)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse([]byte(c.src), testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if !sameTree(*got, c.want) {
				t.Errorf("got  %+v\nwant %+v", *got, c.want)
			}
		})
	}
}

// sameTree compares trees with nil and empty slices alike.
func sameTree(a, b Node) bool {
	if a.Kind != b.Kind || a.Text != b.Text || a.True != b.True || a.Line != b.Line ||
		len(a.Items) != len(b.Items) || len(a.Keys) != len(b.Keys) || len(a.Vals) != len(b.Vals) {
		return false
	}
	if len(a.Keys) > 0 && !reflect.DeepEqual(a.Keys, b.Keys) {
		return false
	}
	for i := range a.Items {
		if !sameTree(a.Items[i], b.Items[i]) {
			return false
		}
	}
	for i := range a.Vals {
		if !sameTree(a.Vals[i], b.Vals[i]) {
			return false
		}
	}
	return true
}

func TestNoDocument(t *testing.T) {
	for _, src := range []string{"", "\n\n", "# only a comment\n", "---\n", "--- # c\n...\n"} {
		got, err := Parse([]byte(src), testOptions)
		if got != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want no tree and no error", src, got, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("- ", 4) + "x\n"
	for _, c := range []struct {
		name, src string
		o         Options
		line      int
		msg, hint string
	}{
		{"syntax", "a: 1\nb: 'x\n", testOptions, 2, "not valid YAML: ", ""},
		{"not UTF-8", "a: ok\nb: Ren\xe9\n", testOptions, 2, "not UTF-8 text at byte 12", "save the file as UTF-8"},
		{"not UTF-8 in the first byte", "\xff", testOptions, 1, "not UTF-8 text at byte 0", "save the file as UTF-8"},
		{"two documents", "a: 1\n---\nb: 2\n", testOptions, 0, "want one YAML document, found 2", "a test file is one document with a and b"},
		{"two documents, nothing said of the one", "a: 1\n---\nb: 2\n", Options{What: "a file"}, 0, "want one YAML document, found 2", ""},
		{"an alias", "a: &x 1\nb: *x\n", testOptions, 2, "YAML aliases (*name) are not supported in a test file", "write the values out in full"},
		{"an alias in a list", "a: &x 1\nb:\n  - *x\n", testOptions, 3, "YAML aliases (*name) are not supported in a test file", "write the values out in full"},
		{"an alias as a key", "a: &x k\n*x : 2\n", testOptions, 2, "YAML aliases (*name) are not supported in a test file", "write the values out in full"},
		{"a tagged key given twice", "!!str a: 1\na: 2\n", testOptions, 2, `the key "a" is given twice`, ""},
		{"a merge key", "base: &b {x: 1}\nc:\n  <<: *b\n", testOptions, 3, "YAML merge keys (<<) are not supported in a test file", "write the values out in full"},
		{"a key given twice", "a: 1\nb: 2\na: 3\n", testOptions, 3, `the key "a" is given twice`, ""},
		{"a key given twice, once quoted", "a: 1\n'a': 2\n", testOptions, 2, `the key "a" is given twice`, ""},
		{"a key given twice in a flow mapping", "x:\n  {a: 1,\n   a: 2}\n", testOptions, 3, `the key "a" is given twice`, ""},
		{"a key given twice in a large mapping", manyKeys(40) + "k7: again\n", testOptions, 41, `the key "k7" is given twice`, ""},
		{"a key that is a list", "? [a]\n: 1\n", testOptions, 2, "not valid YAML: found an invalid key for this map", ""},
		{"a key that is a block", "? |\n  a\n: 1\n", testOptions, 1, "a mapping key must be a plain name", ""},
		{"nested deeper than allowed", deep, Options{What: "a test file", MaxDepth: 3}, 1, "YAML nested too deeply", ""},
		{"nested deeper than the default", strings.Repeat("[", DefaultMaxDepth+2) + strings.Repeat("]", DefaultMaxDepth+2), testOptions, 1, "YAML nested too deeply", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse([]byte(c.src), c.o)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %v, %v; want an *Error", got, err)
			}
			if got != nil {
				t.Errorf("a tree as well as the error: %+v", *got)
			}
			if e.Line != c.line || !strings.HasPrefix(e.Msg, c.msg) || e.Hint != c.hint {
				t.Errorf("error at line %d %q, hint %q; want line %d %q…, hint %q", e.Line, e.Msg, e.Hint, c.line, c.msg, c.hint)
			}
		})
	}
	if _, err := Parse([]byte(strings.Repeat("- ", 4)+"x\n"), Options{MaxDepth: 4}); err != nil {
		t.Errorf("nesting of MaxDepth refused: %v", err)
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Line: 3, Msg: "oops"}
	if e.Error() != "line 3: oops" {
		t.Errorf("Error() = %q", e.Error())
	}
	if e := (&Error{Msg: "oops"}); e.Error() != "oops" {
		t.Errorf("Error() without a line = %q", e.Error())
	}
	_, err := Parse([]byte("a: [\n"), testOptions)
	if errors.Unwrap(err) == nil {
		t.Error("a syntax error does not carry the parser's error")
	}
}

// manyKeys is a mapping of k0 to kN-1, one key a line.
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: %d\n", i, i)
	}
	return b.String()
}

// TestManyKeys reads a mapping large enough for the keys to be checked
// through a set, with a repeat at the end.
func TestManyKeys(t *testing.T) {
	n, err := Parse([]byte(manyKeys(1000)), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Keys) != 1000 || n.Vals[999].Line != 1000 {
		t.Fatalf("read %d keys, the last on line %d", len(n.Keys), n.Vals[999].Line)
	}
	if v, ok := n.Get(n.Keys[500]); !ok || v != &n.Vals[500] {
		t.Error("Get does not find a key")
	}
	if _, ok := n.Get("nope"); ok {
		t.Error("Get finds a key that is not there")
	}
}

func TestDescribe(t *testing.T) {
	for k, want := range map[Kind]string{Null: "null", String: "a string", Number: "a number", Bool: "a boolean", List: "a list", Map: "a mapping"} {
		if got := (&Node{Kind: k}).Describe(); got != want {
			t.Errorf("Describe(%d) = %q, want %q", k, got, want)
		}
	}
}

// FuzzParse: any bytes give a tree or an *Error, never a panic. A tree
// keeps the contract loaders rely on: every line is within the input, a
// mapping's keys are unique and each has its value, nothing is nested
// deeper than allowed. Text that is not UTF-8 is always refused.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"a: x\nb: [1, 2]\nc: {d: true}\n", "- a\n- - b\n  - c\n", "{\"a\": [1, \"x\"]}", "a: &x 1\nb: *x\n",
		"<<: {a: 1}\n", "a: 1\n---\nb: 2\n", "a: |\n  x\n", "!!str 5", "? a\n: 1\n", "a: 1\na: 2\n", "\xff", "[[[[[[]]]]]]", "&x a: 1\n", "# c\n"} {
		f.Add([]byte(s))
	}
	const maxDepth = 8
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := Parse(data, Options{What: "a fuzz file", Holds: "anything", MaxDepth: maxDepth})
		// YAML breaks lines at LF, CRLF and a lone CR (YAML 1.2 §5.4).
		lines := 1 + bytes.Count(data, []byte{'\n'}) + bytes.Count(data, []byte{'\r'}) - bytes.Count(data, []byte("\r\n"))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Fatalf("error %T %v is not an *Error with a message", err, err)
			}
			if root != nil {
				t.Fatal("a tree as well as an error")
			}
			if e.Line < 0 || e.Line > lines {
				t.Fatalf("error at line %d of a %d-line input: %v", e.Line, lines, e)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatalf("read %q, which is not UTF-8", data)
		}
		if root != nil {
			checkTree(t, root, 0, maxDepth, lines)
		}
	})
}

func checkTree(t *testing.T, n *Node, depth, maxDepth, lines int) {
	t.Helper()
	if depth > maxDepth {
		t.Fatalf("a node at depth %d, over %d", depth, maxDepth)
	}
	if n.Line < 0 || n.Line > lines {
		t.Fatalf("a node at line %d of a %d-line input", n.Line, lines)
	}
	if len(n.Keys) != len(n.Vals) || (n.Kind != Map && len(n.Keys) > 0) || (n.Kind != List && len(n.Items) > 0) {
		t.Fatalf("a %s with %d keys, %d values and %d items", n.Describe(), len(n.Keys), len(n.Vals), len(n.Items))
	}
	seen := map[string]bool{}
	for i, k := range n.Keys {
		if seen[k] {
			t.Fatalf("the key %q twice", k)
		}
		seen[k] = true
		checkTree(t, &n.Vals[i], depth+1, maxDepth, lines)
	}
	for i := range n.Items {
		checkTree(t, &n.Items[i], depth+1, maxDepth, lines)
	}
}
