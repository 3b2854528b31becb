package scim

import (
	"strconv"
	"unicode/utf8"
)

// MaxJSONDepth bounds how deeply arrays and objects may nest in a request
// body; the outermost object is level 1. RFC 7643 §2.3.8 forbids complex
// attributes inside complex attributes, so the deepest request SCIM defines
// needs 7 levels: a PATCH body (1), its Operations (2), an operation (3),
// a path-less value (4), an extension object (5), a multi-valued complex
// attribute (6) and one of its values (7). The limit leaves room for
// attributes the engine ignores, and keeps every recursive walk over a
// decoded body shallow.
const MaxJSONDepth = 32

// CheckJSONText checks what encoding/json lets through silently, before a
// body is decoded: the text must be UTF-8 (RFC 8259 §8.1), a \u escape must
// not be half of a UTF-16 surrogate pair (RFC 8259 §8.2: such a string
// cannot be decoded to characters; encoding/json would store U+FFFD in its
// place, losing what the client sent), and arrays and objects must not nest
// deeper than MaxJSONDepth. Offsets in the error are 0-based byte offsets
// into the body. Errors are 400 invalidSyntax.
//
// The check is one pass over the bytes. It does not validate the JSON
// grammar; the decoder does that afterwards.
func CheckJSONText(body []byte) error {
	depth := 0
	inString := false
	for i := 0; i < len(body); {
		c := body[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size <= 1 {
				return invalidUTF8(body, i)
			}
			i += size
			continue
		}
		switch {
		case inString && c == '\\':
			if i+1 < len(body) && body[i+1] == 'u' {
				pair, err := checkEscape(body, i)
				if err != nil {
					return err
				}
				if pair {
					i += 12
					continue
				}
			}
			// Skip the escaped byte (the decoder rejects escapes that are
			// not JSON); a non-ASCII one is left to the UTF-8 check.
			i++
			if i < len(body) && body[i] < utf8.RuneSelf {
				i++
			}
			continue
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			if depth > MaxJSONDepth {
				return BadRequest(ScimTypeInvalidSyntax, "request body nests arrays and objects more than %d levels deep (at byte offset %d); a SCIM request needs at most 7", MaxJSONDepth, i)
			}
		case c == '}' || c == ']':
			depth--
		}
		i++
	}
	return nil
}

// checkEscape checks the \u escape at body[i:] and, for the first half of
// a surrogate pair, that the second half follows; pair reports a whole
// pair (12 bytes).
func checkEscape(body []byte, i int) (pair bool, err error) {
	r, ok := hex4(string(body[i+2:min(i+6, len(body))]), 0)
	if !ok {
		return false, nil // not four hex digits: the decoder reports it
	}
	switch {
	case r >= 0xD800 && r <= 0xDBFF:
		if j := i + 6; j+1 < len(body) && body[j] == '\\' && body[j+1] == 'u' {
			if r2, ok := hex4(string(body[j+2:min(j+6, len(body))]), 0); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
				return true, nil
			}
		}
		return false, loneSurrogate(body, i)
	case r >= 0xDC00 && r <= 0xDFFF:
		return false, loneSurrogate(body, i)
	}
	return false, nil
}

func loneSurrogate(body []byte, i int) error {
	return BadRequest(ScimTypeInvalidSyntax, `request body is not valid: the escape %s at byte offset %d is half of a UTF-16 surrogate pair, which is not a character (RFC 8259 §8.2); send the character itself, or both halves of its pair`, body[i:i+6], i)
}

func invalidUTF8(body []byte, i int) error {
	return BadRequest(ScimTypeInvalidSyntax, "request body is not valid UTF-8: byte 0x%02x at byte offset %d%s is not part of a UTF-8 character; JSON must be UTF-8 (RFC 8259 §8.1): send the text UTF-8 encoded", body[i], i, after(body, i))
}

// after shows up to 24 bytes before offset i, so that the client can find
// the spot; "" when i is 0 or what precedes is not printable text.
func after(s []byte, i int) string {
	start := max(i-24, 0)
	for start < i && !utf8.RuneStart(s[start]) {
		start++
	}
	if start == i || !utf8.Valid(s[start:i]) {
		return ""
	}
	return ", after " + strconv.Quote(string(s[start:i]))
}

// checkUTF8Text returns the error of a filter or path that is not UTF-8,
// with the 0-based byte offset of its first bad byte; nil when s is UTF-8.
func checkUTF8Text(kind, scimType, s string) *Error {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return BadRequest(scimType, "invalid %s: byte 0x%02x at byte offset %d%s is not part of a UTF-8 character: send it UTF-8 encoded (in a URL, percent-encode the UTF-8 bytes: é is %%C3%%A9)", kind, s[i], i, after([]byte(s), i))
		}
		i += size
	}
	return nil
}
