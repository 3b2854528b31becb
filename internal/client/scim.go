package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-resty/resty/v2"

	"github.com/miscim/miscim/internal/scim"
)

// Resource names of the SCIM endpoints (RFC 7644 §3.2).
const (
	Users  = "Users"
	Groups = "Groups"
)

// ListParams are the query parameters of a SCIM query (RFC 7644 §3.4.2).
// Zero values are not sent.
type ListParams struct {
	Filter             string
	StartIndex, Count  int // 1-based; 0 = not sent
	Attributes         []string
	ExcludedAttributes []string
	SortBy, SortOrder  string
	// CursorPaging sends cursor=Cursor (RFC 9865 §2), even when Cursor is
	// empty, which asks for the first page.
	CursorPaging bool
	Cursor       string
}

// query encodes the parameters. Spaces become %20 rather than +: Entra
// sends both (entra-behavior §1), but %20 is the encoding every server
// reads the same way, and a literal + in a value is sent as %2B.
func (p ListParams) query() string {
	v := url.Values{}
	if p.Filter != "" {
		v.Set("filter", p.Filter)
	}
	if p.StartIndex > 0 {
		v.Set("startIndex", strconv.Itoa(p.StartIndex))
	}
	if p.Count > 0 {
		v.Set("count", strconv.Itoa(p.Count))
	}
	if len(p.Attributes) > 0 {
		v.Set("attributes", strings.Join(p.Attributes, ","))
	}
	if len(p.ExcludedAttributes) > 0 {
		v.Set("excludedAttributes", strings.Join(p.ExcludedAttributes, ","))
	}
	if p.SortBy != "" {
		v.Set("sortBy", p.SortBy)
	}
	if p.SortOrder != "" {
		v.Set("sortOrder", p.SortOrder)
	}
	if p.CursorPaging {
		v.Set("cursor", p.Cursor)
	}
	return strings.ReplaceAll(v.Encode(), "+", "%20")
}

// scimURL joins the base, escaped path segments and a query.
func (c *Client) scimURL(query string, segments ...string) string {
	var b strings.Builder
	b.WriteString(c.base)
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	if query != "" {
		b.WriteByte('?')
		b.WriteString(query)
	}
	return b.String()
}

func (c *Client) scimCall(ctx context.Context, method, u string, body any, ifMatch string) (*resty.Response, error) {
	b, err := encodeBody(body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	if ifMatch != "" {
		h.Set("If-Match", ifMatch) // RFC 7644 §3.14
	}
	return c.call(ctx, exchange{method: method, url: u, label: c.base, header: h, body: b})
}

// List runs one query: GET /{resource}?filter=…&startIndex=…&count=….
func (c *Client) List(ctx context.Context, resource string, p ListParams) (*scim.ListResponse, error) {
	u := c.scimURL(p.query(), resource)
	resp, err := c.scimCall(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return nil, err
	}
	return decodeList(http.MethodGet, u, resp)
}

// Get reads one resource: GET /{resource}/{id}. Only p.Attributes and
// p.ExcludedAttributes are used.
func (c *Client) Get(ctx context.Context, resource, id string, p ListParams) (scim.Resource, error) {
	q := ListParams{Attributes: p.Attributes, ExcludedAttributes: p.ExcludedAttributes}.query()
	u := c.scimURL(q, resource, id)
	resp, err := c.scimCall(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return nil, err
	}
	return decodeResource(http.MethodGet, u, resp, false)
}

// Create posts a new resource: POST /{resource} (RFC 7644 §3.3). body is
// JSON-encoded unless it is []byte, json.RawMessage or string.
func (c *Client) Create(ctx context.Context, resource string, body any) (scim.Resource, error) {
	u := c.scimURL("", resource)
	resp, err := c.scimCall(ctx, http.MethodPost, u, body, "")
	if err != nil {
		return nil, err
	}
	return decodeResource(http.MethodPost, u, resp, false)
}

// Replace replaces a resource: PUT /{resource}/{id} (RFC 7644 §3.5.1),
// with If-Match when ifMatch is not empty. A 204 answer yields nil.
func (c *Client) Replace(ctx context.Context, resource, id string, body any, ifMatch string) (scim.Resource, error) {
	u := c.scimURL("", resource, id)
	resp, err := c.scimCall(ctx, http.MethodPut, u, body, ifMatch)
	if err != nil {
		return nil, err
	}
	return decodeResource(http.MethodPut, u, resp, true)
}

// Patch modifies a resource: PATCH /{resource}/{id} (RFC 7644 §3.5.2). It
// returns nil on 204, which Metric Insights answers for groups.
func (c *Client) Patch(ctx context.Context, resource, id string, body any, ifMatch string) (scim.Resource, error) {
	u := c.scimURL("", resource, id)
	resp, err := c.scimCall(ctx, http.MethodPatch, u, body, ifMatch)
	if err != nil {
		return nil, err
	}
	return decodeResource(http.MethodPatch, u, resp, true)
}

// Delete removes a resource: DELETE /{resource}/{id} (RFC 7644 §3.6).
func (c *Client) Delete(ctx context.Context, resource, id, ifMatch string) error {
	_, err := c.scimCall(ctx, http.MethodDelete, c.scimURL("", resource, id), nil, ifMatch)
	return err
}

// ServiceProviderConfig reads GET /ServiceProviderConfig (RFC 7644 §4).
func (c *Client) ServiceProviderConfig(ctx context.Context) (scim.Resource, error) {
	u := c.scimURL("", "ServiceProviderConfig")
	resp, err := c.scimCall(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return nil, err
	}
	return decodeResource(http.MethodGet, u, resp, false)
}

// ResourceTypes reads GET /ResourceTypes (RFC 7644 §4).
func (c *Client) ResourceTypes(ctx context.Context) (*scim.ListResponse, error) {
	return c.discovery(ctx, "ResourceTypes")
}

// Schemas reads GET /Schemas (RFC 7644 §4).
func (c *Client) Schemas(ctx context.Context) (*scim.ListResponse, error) {
	return c.discovery(ctx, "Schemas")
}

func (c *Client) discovery(ctx context.Context, what string) (*scim.ListResponse, error) {
	u := c.scimURL("", what)
	resp, err := c.scimCall(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return nil, err
	}
	// Some servers answer the discovery endpoints with a bare JSON array
	// instead of a ListResponse; accept it as one page.
	if b := bytes.TrimSpace(resp.Body()); len(b) > 0 && b[0] == '[' {
		var list []scim.Resource
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, notSCIM(http.MethodGet, u, resp, err)
		}
		return scim.NewListResponse(len(list), 1, list), nil
	}
	return decodeList(http.MethodGet, u, resp)
}

func decodeList(method, u string, resp *resty.Response) (*scim.ListResponse, error) {
	var lr scim.ListResponse
	if err := json.Unmarshal(resp.Body(), &lr); err != nil {
		return nil, notSCIM(method, u, resp, err)
	}
	return &lr, nil
}

// decodeResource decodes a resource answer; an empty body is allowed (nil
// resource) only where the protocol permits 204.
func decodeResource(method, u string, resp *resty.Response, emptyOK bool) (scim.Resource, error) {
	body := bytes.TrimSpace(resp.Body())
	if len(body) == 0 {
		if emptyOK {
			return nil, nil
		}
		return nil, fmt.Errorf("%s %s: %d response has no body; a SCIM resource was expected", method, u, resp.StatusCode())
	}
	var r scim.Resource
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, notSCIM(method, u, resp, err)
	}
	if r == nil {
		return nil, fmt.Errorf("%s %s: the response is JSON null; a SCIM resource was expected", method, u)
	}
	return r, nil
}

// notSCIM reports a success answer that is not SCIM JSON: typically a
// login or error page of a proxy in front of the endpoint.
func notSCIM(method, u string, resp *resty.Response, err error) error {
	return fmt.Errorf("%s %s: the %d response is not SCIM JSON (Content-Type %q: %v): %s",
		method, u, resp.StatusCode(), resp.Header().Get("Content-Type"), err, snippet(resp.Header(), resp.Body()))
}
