package reqlog

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Exchange is one logged request and, when the log holds it, its
// response, whatever format it was read from. Replay works on exchanges
// only, so that every reader feeds it the same thing.
type Exchange struct {
	// Pos is where the record was found, for messages.
	Pos Position
	// Time is when the request was made; zero when the record has none
	// (see Set for how such records are ordered).
	Time time.Time
	// OrderTime is the time the exchange is ordered by: Time, or for a
	// record without one the time Read gives it from its neighbours; zero
	// when its file has no time at all.
	OrderTime time.Time
	// Seq is the record's own sequence number (miscim's seq, a generic
	// record's seq or sequence field); 0 when it has none.
	Seq uint64
	// Method is the HTTP method, upper case.
	Method string
	// Target is the request target as logged: a path with its raw query
	// (/scim/v2/Users?filter=…) or an absolute URL.
	Target string
	// RequestHeader holds the logged request headers (credentials
	// redacted by whoever wrote the log).
	RequestHeader http.Header
	RequestBody   []byte
	// Status is the logged response status; 0 when the log holds no
	// response for the request.
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
}

// HasResponse reports whether the log holds the response to compare with.
func (x *Exchange) HasResponse() bool { return x.Status != 0 }

// Position says where in the input a record (or a problem) is: the file,
// then a line when the format has lines worth naming, else a byte offset,
// and a JSON path within the document where one helps (log.entries[3]).
type Position struct {
	File   string
	Line   int   // 1-based; 0 when not known
	Offset int64 // byte offset in the file (after decompression); -1 when not known
	Path   string
}

// String renders the position as file:line, file:byte N, or file, with
// the JSON path in parentheses.
func (p Position) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	switch {
	case p.Line > 0:
		fmt.Fprintf(&b, ":%d", p.Line)
	case p.Offset >= 0:
		fmt.Fprintf(&b, ": byte %d", p.Offset)
	}
	if p.Path != "" {
		fmt.Fprintf(&b, " (%s)", p.Path)
	}
	return b.String()
}

// Problem is a record, or a part of a file, that a reader could not use:
// where it is and why. Readers report problems and go on; they never drop
// a record silently.
type Problem struct {
	Position
	Err error
}

func (p Problem) String() string { return fmt.Sprintf("%s: %v", p.Position, p.Err) }

// Format says how a file was read: its container (JSON Lines, HAR …),
// the kinds of records found in it and whether it was gzip-compressed.
// Its String form is what `replay --dry-run` prints.
type Format struct {
	// Container is one of the Container* constants.
	Container string
	// Kinds lists the record kinds met, in the order first met: "miscim
	// v1", "generic" (found by field aliases). Empty for HAR and HTTP
	// dumps, whose records have one kind.
	Kinds []string
	// Detail adds what the container says of itself (HAR version and
	// creator).
	Detail string
	Gzip   bool
}

// Containers, as detected per file.
const (
	ContainerJSONLines = "JSON Lines"
	ContainerJSON      = "JSON"
	ContainerHAR       = "HAR"
	ContainerHTTP      = "HTTP/1.1 messages"
	ContainerUnknown   = "unknown"
)

// KindGeneric is the kind of JSON records whose fields were found by
// alias.
const KindGeneric = "generic"

// String renders the format: "JSON Lines: miscim v1", "HAR 1.2 (Firefox
// 128.0), gzip".
func (f Format) String() string {
	s := f.Container
	if f.Detail != "" {
		s += " " + f.Detail
	}
	if len(f.Kinds) > 0 {
		s += ": " + strings.Join(f.Kinds, ", ")
	}
	if f.Gzip {
		s += ", gzip"
	}
	return s
}

func (f *Format) addKind(k string) {
	for _, have := range f.Kinds {
		if have == k {
			return
		}
	}
	f.Kinds = append(f.Kinds, k)
}
