package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/scim"
)

// listQuery builds the engine query of a list request from its parameters
// (RFC 7644 §3.4.2). Parameters the server does not know, such as Entra's
// aadOptscim062020 flag, are ignored (entra-behavior §2.5).
func listQuery(rs *scim.ResourceSchema, q url.Values) (engine.Query, error) {
	var out engine.Query
	out.Filter, _ = param(q, "filter")
	out.SortBy, _ = param(q, "sortBy")
	out.SortOrder, _ = param(q, "sortOrder")
	// RFC 9865 §2: a cursor parameter, even empty (?cursor or ?cursor=),
	// asks for cursor paging.
	out.Cursor, out.CursorGiven = param(q, "cursor")
	var err error
	if v, ok := param(q, "startIndex"); ok && strings.TrimSpace(v) != "" {
		if out.StartIndex, err = intParam("startIndex", v, scim.ScimTypeInvalidValue); err != nil {
			return out, err
		}
	}
	if v, ok := param(q, "count"); ok && strings.TrimSpace(v) != "" {
		scimType := scim.ScimTypeInvalidValue
		if out.CursorGiven {
			scimType = scim.ScimTypeInvalidCount // RFC 9865 §2.1
		}
		if out.Count, err = intParam("count", v, scimType); err != nil {
			return out, err
		}
		out.CountGiven = true
	}
	out.Projection, err = projection(rs, q)
	return out, err
}

func intParam(name, v, scimType string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, scim.BadRequest(scimType, "%s must be an integer, got %s", name, quote(v))
	}
	return n, nil
}

// projection parses attributes / excludedAttributes (RFC 7644 §3.4.2.5),
// which also apply to the resource that POST, PUT and PATCH return (§3.9).
func projection(rs *scim.ResourceSchema, q url.Values) (scim.Projection, error) {
	attrs, _ := param(q, "attributes")
	excluded, _ := param(q, "excludedAttributes")
	return scim.ParseProjection(rs, attrs, excluded)
}

// locationReturned reports whether a projection keeps meta.location, so
// that the server adds it only where the client asked for it.
func locationReturned(p scim.Projection) bool {
	if p.IsZero() {
		return true
	}
	doc := p.Apply(scim.Resource{"meta": map[string]any{"location": "x"}})
	meta, _ := doc["meta"].(map[string]any)
	_, ok := meta["location"]
	return ok
}

// resourceURL is the absolute URL of a resource.
func (c *call) resourceURL(rs *scim.ResourceSchema, id string) string {
	return c.baseURL() + rs.Endpoint + "/" + url.PathEscape(id)
}

func setLocation(doc scim.Resource, loc string) {
	if meta, ok := doc["meta"].(map[string]any); ok {
		meta["location"] = loc
	}
}

func idOf(doc scim.Resource) string {
	id, _ := doc["id"].(string)
	return id
}

func versionOf(doc scim.Resource) string {
	meta, _ := doc["meta"].(map[string]any)
	v, _ := meta["version"].(string)
	return v
}

// writeResource answers one resource: meta.location set to its absolute
// URL, the projection applied, its version as ETag (RFC 7644 §3.14).
func (c *call) writeResource(status int, rs *scim.ResourceSchema, doc scim.Resource, p scim.Projection) {
	if v := versionOf(doc); v != "" {
		c.w.Header().Set("ETag", v)
	}
	setLocation(doc, c.resourceURL(rs, idOf(doc)))
	c.writeSCIM(status, p.Apply(doc))
}

// list answers GET /Users and GET /Groups. No match is 200 with an empty
// ListResponse, never 404: Entra's Test Connection depends on it
// (entra-behavior §1).
func (s *Server) list(c *call, rs *scim.ResourceSchema) {
	qv, err := c.query()
	if err != nil {
		c.fail(err)
		return
	}
	q, err := listQuery(rs, qv)
	if err != nil {
		c.fail(err)
		return
	}
	var lr *scim.ListResponse
	if rs == scim.User {
		lr, err = s.e.ListUsers(c.r.Context(), q)
	} else {
		lr, err = s.e.ListGroups(c.r.Context(), q)
	}
	if err != nil {
		c.fail(err)
		return
	}
	if locationReturned(q.Projection) {
		for _, doc := range lr.Resources {
			setLocation(doc, c.resourceURL(rs, idOf(doc)))
		}
	}
	c.writeSCIM(http.StatusOK, lr)
}

// get answers GET /Users/{id} and GET /Groups/{id}. A group's members are
// read only when the projection returns them: Entra reads groups with
// excludedAttributes=members (entra-behavior §3), and a group may have
// 250,000 members.
func (s *Server) get(c *call, rs *scim.ResourceSchema, id string) {
	qv, err := c.query()
	if err != nil {
		c.fail(err)
		return
	}
	p, err := projection(rs, qv)
	if err != nil {
		c.fail(err)
		return
	}
	var doc scim.Resource
	if rs == scim.User {
		doc, err = s.e.GetUser(c.r.Context(), id)
	} else {
		doc, err = s.e.GetGroup(c.r.Context(), id, p.Returns("members"))
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.writeResource(http.StatusOK, rs, doc, p)
}

// writeInput reads what a POST, PUT or PATCH needs before anything is
// written: the projection of the answer, then the body. ok is false when
// the request was answered with an error.
func (c *call) writeInput(rs *scim.ResourceSchema) (qv url.Values, p scim.Projection, body []byte, ok bool) {
	qv, err := c.query()
	if err == nil {
		p, err = projection(rs, qv)
	}
	if err != nil {
		c.fail(err)
		return nil, p, nil, false
	}
	body, ok = c.readBody()
	return qv, p, body, ok
}

// create answers POST: 201 with Location and ETag (RFC 7644 §3.3).
func (s *Server) create(c *call, rs *scim.ResourceSchema) {
	_, p, body, ok := c.writeInput(rs)
	if !ok {
		return
	}
	var doc scim.Resource
	var err error
	if rs == scim.User {
		doc, err = s.e.CreateUser(c.r.Context(), body)
	} else {
		doc, err = s.e.CreateGroup(c.r.Context(), body)
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.w.Header().Set("Location", c.resourceURL(rs, idOf(doc)))
	c.writeResource(http.StatusCreated, rs, doc, p)
}

// replace answers PUT (RFC 7644 §3.5.1): 200 with the resource.
func (s *Server) replace(c *call, rs *scim.ResourceSchema, id string) {
	_, p, body, ok := c.writeInput(rs)
	if !ok {
		return
	}
	ifMatch := c.r.Header.Get("If-Match")
	var doc scim.Resource
	var err error
	if rs == scim.User {
		doc, err = s.e.ReplaceUser(c.r.Context(), id, body, ifMatch)
	} else {
		doc, err = s.e.ReplaceGroup(c.r.Context(), id, body, ifMatch)
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.writeResource(http.StatusOK, rs, doc, p)
}

// patch answers PATCH (RFC 7644 §3.5.2). Users: 200 with the resource, as
// Microsoft's Playwright tests require. Groups: 204, as Entra expects
// (returning member lists is "not advisable", entra-behavior §3), unless
// the request names attributes to return, when RFC 7644 §3.5.2 asks for
// 200 with the resource.
func (s *Server) patch(c *call, rs *scim.ResourceSchema, id string) {
	qv, p, body, ok := c.writeInput(rs)
	if !ok {
		return
	}
	ifMatch := c.r.Header.Get("If-Match")
	ctx := c.r.Context()
	if rs == scim.User {
		doc, err := s.e.PatchUser(ctx, id, body, ifMatch)
		if err != nil {
			c.fail(err)
			return
		}
		c.writeResource(http.StatusOK, rs, doc, p)
		return
	}
	doc, err := s.e.PatchGroup(ctx, id, body, ifMatch)
	if err != nil {
		c.fail(err)
		return
	}
	if _, asked := param(qv, "attributes"); !asked {
		if v := versionOf(doc); v != "" {
			c.w.Header().Set("ETag", v)
		}
		c.w.WriteHeader(http.StatusNoContent)
		return
	}
	if p.Returns("members") {
		// PatchGroup never loads members; read them only because the
		// client asked for them.
		if doc, err = s.e.GetGroup(ctx, id, true); err != nil {
			c.fail(err)
			return
		}
	}
	c.writeResource(http.StatusOK, rs, doc, p)
}

// delete answers DELETE: 204 (RFC 7644 §3.6).
func (s *Server) delete(c *call, rs *scim.ResourceSchema, id string) {
	ifMatch := c.r.Header.Get("If-Match")
	var err error
	if rs == scim.User {
		err = s.e.DeleteUser(c.r.Context(), id, ifMatch)
	} else {
		err = s.e.DeleteGroup(c.r.Context(), id, ifMatch)
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}
