package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/miscim/miscim/internal/scim"
)

// Content types. SCIM answers application/scim+json (RFC 7644 §3.1); the
// admin API is plain JSON.
const (
	scimContentType = "application/scim+json; charset=utf-8"
	jsonContentType = "application/json"
)

// writeBody encodes v as JSON with the given status and content type.
// HTML escaping is off: SCIM values such as "a&b" stay readable. The
// encoding is scim.AppendJSON's, the bytes encoding/json would write.
func (c *call) writeBody(status int, contentType string, v any) {
	bp := bodyBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 { // keep the pool from holding big list pages
			bodyBuffers.Put(bp)
		}
	}()
	b, ok := scim.AppendJSON((*bp)[:0], v)
	if !ok {
		// Only a value the engine built can fail to encode: a bug.
		c.s.log.Error("encode response", "request_id", c.id, "error", fmt.Sprintf("cannot encode a %T as JSON", v))
		status, contentType = http.StatusInternalServerError, c.errorContentType()
		b, _ = scim.AppendJSON(b[:0], &scim.Error{Status: status, Detail: "internal error; request id " + c.id})
	}
	b = append(b, '\n')
	*bp = b
	h := c.w.Header()
	h.Set("Content-Type", contentType)
	c.w.WriteHeader(status)
	_, _ = c.w.Write(b)
}

// bodyBuffers recycles response buffers: net/http copies what is written,
// so a buffer is free again once writeBody returns.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (c *call) writeSCIM(status int, v any) { c.writeBody(status, scimContentType, v) }

func (c *call) errorContentType() string {
	if c.api {
		return jsonContentType
	}
	return scimContentType
}

// retryAfterSeconds is the Retry-After of a 503: long enough for a
// database restart or a failover to finish, short enough that a client
// that honours it loses little time.
const retryAfterSeconds = "5"

// writeError writes a SCIM error body (RFC 7644 §3.12) with a numeric
// status.
func (c *call) writeError(status int, scimType, detail string) {
	if status == http.StatusUnauthorized && c.w.Header().Get("WWW-Authenticate") == "" {
		// RFC 6750 §3: a 401 names the scheme the client must use.
		c.w.Header().Set("WWW-Authenticate", `Bearer realm="miscim"`)
	}
	if status == http.StatusServiceUnavailable && c.w.Header().Get("Retry-After") == "" {
		// Entra retries a 503, after Retry-After when it is given
		// (RFC 9110 §10.2.3); nothing was written.
		c.w.Header().Set("Retry-After", retryAfterSeconds)
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
		c.tooLarge(0)
		return nil, false
	}
	if c.r.Body == nil {
		return nil, true
	}
	// One byte past the limit tells a body that is too large from one that
	// fits exactly. Not http.MaxBytesReader: once over its limit it refuses
	// every further read and has net/http close the connection with the
	// rest of the body unread, which resets it (see tooLarge).
	b, err := io.ReadAll(io.LimitReader(c.r.Body, limit+1))
	if int64(len(b)) > limit {
		c.body = b[:limit]
		c.tooLarge(int64(len(b)))
		return nil, false
	}
	c.body = b
	if err != nil {
		if c.r.Context().Err() != nil {
			c.fail(c.r.Context().Err())
		} else {
			c.writeError(http.StatusBadRequest, scim.ScimTypeInvalidSyntax, "could not read the request body: "+err.Error())
		}
		return nil, false
	}
	return b, true
}

// tooLarge answers 413 to a body over the limit, of which read bytes have
// been read, so that the client can read the answer whatever order it
// writes and reads in.
//
// The trap is the connection's end. A client that writes its whole body
// before it reads (curl --data @file, Python's urllib, most libraries) is
// still writing when the server has its answer. A server that then closes
// with unread bytes in its receive buffer makes the kernel send a reset,
// and the client's kernel throws away the 413 it had already received:
// the client sees "connection reset by peer" and no answer. net/http
// closes exactly so after http.MaxBytesReader trips, and after a handler
// leaves more than 256 KiB of a body unread: it half-closes and waits
// 500 ms, but does not read (http.Server has no lingering close). So the
// server reads on and discards the rest, up to MaxDrainBytes beyond the
// limit, before the connection closes; beyond that bound it closes anyway,
// and a client still writing then gets the reset. Nothing is kept.
//
// On net/http's own HTTP/1 connections the 413 is written and flushed
// first (full duplex), so that a client that reads while it writes (Go's
// client; curl) stops sending at once; the rest is drained after. A writer
// that cannot interleave (the in-process transport, test recorders) gets
// the body drained first. Nothing is drained when nothing more would come:
// a client that asked "Expect: 100-continue" was never told to send its
// body (net/http sends no 100 Continue after a final answer), and HTTP/2
// ends the stream alone, leaving the connection up.
func (c *call) tooLarge(read int64) {
	limit := c.s.opts.MaxBodyBytes
	detail := fmt.Sprintf("the request body is larger than the limit of %s (%d bytes; miscim serve sets it with --max-body): send fewer operations or members per request", formatBytes(limit), limit)
	budget := limit + c.s.opts.MaxDrainBytes - read
	drain := c.r.Body != nil && c.r.Body != http.NoBody && c.r.ProtoMajor == 1 && (read > 0 || !expectsContinue(c.r))
	if drain && c.r.ContentLength-read > budget {
		drain = false // more than the bound: the connection closes anyway
	}
	if !drain {
		c.writeError(http.StatusRequestEntityTooLarge, "", detail)
		return
	}
	rc := http.NewResponseController(c.w)
	if rc.EnableFullDuplex() == nil {
		c.w.Header().Set("Connection", "close")
		c.writeError(http.StatusRequestEntityTooLarge, "", detail)
		_ = rc.Flush()
		drainBody(c.r.Body, budget)
		return
	}
	if !drainBody(c.r.Body, budget) {
		c.w.Header().Set("Connection", "close")
	}
	c.writeError(http.StatusRequestEntityTooLarge, "", detail)
}

// drainBody reads and discards up to n bytes of body and reports whether
// the body ended within them.
func drainBody(body io.Reader, n int64) bool {
	_, err := io.CopyN(io.Discard, body, n+1)
	return err == io.EOF
}

// expectsContinue reports an "Expect: 100-continue" request (RFC 9110
// §10.1.1): its client waits for the go-ahead before sending the body.
func expectsContinue(r *http.Request) bool {
	for _, v := range r.Header.Values("Expect") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "100-continue") {
				return true
			}
		}
	}
	return false
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
