package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
)

// Media types. Entra sends application/scim+json; servers that only know
// application/json are accepted as well (RFC 7644 §3.1, §8.1).
const (
	scimJSON     = "application/scim+json"
	acceptHeader = "application/scim+json, application/json"
)

// Defaults, exported so that flags can show them.
const (
	// DefaultTimeout is Entra's own per-request limit.
	DefaultTimeout = 60 * time.Second
	// DefaultRetries is how many times a safe request is retried.
	DefaultRetries = 2
	// DefaultUserAgent is sent when Options.UserAgent is empty.
	DefaultUserAgent = "miscim"
)

const (
	firstBackoff  = 200 * time.Millisecond
	maxRetryAfter = 30 * time.Second
)

// Options configure a Client.
type Options struct {
	// BaseURL is the SCIM base, e.g. https://mi.example.com/scim/v2. A query
	// string (Entra's ?aadOptscim062020 flag is appended to its Tenant URL)
	// is noticed and stripped, as is a trailing slash.
	BaseURL string
	// Token is sent as "Authorization: Bearer <Token>" when not empty.
	Token string
	// Timeout bounds each attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Insecure skips TLS certificate verification (network mode only).
	Insecure bool
	// CAFile is a PEM file of CA certificates trusted in addition to the
	// system pool (network mode only).
	CAFile string
	// Trace, when set, receives every request and response (-v), with the
	// Authorization header redacted.
	Trace io.Writer
	// Transport replaces the network transport, e.g. with HandlerTransport
	// for the in-process engine. Insecure and CAFile are then ignored.
	Transport http.RoundTripper
	// Retries is how many times a safe request is retried: 0 means
	// DefaultRetries, a negative value disables retries.
	Retries int
	// UserAgent is the User-Agent header; "" means DefaultUserAgent.
	UserAgent string
	// HAR, when set, records every exchange (each attempt) as a HAR 1.2
	// entry, credentials redacted; the caller closes it.
	HAR *HARWriter

	// retryWait replaces the first backoff step (tests keep it short).
	retryWait time.Duration
}

// Client talks SCIM (and miscim's admin API) to one target. It is safe for
// concurrent use.
type Client struct {
	rc        *resty.Client
	base      string // SCIM base URL without query or trailing slash
	adminBase string // admin API base, e.g. http://h:p/api
	token     string
	timeout   time.Duration
	flag      bool

	pagingMu sync.Mutex
	paging   *Paging // read once (Paging)
}

// New validates opts and builds a client. It does not contact the target.
func New(opts Options) (*Client, error) {
	base, flag, err := parseBase(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	retries := opts.Retries
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	wait := opts.retryWait
	if wait <= 0 {
		wait = firstBackoff
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}

	rt := opts.Transport
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		conf, err := tlsConfig(opts)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = conf
		rt = tr
	}
	if opts.HAR != nil {
		rt = newHARRecorder(rt, opts.HAR, opts.Token)
	}
	if opts.Trace != nil {
		rt = newTracer(rt, opts.Trace, opts.Token)
	}
	hc := &http.Client{
		Transport:     rt,
		Timeout:       timeout,
		CheckRedirect: checkRedirect,
		// No cookie jar: SCIM is stateless, and a session cookie from a
		// login page must not stand in for the token.
	}

	rc := resty.NewWithClient(hc).
		SetLogger(quietLogger{}).
		SetDisableWarn(true).
		SetHeader("Accept", acceptHeader).
		SetHeader("User-Agent", ua).
		SetRetryCount(retries).
		SetRetryWaitTime(wait).
		SetRetryMaxWaitTime(maxRetryAfter).
		SetRetryAfter(retryAfter).
		AddRetryCondition(retryable)

	return &Client{
		rc:        rc,
		base:      base,
		adminBase: adminBaseOf(base),
		token:     opts.Token,
		timeout:   timeout,
		flag:      flag,
	}, nil
}

// BaseURL returns the SCIM base URL as used: no query, no trailing slash.
func (c *Client) BaseURL() string { return c.base }

// FlagNoticed reports whether the base URL carried Entra's aadOptscim062020
// flag (entra-behavior §2.5); it was stripped from the requests.
func (c *Client) FlagNoticed() bool { return c.flag }

// parseBase validates a SCIM base URL and normalizes it.
func parseBase(raw string) (string, bool, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false, errors.New("no SCIM base URL: give one such as https://mi.example.com/scim/v2")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, fmt.Errorf("invalid SCIM base URL %q: %v", raw, err)
	}
	if err := checkHTTPURL(raw, u); err != nil {
		return "", false, err
	}
	if u.User != nil {
		return "", false, fmt.Errorf("SCIM base URL %q holds credentials: remove them and pass the token with --token or --token-file", u.Redacted())
	}
	flag := false
	for k := range u.Query() {
		if strings.EqualFold(k, "aadOptscim062020") {
			flag = true
		}
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), flag, nil
}

func checkHTTPURL(raw string, u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return fmt.Errorf("URL %q has no scheme: use https://%s", raw, strings.TrimPrefix(raw, "//"))
	default:
		return fmt.Errorf("URL %q: scheme %q is not supported, use http or https", raw, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", raw)
	}
	return nil
}

// adminBaseOf derives the admin API base: a trailing /scim/v2 becomes /api
// (http://h:p/scim/v2 → http://h:p/api); any other base uses /api at the
// root of its host, where miscim serve and Metric Insights put it.
func adminBaseOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base + "/api"
	}
	p := u.Path
	if strings.HasSuffix(strings.ToLower(p), "/scim/v2") {
		p = p[:len(p)-len("/scim/v2")] + "/api"
	} else {
		p = "/api"
	}
	u.Path, u.RawPath = p, ""
	return u.String()
}

// tlsConfig builds the TLS settings of network mode.
func tlsConfig(opts Options) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.Insecure {
		conf.InsecureSkipVerify = true //nolint:gosec // the user asked for it with --insecure
	}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)", opts.CAFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// checkRedirect follows redirects for reads only. Go turns a redirected
// POST into a GET, which would make a create look like a successful list;
// the 3xx is returned instead and reported with its Location.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
		return http.ErrUseLastResponse
	}
	return nil
}

// retryable decides whether an attempt is retried. Only what is safe to
// repeat is: idempotent methods on transport errors and 429/502/503/504;
// POST and PATCH only on 429 and 503, where the server says it did not
// process the request (a POST retried after a lost response would create a
// duplicate). resty lets the last condition decide alone, so transport
// errors are handled here too (style-anchors §5.4).
func retryable(r *resty.Response, err error) bool {
	if r == nil || r.Request == nil {
		return false // failed before sending (bad URL…): nothing to retry
	}
	if r.Request.Context().Err() != nil {
		return false
	}
	idempotent := false
	switch r.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		idempotent = true
	}
	if err != nil {
		// No middleware of ours turns statuses into errors, so err is a
		// transport failure (or a body cut off mid-read). An untrusted
		// certificate or an unknown host name will not change in a second:
		// fail at once.
		return idempotent && !permanent(err)
	}
	switch r.StatusCode() {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent
	}
	return false
}

// permanent reports transport failures that a retry cannot fix.
func permanent(err error) bool {
	var cv *tls.CertificateVerificationError
	var dns *net.DNSError
	var rh tls.RecordHeaderError
	return errors.As(err, &cv) || errors.As(err, &rh) || (errors.As(err, &dns) && dns.IsNotFound)
}

// retryAfter honours Retry-After in seconds or as an HTTP date (RFC 9110
// §10.2.3). resty caps it at the maximum wait (30 s) and falls back to its
// jittered exponential backoff when this returns 0.
func retryAfter(_ *resty.Client, r *resty.Response) (time.Duration, error) {
	if r == nil || r.RawResponse == nil {
		return 0, nil
	}
	return parseRetryAfter(r.Header().Get("Retry-After"), time.Now()), nil
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// quietLogger keeps resty silent: its warnings would pollute the CLI's
// stderr; what the user may see goes through Options.Trace.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

var _ resty.Logger = quietLogger{}

// exchange is one request as the client sends it.
type exchange struct {
	method string
	url    string // absolute
	label  string // URL named when the host cannot be reached
	header http.Header
	body   []byte
}

// send performs an exchange with retries. It returns an error only when no
// HTTP response arrived; statuses are the caller's to judge.
func (c *Client) send(ctx context.Context, x exchange) (*resty.Response, error) {
	u, err := url.Parse(x.url)
	if err != nil {
		return nil, fmt.Errorf("invalid request URL %q: %v", x.url, err)
	}
	if err := checkHTTPURL(x.url, u); err != nil {
		return nil, err
	}
	req := c.rc.R().SetContext(ctx)
	auth := true
	for k, vs := range x.header {
		if http.CanonicalHeaderKey(k) == "Authorization" {
			auth = false
			// An explicitly empty Authorization means "send none".
			if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
				continue
			}
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if auth && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if len(x.body) > 0 {
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", scimJSON)
		}
		req.SetBody(x.body)
	}
	resp, err := req.Execute(x.method, x.url)
	if err != nil {
		attempts := 1
		if resp != nil && resp.Request != nil {
			attempts = resp.Request.Attempt
		}
		return nil, transportError(ctx, x.method, x.url, x.label, attempts, c.timeout, err)
	}
	return resp, nil
}

// call sends an exchange and turns statuses ≥ 400 into errors (and 3xx:
// only redirects Go did not follow reach here).
func (c *Client) call(ctx context.Context, x exchange) (*resty.Response, error) {
	resp, err := c.send(ctx, x)
	if err != nil {
		return nil, err
	}
	s := resp.StatusCode()
	switch {
	case s >= 400:
		return resp, statusError(x.method, x.url, resp.Request.Attempt, s, resp.Header(), resp.Body())
	case s >= 300:
		return resp, fmt.Errorf("%s %s: the server redirects (%d) to %q: use the final URL as the base URL", x.method, x.url, s, resp.Header().Get("Location"))
	}
	return resp, nil
}

// encodeBody marshals a request body; []byte, json.RawMessage and string
// are sent as they are.
func encodeBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case []byte:
		return b, nil
	case json.RawMessage:
		return b, nil
	case string:
		return []byte(b), nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode request body: %w", err)
	}
	return b, nil
}
