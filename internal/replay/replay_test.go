package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/reqlog"
)

func mustIgnores(t testing.TB, extra ...string) []IgnorePath {
	t.Helper()
	ig, err := Ignores(extra)
	if err != nil {
		t.Fatal(err)
	}
	return ig
}

func replayTo(t testing.TB, c *client.Client, plan *Plan, concurrency int) *Report {
	t.Helper()
	rep, err := Run(context.Background(), plan, Options{Client: c, Concurrency: concurrency, Ignore: mustIgnores(t)})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// mismatches describes the mismatched and failed results.
func mismatches(rep *Report) string {
	var b strings.Builder
	for _, r := range rep.Results {
		if r.Outcome == Mismatched || r.Outcome == Failed {
			fmt.Fprintf(&b, "#%d %s (%s) sent %s: %s %d %v %v\n", r.Request.Index, r.Request.Display, r.Request.X.Pos, r.Sent, r.Outcome, r.Status, r.Err, r.Notes)
			for _, d := range r.Differences {
				fmt.Fprintf(&b, "   %s %s: %s → %s\n", d.Kind, d.Path, d.Expected, d.Actual)
			}
		}
	}
	return b.String()
}

func sameState(t *testing.T, want, got map[string]string) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		var keys []string
		for k := range want {
			if got[k] != want[k] {
				keys = append(keys, k)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Errorf("%s:\n  source %s\n  replay %s", k, want[k], got[k])
		}
	}
}

// TestReplayServeLog: a log `serve` recorded during Entra's provisioning
// replays against a fresh embedded database with no mismatch, and leaves
// the same users and groups, compared through SCIM.
func TestReplayServeLog(t *testing.T) {
	src, finish, logDir := recorded(t, 25)
	want := state(t, src)
	finish()
	set := readLog(t, logDir)
	plan := NewPlan(set, Filter{})
	if len(plan.Requests) < 100 || plan.Filtered.Total() != 0 {
		t.Fatalf("%d requests, %+v filtered", len(plan.Requests), plan.Filtered)
	}
	for _, concurrency := range []int{1, 8} {
		t.Run(fmt.Sprint("concurrency-", concurrency), func(t *testing.T) {
			tg := freshTarget(t)
			rep := replayTo(t, tg.Client, plan, concurrency)
			if n := rep.Count(Matched); n != len(plan.Requests) {
				t.Fatalf("%d of %d matched:\n%s", n, len(plan.Requests), mismatches(rep))
			}
			sameState(t, want, state(t, tg.Client))
			// The creations' ids were remapped, and the requests that used
			// them were sent with the replay's ids.
			creations, rewritten := 0, 0
			for _, r := range rep.Results {
				if r.Request.X.Method == http.MethodPost && r.Request.X.Status == http.StatusCreated {
					creations++
				}
				if r.Sent != r.Request.Rel {
					rewritten++
				}
			}
			if rep.IDs != creations || rewritten < creations {
				t.Errorf("%d ids remapped for %d creations; %d requests rewritten", rep.IDs, creations, rewritten)
			}
		})
	}
}

// tamper rewrites the first miscim record of the log for which match
// holds with change, and returns its position.
func tamper(t *testing.T, dir string, match func(reqlog.Record) bool, change func(*reqlog.Record)) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "scim-*.jsonl"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		for i, l := range lines {
			var r reqlog.Record
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			if !match(r) {
				continue
			}
			change(&r)
			nb, _ := json.Marshal(r)
			lines[i] = string(nb)
			if err := os.WriteFile(name, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("%s:%d", name, i+1)
		}
	}
	t.Fatal("no record to tamper with")
	return ""
}

// TestReplayTamperedResponse: one changed logged response is exactly one
// mismatch, shown with the path that differs.
func TestReplayTamperedResponse(t *testing.T) {
	_, finish, logDir := recorded(t, 10)
	finish()
	pos := tamper(t, logDir, func(r reqlog.Record) bool {
		return r.Method == "GET" && strings.HasPrefix(r.Path, "/scim/v2/Users/") && r.Status == 200
	}, func(r *reqlog.Record) {
		r.ResponseBody = bytes.Replace(r.ResponseBody, []byte(`"familyName":"Family"`), []byte(`"familyName":"Tampered"`), 1)
	})
	plan := NewPlan(readLog(t, logDir), Filter{})
	rep := replayTo(t, freshTarget(t).Client, plan, 1)
	if n := rep.Count(Mismatched); n != 1 {
		t.Fatalf("%d mismatches, want 1:\n%s", n, mismatches(rep))
	}
	for _, r := range rep.Results {
		if r.Outcome != Mismatched {
			continue
		}
		if r.Request.X.Pos.String() != pos || len(r.Differences) != 1 || r.Differences[0].Path != "name.familyName" ||
			string(r.Differences[0].Expected) != `"Tampered"` || string(r.Differences[0].Actual) != `"Family"` {
			t.Errorf("mismatch %s at %s: %+v", r.Request.Display, r.Request.X.Pos, r.Differences)
		}
		if !strings.Contains(r.Expected, `"familyName": "Tampered"`) || !strings.Contains(r.Actual, `"familyName": "Family"`) {
			t.Errorf("compared bodies:\n%s\n%s", r.Expected, r.Actual)
		}
	}
}

// writeAs converts a recorded log to another format, as another tool
// would have written it.
func writeAs(t *testing.T, set *reqlog.Set, format string) string {
	t.Helper()
	dir := t.TempDir()
	var buf bytes.Buffer
	name := ""
	headerList := func(h http.Header) []map[string]string {
		list := []map[string]string{}
		for k, vs := range h {
			for _, v := range vs {
				list = append(list, map[string]string{"name": k, "value": v})
			}
		}
		return list
	}
	switch format {
	case "har":
		name = "capture.har"
		var entries []any
		for _, x := range set.Exchanges {
			req := map[string]any{"method": x.Method, "url": "https://mi.example.com" + x.Target, "httpVersion": "HTTP/1.1", "headers": headerList(x.RequestHeader), "queryString": []any{}, "cookies": []any{}, "headersSize": -1, "bodySize": len(x.RequestBody)}
			if len(x.RequestBody) > 0 {
				req["postData"] = map[string]any{"mimeType": "application/scim+json", "text": string(x.RequestBody)}
			}
			content := map[string]any{"size": len(x.ResponseBody), "mimeType": "application/scim+json"}
			if len(x.ResponseBody) > 0 {
				// Half the bodies base64, as proxies write binary-safe content.
				if len(entries)%2 == 0 {
					content["text"], content["encoding"] = base64.StdEncoding.EncodeToString(x.ResponseBody), "base64"
				} else {
					content["text"] = string(x.ResponseBody)
				}
			}
			entries = append(entries, map[string]any{
				"startedDateTime": x.Time.Format(time.RFC3339Nano), "time": 1, "request": req,
				"response": map[string]any{"status": x.Status, "statusText": http.StatusText(x.Status), "httpVersion": "HTTP/1.1", "headers": headerList(x.ResponseHeader), "cookies": []any{}, "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
				"cache":    map[string]any{}, "timings": map[string]any{"send": 0, "wait": 1, "receive": 0},
			})
		}
		doc := map[string]any{"log": map[string]any{"version": "1.2", "creator": map[string]any{"name": "test", "version": "1"}, "entries": entries}}
		if err := json.NewEncoder(&buf).Encode(doc); err != nil {
			t.Fatal(err)
		}
	case "jsonl", "jsonl.gz":
		name = "requests.jsonl"
		for _, x := range set.Exchanges {
			rec := map[string]any{"timestamp": x.Time.Format(time.RFC3339Nano), "verb": x.Method, "requestUri": x.Target, "headers": x.RequestHeader,
				"statusCode": x.Status, "responseHeaders": x.ResponseHeader}
			if len(x.RequestBody) > 0 {
				rec["payload"] = json.RawMessage(x.RequestBody)
			}
			if len(x.ResponseBody) > 0 {
				rec["responseBody"] = string(x.ResponseBody) // as a string, as some loggers do
			}
			b, _ := json.Marshal(rec)
			buf.Write(b)
			buf.WriteByte('\n')
		}
		if format == "jsonl.gz" {
			name += ".gz"
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(buf.Bytes())
			zw.Close()
			buf = z
		}
	case "http":
		name = "dump.http"
		for _, x := range set.Exchanges {
			fmt.Fprintf(&buf, "%s %s HTTP/1.1\r\nHost: mi.example.com\r\n", x.Method, x.Target)
			for k, vs := range x.RequestHeader {
				for _, v := range vs {
					fmt.Fprintf(&buf, "%s: %s\r\n", k, v)
				}
			}
			if len(x.RequestBody) > 0 {
				fmt.Fprintf(&buf, "Content-Length: %d\r\n", len(x.RequestBody))
			}
			fmt.Fprintf(&buf, "\r\n%s\r\n\r\nHTTP/1.1 %d %s\r\n", x.RequestBody, x.Status, http.StatusText(x.Status))
			for k, vs := range x.ResponseHeader {
				if k == "Content-Length" {
					continue
				}
				for _, v := range vs {
					fmt.Fprintf(&buf, "%s: %s\r\n", k, v)
				}
			}
			if x.Status != http.StatusNoContent {
				fmt.Fprintf(&buf, "Content-Length: %d\r\n", len(x.ResponseBody))
			}
			fmt.Fprintf(&buf, "\r\n%s\r\n\r\n", x.ResponseBody)
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayOtherFormats: the same traffic as HAR 1.2 (as simulate --har
// and proxies write it), generic JSON Lines (gzip too) and raw HTTP/1.1
// dumps replays with no mismatch.
func TestReplayOtherFormats(t *testing.T) {
	_, finish, logDir := recorded(t, 10)
	finish()
	set := readLog(t, logDir)
	for _, format := range []struct{ name, want string }{
		{"har", "HAR 1.2 (test 1)"},
		{"jsonl", "JSON Lines: generic"},
		{"jsonl.gz", "JSON Lines: generic, gzip"},
		{"http", "HTTP/1.1 messages"},
	} {
		t.Run(format.name, func(t *testing.T) {
			path := writeAs(t, set, format.name)
			other := readLog(t, path)
			if got := other.Inputs[0].Format.String(); got != format.want {
				t.Errorf("format %q, want %q", got, format.want)
			}
			plan := NewPlan(other, Filter{})
			if len(plan.Requests) != len(set.Exchanges) {
				t.Fatalf("%d requests, want %d", len(plan.Requests), len(set.Exchanges))
			}
			rep := replayTo(t, freshTarget(t).Client, plan, 1)
			if rep.Count(Matched) != len(plan.Requests) {
				t.Fatalf("%d of %d matched:\n%s", rep.Count(Matched), len(plan.Requests), mismatches(rep))
			}
		})
	}
}

// TestReplayUnknownIDs: requests on resources the replay never saw
// created differ, and say why: a creation that failed on the replay, or a
// resource that existed before the part of the log replayed.
func TestReplayUnknownIDs(t *testing.T) {
	_, finish, logDir := recorded(t, 6)
	finish()
	set := readLog(t, logDir)

	// The target already holds user 3: its creation fails (409), and so
	// does what uses the logged id.
	tg := freshTarget(t)
	if _, err := tg.Client.Create(context.Background(), client.Users, map[string]any{"userName": userName(3), "emails": []any{map[string]any{"value": "x@contoso.com"}}}); err != nil {
		t.Fatal(err)
	}
	rep := replayTo(t, tg.Client, NewPlan(set, Filter{}), 1)
	var notes []string
	for _, r := range rep.Results {
		notes = append(notes, r.Notes...)
	}
	if rep.Count(Mismatched) == 0 || !strings.Contains(strings.Join(notes, "\n"), "did not succeed on the replay") {
		t.Errorf("mismatches:\n%s", mismatches(rep))
	}

	// Only the second half of the log: its first requests use users
	// created before it.
	mid := set.Exchanges[len(set.Exchanges)/2].Time
	plan := NewPlan(set, Filter{Since: mid})
	if plan.Filtered.Time == 0 || len(plan.Requests) == 0 {
		t.Fatalf("filtered %+v", plan.Filtered)
	}
	rep = replayTo(t, freshTarget(t).Client, plan, 1)
	notes = nil
	for _, r := range rep.Results {
		notes = append(notes, r.Notes...)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "existed before the log begins") {
		t.Errorf("mismatches:\n%s", mismatches(rep))
	}
}

func TestReplayFiltersAndStops(t *testing.T) {
	_, finish, logDir := recorded(t, 6)
	finish()
	set := readLog(t, logDir)
	plan := NewPlan(set, Filter{Match: regexp.MustCompile(`^GET /Users\?filter=userName eq`)})
	if len(plan.Requests) != 7 || plan.Filtered.Match != len(set.Exchanges)-7 {
		t.Errorf("%d requests, filtered %+v", len(plan.Requests), plan.Filtered)
	}
	for _, r := range plan.Requests {
		if r.Write {
			t.Errorf("%s counted as a write", r.Display)
		}
	}
	// A target that answers differently from the first request on: one
	// mismatch, then nothing more is sent.
	tg := freshTarget(t)
	if _, err := tg.Client.Create(context.Background(), client.Users, map[string]any{"userName": "6f1c0c4e-9c1e-4bb0-8a1c-1f2a4b8c9d0e", "emails": []any{map[string]any{"value": "x@contoso.com"}}}); err != nil {
		t.Fatal(err)
	}
	full := NewPlan(set, Filter{})
	rep, err := Run(context.Background(), full, Options{Client: tg.Client, StopOnMismatch: true, Ignore: mustIgnores(t)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count(Mismatched) != 1 || rep.Count(NotSent) != len(full.Requests)-1 || rep.Stopped != "mismatch" {
		t.Errorf("mismatched %d, not sent %d of %d, stopped %q", rep.Count(Mismatched), rep.Count(NotSent), len(full.Requests), rep.Stopped)
	}
}

func TestReplayTargetLost(t *testing.T) {
	_, finish, logDir := recorded(t, 3)
	finish()
	c, err := client.New(client.Options{BaseURL: "http://127.0.0.1:1/scim/v2", Timeout: time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	plan := NewPlan(readLog(t, logDir), Filter{})
	rep, err := Run(context.Background(), plan, Options{Client: c, Concurrency: 4, Ignore: mustIgnores(t)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != "unavailable" || rep.Err == nil || rep.Count(Failed) == 0 || rep.Count(Failed)+rep.Count(NotSent) != len(plan.Requests) {
		t.Errorf("stopped %q (%v): failed %d, not sent %d", rep.Stopped, rep.Err, rep.Count(Failed), rep.Count(NotSent))
	}
}
