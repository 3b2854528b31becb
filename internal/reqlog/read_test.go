package reqlog

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func miscimLine(t testing.TB, seq uint64, at time.Time, method, path string, status int, resp string) string {
	t.Helper()
	r := sampleRecord(seq, at)
	r.Method, r.Path, r.Status = method, path, status
	r.ResponseBody = Body([]byte(resp))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readOne reads one file's contents as Read does.
func readOne(name string, data []byte) (Format, []Exchange, []Problem) {
	var f Format
	var xs []Exchange
	var ps []Problem
	ReadData(name, data, &f, func(x Exchange) { xs = append(xs, x) }, func(p Problem) { ps = append(ps, p) })
	return f, xs, ps
}

const harDoc = `{"log":{"version":"1.2","creator":{"name":"mitmproxy","version":"10.1.1"},"pages":[],"entries":[
 {"startedDateTime":"2026-11-27T10:00:00.5+01:00","time":3,
  "request":{"method":"POST","url":"https://mi.example.com/scim/v2/Users","httpVersion":"HTTP/2",
    "headers":[{"name":":authority","value":"mi.example.com"},{"name":"Authorization","value":"Bearer [REDACTED]"}],
    "queryString":[],"postData":{"mimeType":"application/scim+json","text":"{\"userName\":\"ann@example.com\"}"}},
  "response":{"status":201,"statusText":"Created","headers":[{"name":"Location","value":"https://mi.example.com/scim/v2/Users/1"}],
    "content":{"size":9,"mimeType":"application/scim+json","text":"` + "eyJpZCI6IjEifQ==" + `","encoding":"base64"}}},
 {"startedDateTime":"2026-11-27T09:00:01Z","request":{"method":"GET","url":"https://mi.example.com/scim/v2/Users/1","headers":[]},
  "response":{"status":0,"headers":[],"content":{"size":0}}}
]}}`

const dump = "POST /scim/v2/Users HTTP/1.1\r\nHost: mi.example.com\r\nContent-Type: application/scim+json\r\nContent-Length: 28\r\n\r\n" +
	`{"userName":"a@example.com"}` + "\r\n\r\n" +
	"HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nContent-Length: 10\r\n\r\n" + `{"id":"7"}` + "\n\n" +
	"PATCH /scim/v2/Users/7 HTTP/1.1\nHost: mi.example.com\n\n" + `{"Operations":[]}` + "\n\n" +
	"HTTP/1.1 200 OK\nContent-Type: application/scim+json\n\n" + `{"id":"7","active":false}` + "\n\n" +
	"DELETE /scim/v2/Users/7 HTTP/1.1\nHost: mi.example.com\n\nHTTP/1.1 204 No Content\n\n" +
	"GET /scim/v2/Users/7 HTTP/1.1\nHost: mi.example.com\n"

func TestReadFormats(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	miscim := miscimLine(t, 1, at, "POST", "/scim/v2/Users", 201, `{"id":"1"}`) + "\n" +
		miscimLine(t, 2, at.Add(time.Second), "GET", "/scim/v2/Users/1", 200, `{"id":"1"}`) + "\n"
	for _, tc := range []struct {
		name, file, data string
		format           string
		n                int
		check            func(t *testing.T, xs []Exchange)
	}{
		{"miscim", "scim-1.jsonl", miscim, "JSON Lines: miscim v1", 2, func(t *testing.T, xs []Exchange) {
			x := xs[0]
			if x.Method != "POST" || x.Target != "/scim/v2/Users" || x.Status != 201 || string(x.ResponseBody) != `{"id":"1"}` ||
				string(x.RequestBody) != `{"userName":"x"}` || x.Seq != 1 || !x.Time.Equal(at) || x.Pos.Line != 1 {
				t.Errorf("exchange %+v", x)
			}
			if xs[1].Pos.Line != 2 {
				t.Errorf("second at line %d", xs[1].Pos.Line)
			}
		}},
		{"miscim gzip", "scim-1.jsonl.gz", string(gz(t, []byte(miscim))), "JSON Lines: miscim v1, gzip", 2, nil},
		{"generic aliases", "log.jsonl", `{"verb":"patch","requestUri":"/scim/v2/Groups/g1","payload":{"Operations":[]},"statusCode":"204","timestamp":1795000000123}` + "\n" +
			`{"Method":"GET","URI":"/scim/v2/Groups","query":"filter=displayName+eq+%22x%22","ResponseCode":200,"responseBody":"{\"totalResults\":0}","time":"2026-11-27 10:00:00"}`,
			"JSON Lines: generic", 2, func(t *testing.T, xs []Exchange) {
				if xs[0].Method != "PATCH" || xs[0].Target != "/scim/v2/Groups/g1" || xs[0].Status != 204 || string(xs[0].RequestBody) != `{"Operations":[]}` ||
					!xs[0].Time.Equal(time.UnixMilli(1795000000123)) {
					t.Errorf("first %+v", xs[0])
				}
				if xs[1].Target != "/scim/v2/Groups?filter=displayName+eq+%22x%22" || string(xs[1].ResponseBody) != `{"totalResults":0}` || !xs[1].Time.Equal(at) {
					t.Errorf("second %+v", xs[1])
				}
			}},
		{"nested, one document per file", "one.json", "{\n  \"timestamp\": \"2026-11-27T10:00:00Z\",\n  \"request\": {\"method\": \"POST\", \"url\": \"/scim/v2/Users\",\n    \"headers\": {\"Content-Type\": \"application/scim+json\", \"X-Multi\": [\"a\", \"b\"]}, \"body\": {\"userName\": \"a\"}},\n  \"response\": {\"status\": 201, \"headers\": [{\"name\": \"Location\", \"value\": \"/scim/v2/Users/9\"}], \"body\": {\"id\": \"9\"}}\n}\n",
			"JSON: generic", 1, func(t *testing.T, xs []Exchange) {
				x := xs[0]
				if x.Method != "POST" || x.Status != 201 || string(x.ResponseBody) != `{"id": "9"}` || x.ResponseHeader.Get("Location") != "/scim/v2/Users/9" ||
					len(x.RequestHeader["X-Multi"]) != 2 || x.Pos.Line != 1 {
					t.Errorf("exchange %+v", x)
				}
			}},
		{"array", "records.json", `[{"method":"GET","path":"/Users","status":200}, {"method":"DELETE","path":"/Users/1","status":204}]`, "JSON: generic", 2, func(t *testing.T, xs []Exchange) {
			if xs[1].Pos.Path != "[1]" || xs[1].Method != "DELETE" {
				t.Errorf("second %+v", xs[1])
			}
		}},
		{"HAR", "capture.har", harDoc, "HAR 1.2 (mitmproxy 10.1.1)", 2, func(t *testing.T, xs []Exchange) {
			x := xs[0]
			if x.Method != "POST" || x.Target != "https://mi.example.com/scim/v2/Users" || x.Status != 201 || string(x.ResponseBody) != `{"id":"1"}` ||
				string(x.RequestBody) != `{"userName":"ann@example.com"}` || x.RequestHeader.Get("Content-Type") != "application/scim+json" ||
				x.RequestHeader.Get(":authority") != "" || !x.Time.Equal(at.Add(-time.Hour+500*time.Millisecond)) || x.Pos.Path != "log.entries[0]" {
				t.Errorf("exchange %+v", x)
			}
			if xs[1].HasResponse() {
				t.Errorf("status 0 is no response: %+v", xs[1])
			}
		}},
		{"HTTP dump", "repro.http", dump, "HTTP/1.1 messages", 4, func(t *testing.T, xs []Exchange) {
			want := []struct {
				method, target, req string
				status              int
				resp                string
				line                int
			}{
				{"POST", "/scim/v2/Users", `{"userName":"a@example.com"}`, 201, `{"id":"7"}`, 1},
				{"PATCH", "/scim/v2/Users/7", `{"Operations":[]}`, 200, `{"id":"7","active":false}`, 14},
				{"DELETE", "/scim/v2/Users/7", "", 204, "", 24},
				{"GET", "/scim/v2/Users/7", "", 0, "", 29},
			}
			for i, w := range want {
				x := xs[i]
				if x.Method != w.method || x.Target != w.target || string(x.RequestBody) != w.req || x.Status != w.status || string(x.ResponseBody) != w.resp || x.Pos.Line != w.line {
					t.Errorf("exchange %d: %s %s %q %d %q line %d, want %+v", i, x.Method, x.Target, x.RequestBody, x.Status, x.ResponseBody, x.Pos.Line, w)
				}
			}
		}},
		{"empty", "empty.jsonl", "\n\n", "empty", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, xs, ps := readOne(tc.file, []byte(tc.data))
			if len(ps) != 0 {
				t.Fatalf("problems: %v", ps)
			}
			if f.String() != tc.format {
				t.Errorf("format %q, want %q", f, tc.format)
			}
			if len(xs) != tc.n {
				t.Fatalf("%d exchanges, want %d: %+v", len(xs), tc.n, xs)
			}
			if tc.check != nil {
				tc.check(t, xs)
			}
		})
	}
}

// TestReadDamaged: every damaged record is reported with its position and
// the good records around it are kept.
func TestReadDamaged(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	good := miscimLine(t, 1, at, "GET", "/scim/v2/Users", 200, `{}`)
	newer := strings.Replace(good, `"format":1`, `"format":9`, 1)
	miscim := good + "\n" + newer + "\n" + `{"format":1,"seq":3,"method":"GET","path":"/scim/v2/Users","time":"yesterday"}` + "\n" +
		`{"method":"GET"}` + "\n" + `not json at all` + "\n" + good + "\n" + good[:len(good)/2]
	var lines []string
	for i := range 40 {
		lines = append(lines, miscimLine(t, uint64(i+1), at.Add(time.Duration(i)*time.Second), "GET", fmt.Sprintf("/scim/v2/Users/%d", i), 200, fmt.Sprintf(`{"id":"%d","n":%d}`, i, i*7919)))
	}
	full := gz(t, []byte(strings.Join(lines, "\n")+"\n"))
	corrupt := append([]byte(nil), full...)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC no longer matches
	for _, tc := range []struct {
		name, file string
		data       []byte
		n          int
		problems   []string // position: error substring
	}{
		{"jsonl", "seg.jsonl", []byte(miscim), 2, []string{
			"seg.jsonl:2: format version 9 is not one this miscim reads",
			`seg.jsonl:3: time "yesterday" is not RFC 3339`,
			"seg.jsonl:4: no URL or path",
			"seg.jsonl:5: malformed JSON",
			"seg.jsonl:7: the record is cut short",
		}},
		{"truncated array", "a.json", []byte(`[{"method":"GET","url":"/Users","status":200},` + "\n" + `{"method":"POST","url":"/Users","sta`), 1, []string{
			"a.json:2: the JSON document is cut short",
		}},
		{"truncated HAR", "t.har", []byte(harDoc[:strings.Index(harDoc, `"startedDateTime":"2026-11-27T09`)+20]), 1, []string{
			"t.har:8: the JSON document is cut short",
		}},
		{"bad HAR entry", "b.har", []byte(`{"log":{"version":"1.2","entries":[{"request":{"method":"GET","url":"/Users"}},{"startedDateTime":"soon","request":{"method":"GET","url":"/x"}},{"response":{}}]}}`), 1, []string{
			"b.har:1 (log.entries[1]): startedDateTime",
			"b.har:1 (log.entries[2]): HAR entry without request",
		}},
		{"truncated gzip", "seg.jsonl.gz", full[:len(full)/2], -1, []string{"gzip data corrupt or cut short", "the record is cut short"}},
		{"corrupt gzip", "seg.jsonl.gz", corrupt, 40, []string{"seg.jsonl.gz: byte "}},
		{"not gzip", "x.gz", []byte("plain"), 0, []string{"not a readable gzip file", "x.gz"}},
		{"unknown", "notes.txt", []byte("hello\n"), 0, []string{`notes.txt:1: not a format replay reads (JSON, JSON Lines, HAR or HTTP/1.1 messages); it starts with "hello"`}},
		{"http cut", "r.http", []byte("POST /Users HTTP/1.1\nContent-Length: 50\n\n{\"a\""), 0, []string{"r.http:1: request body cut short (Content-Length 50 promised): the file ends first"}},
		{"http garbage", "g.http", []byte("GET /Users HTTP/1.1\nHost: x\n\nHTTP/1.1 abc\n\nGET /Users/1 HTTP/1.1\n\n"), 1, []string{"g.http:1: the response after GET /Users is not HTTP/1.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, xs, ps := readOne(tc.file, tc.data)
			if tc.n >= 0 && len(xs) != tc.n || tc.n < 0 && (len(xs) == 0 || len(xs) >= 40) {
				t.Errorf("%d exchanges, want %d", len(xs), tc.n)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			joined := strings.Join(got, "\n")
			for _, want := range tc.problems {
				if !strings.Contains(joined, want) {
					t.Errorf("no problem %q in:\n%s", want, joined)
				}
			}
			if tc.name == "jsonl" && len(ps) != len(tc.problems) {
				t.Errorf("%d problems, want %d:\n%s", len(ps), len(tc.problems), joined)
			}
		})
	}
}

func TestReadOrdersAndWalks(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := func(method, path, at string) string {
		if at == "" {
			return `{"method":"` + method + `","path":"` + path + `"}` + "\n"
		}
		return `{"method":"` + method + `","path":"` + path + `","time":"` + at + `"}` + "\n"
	}
	// b.jsonl: an untimed record at the top takes the first time after
	// it; one in the middle the time before it.
	write("b.jsonl", rec("GET", "/b0", "")+rec("GET", "/b1", "2026-01-01T00:00:02Z")+rec("GET", "/b2", "")+rec("GET", "/b3", "2026-01-01T00:00:04Z"))
	write("sub/a.jsonl", rec("GET", "/a1", "2026-01-01T00:00:03Z")+rec("GET", "/a0", "2026-01-01T00:00:01Z"))
	write("c.jsonl", rec("GET", "/c0", "")+rec("GET", "/c1", "")) // no times: first, in file order
	write(".hidden/x.jsonl", rec("GET", "/hidden", ""))
	write(".DS_Store", "junk")
	set, err := Read([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, x := range set.Exchanges {
		order = append(order, x.Target)
	}
	if got, want := strings.Join(order, " "), "/c0 /c1 /a0 /b0 /b1 /b2 /a1 /b3"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	if len(set.Inputs) != 3 || set.Untimed != 4 || len(set.Problems) != 0 {
		t.Errorf("inputs %+v untimed %d problems %v", set.Inputs, set.Untimed, set.Problems)
	}
	if _, err := Read([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing path is not an error")
	}
}

func TestHARBase64Request(t *testing.T) {
	doc := `{"log":{"entries":[{"request":{"method":"PUT","url":"/scim/v2/Users/1","postData":{"mimeType":"application/json","text":"` +
		base64.StdEncoding.EncodeToString([]byte(`{"a":1}`)) + `","encoding":"base64"}},"response":{"status":200,"content":{"text":"x","encoding":"rot13"}}}]}}`
	_, xs, ps := readOne("x.har", []byte(doc))
	if len(xs) != 0 || len(ps) != 1 || !strings.Contains(ps[0].Err.Error(), `text encoding "rot13"`) {
		t.Errorf("xs %+v ps %v", xs, ps)
	}
	doc = strings.Replace(doc, `,"encoding":"rot13"`, "", 1)
	_, xs, ps = readOne("x.har", []byte(doc))
	if len(ps) != 0 || len(xs) != 1 || string(xs[0].RequestBody) != `{"a":1}` {
		t.Errorf("xs %+v ps %v", xs, ps)
	}
}
