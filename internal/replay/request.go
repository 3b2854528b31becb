package replay

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/miscim/miscim/internal/reqlog"
)

// scimPrefix is the path of a SCIM base in Metric Insights and miscim
// serve.
const scimPrefix = "/scim/v2"

// endpoints are the SCIM endpoints (RFC 7644 §3.2) by their lower-case
// name, with the kind of resource they hold.
var endpoints = map[string]endpoint{
	"users":                  epUsers,
	"groups":                 epGroups,
	"me":                     epOther,
	"bulk":                   epOther,
	".search":                epOther,
	"serviceproviderconfig":  epDiscovery,
	"serviceproviderconfigs": epDiscovery,
	"resourcetypes":          epDiscovery,
	"schemas":                epDiscovery,
}

type endpoint int

const (
	epOther endpoint = iota
	epUsers
	epGroups
	epDiscovery
)

// relativeTarget returns the part of a logged request target that follows
// the SCIM base — "/Users/42?filter=…", raw query as logged — or false
// when the target is not a SCIM request. The base is found as the path
// segment /scim/v2 (any case); a log written relative to the base
// ("/Users") is taken as it is when its first segment is a SCIM endpoint.
func relativeTarget(target string) (string, bool) {
	target = strings.TrimSpace(target)
	if i := strings.Index(target, "://"); i > 0 && !strings.ContainsAny(target[:i], "/?") {
		rest := target[i+3:]
		j := strings.IndexAny(rest, "/?")
		if j < 0 {
			return "", false
		}
		target = rest[j:]
	}
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	path, query, hasQuery := strings.Cut(target, "?")
	lower := strings.ToLower(path)
	rel := ""
	if i := strings.LastIndex(lower, scimPrefix); i >= 0 && (len(lower) == i+len(scimPrefix) || lower[i+len(scimPrefix)] == '/') {
		rel = path[i+len(scimPrefix):]
		if strings.Trim(rel, "/") == "" {
			return "", false // the base itself
		}
	} else {
		first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if _, ok := endpoints[strings.ToLower(first)]; !ok {
			return "", false
		}
		rel = "/" + strings.TrimPrefix(path, "/")
	}
	if hasQuery {
		rel += "?" + query
	}
	return rel, true
}

// resourceRef is what a relative target names: the endpoint and, for
// /Users/{id} and /Groups/{id}, the id (unescaped).
type resourceRef struct {
	endpoint endpoint
	id       string
}

func refOf(rel string) resourceRef {
	path, _, _ := strings.Cut(rel, "?")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	ep, ok := endpoints[strings.ToLower(segs[0])]
	if !ok {
		ep = epOther
	}
	r := resourceRef{endpoint: ep}
	if (ep == epUsers || ep == epGroups) && len(segs) > 1 && segs[1] != ".search" {
		if id, err := url.PathUnescape(segs[1]); err == nil {
			r.id = id
		} else {
			r.id = segs[1]
		}
	}
	return r
}

// queryParam returns the first value of a query parameter (name matched
// case-insensitively), unescaped.
func queryParam(rel, name string) (string, bool) {
	_, query, ok := strings.Cut(rel, "?")
	if !ok {
		return "", false
	}
	for _, part := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(part, "=")
		if ku, err := url.QueryUnescape(k); err == nil {
			k = ku
		}
		if strings.EqualFold(k, name) {
			if vu, err := url.QueryUnescape(v); err == nil {
				return vu, true
			}
			return v, true
		}
	}
	return "", false
}

// isWrite reports whether a request changes the target.
func isWrite(method, rel string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	case http.MethodPost:
		path, _, _ := strings.Cut(rel, "?")
		return !strings.HasSuffix(strings.ToLower(path), "/.search")
	}
	return true
}

// dropHeaders are logged request headers not sent again: hop-by-hop
// headers and those the client and its transport set for the replay
// (credentials, length, encoding), and the log's request id (the replay is
// another request).
var dropHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Host":                true,
	"Content-Length":      true,
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Connection":    true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Accept-Encoding":     true,
	"X-Request-Id":        true,
}

// sendHeader is the header sent for a logged request.
func sendHeader(x *reqlog.Exchange) http.Header {
	h := http.Header{}
	for k, vs := range x.RequestHeader {
		ck := http.CanonicalHeaderKey(k)
		if dropHeaders[ck] || strings.HasPrefix(k, ":") {
			continue
		}
		h[ck] = append(h[ck], vs...)
	}
	return h
}

// display renders "METHOD path" with the query unescaped where it can
// be, for --match and messages: PATCH /Users/42, GET /Users?filter=userName
// eq "ann".
func display(method, rel string) string {
	path, query, ok := strings.Cut(rel, "?")
	if !ok {
		return method + " " + path
	}
	if q, err := url.QueryUnescape(query); err == nil {
		query = q
	}
	return method + " " + path + "?" + query
}
