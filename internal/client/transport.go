package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// HandlerTransport returns the in-process transport: a RoundTripper that
// calls h.ServeHTTP directly, with no socket, so the embedded engine goes
// through the same routing, auth, limits and request logging as
// `miscim serve` (DESIGN §2).
//
// The handler sees a server-side request (RequestURI, Host, RemoteAddr
// 127.0.0.1:0, a fully buffered body) and its response is buffered, then
// returned as an *http.Response. If the request context ends first,
// RoundTrip returns its error at once; the handler sees the same context.
func HandlerTransport(h http.Handler) http.RoundTripper {
	return handlerTransport{h: h}
}

type handlerTransport struct{ h http.Handler }

var _ http.RoundTripper = handlerTransport{}

// inProcessAddr is the RemoteAddr of in-process requests: a parseable
// loopback address, so request logs and address checks behave as for a
// local socket.
const inProcessAddr = "127.0.0.1:0"

// RoundTrip implements http.RoundTripper.
func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil {
		// Buffered so the handler owns an independent body: RoundTrip must
		// close req.Body, and the handler may outlive a cancelled call.
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	sreq := req.Clone(ctx)
	sreq.RequestURI = req.URL.RequestURI()
	if u, err := url.ParseRequestURI(sreq.RequestURI); err == nil {
		sreq.URL = u // as a server sees it: path and query, no scheme or host
	}
	if sreq.Host == "" {
		sreq.Host = req.URL.Host
	}
	sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	sreq.RemoteAddr = inProcessAddr
	sreq.GetBody = nil
	sreq.ContentLength = int64(len(body))
	if len(body) == 0 {
		sreq.Body = http.NoBody
	} else {
		sreq.Body = io.NopCloser(bytes.NewReader(body))
		sreq.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}

	rec := &recorder{header: http.Header{}}
	done := make(chan struct{})
	var panicked any
	go func() {
		defer func() {
			// net/http would recover and drop the connection; do the
			// equivalent instead of crashing the whole CLI.
			panicked = recover()
			close(done)
		}()
		t.h.ServeHTTP(rec, sreq)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if panicked != nil {
		if panicked == http.ErrAbortHandler {
			return nil, errors.New("in-process handler aborted the response")
		}
		return nil, fmt.Errorf("in-process handler panicked: %v", panicked)
	}
	return rec.response(req), nil
}

// recorder is a minimal http.ResponseWriter that buffers the response. Like
// net/http it snapshots the headers at WriteHeader, defaults the status to
// 200, and sniffs a missing Content-Type.
type recorder struct {
	header http.Header
	sent   http.Header
	status int
	body   bytes.Buffer
}

var (
	_ http.ResponseWriter = (*recorder)(nil)
	_ http.Flusher        = (*recorder)(nil)
)

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.status != 0 || code < 200 {
		return // a repeated call, or an informational 1xx
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	return w.body.Write(b)
}

// Flush implements http.Flusher; the response is delivered whole anyway.
func (w *recorder) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
}

func (w *recorder) response(req *http.Request) *http.Response {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	h := w.sent
	body := w.body.Bytes()
	if req.Method == http.MethodHead {
		body = nil
	}
	if _, ok := h["Content-Type"]; !ok && len(body) > 0 {
		h.Set("Content-Type", http.DetectContentType(body))
	}
	if bodyAllowed(w.status) && h.Get("Content-Length") == "" && req.Method != http.MethodHead {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	text := http.StatusText(w.status)
	if text == "" {
		text = "status code " + strconv.Itoa(w.status)
	}
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + text,
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
