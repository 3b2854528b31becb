package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/store/storetest"
)

// handlerFixture is the real handler over a real engine and SQLite
// database, with a user and a group that every input starts from.
type handlerFixture struct {
	tb       testing.TB
	e        *engine.Engine
	s        *Server
	dump     func(testing.TB) string
	uid, gid string
	baseline string // snapshot of the state every input starts from
}

const fuzzAdminToken = "fuzz-admin-token"

func newHandlerFixture(tb testing.TB) *handlerFixture {
	tb.Helper()
	e := newEngine(tb, sqlite.SyncNormal)
	s := New(e, Options{AdminToken: fuzzAdminToken, MaxBodyBytes: 64 << 10, MaxDrainBytes: 64 << 10})
	tb.Cleanup(func() { s.Close() })
	fx := &handlerFixture{tb: tb, e: e, s: s, dump: storetest.Dumper(tb, e.Store())}
	fx.populate()
	return fx
}

// populate creates the user and the group inputs refer to as {uid} and
// {gid}, and records the baseline.
func (fx *handlerFixture) populate() {
	ctx := context.Background()
	u, err := fx.e.CreateUser(ctx, []byte(`{"userName":"ann@example.com","externalId":"ext-ann","emails":[{"value":"ann@example.com","type":"work"}],"name":{"givenName":"Ann"}}`))
	if err != nil {
		fx.tb.Fatal(err)
	}
	fx.uid = u["id"].(string)
	g, err := fx.e.CreateGroup(ctx, []byte(`{"displayName":"Staff","externalId":"ext-staff","members":[{"value":"`+fx.uid+`"}]}`))
	if err != nil {
		fx.tb.Fatal(err)
	}
	fx.gid = g["id"].(string)
	fx.baseline = fx.dump(fx.tb)
}

// reset brings the database back to the baseline's shape after an input
// that wrote: every user, tombstone and group removed, the variables unset,
// the user and the group created again (with new ids).
func (fx *handlerFixture) reset() {
	ctx := context.Background()
	var users, groups []string
	err := fx.e.Store().View(ctx, func(tx store.Tx) error {
		if err := tx.ScanUsers(func(u store.User) error { users = append(users, u.ID); return nil }); err != nil {
			return err
		}
		return tx.ScanGroups(func(g store.Group) error { groups = append(groups, g.ID); return nil })
	})
	if err != nil {
		fx.tb.Fatal(err)
	}
	for _, id := range groups {
		if err := fx.e.DeleteGroup(ctx, id, ""); err != nil {
			fx.tb.Fatal(err)
		}
	}
	// Only the baseline user can have become a tombstone: each input is one
	// request, and it starts from the baseline.
	for _, id := range append(users, fx.uid) {
		_ = fx.e.DeleteUser(ctx, id, "")
	}
	vars, err := fx.e.Vars(ctx)
	if err != nil {
		fx.tb.Fatal(err)
	}
	for _, v := range vars {
		if v.IsSet {
			if _, err := fx.e.UnsetVar(ctx, v.Name, "fuzz"); err != nil {
				fx.tb.Fatal(err)
			}
		}
	}
	fx.populate()
}

// rawRequest parses what a client sent, as net/http's server does; ok is
// false when net/http would refuse it before any handler runs. header
// holds header lines separated by newlines; the admin token is added
// unless it names an Authorization of its own, and Content-Length unless
// it frames the body itself.
func (fx *handlerFixture) rawRequest(method, target, header string, body []byte) (*http.Request, bool) {
	expand := strings.NewReplacer("{uid}", fx.uid, "{gid}", fx.gid)
	target = expand.Replace(target)
	body = []byte(expand.Replace(string(body)))
	var b bytes.Buffer
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: miscim.test\r\n")
	auth, framed := false, false
	for _, line := range strings.Split(header, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue // an empty line would end the head
		}
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "authorization":
			auth = true
		case "content-length", "transfer-encoding":
			framed = true
		}
		b.WriteString(line + "\r\n")
	}
	if !auth {
		b.WriteString("Authorization: Bearer " + fuzzAdminToken + "\r\n")
	}
	if !framed {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		return nil, false
	}
	req.RemoteAddr = "192.0.2.1:41000"
	return req, true
}

// FuzzHandler sends any method, path, query, headers and body to the real
// handler over a real database: never a 5xx (DESIGN §9), every error a
// SCIM error body with the status it was answered with, no success for a
// body that is not UTF-8, and no write at all — compared over every table
// — when the answer is not a success or the method only reads.
func FuzzHandler(f *testing.F) {
	ct := "Content-Type: application/scim+json"
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com","active":true,"emails":[{"type":"work","value":"bob@example.com"}]}`
	for _, s := range []struct {
		method, target, header, body string
	}{
		{"GET", `/scim/v2/Users?filter=userName+eq+%226f1c0c4e-7d1a-4b5e-9a51-0c1e9c3f2a10%22`, "", ""},
		{"GET", `/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%22Staff%22`, "", ""},
		{"GET", `/scim/v2/Users?startIndex=1&count=1&sortBy=userName&sortOrder=descending&attributes=userName,emails`, "", ""},
		{"GET", "/scim/v2/Users/{uid}", "", ""},
		{"GET", "/scim/v2/Groups/{gid}?attributes=members", "", ""},
		{"POST", "/scim/v2/Users", ct, user},
		{"POST", "/scim/v2/Users", ct, "{\"userName\":\"\xff\xfe\",\"emails\":[{\"value\":\"x@y\"}]}"},
		{"POST", "/scim/v2/Users", "Content-Type: text/plain", user},
		{"POST", "/scim/v2/Users", ct + "\nTransfer-Encoding: chunked", "10\r\n" + user[:16] + "\r\n0\r\n\r\n"},
		{"POST", "/scim/v2/Groups", ct, `{"displayName":"staff","members":[{"value":"{uid}"}]}`},
		{"PUT", "/scim/v2/Users/{uid}", ct + "\nIf-Match: W/\"1\"", user},
		{"PATCH", "/scim/v2/Users/{uid}", ct, `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`},
		{"PATCH", "/scim/v2/Users/{uid}?attributes=userName", ct, `{"Operations":[{"op":"replace","value":{"name.givenName":"K"}}]}`},
		{"PATCH", "/scim/v2/Groups/{gid}", ct, `{"Operations":[{"op":"remove","path":"members[value eq \"{uid}\"]"}]}`},
		{"PATCH", "/scim/v2/Groups/{gid}?attributes=members", ct, `{"Operations":[{"op":"add","path":"members","value":[{"value":"{uid}"}]}]}`},
		{"DELETE", "/scim/v2/Users/{uid}", "If-Match: *", ""},
		{"DELETE", "/scim/v2/Groups/{gid}", "", ""},
		{"PUT", "/api/system-variables/SCIM_REMOVE_USER_ON_SOFT_DELETE", "", `{"value":"y"}`},
		{"GET", "/api/system-variables/history", "", ""},
		{"DELETE", "/api/system-variables/ENABLE_SCIM_REQUEST_LOGGER", "", ""},
		{"GET", "/scim/v2/ServiceProviderConfig", "", ""},
		{"GET", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "X-Forwarded-Proto: https", ""},
		{"HEAD", "/healthz", "Authorization:", ""},
		{"GET", "/metrics", "", ""},
		{"BREW", "/scim/v2/users/", "Authorization: Basic eDp5", "{}"},
		{"POST", "/scim/v2/Users", ct, `{"a":` + strings.Repeat("[", 40)},
		{"GET", "/scim/v2/Users?filter=userName%20eq%20%22%E9%22", "", ""},
	} {
		f.Add(s.method, s.target, s.header, []byte(s.body))
	}
	fx := newHandlerFixture(f)
	f.Fuzz(func(t *testing.T, method, target, header string, body []byte) {
		fx.tb = t
		req, ok := fx.rawRequest(method, target, header, body)
		if !ok {
			return
		}
		var read bytes.Buffer // what the handler read of the body
		req.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(req.Body, &read), req.Body}
		w := httptest.NewRecorder()
		fx.s.ServeHTTP(w, req)
		code := w.Code
		if code >= 500 {
			t.Fatalf("%s %s: %d %s", req.Method, req.RequestURI, code, w.Body)
		}
		if code >= 400 && req.Method != http.MethodHead {
			var e struct {
				Status *int   `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Status == nil || *e.Status != code || e.Detail == "" {
				t.Fatalf("%s %s: %d with a body that is not an error of that status: %q", req.Method, req.RequestURI, code, w.Body)
			}
		}
		if code < 300 && read.Len() > 0 && !utf8.Valid(read.Bytes()) {
			t.Fatalf("%s %s: %d for a body that is not UTF-8: %q", req.Method, req.RequestURI, code, read.Bytes())
		}
		after := fx.dump(t)
		if after == fx.baseline {
			return
		}
		reads := req.Method == http.MethodGet || req.Method == http.MethodHead
		if code >= 300 || reads {
			t.Fatalf("%s %s answered %d and changed the database", req.Method, req.RequestURI, code)
		}
		fx.reset()
	})
}
