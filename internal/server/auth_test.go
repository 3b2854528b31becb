package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	v := newEnv(t, Options{AdminToken: "static-admin-token"})
	const probe = "/scim/v2/Users?filter=userName+eq+%22x%22"

	r := v.reqAs("", "GET", probe, nil)
	scimError(t, r, 401, "")
	if got := r.Header().Get("WWW-Authenticate"); got != `Bearer realm="miscim"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	r = v.reqAs("miscim_not-a-token", "GET", probe, nil)
	scimError(t, r, 401, "")
	if got := r.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer realm="miscim"`) {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	r = v.reqAs("", "GET", probe, nil, "Authorization", "Basic dXNlcjpwYXNz")
	scimError(t, r, 401, "")
	if !strings.HasPrefix(r.Header().Get("WWW-Authenticate"), `Bearer realm="miscim"`) {
		t.Errorf("WWW-Authenticate = %q", r.Header().Get("WWW-Authenticate"))
	}
	scimError(t, v.reqAs("", "GET", probe, nil, "Authorization", "Bearer"), 401, "")
	scimError(t, v.reqAs("static-admin-token-but-longer", "GET", probe, nil), 401, "")

	_, regular, err := v.e.CreateToken(context.Background(), "viewer@example.com", "regular", 0)
	if err != nil {
		t.Fatal(err)
	}
	r = v.reqAs(regular, "GET", probe, nil)
	scimError(t, r, 403, "")
	if r.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("403 carries WWW-Authenticate %q", r.Header().Get("WWW-Authenticate"))
	}
	scimError(t, v.reqAs(regular, "GET", "/api/system-variables", nil), 403, "")

	v.req("GET", probe, nil).expect(t, 200)
	v.reqAs("static-admin-token", "GET", probe, nil).expect(t, 200)
	v.reqAs("", "GET", probe, nil, "Authorization", "bearer "+v.token).expect(t, 200)

	// No token needed for probes of the process itself.
	v.reqAs("", "GET", "/healthz", nil).expect(t, 200)
	v.reqAs("", "GET", "/metrics", nil).expect(t, 200)
	// Everything else needs one, even paths that do not exist.
	scimError(t, v.reqAs("", "GET", "/scim/v2/Nothing", nil), 401, "")
	scimError(t, v.reqAs("", "GET", "/api/system-variables", nil), 401, "")
}

func TestLocalAdmin(t *testing.T) {
	v := newEnv(t, Options{})
	h := LocalAdmin(v.s)
	r := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(`{"userName":"local@x.com","emails":[{"value":"local@x.com"}]}`))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 201 {
		t.Fatalf("in-process create: %d %s", w.Code, w.Body)
	}
	r = httptest.NewRequest("PUT", "/api/system-variables/SCIM_REMOVE_USER_ON_SOFT_DELETE", strings.NewReader(`{"value":"y"}`))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("in-process vars set: %d %s", w.Code, w.Body)
	}
	hist, err := v.e.VarHistory(context.Background(), "")
	if err != nil || len(hist) != 1 || hist[0].Who != "local-admin" {
		t.Errorf("history = %+v, %v", hist, err)
	}
	// The marker is a context value: a header of the same name does
	// nothing.
	r = httptest.NewRequest("GET", "/scim/v2/Users", nil)
	r.Header.Set("localAdminKey", "1")
	w = httptest.NewRecorder()
	v.s.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("unmarked request without token: %d", w.Code)
	}
}
