package replay

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/reqlog"
)

func TestRelativeTarget(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"/scim/v2/Users?filter=userName+eq+%22a%22", "/Users?filter=userName+eq+%22a%22", true},
		{"https://mi.example.com/scim/v2/Groups/42", "/Groups/42", true},
		{"https://mi.example.com/SCIM/V2/users", "/users", true},
		{"http://127.0.0.1:8080/prefix/scim/v2/Users/1#frag", "/Users/1", true},
		{"/Users/7", "/Users/7", true},
		{"Users", "/Users", true},
		{"/ServiceProviderConfig", "/ServiceProviderConfig", true},
		{"/scim/v2/Custom", "/Custom", true},
		{"/scim/v2", "", false},
		{"/scim/v2/", "", false},
		{"/api/system-variables", "", false},
		{"/healthz", "", false},
		{"https://mi.example.com", "", false},
		{"/scim/v2x/Users", "", false},
	} {
		got, ok := relativeTarget(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("relativeTarget(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseIgnore(t *testing.T) {
	for _, tc := range []struct {
		in    string
		steps []step
		err   string
	}{
		{"meta.version", []step{{"meta", false}, {"version", false}}, ""},
		{"emails[].display", []step{{"emails", true}, {"display", false}}, ""},
		{"members[]", []step{{"members", true}}, ""},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value",
			[]step{{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", false}, {"manager", false}, {"value", false}}, ""},
		{"urn:ietf:params:scim:schemas:extension:miscim:2.0:User", []step{{"urn:ietf:params:scim:schemas:extension:miscim:2.0:User", false}}, ""},
		{"", nil, "empty path"},
		{"a..b", nil, "empty attribute name"},
		{"a.", nil, "expected a dot and a name"},
		{"emails[0].value", nil, "only []"},
		{`members[value eq "x"]`, nil, "only []"},
		{"a[]b", nil, "expected a dot"},
	} {
		p, err := ParseIgnore(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseIgnore(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(p.steps, tc.steps) {
			t.Errorf("ParseIgnore(%q) = %+v, %v", tc.in, p.steps, err)
		}
	}
}

func TestCompare(t *testing.T) {
	ignores := mustIgnores(t, "title", "emails[].display")
	for _, tc := range []struct {
		name      string
		ordered   bool
		es, as    int
		exp, act  string
		wantPaths []string // "kind path"
	}{
		{"volatile members ignored", false, 200, 200,
			`{"id":"1","userName":"a","meta":{"created":"x","lastModified":"y","location":"https://a/Users/1","version":"W/\"1\"","resourceType":"User"}}`,
			`{"id":"2","userName":"a","meta":{"created":"z","lastModified":"z","location":"http://b/Users/2","version":"W/\"7\"","resourceType":"User"}}`, nil},
		{"sets compared as sets", false, 200, 200,
			`{"schemas":["a","b"],"emails":[{"value":"x","type":"work"},{"value":"y"}],"members":[{"value":"1","$ref":"https://a/Users/1"},{"value":"2"}]}`,
			`{"schemas":["b","a"],"emails":[{"value":"y"},{"type":"work","value":"x"}],"members":[{"value":"2"},{"value":"1","$ref":"http://b/Users/1"}]}`, nil},
		{"a set that differs", false, 200, 200,
			`{"members":[{"value":"1"},{"value":"2"},{"value":"2"}]}`, `{"members":[{"value":"2"},{"value":"3"},{"value":"1"}]}`,
			[]string{"missing members[]", "unexpected members[]"}},
		{"ordered arrays keep order", false, 200, 200, `{"x":[1,2]}`, `{"x":[2,1]}`, []string{"changed x[0]", "changed x[1]"}},
		{"Resources as a set, unless sorted", false, 200, 200,
			`{"Resources":[{"id":"1","userName":"a"},{"id":"2","userName":"b"}],"totalResults":2}`,
			`{"Resources":[{"id":"9","userName":"b"},{"id":"8","userName":"a"}],"totalResults":2}`, nil},
		{"sorted Resources in order", true, 200, 200,
			`{"Resources":[{"userName":"a"},{"userName":"b"}]}`, `{"Resources":[{"userName":"b"},{"userName":"a"}]}`,
			[]string{"changed Resources[0].userName", "changed Resources[1].userName"}},
		{"ignored paths, in lists too", false, 200, 200,
			`{"Resources":[{"title":"a","emails":[{"value":"v","display":"A"}]}]}`, `{"Resources":[{"title":"b","emails":[{"value":"v","display":"B"}]}]}`, nil},
		{"names in any case", false, 200, 200, `{"userName":"a","Name":{"givenName":"g"}}`, `{"username":"a","name":{"GivenName":"g"}}`, nil},
		{"status and detail", false, 404, 200, `{"status":"404","detail":"no"}`, `{"userName":"a"}`,
			[]string{"changed status", "missing detail", "missing status", "unexpected userName"}},
		{"missing and unexpected members", false, 200, 200, `{"a":1,"b":{"c":true}}`, `{"a":1.0,"b":{},"d":null}`,
			[]string{"missing b.c", "unexpected d"}},
		{"empty bodies", false, 204, 204, ``, ``, nil},
		{"body where none was logged", false, 204, 200, ``, `{"a":1}`, []string{"changed status", "unexpected body"}},
		{"text bodies", false, 502, 502, `<html>bad gateway</html>`, `<html>Bad Gateway</html>`, []string{"changed body"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, act := parseBody([]byte(tc.exp)), parseBody([]byte(tc.act))
			v := comparison{ignore: ignores, ordered: tc.ordered}.compare(tc.es, exp, tc.as, act)
			var got []string
			for _, d := range v.differences {
				got = append(got, d.Kind+" "+d.Path)
			}
			if strings.Join(got, ",") != strings.Join(tc.wantPaths, ",") || v.equal != (len(tc.wantPaths) == 0) {
				t.Errorf("differences %v, want %v", got, tc.wantPaths)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	m := newIDMap()
	m.add("old-user-0001", "new-user-9999")
	m.add("g1", "G-NEW")
	m.addVersion("new-user-9999", `W/"3"`, `W/"5"`)
	h := http.Header{"If-Match": {`W/"3"`}, "Content-Type": {"application/scim+json"}}
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` +
		`{"op":"add","path":"members","value":[{"value":"old-user-0001"},{"value":"unmapped"}]},` +
		`{"op":"remove","path":"members[value eq \"old-user-0001\"]"},` +
		`{"op":"replace","path":"manager","value":"old-user-0001"},{"op":"replace","path":"count","value":12345678901234567890}]}`)
	rw := m.rewrite("/Users/old-user-0001?attributes=id", h, body)
	if rw.rel != "/Users/new-user-9999?attributes=id" || rw.header.Get("If-Match") != `W/"5"` || len(rw.unknown) != 0 {
		t.Errorf("rewrite: %+v", rw)
	}
	var got map[string]any
	if err := json.Unmarshal(rw.body, &got); err != nil {
		t.Fatal(err)
	}
	s := string(rw.body)
	for _, want := range []string{`{"value":"new-user-9999"}`, `{"value":"unmapped"}`, `members[value eq \"new-user-9999\"]`, `"value":"new-user-9999"`, `12345678901234567890`} {
		if !strings.Contains(s, want) {
			t.Errorf("body %s lacks %s", s, want)
		}
	}
	// A filter: quoted values only, the raw query otherwise as logged.
	rw = m.rewrite(`/Groups?excludedAttributes=members&filter=members%5Bvalue+eq+%22old-user-0001%22%5D+and+displayName+eq+%22g1x%22&count=1`, http.Header{}, nil)
	if rw.rel != `/Groups?excludedAttributes=members&filter=members%5Bvalue+eq+%22new-user-9999%22%5D+and+displayName+eq+%22g1x%22&count=1` {
		t.Errorf("filter rewrite: %s", rw.rel)
	}
	// Nothing known: sent byte for byte; an unknown id is named.
	raw := []byte(`{"b": 1,  "a": "x"}`)
	rw = m.rewrite("/Users/nobody", http.Header{}, raw)
	if rw.rel != "/Users/nobody" || string(rw.body) != string(raw) || !reflect.DeepEqual(rw.unknown, []string{"nobody"}) {
		t.Errorf("unchanged: %+v", rw)
	}
}

func TestTranslate(t *testing.T) {
	m := newIDMap()
	m.add("6a1f0c9e-2b4d-4e8a-9c3f-1d2e3f4a5b6c", "0b2e1d8f-0000-4000-8000-000000000001")
	m.add("42", "77")
	in := map[string]any{
		"members": []any{map[string]any{"value": "6a1f0c9e-2b4d-4e8a-9c3f-1d2e3f4a5b6c"}, map[string]any{"value": "42"}},
		"detail":  "user 6a1f0c9e-2b4d-4e8a-9c3f-1d2e3f4a5b6c not found; 42 is short",
		"ext":     map[string]any{"miUsername": "scim-deleted-6a1f0c9e-ann@example.com"},
	}
	got := m.translate(in).(map[string]any)
	want := `{"detail":"user 0b2e1d8f-0000-4000-8000-000000000001 not found; 42 is short","ext":{"miUsername":"scim-deleted-0b2e1d8f-ann@example.com"},"members":[{"value":"0b2e1d8f-0000-4000-8000-000000000001"},{"value":"77"}]}`
	if canonical(got) != want {
		t.Errorf("translate = %s\nwant        %s", canonical(got), want)
	}
}

func TestLearn(t *testing.T) {
	m := newIDMap()
	parse := func(s string) any { return parseBody([]byte(s)).doc }
	// A creation: body id.
	m.learn(0, "POST", 201, http.Header{}, parse(`{"id":"L1","meta":{"version":"W/\"1\""}}`), 201, http.Header{}, parse(`{"id":"R1","meta":{"version":"W/\"9\""}}`))
	// Location only.
	m.learn(1, "POST", 201, http.Header{"Location": {"https://a/scim/v2/Groups/L2"}}, nil, 201, http.Header{"Location": {"http://b/scim/v2/Groups/R2?x"}}, nil)
	// A logged error introduces nothing; a failed creation is lost.
	m.learn(2, "POST", 409, http.Header{}, parse(`{"status":"409"}`), 201, http.Header{}, parse(`{"id":"R3"}`))
	m.learn(3, "POST", 201, http.Header{}, parse(`{"id":"L4"}`), 409, http.Header{}, parse(`{"status":"409"}`))
	// Lists: paired by name, and a single resource by position.
	m.learn(4, "GET", 200, nil, parse(`{"Resources":[{"id":"L5","userName":"A"},{"id":"L6","displayName":"g"},{"id":"L7"}]}`), 200, nil,
		parse(`{"Resources":[{"id":"R6","displayName":"G"},{"id":"R5","userName":"a"},{"id":"R7"}]}`))
	m.learn(5, "GET", 200, nil, parse(`{"Resources":[{"id":"L8"}]}`), 200, nil, parse(`{"Resources":[{"id":"R8"}]}`))
	want := map[string]string{"L1": "R1", "L2": "R2", "L5": "R5", "L6": "R6", "L8": "R8"}
	if !reflect.DeepEqual(m.ids, want) {
		t.Errorf("ids %v, want %v", m.ids, want)
	}
	if by, ok := m.lostBy("L4"); !ok || by != 3 {
		t.Errorf("L4 lost by %d %v", by, ok)
	}
	if v := m.version("R1", `W/"1"`); v != `W/"9"` {
		t.Errorf("version %s", v)
	}
}

func req(method, target string, status int, reqBody, respBody string) *Request {
	rel, _ := relativeTarget(target)
	return &Request{X: &reqlog.Exchange{Method: method, Target: target, Status: status, RequestBody: []byte(reqBody), ResponseBody: []byte(respBody)}, Rel: rel}
}

func TestDependencies(t *testing.T) {
	reqs := []*Request{
		/*0*/ req("GET", `/Users?filter=userName+eq+%22ann%22`, 200, "", `{"Resources":[]}`),
		/*1*/ req("POST", "/Users", 201, `{"userName":"ann"}`, `{"id":"u1","userName":"ann"}`),
		/*2*/ req("GET", `/Users?filter=userName+eq+%22bob%22`, 200, "", `{"Resources":[]}`),
		/*3*/ req("POST", "/Users", 201, `{"userName":"bob"}`, `{"id":"u2","userName":"bob"}`),
		/*4*/ req("PATCH", "/Users/u1", 200, `{"Operations":[{"op":"replace","path":"active","value":"False"}]}`, `{"id":"u1","userName":"ann"}`),
		/*5*/ req("POST", "/Groups", 201, `{"displayName":"G"}`, `{"id":"g1","displayName":"G"}`),
		/*6*/ req("PATCH", "/Groups/g1", 204, `{"Operations":[{"op":"add","path":"members","value":[{"value":"u2"}]}]}`, ""),
		/*7*/ req("GET", "/ServiceProviderConfig", 200, "", "{}"),
		/*8*/ req("GET", "/Users?startIndex=1", 200, "", `{"Resources":[]}`),
		/*9*/ req("PATCH", "/Groups/g1", 204, `{"Operations":[{"op":"remove","path":"members[value eq \"u1\"]"}]}`, ""),
		/*10*/ req("DELETE", "/Users/u2", 204, "", ""),
		/*11*/ req("GET", "/Users/u1", 200, "", `{"id":"u1"}`),
	}
	got := dependencies(reqs)
	want := [][]int{
		0: {}, 1: {0}, 2: {}, 3: {2}, 4: {1}, 5: {}, 6: {3, 5},
		7: nil,                       // discovery: free
		8: {0, 1, 2, 3, 4, 5, 6},     // a list of everyone: a barrier
		9: {8}, 10: {8, 9}, 11: {10}, // the barrier stands for what came before it
	}
	for i := range want {
		if len(want[i]) == 0 && len(got[i]) == 0 {
			continue
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("request %d (%s %s) waits for %v, want %v", i, reqs[i].X.Method, reqs[i].Rel, got[i], want[i])
		}
	}
}
