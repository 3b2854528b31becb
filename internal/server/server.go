// Package server owns miscim's HTTP surface: the http.Handler that serves
// the engine as SCIM 2.0 under /scim/v2, the admin API for system variables
// under /api, /healthz and /metrics. It routes (case-insensitively, as
// Microsoft's tests require), authenticates bearer tokens, enforces limits,
// maps engine errors to SCIM error bodies, writes the access log, the
// Prometheus metrics and the SCIM request log (DESIGN §3.4–§3.7).
//
// The handler holds no business logic: every semantic decision is the
// engine's. The same handler serves `miscim serve` over the network and the
// in-process target (wrapped in LocalAdmin), so both behave identically.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/reqlog"
)

// DefaultMaxBodyBytes is the request body limit when Options leaves it 0
// (DESIGN §3.5).
const DefaultMaxBodyBytes = 1 << 20

// DefaultMaxDrainBytes is how much of an oversized body, beyond the limit,
// the server reads and throws away when Options leaves it 0: enough that a
// client which writes a whole 20 MiB body before reading the answer still
// reads its 413, small enough that no client can keep the server reading.
const DefaultMaxDrainBytes = 64 << 20

// Options configure a Server.
type Options struct {
	// AdminToken is a static bearer token accepted as the built-in
	// administrator (serve --admin-token-file); "" accepts none.
	AdminToken string
	// LogDir is the request-log directory; "" disables request logging
	// even when ENABLE_SCIM_REQUEST_LOGGER is Y.
	LogDir string
	// Logger receives the access log and errors; nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies (413 beyond); 0 means 1 MiB.
	MaxBodyBytes int64
	// MaxDrainBytes is how many bytes of an oversized body beyond
	// MaxBodyBytes are read and discarded after the 413 before the
	// connection is closed; 0 means DefaultMaxDrainBytes.
	MaxDrainBytes int64
	// Version is reported by /healthz.
	Version string
	// Replica names this server among several on one database (serve
	// --replica): it is in the request log's segment names and /healthz.
	Replica string
}

// Server is the HTTP handler.
type Server struct {
	e       *engine.Engine
	opts    Options
	log     *slog.Logger
	metrics *metrics
	rlog    *reqlog.Writer // nil: request logging impossible (no LogDir)
	seq     atomic.Uint64  // sequence of logged requests

	adminHash [sha256.Size]byte
	hasAdmin  bool

	// testHook, when set, runs inside the recovered region before
	// routing; tests use it to inject panics.
	testHook func(*http.Request)

	logErrMu   sync.Mutex
	logErrLast string
	logErrAt   time.Time
}

// New returns a Server for e.
func New(e *engine.Engine, opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxDrainBytes <= 0 {
		opts.MaxDrainBytes = DefaultMaxDrainBytes
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := &Server{e: e, opts: opts, log: opts.Logger, metrics: newMetrics()}
	s.metrics.registerStoreMetrics(e.Store())
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.AdminToken != "" {
		// Compare digests: constant time and independent of the token's
		// length.
		s.adminHash, s.hasAdmin = sha256.Sum256([]byte(opts.AdminToken)), true
	}
	if opts.LogDir != "" {
		w, err := reqlog.NewWriter(opts.LogDir, reqlog.WithErrorHandler(s.requestLogError), reqlog.WithReplica(opts.Replica))
		if err != nil {
			s.log.Error("request log disabled", "dir", opts.LogDir, "error", err)
		} else {
			s.rlog = w
		}
	}
	return s
}

// Close flushes and closes the request log. The engine is the caller's to
// close.
func (s *Server) Close() error {
	if s.rlog == nil {
		return nil
	}
	return s.rlog.Close()
}

// requestLogError logs request-log write failures, once per distinct
// error and at most once a minute for a repeating one, so that a full disk
// does not flood the access log.
func (s *Server) requestLogError(err error) {
	s.logErrMu.Lock()
	now := time.Now()
	msg := err.Error()
	quiet := msg == s.logErrLast && now.Sub(s.logErrAt) < time.Minute
	if !quiet {
		s.logErrLast, s.logErrAt = msg, now
	}
	s.logErrMu.Unlock()
	if !quiet {
		s.log.Error("request log write failed", "error", err)
	}
}

// localAdminKey marks a request as coming from the in-process transport.
// It is a context value, which no network client can set.
type localAdminKey struct{}

// LocalAdmin wraps h so that every request runs as engine.LocalAdmin
// without a token. Only the in-process transport uses it (DESIGN §2:
// in-process calls run as the built-in local administrator).
func LocalAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), localAdminKey{}, engine.LocalAdmin)))
	})
}

// call is one request in flight.
type call struct {
	s     *Server
	w     *recorder
	r     *http.Request
	id    string
	who   engine.Principal
	api   bool   // admin API: errors are application/json
	body  []byte // request body as read, for the request log
	gone  bool   // the client went away; nothing was written
	start time.Time
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r.Header.Get("X-Request-Id"))
	w.Header().Set("X-Request-Id", id)
	res, method := resourceLabel(r.URL.Path), methodLabel(r.Method)
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()

	rec := &recorder{ResponseWriter: w}
	c := &call{s: s, w: rec, r: r, id: id, start: start}
	logging := s.requestLogOn(r)
	if logging {
		rec.capture, rec.limit = true, s.opts.MaxBodyBytes
	}
	s.serve(c)

	dur := time.Since(start)
	status := rec.status
	if !rec.wrote {
		status = http.StatusOK // what net/http sends for a handler that wrote nothing
		if c.gone {
			status = 499 // client closed the request (nginx's convention)
		}
	}
	s.metrics.observe(method, res, status, dur)
	if s.log.Enabled(r.Context(), slog.LevelInfo) { // spare building the record
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.RequestURI()),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(dur.Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
			slog.String("request_id", id),
			slog.String("remote", r.RemoteAddr),
			slog.String("user", c.who.UserName),
		)
	}
	if logging {
		s.writeRequestLog(c, status, dur)
	}
}

// serve routes the request, turning a panic into a 500 SCIM error that
// names the request id; the stack goes to the log, never to the client.
func (s *Server) serve(c *call) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v) // net/http's own signal to abort the response
		}
		s.log.Error("panic serving request", "request_id", c.id, "method", c.r.Method,
			"path", c.r.URL.Path, "panic", v, "stack", string(debug.Stack()))
		if !c.w.wrote {
			c.writeError(http.StatusInternalServerError, "", "internal error; request id "+c.id)
		}
	}()
	if s.testHook != nil {
		s.testHook(c.r)
	}
	s.route(c)
}

// requestLogOn reads ENABLE_SCIM_REQUEST_LOGGER through the engine's cache
// on every SCIM request, so that `vars set` applies within one second
// without a restart (DESIGN §3.6, §3.7).
func (s *Server) requestLogOn(r *http.Request) bool {
	if s.rlog == nil {
		return false
	}
	if _, ok := cutPrefixFold(r.URL.Path, scimPrefix); !ok {
		return false
	}
	v, err := s.e.CachedVar(r.Context(), engine.VarRequestLogger)
	if err != nil {
		s.log.Warn("cannot read "+engine.VarRequestLogger+"; request not logged", "error", err)
		return false
	}
	return v == "Y"
}

func (s *Server) writeRequestLog(c *call, status int, dur time.Duration) {
	respHeader := c.w.header
	if respHeader == nil {
		respHeader = c.w.Header()
	}
	remote := c.r.RemoteAddr
	if remote == "" {
		if _, local := c.r.Context().Value(localAdminKey{}).(engine.Principal); local {
			remote = "in-process"
		}
	}
	s.rlog.Write(reqlog.Record{
		Format:          reqlog.FormatVersion,
		Time:            c.start.UTC().Format(time.RFC3339Nano),
		Seq:             s.seq.Add(1),
		RequestID:       c.id,
		RemoteAddr:      remote,
		Method:          c.r.Method,
		Path:            c.r.URL.RequestURI(),
		RequestHeaders:  reqlog.Redact(c.r.Header),
		RequestBody:     reqlog.Body(c.body),
		Status:          status,
		ResponseHeaders: reqlog.Redact(respHeader),
		ResponseBody:    reqlog.Body(c.w.body.Bytes()),
		DurationMs:      float64(dur.Nanoseconds()) / 1e6,
	})
}

// requestID keeps a client's X-Request-Id when it is a short safe token
// (so that it can be correlated with the client's own logs without letting
// arbitrary text into ours), else makes a new random one.
func requestID(h string) string {
	if n := len(h); n > 0 && n <= 64 {
		safe := true
		for i := 0; i < n && safe; i++ {
			c := h[i]
			safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		}
		if safe {
			return h
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// recorder wraps the ResponseWriter to learn the status and size for the
// access log and metrics and, while request logging is on, to keep a copy
// of the response (up to the body limit) for the request log.
type recorder struct {
	http.ResponseWriter
	status  int
	wrote   bool
	bytes   int64
	capture bool
	limit   int64
	body    bytes.Buffer
	header  http.Header // response headers as sent, when capturing
}

func (r *recorder) WriteHeader(code int) {
	if r.wrote {
		return
	}
	r.wrote, r.status = true, code
	if r.capture {
		r.header = r.ResponseWriter.Header().Clone()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	if r.capture {
		if room := r.limit - int64(r.body.Len()); room > 0 {
			r.body.Write(b[:min(int64(n), room)])
		}
	}
	return n, err
}

// Flush lets streaming handlers (promhttp) flush through the wrapper.
func (r *recorder) Flush() {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
