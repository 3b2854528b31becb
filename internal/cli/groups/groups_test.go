package groups

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
	"github.com/miscim/miscim/internal/testkit"
)

func golden(t *testing.T, name string, got []byte) { testkit.Golden(t, name, got) }

// queryLog records the group reads the server saw, to check that members
// are loaded only when needed.
type queryLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *queryLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/Groups") {
			l.mu.Lock()
			l.reqs = append(l.reqs, r.URL.RequestURI())
			l.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.reqs
	l.reqs = nil
	return out
}

// seeded is a real engine on SQLite (sequential ids, fixed clock) read
// through SCIM as the embedded target reads it, holding users
// 00000001..3 (bob soft-deleted) and groups Finance (alice, bob), Sales
// (no description, no members).
func seeded(t *testing.T) (*client.Client, *queryLog) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "miscim.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var n atomic.Int64
	ids := func() string { i := n.Add(1); return fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i) }
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	e := engine.New(st, engine.WithIDGenerator(ids), engine.WithClock(clock))
	for _, body := range []string{
		`{"userName":"alice@example.com","emails":[{"value":"alice@example.com","type":"work"}]}`,
		`{"userName":"bob@example.com","emails":[{"value":"bob@example.com"}]}`,
		`{"userName":"carol@example.com","emails":[{"value":"carol@example.com"}]}`,
	} {
		if _, err := e.CreateUser(ctx, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.PatchUser(ctx, "00000002-0000-4000-8000-000000000002", []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`), ""); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"displayName":"Finance","externalId":"fin-alias","description":"Finance team, all regions","members":[{"value":"00000001-0000-4000-8000-000000000001"},{"value":"00000002-0000-4000-8000-000000000002"}]}`,
		`{"displayName":"Sales","externalId":"sales"}`,
	} {
		if _, err := e.CreateGroup(ctx, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	srv := server.New(e, server.Options{})
	t.Cleanup(func() { srv.Close() })
	log := &queryLog{}
	c, err := client.New(client.Options{BaseURL: target.EmbeddedBaseURL, Transport: client.HandlerTransport(log.wrap(server.LocalAdmin(srv)))})
	if err != nil {
		t.Fatal(err)
	}
	return c, log
}

const financeID = "00000004-0000-4000-8000-000000000004"

func streams(tty bool) (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	return ios, out, errOut
}

// output runs a command into streams that are a terminal of width columns,
// or piped when width is 0, and returns what the golden file holds: stdout
// and, on a terminal, stderr, after checking that stdout fits (no line
// wider than the terminal, none ending in whitespace).
func output(t *testing.T, width int, run func(*iostreams.IOStreams) error) []byte {
	t.Helper()
	ios, out, errOut := streams(width > 0)
	if width == 0 {
		if err := run(ios); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	ios.SetTerminalWidth(width)
	if err := run(ios); err != nil {
		t.Fatal(err)
	}
	testkit.FitsTerminal(t, out.Bytes(), width, render.DisplayWidth)
	return []byte(out.String() + "--- stderr\n" + errOut.String())
}

func TestListGolden(t *testing.T) {
	c, log := seeded(t)
	for _, tc := range []struct {
		name   string
		width  int // 0: piped
		format render.Format
	}{
		{"list-piped", 0, render.FormatTable},
		{"list-tty-80", 80, render.FormatTable}, // the description is cut
		{"list-tty-160", 160, render.FormatTable},
		{"list-json", 0, render.FormatJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, output(t, tc.width, func(ios *iostreams.IOStreams) error {
				return listRun(context.Background(), &ListOptions{IO: ios, Format: tc.format, Client: c})
			}))
		})
	}
	for _, q := range log.take() {
		if !strings.Contains(q, "excludedAttributes=members") {
			t.Errorf("groups read with members: %s", q)
		}
	}
}

func TestListFilterErrorsAndEmpty(t *testing.T) {
	c, _ := seeded(t)
	ios, out, _ := streams(false)
	if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Filter: `displayName sw "sal"`, Client: c}); err != nil {
		t.Fatal(err)
	}
	if want := "Sales\tsales\t-\t00000005-0000-4000-8000-000000000005\n"; out.String() != want {
		t.Errorf("got %q, want %q", out, want)
	}

	ios, out, errOut := streams(true)
	if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Filter: `displayName eq "none"`, Client: c}); err != nil || out.Len() != 0 || errOut.String() != "no groups matched\n" {
		t.Errorf("empty on a TTY: out %q err %q %v", out, errOut, err)
	}

	ios, _, _ = streams(false)
	err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Filter: `displayName eq`, Client: c})
	var ie *cmdutil.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "the target rejected the filter") {
		t.Errorf("invalid filter: want InputError, got %T %v", err, err)
	}
}

func TestGetGolden(t *testing.T) {
	c, log := seeded(t)
	for _, tc := range []struct {
		name, arg string
		width     int // 0: piped
		format    render.Format
	}{
		{"get-tty-80", "finance", 80, render.FormatTable},
		{"get-tty-160", "finance", 160, render.FormatTable},
		{"get-piped", financeID, 0, render.FormatTable},
		{"get-json", "Finance", 0, render.FormatJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, output(t, tc.width, func(ios *iostreams.IOStreams) error {
				return getRun(context.Background(), &GetOptions{IO: ios, Format: tc.format, Arg: tc.arg, Client: c})
			}))
		})
	}
	for _, q := range log.take() {
		if !strings.Contains(q, "excludedAttributes=members") {
			t.Errorf("get read members: %s", q)
		}
	}

	ios, _, _ := streams(false)
	err := getRun(context.Background(), &GetOptions{IO: ios, Format: render.FormatTable, Arg: "Marketing", Client: c})
	var ie *cmdutil.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `no group has the id or name "Marketing"`) || !strings.Contains(ie.Hints[0], "miscim groups list") {
		t.Errorf("not found: got %T %v", err, err)
	}
}

func TestMembersGolden(t *testing.T) {
	c, _ := seeded(t)
	for _, tc := range []struct {
		name, arg string
		width     int // 0: piped
		format    render.Format
	}{
		{"members-tty-80", "Finance", 80, render.FormatTable},
		{"members-tty-160", "Finance", 160, render.FormatTable},
		{"members-piped", financeID, 0, render.FormatTable},
		{"members-json", "FINANCE", 0, render.FormatJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, output(t, tc.width, func(ios *iostreams.IOStreams) error {
				return membersRun(context.Background(), &MembersOptions{IO: ios, Format: tc.format, Arg: tc.arg, Client: c})
			}))
		})
	}

	ios, out, errOut := streams(true)
	if err := membersRun(context.Background(), &MembersOptions{IO: ios, Format: render.FormatTable, Arg: "Sales", Client: c}); err != nil || out.Len() != 0 || errOut.String() != "group Sales has no members\n" {
		t.Errorf("no members: out %q err %q %v", out, errOut, err)
	}
	ios, out, _ = streams(false)
	if err := membersRun(context.Background(), &MembersOptions{IO: ios, Format: render.FormatJSON, Arg: "Sales", Client: c}); err != nil || out.String() != "[]\n" {
		t.Errorf("no members, json: %q %v", out, err)
	}
}

// plainSCIM is a SCIM endpoint as a real MI may be: group members without
// display, numeric ids, 404 for a name used as an id.
func plainSCIM(t *testing.T) *client.Client {
	t.Helper()
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"7","displayName":"Finance"}`
	withMembers := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"7","displayName":"Finance","members":[{"value":"17"},{"value":"99"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/scim/v2/Groups" && q.Get("filter") == `displayName eq "Finance"`:
			fmt.Fprintf(w, `{"totalResults":1,"Resources":[%s]}`, group)
		case r.URL.Path == "/scim/v2/Groups/7" && q.Get("excludedAttributes") == "members":
			fmt.Fprint(w, group)
		case r.URL.Path == "/scim/v2/Groups/7":
			fmt.Fprint(w, withMembers)
		case r.URL.Path == "/scim/v2/Users/17":
			fmt.Fprint(w, `{"id":"17","userName":"alice@example.com"}`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"not found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.Options{BaseURL: srv.URL + "/scim/v2"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMembersLookedUpWithoutDisplay(t *testing.T) {
	c := plainSCIM(t)
	ios, out, _ := streams(false)
	if err := membersRun(context.Background(), &MembersOptions{IO: ios, Format: render.FormatTable, Arg: "Finance", Client: c}); err != nil {
		t.Fatal(err)
	}
	// 17 is a user; 99 is not (stale member): "-".
	if want := "alice@example.com\t17\n-\t99\n"; out.String() != want {
		t.Errorf("got %q, want %q", out, want)
	}
	ios, out, _ = streams(false)
	if err := membersRun(context.Background(), &MembersOptions{IO: ios, Format: render.FormatJSON, Arg: "7", Client: c}); err != nil {
		t.Fatal(err)
	}
	if want := "[\n  {\n    \"value\": \"17\"\n  },\n  {\n    \"value\": \"99\"\n  }\n]\n"; out.String() != want {
		t.Errorf("json must be the members as returned: %q", out)
	}
}

func TestTargetUnavailablePassesThrough(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/scim/v2"
	srv.Close()
	c, err := client.New(client.Options{BaseURL: base, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ios, _, _ := streams(false)
	for name, run := range map[string]func() error{
		"list": func() error {
			return listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, Filter: "x", Client: c})
		},
		"get": func() error {
			return getRun(context.Background(), &GetOptions{IO: ios, Format: render.FormatTable, Arg: "x", Client: c})
		},
		"members": func() error {
			return membersRun(context.Background(), &MembersOptions{IO: ios, Format: render.FormatTable, Arg: "x", Client: c})
		},
	} {
		if err := run(); !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("%s: want ErrUnavailable (exit 5), got %v", name, err)
		}
	}
}

func factory(c *client.Client, output string) (*cmdutil.Factory, *bytes.Buffer) {
	ios, _, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IO: ios, Flags: &config.Flags{Output: output}, Now: time.Now}
	f.Target = func(context.Context) (*target.Target, error) {
		if c == nil {
			return nil, errors.New("no target")
		}
		return &target.Target{Client: c}, nil
	}
	return f, out
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

func TestCommandsThroughFactory(t *testing.T) {
	c, _ := seeded(t)
	f, out := factory(c, "table")
	if err := execute(NewCmdGroups(f), "members", "Finance"); err != nil {
		t.Fatal(err)
	}
	if want := "alice@example.com\t00000001-0000-4000-8000-000000000001\nbob@example.com\t00000002-0000-4000-8000-000000000002\n"; out.String() != want {
		t.Errorf("members: %q", out)
	}
	f, _ = factory(c, "table")
	var fe *cmdutil.FlagError
	if err := execute(NewCmdGroups(f), "list", "--limit", "-2"); !errors.As(err, &fe) {
		t.Errorf("--limit -2: %v", err)
	}
	if err := execute(NewCmdGroups(f), "get"); !errors.As(err, &fe) || !strings.Contains(err.Error(), "missing the group's id or name") {
		t.Errorf("get without argument: %v", err)
	}
	f, out = factory(c, "table")
	if err := execute(NewCmdGroups(f), "list", "--limit", "1"); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("--limit 1: %q %v", out, err)
	}
}

func TestCompletion(t *testing.T) {
	c, _ := seeded(t)
	f, _ := factory(c, "table")
	for _, cmd := range []*cobra.Command{NewCmdGet(f, nil), NewCmdMembers(f, nil)} {
		cmd.SetContext(context.Background())
		got, dir := cmd.ValidArgsFunction(cmd, nil, "f")
		if fmt.Sprint(got) != fmt.Sprint([]cobra.Completion{"Finance\t" + financeID}) || dir != cobra.ShellCompDirectiveNoFileComp {
			t.Errorf("%s: %q %v", cmd.Name(), got, dir)
		}
	}
}

func TestEveryLeafIsDocumented(t *testing.T) {
	f, _ := factory(nil, "table")
	for _, c := range NewCmdGroups(f).Commands() {
		if c.Short == "" || c.Long == "" || c.Example == "" || c.Args == nil {
			t.Errorf("%s: Short, Long, Example and Args must be set", c.Name())
		}
		if s := c.Short; strings.HasSuffix(s, ".") || strings.ToUpper(s[:1]) != s[:1] {
			t.Errorf("%s: Short %q must start upper-case and have no final period", c.Name(), s)
		}
	}
}
