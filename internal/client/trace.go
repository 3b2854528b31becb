package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// traceBodyLimit bounds each body printed by the trace.
const traceBodyLimit = 4 << 10

// redacted replaces secrets in the trace.
const redacted = "[REDACTED]"

// tracer is a RoundTripper that prints every attempt (retries and
// redirects included, as they happen on the wire) to w. It sits below
// resty so it sees the headers actually sent.
type tracer struct {
	next   http.RoundTripper
	w      io.Writer
	secret []byte // the token, scrubbed from anything printed
	mu     sync.Mutex
}

func newTracer(next http.RoundTripper, w io.Writer, token string) *tracer {
	t := &tracer{next: next, w: w}
	// Scrub the token wherever it appears (a server echoing headers in a
	// body, say), unless it is so short that scrubbing would mangle text.
	if len(token) >= 6 {
		t.secret = []byte(token)
	}
	return t
}

// RoundTrip implements http.RoundTripper.
func (t *tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	req, reqBody, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "> %s %s\n", req.Method, req.URL)
	writeHeaders(&buf, "> ", req.Header)
	writeBody(&buf, reqBody)
	t.emit(&buf)

	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(&buf, "< error after %dms: %v\n\n", time.Since(start).Milliseconds(), err)
		t.emit(&buf)
		return nil, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rest io.Reader = bytes.NewReader(body)
	if rerr != nil {
		rest = io.MultiReader(rest, errReader{rerr})
	}
	resp.Body = io.NopCloser(rest)
	fmt.Fprintf(&buf, "< %s in %dms\n", statusLine(resp), time.Since(start).Milliseconds())
	writeHeaders(&buf, "< ", resp.Header)
	writeBody(&buf, body)
	if rerr != nil {
		fmt.Fprintf(&buf, "< (body cut off: %v)\n", rerr)
	}
	t.emit(&buf)
	return resp, nil
}

// emit writes one block at once, so concurrent requests do not interleave
// within a block, and resets buf.
func (t *tracer) emit(buf *bytes.Buffer) {
	out := buf.Bytes()
	if len(t.secret) > 0 {
		out = bytes.ReplaceAll(out, t.secret, []byte(redacted))
	}
	t.mu.Lock()
	_, _ = t.w.Write(out)
	t.mu.Unlock()
	buf.Reset()
}

func statusLine(resp *http.Response) string {
	if resp.Status != "" {
		return resp.Status
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// sensitiveHeaders never reach the trace in clear.
var sensitiveHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

func writeHeaders(buf *bytes.Buffer, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if sensitiveHeaders[http.CanonicalHeaderKey(k)] {
				v = redactValue(v)
			}
			fmt.Fprintf(buf, "%s%s: %s\n", prefix, k, v)
		}
	}
}

// redactValue keeps an authorization scheme ("Bearer") visible, since a
// wrong scheme is a common mistake, and hides the credentials.
func redactValue(v string) string {
	if scheme, _, ok := strings.Cut(v, " "); ok && !strings.ContainsAny(scheme, "=;") {
		return scheme + " " + redacted
	}
	return redacted
}

func writeBody(buf *bytes.Buffer, body []byte) {
	buf.WriteByte('\n')
	if len(bytes.TrimSpace(body)) == 0 {
		return
	}
	text := body
	var pretty bytes.Buffer
	if json.Valid(body) && json.Indent(&pretty, body, "", "  ") == nil {
		text = pretty.Bytes()
	}
	more := 0
	if len(text) > traceBodyLimit {
		more = len(text) - traceBodyLimit
		text = text[:traceBodyLimit]
	}
	buf.WriteString(strings.ToValidUTF8(strings.TrimRight(string(text), " \t\r\n"), "?"))
	if more > 0 {
		fmt.Fprintf(buf, "\n… (%d more bytes)", more)
	}
	buf.WriteString("\n\n")
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

var _ http.RoundTripper = (*tracer)(nil)

// readRequestBody returns the request's body for a recorder (the HAR
// recorder, --trace) without consuming it: through GetBody when the
// request can give it again, else read once and put back on a clone.
func readRequestBody(req *http.Request) (*http.Request, []byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil, nil
	}
	if req.GetBody != nil {
		var body []byte
		if rc, err := req.GetBody(); err == nil {
			body, _ = io.ReadAll(rc)
			rc.Close()
		}
		return req, body, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(b))
	return req, b, nil
}
