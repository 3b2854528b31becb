package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/miscim/miscim/internal/scim"
)

// ErrUnavailable is matched (errors.Is) by every failure that means the
// target could not be reached or could not answer: DNS, connection refused,
// TLS, timeouts, and 5xx responses after retries. The CLI maps it to exit 5.
var ErrUnavailable = errors.New("target unavailable")

// ErrNoAdminAPI is wrapped by admin-API calls against an endpoint that has
// no miscim admin API, such as a real Metric Insights.
var ErrNoAdminAPI = errors.New("the target has no miscim admin API")

// adminHint is where an MI admin changes what the admin API changes here.
const adminHint = "system variables of a real Metric Insights are edited in Admin > System > System Variables"

// UnavailableError describes why the target could not be used. It matches
// ErrUnavailable with errors.Is, and unwraps to the cause: the transport
// error (*url.Error, then *net.OpError, *net.DNSError,
// *tls.CertificateVerificationError, x509 errors…) or, for a 5xx answer,
// the *scim.Error.
type UnavailableError struct {
	Method   string // request method
	URL      string // the URL named in the message: the base URL for connection failures
	Attempts int    // attempts made, retries included
	Err      error  // the cause
	msg      string
}

// Error implements error.
func (e *UnavailableError) Error() string { return e.msg }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is reports whether target is ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

var _ error = (*UnavailableError)(nil)

func attemptsSuffix(n int) string {
	if n > 1 {
		return fmt.Sprintf(" (after %d attempts)", n)
	}
	return ""
}

// transportError classifies an error from sending a request. A cancelled
// caller context passes through so that errors.Is(err, context.Canceled)
// holds and the CLI exits 130; everything else is unavailability.
func transportError(ctx context.Context, method, reqURL, label string, attempts int, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s %s: %w", method, reqURL, context.Canceled)
	}
	e := &UnavailableError{Method: method, URL: label, Attempts: attempts, Err: err}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	var op *net.OpError
	var ne net.Error
	switch {
	case errors.As(cause, &op) && op.Op == "dial", isConnectionLevel(cause):
		// The server was never reached (or refused us): name the base URL,
		// which is what the user configured.
		e.msg = fmt.Sprintf("connect to %s: %s", label, describe(cause))
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.URL = reqURL
		e.msg = fmt.Sprintf("%s %s: no response before the deadline", method, reqURL)
	case errors.As(cause, &ne) && ne.Timeout():
		e.URL = reqURL
		e.msg = fmt.Sprintf("%s %s: no response within %s (timeout)", method, reqURL, timeout)
	default:
		e.URL = reqURL
		e.msg = fmt.Sprintf("%s %s: %s", method, reqURL, describe(cause))
	}
	e.msg += attemptsSuffix(attempts)
	return e
}

// isConnectionLevel reports failures that concern the host rather than the
// request: name resolution and TLS verification.
func isConnectionLevel(err error) bool {
	var dns *net.DNSError
	var cv *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	return errors.As(err, &dns) || errors.As(err, &cv) || errors.As(err, &rh) ||
		errors.Is(err, syscall.ECONNREFUSED)
}

// describe turns a transport error into the short cause the user needs.
func describe(err error) string {
	var rh tls.RecordHeaderError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the server"
	case errors.As(err, &rh):
		return "TLS handshake failed: the server does not speak TLS (try http://)"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Error()
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return cv.Error()
	}
	return err.Error()
}

// statusError builds the error for an HTTP status ≥ 400. 5xx answers, apart
// from 501 (the server does not implement the operation, RFC 7644 §3.12),
// are unavailability; the retries already happened.
func statusError(method, reqURL string, attempts int, status int, header http.Header, body []byte) error {
	se := decodeError(status, header, body)
	if status >= 500 && status != http.StatusNotImplemented {
		return &UnavailableError{
			Method: method, URL: reqURL, Attempts: attempts, Err: se,
			msg: fmt.Sprintf("%s %s: server error %s%s", method, reqURL, se.Error(), attemptsSuffix(attempts)),
		}
	}
	return se
}

// decodeError reads a SCIM error body (status as a number or a string,
// RFC 7644 §3.12). A body that is not one (an HTML page from a proxy, a
// plain-text message) still yields a *scim.Error with the HTTP status and a
// detail taken from the body, so callers handle one type.
func decodeError(status int, header http.Header, body []byte) *scim.Error {
	se := &scim.Error{}
	if isSCIMErrorBody(body) {
		_ = json.Unmarshal(body, se) // isSCIMErrorBody already parsed it
	}
	// The HTTP status decides: it is what the server acted on, and what
	// the CLI's exit codes are defined by.
	se.Status = status
	if se.Detail == "" {
		se.Detail = snippet(header, body)
		if se.Detail == "" {
			se.Detail = http.StatusText(status)
		}
	}
	return se
}

// isSCIMErrorBody reports whether body is a JSON object that looks like a
// SCIM error: the error schema, or a status or detail member.
func isSCIMErrorBody(body []byte) bool {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return false
	}
	for k, v := range obj {
		switch strings.ToLower(k) {
		case "schemas":
			if bytes.Contains(v, []byte(scim.ErrorSchema)) {
				return true
			}
		case "status", "detail":
			return true
		}
	}
	return false
}

// hasSCIMErrorSchema reports whether body declares the SCIM error schema:
// only miscim's (or a SCIM server's) own error bodies do, so on the admin
// API it tells miscim's answers from a foreign server's.
func hasSCIMErrorSchema(body []byte) bool {
	var obj struct {
		Schemas []string `json:"schemas"`
	}
	if json.Unmarshal(body, &obj) != nil {
		return false
	}
	for _, s := range obj.Schemas {
		if s == scim.ErrorSchema {
			return true
		}
	}
	return false
}

const snippetLen = 200

// snippet is the first 200 bytes of a body as readable text: HTML tags are
// dropped (an error page's title says more than its markup) and whitespace
// is collapsed.
func snippet(header http.Header, body []byte) string {
	s := string(body)
	if strings.Contains(strings.ToLower(header.Get("Content-Type")), "html") || strings.HasPrefix(strings.TrimSpace(s), "<") {
		s = stripTags(s)
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > snippetLen {
		cut := snippetLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// noAdminAPI is the error for an endpoint without the admin API.
func noAdminAPI(method, reqURL, why string) error {
	return fmt.Errorf("%s %s: %s: %w; %s", method, reqURL, why, ErrNoAdminAPI, adminHint)
}
