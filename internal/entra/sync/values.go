package sync

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	gosync "sync"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// wireContext is where a value travels: a create body or a PATCH of one
// dialect. Entra types values differently in each (entra-behavior §2.3,
// §2.5): a POST and the flag's PATCH send booleans as JSON booleans, the
// legacy PATCH sends them as "True"/"False" strings.
type wireContext uint8

const (
	wirePost wireContext = iota
	wireLegacyPatch
	wireFlagPatch
)

func patchContext(d Dialect) wireContext {
	if d == DialectFlag {
		return wireFlagPatch
	}
	return wireLegacyPatch
}

// BooleanValueError is the export failure of a Boolean attribute whose value
// cannot be sent under the export-error policy.
type BooleanValueError struct {
	Target string
	Value  string
}

func (e *BooleanValueError) Error() string {
	return fmt.Sprintf("%s is %q, which is not a Boolean value (True or False): the export fails (--boolean-values export-error)", e.Target, e.Value)
}

// wireValue is a mapped value as it is sent.
func wireValue(v expr.Value, a *mapping.Attribute, ctx wireContext, policy BooleanPolicy) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	if v.Kind() == expr.KindMulti {
		vs := v.Values()
		out := make([]any, len(vs))
		for i, s := range vs {
			w, err := wireScalar(s, a, ctx, policy)
			if err != nil {
				return nil, err
			}
			out[i] = w
		}
		return out, nil
	}
	s, _ := v.Single()
	return wireScalar(s, a, ctx, policy)
}

func wireScalar(s string, a *mapping.Attribute, ctx wireContext, policy BooleanPolicy) (any, error) {
	switch a.TargetType {
	case mapping.TypeBoolean:
		if s != "True" && s != "False" {
			switch policy {
			case BooleanError:
				return nil, &BooleanValueError{Target: a.Target, Value: s}
			case BooleanCoerce:
				b, ok := scim.ParseBool(s)
				if !ok {
					// Not a boolean in any spelling: nothing to coerce.
					return s, nil
				}
				s = boolText(b)
			default:
				// verbatim-string: the string as the expression gave it.
				return s, nil
			}
		}
		if ctx == wireLegacyPatch {
			return s, nil
		}
		return s == "True", nil
	case mapping.TypeInteger:
		if ctx == wireLegacyPatch {
			return s, nil
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10)), nil
		}
	}
	return s, nil
}

func boolText(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// logText renders a value as the provisioning log shows it: strings as
// they are, booleans "True"/"False", several values as a JSON array.
func logText(v expr.Value, redacted bool) *string {
	if v.IsNull() {
		return nil
	}
	if redacted {
		s := "[Redact]"
		return &s
	}
	if v.Kind() == expr.KindMulti {
		s := string(appendJSON(nil, v.Values()))
		return &s
	}
	s, _ := v.Single()
	return &s
}

// TargetText is a value read from the target as the text Entra compares
// and logs: strings as they are, booleans True/False, numbers in their
// shortest form, anything else as JSON; ok is false for null.
func TargetText(v any) (string, bool) {
	if t := targetText(v); t != nil {
		return *t, true
	}
	return "", false
}

// targetText renders a value read from the target for the log.
func targetText(v any) *string {
	var s string
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		s = t
	case bool:
		s = boolText(t)
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		s = string(t)
	default:
		s = string(appendJSON(nil, v))
	}
	return &s
}

// pathOf parses an attribute's target path, once per attribute (every
// export of every object needs it); mappings are checked at load, so a
// failure is a programming error reported as an unknown path.
func pathOf(a *mapping.Attribute) scim.AttrPath {
	if p, ok := paths.Load(a); ok {
		return p.(scim.AttrPath)
	}
	p, err := scim.ParsePath(a.Target)
	if err != nil {
		p = scim.AttrPath{Name: a.Target}
	}
	paths.Store(a, p)
	return p
}

// paths caches parsed target paths by attribute (a mapping's attributes
// live as long as the process that loaded it).
var paths gosync.Map

// TargetValue returns the value a resource holds at a path, nil when it
// holds none (RFC 7644 §3.5.2's path forms, names compared
// case-insensitively as RFC 7643 §2.1 says).
func TargetValue(res scim.Resource, p scim.AttrPath) any {
	m := map[string]any(res)
	if p.URI != "" {
		ext, ok := findKey(m, p.URI).(map[string]any)
		if !ok {
			return nil
		}
		m = ext
	}
	v := findKey(m, p.Name)
	if p.ValueFilter != nil {
		list, _ := v.([]any)
		for _, e := range list {
			if em, ok := e.(map[string]any); ok && scim.MatchElement(p.ValueFilter, em, nil) {
				if p.SubAttr == "" {
					return em
				}
				return findKey(em, p.SubAttr)
			}
		}
		return nil
	}
	if p.SubAttr != "" {
		sub, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		return findKey(sub, p.SubAttr)
	}
	return v
}

func findKey(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// EmptyTarget reports a value the target does not hold: absent, null,
// an empty string or an empty array.
func EmptyTarget(v any) bool {
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

// HoldsValue reports whether the target already holds the mapped value
// (tt: the attribute's target type), as Entra compares before an update
// (entra-behavior §2.4); diff compares with it too. A value the target
// does not hold (EmptyTarget) is never the same. Booleans compare by
// meaning ("1", "True" and true are one value to a Boolean attribute), so
// that Metric Insights' "1"/"0" mapping does not re-send active on every
// evaluation; several values compare as a set; everything else as text,
// exactly (SCIM-TUT: the target must store values as sent).
func HoldsValue(want expr.Value, tt mapping.TargetType, have any) bool {
	if EmptyTarget(have) {
		return false
	}
	if want.Kind() == expr.KindMulti {
		list, ok := have.([]any)
		if !ok {
			return false
		}
		var got []string
		for _, e := range list {
			t := targetText(e)
			if t == nil {
				continue
			}
			got = append(got, *t)
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
	t := targetText(have)
	return t != nil && *t == s
}
