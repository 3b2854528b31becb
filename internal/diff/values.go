package diff

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// readPath returns the value a resource holds at a mapped path, nil when
// it holds none (RFC 7644 §3.5.2's path forms; names compared
// case-insensitively, RFC 7643 §2.1).
//
// Metric Insights keeps one email per user: the element of type work,
// else the primary one, else the first (DESIGN §3.1). A path into emails
// filtered by type (emails[type eq "work"].value, Metric Insights'
// documented mapping) therefore reads that email whatever type the target
// gives it: a user whose one address was sent without a type is not a
// difference.
func readPath(res scim.Resource, p scim.AttrPath) any {
	m := map[string]any(res)
	if p.URI != "" {
		ext, ok := findMember(m, p.URI).(map[string]any)
		if !ok {
			return nil
		}
		m = ext
	}
	v := findMember(m, p.Name)
	if p.ValueFilter != nil {
		list, _ := v.([]any)
		var elem map[string]any
		for _, e := range list {
			if em, ok := e.(map[string]any); ok && scim.MatchElement(p.ValueFilter, em, nil) {
				elem = em
				break
			}
		}
		if elem == nil && strings.EqualFold(p.Name, "emails") {
			elem = miEmail(list)
		}
		if elem == nil {
			return nil
		}
		if p.SubAttr == "" {
			return elem
		}
		return findMember(elem, p.SubAttr)
	}
	if p.SubAttr != "" {
		sub, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		return findMember(sub, p.SubAttr)
	}
	return v
}

// miEmail is the email element Metric Insights keeps: the primary one,
// else the first (the work one was looked for first).
func miEmail(list []any) map[string]any {
	var first map[string]any
	for _, e := range list {
		em, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if first == nil {
			first = em
		}
		if b, ok := scim.ParseBool(findMember(em, "primary")); ok && b {
			return em
		}
	}
	return first
}

// empty reports a value the target does not hold: absent, null, an empty
// string or an empty array.
func empty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	}
	return false
}

// same reports whether the target holds the desired value, the way
// Entra's engine compares before an update (entra-behavior §2.4): a
// Boolean attribute by meaning ("1", "True" and true are one value, so
// Metric Insights' "1"/"0" active mapping is not a difference on every
// user), several values as a set, everything else as text, exactly
// (SCIM-TUT: the target stores values as sent).
func same(want expr.Value, tt mapping.TargetType, have any) bool {
	if empty(have) {
		return false
	}
	if want.Kind() == expr.KindMulti {
		list, ok := have.([]any)
		if !ok {
			return false
		}
		got := make([]string, 0, len(list))
		for _, e := range list {
			if t, ok := text(e); ok {
				got = append(got, t)
			}
		}
		ws := slices.Clone(want.Values())
		slices.Sort(ws)
		slices.Sort(got)
		return slices.Equal(ws, got)
	}
	s, _ := want.Single()
	if tt == mapping.TypeBoolean {
		wb, ok1 := scim.ParseBool(s)
		hb, ok2 := scim.ParseBool(have)
		if ok1 && ok2 {
			return wb == hb
		}
	}
	t, ok := text(have)
	return ok && t == s
}

// text renders a target value as the text Entra compares: strings as they
// are, booleans True/False, numbers in their shortest form, anything else
// as JSON. ok is false for null.
func text(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", false
	case string:
		return t, true
	case bool:
		if t {
			return "True", true
		}
		return "False", true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case json.Number:
		return string(t), true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

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
