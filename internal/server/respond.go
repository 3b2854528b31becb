package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/miscim/miscim/internal/scim"
)

// Content types. SCIM answers application/scim+json (RFC 7644 §3.1); the
// admin API is plain JSON.
const (
	scimContentType = "application/scim+json; charset=utf-8"
	jsonContentType = "application/json"
)

// writeBody encodes v as JSON with the given status and content type.
// HTML escaping is off: SCIM values such as "a&b" stay readable.
func (c *call) writeBody(status int, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a value the engine built can fail to encode: a bug.
		c.s.log.Error("encode response", "request_id", c.id, "error", err)
		status, contentType = http.StatusInternalServerError, c.errorContentType()
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(&scim.Error{Status: status, Detail: "internal error; request id " + c.id})
	}
	h := c.w.Header()
	h.Set("Content-Type", contentType)
	c.w.WriteHeader(status)
	_, _ = c.w.Write(buf.Bytes())
}

func (c *call) writeSCIM(status int, v any) { c.writeBody(status, scimContentType, v) }

func (c *call) errorContentType() string {
	if c.api {
		return jsonContentType
	}
	return scimContentType
}

// writeError writes a SCIM error body (RFC 7644 §3.12) with a numeric
// status.
func (c *call) writeError(status int, scimType, detail string) {
	if status == http.StatusUnauthorized && c.w.Header().Get("WWW-Authenticate") == "" {
		// RFC 6750 §3: a 401 names the scheme the client must use.
		c.w.Header().Set("WWW-Authenticate", `Bearer realm="miscim"`)
	}
	c.writeBody(status, c.errorContentType(), &scim.Error{Status: status, ScimType: scimType, Detail: detail})
}

// fail answers an error. SCIM errors from the engine pass through with
// their status; anything else is a failure of miscim, answered 500 with
// the request id only (no SQL, paths or stacks reach the client) and
// logged in full. A client that went away gets nothing.
func (c *call) fail(err error) {
	var se *scim.Error
	switch {
	case errors.As(err, &se) && se.Status >= 400 && se.Status <= 599:
		c.writeError(se.Status, se.ScimType, se.Detail)
	case errors.Is(err, context.Canceled) && c.r.Context().Err() != nil:
		c.gone = true
		c.s.log.Info("client went away", "request_id", c.id, "method", c.r.Method, "path", c.r.URL.Path)
	case errors.Is(err, context.DeadlineExceeded) && c.r.Context().Err() != nil:
		c.s.log.Warn("request timed out", "request_id", c.id, "method", c.r.Method, "path", c.r.URL.Path, "error", err)
		c.writeError(http.StatusServiceUnavailable, "", "the request timed out; request id "+c.id)
	default:
		c.s.log.Error("request failed", "request_id", c.id, "method", c.r.Method, "path", c.r.URL.Path, "error", err)
		c.writeError(http.StatusInternalServerError, "", "internal error; request id "+c.id)
	}
}

// baseURL is the absolute SCIM base of this server as the client reached
// it: the scheme from TLS or X-Forwarded-Proto (a TLS-terminating proxy in
// front), the host from the request.
func (c *call) baseURL() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	if fp := c.r.Header.Get("X-Forwarded-Proto"); fp != "" {
		// Only the first hop, and only a known scheme: the value ends up
		// in Location headers.
		first, _, _ := strings.Cut(fp, ",")
		switch p := strings.ToLower(strings.TrimSpace(first)); p {
		case "http", "https":
			scheme = p
		}
	}
	host := c.r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host + scimPrefix
}

// readBody checks the request's content type and reads its body within
// the limit. It answers the error itself and returns ok false when the
// request cannot go on.
func (c *call) readBody() ([]byte, bool) {
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/scim+json" && mt != "application/json") {
			c.writeError(http.StatusUnsupportedMediaType, "", "unsupported Content-Type "+quote(ct)+": send application/scim+json (application/json is accepted too)")
			return nil, false
		}
	}
	limit := c.s.opts.MaxBodyBytes
	if c.r.ContentLength > limit {
		c.tooLarge()
		return nil, false
	}
	if c.r.Body == nil {
		return nil, true
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.rawW, c.r.Body, limit))
	c.body = b
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			c.tooLarge()
		case c.r.Context().Err() != nil:
			c.fail(c.r.Context().Err())
		default:
			c.writeError(http.StatusBadRequest, scim.ScimTypeInvalidSyntax, "could not read the request body: "+err.Error())
		}
		return nil, false
	}
	return b, true
}

func (c *call) tooLarge() {
	c.writeError(http.StatusRequestEntityTooLarge, "", "the request body is larger than the limit of "+formatBytes(c.s.opts.MaxBodyBytes)+"; send fewer operations or members per request")
}

// query parses the query string. A `+` is a space there and `%20` too,
// so both of Entra's filter encodings read the same (entra-behavior §1).
func (c *call) query() (url.Values, error) {
	v, err := url.ParseQuery(c.r.URL.RawQuery)
	if err != nil {
		return nil, scim.BadRequest(scim.ScimTypeInvalidValue, "the query string is not valid URL encoding (%v): percent-encode the parameter values", err)
	}
	return v, nil
}

// param returns a query parameter, matching its name exactly or, failing
// that, regardless of case. ok is false when it is absent.
func param(q url.Values, name string) (string, bool) {
	if vs, ok := q[name]; ok && len(vs) > 0 {
		return vs[0], true
	}
	for k, vs := range q {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
