package server

import (
	"strings"
	"testing"
)

// TestMalformedInputNeverGives5xx sends junk bodies and junk query
// strings to every route (DESIGN §9: no 5xx for any malformed input).
func TestMalformedInputNeverGives5xx(t *testing.T) {
	v := newEnv(t, Options{MaxBodyBytes: 64 << 10})
	uid := v.createUser("junk@example.com")
	gid := v.createGroup("Junk")

	bodies := []string{
		"", " ", "null", "true", "0", `"string"`, "[]", "{}", "{", "}", "[", `{"a":}`,
		`{"userName":null}`, `{"userName":123}`, `{"userName":["a"]}`, `{"userName":{"x":1}}`,
		`{"userName":"x","emails":"nope"}`, `{"userName":"x","emails":[null]}`, `{"userName":"x","emails":[{"value":5}]}`,
		`{"userName":"x","emails":[{"value":"x@y"}],"active":"perhaps"}`,
		`{"displayName":null}`, `{"displayName":"g","members":"x"}`, `{"displayName":"g","members":[null,1,{"value":{}}]}`,
		`{"Operations":null}`, `{"Operations":{}}`, `{"Operations":[null]}`, `{"Operations":[{}]}`,
		`{"Operations":[{"op":"explode"}]}`, `{"Operations":[{"op":"add","path":"[[[","value":1}]}`,
		`{"Operations":[{"op":"remove"}]}`, `{"Operations":[{"op":"replace","path":"id","value":"x"}]}`,
		`{"Operations":[{"op":"add","path":"members","value":[{"value":null}]}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq ]"}]}`,
		`{"Operations":[{"op":"replace","value":{"name.givenName":{"deep":[1,2,3]}}}]}`,
		`{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":[1]}]}`,
		`{"value":null}`, `{"value":["Y"]}`,
		"\xff\xfe\x00garbage", strings.Repeat("[", 20000), strings.Repeat(`{"a":`, 5000),
		`{"userName":"` + strings.Repeat("é", 200) + `","emails":[{"value":"a@b"}]}`,
	}
	queries := []string{
		"", "?", "?filter=", "?filter=%zz", "?filter=userName", "?filter=userName+eq", "?filter=(((((", "?filter=" + strings.Repeat("(", 300),
		`?filter=userName+eq+"unterminated`, "?filter=emails[type+eq+%22work%22", "?filter=not+userName+eq+1", "?filter=meta.created+gt+yesterday",
		"?startIndex=-5&count=-1", "?startIndex=x", "?count=1e3", "?count=99999999999999999999", "?startIndex=0x10",
		"?sortBy=[", "?sortBy=emails[type%20eq%20%22work%22]", "?sortOrder=up&sortBy=userName",
		"?attributes=,,,", "?attributes=emails[", "?attributes=urn:", "?excludedAttributes=members[value+eq", "?attributes=%00",
		"?a;b=c", "?aadOptscim062020&&&==", "?filter=userName+eq+%22x%22&filter=junk",
	}
	paths := []string{
		"/scim/v2/Users", "/scim/v2/Users/" + uid, "/scim/v2/Users/unknown-id",
		"/scim/v2/Groups", "/scim/v2/Groups/" + gid, "/scim/v2/Groups/unknown-id",
		"/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/ResourceTypes/User",
		"/scim/v2/Schemas", "/scim/v2/Schemas/urn:x", "/scim/v2/Users/%2e%2e", "/scim/v2/Users/%00",
		"/api/system-variables", "/api/system-variables/SCIM_REMOVE_USER_ON_SOFT_DELETE",
		"/api/system-variables/history", "/api/system-variables/%00/history", "/healthz", "/metrics",
	}
	// DELETE last, so that the other methods meet existing objects.
	methods := []string{"GET", "POST", "PUT", "PATCH", "OPTIONS", "BREW", "DELETE"}
	n := 0
	for _, p := range paths {
		for _, m := range methods {
			for _, q := range queries {
				r := v.req(m, p+q, nil)
				n++
				if r.Code >= 500 {
					t.Errorf("%s %s%s: %s", m, p, q, r)
				}
			}
			if m == "GET" || m == "DELETE" || m == "OPTIONS" {
				continue
			}
			for _, b := range bodies {
				r := v.req(m, p, b)
				n++
				if r.Code >= 500 {
					t.Errorf("%s %s body %.40q: %s", m, p, b, r)
				}
			}
		}
	}
	// Junk headers.
	for _, h := range [][]string{
		{"If-Match", "\x01"}, {"If-Match", `W/"`}, {"Content-Type", ";;;"}, {"Content-Type", "application/scim+json; charset"},
		{"X-Forwarded-Proto", "\r\n"}, {"X-Request-Id", "\x00"}, {"Authorization", "Bearer " + strings.Repeat("x", 10000)},
	} {
		r := v.req("PATCH", "/scim/v2/Users/"+uid, patchBody(op("replace", "active", true)), h...)
		n++
		if r.Code >= 500 {
			t.Errorf("header %q: %s", h, r)
		}
	}
	t.Logf("%d malformed requests, none answered 5xx", n)
	v.reqAs("", "GET", "/healthz", nil).expect(t, 200)
}
