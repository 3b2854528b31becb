package scim

import (
	"encoding/json"
	"fmt"
)

// ErrorSchema is the URN of a SCIM error body (RFC 7644 §3.12).
const ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// scimType values from RFC 7644 §3.12, Table 9.
const (
	ScimTypeInvalidFilter = "invalidFilter"
	ScimTypeTooMany       = "tooMany"
	ScimTypeUniqueness    = "uniqueness"
	ScimTypeMutability    = "mutability"
	ScimTypeInvalidSyntax = "invalidSyntax"
	ScimTypeInvalidPath   = "invalidPath"
	ScimTypeNoTarget      = "noTarget"
	ScimTypeInvalidValue  = "invalidValue"
	ScimTypeInvalidVers   = "invalidVers"
	ScimTypeSensitive     = "sensitive"
)

// scimType values of cursor paging, RFC 9865 §2.1 (400 responses).
const (
	ScimTypeInvalidCursor = "invalidCursor"
	ScimTypeExpiredCursor = "expiredCursor"
	ScimTypeInvalidCount  = "invalidCount"
)

// Error is a SCIM protocol error. Status is sent as a JSON number: Microsoft's
// Playwright tests read it with GetInt32 even though RFC 7644 §3.12 shows a
// string, and Entra accepts both.
type Error struct {
	Status   int    `json:"status"`
	ScimType string `json:"scimType,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Detail)
}

// MarshalJSON writes the error with its schemas member.
func (e *Error) MarshalJSON() ([]byte, error) {
	type body struct {
		Schemas  []string `json:"schemas"`
		Status   int      `json:"status"`
		ScimType string   `json:"scimType,omitempty"`
		Detail   string   `json:"detail,omitempty"`
	}
	return json.Marshal(body{Schemas: []string{ErrorSchema}, Status: e.Status, ScimType: e.ScimType, Detail: e.Detail})
}

// UnmarshalJSON reads an error body whose status is a number or, as RFC 7644
// §3.12 shows it, a string.
func (e *Error) UnmarshalJSON(b []byte) error {
	var raw struct {
		Status   json.RawMessage `json:"status"`
		ScimType string          `json:"scimType"`
		Detail   string          `json:"detail"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.ScimType, e.Detail = raw.ScimType, raw.Detail
	e.Status = 0
	if len(raw.Status) > 0 {
		var n int
		if err := json.Unmarshal(raw.Status, &n); err == nil {
			e.Status = n
		} else {
			var s string
			if err := json.Unmarshal(raw.Status, &s); err == nil {
				_, _ = fmt.Sscanf(s, "%d", &e.Status)
			}
		}
	}
	return nil
}

// Errorf builds a SCIM error with a formatted detail.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 error with the given scimType.
func BadRequest(scimType, format string, args ...any) *Error {
	return Errorf(400, scimType, format, args...)
}

// NotFound is a 404 error for a resource id.
func NotFound(resource, id string) *Error {
	return Errorf(404, "", "%s %q not found", resource, id)
}

// Conflict is a 409 uniqueness error.
func Conflict(format string, args ...any) *Error {
	return Errorf(409, ScimTypeUniqueness, format, args...)
}
