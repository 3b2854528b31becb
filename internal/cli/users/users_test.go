package users

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
	"github.com/miscim/miscim/internal/testkit"
)

func golden(t *testing.T, name string, got []byte) { testkit.Golden(t, name, got) }

// newEngine is a real engine on SQLite with sequential ids and a fixed
// clock, so golden files are stable.
func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "miscim.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var n atomic.Int64
	ids := func() string { i := n.Add(1); return fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i) }
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	return engine.New(st, engine.WithIDGenerator(ids), engine.WithClock(clock))
}

// engineClient reads the engine through SCIM exactly as the embedded
// target does: the real server handler behind the in-process transport.
func engineClient(t *testing.T, e *engine.Engine) *client.Client {
	t.Helper()
	srv := server.New(e, server.Options{})
	t.Cleanup(func() { srv.Close() })
	c, err := client.New(client.Options{BaseURL: target.EmbeddedBaseURL, Transport: client.HandlerTransport(server.LocalAdmin(srv))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seeded holds a local admin, two SCIM users and a third soft-deleted in
// mode N (the default), whose MI username carries the prefix.
func seeded(t *testing.T) *client.Client {
	t.Helper()
	ctx := context.Background()
	e := newEngine(t)
	if _, _, err := e.CreateToken(ctx, "admin@example.com", "admin", 0); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"0a21f0f2","userName":"alice@example.com","active":true,
		  "name":{"givenName":"Alice","familyName":"Smith"},"emails":[{"value":"alice.home@example.net","primary":true},{"type":"work","value":"alice@example.com"}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com","active":true,"emails":[{"value":"bob@example.com"}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"carol@example.com","active":true,"miUserType":"power","emails":[{"value":"carol@example.com","type":"work"}]}`,
	} {
		if _, err := e.CreateUser(ctx, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	// bob is 00000003: Entra's soft delete.
	if _, err := e.PatchUser(ctx, "00000003-0000-4000-8000-000000000003", []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`), ""); err != nil {
		t.Fatal(err)
	}
	return engineClient(t, e)
}

func streams(tty bool) (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	return ios, out, errOut
}

// terminal is a terminal of the given width.
func terminal(width int) (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	ios, out, errOut := streams(true)
	ios.SetTerminalWidth(width)
	return ios, out, errOut
}

// terminalGolden checks that out fits the terminal (no line wider, none
// ending in whitespace) and compares it, and stderr, with the golden file.
func terminalGolden(t *testing.T, name string, width int, out, errOut *bytes.Buffer) {
	t.Helper()
	testkit.FitsTerminal(t, out.Bytes(), width, render.DisplayWidth)
	golden(t, name, []byte(out.String()+"--- stderr\n"+errOut.String()))
}

func TestListGolden(t *testing.T) {
	c := seeded(t)
	for _, tc := range []struct {
		name   string
		tty    bool
		format render.Format
	}{
		{"list-piped", false, render.FormatTable},
		{"list-json", false, render.FormatJSON},
		{"list-yaml", false, render.FormatYAML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, errOut := streams(tc.tty)
			if err := listRun(context.Background(), &ListOptions{IO: ios, Format: tc.format, Client: c}); err != nil {
				t.Fatal(err)
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr: %q", errOut)
			}
			golden(t, tc.name, out.Bytes())
		})
	}
	// On a terminal: the whole table at 160 columns; at 80 the name, state
	// and id stay whole, the MI username is cut, and what is left out is
	// named on stderr.
	for _, width := range []int{80, 160} {
		t.Run(fmt.Sprint("list-tty-", width), func(t *testing.T) {
			ios, out, errOut := terminal(width)
			if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Client: c}); err != nil {
				t.Fatal(err)
			}
			terminalGolden(t, fmt.Sprint("list-tty-", width), width, out, errOut)
		})
	}
}

func TestListFilterAndLimit(t *testing.T) {
	c := seeded(t)
	ios, out, _ := streams(false)
	if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Filter: "active eq false", Client: c}); err != nil {
		t.Fatal(err)
	}
	want := "bob@example.com\tdisabled\tscim-deleted-00000003-bob@example.com\tregular\tsso\tscim\tbob@example.com\t00000003-0000-4000-8000-000000000003\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out, want)
	}

	ios, out, _ = streams(false)
	if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Limit: 3, Client: c}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Errorf("--limit 3 printed %d lines:\n%s", n, out)
	}
}

// recorder records the query of every list request it passes on.
type recorder struct {
	next    http.RoundTripper
	mu      sync.Mutex
	queries []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/Users") {
		r.mu.Lock()
		r.queries = append(r.queries, req.URL.RawQuery)
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func TestListPagesThroughEverything(t *testing.T) {
	// More users than the engine's largest page: the embedded target
	// offers cursors (RFC 9865), so the list is read by cursor, in pages
	// of its maxResults.
	ctx := context.Background()
	e := newEngine(t)
	n := engine.MaxResults + 5
	if err := e.Store().Update(ctx, func(tx store.Tx) error {
		for i := range n {
			now := time.Now()
			name := fmt.Sprintf("u%04d@example.com", i)
			u := store.User{ID: fmt.Sprint("id", i), UserName: name, MIUsername: name, Email: name, Active: true,
				UserType: "regular", AuthMethod: "sso", Source: "scim", Created: now, Modified: now, Version: 1}
			if err := tx.InsertUser(u); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	srv := server.New(e, server.Options{})
	t.Cleanup(func() { srv.Close() })
	rec := &recorder{next: client.HandlerTransport(server.LocalAdmin(srv))}
	c, err := client.New(client.Options{BaseURL: target.EmbeddedBaseURL, Transport: rec})
	if err != nil {
		t.Fatal(err)
	}
	ios, out, _ := streams(false)
	if err := listRun(ctx, &ListOptions{IO: ios, Format: render.FormatTable, Client: c}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != n {
		t.Errorf("listed %d users, want %d", got, n)
	}
	if len(rec.queries) != 2 || rec.queries[0] != fmt.Sprintf("count=%d&cursor=", engine.MaxResults) || !strings.Contains(rec.queries[1], "cursor=") {
		t.Errorf("list requests %q: want two, by cursor, %d per page", rec.queries, engine.MaxResults)
	}
}

// TestListIndexOnlyTarget lists from a target that does not offer cursors
// and advertises a small filter.maxResults: every page is read by
// startIndex in pages of that size.
func TestListIndexOnlyTarget(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	const total, maxResults = 23, 7
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		if strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
			fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"filter":{"supported":true,"maxResults":%d}}`, maxResults)
			return
		}
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		q := r.URL.Query()
		start, _ := strconv.Atoi(q.Get("startIndex"))
		count, _ := strconv.Atoi(q.Get("count"))
		var res []string
		for i := start; i < start+count && i <= total; i++ {
			res = append(res, fmt.Sprintf(`{"id":"%d","userName":"u%02d@example.com","active":true}`, i, i))
		}
		fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":%d,"startIndex":%d,"itemsPerPage":%d,"Resources":[%s]}`,
			total, start, len(res), strings.Join(res, ","))
	}))
	defer srv.Close()
	c, err := client.New(client.Options{BaseURL: srv.URL + "/scim/v2"})
	if err != nil {
		t.Fatal(err)
	}
	ios, out, _ := streams(false)
	if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Client: c}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != total {
		t.Errorf("listed %d users, want %d:\n%s", got, total, out)
	}
	want := []string{"count=7&startIndex=1", "count=7&startIndex=8", "count=7&startIndex=15", "count=7&startIndex=22"}
	if !slices.Equal(queries, want) {
		t.Errorf("requests %q, want %q", queries, want)
	}
}

func TestListEmpty(t *testing.T) {
	c := seeded(t)
	for _, tty := range []bool{false, true} {
		ios, out, errOut := streams(tty)
		err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Filter: `userName eq "nobody"`, Client: c})
		if err != nil || out.Len() != 0 {
			t.Fatalf("tty=%v: out %q err %v", tty, out, err)
		}
		if got := errOut.String(); tty != (got == "no users matched\n") {
			t.Errorf("tty=%v: stderr %q", tty, got)
		}
	}
	ios, out, _ := streams(false)
	if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatJSON, Filter: `userName eq "nobody"`, Client: c}); err != nil || out.String() != "[]\n" {
		t.Errorf("json: %q %v", out, err)
	}
}

func TestListInvalidFilterIsInputError(t *testing.T) {
	c := seeded(t)
	ios, out, _ := streams(false)
	err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Filter: `userName zz "x"`, Client: c})
	var ie *cmdutil.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("want InputError (exit 2), got %T %v", err, err)
	}
	if !strings.Contains(err.Error(), `the target rejected the filter "userName zz \"x\""`) || !strings.Contains(err.Error(), "zz") || len(ie.Hints) == 0 {
		t.Errorf("error %q hints %q", err, ie.Hints)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q", out)
	}
}

func TestGetGolden(t *testing.T) {
	c := seeded(t)
	for _, width := range []int{80, 160} {
		ios, out, errOut := terminal(width)
		if err := getRun(context.Background(), &GetOptions{IO: ios, Format: render.FormatTable, Arg: "00000003-0000-4000-8000-000000000003", Client: c}); err != nil {
			t.Fatal(err)
		}
		terminalGolden(t, fmt.Sprint("get-tty-", width), width, out, errOut)
	}
	for _, tc := range []struct {
		name, arg string
		tty       bool
		format    render.Format
	}{
		{"get-piped", "BOB@example.com", false, render.FormatTable},
		{"get-json", "alice@example.com", false, render.FormatJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, _ := streams(tc.tty)
			if err := getRun(context.Background(), &GetOptions{IO: ios, Format: tc.format, Arg: tc.arg, Client: c}); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, out.Bytes())
		})
	}
}

func TestGetNotFound(t *testing.T) {
	c := seeded(t)
	ios, out, _ := streams(false)
	err := getRun(context.Background(), &GetOptions{IO: ios, Format: render.FormatTable, Arg: `no"body`, Client: c})
	var ie *cmdutil.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `no user has the id or userName "no\"body"`) {
		t.Fatalf("got %T %v", err, err)
	}
	if len(ie.Hints) == 0 || !strings.Contains(ie.Hints[0], "miscim users list") || out.Len() != 0 {
		t.Errorf("hints %q out %q", ie.Hints, out)
	}
}

// plainSCIM is a SCIM endpoint without miscim's extension, as a real MI
// may be: the MI columns must show "-". It also answers 404 for ids it does
// not know and filters by userName, like any SCIM server.
func plainSCIM(t *testing.T) *client.Client {
	t.Helper()
	alice := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"17","userName":"alice@example.com","active":"True","emails":[{"value":"alice@example.com","primary":true}]}`
	dave := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"18","userName":"dave@example.com","active":false}`
	list := func(rs ...string) string {
		return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":%d,"startIndex":1,"itemsPerPage":%d,"Resources":[%s]}`, len(rs), len(rs), strings.Join(rs, ","))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		switch {
		case r.URL.Path == "/scim/v2/Users" && r.URL.Query().Get("filter") == `userName eq "alice@example.com"`:
			fmt.Fprint(w, list(alice))
		case r.URL.Path == "/scim/v2/Users" && r.URL.Query().Get("filter") == "":
			fmt.Fprint(w, list(alice, dave))
		case r.URL.Path == "/scim/v2/Users":
			fmt.Fprint(w, list())
		case r.URL.Path == "/scim/v2/Users/17":
			fmt.Fprint(w, alice)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"Resource not found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.Options{BaseURL: srv.URL + "/scim/v2", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRemoteWithoutExtension(t *testing.T) {
	c := plainSCIM(t)
	ios, out, errOut := terminal(80)
	if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Client: c}); err != nil {
		t.Fatal(err)
	}
	terminalGolden(t, "list-remote-tty-80", 80, out, errOut)

	// By userName: GET /Users/alice@example.com is 404, the filter finds it.
	ios, out, _ = streams(false)
	if err := getRun(context.Background(), &GetOptions{IO: ios, Format: render.FormatTable, Arg: "alice@example.com", Client: c}); err != nil {
		t.Fatal(err)
	}
	golden(t, "get-remote-piped", out.Bytes())
}

func TestTargetUnavailablePassesThrough(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/scim/v2"
	srv.Close() // connection refused from now on
	c, err := client.New(client.Options{BaseURL: base, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ios, _, _ := streams(false)
	err = listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Filter: "active eq true", Client: c})
	if !errors.Is(err, client.ErrUnavailable) {
		t.Errorf("list: want ErrUnavailable (exit 5), got %v", err)
	}
	var ie *cmdutil.InputError
	if errors.As(err, &ie) {
		t.Errorf("list: unavailability must not become an input error")
	}
	err = getRun(context.Background(), &GetOptions{IO: ios, Format: render.FormatTable, Arg: "alice", Client: c})
	if !errors.Is(err, client.ErrUnavailable) {
		t.Errorf("get: want ErrUnavailable (exit 5), got %v", err)
	}
}

// factory returns a Factory whose target is c, as app wires it.
func factory(c *client.Client, output string) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IO: ios, Flags: &config.Flags{Output: output}, Now: time.Now}
	f.Target = func(context.Context) (*target.Target, error) {
		if c == nil {
			return nil, errors.New("no target")
		}
		return &target.Target{Client: c}, nil
	}
	return f, out, errOut
}

func execute(cmd *cobra.Command, args ...string) error {
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.Execute()
}

func TestNewCmdList(t *testing.T) {
	tests := []struct {
		args    string
		want    ListOptions
		wantErr string
	}{
		{args: "", want: ListOptions{}},
		{args: "--filter active+eq+false --limit 5", want: ListOptions{Filter: "active+eq+false", Limit: 5}},
		{args: "--limit -1", wantErr: "invalid --limit -1"},
		{args: "extra", wantErr: "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			f, _, _ := factory(nil, "table")
			var got *ListOptions
			err := execute(NewCmdList(f, func(_ context.Context, o *ListOptions) error { got = o; return nil }), strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want flag error %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Filter != tt.want.Filter || got.Limit != tt.want.Limit || got.Format != render.FormatTable {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestNewCmdGetArgs(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{nil, "missing the user's id"},
		{[]string{" "}, "the argument is empty"},
		{[]string{"a", "b"}, "too many arguments"},
	} {
		f, _, _ := factory(nil, "table")
		err := execute(NewCmdGet(f, func(context.Context, *GetOptions) error { return nil }), tc.args...)
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("args %q: want %q, got %v", tc.args, tc.wantErr, err)
		}
	}
}

func TestCommandsThroughFactory(t *testing.T) {
	c := seeded(t)
	f, out, _ := factory(c, "json")
	if err := execute(NewCmdUsers(f), "get", "carol@example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"userType": "power"`) {
		t.Errorf("get -o json: %s", out)
	}

	f, out, _ = factory(c, "table")
	if err := execute(NewCmdUsers(f), "list", "--filter", `userName sw "a"`); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "admin@example.com\tenabled\tadmin@example.com\tadmin\tpassword\tlocal\t-\t") ||
		!strings.Contains(out.String(), "\nalice@example.com\t") {
		t.Errorf("list: %q", out)
	}

	f, _, _ = factory(c, "xml")
	var fe *cmdutil.FlagError
	if err := execute(NewCmdUsers(f), "list"); !errors.As(err, &fe) {
		t.Errorf("-o xml: want flag error, got %v", err)
	}
}

func TestCompletion(t *testing.T) {
	c := seeded(t)
	f, _, _ := factory(c, "table")
	cmd := NewCmdGet(f, nil)
	cmd.SetContext(context.Background())
	got, dir := cmd.ValidArgsFunction(cmd, nil, "A")
	if dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("directive %v", dir)
	}
	want := []cobra.Completion{
		"admin@example.com\t00000001-0000-4000-8000-000000000001",
		"alice@example.com\t00000002-0000-4000-8000-000000000002",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, _ := cmd.ValidArgsFunction(cmd, []string{"x"}, ""); len(got) != 0 {
		t.Errorf("second argument completed: %q", got)
	}
	// Errors are swallowed: no target, no suggestions, no failure.
	f, _, _ = factory(nil, "table")
	cmd = NewCmdGet(f, nil)
	if got, dir := cmd.ValidArgsFunction(cmd, nil, ""); len(got) != 0 || dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("without target: %q %v", got, dir)
	}
}

func TestCompletionFallsBackWithoutSW(t *testing.T) {
	// plainSCIM answers any other filter with an empty list, and no error;
	// a target that rejects sw is covered by the same fallback.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("filter") != "" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":400,"scimType":"invalidFilter","detail":"sw is not supported"}`)
			return
		}
		fmt.Fprint(w, `{"totalResults":2,"Resources":[{"id":"1","userName":"ann"},{"id":"2","userName":"Bea"}]}`)
	}))
	defer srv.Close()
	c, err := client.New(client.Options{BaseURL: srv.URL + "/scim/v2"})
	if err != nil {
		t.Fatal(err)
	}
	got := cmdutil.Names(context.Background(), c, client.Users, "userName", "b")
	if fmt.Sprint(got) != fmt.Sprint([]cobra.Completion{"Bea\t2"}) {
		t.Errorf("got %q", got)
	}
}

func TestEveryLeafIsDocumented(t *testing.T) {
	f, _, _ := factory(nil, "table")
	for _, c := range NewCmdUsers(f).Commands() {
		if c.Short == "" || c.Long == "" || c.Example == "" || c.Args == nil {
			t.Errorf("%s: Short, Long, Example and Args must be set", c.Name())
		}
		if s := c.Short; strings.HasSuffix(s, ".") || strings.ToUpper(s[:1]) != s[:1] {
			t.Errorf("%s: Short %q must start upper-case and have no final period", c.Name(), s)
		}
	}
}
