package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/scim"
)

// entraHint is the hint of a failed Entra probe: the exact rule of the
// button (entra-behavior §1; GALLERY 2.1.7, QUAR: "HTTP/404 returned rather
// than expected HTTP/200").
const entraHint = "Entra's Test Connection fails on this: it requires 200 with an empty ListResponse"

// userProbePath is Entra's Test Connection request: the default matching
// attribute userName compared with a random GUID (entra-behavior §1). The
// filter is form-encoded (+ for spaces, %22 for quotes) as Entra's logged
// requests show it (ISSUES #21660); an endpoint must read that encoding.
func userProbePath(guid string) string {
	return "/Users?" + url.Values{"filter": {`userName eq "` + guid + `"`}}.Encode()
}

// groupProbePath is the group half of Test Connection when group
// provisioning is on (entra-behavior §1, [inference]): members excluded, as
// Entra always asks for groups.
func groupProbePath(guid string) string {
	return "/Groups?excludedAttributes=members&" + url.Values{"filter": {`displayName eq "` + guid + `"`}}.Encode()
}

// send performs one GET through the client and measures it.
func (r *runner) send(ctx context.Context, path string, header http.Header) *exchange {
	start := r.now()
	resp, err := r.cfg.Client.Do(ctx, client.RawRequest{Method: http.MethodGet, Path: path, Header: header})
	x := &exchange{path: path, resp: resp, err: err, duration: r.now().Sub(start)}
	if err != nil && ctx.Err() == nil && r.noAnswer == "" {
		r.noAnswer = "no answer to " + strings.SplitN(path, "?", 2)[0]
	}
	return x
}

// entraProbe sends Entra's probe once; the auth-token and entra-probe rows
// both judge this one request, as Entra sends one.
func (r *runner) entraProbe(ctx context.Context) *exchange {
	if r.probe == nil {
		r.probe = r.send(ctx, userProbePath(r.guid()), nil)
	}
	return r.probe
}

// errDetail is a transport error without the base URL, which the report
// names once already.
func (r *runner) errDetail(err error) string {
	msg := err.Error()
	if r.cfg.Client != nil {
		msg = strings.ReplaceAll(msg, r.cfg.Client.BaseURL(), "")
	}
	return msg
}

// checkAuthNoToken sends Entra's probe without Authorization: an endpoint
// that answers it is open to anyone (DESIGN §3.5: 401 for a missing token).
// In-process calls run as the built-in administrator, so embedded mode
// cannot test this.
func (r *runner) checkAuthNoToken(ctx context.Context) Result {
	if r.cfg.Embedded {
		return skip("embedded engine: in-process calls run as the built-in admin, without a token; test it against miscim serve")
	}
	if r.blocked != "" {
		return skip("not run: " + r.blocked)
	}
	h := http.Header{}
	h.Set("Authorization", "") // send none (client.DoURL)
	x := r.send(ctx, userProbePath(r.guid()), h)
	if x.err != nil {
		return Result{Status: Fail, Detail: r.errDetail(x.err), Duration: x.duration}
	}
	s := x.resp.Status
	res := Result{Duration: x.duration}
	switch {
	case s == http.StatusUnauthorized:
		res.Status, res.Detail = Pass, "401 without a token"
	case s == http.StatusForbidden:
		res.Status, res.Detail = Warn, "403 without a token; 401 is the answer for a missing token (RFC 6750 §3.1)"
	case s >= 200 && s < 300:
		if _, ok := parseList(x.resp.Body); ok {
			res.Status, res.Detail = Fail, fmt.Sprintf("%d without a token: the endpoint accepts requests without a token", s)
			res.Hint = "require a bearer token on every SCIM request: anyone who can reach the URL can read and change users"
		} else {
			res.Status = Warn
			res.Detail = fmt.Sprintf("%d without a token, with a body that is not SCIM (%s): a login page? 401 was expected", s, contentType(x.resp.Header))
			res.Hint = "a proxy in front of the endpoint may be answering; Entra needs the SCIM endpoint itself"
		}
	default:
		res.Status, res.Detail = Warn, fmt.Sprintf("%d without a token; 401 was expected", s)
	}
	return res
}

// checkAuthToken judges the token with Entra's probe: 401 means the token
// is unknown, expired or revoked; 403 that its user is not an Admin, the
// only user type whose API token MI accepts for SCIM (DESIGN §3.5).
func (r *runner) checkAuthToken(ctx context.Context) Result {
	if r.blocked != "" {
		return skip("not run: " + r.blocked)
	}
	x := r.entraProbe(ctx)
	res := Result{Duration: x.duration}
	if x.err != nil {
		res.Status, res.Detail = Fail, r.errDetail(x.err)
		return res
	}
	s := x.resp.Status
	switch {
	case !r.cfg.Embedded && !r.cfg.HasToken:
		r.unauthorized = "no token"
		res.Status = Fail
		res.Detail = fmt.Sprintf("no token configured (the request got %d)", s)
		res.Hint = "pass an MI Admin's API token with --token-file FILE or --token (env MISCIM_TOKEN_FILE, MISCIM_TOKEN)"
	case s == http.StatusUnauthorized:
		r.unauthorized = "token rejected"
		res.Status, res.Detail = Fail, "token rejected (401): "+bodyDetail(x.resp)
		res.Hint = "the token is unknown, expired or revoked: create an API token of an MI Admin; Entra reports \"You appear to have entered invalid credentials\""
	case s == http.StatusForbidden:
		r.unauthorized = "token refused"
		res.Status, res.Detail = Fail, "token refused (403): "+bodyDetail(x.resp)
		res.Hint = "the token's user is not an Admin: MI accepts only an Admin's API token"
	case r.cfg.Embedded:
		res.Status, res.Detail = Pass, fmt.Sprintf("%d as the built-in admin (in-process: no token involved)", s)
	default:
		res.Status, res.Detail = Pass, fmt.Sprintf("token accepted (%d)", s)
	}
	return res
}

// checkEntraProbe applies the exact pass/fail rule of Entra's Test
// Connection (entra-behavior §1).
func (r *runner) checkEntraProbe(ctx context.Context) Result {
	if r.blocked != "" {
		return skip("not run: " + r.blocked)
	}
	res := judgeEmptyList(r, r.entraProbe(ctx), "userName")
	if res.Status == Fail && res.Hint == "" {
		res.Hint = entraHint
	}
	return res
}

// checkGroupProbe sends the group query of Test Connection. It is optional:
// groups are provisioned only when group mapping is on, and MI's users work
// without it.
func (r *runner) checkGroupProbe(ctx context.Context) Result {
	if res, ok := r.optionalBlocked(); !ok {
		return res
	}
	res := judgeEmptyList(r, r.send(ctx, groupProbePath(r.guid()), nil), "displayName")
	if res.Status == Fail && res.Hint == "" {
		res.Hint = "with group provisioning on, Entra requires 200 with an empty ListResponse here too"
	}
	return res
}

// optionalBlocked skips an HTTP check after a network failure, after an
// earlier request got no answer at all, or once auth-token failed: every
// authenticated request would only repeat that 401 or 403.
func (r *runner) optionalBlocked() (Result, bool) {
	switch {
	case r.blocked != "":
		return skip("not run: " + r.blocked), false
	case r.noAnswer != "":
		return skip("not run: " + r.noAnswer), false
	case r.unauthorized != "":
		return skip("not run: " + r.unauthorized + " (see auth-token)"), false
	}
	return Result{}, true
}

// judgeEmptyList checks that a query for a random GUID answered 200 with a
// ListResponse of zero results. A 200 whose body is not a ListResponse is a
// failure too: Entra cannot parse it (SystemForCrossDomainIdentityManagementServiceIncompatible,
// entra-behavior §1 [inference]); results for a random GUID mean the filter
// is ignored, and Entra would match an unrelated object.
func judgeEmptyList(r *runner, x *exchange, attr string) Result {
	res := Result{Duration: x.duration}
	if x.err != nil {
		res.Status, res.Detail = Fail, r.errDetail(x.err)
		res.Hint = "Entra reports CredentialValidationUnavailable when it cannot reach the endpoint"
		return res
	}
	s := x.resp.Status
	if s == http.StatusUnauthorized || s == http.StatusForbidden {
		res.Status, res.Detail = Fail, fmt.Sprintf("%d: %s", s, bodyDetail(x.resp))
		res.Hint = "see auth-token; Entra reports \"You appear to have entered invalid credentials\""
		return res
	}
	if s != http.StatusOK {
		res.Status, res.Detail = Fail, fmt.Sprintf("%d for a %s that matches nothing: %s", s, attr, bodyDetail(x.resp))
		return res
	}
	lr, ok := parseList(x.resp.Body)
	switch {
	case !ok:
		res.Status = Fail
		res.Detail = fmt.Sprintf("200, but the body is not a SCIM ListResponse (Content-Type %s): %s", contentType(x.resp.Header), snippet(x.resp.Body))
	case lr.total != 0 || lr.resources != 0:
		res.Status = Fail
		res.Detail = fmt.Sprintf("200, but totalResults %d (%d resources) for a random %s: the filter is ignored or evaluated wrongly", lr.total, lr.resources, attr)
		res.Hint = "filter on " + attr + " as RFC 7644 says: Entra would match an unrelated existing object"
	case !lr.schema:
		res.Status, res.Detail = Warn, "200, totalResults 0, but no ListResponse schema URN in schemas"
		res.Hint = "add \"schemas\":[\"" + scim.ListResponseSchema + "\"] (RFC 7644 §3.4.2)"
	default:
		res.Status, res.Detail = Pass, "200, empty ListResponse (totalResults 0)"
	}
	return res
}

// list is what a probe needs of a ListResponse.
type list struct {
	total, resources int
	schema           bool
}

// parseList reads a ListResponse leniently: attribute names are
// case-insensitive in SCIM (RFC 7643 §2.1). A body without a numeric
// totalResults is not a ListResponse.
func parseList(body []byte) (list, bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return list{}, false
	}
	var l list
	found := false
	for k, v := range obj {
		switch strings.ToLower(k) {
		case "totalresults":
			if err := json.Unmarshal(v, &l.total); err != nil {
				return list{}, false
			}
			found = true
		case "resources":
			var rs []json.RawMessage
			if json.Unmarshal(v, &rs) == nil {
				l.resources = len(rs)
			}
		case "schemas":
			var ss []string
			if json.Unmarshal(v, &ss) == nil {
				l.schema = slices.Contains(ss, scim.ListResponseSchema)
			}
		}
	}
	return l, found
}

// checkServiceProviderConfig reads /ServiceProviderConfig. Optional: Entra
// does not call the discovery endpoints of a custom non-gallery app
// (entra-behavior §6), and MI may not serve them.
func (r *runner) checkServiceProviderConfig(ctx context.Context) Result {
	if res, ok := r.optionalBlocked(); !ok {
		return res
	}
	spc, err := r.cfg.Client.ServiceProviderConfig(ctx)
	if err != nil {
		return r.discoveryFailed(err)
	}
	var parts []string
	for _, f := range []string{"patch", "filter", "sort", "etag", "bulk", "changePassword"} {
		if v, ok := lookup(spc, f).(map[string]any); ok {
			sup, _ := lookup(v, "supported").(bool)
			parts = append(parts, fmt.Sprintf("%s %t", f, sup))
		}
	}
	if len(parts) == 0 {
		return Result{Status: Warn, Detail: "200, but no feature is described (patch, filter…)", Hint: "RFC 7643 §5 lists the members of ServiceProviderConfig"}
	}
	return Result{Status: Pass, Detail: strings.Join(parts, ", ")}
}

// checkResourceTypes reads /ResourceTypes (optional, as above).
func (r *runner) checkResourceTypes(ctx context.Context) Result {
	if res, ok := r.optionalBlocked(); !ok {
		return res
	}
	lr, err := r.cfg.Client.ResourceTypes(ctx)
	if err != nil {
		return r.discoveryFailed(err)
	}
	var names []string
	for _, rt := range lr.Resources {
		n, _ := lookup(rt, "name").(string)
		ep, _ := lookup(rt, "endpoint").(string)
		names = append(names, fmt.Sprintf("%s (%s)", n, ep))
	}
	if len(names) == 0 {
		return Result{Status: Warn, Detail: "200, but no resource types", Hint: "Users (/Users) at least is expected"}
	}
	return Result{Status: Pass, Detail: strings.Join(names, ", ")}
}

// checkSchemas reads /Schemas (optional, as above).
func (r *runner) checkSchemas(ctx context.Context) Result {
	if res, ok := r.optionalBlocked(); !ok {
		return res
	}
	lr, err := r.cfg.Client.Schemas(ctx)
	if err != nil {
		return r.discoveryFailed(err)
	}
	var names []string
	for _, s := range lr.Resources {
		n, _ := lookup(s, "name").(string)
		if n == "" {
			n, _ = lookup(s, "id").(string)
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return Result{Status: Warn, Detail: "200, but no schemas"}
	}
	return Result{Status: Pass, Detail: fmt.Sprintf("%d schemas: %s", len(names), strings.Join(names, ", "))}
}

func (r *runner) discoveryFailed(err error) Result {
	if errors.Is(err, client.ErrUnavailable) && r.noAnswer == "" {
		var se *scim.Error
		if !errors.As(err, &se) { // a transport failure, not a 5xx
			r.noAnswer = "no answer to a discovery endpoint"
		}
	}
	return Result{
		Status: Warn,
		Detail: r.errDetail(err),
		Hint:   "optional: Entra does not read discovery endpoints for a custom (non-gallery) app, and MI may not serve them",
	}
}

// lookup reads a member of a JSON object case-insensitively.
func lookup(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// checkContentType judges the media type of the Entra probe's answer: SCIM
// says application/scim+json (RFC 7644 §3.1; SCIM-TUT requirements,
// entra-behavior §6); application/json is what many servers send and what
// parses the same. Optional: it does not decide Test Connection.
func (r *runner) checkContentType(ctx context.Context) Result {
	if r.blocked != "" {
		return skip("not run: " + r.blocked)
	}
	if r.unauthorized != "" {
		// The answer is an auth error, perhaps from a proxy: its media type
		// says nothing about the SCIM endpoint's.
		return skip("not run: " + r.unauthorized + " (see auth-token)")
	}
	x := r.entraProbe(ctx)
	if x.err != nil {
		return skip("not run: no answer to Entra's probe")
	}
	ct := x.resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	var res Result
	switch {
	case ct == "":
		res.Status, res.Detail = Fail, fmt.Sprintf("%d answer without a Content-Type", x.resp.Status)
		res.Hint = "answer with Content-Type: application/scim+json"
	case err != nil:
		res.Status, res.Detail = Fail, fmt.Sprintf("unparseable Content-Type %q", ct)
		res.Hint = "answer with Content-Type: application/scim+json"
	case mt == "application/scim+json":
		res.Status, res.Detail = Pass, ct
	case mt == "application/json":
		res.Status, res.Detail = Warn, ct+": SCIM's media type is application/scim+json"
		res.Hint = "Entra parses it, but RFC 7644 §3.1 asks for application/scim+json"
	default:
		res.Status, res.Detail = Fail, ct+": not JSON"
		res.Hint = "a SCIM endpoint answers application/scim+json; a text/html answer is usually a proxy or login page"
	}
	return res
}

// checkLatency sends Entra's probe Count more times and reports the p50 and
// p95 of the answer times: Entra abandons a request after 60 s (QA-60S).
// Answers of any status count: the Entra probe row judges the status.
func (r *runner) checkLatency(ctx context.Context) Result {
	if res, ok := r.optionalBlocked(); !ok {
		return res
	}
	if r.cfg.Count <= 0 {
		return skip("not run: --count 0")
	}
	var durs []time.Duration
	var failed int
	var firstErr error
	var total time.Duration
	for range r.cfg.Count {
		x := r.send(ctx, userProbePath(r.guid()), nil)
		total += x.duration
		if ctx.Err() != nil {
			return Result{}
		}
		if x.err != nil {
			failed++
			if firstErr == nil {
				firstErr = x.err
			}
			continue
		}
		durs = append(durs, x.duration)
	}
	res := Result{Duration: total}
	if failed > 0 {
		res.Status = Fail
		res.Detail = fmt.Sprintf("%d of %d probes got no answer: %s", failed, r.cfg.Count, r.errDetail(firstErr))
		res.Hint = "Entra retries, but a job whose requests keep failing is quarantined"
		return res
	}
	p50, p95 := Percentile(durs, 50), Percentile(durs, 95)
	res.Detail = fmt.Sprintf("%s: p50 %s, p95 %s", plural(len(durs), "probe"), FormatDuration(p50), FormatDuration(p95))
	switch {
	case p95 > LatencyFail:
		res.Status = Fail
		res.Hint = "Entra abandons a request after 60 s; answer the probe faster"
	case p95 > LatencyWarn:
		res.Status = Warn
		res.Hint = "slow answers make provisioning cycles long; Entra's limit is 60 s per request"
	default:
		res.Status = Pass
	}
	return res
}

// Percentile is the nearest-rank percentile p (0–100] of ds; 0 for none.
func Percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 × n)
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// bodyDetail is the SCIM error detail of an answer, or a snippet of it.
func bodyDetail(resp *client.RawResponse) string {
	var se scim.Error
	if json.Unmarshal(resp.Body, &se) == nil && se.Detail != "" {
		return se.Detail
	}
	if s := snippet(resp.Body); s != "" {
		return s
	}
	return http.StatusText(resp.Status)
}

func contentType(h http.Header) string {
	if ct := h.Get("Content-Type"); ct != "" {
		return ct
	}
	return "none"
}

const snippetLen = 120

// snippet is the start of a body on one line, HTML tags dropped.
func snippet(body []byte) string {
	b := bytes.TrimSpace(body)
	s := string(b)
	if strings.HasPrefix(s, "<") {
		var out strings.Builder
		in := false
		for _, c := range s {
			switch {
			case c == '<':
				in = true
				out.WriteByte(' ')
			case c == '>':
				in = false
			case !in:
				out.WriteRune(c)
			}
		}
		s = out.String()
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > snippetLen {
		s = string(r[:snippetLen]) + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
