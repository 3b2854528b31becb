package reqlog

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the archive
// browsers, proxies (mitmproxy, Charles, Fiddler) and `miscim simulate
// --har` write. Only the members replay needs are declared; everything else
// (timings, cache, cookies, pages, tool-specific _fields) is ignored.
// No Go HAR library is both maintained and small: the format is a few
// plain JSON objects, so encoding/json structs suffice (docs/replay.md).

type harNameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harEntry struct {
	StartedDateTime string `json:"startedDateTime"`
	Request         *struct {
		Method   string         `json:"method"`
		URL      string         `json:"url"`
		Headers  []harNameValue `json:"headers"`
		PostData *struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
			// encoding is not in HAR 1.2's postData, but some tools
			// write it as in content.
			Encoding string `json:"encoding"`
		} `json:"postData"`
	} `json:"request"`
	Response *struct {
		Status  int            `json:"status"`
		Headers []harNameValue `json:"headers"`
		Content *struct {
			Text     string `json:"text"`
			Encoding string `json:"encoding"`
		} `json:"content"`
	} `json:"response"`
}

// harHeader turns HAR's header list into an http.Header. HTTP/2 pseudo
// headers (":authority") are dropped: they are not headers of an
// HTTP/1.1 request.
func harHeader(list []harNameValue) http.Header {
	h := http.Header{}
	for _, nv := range list {
		if nv.Name == "" || strings.HasPrefix(nv.Name, ":") {
			continue
		}
		h[nv.Name] = append(h[nv.Name], nv.Value)
	}
	return h
}

func harText(text, encoding string) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "":
		if text == "" {
			return nil, nil
		}
		return []byte(text), nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, fmt.Errorf("base64 text: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("text encoding %q is not one HAR defines (base64)", encoding)
}

// harExchange reads one entry of log.entries.
func harExchange(b []byte, pos Position) (Exchange, error) {
	var e harEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return Exchange{}, fmt.Errorf("not a HAR entry: %w", err)
	}
	if e.Request == nil {
		return Exchange{}, errors.New("HAR entry without request")
	}
	x := Exchange{
		Pos:           pos,
		Method:        strings.ToUpper(e.Request.Method),
		Target:        e.Request.URL,
		RequestHeader: harHeader(e.Request.Headers),
	}
	if e.StartedDateTime != "" {
		t, err := ParseTime(e.StartedDateTime)
		if err != nil {
			return Exchange{}, fmt.Errorf("startedDateTime: %w", err)
		}
		x.Time = t
	}
	if pd := e.Request.PostData; pd != nil {
		body, err := harText(pd.Text, pd.Encoding)
		if err != nil {
			return Exchange{}, fmt.Errorf("request.postData: %w", err)
		}
		x.RequestBody = body
		if pd.MimeType != "" && x.RequestHeader.Get("Content-Type") == "" {
			x.RequestHeader.Set("Content-Type", pd.MimeType)
		}
	}
	// status 0 is how HAR writers record a request that got no response
	// (aborted, blocked): nothing to compare.
	if r := e.Response; r != nil && r.Status != 0 {
		x.Status = r.Status
		x.ResponseHeader = harHeader(r.Headers)
		if c := r.Content; c != nil {
			body, err := harText(c.Text, c.Encoding)
			if err != nil {
				return Exchange{}, fmt.Errorf("response.content: %w", err)
			}
			x.ResponseBody = body
		}
	}
	return x, checkExchange(&x)
}
