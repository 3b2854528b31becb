package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// Var is a system variable as miscim's admin API describes it (DESIGN §3.6).
type Var struct {
	Name        string     `json:"name"`
	Value       string     `json:"value"`
	Default     string     `json:"default"`
	Allowed     []string   `json:"allowed"`
	Description string     `json:"description"`
	IsSet       bool       `json:"isSet"` // false: Value is the default
	LastChange  *VarChange `json:"lastChange,omitempty"`
}

// VarChange is one recorded change of a variable. Old or New is "" when
// the variable was unset before or after.
type VarChange struct {
	Name string    `json:"name,omitempty"`
	Old  string    `json:"old"`
	New  string    `json:"new"`
	Who  string    `json:"who"`
	At   time.Time `json:"at"`
}

// AdminBaseURL returns the admin API base derived from the SCIM base.
func (c *Client) AdminBaseURL() string { return c.adminBase }

// Vars lists the system variables: GET /api/system-variables.
func (c *Client) Vars(ctx context.Context) ([]Var, error) {
	var vars []Var
	err := c.admin(ctx, http.MethodGet, "", nil, false, &vars, "variables")
	return vars, err
}

// Var reads one variable: GET /api/system-variables/{name}.
func (c *Client) Var(ctx context.Context, name string) (Var, error) {
	var v Var
	err := c.admin(ctx, http.MethodGet, url.PathEscape(name), nil, true, &v)
	return v, err
}

// SetVar sets a variable: PUT /api/system-variables/{name} {"value": …}.
func (c *Client) SetVar(ctx context.Context, name, value string) (Var, error) {
	body, _ := json.Marshal(map[string]string{"value": value})
	var v Var
	err := c.admin(ctx, http.MethodPut, url.PathEscape(name), body, true, &v)
	if err == nil && v.Name == "" {
		return c.Var(ctx, name) // the server answered 204
	}
	return v, err
}

// UnsetVar returns a variable to its default:
// DELETE /api/system-variables/{name}.
func (c *Client) UnsetVar(ctx context.Context, name string) (Var, error) {
	var v Var
	err := c.admin(ctx, http.MethodDelete, url.PathEscape(name), nil, true, &v)
	if err == nil && v.Name == "" {
		return c.Var(ctx, name) // the server answered 204
	}
	return v, err
}

// VarHistory lists recorded changes, of one variable or, with name "", of
// all: GET /api/system-variables/{name}/history or
// /api/system-variables/history.
func (c *Client) VarHistory(ctx context.Context, name string) ([]VarChange, error) {
	p := "history"
	if name != "" {
		p = url.PathEscape(name) + "/history"
	}
	var changes []VarChange
	err := c.admin(ctx, http.MethodGet, p, nil, name != "", &changes, "history", "changes")
	return changes, err
}

// admin performs an admin-API call and decodes its JSON answer into out. A
// list may come as a bare array or wrapped in an object under one of
// listKeys.
//
// Telling "no admin API here" from miscim's own errors: miscim answers
// errors with SCIM error bodies; anything else on this path (404/405/501,
// an HTML page, another product's JSON error) means the target is not
// miscim. A 404 with a SCIM error body on a per-variable path is miscim
// saying the variable does not exist, and stays a *scim.Error.
func (c *Client) admin(ctx context.Context, method, sub string, body []byte, named bool, out any, listKeys ...string) error {
	u := c.adminBase + "/system-variables"
	if sub != "" {
		u += "/" + sub
	}
	resp, err := c.send(ctx, exchange{method: method, url: u, label: c.adminBase, body: body})
	if err != nil {
		return err
	}
	s := resp.StatusCode()
	b := bytes.TrimSpace(resp.Body())
	scimErr := hasSCIMErrorSchema(b)
	switch {
	case s >= 500 && s != http.StatusNotImplemented,
		s == http.StatusTooManyRequests:
		return statusError(method, u, resp.Request.Attempt, s, resp.Header(), resp.Body())
	case s == http.StatusNotFound && named && scimErr:
		return statusError(method, u, resp.Request.Attempt, s, resp.Header(), resp.Body())
	case s == http.StatusNotFound || s == http.StatusMethodNotAllowed || s == http.StatusNotImplemented:
		return noAdminAPI(method, u, fmt.Sprintf("the server answered %d %s", s, http.StatusText(s)))
	case s >= 400 && scimErr:
		return statusError(method, u, resp.Request.Attempt, s, resp.Header(), resp.Body())
	case s >= 300:
		return noAdminAPI(method, u, fmt.Sprintf("the server answered %d %s without a SCIM error body", s, http.StatusText(s)))
	}
	if len(b) == 0 {
		if s == http.StatusNoContent {
			return nil
		}
		return noAdminAPI(method, u, fmt.Sprintf("the %d answer is empty", s))
	}
	if !isJSON(resp) {
		return noAdminAPI(method, u, fmt.Sprintf("the answer is %s, not JSON", contentType(resp)))
	}
	if err := decodeAdmin(b, out, listKeys); err != nil {
		return noAdminAPI(method, u, fmt.Sprintf("the answer is not a system-variable document (%v)", err))
	}
	return nil
}

func decodeAdmin(b []byte, out any, listKeys []string) error {
	if len(listKeys) > 0 && b[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		for k, v := range obj {
			for _, want := range listKeys {
				if strings.EqualFold(k, want) {
					return json.Unmarshal(v, out)
				}
			}
		}
		return fmt.Errorf("an object without %q", listKeys[0])
	}
	return json.Unmarshal(b, out)
}

func contentType(resp *resty.Response) string {
	ct := resp.Header().Get("Content-Type")
	if ct == "" {
		return "untyped"
	}
	return ct
}

// isJSON reports a JSON media type (application/json, application/scim+json
// and the like), or an untyped body that starts like JSON.
func isJSON(resp *resty.Response) bool {
	ct := resp.Header().Get("Content-Type")
	if ct == "" {
		b := bytes.TrimSpace(resp.Body())
		return len(b) > 0 && (b[0] == '{' || b[0] == '[')
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
