package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Resource is a SCIM resource document as it travels on the wire: a JSON
// object decoded by encoding/json. Extension attributes sit under their
// schema URN key (RFC 7643 §3.3).
type Resource = map[string]any

// ListResponse is the body of a query answer (RFC 7644 §3.4.2). An answer
// paged by cursor (RFC 9865 §2) has no startIndex (0, left out) and a
// nextCursor on every page but the last.
type ListResponse struct {
	Schemas        []string   `json:"schemas"`
	TotalResults   int        `json:"totalResults"`
	StartIndex     int        `json:"startIndex,omitempty"`
	ItemsPerPage   int        `json:"itemsPerPage"`
	NextCursor     string     `json:"nextCursor,omitempty"`
	PreviousCursor string     `json:"previousCursor,omitempty"`
	Resources      []Resource `json:"Resources"`
}

// NewListResponse builds a ListResponse for one page. itemsPerPage is the
// number of resources on the page, so an empty answer has itemsPerPage 0 as
// Microsoft's Playwright tests require.
func NewListResponse(total, startIndex int, page []Resource) *ListResponse {
	if page == nil {
		page = []Resource{}
	}
	return &ListResponse{
		Schemas:      []string{ListResponseSchema},
		TotalResults: total,
		StartIndex:   startIndex,
		ItemsPerPage: len(page),
		Resources:    page,
	}
}

// DecodeObject parses a request body that must be one JSON object. Malformed
// JSON, trailing data, non-object bodies, text that is not UTF-8 and
// nesting deeper than MaxJSONDepth (CheckJSONText) are 400 invalidSyntax
// with the byte offset of the problem (RFC 7644 §3.12). Every engine entry
// point that takes a body decodes it here, so the in-process target and
// `miscim serve` refuse the same bodies.
func DecodeObject(body []byte) (Resource, error) {
	if err := CheckJSONText(body); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, syntaxError(body, err)
	}
	// dec.More would miss a stray "}" or "]": look at what is left.
	if off := dec.InputOffset(); len(bytes.Trim(body[off:], " \t\r\n")) > 0 {
		return nil, BadRequest(ScimTypeInvalidSyntax, "request body is not valid JSON: unexpected data after the object at offset %d", off)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, BadRequest(ScimTypeInvalidSyntax, "request body must be a JSON object, got %s", KindOf(v))
	}
	return obj, nil
}

func syntaxError(body []byte, err error) *Error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return BadRequest(ScimTypeInvalidSyntax, "request body is not valid JSON: %s at offset %d", se.Error(), se.Offset)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest(ScimTypeInvalidSyntax, "request body is empty: send a JSON object")
	}
	return BadRequest(ScimTypeInvalidSyntax, "request body is not valid JSON: %s", err.Error())
}

// KindOf names the JSON type of a decoded value, for error details.
func KindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number, int, int64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Get returns the value of key in obj, matching the key case-insensitively
// (RFC 7643 §2.1), and the key as it is spelled in obj.
func Get(obj map[string]any, key string) (any, string, bool) {
	if v, ok := obj[key]; ok {
		return v, key, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, k, true
		}
	}
	return nil, "", false
}

// GetString returns the string member key of obj, matched
// case-insensitively; "" when absent or not a string.
func GetString(obj map[string]any, key string) string {
	v, _, _ := Get(obj, key)
	s, _ := v.(string)
	return s
}

// ParseBool reads a SCIM boolean the lenient way Entra and Metric Insights
// need: JSON true/false, the strings "true"/"false" in any case (Entra's
// legacy PATCH dialect sends "False", COMPAT), "1"/"0" (MI's documented
// mapping Switch([IsSoftDeleted], , "False", "1", "True", "0")), and the
// numbers 1/0. ok is false for anything else.
func ParseBool(v any) (value, ok bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	case float64:
		if t == 1 {
			return true, true
		}
		if t == 0 {
			return false, true
		}
	case json.Number:
		return ParseBool(string(t))
	case int:
		return ParseBool(float64(t))
	case int64:
		return ParseBool(float64(t))
	}
	return false, false
}

// Clone returns a deep copy of a decoded JSON value.
func Clone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = Clone(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = Clone(x)
		}
		return s
	}
	return v
}
