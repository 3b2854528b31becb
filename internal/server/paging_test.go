package server

import (
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/miscim/miscim/internal/scim"
)

// TestCursorPagingOverHTTP reads /Users by cursor as RFC 9865 §2 shows it:
// ?cursor (no value) or ?cursor= for the first page, then each nextCursor;
// the answers carry no startIndex and the last one no nextCursor.
func TestCursorPagingOverHTTP(t *testing.T) {
	v := newEnv(t, Options{})
	want := []string{v.req("GET", "/scim/v2/Users", nil).expect(t, 200).body["Resources"].([]any)[0].(map[string]any)["id"].(string)}
	for i := range 11 {
		want = append(want, v.createUser(fmt.Sprintf("c%02d@example.com", i)))
	}
	for _, first := range []string{"cursor", "cursor=", "Cursor="} {
		var got []string
		target := "/scim/v2/Users?count=5&" + first
		for pages := 0; ; pages++ {
			r := v.req("GET", target, nil).expect(t, 200)
			if _, ok := r.body["startIndex"]; ok {
				t.Fatalf("%s: a cursor page has startIndex: %s", target, r)
			}
			if r.num("totalResults") != len(want) {
				t.Fatalf("%s: totalResults %d, want %d", target, r.num("totalResults"), len(want))
			}
			for _, res := range r.body["Resources"].([]any) {
				got = append(got, res.(map[string]any)["id"].(string))
			}
			next := r.str("nextCursor")
			if next == "" {
				if pages != 2 {
					t.Fatalf("%s: %d pages, want 3", first, pages+1)
				}
				break
			}
			target = "/scim/v2/Users?count=5&cursor=" + url.QueryEscape(next)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: %v, want %v", first, got, want)
		}
	}
	// Without cursor, index paging stays the default (RFC 9865 §2.4).
	r := v.req("GET", "/scim/v2/Users?count=5", nil).expect(t, 200)
	if r.num("startIndex") != 1 || r.str("nextCursor") != "" {
		t.Fatalf("no cursor parameter: %s", r)
	}
}

func TestCursorErrorsOverHTTP(t *testing.T) {
	v := newEnv(t, Options{})
	v.createUser("a@example.com")
	v.createUser("b@example.com")
	v.createGroup("G")
	next := v.req("GET", "/scim/v2/Users?count=1&cursor=", nil).expect(t, 200).str("nextCursor")
	for _, tt := range []struct {
		target, scimType string
	}{
		{"/scim/v2/Users?cursor=bogus", scim.ScimTypeInvalidCursor},
		{"/scim/v2/Groups?count=1&cursor=" + next, scim.ScimTypeInvalidCursor},
		{"/scim/v2/Users?count=1&filter=" + url.QueryEscape(`userName sw "a"`) + "&cursor=" + next, scim.ScimTypeInvalidCursor},
		{"/scim/v2/Users?count=ten&cursor=", scim.ScimTypeInvalidCount},
		{"/scim/v2/Users?count=ten", scim.ScimTypeInvalidValue},
		{"/scim/v2/Users?startIndex=2&cursor=" + next, scim.ScimTypeInvalidValue},
	} {
		r := v.req("GET", tt.target, nil).expect(t, 400)
		if r.str("scimType") != tt.scimType || r.str("detail") == "" || r.num("status") != 400 {
			t.Errorf("%s: %s; want scimType %s with a detail", tt.target, r, tt.scimType)
		}
	}
}
