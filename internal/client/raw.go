package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// RawRequest is a request sent as given, for replay and diagnostics.
type RawRequest struct {
	Method string
	// Path is relative to the base URL (e.g. "/Users?filter=…") and is
	// sent verbatim, query encoding included, so a replay reproduces what
	// was logged. An absolute http(s) URL is used as it is.
	Path string
	// Header is sent as given. The client's Authorization is added unless
	// Header has one; Accept defaults to SCIM JSON, and Content-Type too
	// when there is a body.
	Header http.Header
	Body   []byte
}

// RawResponse is what the server answered.
type RawResponse struct {
	Status   int
	Header   http.Header
	Body     []byte
	Duration time.Duration // of the last attempt
}

// Do sends a raw request with the client's retry policy. HTTP statuses are
// not errors (the caller compares them); errors are transport failures
// (ErrUnavailable) and cancellation.
func (c *Client) Do(ctx context.Context, r RawRequest) (*RawResponse, error) {
	u := r.Path
	if pu, err := url.Parse(u); err != nil || !pu.IsAbs() {
		if !strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "?") {
			u = "/" + u
		}
		u = c.base + u
	}
	resp, err := c.send(ctx, exchange{method: r.Method, url: u, label: c.base, header: r.Header, body: r.Body})
	if err != nil {
		return nil, err
	}
	return rawResponse(resp), nil
}

// DoURL sends a request to an absolute URL, which may lie outside the base
// (test-connection probes such as the host root). The client's
// Authorization is added unless header has an Authorization entry; to send
// no token at all, set it to the empty string:
//
//	h := http.Header{}
//	h.Set("Authorization", "")
//	c.DoURL(ctx, http.MethodGet, u, h, nil)
func (c *Client) DoURL(ctx context.Context, method, absoluteURL string, header http.Header, body []byte) (*RawResponse, error) {
	label := absoluteURL
	if u, err := url.Parse(absoluteURL); err == nil {
		u.RawQuery, u.Fragment = "", ""
		label = u.String()
	}
	resp, err := c.send(ctx, exchange{method: method, url: absoluteURL, label: label, header: header, body: body})
	if err != nil {
		return nil, err
	}
	return rawResponse(resp), nil
}

func rawResponse(resp *resty.Response) *RawResponse {
	return &RawResponse{
		Status:   resp.StatusCode(),
		Header:   resp.Header(),
		Body:     resp.Body(),
		Duration: resp.Time(),
	}
}
