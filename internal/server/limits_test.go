package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/scim"
)

// The tests in this file send oversized bodies over real loopback
// connections, the way clients that write a whole body before reading the
// answer do (curl --data @file, Python's urllib), and check that they read
// the 413 (issue: they used to get "connection reset by peer").

// countingListener counts the bytes the server reads from its connections
// and, when rcvBuf > 0, sets their receive buffers: with buffers smaller
// than what the server leaves unread on both ends, a server that closes
// early resets the connection every time instead of only when the
// kernel's autotuned buffers happen to be full. (Much smaller buffers make
// loopback crawl at one window per delayed ACK.)
type countingListener struct {
	net.Listener
	rcvBuf int
	read   atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok && l.rcvBuf > 0 {
		_ = tc.SetReadBuffer(l.rcvBuf)
	}
	return &countingConn{Conn: c, n: &l.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// newLoopbackServer serves v's handler on a real loopback listener.
func newLoopbackServer(t *testing.T, v *env, rcvBuf int) (*httptest.Server, *countingListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln, rcvBuf: rcvBuf}
	srv := httptest.NewUnstartedServer(v.s)
	srv.Listener.Close()
	srv.Listener = cl
	srv.Config.ReadTimeout = 30 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cl
}

// userOfSize is a valid create-user body of exactly size bytes (size ≥ 80).
func userOfSize(size int) []byte {
	head := `{"userName":"big@example.com","emails":[{"value":"big@example.com"}],"pad":"`
	return []byte(head + strings.Repeat("x", size-len(head)-2) + `"}`)
}

type rawRequest struct {
	token   string
	body    []byte
	chunked bool   // Transfer-Encoding: chunked, no Content-Length
	sndBuf  int    // client send buffer; 0 leaves the default
	expect  bool   // Expect: 100-continue, and wait for the answer before the body
	path    string // default /scim/v2/Users
}

type rawResult struct {
	res      *http.Response
	body     []byte
	writeErr error // writing the request failed
	readErr  error // reading the answer failed
	afterEOF error // what a read after the answer gives: io.EOF when the server closed cleanly
}

// sendRaw writes the whole request — headers, then every byte of the body —
// before it reads a byte of the answer, as curl --data @file does.
func sendRaw(t *testing.T, addr string, rq rawRequest) rawResult {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if rq.sndBuf > 0 {
		_ = conn.(*net.TCPConn).SetWriteBuffer(rq.sndBuf)
	}
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	if rq.path == "" {
		rq.path = "/scim/v2/Users"
	}
	w := bufio.NewWriterSize(conn, 32<<10)
	fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\n", rq.path, addr, rq.token)
	if rq.chunked {
		fmt.Fprintf(w, "Transfer-Encoding: chunked\r\n")
	} else {
		fmt.Fprintf(w, "Content-Length: %d\r\n", len(rq.body))
	}
	if rq.expect {
		fmt.Fprintf(w, "Expect: 100-continue\r\n")
	}
	fmt.Fprintf(w, "\r\n")
	var out rawResult
	br := bufio.NewReader(conn)
	if rq.expect {
		if err := w.Flush(); err != nil {
			out.writeErr = err
			return out
		}
		// A client that asked for 100 Continue waits for it (or for the
		// final answer) before it sends the body.
		out.res, out.readErr = http.ReadResponse(br, nil)
		if out.readErr == nil {
			out.body, out.readErr = io.ReadAll(out.res.Body)
		}
		return out
	}
	if rq.chunked {
		for i := 0; i < len(rq.body); i += 16 << 10 {
			c := rq.body[i:min(i+16<<10, len(rq.body))]
			fmt.Fprintf(w, "%x\r\n", len(c))
			w.Write(c)
			fmt.Fprintf(w, "\r\n")
		}
		fmt.Fprintf(w, "0\r\n\r\n")
	} else {
		w.Write(rq.body)
	}
	if err := w.Flush(); err != nil {
		out.writeErr = err
		return out
	}
	out.res, out.readErr = http.ReadResponse(br, nil)
	if out.readErr == nil {
		out.body, out.readErr = io.ReadAll(out.res.Body)
	}
	if out.readErr == nil && out.res.Close {
		_, out.afterEOF = br.ReadByte()
	}
	return out
}

// check413 asserts a readable SCIM 413 that names the limit and the flag.
func check413(t *testing.T, what string, status int, header http.Header, body []byte, limit string) {
	t.Helper()
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("%s: status %d, want 413: %s", what, status, body)
		return
	}
	var e scim.Error
	if err := json.Unmarshal(body, &e); err != nil || e.Status != 413 {
		t.Errorf("%s: not a SCIM error body: %s", what, body)
	}
	if !strings.Contains(e.Detail, "limit of "+limit) || !strings.Contains(e.Detail, "miscim serve") || !strings.Contains(e.Detail, "--max-body") {
		t.Errorf("%s: detail %q does not name the limit %s and serve --max-body", what, e.Detail, limit)
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
}

func TestOversizedBodyWriteThenRead(t *testing.T) {
	v := newEnv(t, Options{})
	users := v.req("GET", "/scim/v2/Users", nil).num("totalResults")
	for _, bufs := range []struct {
		name           string
		rcvBuf, sndBuf int
	}{
		{"small socket buffers", 256 << 10, 256 << 10},
		{"default socket buffers", 0, 0},
	} {
		srv, cl := newLoopbackServer(t, v, bufs.rcvBuf)
		addr := srv.Listener.Addr().String()
		for _, size := range []int{1<<20 + 1, 2 << 20, 20 << 20} {
			for _, chunked := range []bool{false, true} {
				what := fmt.Sprintf("%s, %d bytes, chunked %v", bufs.name, size, chunked)
				before := cl.read.Load()
				r := sendRaw(t, addr, rawRequest{token: v.token, body: userOfSize(size), chunked: chunked, sndBuf: bufs.sndBuf})
				if r.writeErr != nil || r.readErr != nil {
					t.Errorf("%s: write: %v, read: %v", what, r.writeErr, r.readErr)
					continue
				}
				check413(t, what, r.res.StatusCode, r.res.Header, r.body, "1 MiB")
				if !r.res.Close {
					t.Errorf("%s: no Connection: close", what)
				}
				// The whole body was read and discarded, then the server
				// closed cleanly (FIN, not a reset).
				if !errors.Is(r.afterEOF, io.EOF) {
					t.Errorf("%s: after the answer: %v, want EOF", what, r.afterEOF)
				}
				if got := cl.read.Load() - before; got < int64(size) {
					t.Errorf("%s: the server read %d bytes of a %d-byte body", what, got, size)
				}
			}
		}
	}
	if got := v.req("GET", "/scim/v2/Users", nil).num("totalResults"); got != users {
		t.Errorf("%d users after refused creates, want %d", got, users)
	}
}

// TestOversizedBodyAtTheLimit: a body of exactly the limit is read whole
// and served; one byte more is 413.
func TestOversizedBodyAtTheLimit(t *testing.T) {
	v := newEnv(t, Options{MaxBodyBytes: 64 << 10})
	srv, _ := newLoopbackServer(t, v, 0)
	addr := srv.Listener.Addr().String()
	for _, chunked := range []bool{false, true} {
		r := sendRaw(t, addr, rawRequest{token: v.token, body: userOfSize(64 << 10), chunked: chunked})
		if r.readErr != nil || r.res.StatusCode != 201 {
			t.Fatalf("chunked %v: a body of exactly the limit: %v %v %s", chunked, r.readErr, r.res, r.body)
		}
		v.req("DELETE", r.res.Header.Get("Location")[len("http://"+addr):], nil).expect(t, 204)
		r = sendRaw(t, addr, rawRequest{token: v.token, body: userOfSize(64<<10 + 1), chunked: chunked})
		if r.readErr != nil {
			t.Fatal(r.readErr)
		}
		check413(t, fmt.Sprintf("limit + 1, chunked %v", chunked), r.res.StatusCode, r.res.Header, r.body, "64 KiB")
	}
}

// TestOversizedBodyBeyondTheDrainBound: the server never reads an
// unbounded body. Past the limit plus MaxDrainBytes it stops reading and
// closes; net/http itself reads at most 256 KiB more of a chunked body
// when the handler returns.
func TestOversizedBodyBeyondTheDrainBound(t *testing.T) {
	const limit, drain = 4 << 10, 64 << 10
	v := newEnv(t, Options{MaxBodyBytes: limit, MaxDrainBytes: drain})
	srv, cl := newLoopbackServer(t, v, 256<<10)
	addr := srv.Listener.Addr().String()
	for _, chunked := range []bool{false, true} {
		before := cl.read.Load()
		start := time.Now()
		r := sendRaw(t, addr, rawRequest{token: v.token, body: userOfSize(16 << 20), chunked: chunked, sndBuf: 256 << 10})
		if r.writeErr == nil && r.readErr == nil && r.afterEOF == nil {
			t.Errorf("chunked %v: a 16 MiB body past the drain bound was read whole", chunked)
		}
		read := cl.read.Load() - before
		if bound := int64(limit + drain + 256<<10 + 64<<10); read > bound {
			t.Errorf("chunked %v: the server read %d bytes, more than %d", chunked, read, bound)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("chunked %v: took %v", chunked, d)
		}
		t.Logf("chunked %v: server read %d bytes; client write: %v, read: %v", chunked, read, r.writeErr, r.readErr)
	}
	// A client that reads while it writes (Go's) gets the 413 even then.
	req, _ := http.NewRequest("POST", srv.URL+"/scim/v2/Users", bytes.NewReader(userOfSize(16<<20)))
	req.Header.Set("Authorization", "Bearer "+v.token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("Go client, 16 MiB: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	check413(t, "Go client, 16 MiB", res.StatusCode, res.Header, b, "4 KiB")
}

// TestOversizedBodyExpectContinue: a client that asks for 100 Continue
// gets the 413 instead, without sending its body, and the server does not
// wait for a body that will not come.
func TestOversizedBodyExpectContinue(t *testing.T) {
	v := newEnv(t, Options{})
	srv, cl := newLoopbackServer(t, v, 0)
	start := time.Now()
	r := sendRaw(t, srv.Listener.Addr().String(), rawRequest{token: v.token, body: userOfSize(2 << 20), expect: true})
	if r.readErr != nil {
		t.Fatal(r.readErr)
	}
	check413(t, "Expect: 100-continue", r.res.StatusCode, r.res.Header, r.body, "1 MiB")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the 413 took %v", d)
	}
	if n := cl.read.Load(); n > 4<<10 {
		t.Errorf("the server read %d bytes: more than the request head", n)
	}
}

// TestOversizedBodyClients: Go's client (which reads while it writes),
// over HTTP/1.1 and HTTP/2, and the in-process transport.
func TestOversizedBodyClients(t *testing.T) {
	v := newEnv(t, Options{})
	post := func(t *testing.T, c *http.Client, url string, body io.Reader, size int64) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", url, body)
		req.ContentLength = size
		req.Header.Set("Authorization", "Bearer "+v.token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	for _, size := range []int{1<<20 + 1, 2 << 20, 20 << 20} {
		body := userOfSize(size)
		t.Run(fmt.Sprintf("HTTP/1.1 %d", size), func(t *testing.T) {
			srv, _ := newLoopbackServer(t, v, 0)
			for _, n := range []int64{int64(size), -1} { // -1: chunked
				res, b := post(t, srv.Client(), srv.URL+"/scim/v2/Users", io.MultiReader(bytes.NewReader(body)), n)
				check413(t, "Go client", res.StatusCode, res.Header, b, "1 MiB")
			}
		})
		t.Run(fmt.Sprintf("HTTP/2 %d", size), func(t *testing.T) {
			srv := httptest.NewUnstartedServer(v.s)
			srv.EnableHTTP2 = true
			srv.StartTLS()
			defer srv.Close()
			res, b := post(t, srv.Client(), srv.URL+"/scim/v2/Users", bytes.NewReader(body), int64(size))
			if res.ProtoMajor != 2 {
				t.Fatalf("spoke %s, want HTTP/2", res.Proto)
			}
			check413(t, "HTTP/2", res.StatusCode, res.Header, b, "1 MiB")
			// The connection stays usable.
			res2, _ := post(t, srv.Client(), srv.URL+"/scim/v2/Users", strings.NewReader(string(userOfSize(1024))), 1024)
			if res2.StatusCode != 201 {
				t.Errorf("after the 413 on HTTP/2: %d", res2.StatusCode)
			}
			v.req("DELETE", "/scim/v2/Users/"+strings.TrimPrefix(res2.Header.Get("Location"), srv.URL+"/scim/v2/Users/"), nil).expect(t, 204)
		})
		t.Run(fmt.Sprintf("in-process %d", size), func(t *testing.T) {
			c := &http.Client{Transport: client.HandlerTransport(LocalAdmin(v.s))}
			res, b := post(t, c, "http://embedded.miscim/scim/v2/Users", bytes.NewReader(body), int64(size))
			check413(t, "in-process", res.StatusCode, res.Header, b, "1 MiB")
			// Drained whole before the answer: nothing to close.
			if res.Header.Get("Connection") != "" {
				t.Errorf("in-process: Connection %q", res.Header.Get("Connection"))
			}
		})
	}
}
