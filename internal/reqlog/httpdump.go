package reqlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Raw HTTP/1.1 message dumps: each exchange is a request as sent (request
// line, headers, blank line, body) followed, when the dump has it, by its
// response (status line, headers, blank line, body), as curl -v, proxies
// and hand-written reproductions show them. Messages may be separated by
// blank lines. net/http parses each message; a body without Content-Length
// (or chunked encoding) runs to the next message.

var (
	requestLineRE = regexp.MustCompile(`(?m)^[A-Z]+ \S+ HTTP/1\.[01]\r?$`)
	statusLineRE  = regexp.MustCompile(`(?m)^HTTP/1\.[01] `)
)

// looksLikeHTTP reports whether data starts with an HTTP/1.x request line.
func looksLikeHTTP(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return requestLineRE.Match(bytes.TrimRight(line, "\r"))
}

// nextMessage returns the offset of the next line at or after from that
// starts a request (and, with status, a response), or len(data).
func nextMessage(data []byte, from int, status bool) int {
	if from >= len(data) {
		return len(data)
	}
	end := len(data)
	if loc := requestLineRE.FindIndex(data[from:]); loc != nil {
		end = from + loc[0]
	}
	if status {
		if loc := statusLineRE.FindIndex(data[from:]); loc != nil && from+loc[0] < end {
			end = from + loc[0]
		}
	}
	return end
}

func skipSpace(data []byte, off int) int {
	for off < len(data) && (data[off] == ' ' || data[off] == '\t' || data[off] == '\r' || data[off] == '\n') {
		off++
	}
	return off
}

// hasLength reports whether the message says where its body ends: a
// Content-Length header or a transfer coding (net/http reports a request
// without Content-Length as length 0, so the header decides).
func hasLength(h http.Header, te []string) bool {
	return len(te) > 0 || h.Get("Content-Length") != ""
}

// readHTTPDump reads the exchanges of a dump.
func readHTTPDump(data []byte, pos func(off int) Position, emit func(Exchange), problem func(Problem)) {
	off := 0
	for {
		off = skipSpace(data, off)
		if off >= len(data) {
			return
		}
		start := off
		x, next, err := readHTTPExchange(data, off)
		if err != nil {
			problem(Problem{Position: pos(start), Err: err})
			// Go on at the next request line, if any.
			next = nextMessage(data, lineEnd(data, start), false)
			if next >= len(data) {
				return
			}
			off = next
			continue
		}
		x.Pos = pos(start)
		if err := checkExchange(&x); err != nil {
			problem(Problem{Position: pos(start), Err: err})
		} else {
			emit(x)
		}
		off = next
	}
}

func lineEnd(data []byte, off int) int {
	if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(data)
}

// readHTTPExchange reads the request at off and the response after it, if
// one follows. It returns the offset after what it read.
func readHTTPExchange(data []byte, off int) (Exchange, int, error) {
	rd := bytes.NewReader(data[off:])
	br := bufio.NewReader(rd)
	consumed := func() int { return int(rd.Size()) - rd.Len() - br.Buffered() }
	req, err := http.ReadRequest(br)
	if err != nil && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) && !bytes.Contains(data[off:], []byte("\n\n")) {
		// A request at the very end of the dump, without the blank line
		// that ends its headers.
		rest := append(append([]byte(nil), data[off:]...), "\r\n\r\n"...)
		rd = bytes.NewReader(rest)
		br = bufio.NewReader(rd)
		req, err = http.ReadRequest(br)
		if err == nil {
			x := Exchange{Method: req.Method, Target: req.RequestURI, RequestHeader: req.Header}
			return x, len(data), nil
		}
	}
	if err != nil {
		return Exchange{}, 0, fmt.Errorf("not an HTTP/1.1 request: %w", err)
	}
	x := Exchange{Method: req.Method, Target: req.RequestURI, RequestHeader: req.Header}
	if hasLength(req.Header, req.TransferEncoding) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return Exchange{}, 0, fmt.Errorf("request body cut short (%s promised): %w", lengthOf(req.Header), errTruncated(err))
		}
		x.RequestBody = b
		off += consumed()
	} else if bodyMethod(req.Method) {
		// No length: the body, if any, runs to the response or the next
		// request.
		off += consumed()
		end := nextMessage(data, off, true)
		x.RequestBody = bytes.TrimSpace(data[off:end])
		off = end
	} else {
		off += consumed()
	}
	if len(x.RequestBody) == 0 {
		x.RequestBody = nil
	}

	next := skipSpace(data, off)
	if !bytes.HasPrefix(data[next:], []byte("HTTP/")) {
		return x, off, nil // a request without its response
	}
	off = next
	rd = bytes.NewReader(data[off:])
	br = bufio.NewReader(rd)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return Exchange{}, 0, fmt.Errorf("the response after %s %s is not HTTP/1.1: %w", req.Method, req.RequestURI, err)
	}
	x.Status, x.ResponseHeader = resp.StatusCode, resp.Header
	switch {
	case !bodyAllowed(resp.StatusCode, req.Method):
		off += consumed()
	case hasLength(resp.Header, resp.TransferEncoding):
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return Exchange{}, 0, fmt.Errorf("response body cut short (%s promised): %w", lengthOf(resp.Header), errTruncated(err))
		}
		x.ResponseBody = b
		off += consumed()
	default:
		off += consumed()
		end := nextMessage(data, off, false)
		x.ResponseBody = bytes.TrimSpace(data[off:end])
		off = end
	}
	if len(x.ResponseBody) == 0 {
		x.ResponseBody = nil
	}
	return x, off, nil
}

// bodyMethod reports the methods whose requests carry a body in SCIM.
func bodyMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

func bodyAllowed(status int, method string) bool {
	return method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
}

func lengthOf(h http.Header) string {
	if cl := h.Get("Content-Length"); cl != "" {
		return "Content-Length " + cl
	}
	return "Transfer-Encoding " + strings.Join(h.Values("Transfer-Encoding"), ", ")
}

func errTruncated(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("the file ends first")
	}
	return err
}
