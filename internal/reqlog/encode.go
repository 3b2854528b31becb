package reqlog

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r as one line of JSON (no newline), the document
// json.Marshal writes for it, without reflection: fields in Record's order,
// header names sorted, strings escaped as encoding/json escapes them, the
// bodies compacted.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"format":`...)
	b = strconv.AppendInt(b, int64(r.Format), 10)
	b = append(b, `,"time":`...)
	b = appendString(b, r.Time)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"requestId":`...)
	b = appendString(b, r.RequestID)
	b = append(b, `,"remoteAddr":`...)
	b = appendString(b, r.RemoteAddr)
	b = append(b, `,"method":`...)
	b = appendString(b, r.Method)
	b = append(b, `,"path":`...)
	b = appendString(b, r.Path)
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
	b = appendFloat(b, r.DurationMs)
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
		b = appendString(b, k)
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
			b = appendString(b, v)
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
	return appendString(b, string(raw))
}

// appendFloat formats like encoding/json: the shortest form that reads
// back the same, in exponent notation outside [1e-6, 1e21); a value JSON
// cannot hold is written as 0.
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-07 → e-7
		b = b[:n-1]
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as json.Marshal does: quote, backslash and control
// characters escaped, <, > and & as \u escapes, invalid UTF-8 as U+FFFD,
// U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
