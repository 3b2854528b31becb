package client

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// HARWriter records every HTTP exchange of the clients it is given to
// (Options.HAR) as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/):
// `simulate --har FILE`, which `miscim replay` reads back
// (internal/reqlog/har.go).
//
// Each attempt is one entry, as on the wire: a retried request appears
// once per attempt, a request that got no answer with status 0 and the
// error in response._error. Credentials never reach the file: the
// Authorization, Proxy-Authorization, Cookie and Set-Cookie headers keep
// their scheme only ("Bearer [REDACTED]"), and the client's token is
// replaced wherever else it appears (a body that echoes a header).
//
// The archive is streamed: the header is written by CreateHAR, each entry
// with one Write as its exchange completes, and the closing brackets by
// Close, so memory stays flat over a 100,000-user cycle and a run killed
// half-way leaves every completed entry readable (replay reads the entries
// of a cut archive up to the cut, and reports the cut). Entries are in the
// order exchanges completed; each carries its start time to the
// microsecond, which is what replay orders by. Safe for concurrent use.
type HARWriter struct {
	mu     sync.Mutex
	w      io.Writer
	file   *os.File
	n      int
	err    error
	closed bool
}

// harVersion is the HAR version written.
const harVersion = "1.2"

// CreateHAR creates (or truncates) the file at path and writes the
// archive's header; creatorVersion is miscim's version, for
// log.creator.
func CreateHAR(path, creatorVersion string) (*HARWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create the HAR file: %w", err)
	}
	h, err := NewHARWriter(f, creatorVersion)
	if err != nil {
		f.Close()
		return nil, err
	}
	h.file = f
	return h, nil
}

// NewHARWriter writes an archive to w, which stays the caller's.
func NewHARWriter(w io.Writer, creatorVersion string) (*HARWriter, error) {
	creator, _ := json.Marshal(map[string]string{"name": "miscim", "version": creatorVersion})
	h := &HARWriter{w: w}
	if _, err := fmt.Fprintf(w, `{"log":{"version":%q,"creator":%s,"entries":[`, harVersion, creator); err != nil {
		return nil, fmt.Errorf("write the HAR file: %w", err)
	}
	return h, nil
}

// Entries is how many entries have been written.
func (h *HARWriter) Entries() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Err is the first write failure, if any: recording stops there, the
// requests go on (a HAR that cannot be written does not stop a run; Close
// reports it).
func (h *HARWriter) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// Close ends the archive and, for CreateHAR's file, syncs and closes it.
// Exchanges completed after Close are not recorded.
func (h *HARWriter) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return h.err
	}
	h.closed = true
	if h.err == nil {
		if _, err := io.WriteString(h.w, "\n]}}\n"); err != nil {
			h.err = fmt.Errorf("write the HAR file: %w", err)
		}
	}
	if h.file != nil {
		err := h.file.Sync()
		if cerr := h.file.Close(); err == nil {
			err = cerr
		}
		if err != nil && h.err == nil {
			h.err = fmt.Errorf("close the HAR file: %w", err)
		}
	}
	return h.err
}

func (h *HARWriter) write(entry []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.err != nil {
		return
	}
	sep := ",\n"
	if h.n == 0 {
		sep = "\n"
	}
	if _, err := h.w.Write(append([]byte(sep), entry...)); err != nil {
		h.err = fmt.Errorf("write the HAR file: %w", err)
		return
	}
	h.n++
}

// harRecorder is the RoundTripper that records into a HARWriter. It sits
// directly above the transport (the network's, or the in-process one), so
// it sees what is sent and received, each attempt on its own.
type harRecorder struct {
	next   http.RoundTripper
	h      *HARWriter
	secret []byte
}

func newHARRecorder(next http.RoundTripper, h *HARWriter, token string) *harRecorder {
	r := &harRecorder{next: next, h: h}
	if len(token) >= 6 { // as the trace: shorter would mangle ordinary text
		r.secret = []byte(token)
	}
	return r
}

// timing marks the moments of one exchange (httptrace; the in-process
// transport has no connection, so only start, first byte and end are
// known there).
type timing struct {
	mu                        sync.Mutex
	start                     time.Time
	dnsStart, dnsDone         time.Time
	connectStart, connectDone time.Time
	tlsStart, tlsDone         time.Time
	gotConn, wrote, firstByte time.Time
	reused                    bool
}

func (t *timing) mark(p *time.Time) func() {
	return func() {
		t.mu.Lock()
		if p.IsZero() {
			*p = time.Now()
		}
		t.mu.Unlock()
	}
}

// RoundTrip implements http.RoundTripper.
func (r *harRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	req, reqBody, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	tm := &timing{start: time.Now()}
	trace := &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { tm.mark(&tm.dnsStart)() },
		DNSDone:           func(httptrace.DNSDoneInfo) { tm.mark(&tm.dnsDone)() },
		ConnectStart:      func(string, string) { tm.mark(&tm.connectStart)() },
		ConnectDone:       func(string, string, error) { tm.mark(&tm.connectDone)() },
		TLSHandshakeStart: tm.mark(&tm.tlsStart),
		TLSHandshakeDone:  func(tls.ConnectionState, error) { tm.mark(&tm.tlsDone)() },
		GotConn: func(i httptrace.GotConnInfo) {
			tm.mark(&tm.gotConn)()
			tm.mu.Lock()
			tm.reused = i.Reused
			tm.mu.Unlock()
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { tm.mark(&tm.wrote)() },
		GotFirstResponseByte: tm.mark(&tm.firstByte),
	}
	sent := req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := r.next.RoundTrip(sent)
	if err != nil {
		r.record(req, reqBody, nil, nil, tm, time.Now(), err)
		return nil, err
	}
	body, rerr := io.ReadAll(resp.Body)
	end := time.Now()
	resp.Body.Close()
	var rest io.Reader = bytes.NewReader(body)
	if rerr != nil {
		rest = io.MultiReader(rest, errReader{rerr})
	}
	resp.Body = io.NopCloser(rest)
	r.record(req, reqBody, resp, body, tm, end, rerr)
	return resp, nil
}

// HAR 1.2's objects, as written. Optional members that miscim never has
// (pages, comments, cookies' details) are left out; required ones are
// always there, empty when there is nothing to say.
type (
	harEntry struct {
		StartedDateTime string      `json:"startedDateTime"`
		Time            float64     `json:"time"`
		Request         harRequest  `json:"request"`
		Response        harResponse `json:"response"`
		Cache           struct{}    `json:"cache"`
		Timings         harTimings  `json:"timings"`
	}
	harPair struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harRequest struct {
		Method      string       `json:"method"`
		URL         string       `json:"url"`
		HTTPVersion string       `json:"httpVersion"`
		Cookies     []harPair    `json:"cookies"`
		Headers     []harPair    `json:"headers"`
		QueryString []harPair    `json:"queryString"`
		PostData    *harPostData `json:"postData,omitempty"`
		HeadersSize int          `json:"headersSize"`
		BodySize    int          `json:"bodySize"`
	}
	harPostData struct {
		MimeType string    `json:"mimeType"`
		Params   []harPair `json:"params"`
		Text     string    `json:"text"`
		// Encoding is not HAR 1.2's for postData, but replay reads it:
		// a body that is not UTF-8 is written in base64.
		Encoding string `json:"encoding,omitempty"`
	}
	harResponse struct {
		Status      int        `json:"status"`
		StatusText  string     `json:"statusText"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []harPair  `json:"cookies"`
		Headers     []harPair  `json:"headers"`
		Content     harContent `json:"content"`
		RedirectURL string     `json:"redirectURL"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int        `json:"bodySize"`
		// Error is why no (whole) response arrived, as browsers write it.
		Error string `json:"_error,omitempty"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
		Text     string `json:"text,omitempty"`
		Encoding string `json:"encoding,omitempty"`
	}
	// harTimings are milliseconds; -1 where a phase did not happen (a
	// reused connection has no DNS, connect or TLS; the in-process
	// transport has no connection at all).
	harTimings struct {
		Blocked float64 `json:"blocked"`
		DNS     float64 `json:"dns"`
		Connect float64 `json:"connect"`
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
		SSL     float64 `json:"ssl"`
	}
)

// harTime is startedDateTime: UTC, to the microsecond, so that the
// exchanges of a fast in-process run still sort in the order they began.
const harTime = "2006-01-02T15:04:05.000000Z07:00"

func (r *harRecorder) record(req *http.Request, reqBody []byte, resp *http.Response, body []byte, tm *timing, end time.Time, failure error) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	e := harEntry{StartedDateTime: tm.start.UTC().Format(harTime)}
	u := *req.URL
	e.Request = harRequest{
		Method:      req.Method,
		URL:         r.scrub(u.String()),
		HTTPVersion: "HTTP/1.1",
		Cookies:     []harPair{},
		Headers:     r.headers(req.Header, hostOf(req)),
		QueryString: queryOf(&u, r),
		HeadersSize: -1,
		BodySize:    len(reqBody),
	}
	if len(reqBody) > 0 {
		text, enc := r.text(reqBody)
		e.Request.PostData = &harPostData{MimeType: req.Header.Get("Content-Type"), Params: []harPair{}, Text: text, Encoding: enc}
	}
	e.Response = harResponse{Cookies: []harPair{}, Headers: []harPair{}, HeadersSize: -1, BodySize: -1}
	if resp != nil {
		e.Response.Status = resp.StatusCode
		e.Response.StatusText = statusText(resp)
		e.Response.HTTPVersion = resp.Proto
		if e.Response.HTTPVersion == "" {
			e.Response.HTTPVersion = "HTTP/1.1"
		}
		e.Response.Headers = r.headers(resp.Header, "")
		e.Response.RedirectURL = r.scrub(resp.Header.Get("Location"))
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			e.Response.RedirectURL = ""
		}
		e.Response.BodySize = len(body)
		e.Response.Content = harContent{Size: len(body), MimeType: resp.Header.Get("Content-Type")}
		if len(body) > 0 {
			e.Response.Content.Text, e.Response.Content.Encoding = r.text(body)
		}
	}
	if failure != nil {
		e.Response.Error = r.scrub(failure.Error())
	}
	e.Timings, e.Time = harTimingsOf(tm, end)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&e); err != nil {
		r.h.mu.Lock()
		if r.h.err == nil {
			r.h.err = fmt.Errorf("encode a HAR entry: %w", err)
		}
		r.h.mu.Unlock()
		return
	}
	r.h.write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// harTimingsOf turns the marks into HAR's phases, and their sum, the
// entry's time.
func harTimingsOf(tm *timing, end time.Time) (harTimings, float64) {
	t := harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1}
	span := func(a, b time.Time) float64 {
		if a.IsZero() || b.IsZero() || b.Before(a) {
			return -1
		}
		return ms(b.Sub(a))
	}
	if !tm.gotConn.IsZero() {
		t.Blocked = ms(tm.gotConn.Sub(tm.start))
		if !tm.reused {
			t.DNS = span(tm.dnsStart, tm.dnsDone)
			t.Connect = span(tm.connectStart, tm.connectDone)
			if tls := span(tm.tlsStart, tm.tlsDone); tls >= 0 {
				t.SSL = tls
				t.Connect = span(tm.connectStart, tm.tlsDone) // HAR: connect includes ssl
			}
			for _, p := range []float64{t.DNS, t.Connect} {
				if p > 0 {
					t.Blocked -= p
				}
			}
			t.Blocked = max(t.Blocked, 0)
		}
	}
	sentAt := tm.wrote
	if sentAt.IsZero() {
		sentAt = tm.gotConn
	}
	if sentAt.IsZero() {
		sentAt = tm.start
	} else if !tm.gotConn.IsZero() {
		t.Send = ms(sentAt.Sub(tm.gotConn))
	}
	first := tm.firstByte
	if first.IsZero() {
		first = end
	}
	t.Wait = max(ms(first.Sub(sentAt)), 0)
	t.Receive = max(ms(end.Sub(first)), 0)
	total := 0.0
	for _, p := range []float64{t.Blocked, t.DNS, t.Connect, t.Send, t.Wait, t.Receive} {
		if p > 0 {
			total += p
		}
	}
	return t, total
}

func statusText(resp *http.Response) string {
	if _, text, ok := strings.Cut(resp.Status, " "); ok {
		return text
	}
	return http.StatusText(resp.StatusCode)
}

func hostOf(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}

// headers lists h sorted by name, credentials redacted; host, when given,
// comes first as the Host header a request is sent with.
func (r *harRecorder) headers(h http.Header, host string) []harPair {
	out := []harPair{}
	if host != "" {
		out = append(out, harPair{"Host", host})
	}
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
			out = append(out, harPair{k, r.scrub(v)})
		}
	}
	return out
}

func queryOf(u *url.URL, r *harRecorder) []harPair {
	out := []harPair{}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range q[k] {
			out = append(out, harPair{k, r.scrub(v)})
		}
	}
	return out
}

// text is a body as HAR holds it: as text when it is UTF-8, else base64.
func (r *harRecorder) text(b []byte) (text, encoding string) {
	if len(r.secret) > 0 {
		b = bytes.ReplaceAll(b, r.secret, []byte(redacted))
	}
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

func (r *harRecorder) scrub(s string) string {
	if len(r.secret) == 0 {
		return s
	}
	return strings.ReplaceAll(s, string(r.secret), redacted)
}

var _ http.RoundTripper = (*harRecorder)(nil)
