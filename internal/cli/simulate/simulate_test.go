package simulate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/app"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/cli/simulate"
	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
)

const tenantYAML = `
users:
  - objectId: aaaaaaaa-0000-4000-8000-000000000001
    userPrincipalName: ann@contoso.com
    mail: ann@contoso.com
    accountEnabled: true
assignments:
  - principalId: aaaaaaaa-0000-4000-8000-000000000001
`

// options are a run's inputs against an embedded engine in dir.
func options(t *testing.T, dir string) (*simulate.Options, *iostreams.IOStreams) {
	t.Helper()
	tn := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(tn, []byte(tenantYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := iostreams.Test()
	db := filepath.Join(dir, "miscim.db")
	o := &simulate.Options{
		IO: ios, Format: "table", TenantFlags: cmdutil.TenantFlags{Tenant: tn, Scope: "assigned"},
		Dialect: "legacy", Interval: time.Second, Concurrency: 5, MemberBatch: 1, Retries: 3, Sync: "normal",
		BooleanValues: "verbatim-string", SkipScope: "all", TombstoneRename: true, EscrowSchedule: "30m,1h",
		Config: config.Resolved{DB: db},
		Getenv: func(k string) string {
			if k == "XDG_STATE_HOME" {
				return dir
			}
			return ""
		},
		Target: func(ctx context.Context, sync sqlite.Sync, har *client.HARWriter) (*target.Target, error) {
			return target.Open(ctx, target.Config{DBPath: db, LogDir: filepath.Join(dir, "log"), Retries: -1, Sync: sync, HAR: har})
		},
	}
	return o, ios
}

func TestWatchRunsCyclesUntilInterrupted(t *testing.T) {
	dir := t.TempDir()
	o, ios := options(t, dir)
	o.Watch = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waits := 0
	o.Wait = func(ctx context.Context, d time.Duration) error {
		waits++
		if d != time.Second {
			t.Errorf("waited %s, want the interval", d)
		}
		if waits == 2 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	err := simulate.Run(ctx, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	out := ios.Out.(interface{ String() string }).String()
	if !strings.Contains(out, "initial cycle 1 against embedded") || !strings.Contains(out, "incremental cycle 2 against embedded") || strings.Contains(out, "cycle 3") {
		t.Errorf("output:\n%s", out)
	}
	if code := app.ExitCode(ctx, err); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
}

func TestStateFileLocations(t *testing.T) {
	dir := t.TempDir()
	o, _ := options(t, dir)
	if err := simulate.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "miscim.simulate.db")); err != nil {
		t.Errorf("the state is not beside the embedded database: %v", err)
	}
	// --state elsewhere: a fresh state, so an initial cycle again, which
	// links the user created by the first.
	o2, ios := options(t, dir)
	o2.State = filepath.Join(dir, "other.db")
	if err := simulate.Run(context.Background(), o2); err != nil {
		t.Fatal(err)
	}
	if out := ios.Out.(interface{ String() string }).String(); !strings.Contains(out, "initial cycle 1") {
		t.Errorf("output:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		adjust func(o *simulate.Options, dir string)
		code   int
	}{
		{"success", func(o *simulate.Options, dir string) {}, 0},
		{"a failed object", func(o *simulate.Options, dir string) {
			os.WriteFile(o.TenantFlags.Tenant, []byte(strings.ReplaceAll(tenantYAML, "    mail: ann@contoso.com\n", "")), 0o644)
		}, 3},
		{"an unreadable tenant", func(o *simulate.Options, dir string) { o.TenantFlags.Tenant = filepath.Join(dir, "missing.yaml") }, 2},
		{"an unknown on-demand subject", func(o *simulate.Options, dir string) { o.OnDemand = "nobody@contoso.com" }, 2},
		{"a state file of another target", func(o *simulate.Options, dir string) {
			o.Config.DB = filepath.Join(dir, "second.db")
			o.State = filepath.Join(dir, "miscim.simulate.db")
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.name == "a state file of another target" {
				o, _ := options(t, dir)
				if err := simulate.Run(context.Background(), o); err != nil {
					t.Fatal(err)
				}
			}
			o, _ := options(t, dir)
			tc.adjust(o, dir)
			err := simulate.Run(context.Background(), o)
			code := 0
			if err != nil {
				code = app.ExitCode(context.Background(), err)
			}
			if code != tc.code {
				t.Errorf("exit %d (%v), want %d", code, err, tc.code)
			}
		})
	}
}
