package replay

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/reqlog"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/sqlite"
)

// benchRequests is the size of the replay DESIGN §8 sets a target for:
// 100,000 logged requests against the embedded target in under 30 s.
const benchRequests = 100_000

var (
	benchOnce sync.Once
	benchSet  *reqlog.Set
	benchErr  error
)

// benchLog records Entra's traffic for a tenant large enough to log
// benchRequests requests (about 23,500 users and 4,700 groups), once per
// test binary. The recording is not measured.
func benchLog(b *testing.B) *reqlog.Set {
	benchOnce.Do(func() {
		dir := b.TempDir()
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "source.db"), sqlite.Options{Sync: sqlite.SyncNormal})
		if err != nil {
			benchErr = err
			return
		}
		defer st.Close()
		e := engine.New(st)
		if _, err := e.SetVar(ctx, engine.VarRequestLogger, "Y", "bench"); err != nil {
			benchErr = err
			return
		}
		logDir := filepath.Join(dir, "log")
		srv := server.New(e, server.Options{LogDir: logDir})
		c, err := client.New(client.Options{BaseURL: "http://source.invalid/scim/v2", Transport: client.HandlerTransport(server.LocalAdmin(srv))})
		if err != nil {
			benchErr = err
			return
		}
		if err := entraTraffic(ctx, c, 23_500); err != nil {
			benchErr = err
			return
		}
		if err := srv.Close(); err != nil {
			benchErr = err
			return
		}
		benchSet, benchErr = reqlog.Read([]string{logDir})
		if benchErr == nil && len(benchSet.Exchanges) < benchRequests {
			benchErr = fmt.Errorf("the traffic logged %d requests, fewer than %d", len(benchSet.Exchanges), benchRequests)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSet
}

// BenchmarkReplay100k replays 100,000 logged requests of Entra's traffic
// (match queries, creations, memberships, PATCHes in both dialects,
// reads, deletes) against a fresh embedded target, comparing every
// answer: with synchronous=NORMAL as `miscim replay` opens it, in log
// order and 4 at a time, and with --sync full. One op is the whole
// replay; the target is < 30 s (DESIGN §8).
func BenchmarkReplay100k(b *testing.B) {
	set := benchLog(b)
	trimmed := *set
	trimmed.Exchanges = set.Exchanges[:benchRequests]
	plan := NewPlan(&trimmed, Filter{})
	ignores := mustIgnores(b)
	for _, tc := range []struct {
		sync        sqlite.Sync
		concurrency int
	}{{sqlite.SyncNormal, 1}, {sqlite.SyncNormal, 4}, {sqlite.SyncFull, 4}} {
		b.Run(fmt.Sprintf("sync-%s/concurrency-%d", strings.ToLower(string(tc.sync)), tc.concurrency), func(b *testing.B) {
			concurrency := tc.concurrency
			for b.Loop() {
				b.StopTimer()
				tg := freshTargetSync(b, tc.sync)
				b.StartTimer()
				rep, err := Run(context.Background(), plan, Options{Client: tg.Client, Concurrency: concurrency, Ignore: ignores})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if n := rep.Count(Matched); n != len(plan.Requests) {
					b.Fatalf("%d of %d matched:\n%.2000s", n, len(plan.Requests), mismatches(rep))
				}
				b.ReportMetric(rep.Duration.Seconds(), "s/replay")
				b.ReportMetric(float64(len(plan.Requests))/rep.Duration.Seconds(), "req/s")
				tg.Close()
				b.StartTimer()
			}
		})
	}
}
