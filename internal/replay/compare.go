package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// IgnorePath is a body path left out of the comparison (--ignore):
// attribute names separated by dots, matched case-insensitively (RFC 7643
// §2.1), "[]" after a name for every element of that array; a schema URN
// is one name (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value).
// Within an array, a name applies to every element with or without "[]",
// as in SCIM attribute paths (emails.type). A path applies to the document
// and, in a ListResponse, to each of its Resources.
type IgnorePath struct {
	text  string
	steps []step
}

type step struct {
	name string
	each bool
}

func (p IgnorePath) String() string { return p.text }

// DefaultIgnore are the volatile members: those the target assigns (id,
// meta.created, meta.lastModified, meta.version) and those holding its
// host (meta.location, $ref of members and groups).
var DefaultIgnore = []string{"id", "meta.created", "meta.lastModified", "meta.location", "meta.version", "members[].$ref", "groups[].$ref"}

// ParseIgnore parses an --ignore PATH.
func ParseIgnore(s string) (IgnorePath, error) {
	text := strings.TrimSpace(s)
	p := IgnorePath{text: text}
	rest := text
	if rest == "" {
		return p, fmt.Errorf("empty path: give an attribute path such as meta.version or emails[].display")
	}
	for rest != "" {
		var name string
		end := -1
		if strings.HasPrefix(strings.ToLower(rest), "urn:") {
			// A URN holds dots ("2.0"); it ends at the first dot after
			// its last colon.
			colon := strings.LastIndexByte(rest, ':')
			end = strings.IndexAny(rest[colon:], ".[")
			if end >= 0 {
				end += colon
			}
		} else {
			end = strings.IndexAny(rest, ".[")
		}
		if end < 0 {
			name, rest = rest, ""
		} else {
			name, rest = rest[:end], rest[end:]
		}
		if name == "" {
			return p, fmt.Errorf("path %q has an empty attribute name", text)
		}
		st := step{name: name}
		if strings.HasPrefix(rest, "[") {
			if !strings.HasPrefix(rest, "[]") {
				return p, fmt.Errorf("path %q: only [] (every element) may follow a name, not an index or filter", text)
			}
			st.each, rest = true, rest[2:]
		}
		p.steps = append(p.steps, st)
		if rest != "" {
			if rest[0] != '.' || len(rest) == 1 {
				return p, fmt.Errorf("path %q: expected a dot and a name after %q", text, name)
			}
			rest = rest[1:]
		}
	}
	return p, nil
}

// remove deletes the members the path names from v.
func (p IgnorePath) remove(v any) { removeSteps(v, p.steps) }

func removeSteps(v any, steps []step) {
	switch t := v.(type) {
	case []any:
		for _, el := range t {
			removeSteps(el, steps)
		}
	case map[string]any:
		for k, child := range t {
			if !strings.EqualFold(k, steps[0].name) {
				continue
			}
			if len(steps) == 1 {
				delete(t, k)
				continue
			}
			removeSteps(child, steps[1:])
		}
	}
}

// setLike are the multi-valued attributes whose order carries no meaning
// (RFC 7643 §2.4: multi-valued attributes are unordered), compared as
// sets; Resources too unless the request asked for an order (sortBy).
var setLike = map[string]bool{
	"members": true, "emails": true, "schemas": true, "phonenumbers": true, "ims": true, "photos": true,
	"addresses": true, "groups": true, "entitlements": true, "roles": true, "x509certificates": true,
	"resources": true,
}

// Difference is one place where the replay's answer differs from the
// logged one.
type Difference struct {
	// Path is "status" or a body path: dotted names, [i] for an element
	// of an ordered array, [] for an element of a set-like one.
	Path string `json:"path"`
	// Kind is "changed", "missing" (logged, not in the answer) or
	// "unexpected" (in the answer, not logged).
	Kind     string          `json:"kind"`
	Expected json.RawMessage `json:"expected,omitempty"`
	Actual   json.RawMessage `json:"actual,omitempty"`
}

// maxDifferences caps the differences listed for one request.
const maxDifferences = 50

// comparison compares one response with the logged one.
type comparison struct {
	ignore []IgnorePath
	// ordered: the request asked for sorted results, so Resources is
	// compared in order.
	ordered bool
}

// verdict is the outcome of a comparison.
type verdict struct {
	equal       bool
	differences []Difference
	// expected and actual are the compared forms of both bodies, as
	// indented text, for the diff.
	expected, actual string
}

// body is a parsed response body: a JSON document, or text.
type body struct {
	doc    any
	text   string
	isJSON bool
	empty  bool
}

func parseBody(b []byte) body {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return body{empty: true}
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		return body{doc: v, isJSON: true}
	}
	return body{text: string(t)}
}

// compare compares the logged status and body (expected, already
// translated to the replay's ids) with the replay's.
func (c comparison) compare(expStatus int, exp body, actStatus int, act body) verdict {
	var v verdict
	if expStatus != actStatus {
		v.differences = append(v.differences, Difference{Path: "status", Kind: "changed", Expected: rawJSON(expStatus), Actual: rawJSON(actStatus)})
	}
	switch {
	case exp.empty && act.empty:
	case exp.isJSON && act.isJSON:
		e, a := c.normalize(exp.doc), c.normalize(act.doc)
		alignKeys(a, e)
		c.sortSets(e, "")
		c.sortSets(a, "")
		c.diff("", "", e, a, &v.differences)
		if len(v.differences) > 0 {
			// The texts are for showing a mismatch; equal answers, the
			// common case, need none.
			v.expected, v.actual = indent(e), indent(a)
		}
	default:
		et, at := textOf(exp), textOf(act)
		if et != at {
			k := "changed"
			switch {
			case exp.empty:
				k = "unexpected"
			case act.empty:
				k = "missing"
			}
			d := Difference{Path: "body", Kind: k}
			if !exp.empty {
				d.Expected = rawJSON(et)
			}
			if !act.empty {
				d.Actual = rawJSON(at)
			}
			v.differences = append(v.differences, d)
		}
		v.expected, v.actual = et, at
	}
	v.equal = len(v.differences) == 0
	if len(v.differences) > maxDifferences {
		v.differences = v.differences[:maxDifferences]
	}
	return v
}

func textOf(b body) string {
	if b.isJSON {
		return indent(b.doc)
	}
	return b.text
}

// normalize removes the ignored paths from a document (in place).
func (c comparison) normalize(doc any) any {
	list, _ := getFold(asObject(doc), "Resources").([]any)
	for _, p := range c.ignore {
		p.remove(doc)
		for _, r := range list {
			p.remove(r)
		}
	}
	return doc
}

func asObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// alignKeys renames the members of a whose names differ from e's only in
// case, so that they compare (and show) as the same member.
func alignKeys(a, e any) {
	switch at := a.(type) {
	case map[string]any:
		et, ok := e.(map[string]any)
		if !ok {
			return
		}
		for k, v := range at {
			if _, same := et[k]; same {
				alignKeys(v, et[k])
				continue
			}
			for ek, ev := range et {
				if strings.EqualFold(ek, k) {
					if _, taken := at[ek]; !taken {
						delete(at, k)
						at[ek] = v
					}
					alignKeys(v, ev)
					break
				}
			}
		}
	case []any:
		et, ok := e.([]any)
		if !ok {
			return
		}
		for i := range min(len(at), len(et)) {
			alignKeys(at[i], et[i])
		}
	}
}

func (c comparison) isSet(key string) bool {
	k := strings.ToLower(key)
	if k == "resources" && c.ordered {
		return false
	}
	return setLike[k]
}

// sortSets orders the elements of set-like arrays by their canonical
// JSON, so that equal sets compare and print alike.
func (c comparison) sortSets(v any, key string) {
	switch t := v.(type) {
	case map[string]any:
		for k, el := range t {
			c.sortSets(el, k)
		}
	case []any:
		for _, el := range t {
			c.sortSets(el, "")
		}
		if c.isSet(key) && len(t) > 1 {
			keys := make([]string, len(t))
			for i, el := range t {
				keys[i] = canonical(el)
			}
			sort.Sort(byKey{t, keys})
		}
	}
}

// byKey sorts elements by their precomputed canonical forms.
type byKey struct {
	els  []any
	keys []string
}

func (b byKey) Len() int           { return len(b.els) }
func (b byKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b byKey) Swap(i, j int) {
	b.els[i], b.els[j] = b.els[j], b.els[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}

// sameScalar compares two JSON scalars without encoding them; ok is
// false when either is not a scalar.
func sameScalar(e, a any) (same, ok bool) {
	switch et := e.(type) {
	case string:
		at, isString := a.(string)
		return isString && et == at, true
	case float64:
		at, isNumber := a.(float64)
		return isNumber && et == at, true
	case bool:
		at, isBool := a.(bool)
		return isBool && et == at, true
	case nil:
		return a == nil, true
	}
	return false, false
}

func canonical(v any) string {
	b, err := marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func rawJSON(v any) json.RawMessage {
	b, err := marshal(v)
	if err != nil {
		return nil
	}
	return b
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// diff lists the differences of e and a under path; key is the member
// name holding them (for set-likeness).
func (c comparison) diff(path, key string, e, a any, out *[]Difference) {
	if len(*out) > maxDifferences {
		return
	}
	switch et := e.(type) {
	case map[string]any:
		at, ok := a.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(et)+len(at))
		for k := range et {
			keys = append(keys, k)
		}
		for k := range at {
			if _, ok := et[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			ev, inE := et[k]
			av, inA := at[k]
			switch {
			case !inA:
				*out = append(*out, Difference{Path: join(path, k), Kind: "missing", Expected: rawJSON(ev)})
			case !inE:
				*out = append(*out, Difference{Path: join(path, k), Kind: "unexpected", Actual: rawJSON(av)})
			default:
				c.diff(join(path, k), k, ev, av, out)
			}
		}
		return
	case []any:
		at, ok := a.([]any)
		if !ok {
			break
		}
		if c.isSet(key) {
			count := map[string]int{}
			for _, el := range at {
				count[canonical(el)]++
			}
			var missing []any
			for _, el := range et {
				k := canonical(el)
				if count[k] > 0 {
					count[k]--
					continue
				}
				missing = append(missing, el)
			}
			for _, el := range missing {
				*out = append(*out, Difference{Path: path + "[]", Kind: "missing", Expected: rawJSON(el)})
			}
			for _, el := range at {
				if k := canonical(el); count[k] > 0 {
					count[k]--
					*out = append(*out, Difference{Path: path + "[]", Kind: "unexpected", Actual: rawJSON(el)})
				}
			}
			return
		}
		for i := range max(len(et), len(at)) {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(at):
				*out = append(*out, Difference{Path: p, Kind: "missing", Expected: rawJSON(et[i])})
			case i >= len(et):
				*out = append(*out, Difference{Path: p, Kind: "unexpected", Actual: rawJSON(at[i])})
			default:
				c.diff(p, "", et[i], at[i], out)
			}
		}
		return
	}
	same, scalar := sameScalar(e, a)
	if !scalar {
		same = canonical(e) == canonical(a)
	}
	if !same {
		if path == "" {
			path = "body"
		}
		*out = append(*out, Difference{Path: path, Kind: "changed", Expected: rawJSON(e), Actual: rawJSON(a)})
	}
}

// indent renders a document as indented JSON with sorted member names.
func indent(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return buf.String()
}
