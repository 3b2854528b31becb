package reqlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Reading miscim's own records, every version. Each version has a decoder
// that turns its documents into the current Record; a new version adds a
// decoder and keeps the old ones, so that a log written by an older miscim
// stays replayable (docs/request-log.md, Versioning).

// recordDecoders maps a format version to the decoder of its documents.
var recordDecoders = map[int]func([]byte) (Record, error){
	1: decodeV1,
}

// decodeV1 reads format 1, which is Record as it is today. Unknown fields
// are ignored (adding an optional field does not change the version).
func decodeV1(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// miscimProbe is what decides whether a JSON object is a miscim record:
// a numeric format and a seq. The format member keeps its name and meaning
// in every version.
type miscimProbe struct {
	Format *json.Number `json:"format"`
	Seq    *json.Number `json:"seq"`
}

// isMiscimRecord reports whether the JSON object b declares itself a
// miscim request-log record.
func isMiscimRecord(b []byte) bool {
	var p miscimProbe
	if json.Unmarshal(b, &p) != nil || p.Format == nil || p.Seq == nil {
		return false
	}
	_, err := p.Format.Int64()
	return err == nil
}

// DecodeRecord reads one miscim record of any version this build knows
// and returns it as the current Record.
func DecodeRecord(b []byte) (Record, error) {
	var p miscimProbe
	if err := json.Unmarshal(b, &p); err != nil {
		return Record{}, fmt.Errorf("not a request record: %w", err)
	}
	if p.Format == nil {
		return Record{}, errors.New("not a request record: no format member")
	}
	v, err := p.Format.Int64()
	dec, ok := recordDecoders[int(v)]
	if err != nil || !ok {
		return Record{}, fmt.Errorf("format version %s is not one this miscim reads (1 to %d): a newer miscim wrote it", p.Format, FormatVersion)
	}
	r, err := dec(b)
	if err != nil {
		return Record{}, fmt.Errorf("format %d record: %w", v, err)
	}
	return r, nil
}

// exchangeOf turns a miscim record into an Exchange.
func exchangeOf(r Record, pos Position) (Exchange, error) {
	x := Exchange{
		Pos:            pos,
		Seq:            r.Seq,
		Method:         strings.ToUpper(r.Method),
		Target:         r.Path,
		RequestHeader:  http.Header(r.RequestHeaders),
		RequestBody:    bodyBytes(r.RequestBody),
		Status:         r.Status,
		ResponseHeader: http.Header(r.ResponseHeaders),
		ResponseBody:   bodyBytes(r.ResponseBody),
	}
	if r.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, r.Time)
		if err != nil {
			return Exchange{}, fmt.Errorf("time %q is not RFC 3339", r.Time)
		}
		x.Time = t
	}
	return x, checkExchange(&x)
}

// bodyBytes undoes Body: a JSON string stands for a body that was not
// JSON, and is returned as its text; any other JSON value is the body.
func bodyBytes(m json.RawMessage) []byte {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	if m[0] == '"' {
		var s string
		if json.Unmarshal(m, &s) == nil {
			return []byte(s)
		}
	}
	return m
}

// checkExchange validates what every reader must deliver: a method that
// is an HTTP token, a target, and a status that is absent or an HTTP
// status.
func checkExchange(x *Exchange) error {
	if x.Method == "" {
		return errors.New("the record has no method")
	}
	for _, c := range x.Method {
		if c < 'A' || c > 'Z' {
			return fmt.Errorf("method %q is not an HTTP method", x.Method)
		}
	}
	if strings.TrimSpace(x.Target) == "" {
		return errors.New("the record has no URL or path")
	}
	if x.Status != 0 && (x.Status < 100 || x.Status > 599) {
		return fmt.Errorf("status %d is not an HTTP status", x.Status)
	}
	if x.RequestHeader == nil {
		x.RequestHeader = http.Header{}
	}
	if x.ResponseHeader == nil {
		x.ResponseHeader = http.Header{}
	}
	return nil
}
