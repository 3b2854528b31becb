package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/miscim/miscim/internal/reqlog"
)

// TestJournalGroupCommit: every record written concurrently is in the
// file, whole and once, when its wait returns; concurrent writers share
// syncs.
func TestJournalGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal")
	j, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 50
	var wg sync.WaitGroup
	var mu sync.Mutex // what the durable handler holds while adding
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				mu.Lock()
				ticket := j.add(record("POST", fmt.Sprintf("%d-%d", w, i), []byte(`{"x":1}`)))
				mu.Unlock()
				if err := j.wait(ticket); err != nil {
					t.Error(err)
					return
				}
				// Durable means in the file: read it back.
				b, err := os.ReadFile(path)
				if err != nil || !bytes.Contains(b, []byte(fmt.Sprintf(`"id":"%d-%d"`, w, i))) {
					t.Errorf("record %d-%d not in the journal after its wait (%v)", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	recs, syncs := j.stats()
	if recs != writers*each {
		t.Errorf("%d records durable, want %d", recs, writers*each)
	}
	if syncs == 0 || syncs >= recs {
		t.Errorf("%d syncs for %d records: concurrent writes did not share a sync", syncs, recs)
	}
	f, _ := os.Open(path)
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, `{"op":"POST","id":"`) || !strings.HasSuffix(line, `,"body":{"x":1}}`) {
			t.Fatalf("torn or foreign record %q", line)
		}
		if seen[line] {
			t.Fatalf("record written twice: %q", line)
		}
		seen[line] = true
	}
	if len(seen) != writers*each {
		t.Errorf("journal holds %d records, want %d", len(seen), writers*each)
	}
}

func res(rps float64, p99 time.Duration) result {
	return result{requests: int64(rps), elapsed: time.Second, p99: p99}
}

func roundOf(serve, durable, logged, reads, readMem float64, p99 time.Duration, records int) round {
	return round{runs: map[string]result{
		mixedMemory:   res(20000, time.Millisecond),
		mixedDurable:  res(durable, time.Millisecond),
		mixedServe:    res(serve, p99),
		mixedServeLog: res(logged, p99),
		readMemory:    res(readMem, time.Millisecond),
		readServe:     res(reads, time.Millisecond),
	}, logged: records}
}

// TestJudge: each target is judged on the median round; the request-log
// record check must hold in every round; errors fail the run.
func TestJudge(t *testing.T) {
	ok := roundOf(7000, 10000, 6000, 5000, 10000, 5*time.Millisecond, 6000)
	slow := roundOf(5000, 10000, 4000, 4000, 10000, 30*time.Millisecond, 4000)
	missing := ok
	missing.logged = 5999
	leaked := ok
	leaked.leaked = 3
	failed := roundOf(7000, 10000, 6000, 5000, 10000, 5*time.Millisecond, 6000)
	r := failed.runs[readServe]
	r.errors, r.firstErr = 2, "GET /Users/x: 500"
	failed.runs[readServe] = r

	for _, tc := range []struct {
		name   string
		rounds []round
		want   bool
	}{
		{"all met", []round{ok, ok, ok}, true},
		{"one slow round of three", []round{ok, slow, ok}, true},
		{"two slow rounds of three", []round{slow, ok, slow}, false},
		{"a log record missing in one round", []round{ok, missing, ok}, false},
		{"records written with the log off", []round{ok, ok, leaked}, false},
		{"errors", []round{ok, failed, ok}, false},
		{"no rounds", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := judge(tc.rounds).ok(); got != tc.want {
				var b bytes.Buffer
				printVerdict(&b, judge(tc.rounds), len(tc.rounds))
				t.Errorf("ok = %v, want %v\n%s", got, tc.want, b.String())
			}
		})
	}
}

// TestJudgeBoundaries: the targets' limits themselves pass.
func TestJudgeBoundaries(t *testing.T) {
	// serve at exactly 0.7 of the durable baseline and 0.5 of the in-memory
	// one, logging costing exactly 20%.
	v := judge([]round{roundOf(7000, 10000, 5600, 5000, 10000, 19*time.Millisecond, 5600)})
	for _, c := range v.checks {
		if !c.met() {
			t.Errorf("%s: %s missed at its limit", c.name, c.format(c.median()))
		}
	}
	v = judge([]round{roundOf(6999, 10000, 5599, 4999, 10000, 20*time.Millisecond, 5599)})
	for _, c := range v.checks[:4] {
		if c.met() {
			t.Errorf("%s: %s met beyond its limit", c.name, c.format(c.median()))
		}
	}
}

// TestCountRecords counts the records of a request-log directory and fails
// on a line that is not one.
func TestCountRecords(t *testing.T) {
	dir := t.TempDir()
	if n, err := countRecords(filepath.Join(dir, "absent")); n != 0 || err != nil {
		t.Fatalf("absent directory: %d, %v", n, err)
	}
	w, err := reqlog.NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		w.Write(reqlog.Record{Time: time.Now().UTC().Format(time.RFC3339Nano), Seq: uint64(i), Method: "GET", Path: "/scim/v2/Users", Status: 200})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := countRecords(dir); n != 3 || err != nil {
		t.Fatalf("countRecords = %d, %v; want 3", n, err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "scim-*.jsonl"))
	f, err := os.OpenFile(names[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{torn\n")
	f.Close()
	if _, err := countRecords(dir); err == nil {
		t.Fatal("a line that is not a record was counted")
	}
}

// TestClassify: a profile sample is counted under the first component its
// stack matches — the store's raw fdatasync as the durable commit, not as
// the store's own code or a network syscall.
func TestClassify(t *testing.T) {
	sample := func(fns ...string) *profile.Sample { // leaf first
		s := &profile.Sample{}
		for _, fn := range fns {
			s.Location = append(s.Location, &profile.Location{Line: []profile.Line{{Function: &profile.Function{Name: fn}}}})
		}
		return s
	}
	tests := []struct {
		stack []string
		want  string
	}{
		{[]string{"internal/runtime/syscall/linux.Syscall6", "syscall.RawSyscall", "github.com/miscim/miscim/internal/store/sqlite.fdatasync", "github.com/miscim/miscim/internal/store/sqlite.(*Store).syncWAL"}, "fdatasync (the durable commit)"},
		{[]string{"internal/runtime/syscall/linux.Syscall6", "syscall.Fdatasync", "main.(*journal).wait"}, "fdatasync (the durable commit)"},
		{[]string{"github.com/ncruces/go-sqlite3-wasm/v6.(*Module)._sqlite3VdbeExec", "github.com/miscim/miscim/internal/store/sqlite.(*tx).exec", "net/http.(*conn).serve"}, "SQLite (statements, commit; the driver)"},
		{[]string{"internal/runtime/syscall/linux.Syscall6", "syscall.write", "net/http.(*conn).serve"}, "network syscalls (read, write, epoll)"},
		{[]string{"github.com/miscim/miscim/internal/engine.UserResource", "net/http.(*conn).serve"}, "miscim engine, scim, store"},
		{[]string{"net/http.(*conn).readRequest", "net/http.(*conn).serve"}, "net/http (parsing, headers, connections)"},
	}
	for _, tt := range tests {
		if got := classify(sample(tt.stack...)); got != tt.want {
			t.Errorf("classify(%s) = %q, want %q", tt.stack[0]+" … "+tt.stack[len(tt.stack)-1], got, tt.want)
		}
	}
}
