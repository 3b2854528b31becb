package reqlog

import (
	"encoding/json"
	"net/http"
	"strings"
)

// FormatVersion is the version of Record written by this build. A change
// that renames, removes or reinterprets a field gets a new version; readers
// keep accepting every older one (docs/request-log.md).
const FormatVersion = 1

// Record is one logged SCIM request and its response.
type Record struct {
	// Format is FormatVersion at the time of writing.
	Format int `json:"format"`
	// Time is when the request started, RFC 3339 with nanoseconds, UTC.
	Time string `json:"time"`
	// Seq numbers the logged requests of one process, from 1; with Time it
	// orders records written in the same nanosecond.
	Seq uint64 `json:"seq"`
	// RequestID is the X-Request-Id the server answered with.
	RequestID  string `json:"requestId"`
	RemoteAddr string `json:"remoteAddr"`
	Method     string `json:"method"`
	// Path is the path with the raw query as received, e.g.
	// /scim/v2/Users?filter=userName+eq+%22x%22.
	Path string `json:"path"`
	// RequestHeaders are the request headers with credentials redacted
	// (see Redact).
	RequestHeaders map[string][]string `json:"requestHeaders"`
	// RequestBody is the body as JSON when it is valid JSON, else as a JSON
	// string; absent when the request had none (see Body).
	RequestBody     json.RawMessage     `json:"requestBody,omitempty"`
	Status          int                 `json:"status"`
	ResponseHeaders map[string][]string `json:"responseHeaders"`
	ResponseBody    json.RawMessage     `json:"responseBody,omitempty"`
	// DurationMs is the time from request start to the end of the
	// response, in milliseconds.
	DurationMs float64 `json:"durationMs"`
}

// Redacted replaces a credential in the log.
const Redacted = "[REDACTED]"

// sensitive are the headers whose values never reach the log, canonical
// form. For the authorization headers the scheme word is kept ("Bearer
// [REDACTED]") so that a reader can still tell which scheme a client used.
var sensitive = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

// Redact copies h with the values of Authorization, Proxy-Authorization,
// Cookie and Set-Cookie replaced: an authorization value keeps its scheme
// word ("Bearer [REDACTED]"), cookies become "[REDACTED]". The result is
// never nil, so a record always carries a headers object.
func Redact(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if isSensitive(k) {
			out[k] = redactValues(k, vs)
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func isSensitive(name string) bool {
	return sensitive[http.CanonicalHeaderKey(name)]
}

func redactValues(name string, vs []string) []string {
	out := make([]string, len(vs))
	auth := strings.HasSuffix(http.CanonicalHeaderKey(name), "Authorization")
	for i, v := range vs {
		out[i] = Redacted
		if !auth {
			continue
		}
		// "Bearer abc" → "Bearer [REDACTED]"; a value without a scheme
		// word is redacted whole.
		if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok && scheme != "" && scheme != Redacted {
			out[i] = scheme + " " + Redacted
		}
	}
	return out
}

// redactMap applies the redaction to a header map that may not have been
// redacted yet. It returns m itself when nothing needed a change, so the
// double check the Writer makes costs no copy on the usual path.
func redactMap(m map[string][]string) map[string][]string {
	var out map[string][]string
	for k, vs := range m {
		if !isSensitive(k) {
			continue
		}
		red := redactValues(k, vs)
		same := len(red) == len(vs)
		for i := 0; same && i < len(vs); i++ {
			same = red[i] == vs[i]
		}
		if same {
			continue
		}
		if out == nil {
			out = make(map[string][]string, len(m))
			for k2, v2 := range m {
				out[k2] = v2
			}
		}
		out[k] = red
	}
	if out == nil {
		return m
	}
	return out
}

// Body renders a captured body for a Record: nil when empty, the bytes
// themselves when they are valid JSON, else the bytes as a JSON string (a
// malformed or truncated body stays readable; invalid UTF-8 becomes
// U+FFFD).
func Body(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return append(json.RawMessage(nil), b...)
	}
	s, err := json.Marshal(string(b))
	if err != nil {
		return nil
	}
	return s
}
