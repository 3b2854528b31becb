package replay

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
)

// TestReplayClientHAR: the HAR the client records (simulate --har) of
// Entra's provisioning — over loopback to a server, and in-process to the
// embedded engine — replays into a fresh database with zero mismatches
// and leaves the same users and groups.
func TestReplayClientHAR(t *testing.T) {
	for _, mode := range []string{"loopback", "in-process"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "simulate.har")
			har, err := client.CreateHAR(path, "test")
			if err != nil {
				t.Fatal(err)
			}
			var c *client.Client
			if mode == "loopback" {
				st, err := sqlite.Open(context.Background(), filepath.Join(dir, "source.db"), sqlite.Options{Sync: sqlite.SyncNormal})
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				srv := server.New(engine.New(st), server.Options{AdminToken: adminToken})
				defer srv.Close()
				hs := httptest.NewServer(srv)
				defer hs.Close()
				if c, err = client.New(client.Options{BaseURL: hs.URL + "/scim/v2", Token: adminToken, HAR: har}); err != nil {
					t.Fatal(err)
				}
			} else {
				tg, err := target.Open(context.Background(), target.Config{DBPath: filepath.Join(dir, "source.db"), LogDir: filepath.Join(dir, "log"), Sync: sqlite.SyncNormal, HAR: har})
				if err != nil {
					t.Fatal(err)
				}
				defer tg.Close()
				c = tg.Client
			}
			if err := entraTraffic(context.Background(), c, 10); err != nil {
				t.Fatal(err)
			}
			if err := har.Close(); err != nil {
				t.Fatal(err)
			}
			want := state(t, c) // after Close: not recorded
			set := readLog(t, path)
			if got := set.Inputs[0].Format.String(); got != "HAR 1.2 (miscim test)" {
				t.Errorf("format %q", got)
			}
			plan := NewPlan(set, Filter{})
			if len(plan.Requests) != har.Entries() || len(plan.Requests) < 50 {
				t.Fatalf("%d requests planned of %d entries", len(plan.Requests), har.Entries())
			}
			tg := freshTarget(t)
			rep := replayTo(t, tg.Client, plan, 1)
			if n := rep.Count(Matched); n != len(plan.Requests) {
				t.Fatalf("%d of %d matched:\n%s", n, len(plan.Requests), mismatches(rep))
			}
			sameState(t, want, state(t, tg.Client))
		})
	}
}
