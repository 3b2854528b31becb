package vars

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/testkit"
)

var at = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// fakeAPI answers like the admin API of an engine holding one change.
type fakeAPI struct{ err error }

func (f fakeAPI) Vars(context.Context) ([]client.Var, error) {
	return []client.Var{
		{Name: "ENABLE_SCIM_REQUEST_LOGGER", Value: "N", Default: "N", Allowed: []string{"Y", "N"}, Description: "Log every SCIM request and response to the request-log directory."},
		{Name: "SCIM_REMOVE_USER_ON_SOFT_DELETE", Value: "Y", Default: "N", Allowed: []string{"Y", "N"}, IsSet: true,
			Description: "On soft delete (active=false): Y deletes the MI user; N disables it and prefixes its MI username.",
			LastChange:  &client.VarChange{Old: "", New: "Y", Who: "admin@example.com", At: at}},
	}, f.err
}

func (f fakeAPI) Var(ctx context.Context, name string) (client.Var, error) {
	vs, _ := f.Vars(ctx)
	for _, v := range vs {
		if strings.EqualFold(v.Name, name) {
			return v, f.err
		}
	}
	return client.Var{}, &scim.Error{Status: 400, ScimType: "invalidValue", Detail: `unknown system variable "` + name + `"`}
}

func (f fakeAPI) SetVar(ctx context.Context, name, value string) (client.Var, error) {
	v, err := f.Var(ctx, name)
	v.Value = strings.ToUpper(value)
	return v, err
}

func (f fakeAPI) UnsetVar(ctx context.Context, name string) (client.Var, error) {
	v, err := f.Var(ctx, name)
	v.Value, v.IsSet = v.Default, false
	return v, err
}

func (f fakeAPI) VarHistory(context.Context, string) ([]client.VarChange, error) {
	return []client.VarChange{{Name: "SCIM_REMOVE_USER_ON_SOFT_DELETE", Old: "", New: "Y", Who: "admin@example.com", At: at}}, f.err
}

func TestOutputs(t *testing.T) {
	tests := []struct {
		name   string
		run    func(context.Context, *Options) error
		opts   Options
		width  int // 0: piped; else a terminal of that many columns
		format render.Format
	}{
		{"list-tty-80", listRun, Options{}, 80, render.FormatTable}, // the last change left out, descriptions wrapped
		{"list-tty-160", listRun, Options{}, 160, render.FormatTable},
		{"list-piped", listRun, Options{}, 0, render.FormatTable},
		{"list-json", listRun, Options{}, 0, render.FormatJSON},
		{"get-piped", getRun, Options{Name: "scim_remove_user_on_soft_delete"}, 0, render.FormatTable},
		{"get-yaml", getRun, Options{Name: "SCIM_REMOVE_USER_ON_SOFT_DELETE"}, 0, render.FormatYAML},
		{"history-tty-80", historyRun, Options{}, 80, render.FormatTable},
		{"history-tty-160", historyRun, Options{}, 160, render.FormatTable},
		{"history-piped", historyRun, Options{}, 0, render.FormatTable},
		{"history-json", historyRun, Options{}, 0, render.FormatJSON},
		{"set-json", setRun, Options{Name: "ENABLE_SCIM_REQUEST_LOGGER", Value: "y"}, 0, render.FormatJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			ios.SetStdoutTTY(tt.width > 0)
			ios.SetTerminalWidth(tt.width)
			opts := tt.opts
			opts.IO, opts.Format, opts.API = ios, tt.format, fakeAPI{}
			if err := tt.run(context.Background(), &opts); err != nil {
				t.Fatal(err)
			}
			if tt.width == 0 {
				testkit.Golden(t, tt.name, out.Bytes())
				return
			}
			// No line wider than the terminal, none ending in whitespace.
			testkit.FitsTerminal(t, out.Bytes(), tt.width, render.DisplayWidth)
			testkit.Golden(t, tt.name, []byte(out.String()+"--- stderr\n"+errOut.String()))
		})
	}
}

func TestSetReportsTheChangeOnATerminal(t *testing.T) {
	ios, _, out, errOut := iostreams.Test()
	ios.SetStderrTTY(true)
	opts := &Options{IO: ios, API: fakeAPI{}, Name: "ENABLE_SCIM_REQUEST_LOGGER", Value: "y", Format: render.FormatTable}
	if err := setRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || errOut.String() != "ENABLE_SCIM_REQUEST_LOGGER: N → Y\n" {
		t.Errorf("stdout %q stderr %q", out, errOut)
	}
}

func TestExplain(t *testing.T) {
	var input *cmdutil.InputError
	for _, err := range []error{
		&scim.Error{Status: 400, Detail: "invalid value"},
		&scim.Error{Status: 404, Detail: "no such variable"},
		errors.Join(errors.New("GET /api/system-variables: 404"), client.ErrNoAdminAPI),
	} {
		if got := explain(err); !errors.As(got, &input) {
			t.Errorf("%v → %v, want an input error (exit 2)", err, got)
		}
	}
	if hints := cmdutil.Hints(explain(client.ErrNoAdminAPI)); len(hints) == 0 || !strings.Contains(hints[0], "Admin > System > System Variables") {
		t.Errorf("hints %v", hints)
	}
	boom := errors.New("boom")
	if explain(boom) != boom {
		t.Error("other errors pass through")
	}
}
