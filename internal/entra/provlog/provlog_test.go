package provlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture reads testdata/records.jsonl: two cycles of Entra-shaped
// records (an initial cycle: creates, a conflict, a skip; an incremental
// one: an update, a disable, a RedundantExport skip, an InvalidAnchor, a
// group delete), one JSON document per line, and the lines themselves.
func fixture(t testing.TB) ([]Record, [][]byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		r, err := DecodeRecord(line)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		lines = append(lines, line)
	}
	if len(recs) != 9 {
		t.Fatalf("fixture has %d records, want 9", len(recs))
	}
	return recs, lines
}

const (
	cycle1 = "9b2d4f60-1a3c-4e5f-8a7b-6c5d4e3f2a1b"
	cycle2 = "e4c3b2a1-0f9e-4d8c-b7a6-958473625140"
)

// TestRecordJSON: a record is written exactly in the shape it is read in
// (Graph's field names and order, lower-case enums, {} and [] rather than
// null, & < > unescaped), and the empty parts of a sparse record are {}
// and [], never null.
func TestRecordJSON(t *testing.T) {
	recs, lines := fixture(t)
	for i, r := range recs {
		got, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, lines[i]) {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, lines[i])
		}
	}
	if !bytes.Contains(lines[2], []byte(`"Sales & Marketing"`)) {
		t.Error("& is escaped")
	}
	sparse := Record{ID: "x", ActivityDateTime: time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)), ProvisioningSteps: []Step{{Name: "EntryImport"}}}
	b, err := sparse.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"activityDateTime":"2026-01-01T00:00:00Z"`, `"provisioningSteps":[{"name":"EntryImport","provisioningStepType":"","status":"","description":"","details":{}}]`,
		`"modifiedProperties":[]`, `"sourceIdentity":{"id":"","displayName":"","identityType":"","details":{}}`, `"errorInformation":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if strings.Count(string(b), "null") != 1 {
		t.Errorf("nulls beyond errorInformation: %s", b)
	}
	if sparse.ProvisioningSteps[0].Details != nil {
		t.Error("MarshalJSON changed the caller's steps")
	}
}

func TestValidate(t *testing.T) {
	recs, _ := fixture(t)
	good := recs[0]
	for _, tc := range []struct {
		name   string
		change func(*Record)
		want   string
	}{
		{"valid", func(*Record) {}, ""},
		{"no ids", func(r *Record) { r.ID, r.CycleID, r.ChangeID = "", "", "" }, "has no id, cycleId, changeId"},
		{"no time", func(r *Record) { r.ActivityDateTime = time.Time{} }, "has no activityDateTime"},
		{"action", func(r *Record) { r.ProvisioningAction = "Create" }, `provisioningAction "Create" is not one of`},
		{"status", func(r *Record) { r.ProvisioningStatusInfo.Status = "ok" }, `status "ok" is not one of`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.change(&r)
			err := r.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseAndDisplay(t *testing.T) {
	for in, want := range map[string]Action{"create": ActionCreate, "CREATE": ActionCreate, "stageddelete": ActionStagedDelete, "StagedDelete": ActionStagedDelete, "Other": ActionOther} {
		if got, err := ParseAction(in); err != nil || got != want {
			t.Errorf("ParseAction(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAction("created"); err == nil || !strings.Contains(err.Error(), "use create, update, delete, disable, stagedDelete, other") {
		t.Errorf("ParseAction(created): %v", err)
	}
	if got, err := ParseStatus("FAILURE"); err != nil || got != StatusFailure {
		t.Errorf("ParseStatus: %q %v", got, err)
	}
	if _, err := ParseStatus("failed"); err == nil {
		t.Error("ParseStatus(failed) accepted")
	}
	for _, tc := range []struct{ got, want string }{
		{ActionStagedDelete.Display(), "StagedDelete"}, {ActionCreate.Display(), "Create"}, {StatusSkipped.Display(), "Skipped"},
		{StepReferenceResolution.Display(), "ReferenceResolution"}, {CategoryNonServiceFailure.Display(), "NonServiceFailure"},
	} {
		if tc.got != tc.want {
			t.Errorf("display %q, want %q", tc.got, tc.want)
		}
	}
}

// TestLineAndDetail: what the live line says of each kind of record.
func TestLineAndDetail(t *testing.T) {
	recs, _ := fixture(t)
	want := []Line{
		{ActionCreate, StatusSuccess, "User", "ana.lee@contoso.com", `userName, active, emails[type eq "work"].value, name.givenName, name.familyName, externalId`},
		{ActionCreate, StatusFailure, "User", "bjorn.angstrom@contoso.com", `EntryConflict: StatusCode: Conflict Message: Processing of the HTTP request resulted in an exception. Web Response: {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName \"bjorn.angstrom@contoso.com\" is already taken"}. This operation was retried 0 times. It will be retried again after this date: 2026-03-02T10:10:01Z UTC`},
		{ActionCreate, StatusSuccess, "Group", "Sales & Marketing", "displayName, externalId"},
		{ActionOther, StatusSkipped, "User", "carl.out@contoso.com", "NotEffectivelyEntitled"},
		{ActionUpdate, StatusSuccess, "User", "ana.lee@contoso.com", `name.familyName: "Lee" → "Lee-Park"`},
		{ActionDisable, StatusSuccess, "User", "dee.parted@contoso.com", `active: "True" → "False"`},
		{ActionOther, StatusSkipped, "User", "eve.same@contoso.com", "RedundantExport"},
		{ActionUpdate, StatusFailure, "User", "gus.gone@contoso.com", "InvalidAnchor: The User linked to 'gus.gone@contoso.com' (id 00000006-0000-4000-8000-000000000006) was not found in Metric Insights: it was deleted there, outside provisioning. The object is escrowed and retried on later cycles; it is not created again."},
		{ActionDelete, StatusSuccess, "Group", "Old Project", "Group 'Old Project' was deleted in Metric Insights"},
	}
	for i, r := range recs {
		if got := LineOf(&r); got != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	// No reportable identifier: the display name, then the ids.
	r := Record{SourceIdentity: Identity{ID: "src"}, TargetIdentity: Identity{ID: "tgt", DisplayName: "Name"}}
	if got := LineOf(&r).Identity; got != "Name" {
		t.Errorf("identity %q", got)
	}
	r.TargetIdentity.DisplayName = ""
	if got := LineOf(&r).Identity; got != "src" {
		t.Errorf("identity %q", got)
	}
	// An update that sets a value from nothing, with a line break in it.
	v := "two\nlines"
	r = Record{ProvisioningAction: ActionUpdate, ModifiedProperties: []ModifiedProperty{{DisplayName: "title", NewValue: &v}}}
	if got := Detail(&r); got != `title: null → "two lines"` {
		t.Errorf("detail %q", got)
	}
}

func TestSummaryAndMulti(t *testing.T) {
	recs, _ := fixture(t)
	var sum Summary
	var lines []Line
	failing := sinkFunc(func(r Record) error {
		if r.ProvisioningStatusInfo.Status == StatusFailure {
			return errors.New("disk full")
		}
		return nil
	})
	m := NewMulti(nil, &sum, failing, LineSink(func(l Line) error { lines = append(lines, l); return nil }))
	if len(m) != 3 {
		t.Fatalf("%d sinks: nil was kept", len(m))
	}
	failures := 0
	for _, r := range recs {
		if err := m.Add(context.Background(), r); err != nil {
			if err.Error() != "disk full" {
				t.Fatal(err)
			}
			failures++
		}
	}
	c := sum.Counts()
	if failures != 2 || len(lines) != 9 || c.Total() != 9 {
		t.Fatalf("%d failures, %d lines, %d counted: every sink gets every record", failures, len(lines), c.Total())
	}
	for _, tc := range []struct{ got, want int }{
		{c.Get(ActionCreate, StatusSuccess), 2}, {c.Get(ActionCreate, StatusFailure), 1}, {c.ByStatus(StatusSkipped), 2},
		{c.ByAction(ActionUpdate), 2}, {c.ByStatus(StatusFailure), 2}, {c.Get(ActionStagedDelete, StatusSuccess), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("count %d, want %d", tc.got, tc.want)
		}
	}
	b, _ := c.MarshalJSON()
	if string(b) != `{"create":{"failure":1,"success":2},"delete":{"success":1},"disable":{"success":1},"other":{"skipped":2},"update":{"failure":1,"success":1}}` {
		t.Errorf("counts JSON %s", b)
	}
}

type sinkFunc func(Record) error

func (f sinkFunc) Add(_ context.Context, r Record) error { return f(r) }

// TestJSONL: one whole line per record, in Graph's shape, also when many
// goroutines add at once; the file form is closed once.
func TestJSONL(t *testing.T) {
	recs, lines := fixture(t)
	var buf bytes.Buffer
	w := NewJSONLWriter(&buf)
	for _, r := range recs {
		if err := w.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if got := buf.String(); got != string(bytes.Join(lines, []byte("\n")))+"\n" {
		t.Errorf("JSON Lines differ from the fixture:\n%s", got)
	}

	path := filepath.Join(t.TempDir(), "log.jsonl")
	f, err := CreateJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := f.Add(context.Background(), recs[(g+i)%len(recs)]); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Add(context.Background(), recs[0]); err == nil {
		t.Error("Add after Close succeeded")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(got) != 400 {
		t.Fatalf("%d lines, want 400", len(got))
	}
	for i, l := range got {
		if _, err := DecodeRecord([]byte(l)); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
}

// shortWriter accepts n bytes, then fails: a disk that fills up.
type shortWriter struct {
	n   int
	buf bytes.Buffer
}

func (w *shortWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		w.buf.Write(p[:w.n])
		n := w.n
		w.n = 0
		return n, errors.New("no space left on device")
	}
	w.n -= len(p)
	return w.buf.Write(p)
}

func TestJSONLWriteFails(t *testing.T) {
	recs, lines := fixture(t)
	w := NewJSONLWriter(&shortWriter{n: len(lines[0]) + 10})
	if err := w.Add(context.Background(), recs[0]); err != nil {
		t.Fatal(err)
	}
	err := w.Add(context.Background(), recs[1])
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("error %v", err)
	}
	if err2 := w.Add(context.Background(), recs[2]); err2 == nil {
		t.Error("the writer went on after a failed write")
	}
}
