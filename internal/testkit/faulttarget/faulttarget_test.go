package faulttarget

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/scim"
)

// each runs a test against the target in-process and over a socket.
func each(t *testing.T, fn func(t *testing.T, ft *Target, c func(client.Options) *client.Client, socket bool)) {
	for _, socket := range []bool{false, true} {
		name := "in-process"
		if socket {
			name = "socket"
		}
		t.Run(name, func(t *testing.T) {
			var n atomic.Int64
			ft := New(t, Options{IDs: func() string { i := n.Add(1); return fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i) }})
			base := ""
			if socket {
				base = ft.Serve(t)
			}
			mk := func(o client.Options) *client.Client {
				if socket {
					return ft.Client(t, base, o)
				}
				return ft.InProcess(t, o)
			}
			fn(t, ft, mk, socket)
		})
	}
}

func user(name string) map[string]any {
	return map[string]any{"schemas": []string{scim.UserSchema}, "userName": name, "emails": []any{map[string]any{"value": name, "type": "work"}}}
}

func scimStatus(err error) (int, string) {
	var se *scim.Error
	if errors.As(err, &se) {
		return se.Status, se.ScimType
	}
	return 0, ""
}

func sequence(ft *Target) []string {
	var out []string
	for _, r := range ft.Requests() {
		out = append(out, fmt.Sprintf("%s %d", r, r.Status))
	}
	return out
}

// TestPassThrough: without a script the target is the real engine, and it
// records every request with its answer.
func TestPassThrough(t *testing.T) {
	each(t, func(t *testing.T, ft *Target, mk func(client.Options) *client.Client, _ bool) {
		c := mk(client.Options{})
		ctx := context.Background()
		u, err := c.Create(ctx, client.Users, user("ana@contoso.com"))
		if err != nil {
			t.Fatal(err)
		}
		id := scim.GetString(u, "id")
		if _, err := c.List(ctx, client.Users, client.ListParams{Filter: `userName eq "ana@contoso.com"`}); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, client.Users, id, ""); err != nil {
			t.Fatal(err)
		}
		want := []string{"POST /Users 201", `GET /Users?filter=userName eq "ana@contoso.com" 200`, "DELETE /Users/" + id + " 204"}
		if got := sequence(ft); !slices.Equal(got, want) {
			t.Errorf("received %q, want %q", got, want)
		}
		if r := ft.Requests()[0]; !strings.Contains(string(r.Body), `"userName":"ana@contoso.com"`) || r.Fault != -1 {
			t.Errorf("request %+v", r)
		}
		if ft.Count("", "") != 3 || ft.Count("post", "/users") != 1 || ft.Count("DELETE", "/Users/*") != 1 {
			t.Errorf("counts %d %d %d", ft.Count("", ""), ft.Count("post", "/users"), ft.Count("DELETE", "/Users/*"))
		}
		ft.Forget()
		if len(ft.Requests()) != 0 {
			t.Error("Forget kept requests")
		}
	})
}

// TestStatuses: 409 on the first POST only, 500 on every GET of a user,
// 404 on the GET of one linked id that exists; the faulted requests never
// reach the engine.
func TestStatuses(t *testing.T) {
	each(t, func(t *testing.T, ft *Target, mk func(client.Options) *client.Client, _ bool) {
		c := mk(client.Options{Retries: -1})
		ctx := context.Background()
		c409 := Conflict("POST", "/Users")
		c409.Times = 1
		ft.Script(c409)
		_, err := c.Create(ctx, client.Users, user("ana@contoso.com"))
		if st, typ := scimStatus(err); st != 409 || typ != "uniqueness" {
			t.Fatalf("first POST: %v", err)
		}
		u, err := c.Create(ctx, client.Users, user("ana@contoso.com"))
		if err != nil {
			t.Fatalf("second POST: %v (the faulted one reached the engine?)", err)
		}
		id := scim.GetString(u, "id")
		other, _ := c.Create(ctx, client.Users, user("bob@contoso.com"))
		ft.ClearScript()
		ft.Script(NotFound("GET", "/Users/"+id), ServerError("get", "/users/*"))
		if _, err := c.Get(ctx, client.Users, id, client.ListParams{}); func() int { s, _ := scimStatus(err); return s }() != 404 {
			t.Errorf("GET of the linked id: %v", err)
		}
		for range 2 {
			_, err := c.Get(ctx, client.Users, scim.GetString(other, "id"), client.ListParams{})
			if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "500") {
				t.Errorf("GET with a 500: %v", err)
			}
		}
		reqs := ft.Requests()
		if reqs[0].Fault != 0 || reqs[1].Fault != -1 || reqs[3].Fault != 0 || reqs[4].Fault != 1 || reqs[5].Fault != 1 {
			t.Errorf("faults applied %v\n%s", sequence(ft), ft.Faults())
		}
		// The engine holds what passed, and only that.
		if _, err := ft.Engine.GetUser(ctx, id); err != nil {
			t.Errorf("the user behind the 404: %v", err)
		}
	})
}

// TestMatching: filter, body and occurrence (Skip, Times) choose the
// requests a fault applies to.
func TestMatching(t *testing.T) {
	each(t, func(t *testing.T, ft *Target, mk func(client.Options) *client.Client, _ bool) {
		c := mk(client.Options{Retries: -1})
		ctx := context.Background()
		f := ServerError("GET", "/Users")
		f.Filter = `userName eq "b@x"`
		body := Conflict("POST", "")
		body.Body = `"carol@`
		third := NotFound("GET", "/Groups")
		third.Skip, third.Times = 2, 1
		ft.Script(f, body, third)
		for _, name := range []string{"a@x", "b@x", "a@x"} {
			c.List(ctx, client.Users, client.ListParams{Filter: `userName eq "` + name + `"`})
		}
		c.Create(ctx, client.Users, user("carol@contoso.com"))
		c.Create(ctx, client.Users, user("dave@contoso.com"))
		for range 4 {
			c.List(ctx, client.Groups, client.ListParams{})
		}
		var got []int
		for _, r := range ft.Requests() {
			got = append(got, r.Status)
		}
		if want := []int{200, 500, 200, 409, 201, 200, 200, 404, 200}; !slices.Equal(got, want) {
			t.Errorf("statuses %v, want %v\n%s", got, want, ft.Faults())
		}
	})
}

// TestRetryAfter: a 429 with Retry-After is retried by the client after
// that long, and the target saw both attempts.
func TestRetryAfter(t *testing.T) {
	each(t, func(t *testing.T, ft *Target, mk func(client.Options) *client.Client, _ bool) {
		c := mk(client.Options{})
		ctx := context.Background()
		u, err := c.Create(ctx, client.Users, user("ana@contoso.com"))
		if err != nil {
			t.Fatal(err)
		}
		f := TooManyRequests("PATCH", "/Users/*", "1")
		f.Times = 1
		ft.Script(f)
		patch := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{map[string]any{"op": "Replace", "path": "active", "value": false}}}
		if _, err := c.Patch(ctx, client.Users, scim.GetString(u, "id"), patch, ""); err != nil {
			t.Fatal(err)
		}
		reqs := ft.Requests()
		if len(reqs) != 3 || reqs[1].Status != 429 || reqs[2].Status != 200 {
			t.Fatalf("received %v", sequence(ft))
		}
		if gap := reqs[2].At.Sub(reqs[1].At); gap < 900*time.Millisecond {
			t.Errorf("retried after %v, before Retry-After's 1s", gap)
		}
	})
}

// TestSlowHangReset: a slow answer still answers; no answer is the
// client's timeout; a reset is a lost connection — and none of them wrote
// to the engine when the fault came first.
func TestSlowHangReset(t *testing.T) {
	each(t, func(t *testing.T, ft *Target, mk func(client.Options) *client.Client, socket bool) {
		ctx := context.Background()
		ft.Script(Slow("POST", "/Users", 300*time.Millisecond))
		c := mk(client.Options{Timeout: 5 * time.Second, Retries: -1})
		start := time.Now()
		if _, err := c.Create(ctx, client.Users, user("slow@contoso.com")); err != nil || time.Since(start) < 300*time.Millisecond {
			t.Errorf("slow POST: %v after %v", err, time.Since(start))
		}
		ft.ClearScript()
		ft.Script(Hang("GET", "/Users"))
		short := mk(client.Options{Timeout: 200 * time.Millisecond, Retries: -1})
		start = time.Now()
		_, err := short.List(ctx, client.Users, client.ListParams{})
		if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "(timeout)") || time.Since(start) > 3*time.Second {
			t.Errorf("hung GET: %v after %v", err, time.Since(start))
		}
		ft.ClearScript()
		ft.Script(Reset("POST", "/Users"))
		_, err = c.Create(ctx, client.Users, user("reset@contoso.com"))
		if err == nil {
			t.Fatal("reset POST succeeded")
		}
		if socket && !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("reset over a socket: %v", err)
		}
		if !socket && !strings.Contains(err.Error(), "aborted") {
			t.Errorf("reset in-process: %v", err)
		}
		ft.ClearScript()
		lr, err := c.List(ctx, client.Users, client.ListParams{})
		if err != nil || lr.TotalResults != 1 {
			t.Errorf("users after the faults: %+v %v (only the slow one was created)", lr, err)
		}
		got := sequence(ft)
		want := []string{"POST /Users 201", "GET /Users 0", "POST /Users 0", "GET /Users 200"}
		if !slices.Equal(got, want) {
			t.Errorf("received %q, want %q", got, want)
		}
	})
}

// TestBehindTheTargetsBack: a user deleted through the engine is a real
// 404 for its linked id (InvalidAnchor), no script needed.
func TestBehindTheTargetsBack(t *testing.T) {
	each(t, func(t *testing.T, ft *Target, mk func(client.Options) *client.Client, _ bool) {
		c := mk(client.Options{})
		ctx := context.Background()
		u, err := c.Create(ctx, client.Users, user("gone@contoso.com"))
		if err != nil {
			t.Fatal(err)
		}
		if err := ft.Engine.DeleteUser(ctx, scim.GetString(u, "id"), ""); err != nil {
			t.Fatal(err)
		}
		_, err = c.Get(ctx, client.Users, scim.GetString(u, "id"), client.ListParams{})
		if st, _ := scimStatus(err); st != http.StatusNotFound {
			t.Errorf("GET of the deleted user: %v", err)
		}
	})
}

func TestSoftDeleteMode(t *testing.T) {
	ft := New(t, Options{SoftDelete: "y"})
	v, err := ft.Engine.Var(context.Background(), "SCIM_REMOVE_USER_ON_SOFT_DELETE")
	if err != nil || v.Value != "Y" {
		t.Errorf("variable %+v %v", v, err)
	}
}
