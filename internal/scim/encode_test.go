package scim

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
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

// TestAppendJSONListResponse fills every field of ListResponse, whatever
// fields it has, and compares with encoding/json: a field added to the
// struct but not to AppendJSON fails here.
func TestAppendJSONListResponse(t *testing.T) {
	for _, zero := range []bool{false, true} {
		lr := &ListResponse{}
		v := reflect.ValueOf(lr).Elem()
		for i := 0; i < v.NumField() && !zero; i++ {
			f := v.Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString("c<&>" + v.Type().Field(i).Name)
			case reflect.Int:
				f.SetInt(int64(i + 1))
			case reflect.Slice:
				switch f.Type().Elem().Kind() {
				case reflect.String:
					f.Set(reflect.ValueOf([]string{ListResponseSchema}))
				default:
					f.Set(reflect.ValueOf([]Resource{{"id": "1"}}))
				}
			default:
				t.Fatalf("ListResponse.%s is a %s: teach AppendJSON and this test", v.Type().Field(i).Name, f.Kind())
			}
		}
		got, ok := AppendJSON(nil, lr)
		if want := reference(t, lr); !ok || !bytes.Equal(got, want) {
			t.Errorf("AppendJSON(%+v)\n got %s\nwant %s", lr, got, want)
		}
	}
}
