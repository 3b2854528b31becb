package sync

import (
	"testing"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// TestHoldsValue: the comparison simulate makes before an update, and
// diff with it.
func TestHoldsValue(t *testing.T) {
	for _, tc := range []struct {
		want expr.Value
		tt   mapping.TargetType
		have any
		same bool
	}{
		{expr.Str("1"), mapping.TypeBoolean, true, true},
		{expr.Str("0"), mapping.TypeBoolean, false, true},
		{expr.Str("True"), mapping.TypeBoolean, "true", true},
		{expr.Str("1"), mapping.TypeBoolean, false, false},
		{expr.Str("1"), mapping.TypeString, true, false},
		{expr.Str("Lee"), mapping.TypeString, "Lee", true},
		{expr.Str("Lee"), mapping.TypeString, "lee", false},
		{expr.Str("Lee"), mapping.TypeString, nil, false},
		{expr.Str(""), mapping.TypeString, "", false},
		{expr.Str("42"), mapping.TypeInteger, float64(42), true},
		{expr.Multi("b", "a"), mapping.TypeString, []any{"a", "b"}, true},
		{expr.Multi("b", "a"), mapping.TypeString, []any{"a"}, false},
		{expr.Multi("a"), mapping.TypeString, "a", false},
	} {
		if got := HoldsValue(tc.want, tc.tt, tc.have); got != tc.same {
			t.Errorf("HoldsValue(%v, %s, %#v) = %v", tc.want, tc.tt, tc.have, got)
		}
	}
}

// TestTargetValue: a filtered path reads the element the filter matches
// and nothing else, as Entra reads it (a user whose email has no type has
// no work email to Entra, which then sends it); names in any case (RFC
// 7643 §2.1).
func TestTargetValue(t *testing.T) {
	p, err := scim.ParsePath(`emails[type eq "work"].value`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		emails []any
		want   any
	}{
		{[]any{map[string]any{"type": "home", "value": "h"}, map[string]any{"type": "work", "value": "w"}}, "w"},
		{[]any{map[string]any{"type": "home", "value": "h"}, map[string]any{"value": "p", "primary": true}}, nil},
		{[]any{map[string]any{"value": "f"}, map[string]any{"value": "s"}}, nil},
		{[]any{map[string]any{"TYPE": "Work", "Value": "w"}}, "w"},
		{nil, nil},
	} {
		if got := TargetValue(scim.Resource{"emails": tc.emails}, p); got != tc.want {
			t.Errorf("emails %v: %v, want %v", tc.emails, got, tc.want)
		}
	}
	name, _ := scim.ParsePath("name.familyName")
	if got := TargetValue(scim.Resource{"Name": map[string]any{"FamilyName": "Lee"}}, name); got != "Lee" {
		t.Errorf("name.familyName in other cases: %v", got)
	}
	ext, _ := scim.ParsePath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
	if got := TargetValue(scim.Resource{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"employeeNumber": "7"}}, ext); got != "7" {
		t.Errorf("extension attribute: %v", got)
	}
}
