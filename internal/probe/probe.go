// Package probe holds the checks of `miscim test-connection` (DESIGN §4):
// it examines a SCIM target the way Entra's Test Connection button does
// (entra-behavior §1), then goes further (URL, DNS, TCP, TLS,
// authentication, discovery, content type, latency). Checks are data: Run
// returns one Result per check and prints nothing; the CLI renders them.
//
// The one check that decides whether Entra's button passes is the Entra
// probe: GET /Users?filter=userName eq "<random GUID>" must answer 200 with
// an empty ListResponse (entra-behavior §1, SCIM-TUT). Everything else
// explains why it fails or what will fail later.
package probe

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/miscim/miscim/internal/client"
)

// Status is the outcome of one check.
type Status string

// Statuses, from good to bad; skip means the check did not run (and says
// why in the detail), never that it passed.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Check names, stable: they are the "name" of the JSON output and the
// testcase names of the JUnit report.
const (
	CheckURL                   = "url"
	CheckDNS                   = "dns"
	CheckTCP                   = "tcp"
	CheckTLS                   = "tls"
	CheckAuthNoToken           = "auth-no-token"
	CheckAuthToken             = "auth-token"
	CheckEntraProbe            = "entra-probe"
	CheckGroupProbe            = "group-probe"
	CheckServiceProviderConfig = "service-provider-config"
	CheckResourceTypes         = "resource-types"
	CheckSchemas               = "schemas"
	CheckContentType           = "content-type"
	CheckLatency               = "latency"
)

// Result is the outcome of one check.
type Result struct {
	Name   string
	Status Status
	// Detail says what was found, on one line.
	Detail string
	// Hint says what to do about a warning or failure; "" when nothing.
	Hint     string
	Duration time.Duration
	// Required checks decide the exit code: the run passes when no
	// required check failed. Optional checks report problems that do not
	// stop Entra's Test Connection or provisioning of users.
	Required bool
}

// DefaultCount is how many probes the latency check sends.
const DefaultCount = 5

// Latency thresholds: Entra abandons a request after 60 s (QA-60S, and the
// transport requirements of entra-behavior §1); above 5 s a full cycle of
// thousands of requests becomes slow.
const (
	LatencyFail = 60 * time.Second
	LatencyWarn = 5 * time.Second
)

// Config is what Run needs.
type Config struct {
	// Client talks to the target: over the network, or in-process to the
	// embedded engine (Embedded true).
	Client   *client.Client
	Embedded bool
	// HasToken reports that a token is configured for a remote target.
	HasToken bool
	// Timeout bounds the DNS, TCP and TLS checks (the client has its own,
	// normally the same --timeout); 0 means client.DefaultTimeout.
	Timeout time.Duration
	// Insecure and CAFile are the TLS settings the client uses (--insecure,
	// --ca-file); the TLS check judges the certificate with them.
	Insecure bool
	CAFile   string
	// Count is how many probes the latency check sends; 0 skips it.
	Count int
	// EntraOnly runs only what Entra's Test Connection sends: the Entra
	// probe and the group probe.
	EntraOnly bool

	// Now is the clock (durations, certificate expiry); nil means time.Now.
	Now func() time.Time
	// NewGUID returns the random value the probes look for; nil means a
	// random UUID, as Entra uses.
	NewGUID func() string
	// LookupHost resolves names; nil means net.DefaultResolver.
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// Dial opens TCP connections for the TCP and TLS checks; nil means a
	// net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// SystemRoots replaces the system certificate pool (tests); nil means
	// the system's.
	SystemRoots *x509.CertPool
	// Progress, when set, is called with each check's name before it runs
	// (the CLI's spinner on a terminal).
	Progress func(name string)
}

// Run runs the checks in the order of DESIGN §4 and returns their results.
// The only error is the context's (interrupted): a failing target is a
// failed check, not an error.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	r := newRunner(cfg)
	type check struct {
		name     string
		required bool
		fn       func(context.Context) Result
	}
	all := []check{
		{CheckURL, false, r.checkURL},
		{CheckDNS, true, r.checkDNS},
		{CheckTCP, true, r.checkTCP},
		{CheckTLS, true, r.checkTLS},
		{CheckAuthNoToken, true, r.checkAuthNoToken},
		{CheckAuthToken, true, r.checkAuthToken},
		{CheckEntraProbe, true, r.checkEntraProbe},
		{CheckGroupProbe, false, r.checkGroupProbe},
		{CheckServiceProviderConfig, false, r.checkServiceProviderConfig},
		{CheckResourceTypes, false, r.checkResourceTypes},
		{CheckSchemas, false, r.checkSchemas},
		{CheckContentType, false, r.checkContentType},
		{CheckLatency, true, r.checkLatency},
	}
	var out []Result
	for _, c := range all {
		if cfg.EntraOnly && c.name != CheckEntraProbe && c.name != CheckGroupProbe {
			continue
		}
		if cfg.Progress != nil {
			cfg.Progress(c.name)
		}
		start := r.now()
		res := c.fn(ctx)
		if err := ctx.Err(); err != nil {
			return out, err
		}
		res.Name, res.Required = c.name, c.required
		if res.Status != Skip && res.Duration == 0 {
			res.Duration = r.now().Sub(start)
		}
		if res.Status == Skip {
			res.Duration = 0
		}
		out = append(out, res)
	}
	return out, nil
}

// Passed reports whether no required check failed: warnings, skips and
// failures of optional checks do not fail a run.
func Passed(rs []Result) bool {
	return !slices.ContainsFunc(rs, func(r Result) bool { return r.Required && r.Status == Fail })
}

// Counts are the number of results per status.
type Counts struct{ Passed, Warnings, Failed, Skipped int }

// Count tallies results by status.
func Count(rs []Result) Counts {
	var c Counts
	for _, r := range rs {
		switch r.Status {
		case Pass:
			c.Passed++
		case Warn:
			c.Warnings++
		case Fail:
			c.Failed++
		case Skip:
			c.Skipped++
		}
	}
	return c
}

// String is the summary line: "7 passed, 1 warning, 1 failed", with the
// skipped count when there is one.
func (c Counts) String() string {
	parts := []string{fmt.Sprintf("%d passed", c.Passed)}
	if c.Warnings > 0 {
		parts = append(parts, plural(c.Warnings, "warning"))
	}
	if c.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", c.Failed))
	}
	if c.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", c.Skipped))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// FormatDuration renders a duration for humans: whole milliseconds below
// 10 s ("0ms", "12ms", "2345ms"), tenths of seconds above ("61.2s").
func FormatDuration(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// runner carries the state checks share: the parsed URL, whether the
// network path is usable, and Entra's probe, which is sent once and judged
// by two rows (auth-token and entra-probe), as Entra sends it once.
type runner struct {
	cfg     Config
	now     func() time.Time
	guid    func() string
	timeout time.Duration

	u      *url.URL // target base URL
	host   string   // host name or IP, no brackets
	port   string
	addrs  []string // resolved addresses
	dialTo string   // host:port the TCP check reached

	// blocked, when not "", is why the HTTP checks cannot run: a failed
	// DNS, TCP or TLS check the client would fail on as well.
	blocked string
	// noAnswer, when not "", names a transport failure of an earlier HTTP
	// check: the optional checks after it are skipped rather than each
	// waiting for its own timeout (and retries).
	noAnswer string
	// unauthorized, when not "", is why auth-token failed: the optional
	// checks after it are skipped rather than each reporting the same 401
	// or 403.
	unauthorized string

	probe *exchange // Entra's probe, once sent
}

// exchange is one request sent by a check and what came back.
type exchange struct {
	path     string
	resp     *client.RawResponse
	err      error
	duration time.Duration
}

func newRunner(cfg Config) *runner {
	r := &runner{cfg: cfg, now: cfg.Now, guid: cfg.NewGUID, timeout: cfg.Timeout}
	if r.now == nil {
		r.now = time.Now
	}
	if r.guid == nil {
		r.guid = uuid.NewString
	}
	if r.timeout <= 0 {
		r.timeout = client.DefaultTimeout
	}
	if cfg.Client != nil {
		if u, err := url.Parse(cfg.Client.BaseURL()); err == nil {
			r.u = u
			r.host = u.Hostname()
			r.port = u.Port()
			if r.port == "" {
				r.port = "80"
				if strings.EqualFold(u.Scheme, "https") {
					r.port = "443"
				}
			}
		}
	}
	return r
}

// skip builds a skipped result.
func skip(detail string) Result { return Result{Status: Skip, Detail: detail} }

// embeddedNoNetwork is the detail of the network rows in embedded mode:
// they are reported as skipped, never faked (DESIGN §4).
const embeddedNoNetwork = "embedded engine: no network"
