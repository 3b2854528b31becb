package scim

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// limitError reports whether err is the length or depth limit. Canonical
// rendering adds blanks, quotes and readability parentheses, so a filter
// sitting right at a limit may render to one just over it.
func limitError(err error) bool {
	var se *Error
	return errors.As(err, &se) && (strings.Contains(se.Detail, tooLongMsg) || strings.Contains(se.Detail, tooDeepMsg))
}

func checkBadRequest(t *testing.T, err error, scimType string) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not *Error", err, err)
	}
	if se.Status != 400 || se.ScimType != scimType {
		t.Fatalf("error %v: want 400 %s", se, scimType)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, tt := range filterErrorTests {
		if len(tt.in) < 300 {
			f.Add(tt.in)
		}
	}
	for _, tt := range matchTests {
		f.Add(tt.filter)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseFilter(s)
		if err == nil && !utf8.ValidString(s) {
			t.Fatalf("ParseFilter accepted a filter that is not UTF-8: %q", s)
		}
		if err != nil {
			checkBadRequest(t, err, ScimTypeInvalidFilter)
			return
		}
		s1 := e.String()
		e2, err := ParseFilter(s1)
		if err != nil {
			if limitError(err) {
				return
			}
			t.Fatalf("ParseFilter(%q) = %q, which does not parse: %v", s, s1, err)
		}
		if s2 := e2.String(); s2 != s1 {
			t.Fatalf("ParseFilter(%q) renders %q, which re-renders as %q", s, s1, s2)
		}
		// The evaluator must not panic on whatever parsed.
		Match(e, map[string]any{"userName": "x", "emails": []any{map[string]any{"value": "y"}}}, User)
	})
}

func FuzzParsePath(f *testing.F) {
	for _, tt := range pathTests {
		f.Add(tt.in)
	}
	for _, tt := range pathErrorTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err == nil && !utf8.ValidString(s) {
			t.Fatalf("ParsePath accepted a path that is not UTF-8: %q", s)
		}
		if err != nil {
			checkBadRequest(t, err, ScimTypeInvalidPath)
			return
		}
		s1 := p.String()
		p2, err := ParsePath(s1)
		if err != nil {
			if limitError(err) {
				return
			}
			t.Fatalf("ParsePath(%q) = %q, which does not parse: %v", s, s1, err)
		}
		if s2 := p2.String(); s2 != s1 {
			t.Fatalf("ParsePath(%q) renders %q, which re-renders as %q", s, s1, s2)
		}
	})
}
