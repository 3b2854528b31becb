package scim

import (
	"fmt"
	"strings"
	"testing"
)

func nest(n int) string { return strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1) }

func TestDecodeObjectText(t *testing.T) {
	ok := []struct{ name, body, key, want string }{
		{"raw UTF-8", `{"userName":"Zoë 😀 日本"}`, "userName", "Zoë 😀 日本"},
		{"escaped BMP character", `{"userName":"Zo\u00eb"}`, "userName", "Zoë"},
		{"surrogate pair", `{"userName":"\ud83d\ude00"}`, "userName", "😀"},
		{"escaped replacement character is data", `{"userName":"\ufffd"}`, "userName", "\ufffd"},
		{"raw replacement character is data", "{\"userName\":\"\xef\xbf\xbd\"}", "userName", "\ufffd"},
		{"escaped backslash before u", `{"userName":"\\ud800"}`, "userName", `\ud800`},
		{"brackets inside strings do not nest", `{"userName":"` + strings.Repeat("[{", 100) + `"}`, "userName", strings.Repeat("[{", 100)},
		{"escaped quote keeps the string open", `{"userName":"a\"[[[[","x":1}`, "userName", `a"[[[[`},
		{"nesting at the limit", `{"userName":"d","x":` + nest(MaxJSONDepth-1) + `}`, "userName", "d"},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := DecodeObject([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := GetString(doc, tt.key); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.key, got, tt.want)
			}
		})
	}

	bad := []struct{ name, body, detail string }{
		{"invalid bytes in a string", "{\"userName\":\"\xff\xfe\"}",
			`request body is not valid UTF-8: byte 0xff at byte offset 13, after "{\"userName\":\"" is not part of a UTF-8 character`},
		{"truncated sequence at the end", "{\"userName\":\"ab\xe6\x97",
			"byte 0xe6 at byte offset 15"},
		{"overlong encoding", "{\"a\":\"\xc0\xaf\"}", "byte 0xc0 at byte offset 6"},
		{"UTF-8 encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", "byte 0xed at byte offset 6"},
		{"invalid bytes outside strings", "{\"a\":1,\xff}", "byte 0xff at byte offset 7"},
		{"Latin-1 text", "{\"userName\":\"Zo\xeb\"}", `byte 0xeb at byte offset 15, after "{\"userName\":\"Zo"`},
		{"non-ASCII after a backslash", "{\"a\":\"\\\xff\"}", "not valid UTF-8: byte 0xff at byte offset 7"},
		{"lone high surrogate", `{"userName":"a\ud800"}`, `the escape \ud800 at byte offset 14 is half of a UTF-16 surrogate pair`},
		{"lone low surrogate", `{"userName":"\uDC00\uD800"}`, `the escape \uDC00 at byte offset 13 is half`},
		{"high surrogate before a non-surrogate", `{"a":"\ud83d\u0041"}`, `\ud83d at byte offset 6`},
		{"high surrogate at the end", `{"a":"\ud83d`, `\ud83d at byte offset 6`},
		{"too deep", nest(MaxJSONDepth + 1), "nests arrays and objects more than 32 levels deep (at byte offset 160)"},
		{"deep arrays", `{"a":` + strings.Repeat("[", 40), "more than 32 levels deep (at byte offset 36)"},
		{"very deep", strings.Repeat("[", 1<<20), "more than 32 levels deep (at byte offset 32)"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeObject([]byte(tt.body))
			checkBadRequest(t, err, ScimTypeInvalidSyntax)
			if d := err.(*Error).Detail; !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q\nwant it to contain %q", d, tt.detail)
			}
		})
	}
}

// TestParsePatchText: a PATCH body goes through the same checks.
func TestParsePatchText(t *testing.T) {
	for _, body := range []string{
		"{\"Operations\":[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"\xff\"}]}",
		`{"Operations":[{"op":"replace","path":"userName","value":"\udfff"}]}`,
		`{"Operations":[{"op":"replace","path":"x","value":` + nest(MaxJSONDepth) + `}]}`,
	} {
		_, err := ParsePatch([]byte(body))
		checkBadRequest(t, err, ScimTypeInvalidSyntax)
		if !strings.Contains(err.(*Error).Detail, "byte offset") {
			t.Errorf("%q: detail %q names no offset", body, err.(*Error).Detail)
		}
	}
}

// BenchmarkDecodeObject measures what the text check adds to decoding a
// body: an Entra create-user request, and a 1 MiB group body (the largest
// the server accepts by default).
func BenchmarkDecodeObject(b *testing.B) {
	entra := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_00aa00aa@contoso.com","active":true,"emails":[{"primary":true,"type":"work","value":"Test_User_00aa00aa@contoso.com"}],"meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"Zoë"},"roles":[]}`)
	var big strings.Builder
	big.WriteString(`{"displayName":"Big","members":[`)
	for i := 0; big.Len() < 1<<20-64; i++ {
		if i > 0 {
			big.WriteByte(',')
		}
		fmt.Fprintf(&big, `{"value":"%08x-0000-4000-8000-000000000000"}`, i)
	}
	big.WriteString(`]}`)
	for _, body := range []struct {
		name string
		b    []byte
	}{{"entra-user", entra}, {"group-1MiB", []byte(big.String())}} {
		b.Run(body.name+"/check", func(b *testing.B) {
			b.SetBytes(int64(len(body.b)))
			for b.Loop() {
				if err := CheckJSONText(body.b); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(body.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(body.b)))
			for b.Loop() {
				if _, err := DecodeObject(body.b); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
