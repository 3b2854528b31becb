package reqlog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The readers take files from anywhere (a production log directory, a
// browser's HAR export, a hand-written dump): any input must give
// exchanges that satisfy the Exchange contract, or problems with a
// position, and never a panic.

// checkRead reads data as file name and checks the contract.
func checkRead(t *testing.T, name string, data []byte) {
	var f Format
	n := 0
	ReadData(name, data, &f, func(x Exchange) {
		n++
		if x.Method == "" || strings.TrimFunc(x.Method, func(r rune) bool { return r >= 'A' && r <= 'Z' }) != "" {
			t.Fatalf("method %q", x.Method)
		}
		if strings.TrimSpace(x.Target) == "" {
			t.Fatalf("empty target in %+v", x)
		}
		if x.Status != 0 && (x.Status < 100 || x.Status > 599) {
			t.Fatalf("status %d", x.Status)
		}
		if x.RequestHeader == nil || x.ResponseHeader == nil {
			t.Fatal("nil headers")
		}
		checkPos(t, x.Pos, name)
	}, func(p Problem) {
		if p.Err == nil {
			t.Fatal("problem without error")
		}
		checkPos(t, p.Position, name)
	})
	if f.Container == "" {
		t.Fatal("no container detected")
	}
	_ = f.String()
}

func checkPos(t *testing.T, p Position, name string) {
	if p.File != name || p.Line < 0 || p.Offset < -1 {
		t.Fatalf("position %+v", p)
	}
}

func seedLines(f *testing.F) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	good := miscimLine(f, 1, at, "POST", "/scim/v2/Users", 201, `{"id":"1"}`)
	f.Add([]byte(good + "\n" + good[:40] + "\n"))
	f.Add([]byte(`{"verb":"get","uri":"/Users","statusCode":"200","timestamp":1795000000123,"headers":[{"name":"A","value":"b"}]}` + "\n[1,{}]\n"))
	f.Add([]byte(`{"request":{"method":"PUT","url":"/Users/1","headers":{"X":["a","b"]}},"response":{"status":99}}` + "\n"))
	f.Add([]byte(`{"format":2,"seq":1}` + "\n" + `{"format":"1","seq":1,"method":"GET","path":"/"}`))
}

func FuzzReadJSONLines(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 0 && data[0] != '{' {
			data = append([]byte("{}\n"), data...)
		}
		checkRead(t, "log.jsonl", data)
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`[{"method":"GET","path":"/Users","status":200},{"method":"DELETE","url":"/Users/1","time":"2026-11-27 10:00:00"}]`))
	f.Add([]byte("{\n\"method\": \"GET\",\n\"path\": \"/x\"\n}\n{\n\"method\"\n"))
	f.Add([]byte(`[[{"method":"GET","path":"/a"}], 3, "x", {`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, "records.json", data)
	})
}

func FuzzReadHAR(f *testing.F) {
	f.Add([]byte(harDoc))
	f.Add([]byte(harDoc[:len(harDoc)/2]))
	f.Add([]byte(`{"log":{"entries":[{"request":{"method":"GET","url":"/x","postData":{"text":"eA==","encoding":"base64"}},"response":{"status":200,"content":{"text":"%%","encoding":"base64"}}}]}}`))
	f.Add([]byte(`{"log":{"version":1,"creator":[],"entries":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(bytes.TrimSpace(data), []byte(`{"log"`)) {
			data = append([]byte(`{"log":`), data...)
		}
		checkRead(t, "capture.har", data)
	})
}

func FuzzReadHTTPDump(f *testing.F) {
	f.Add([]byte(dump))
	f.Add([]byte("POST /Users HTTP/1.1\nTransfer-Encoding: chunked\n\n5\r\nhello\r\n0\r\n\r\nHTTP/1.1 201 Created\nContent-Length: 2\n\n{}"))
	f.Add([]byte("GET /Users HTTP/1.1\nHost: x\n\nHTTP/1.1 abc\n\nGET /Users/1 HTTP/1.0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !looksLikeHTTP(data) {
			data = append([]byte("GET /scim/v2/Users HTTP/1.1\n"), data...)
		}
		checkRead(t, "repro.http", data)
	})
}

func FuzzReadGzip(f *testing.F) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	full := gz(f, []byte(miscimLine(f, 1, at, "GET", "/scim/v2/Users", 200, `{}`)+"\n"))
	f.Add(full)
	f.Add(full[:len(full)/2])
	f.Add(gz(f, []byte(harDoc)))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, "seg.jsonl.gz", data)
	})
}
