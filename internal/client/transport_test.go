package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/scim"
)

func TestHandlerTransportRoundTrip(t *testing.T) {
	var seen *http.Request
	var seenBody string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		b, _ := io.ReadAll(r.Body)
		seenBody = string(b)
		w.Header().Set("Content-Type", "application/scim+json")
		w.Header().Set("Location", "http://embedded.miscim/scim/v2/Users/1")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Too-Late", "ignored") // after WriteHeader, as on the wire
		io.WriteString(w, `{"id":"1"}`)
	})
	rt := HandlerTransport(h)
	req, _ := http.NewRequest(http.MethodPost, "http://embedded.miscim/scim/v2/Users?x=a%20b", strings.NewReader(`{"userName":"a"}`))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || resp.Status != "201 Created" || string(body) != `{"id":"1"}` || resp.ContentLength != int64(len(body)) || resp.Request != req {
		t.Errorf("response %+v body %q", resp, body)
	}
	if got := resp.Header.Values("X-Multi"); len(got) != 2 || resp.Header.Get("Location") == "" || resp.Header.Get("X-Too-Late") != "" {
		t.Errorf("headers %v", resp.Header)
	}
	if seen.RequestURI != "/scim/v2/Users?x=a%20b" || seen.URL.Path != "/scim/v2/Users" || seen.URL.Query().Get("x") != "a b" ||
		seen.Host != "embedded.miscim" || seen.RemoteAddr == "" || seen.Header.Get("Authorization") != "Bearer t" ||
		seenBody != `{"userName":"a"}` || seen.ContentLength != int64(len(seenBody)) {
		t.Errorf("server-side request %+v body %q", seen, seenBody)
	}
}

func TestHandlerTransportDefaults(t *testing.T) {
	rt := HandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil {
			t.Error("nil body on the server side")
		}
		io.WriteString(w, "<html>hi</html>") // no WriteHeader, no Content-Type
	}))
	req, _ := http.NewRequest(http.MethodGet, "http://embedded.miscim/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("status %d headers %v", resp.StatusCode, resp.Header)
	}

	rt = HandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	if _, err := rt.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("panic: %v", err)
	}
}

func TestHandlerTransportCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rt := HandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // ignores its context: RoundTrip must not wait for it
	}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://embedded.miscim/scim/v2/Users", nil)
	start := time.Now()
	_, err := rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}

	// Through a Client, the cancellation stays context.Canceled (exit 130),
	// not unavailability.
	c := newClient(t, "http://embedded.miscim/scim/v2", func(o *Options) { o.Transport = rt })
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.List(ctx, Users, ListParams{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("client: %v", err)
	}
}

func TestClientOverHandlerTransport(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("in-process requests carry no token, got %q", r.Header.Get("Authorization"))
		}
		if r.URL.Path == "/scim/v2/Users/missing" {
			writeJSON(w, 404, scim.NotFound("user", "missing"))
			return
		}
		writeJSON(w, 200, scim.Resource{"id": "1"})
	})
	var trace bytes.Buffer
	c, err := New(Options{BaseURL: "http://embedded.miscim/scim/v2", Transport: HandlerTransport(h), Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if r, err := c.Get(ctx, Users, "1", ListParams{}); err != nil || r["id"] != "1" {
		t.Fatalf("%v %v", r, err)
	}
	_, err = c.Get(ctx, Users, "missing", ListParams{})
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != 404 {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(trace.String(), "< 404 Not Found in ") {
		t.Errorf("trace:\n%s", trace.String())
	}
}
