package jsonappend

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// marshal is what encoding/json writes for v with HTML escaping off.
func marshal(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\bbs\fff",
		"\x00\x01\x1f\x7f", "<a href=\"x\">&</a>", "Renée 日本 😀",
		"bad \xff\xfe utf-8", "sep \u2028 and \u2029", "\xed\xa0\x80 surrogate bytes",
	} {
		if got, want := String(nil, s), marshal(t, s); !bytes.Equal(got, want) {
			t.Errorf("String(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}

func TestFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.5, 1e-6, 1e-7, 123456789, 1e20, 1e21, 1.5e-300, -2.5e300, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		got, ok := Float(nil, f)
		if want := marshal(t, f); !ok || !bytes.Equal(got, want) {
			t.Errorf("Float(%v) = %s %v, encoding/json writes %s", f, got, ok, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got, ok := Float([]byte("x"), f); ok || string(got) != "x" {
			t.Errorf("Float(%v) = %q %v, want nothing appended and false", f, got, ok)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("a\"b\\c\n<>&\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := String(nil, s), marshal(t, s); !bytes.Equal(got, want) {
			t.Fatalf("String(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

func FuzzFloat(f *testing.F) {
	f.Add(1e-7)
	f.Fuzz(func(t *testing.T, x float64) {
		got, ok := Float(nil, x)
		if math.IsInf(x, 0) || math.IsNaN(x) {
			if ok {
				t.Fatalf("Float(%v) ok", x)
			}
			return
		}
		if want := marshal(t, x); !ok || !bytes.Equal(got, want) {
			t.Fatalf("Float(%v) = %s, encoding/json writes %s", x, got, want)
		}
	})
}
