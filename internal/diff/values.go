package diff

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Show renders a value for people: a JSON value as JSON (strings quoted,
// so that "1" and 1, or "" and nothing, tell apart), nil as "(none)".
func Show(v any) string {
	if v == nil {
		return "(none)"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "(unprintable)"
	}
	return strings.TrimSuffix(b.String(), "\n")
}
