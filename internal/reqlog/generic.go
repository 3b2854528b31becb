package reqlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Generic JSON records: a request log of unknown layout (Metric Insights
// does not publish the layout of its own), read by looking for each field
// under the names logs commonly give it. Names match case-insensitively;
// the first alias present wins. docs/replay.md lists them.
var (
	methodAliases     = []string{"method", "verb", "httpMethod", "requestMethod"}
	targetAliases     = []string{"url", "uri", "requestUri", "requestUrl", "path"}
	queryAliases      = []string{"query", "queryString"}
	headerAliases     = []string{"headers", "requestHeaders"}
	bodyAliases       = []string{"body", "requestBody", "payload"}
	statusAliases     = []string{"status", "statusCode", "responseCode", "responseStatus"}
	respHeaderAliases = []string{"responseHeaders"}
	respBodyAliases   = []string{"responseBody"}
	timeAliases       = []string{"time", "timestamp", "startedDateTime", "@timestamp", "date"}
	seqAliases        = []string{"seq", "sequence"}
	// Nested layouts: {"request": {...}, "response": {...}}.
	requestAliases  = []string{"request", "req"}
	responseAliases = []string{"response", "resp", "res"}
	// Inside a nested response object.
	nestedRespHeaderAliases = []string{"headers", "responseHeaders"}
	nestedRespBodyAliases   = []string{"body", "responseBody", "payload", "content"}
)

// object is a JSON object with members found case-insensitively.
type object map[string]json.RawMessage

func (o object) find(aliases []string) (json.RawMessage, string) {
	for _, a := range aliases {
		if v, ok := o[a]; ok {
			return v, a
		}
	}
	for _, a := range aliases {
		for k, v := range o {
			if strings.EqualFold(k, a) {
				return v, k
			}
		}
	}
	return nil, ""
}

// nested returns the member named by aliases when it is an object.
func (o object) nested(aliases []string) object {
	raw, _ := o.find(aliases)
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var n object
	if json.Unmarshal(raw, &n) != nil {
		return nil
	}
	return n
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// genericExchange reads a JSON object as a generic record.
func genericExchange(b []byte, pos Position) (Exchange, error) {
	var top object
	if err := json.Unmarshal(b, &top); err != nil {
		return Exchange{}, fmt.Errorf("not a JSON object: %w", err)
	}
	req := top.nested(requestAliases)
	if req == nil {
		req = top
	}
	resp := top.nested(responseAliases)
	x := Exchange{Pos: pos}
	var err error
	if x.Method, err = stringField(req, top, methodAliases, "method"); err != nil {
		return Exchange{}, err
	}
	x.Method = strings.ToUpper(strings.TrimSpace(x.Method))
	if x.Method == "" {
		return Exchange{}, fmt.Errorf("no method: looked for %s", strings.Join(methodAliases, ", "))
	}
	if x.Target, err = stringField(req, top, targetAliases, "URL"); err != nil {
		return Exchange{}, err
	}
	if x.Target == "" {
		return Exchange{}, fmt.Errorf("no URL or path: looked for %s", strings.Join(targetAliases, ", "))
	}
	if q, err := stringField(req, top, queryAliases, "query"); err != nil {
		return Exchange{}, err
	} else if q = strings.TrimPrefix(q, "?"); q != "" && !strings.Contains(x.Target, "?") {
		x.Target += "?" + q
	}
	if x.RequestHeader, err = headerField(req, top, headerAliases); err != nil {
		return Exchange{}, err
	}
	if x.RequestBody, err = bodyField(req, top, bodyAliases); err != nil {
		return Exchange{}, err
	}

	if resp != nil {
		if x.Status, err = statusField(resp, statusAliases); err != nil {
			return Exchange{}, err
		}
		if x.ResponseHeader, err = headerField(resp, nil, nestedRespHeaderAliases); err != nil {
			return Exchange{}, err
		}
		if x.ResponseBody, err = bodyField(resp, nil, nestedRespBodyAliases); err != nil {
			return Exchange{}, err
		}
	} else {
		if x.Status, err = statusField(top, statusAliases); err != nil {
			return Exchange{}, err
		}
		if x.ResponseHeader, err = headerField(top, nil, respHeaderAliases); err != nil {
			return Exchange{}, err
		}
		if x.ResponseBody, err = bodyField(top, nil, respBodyAliases); err != nil {
			return Exchange{}, err
		}
	}
	if raw, name := top.find(timeAliases); !isNull(raw) {
		if x.Time, err = parseTimeValue(raw); err != nil {
			return Exchange{}, fmt.Errorf("%s: %w", name, err)
		}
	} else if raw, name := req.find(timeAliases); !isNull(raw) {
		if x.Time, err = parseTimeValue(raw); err != nil {
			return Exchange{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	if raw, name := top.find(seqAliases); !isNull(raw) {
		n, err := strconv.ParseUint(strings.Trim(string(bytes.TrimSpace(raw)), `"`), 10, 64)
		if err != nil {
			return Exchange{}, fmt.Errorf("%s %s is not a sequence number", name, raw)
		}
		x.Seq = n
	}
	return x, checkExchange(&x)
}

// stringField reads a string member from o, else from fallback.
func stringField(o, fallback object, aliases []string, what string) (string, error) {
	raw, name := o.find(aliases)
	if raw == nil && fallback != nil {
		raw, name = fallback.find(aliases)
	}
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s (the %s) is not a string: %s", name, what, clipRaw(raw))
	}
	return s, nil
}

// statusField reads a status: a number or a numeric string.
func statusField(o object, aliases []string) (int, error) {
	raw, name := o.find(aliases)
	if isNull(raw) {
		return 0, nil
	}
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %s is not an HTTP status", name, clipRaw(raw))
	}
	return n, nil
}

// headerField reads headers as an object of name → string or list of
// strings, or as a list of {"name","value"} pairs (HAR's shape).
func headerField(o, fallback object, aliases []string) (http.Header, error) {
	raw, name := o.find(aliases)
	if raw == nil && fallback != nil {
		raw, name = fallback.find(aliases)
	}
	h := http.Header{}
	if isNull(raw) {
		return h, nil
	}
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for k, v := range m {
			var one string
			var many []string
			switch {
			case json.Unmarshal(v, &one) == nil:
				h[k] = append(h[k], one)
			case json.Unmarshal(v, &many) == nil:
				h[k] = append(h[k], many...)
			default:
				return nil, fmt.Errorf("%s: header %q is neither a string nor a list of strings", name, k)
			}
		}
	case '[':
		var pairs []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		}
		if err := json.Unmarshal(raw, &pairs); err != nil {
			return nil, fmt.Errorf("%s: expected a list of {\"name\",\"value\"}: %w", name, err)
		}
		for _, p := range pairs {
			if p.Name != "" {
				h[p.Name] = append(h[p.Name], p.Value)
			}
		}
	default:
		return nil, fmt.Errorf("%s is not an object or a list of headers", name)
	}
	return h, nil
}

// bodyField reads a body: a JSON string is the body's text, any other
// JSON value is the body itself.
func bodyField(o, fallback object, aliases []string) ([]byte, error) {
	raw, _ := o.find(aliases)
	if raw == nil && fallback != nil {
		raw, _ = fallback.find(aliases)
	}
	return bodyBytes(raw), nil
}

// parseTimeValue reads a time: RFC 3339 (a space for the T accepted), or
// a Unix time in seconds, or in milliseconds when it is too large for
// seconds.
func parseTimeValue(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		return ParseTime(s)
	}
	// Integers exactly (milliseconds do not survive a float64 division);
	// fractional seconds as a float.
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil && n >= 0 {
		if n > 1e11 { // after the year 5138 in seconds: milliseconds
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("%s is not a time", clipRaw(raw))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}

// timeLayouts are the textual times ParseTime accepts.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

// ParseTime reads a logged time: RFC 3339 with or without fractional
// seconds; a space may stand for the T; a time without a zone is UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", clip(s))
}

func clipRaw(raw json.RawMessage) string { return clip(string(raw)) }

// clip shortens a value quoted in a message to 60 runes, valid UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 60 {
		return string(r[:57]) + "…"
	}
	return s
}

var errNotObject = errors.New("not a record: expected a JSON object")
