package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/store/postgres"
	"github.com/miscim/miscim/internal/store/storetest"
)

// cuttable forwards TCP connections on a loopback port to PostgreSQL until
// cut, which closes the port and every connection through it, as a
// database host that goes away does; restore opens the same port again.
type cuttable struct {
	t        *testing.T
	upstream func() (net.Conn, error)
	addr     string
	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
}

func newCuttable(t *testing.T, pgURL string) *cuttable {
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	host, port := u.Query().Get("host"), u.Port()
	if host == "" {
		host = u.Hostname()
	}
	if port == "" {
		port = "5432"
	}
	up := func() (net.Conn, error) {
		if strings.HasPrefix(host, "/") {
			return net.Dial("unix", host+"/.s.PGSQL."+port)
		}
		return net.Dial("tcp", net.JoinHostPort(host, port))
	}
	c := &cuttable{t: t, upstream: up, conns: map[net.Conn]bool{}}
	c.listen("127.0.0.1:0")
	t.Cleanup(c.cut)
	return c
}

func (c *cuttable) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.ln, c.addr = ln, ln.Addr().String()
	c.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := c.upstream()
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns[in], c.conns[out] = true, true
			c.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
}

func (c *cuttable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		c.ln.Close()
		c.ln = nil
	}
	for conn := range c.conns {
		conn.Close()
	}
	clear(c.conns)
}

func (c *cuttable) restore() { c.listen(c.addr) }

// TestDatabaseAway: PostgreSQL goes away under writers and comes back.
// Meanwhile requests get 503 with Retry-After (never a 500), /healthz says
// why; afterwards the replica serves again without a restart, and every
// write that was answered 201 is in the database.
func TestDatabaseAway(t *testing.T) {
	base := storetest.PostgresURL(t)
	proxy := newCuttable(t, base)
	u, _ := url.Parse(base)
	dsn := fmt.Sprintf("postgres://%s@%s%s?sslmode=disable&search_path=%s", u.User.Username(), proxy.addr, u.Path, u.Query().Get("search_path"))
	st, err := postgres.Open(context.Background(), dsn, postgres.Options{TxTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := New(engine.New(st), Options{AdminToken: "admin"})
	t.Cleanup(func() { s.Close() })
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)

	do := func(method, path, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer admin")
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	create := func(name string) int {
		resp, body := do("POST", "/scim/v2/Users", `{"userName":"`+name+`","emails":[{"value":"`+name+`@example.com"}]}`)
		if resp.StatusCode != 201 && resp.StatusCode != 503 {
			t.Errorf("POST %s: %d %s", name, resp.StatusCode, body)
		}
		if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After: %s", body)
		}
		return resp.StatusCode
	}

	var mu sync.Mutex
	var acked []string
	unavailable := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				code := create(name)
				mu.Lock()
				if code == 201 {
					acked = append(acked, name)
				} else {
					unavailable++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	proxy.cut()
	time.Sleep(time.Second)

	resp, body := do("GET", "/healthz", "")
	var health map[string]string
	_ = json.Unmarshal([]byte(body), &health)
	if resp.StatusCode != 503 || health["status"] != "unavailable" || !strings.Contains(health["detail"], "database is unavailable") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("/healthz while the database is away: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("GET", "/scim/v2/Users?filter=userName+eq+%22w0-0%22", ""); resp.StatusCode != 503 {
		t.Errorf("GET while the database is away: %d %s", resp.StatusCode, body)
	}

	proxy.restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := do("GET", "/healthz", "")
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz 10s after the database came back: %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if unavailable == 0 {
		t.Fatal("no request met the outage: the test proves nothing")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 20 {
		t.Fatalf("only %d creates acknowledged", len(acked))
	}
	if code := create("after"); code != 201 {
		t.Fatalf("a create after the outage: %d", code)
	}
	for _, name := range acked {
		resp, body := do("GET", "/scim/v2/Users?filter=userName+eq+%22"+name+"%22", "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"totalResults":1`) {
			t.Fatalf("user %s, acknowledged with 201, is not there: %d %s", name, resp.StatusCode, body)
		}
	}
	t.Logf("%d creates acknowledged, %d answered 503", len(acked), unavailable)
}
