package server

import (
	"net/http"
	"strings"

	"github.com/miscim/miscim/internal/scim"
)

// Path prefixes. Matching is case-insensitive: Microsoft's test
// collection calls /users as well as /Users (entra-behavior §6 "Path
// casing"), and Go's ServeMux patterns are case-sensitive, hence this
// small hand-written router.
const (
	scimPrefix = "/scim/v2"
	varsPrefix = "/api/system-variables"
)

// cutPrefixFold returns what follows prefix in path when path starts with
// it case-insensitively and the prefix ends at a segment boundary.
func cutPrefixFold(path, prefix string) (string, bool) {
	if len(path) < len(prefix) || !strings.EqualFold(path[:len(prefix)], prefix) {
		return "", false
	}
	rest := path[len(prefix):]
	if rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}

// segments splits what follows a prefix into path segments, allowing one
// trailing slash (/Users/ is /Users). ok is false for empty segments
// (/Users//x).
func segments(rest string) ([]string, bool) {
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return nil, true
	}
	segs := strings.Split(rest[1:], "/")
	for _, s := range segs {
		if s == "" {
			return nil, false
		}
	}
	return segs, true
}

func (s *Server) route(c *call) {
	p := c.r.URL.Path
	switch p {
	case "/healthz", "/healthz/":
		s.healthz(c)
		return
	case "/metrics", "/metrics/":
		if c.allow(http.MethodGet, http.MethodHead) {
			s.metrics.handler.ServeHTTP(c.w, c.r)
		}
		return
	}
	if rest, ok := cutPrefixFold(p, scimPrefix); ok {
		s.routeSCIM(c, rest)
		return
	}
	if rest, ok := cutPrefixFold(p, varsPrefix); ok {
		c.api = true
		s.routeVars(c, rest)
		return
	}
	c.fail(scim.Errorf(http.StatusNotFound, "", "no endpoint at %s: SCIM is served under %s (e.g. %s/Users), the admin API under %s", p, scimPrefix, scimPrefix, varsPrefix))
}

// routeSCIM serves /scim/v2 (RFC 7644 §3.2 endpoints). Authentication
// comes first, so that an unauthenticated client learns nothing about
// which paths exist.
func (s *Server) routeSCIM(c *call, rest string) {
	if !s.authorize(c) {
		return
	}
	segs, ok := segments(rest)
	if !ok || len(segs) == 0 {
		c.notFound()
		return
	}
	switch strings.ToLower(segs[0]) {
	case "users":
		s.resource(c, scim.User, segs[1:])
	case "groups":
		s.resource(c, scim.Group, segs[1:])
	case "serviceproviderconfig":
		if len(segs) != 1 {
			c.notFound()
		} else if c.allow(http.MethodGet) {
			c.writeSCIM(http.StatusOK, scim.ServiceProviderConfig(c.baseURL()))
		}
	case "resourcetypes":
		s.discovery(c, segs[1:], scim.ResourceTypes, scim.ResourceType)
	case "schemas":
		s.discovery(c, segs[1:], scim.Schemas, scim.SchemaByID)
	default:
		c.notFound()
	}
}

// resource serves /Users and /Groups and their members.
func (s *Server) resource(c *call, rs *scim.ResourceSchema, segs []string) {
	switch len(segs) {
	case 0:
		switch c.r.Method {
		case http.MethodGet:
			s.list(c, rs)
		case http.MethodPost:
			s.create(c, rs)
		default:
			c.methodNotAllowed(http.MethodGet, http.MethodPost)
		}
	case 1:
		id := segs[0]
		switch c.r.Method {
		case http.MethodGet:
			s.get(c, rs, id)
		case http.MethodPut:
			s.replace(c, rs, id)
		case http.MethodPatch:
			s.patch(c, rs, id)
		case http.MethodDelete:
			s.delete(c, rs, id)
		default:
			c.methodNotAllowed(http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete)
		}
	default:
		c.notFound()
	}
}

// discovery serves /ResourceTypes and /Schemas: the collection as a
// ListResponse (Microsoft's tests expect totalResults 2, startIndex 1 and
// itemsPerPage 2 for resource types), or one member by its id.
func (s *Server) discovery(c *call, segs []string, all func(string) []scim.Resource, one func(string, string) (scim.Resource, bool)) {
	if len(segs) > 1 {
		c.notFound()
		return
	}
	if !c.allow(http.MethodGet) {
		return
	}
	base := c.baseURL()
	if len(segs) == 0 {
		docs := all(base)
		c.writeSCIM(http.StatusOK, scim.NewListResponse(len(docs), 1, docs))
		return
	}
	doc, ok := one(base, segs[0])
	if !ok {
		c.fail(scim.Errorf(http.StatusNotFound, "", "%q is not served here: GET %s to see what is", segs[0], strings.TrimSuffix(c.r.URL.Path, "/"+segs[0])))
		return
	}
	c.writeSCIM(http.StatusOK, doc)
}

// allow answers 405 with an Allow header unless the method is one of
// methods.
func (c *call) allow(methods ...string) bool {
	for _, m := range methods {
		if c.r.Method == m {
			return true
		}
	}
	c.methodNotAllowed(methods...)
	return false
}

func (c *call) methodNotAllowed(methods ...string) {
	allowed := strings.Join(methods, ", ")
	c.w.Header().Set("Allow", allowed)
	c.fail(scim.Errorf(http.StatusMethodNotAllowed, "", "method %s is not allowed on %s: use %s", c.r.Method, c.r.URL.Path, allowed))
}

func (c *call) notFound() {
	c.fail(scim.Errorf(http.StatusNotFound, "", "no SCIM endpoint at %s: the endpoints are /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas under %s", c.r.URL.Path, scimPrefix))
}
