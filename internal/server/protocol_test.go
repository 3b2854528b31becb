package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/scim"
)

// scimError checks an error answer: the status, a SCIM Error body with a
// numeric status (Microsoft's tests read it with GetInt32), the scimType
// when one is expected, and a detail.
func scimError(t *testing.T, r resp, status int, scimType string) {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status %d, want %d: %s", r.Code, status, r)
	}
	if s, ok := r.body["status"].(float64); !ok || int(s) != status {
		t.Errorf("body status = %#v, want the number %d", r.body["status"], status)
	}
	if sch, _ := r.body["schemas"].([]any); len(sch) != 1 || sch[0] != scim.ErrorSchema {
		t.Errorf("schemas = %v", r.body["schemas"])
	}
	if scimType != "" && r.str("scimType") != scimType {
		t.Errorf("scimType = %q, want %q", r.str("scimType"), scimType)
	}
	if r.str("detail") == "" {
		t.Errorf("no detail: %s", r)
	}
}

func TestStatusCodes(t *testing.T) {
	v := newEnv(t, Options{MaxBodyBytes: 4096})
	id := v.createUser("ann@example.com")

	scimError(t, v.req("GET", "/scim/v2/Users/no-such-id", nil), 404, "")
	scimError(t, v.req("GET", "/scim/v2/Groups/no-such-id", nil), 404, "")
	scimError(t, v.req("DELETE", "/scim/v2/Users/no-such-id", nil), 404, "")

	r := v.req("POST", "/scim/v2/Users", userBody("ANN@example.com"))
	scimError(t, r, 409, scim.ScimTypeUniqueness)
	if !strings.Contains(r.str("detail"), "already taken") {
		t.Errorf("409 detail = %q", r.str("detail"))
	}

	scimError(t, v.req("POST", "/scim/v2/Users", `{"userName": "x",`), 400, scim.ScimTypeInvalidSyntax)
	scimError(t, v.req("POST", "/scim/v2/Users", map[string]any{"emails": []any{}}), 400, "")
	scimError(t, v.req("GET", `/scim/v2/Users?filter=userName+equals+%22x%22`, nil), 400, scim.ScimTypeInvalidFilter)
	scimError(t, v.req("GET", `/scim/v2/Users?startIndex=abc`, nil), 400, scim.ScimTypeInvalidValue)
	scimError(t, v.req("GET", `/scim/v2/Users?count=1.5`, nil), 400, scim.ScimTypeInvalidValue)
	scimError(t, v.req("GET", `/scim/v2/Users?filter=%zz`, nil), 400, scim.ScimTypeInvalidValue)

	// If-Match (RFC 7644 §3.14).
	scimError(t, v.req("PATCH", "/scim/v2/Users/"+id, patchBody(op("replace", "active", false)), "If-Match", `W/"7"`), 412, "")
	r = v.req("PATCH", "/scim/v2/Users/"+id, patchBody(op("replace", "active", false)), "If-Match", `W/"1"`).expect(t, 200)
	if r.Header().Get("ETag") != `W/"2"` {
		t.Errorf("ETag after PATCH = %q", r.Header().Get("ETag"))
	}
	scimError(t, v.req("DELETE", "/scim/v2/Users/"+id, nil, "If-Match", `W/"1"`), 412, "")
	scimError(t, v.req("PUT", "/scim/v2/Users/"+id, userBody("ann@example.com"), "If-Match", `"1"`), 412, "")

	// Limits and content types.
	big := userBody("big@example.com")
	big["padding"] = strings.Repeat("x", 5000)
	scimError(t, v.req("POST", "/scim/v2/Users", big), 413, "")
	// Without Content-Length the limit still holds while reading.
	req := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(`{"userName":"`+strings.Repeat("y", 5000)+`"}`))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+v.token)
	w := httptest.NewRecorder()
	v.s.ServeHTTP(w, req)
	if w.Code != 413 {
		t.Errorf("chunked oversized body: %d %s", w.Code, w.Body)
	}
	r = v.req("POST", "/scim/v2/Users", `userName=x`, "Content-Type", "text/plain")
	scimError(t, r, 415, "")
	if !strings.Contains(r.str("detail"), "application/scim+json") {
		t.Errorf("415 detail = %q", r.str("detail"))
	}
	v.req("POST", "/scim/v2/Users", userBody("json@example.com"), "Content-Type", "application/json; charset=utf-8").expect(t, 201)
	v.req("POST", "/scim/v2/Users", userBody("noct@example.com"), "Content-Type", "").expect(t, 201)

	// Wrong method: 405 with Allow.
	r = v.req("DELETE", "/scim/v2/Users", nil)
	scimError(t, r, 405, "")
	if r.Header().Get("Allow") != "GET, POST" {
		t.Errorf("Allow = %q", r.Header().Get("Allow"))
	}
	r = v.req("POST", "/scim/v2/Users/"+id, userBody("z@example.com"))
	scimError(t, r, 405, "")
	if r.Header().Get("Allow") != "GET, PUT, PATCH, DELETE" {
		t.Errorf("Allow = %q", r.Header().Get("Allow"))
	}
	scimError(t, v.req("POST", "/scim/v2/ServiceProviderConfig", `{}`), 405, "")

	// Unknown paths.
	for _, p := range []string{"/scim/v2", "/scim/v2/", "/scim/v2/Devices", "/scim/v2/Users/a/b", "/scim/v2//Users", "/nowhere", "/scim/v2x/Users", "/scim/v2/ResourceTypes/Device", "/scim/v2/ServiceProviderConfig/x"} {
		scimError(t, v.req("GET", p, nil), 404, "")
	}
}

func TestPathsAreCaseInsensitive(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.createUser("case@example.com")
	for _, p := range []string{"/scim/v2/users", "/scim/v2/Users/", "/scim/v2/users/", "/SCIM/V2/USERS", "/scim/v2/Users?filter=userName+eq+%22case@example.com%22"} {
		r := v.req("GET", p, nil).expect(t, 200)
		// The token's owner is a local user, listed too (DESIGN §3.1).
		if want := map[bool]int{true: 1, false: 2}[strings.Contains(p, "filter")]; r.num("totalResults") != want {
			t.Errorf("%s: %s", p, r)
		}
	}
	v.req("GET", "/scim/v2/users/"+id, nil).expect(t, 200)
	v.req("GET", "/scim/v2/Users/"+id+"/", nil).expect(t, 200)
	v.req("GET", "/scim/v2/groups", nil).expect(t, 200)
	v.req("GET", "/scim/v2/serviceproviderconfig", nil).expect(t, 200)
	v.req("GET", "/scim/v2/resourcetypes/user", nil).expect(t, 200)
	v.req("GET", "/scim/v2/schemas/"+strings.ToUpper(scim.UserSchema), nil).expect(t, 200)
}

func TestListParameters(t *testing.T) {
	v := newEnv(t, Options{})
	for _, n := range []string{"c@x.com", "a@x.com", "b@x.com"} {
		v.createUser(n)
	}
	r := v.req("GET", "/scim/v2/Users?startIndex=2&count=1", nil).expect(t, 200)
	// Four users: the three and the token's owner.
	if r.num("totalResults") != 4 || r.num("itemsPerPage") != 1 || r.num("startIndex") != 2 {
		t.Errorf("paging: %s", r)
	}
	r = v.req("GET", "/scim/v2/Users?count=0", nil).expect(t, 200)
	if r.num("totalResults") != 4 || r.num("itemsPerPage") != 0 {
		t.Errorf("count=0: %s", r)
	}
	r = v.req("GET", "/scim/v2/Users?sortBy=userName&sortOrder=descending&attributes=userName", nil).expect(t, 200)
	res := r.body["Resources"].([]any)
	if first := res[0].(map[string]any); first["userName"] != "c@x.com" {
		t.Errorf("sort: %v", first)
	} else if _, has := first["meta"]; has {
		t.Errorf("attributes=userName kept meta: %v", first)
	}
	// attributes=meta.created: meta.location is not added behind the
	// client's back.
	r = v.req("GET", "/scim/v2/Users?attributes=meta.created", nil).expect(t, 200)
	meta := r.body["Resources"].([]any)[0].(map[string]any)["meta"].(map[string]any)
	if _, has := meta["location"]; has || meta["created"] == nil {
		t.Errorf("attributes=meta.created: meta = %v", meta)
	}
	// Parameter names regardless of case; unknown ones ignored.
	r = v.req("GET", "/scim/v2/Users?Filter=userName+eq+%22a@x.com%22&aadOptscim062020&whatever=1", nil).expect(t, 200)
	if r.num("totalResults") != 1 {
		t.Errorf("Filter=: %s", r)
	}
	// Projection on GET by id and on POST.
	r = v.req("POST", "/scim/v2/Users?attributes=userName", userBody("d@x.com")).expect(t, 201)
	if _, has := r.body["emails"]; has || r.str("id") == "" {
		t.Errorf("POST ?attributes=userName: %s", r)
	}
	r = v.req("GET", "/scim/v2/Users/"+r.str("id")+"?excludedAttributes=emails,name", nil).expect(t, 200)
	if _, has := r.body["emails"]; has || r.body["meta"].(map[string]any)["location"] == nil {
		t.Errorf("GET excludedAttributes: %s", r)
	}
	scimError(t, v.req("GET", "/scim/v2/Users?attributes=emails[", nil), 400, "")
	scimError(t, v.req("GET", "/scim/v2/Users?sortOrder=sideways&sortBy=userName", nil), 400, "")
}

func TestDiscoveryEndpoints(t *testing.T) {
	v := newEnv(t, Options{})
	r := v.req("GET", "/scim/v2/ResourceTypes", nil).expect(t, 200)
	if r.num("totalResults") != 2 || r.num("startIndex") != 1 || r.num("itemsPerPage") != 2 {
		t.Errorf("ResourceTypes: %s", r)
	}
	if ep := r.body["Resources"].([]any)[0].(map[string]any)["endpoint"]; ep != "/Users" {
		t.Errorf("Resources[0].endpoint = %v", ep)
	}
	r = v.req("GET", "/scim/v2/ResourceTypes/Group", nil).expect(t, 200)
	if r.str("endpoint") != "/Groups" {
		t.Errorf("ResourceTypes/Group: %s", r)
	}
	r = v.req("GET", "/scim/v2/ServiceProviderConfig", nil).expect(t, 200)
	for _, k := range []string{"authenticationSchemes", "meta", "bulk", "eTag", "filter", "patch", "sort", "schemas"} {
		if _, ok := r.body[k]; !ok {
			t.Errorf("ServiceProviderConfig lacks %q", k)
		}
	}
	if r.body["patch"].(map[string]any)["supported"] != true {
		t.Error("patch.supported is not true")
	}
	if mr := r.body["filter"].(map[string]any)["maxResults"]; mr != float64(engine.MaxResults) {
		t.Errorf("filter.maxResults = %v, engine.MaxResults = %d", mr, engine.MaxResults)
	}
	// RFC 9865 §4: both methods, index the default (§2.4), page sizes
	// that are the engine's, and no cursorTimeout (cursors do not expire).
	pg, _ := r.body["pagination"].(map[string]any)
	if pg["cursor"] != true || pg["index"] != true || pg["defaultPaginationMethod"] != "index" ||
		pg["maxPageSize"] != float64(engine.MaxResults) || pg["defaultPageSize"] != float64(engine.MaxResults) {
		t.Errorf("pagination = %v", pg)
	}
	if _, ok := pg["cursorTimeout"]; ok {
		t.Errorf("pagination advertises a cursorTimeout, but cursors never expire: %v", pg)
	}
	r = v.req("GET", "/scim/v2/Schemas", nil).expect(t, 200)
	if !strings.Contains(r.Body.String(), "User Account") || r.num("totalResults") != 3 {
		t.Errorf("Schemas: totalResults %d, User Account present %v", r.num("totalResults"), strings.Contains(r.Body.String(), "User Account"))
	}
	r = v.req("GET", "/scim/v2/Schemas/"+scim.GroupSchema, nil).expect(t, 200)
	if r.str("id") != scim.GroupSchema {
		t.Errorf("Schemas/{urn}: %s", r)
	}
	scimError(t, v.req("GET", "/scim/v2/Schemas/urn:nope", nil), 404, "")
}

func TestRequestID(t *testing.T) {
	v := newEnv(t, Options{})
	r := v.req("GET", "/scim/v2/Users", nil, "X-Request-Id", "entra-abc.123")
	if r.Header().Get("X-Request-Id") != "entra-abc.123" {
		t.Errorf("safe id not echoed: %q", r.Header().Get("X-Request-Id"))
	}
	r = v.req("GET", "/scim/v2/Users", nil, "X-Request-Id", "evil\"id with spaces")
	if got := r.Header().Get("X-Request-Id"); got == "" || strings.ContainsAny(got, "\" ") {
		t.Errorf("unsafe id echoed: %q", got)
	}
	r = v.req("GET", "/scim/v2/Users", nil, "X-Request-Id", strings.Repeat("a", 65))
	if got := r.Header().Get("X-Request-Id"); len(got) != 24 {
		t.Errorf("long id: %q", got)
	}
	if !strings.Contains(v.logs.String(), `"request_id":"entra-abc.123"`) {
		t.Errorf("access log lacks the request id: %s", v.logs.String())
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	v := newEnv(t, Options{Version: "1.2.3"})
	r := v.reqAs("", "GET", "/healthz", nil).expect(t, 200)
	if r.str("status") != "ok" || r.str("version") != "1.2.3" {
		t.Errorf("healthz: %s", r)
	}
	v.req("GET", "/scim/v2/Users?filter=userName+eq+%22x%22", nil).expect(t, 200)
	v.req("GET", "/scim/v2/Users/nope", nil).expect(t, 404)
	r = v.reqAs("", "GET", "/metrics", nil).expect(t, 200)
	body := r.Body.String()
	for _, want := range []string{
		`miscim_http_requests_total{code="200",method="GET",resource="Users"} 1`,
		`miscim_http_requests_total{code="404",method="GET",resource="Users"} 1`,
		`miscim_http_requests_total{code="200",method="GET",resource="other"} 1`,
		`miscim_http_request_duration_seconds_bucket{method="GET",resource="Users",le="60"} 2`,
		`miscim_http_requests_in_flight 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "nope") {
		t.Error("metrics hold a raw path")
	}
	scimError(t, v.reqAs("", "POST", "/healthz", `{}`), 405, "")
}

func TestHealthzStoreFailure(t *testing.T) {
	e := newEngine(t, "")
	s := New(e, Options{})
	if err := e.Store().Close(); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 503 {
		t.Errorf("healthz on a closed store: %d %s", w.Code, w.Body)
	}
	if strings.Contains(strings.ToLower(w.Body.String()), "sql") {
		t.Errorf("healthz leaks store details: %s", w.Body)
	}
}

// TestClientGoneAway: a canceled request context gives no 5xx body and
// only a log line.
func TestClientGoneAway(t *testing.T) {
	v := newEnv(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(`{"userName":"gone@x.com","emails":[{"value":"gone@x.com"}]}`)).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer "+v.token)
	w := httptest.NewRecorder()
	v.s.ServeHTTP(w, r)
	if w.Code >= 500 || strings.Contains(w.Body.String(), "internal error") {
		t.Errorf("canceled request answered %d %s", w.Code, w.Body)
	}
	if !strings.Contains(v.logs.String(), "client went away") || !strings.Contains(v.logs.String(), `"status":499`) {
		t.Errorf("log: %s", v.logs.String())
	}
}

// TestOverNetwork runs a few requests through a real listener, so the
// handler is also exercised with net/http's own ResponseWriter.
func TestOverNetwork(t *testing.T) {
	v := newEnv(t, Options{})
	srv := httptest.NewServer(v.s)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/scim/v2/Users?filter=userName%20eq%20%22nobody%22", nil)
	req.Header.Set("Authorization", "Bearer "+v.token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Request-Id") == "" {
		t.Errorf("over the network: %d %v", res.StatusCode, res.Header)
	}
	big := strings.NewReader(`{"userName":"` + strings.Repeat("z", DefaultMaxBodyBytes) + `"}`)
	req, _ = http.NewRequest("POST", srv.URL+"/scim/v2/Users", big)
	req.Header.Set("Authorization", "Bearer "+v.token)
	res, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("oversized body over the network: %d", res.StatusCode)
	}
}
