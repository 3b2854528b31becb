package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/engine"
)

func decodeJSON[T any](t *testing.T, r resp) T {
	t.Helper()
	var out T
	if err := json.Unmarshal(r.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
	return out
}

func TestAdminAPI(t *testing.T) {
	v := newEnv(t, Options{AdminToken: "static"})
	const soft = "/api/system-variables/" + engine.VarRemoveUserOnSoftDelete

	r := v.req("GET", "/api/system-variables", nil).expect(t, 200)
	if ct := r.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	list := decodeJSON[[]varJSON](t, r)
	if len(list) != 2 || list[0].Name != engine.VarRequestLogger || list[1].Name != engine.VarRemoveUserOnSoftDelete {
		t.Fatalf("list = %+v", list)
	}
	if l := list[0]; l.Value != "N" || l.Default != "N" || l.IsSet || l.LastChange != nil || len(l.Allowed) != 2 || l.Description == "" {
		t.Errorf("unset variable = %+v", l)
	}
	if strings.Contains(r.Body.String(), "lastChange") {
		t.Errorf("lastChange present before any change: %s", r)
	}

	// Set with a lower-case value: stored upper-case, who = token's user.
	r = v.req("PUT", soft, `{"value":"y"}`, "Content-Type", "application/json").expect(t, 200)
	got := decodeJSON[varJSON](t, r)
	if got.Value != "Y" || !got.IsSet || got.LastChange == nil || got.LastChange.Who != "admin@example.com" ||
		got.LastChange.Old != "" || got.LastChange.New != "Y" || got.LastChange.At == "" {
		t.Errorf("after set: %+v (%s)", got, r)
	}
	if strings.Contains(r.Body.String(), `"name":"`+engine.VarRemoveUserOnSoftDelete+`","value"`) == false {
		t.Errorf("variable object: %s", r)
	}
	r = v.req("GET", strings.ToLower(soft), nil).expect(t, 200)
	if decodeJSON[varJSON](t, r).Value != "Y" {
		t.Errorf("get: %s", r)
	}

	// Invalid value: 400 listing the allowed values; nothing changes.
	r = v.req("PUT", soft, `{"value":"maybe"}`)
	scimError(t, r, 400, "invalidValue")
	if !strings.Contains(r.str("detail"), "Y, N") {
		t.Errorf("detail = %q", r.str("detail"))
	}
	if ct := r.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("admin error Content-Type %q", ct)
	}
	scimError(t, v.req("PUT", soft, `{"value":true}`), 400, "invalidValue")
	scimError(t, v.req("PUT", soft, `{"val":"Y"}`), 400, "invalidValue")
	scimError(t, v.req("PUT", soft, `not json`), 400, "invalidSyntax")
	scimError(t, v.req("PUT", soft, `{"value":"N"}`, "Content-Type", "text/plain"), 415, "")
	if st, _ := v.e.Var(t.Context(), engine.VarRemoveUserOnSoftDelete); st.Value != "Y" {
		t.Errorf("value changed by a rejected PUT: %+v", st)
	}
	// Unknown variable.
	r = v.req("GET", "/api/system-variables/NO_SUCH_VAR", nil)
	scimError(t, r, 400, "invalidValue")
	if !strings.Contains(r.str("detail"), engine.VarRequestLogger) {
		t.Errorf("unknown variable detail = %q", r.str("detail"))
	}
	scimError(t, v.req("PUT", "/api/system-variables/NO_SUCH_VAR", `{"value":"Y"}`), 400, "invalidValue")

	// Unset with the static admin token.
	r = v.reqAs("static", "DELETE", soft, nil).expect(t, 200)
	got = decodeJSON[varJSON](t, r)
	if got.Value != "N" || got.IsSet || got.LastChange == nil || got.LastChange.Who != "admin-token" || got.LastChange.Old != "Y" {
		t.Errorf("after unset: %+v", got)
	}

	// History, all and per variable.
	v.req("PUT", "/api/system-variables/"+engine.VarRequestLogger, `{"value":"n"}`).expect(t, 200)
	hist := decodeJSON[[]changeJSON](t, v.req("GET", "/api/system-variables/history", nil).expect(t, 200))
	if len(hist) != 3 {
		t.Fatalf("history = %+v", hist)
	}
	if h := hist[0]; h.Name != engine.VarRemoveUserOnSoftDelete || h.Old != "" || h.New != "Y" || h.Who != "admin@example.com" || h.At == "" {
		t.Errorf("history[0] = %+v", h)
	}
	hist = decodeJSON[[]changeJSON](t, v.req("GET", soft+"/history", nil).expect(t, 200))
	if len(hist) != 2 || hist[1].Who != "admin-token" {
		t.Errorf("variable history = %+v", hist)
	}
	r = v.req("GET", "/api/system-variables/"+engine.VarRequestLogger+"/history", nil).expect(t, 200)
	if !strings.HasPrefix(strings.TrimSpace(r.Body.String()), "[") {
		t.Errorf("history is not an array: %s", r)
	}

	// Methods and paths.
	r = v.req("POST", "/api/system-variables", `{}`)
	scimError(t, r, 405, "")
	if r.Header().Get("Allow") != "GET" {
		t.Errorf("Allow = %q", r.Header().Get("Allow"))
	}
	scimError(t, v.req("PATCH", soft, `{}`), 405, "")
	scimError(t, v.req("GET", soft+"/nope", nil), 404, "")
	scimError(t, v.req("GET", "/api/system-variables/a/b/c", nil), 404, "")
}
