package render

import (
	"bytes"
	"testing"

	"github.com/miscim/miscim/internal/testkit"
)

func TestStructured(t *testing.T) {
	v := map[string]any{"name": "X", "list": []string{"a", "b"}, "n": 1}
	for _, f := range []Format{FormatJSON, FormatYAML} {
		var b bytes.Buffer
		done, err := Structured(&b, f, v)
		if err != nil || !done {
			t.Fatal(err)
		}
		testkit.Golden(t, "structured-"+string(f), b.Bytes())
	}
	if done, _ := Structured(&bytes.Buffer{}, FormatTable, v); done {
		t.Error("table is rendered by the caller")
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": FormatTable, "table": FormatTable, "JSON": FormatJSON, "yaml": FormatYAML} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}
