package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// varJSON is a system variable in the admin API.
type varJSON struct {
	Name        string      `json:"name"`
	Value       string      `json:"value"`
	Default     string      `json:"default"`
	Allowed     []string    `json:"allowed"`
	Description string      `json:"description"`
	IsSet       bool        `json:"isSet"`
	LastChange  *changeJSON `json:"lastChange,omitempty"`
}

// changeJSON is one recorded change; Name is left out inside lastChange,
// where the variable is already known.
type changeJSON struct {
	Name string `json:"name,omitempty"`
	Old  string `json:"old"`
	New  string `json:"new"`
	Who  string `json:"who"`
	At   string `json:"at"`
}

func toVarJSON(st engine.VarState) varJSON {
	v := varJSON{Name: st.Name, Value: st.Value, Default: st.Default, Allowed: st.Allowed,
		Description: st.Description, IsSet: st.IsSet}
	if v.Allowed == nil {
		v.Allowed = []string{}
	}
	if st.LastChange != nil {
		ch := toChangeJSON(*st.LastChange)
		ch.Name = ""
		v.LastChange = &ch
	}
	return v
}

func toChangeJSON(ch store.VarChange) changeJSON {
	return changeJSON{Name: ch.Name, Old: ch.Old, New: ch.New, Who: ch.Who, At: engine.FormatTime(ch.At)}
}

// routeVars serves the admin API for system variables (DESIGN §3.6):
//
//	GET    /api/system-variables                 all variables
//	GET    /api/system-variables/history         every recorded change
//	GET    /api/system-variables/{name}          one variable
//	PUT    /api/system-variables/{name}          {"value":"Y"}
//	DELETE /api/system-variables/{name}          back to the default
//	GET    /api/system-variables/{name}/history  its changes
//
// It takes the same tokens as SCIM. Unknown names and invalid values are
// the engine's 400 errors, whose detail lists what is allowed.
func (s *Server) routeVars(c *call, rest string) {
	if !s.authorize(c) {
		return
	}
	segs, ok := segments(rest)
	switch {
	case !ok || len(segs) > 2 || (len(segs) == 2 && !strings.EqualFold(segs[1], "history")):
		c.fail(scim.Errorf(http.StatusNotFound, "", "no admin endpoint at %s: use %s, %s/{name} or %s/{name}/history", c.r.URL.Path, varsPrefix, varsPrefix, varsPrefix))
	case len(segs) == 0:
		if c.allow(http.MethodGet) {
			s.listVars(c)
		}
	case len(segs) == 1 && strings.EqualFold(segs[0], "history"):
		if c.allow(http.MethodGet) {
			s.varHistory(c, "")
		}
	case len(segs) == 2:
		if c.allow(http.MethodGet) {
			s.varHistory(c, segs[0])
		}
	default:
		name := segs[0]
		switch c.r.Method {
		case http.MethodGet:
			st, err := s.e.Var(c.r.Context(), name)
			s.answerVar(c, st, err)
		case http.MethodPut:
			s.setVar(c, name)
		case http.MethodDelete:
			st, err := s.e.UnsetVar(c.r.Context(), name, c.who.UserName)
			s.answerVar(c, st, err)
		default:
			c.methodNotAllowed(http.MethodGet, http.MethodPut, http.MethodDelete)
		}
	}
}

func (s *Server) listVars(c *call) {
	states, err := s.e.Vars(c.r.Context())
	if err != nil {
		c.fail(err)
		return
	}
	out := make([]varJSON, len(states))
	for i, st := range states {
		out[i] = toVarJSON(st)
	}
	c.writeBody(http.StatusOK, jsonContentType, out)
}

func (s *Server) varHistory(c *call, name string) {
	hist, err := s.e.VarHistory(c.r.Context(), name)
	if err != nil {
		c.fail(err)
		return
	}
	out := make([]changeJSON, len(hist))
	for i, ch := range hist {
		out[i] = toChangeJSON(ch)
	}
	c.writeBody(http.StatusOK, jsonContentType, out)
}

// setVar reads {"value": "..."}; the value's case does not matter, the
// engine stores it upper-case and records who changed it.
func (s *Server) setVar(c *call, name string) {
	body, ok := c.readBody()
	if !ok {
		return
	}
	doc, err := scim.DecodeObject(body)
	if err != nil {
		c.fail(err)
		return
	}
	raw, _, found := scim.Get(doc, "value")
	value, isStr := raw.(string)
	if !found || !isStr {
		c.fail(scim.BadRequest(scim.ScimTypeInvalidValue, `send the new value as {"value": "Y"}: the value must be a string`))
		return
	}
	st, err := s.e.SetVar(c.r.Context(), name, value, c.who.UserName)
	s.answerVar(c, st, err)
}

func (s *Server) answerVar(c *call, st engine.VarState, err error) {
	if err != nil {
		c.fail(err)
		return
	}
	c.writeBody(http.StatusOK, jsonContentType, toVarJSON(st))
}

// healthz answers 200 after a cheap read of the store (one variable by
// key), 503 when the store fails. No authentication: load balancers and
// orchestrators probe it.
func (s *Server) healthz(c *call) {
	c.api = true
	if !c.allow(http.MethodGet, http.MethodHead) {
		return
	}
	body := map[string]string{"status": "ok", "version": s.opts.Version}
	if s.opts.Replica != "" {
		body["replica"] = s.opts.Replica
	}
	if err := s.e.Ping(c.r.Context()); err != nil {
		s.log.Error("health check failed", "request_id", c.id, "error", err)
		body["status"] = "unavailable"
		body["detail"] = "the database cannot be read; request id " + c.id
		var ue *store.UnavailableError
		if errors.As(err, &ue) {
			// Why, without SQL or credentials: what an operator looking at
			// the load balancer needs first.
			body["detail"] = "the database is unavailable: " + ue.Reason + "; the replica reconnects by itself when it is back"
		}
		c.w.Header().Set("Retry-After", retryAfterSeconds)
		c.writeBody(http.StatusServiceUnavailable, jsonContentType, body)
		return
	}
	c.writeBody(http.StatusOK, jsonContentType, body)
}
