package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/scim"
)

// adminTokenPrincipal is who a request authenticated with the static
// admin token (serve --admin-token-file) runs as: the built-in
// administrator, with no user behind it. History entries show its name.
var adminTokenPrincipal = engine.Principal{UserName: "admin-token", Role: engine.UserTypeAdmin, Builtin: true}

// authorize establishes who the request runs as (DESIGN §3.5): the local
// administrator for in-process requests, the built-in administrator for
// the static admin token, else the user of an API token, which must be an
// Admin (401 missing/invalid/expired, 403 not an Admin). It answers the
// error itself and returns false when the request must stop.
func (s *Server) authorize(c *call) bool {
	if p, ok := c.r.Context().Value(localAdminKey{}).(engine.Principal); ok {
		c.who = p
		return true
	}
	h := strings.TrimSpace(c.r.Header.Get("Authorization"))
	if h == "" {
		c.writeError(http.StatusUnauthorized, "", "authentication required: send Authorization: Bearer <API token of an MI Admin>")
		return false
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		c.w.Header().Set("WWW-Authenticate", `Bearer realm="miscim", error="invalid_request"`)
		c.writeError(http.StatusUnauthorized, "", "the Authorization header must be \"Bearer <token>\" (RFC 6750); got the "+quote(scheme)+" scheme")
		return false
	}
	if s.hasAdmin {
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(sum[:], s.adminHash[:]) == 1 {
			c.who = adminTokenPrincipal
			return true
		}
	}
	p, err := s.e.Authenticate(c.r.Context(), token)
	if err != nil {
		if se := (*scim.Error)(nil); errors.As(err, &se) && se.Status == http.StatusUnauthorized {
			// RFC 6750 §3.1: a token was sent and refused.
			c.w.Header().Set("WWW-Authenticate", `Bearer realm="miscim", error="invalid_token"`)
		}
		c.fail(err)
		return false
	}
	c.who = p
	return true
}
