package reqlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer miscim_secret")
	h.Set("Proxy-Authorization", "Basic dXNlcjpwYXNz")
	h.Set("Cookie", "session=abc")
	h.Add("Content-Type", "application/scim+json")
	got := Redact(h)
	want := map[string][]string{
		"Authorization":       {"Bearer [REDACTED]"},
		"Proxy-Authorization": {"Basic [REDACTED]"},
		"Cookie":              {"[REDACTED]"},
		"Content-Type":        {"application/scim+json"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Redact = %v, want %v", got, want)
	}
	if h.Get("Authorization") != "Bearer miscim_secret" {
		t.Error("Redact changed its input")
	}
	// A value without a scheme word is redacted whole.
	if got := Redact(http.Header{"Authorization": {"miscim_secret"}}); got["Authorization"][0] != Redacted {
		t.Errorf("schemeless Authorization = %v", got)
	}
	if got := Redact(nil); got == nil || len(got) != 0 {
		t.Errorf("Redact(nil) = %#v, want an empty map", got)
	}
	// redactMap is idempotent and copies only when it must.
	red := Redact(h)
	if again := redactMap(red); reflect.ValueOf(again).Pointer() != reflect.ValueOf(red).Pointer() {
		t.Error("redactMap copied an already redacted map")
	}
	raw := map[string][]string{"authorization": {"Bearer tok"}, "X": {"y"}}
	fixed := redactMap(raw)
	if fixed["authorization"][0] != "Bearer [REDACTED]" || raw["authorization"][0] != "Bearer tok" || fixed["X"][0] != "y" {
		t.Errorf("redactMap = %v (input %v)", fixed, raw)
	}
}

func TestBody(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{`{"a":1}`, `{"a":1}`},
		{`[1, 2]`, `[1, 2]`},
		{`{"a":`, `"{\"a\":"`},
		{"plain text", `"plain text"`},
		{"\xff", `"\ufffd"`},
	} {
		got := Body([]byte(tc.in))
		if string(got) != tc.want {
			t.Errorf("Body(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if len(got) > 0 && !json.Valid(got) {
			t.Errorf("Body(%q) = %s is not JSON", tc.in, got)
		}
	}
}

func sampleRecord(seq uint64, at time.Time) Record {
	return Record{
		Format:          FormatVersion,
		Time:            at.UTC().Format(time.RFC3339Nano),
		Seq:             seq,
		RequestID:       "req-1",
		RemoteAddr:      "127.0.0.1:5000",
		Method:          "POST",
		Path:            "/scim/v2/Users?filter=userName+eq+%22x%22",
		RequestHeaders:  map[string][]string{"Authorization": {"Bearer [REDACTED]"}, "Content-Type": {"application/scim+json"}},
		RequestBody:     Body([]byte(`{"userName":"x"}`)),
		Status:          201,
		ResponseHeaders: map[string][]string{"Content-Type": {"application/scim+json; charset=utf-8"}},
		ResponseBody:    Body([]byte(`{"id":"1"}`)),
		DurationMs:      1.5,
	}
}

func TestSegmentName(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	got := SegmentName(sampleRecord(42, at))
	if want := "scim-20261127T090000.123456789Z-000000000042.jsonl"; got != want {
		t.Errorf("SegmentName = %s, want %s", got, want)
	}
	// Fixed width: a whole second still has nine fraction digits.
	got = SegmentName(sampleRecord(7, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	if want := "scim-20260102T030405.000000000Z-000000000007.jsonl"; got != want {
		t.Errorf("SegmentName = %s, want %s", got, want)
	}
}

func TestWriterAppendsRecordsInOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log", "scim")
	// A small queue (Write must block, not drop) and small segments, so
	// that records spread over several files.
	w, err := NewWriter(dir, WithQueueSize(2), WithMaxSegmentBytes(4096))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory created before the first write: %v", err)
	}
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	const n = 50
	for i := 1; i <= n; i++ {
		r := sampleRecord(uint64(i), base.Add(time.Duration(i)*time.Millisecond))
		if i == 3 {
			// A caller that forgot to redact: the writer does it.
			r.RequestHeaders = map[string][]string{"Authorization": {"Bearer miscim_leaked"}}
		}
		w.Write(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm&^0o750 != 0 {
		t.Errorf("directory mode %v, want at most 0750", perm)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 2 {
		t.Fatalf("%d segments, want several with 4 KiB segments", len(entries))
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "scim-") || !strings.HasSuffix(e.Name(), ".jsonl") {
			t.Errorf("unexpected file %s", e.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("miscim_leaked")) {
			t.Errorf("%s contains the token", e.Name())
		}
		if len(b) > 4096 {
			t.Errorf("%s is %d bytes, over the segment size", e.Name(), len(b))
		}
		info, _ := e.Info()
		if perm := info.Mode().Perm(); perm != 0o640 {
			t.Errorf("%s mode %v, want 0640", e.Name(), perm)
		}
		// Every line is one record, strictly of the documented shape.
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var r Record
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
		}
	}
	recs, probs, err := ReadDir(dir)
	if err != nil || len(probs) != 0 {
		t.Fatalf("ReadDir: %v %v", err, probs)
	}
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Format != FormatVersion {
			t.Errorf("record %d has seq %d format %d: segments must sort in request order", i, r.Seq, r.Format)
		}
	}
}

func TestReadSegmentReportsBadLines(t *testing.T) {
	good, _ := json.Marshal(sampleRecord(1, time.Now()))
	newer := strings.Replace(string(good), `"format":1`, `"format":9`, 1)
	input := string(good) + "\n{truncated\n\n" + newer + "\n" + string(good) + "\n"
	recs, probs, err := ReadSegment(strings.NewReader(input), "seg.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Errorf("%d records, want 2", len(recs))
	}
	if len(probs) != 2 || probs[0].Line != 2 || probs[1].Line != 4 || !strings.Contains(probs[1].Err.Error(), "format version 9") {
		t.Errorf("problems %v", probs)
	}
}

func TestWriterErrors(t *testing.T) {
	parent := t.TempDir()
	blocker := filepath.Join(parent, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []error
	w, err := NewWriter(filepath.Join(blocker, "log"), WithErrorHandler(func(err error) {
		mu.Lock()
		seen = append(seen, err)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(sampleRecord(1, time.Now()))
	if err := w.Close(); err == nil {
		t.Fatal("Close returned no error for an impossible directory")
	}
	mu.Lock()
	if len(seen) != 1 {
		t.Errorf("error handler called %d times, want 1", len(seen))
	}
	mu.Unlock()
	w.Write(sampleRecord(2, time.Now()))
	if !errors.Is(w.Err(), ErrClosed) {
		t.Errorf("Write after Close: Err = %v, want ErrClosed", w.Err())
	}
	if _, err := NewWriter(""); err == nil {
		t.Error("NewWriter(\"\") succeeded")
	}
}

// schemaDoc is the part of docs/request-log.schema.json the tests read.
type schemaDoc struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

func readSchema(t *testing.T) schemaDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "request-log.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s schemaDoc
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("request-log.schema.json: %v", err)
	}
	return s
}

// recordFields lists Record's JSON names and which of them are omitempty.
func recordFields() (names []string, optional map[string]bool) {
	optional = map[string]bool{}
	rt := reflect.TypeFor[Record]()
	for i := range rt.NumField() {
		tag := rt.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		names = append(names, name)
		if strings.Contains(opts, "omitempty") {
			optional[name] = true
		}
	}
	return names, optional
}

// TestSchemaMatchesRecord keeps the JSON Schema and the code from
// drifting: the same property names, required exactly where the code
// always writes the field, and every required field present in marshalled
// records.
func TestSchemaMatchesRecord(t *testing.T) {
	s := readSchema(t)
	fields, optional := recordFields()
	var props []string
	for k := range s.Properties {
		props = append(props, k)
	}
	slices.Sort(props)
	sorted := slices.Sorted(slices.Values(fields))
	if !slices.Equal(props, sorted) {
		t.Errorf("schema properties %v, Record fields %v", props, sorted)
	}
	var wantRequired []string
	for _, f := range fields {
		if !optional[f] {
			wantRequired = append(wantRequired, f)
		}
	}
	if got := slices.Sorted(slices.Values(s.Required)); !slices.Equal(got, slices.Sorted(slices.Values(wantRequired))) {
		t.Errorf("schema requires %v, Record always writes %v", got, wantRequired)
	}
	minimal := Record{Format: FormatVersion, Time: time.Now().UTC().Format(time.RFC3339Nano), Seq: 1, Method: "DELETE", Path: "/scim/v2/Users/1",
		RequestHeaders: map[string][]string{}, ResponseHeaders: map[string][]string{}, Status: 204}
	for _, r := range []Record{sampleRecord(1, time.Now()), minimal} {
		checkRequired(t, s, r)
	}
}

func checkRequired(t *testing.T, s schemaDoc, r Record) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range s.Required {
		if _, ok := m[k]; !ok {
			t.Errorf("marshalled record lacks required %q: %s", k, b)
		}
	}
	for k := range m {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("marshalled record has %q, which the schema does not list", k)
		}
	}
}

// TestDocExampleIsARecord checks the example in docs/request-log.md
// against Record and the schema.
func TestDocExampleIsARecord(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "request-log.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Example\n\n```json\n(.*?)\n```").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/request-log.md has no ## Example json block")
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(m[1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("example: %v", err)
	}
	if r.Format != FormatVersion {
		t.Errorf("example format %d", r.Format)
	}
	if _, err := time.Parse(time.RFC3339Nano, r.Time); err != nil {
		t.Errorf("example time: %v", err)
	}
	checkRequired(t, readSchema(t), r)
}

// FuzzRecordJSON: Record.AppendJSON writes one line that reads back as the
// same record json.Marshal's document reads back as.
func FuzzRecordJSON(f *testing.F) {
	f.Add("POST", "/scim/v2/Users?x=<&>", "Authorization", "Bearer [REDACTED]", []byte("{\n  \"userName\": \"a\u2028b\"\n}"), []byte(`{"id":"1"}`), 1.5, 201)
	f.Add("GET", "\xff\xfe", "X-Odd\x00", "\t\"\\", []byte("not json\n"), []byte(nil), 1e-9, 200)
	f.Fuzz(func(t *testing.T, method, path, hname, hvalue string, reqBody, respBody []byte, dur float64, status int) {
		if math.IsNaN(dur) || math.IsInf(dur, 0) {
			return // json.Marshal refuses them; AppendJSON writes 0
		}
		r := Record{Format: FormatVersion, Time: "2026-11-27T10:00:00Z", Seq: 7, RequestID: hvalue, RemoteAddr: path, Method: method, Path: path,
			RequestHeaders: map[string][]string{hname: {hvalue, method}, "B": nil}, RequestBody: Body(reqBody), Status: status,
			ResponseHeaders: map[string][]string{}, ResponseBody: Body(respBody), DurationMs: dur}
		line := r.AppendJSON(nil)
		if bytes.ContainsAny(line, "\n\r") {
			t.Fatalf("record spans lines: %s", line)
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		// The same document: json.Marshal also escapes <, > and & inside the
		// bodies, which changes no value.
		var got, ref any
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("AppendJSON wrote %s: %v", line, err)
		}
		if err := json.Unmarshal(want, &ref); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("AppendJSON\n got %s\nwant %s", line, want)
		}
	})
}
