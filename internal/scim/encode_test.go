package scim

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// reference is what encoding/json writes (the server's encoding before
// AppendJSON), without the Encoder's newline.
func reference(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, true, false, "", "a&b<c>", "quote\" back\\slash", "\b\f\n\r\t\x00\x1f\x7f", "\xff\xfe invalid", "line\u2028sep\u2029",
		"日本語 ☃ 🎉", 0.0, math.Copysign(0, -1), 1.0, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64,
		42, int64(-7), []string{"x", "y"}, []string(nil), []any{}, []any(nil), map[string]any{}, map[string]any(nil),
		map[string]any{"b": 1.0, "a": []any{"x", map[string]any{"z": nil, "Y": true}}, "A": "upper"},
		NewListResponse(2, 1, []Resource{{"id": "1", "meta": map[string]any{"version": `W/"1"`}}, {"id": "2"}}),
		NewListResponse(0, 1, nil),
		&ListResponse{Schemas: []string{ListResponseSchema}},
		&Error{Status: 409, ScimType: "uniqueness", Detail: "taken"},
		struct{ X int }{3},
	} {
		got, ok := AppendJSON(nil, v)
		if !ok {
			t.Errorf("AppendJSON(%#v) failed", v)
			continue
		}
		if want := reference(t, v); !bytes.Equal(got, want) {
			t.Errorf("AppendJSON(%#v)\n got %s\nwant %s", v, got, want)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), map[string]any{"x": math.Inf(-1)}, make(chan int)} {
		if _, ok := AppendJSON(nil, v); ok {
			t.Errorf("AppendJSON(%v) succeeded; encoding/json refuses it", v)
		}
	}
}

// FuzzAppendJSON: for any JSON document, as the engine decodes request
// bodies, AppendJSON writes exactly what encoding/json writes.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `"x"`, `{"a":[1,2.5,-3e-9,1e300],"b":{"c":null,"d":true}}`,
		`{"userName":"a\u2028b\u00e9\ud83c\udf89","x":"\u0000\u001f\\\"","n":1e21}`, `["\ud800"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		got, ok := AppendJSON(nil, v)
		if !ok {
			t.Fatalf("AppendJSON failed on %s", data)
		}
		if want := reference(t, v); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON(%s)\n got %s\nwant %s", data, got, want)
		}
	})
}
