package tokens

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/testkit"
)

func testFactory() (*cmdutil.Factory, *iostreams.IOStreams) {
	ios, _, _, _ := iostreams.Test()
	return &cmdutil.Factory{IO: ios, Flags: &config.Flags{Output: "table"}, Now: time.Now}, ios
}

func TestNewCmdCreate(t *testing.T) {
	tests := []struct {
		args    string
		want    CreateOptions
		wantErr string
	}{
		{args: "--user ann", want: CreateOptions{User: "ann", Role: "admin"}},
		{args: "--user ann --role Power --expires 90d", want: CreateOptions{User: "ann", Role: "Power", Expires: 90 * 24 * time.Hour}},
		{args: "--user ann --expires 12h", want: CreateOptions{User: "ann", Role: "admin", Expires: 12 * time.Hour}},
		{args: "--user ann --expires never", want: CreateOptions{User: "ann", Role: "admin"}},
		{args: "", wantErr: "--user is required"},
		{args: "--user ann --role root", wantErr: `invalid value "root" for --role`},
		{args: "--user ann --expires 0d", wantErr: `invalid --expires "0d"`},
		{args: "--user ann --expires -1h", wantErr: `invalid --expires "-1h"`},
		{args: "--user ann extra", wantErr: "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			f, _ := testFactory()
			var got *CreateOptions
			cmd := NewCmdCreate(f, func(_ context.Context, o *CreateOptions) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(&strings.Builder{})
			cmd.SetErr(&strings.Builder{})
			err := cmd.Execute()
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
			if got.User != tt.want.User || got.Role != tt.want.Role || got.Expires != tt.want.Expires {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestCreateRunOutput(t *testing.T) {
	created := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	fake := func(role string) func(context.Context, string, string, time.Duration) (engine.TokenInfo, string, error) {
		return func(_ context.Context, user, _ string, ttl time.Duration) (engine.TokenInfo, string, error) {
			info := engine.TokenInfo{ID: "abc123", User: user, Role: role, Created: created}
			if ttl > 0 {
				info.Expires = created.Add(ttl)
			}
			return info, "miscim_SECRET", nil
		}
	}
	t.Run("table prints the token alone", func(t *testing.T) {
		ios, _, out, errOut := iostreams.Test()
		err := createRun(context.Background(), &CreateOptions{IO: ios, Format: render.FormatTable, User: "ann", Role: "admin", Create: fake("admin")})
		if err != nil || out.String() != "miscim_SECRET\n" || errOut.Len() != 0 {
			t.Fatalf("out %q err %q %v", out, errOut, err)
		}
	})
	t.Run("json", func(t *testing.T) {
		ios, _, out, _ := iostreams.Test()
		err := createRun(context.Background(), &CreateOptions{IO: ios, Format: render.FormatJSON, User: "ann", Role: "admin", Expires: time.Hour, Create: fake("admin")})
		want := `{
  "id": "abc123",
  "user": "ann",
  "role": "admin",
  "token": "miscim_SECRET",
  "created": "2026-11-27T10:00:00.000Z",
  "expires": "2026-11-27T11:00:00.000Z"
}
`
		if err != nil || out.String() != want {
			t.Fatalf("got %s %v", out, err)
		}
	})
	t.Run("non-admin warns on stderr", func(t *testing.T) {
		ios, _, out, errOut := iostreams.Test()
		_ = createRun(context.Background(), &CreateOptions{IO: ios, Format: render.FormatTable, User: "v", Role: "regular", Create: fake("regular")})
		if out.String() != "miscim_SECRET\n" || !strings.Contains(errOut.String(), "SCIM accepts only an Admin's token") {
			t.Fatalf("out %q err %q", out, errOut)
		}
	})
}

func TestListOutput(t *testing.T) {
	created := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return created.Add(48 * time.Hour) }
	list := func(context.Context) ([]engine.TokenInfo, error) {
		return []engine.TokenInfo{
			{ID: "k3v9qa", User: "admin@example.com", Role: "admin", Created: created},
			{ID: "p2m7xd", User: "ci-provisioning@contoso.onmicrosoft.com", Role: "admin", Created: created, Expires: created.Add(24 * time.Hour)},
			{ID: "z8c4wn", User: "viewer@example.com", Role: "regular", Created: created, Expires: created.Add(90 * 24 * time.Hour)},
		}, nil
	}
	for _, tc := range []struct {
		name  string
		width int // 0: piped
	}{
		{"list-piped", 0},
		{"list-tty-80", 80}, // CREATED left out: the expiry says more
		{"list-tty-160", 160},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			ios.SetStdoutTTY(tc.width > 0)
			ios.SetTerminalWidth(tc.width)
			if err := listRun(context.Background(), &ListOptions{IO: ios, Format: render.FormatTable, List: list, Now: now}); err != nil {
				t.Fatal(err)
			}
			if tc.width == 0 {
				testkit.Golden(t, tc.name, out.Bytes())
				return
			}
			testkit.FitsTerminal(t, out.Bytes(), tc.width, render.DisplayWidth)
			testkit.Golden(t, tc.name, []byte(out.String()+"--- stderr\n"+errOut.String()))
		})
	}
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]time.Duration{"never": 0, "": 0, "90d": 90 * 24 * time.Hour, "1h30m": 90 * time.Minute} {
		if got, err := ParseExpiry(in); err != nil || got != want {
			t.Errorf("ParseExpiry(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"soon", "d", "-5d", "0s"} {
		if _, err := ParseExpiry(bad); err == nil {
			t.Errorf("ParseExpiry(%q) accepted", bad)
		}
	}
}
