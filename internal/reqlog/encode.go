package reqlog

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/miscim/miscim/internal/jsonappend"
)

// AppendJSON appends r as one line of JSON (no newline), the document
// json.Marshal writes for it, without reflection: fields in Record's order,
// header names sorted, strings escaped as encoding/json escapes them (HTML
// escaping off: a log is read by people, "<" stays "<"), the
// bodies compacted.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"format":`...)
	b = strconv.AppendInt(b, int64(r.Format), 10)
	b = append(b, `,"time":`...)
	b = jsonappend.String(b, r.Time)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"requestId":`...)
	b = jsonappend.String(b, r.RequestID)
	b = append(b, `,"remoteAddr":`...)
	b = jsonappend.String(b, r.RemoteAddr)
	b = append(b, `,"method":`...)
	b = jsonappend.String(b, r.Method)
	b = append(b, `,"path":`...)
	b = jsonappend.String(b, r.Path)
	b = append(b, `,"requestHeaders":`...)
	b = appendHeaders(b, r.RequestHeaders)
	if len(r.RequestBody) > 0 {
		b = append(b, `,"requestBody":`...)
		b = appendRaw(b, r.RequestBody)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"responseHeaders":`...)
	b = appendHeaders(b, r.ResponseHeaders)
	if len(r.ResponseBody) > 0 {
		b = append(b, `,"responseBody":`...)
		b = appendRaw(b, r.ResponseBody)
	}
	b = append(b, `,"durationMs":`...)
	b, ok := jsonappend.Float(b, r.DurationMs)
	if !ok {
		b = append(b, '0') // a duration JSON cannot hold: measured as nothing
	}
	return append(b, '}')
}

func appendHeaders(b []byte, h map[string][]string) []byte {
	if h == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonappend.String(b, k)
		b = append(b, ':')
		vs := h[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = jsonappend.String(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendRaw appends a body compacted (Body keeps it as sent, which may
// span lines), or as a string when it is not JSON: a record is always
// one line.
func appendRaw(b []byte, raw json.RawMessage) []byte {
	buf := bytes.NewBuffer(b)
	if json.Compact(buf, raw) == nil {
		return buf.Bytes()
	}
	return jsonappend.String(b, string(raw))
}
