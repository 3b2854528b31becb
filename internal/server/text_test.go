package server

import (
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/scim"
)

// TestInvalidTextOverHTTP: bodies and filters that are not UTF-8 are 400
// with the byte offset, through the handler, and nothing is stored (the
// engine refuses them; this checks that the status and body reach the
// client as a SCIM error).
func TestInvalidTextOverHTTP(t *testing.T) {
	v := newEnv(t, Options{})
	uid := v.createUser("ann@example.com")
	gid := v.createGroup("Staff")
	bad := "{\"userName\":\"\xff\xfe\",\"emails\":[{\"value\":\"x@example.com\"}]}"
	for _, tt := range []struct{ method, path, body, detail string }{
		{"POST", "/scim/v2/Users", bad, "byte 0xff at byte offset 13"},
		{"PUT", "/scim/v2/Users/" + uid, bad, "byte 0xff at byte offset 13"},
		{"PATCH", "/scim/v2/Users/" + uid, "{\"Operations\":[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"\xc3\"}]}", "byte 0xc3 at byte offset 58"},
		{"POST", "/scim/v2/Groups", "{\"displayName\":\"Caf\xe9\"}", "byte 0xe9 at byte offset 19"},
		{"PUT", "/scim/v2/Groups/" + gid, `{"displayName":"\ud800"}`, `the escape \ud800 at byte offset 16`},
		{"PATCH", "/scim/v2/Groups/" + gid, `{"Operations":[{"op":"add","path":"members","value":` + strings.Repeat("[", 40) + `}]}`, "more than 32 levels deep"},
		{"PUT", "/api/system-variables/SCIM_REMOVE_USER_ON_SOFT_DELETE", "{\"value\":\"Y\xff\"}", "byte 0xff at byte offset 11"},
	} {
		r := v.req(tt.method, tt.path, tt.body)
		scimError(t, r, 400, scim.ScimTypeInvalidSyntax)
		if !strings.Contains(r.str("detail"), tt.detail) {
			t.Errorf("%s %s: detail %q, want %q", tt.method, tt.path, r.str("detail"), tt.detail)
		}
	}
	r := v.req("GET", "/scim/v2/Users", nil).expect(t, 200)
	if r.num("totalResults") != 2 { // ann and the token's admin
		t.Errorf("after refused writes: %s", r)
	}
	if v.req("GET", "/scim/v2/Users/"+uid, nil).expect(t, 200).str("userName") != "ann@example.com" {
		t.Error("a refused PUT or PATCH changed the user")
	}
	if v.req("GET", "/scim/v2/Groups/"+gid, nil).expect(t, 200).str("displayName") != "Staff" {
		t.Error("a refused PUT changed the group")
	}

	// Filters: percent-decoded, then checked (RFC 7644 §3.12: invalidFilter).
	for _, q := range []string{
		"/scim/v2/Users?filter=userName+eq+%22%FF%FE%22",
		"/scim/v2/Groups?filter=displayName%20eq%20%22Caf%E9%22",
	} {
		r := v.req("GET", q, nil)
		scimError(t, r, 400, scim.ScimTypeInvalidFilter)
		if !strings.Contains(r.str("detail"), "at byte offset ") {
			t.Errorf("%s: detail %q names no byte offset", q, r.str("detail"))
		}
	}
	v.req("GET", "/scim/v2/Groups?filter=displayName%20eq%20%22Caf%C3%A9%22", nil).expect(t, 200)
}
