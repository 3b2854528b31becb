package engine

import (
	"encoding/json"
	"strconv"

	"github.com/miscim/miscim/internal/scim"
)

func kindOf(v any) string { return scim.KindOf(v) }

// describe renders a received value for an error detail.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 80 {
		return kindOf(v)
	}
	return string(b)
}

func quote(s string) string { return strconv.Quote(s) }

func itoa(i int) string { return strconv.Itoa(i) }
