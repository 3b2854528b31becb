package replay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/miscim/miscim/internal/scim"
)

// Scheduling under --concurrency: requests that concern the same resource
// stay in log order, and so do a creation and every later use of what it
// created, while requests on unrelated resources run in parallel. Each
// request is described by identity tokens — the resource id in its path,
// the ids and names (userName, displayName, externalId) in its filter,
// body and logged response, member values — and depends on the latest
// earlier request sharing a token with it. Requests whose effect or answer
// spans resources in ways tokens cannot tell are barriers, run after
// everything before them and before everything after: DELETE (a deleted
// user leaves every group), lists without an identity filter, and
// endpoints other than Users, Groups and discovery. Discovery requests
// depend on nothing. At --concurrency 1 every request runs in log order.

// order is how a request is scheduled.
type order struct {
	tokens  []string
	barrier bool
	free    bool
}

// identityAttrs are the attributes whose eq filters select resources by
// identity.
var identityAttrs = map[string]bool{"id": true, "username": true, "externalid": true, "displayname": true, "members": true, "value": true}

// orderOf describes one request for scheduling.
func orderOf(r *Request) order {
	ref := refOf(r.Rel)
	switch ref.endpoint {
	case epDiscovery:
		return order{free: true}
	case epOther:
		return order{barrier: true}
	}
	var o order
	add := func(s string) {
		if s != "" {
			o.tokens = append(o.tokens, strings.ToLower(s))
		}
	}
	add(ref.id)
	x := r.X
	if r.X.Method == http.MethodDelete {
		o.barrier = true
	}
	if ref.id == "" && !isWrite(x.Method, r.Rel) {
		// A query: only an identity filter says which resources it sees.
		f, ok := queryParam(r.Rel, "filter")
		var vals []string
		if ok {
			if e, err := scim.ParseFilter(f); err == nil {
				vals, ok = identityValues(e)
			} else {
				ok = false
			}
		}
		if !ok {
			o.barrier = true
		}
		for _, v := range vals {
			add(v)
		}
	}
	if len(x.RequestBody) > 0 {
		if doc, ok := decode(x.RequestBody); ok {
			bodyTokens(doc, "", add)
		}
	}
	if len(x.ResponseBody) > 0 && x.Status >= 200 && x.Status < 300 {
		v, _ := decode(x.ResponseBody)
		if doc, ok := v.(map[string]any); ok {
			responseTokens(doc, add)
			if list, ok := getFold(doc, "Resources").([]any); ok {
				for _, el := range list {
					if m, ok := el.(map[string]any); ok {
						responseTokens(m, add)
					}
				}
			}
		}
	}
	return o
}

func decode(b []byte) (any, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func responseTokens(m map[string]any, add func(string)) {
	add(scim.GetString(m, "id"))
	add(scim.GetString(m, "userName"))
	add(scim.GetString(m, "displayName"))
}

// identityValues returns the values a filter selects resources by, when
// it selects by identity: an eq comparison on an identity attribute, a
// conjunction with at least one such side, a disjunction of such sides,
// members[value eq "…"].
func identityValues(e scim.Expr) ([]string, bool) {
	switch t := e.(type) {
	case *scim.CompareExpr:
		s, isString := t.Value.(string)
		if t.Op == scim.OpEq && isString && identityAttrs[strings.ToLower(t.Path.Name)] && t.Path.ValueFilter == nil {
			return []string{s}, true
		}
	case *scim.ValuePathExpr:
		return identityValues(t.Path.ValueFilter)
	case *scim.LogicalExpr:
		l, lok := identityValues(t.Left)
		r, rok := identityValues(t.Right)
		if t.Op == scim.And && (lok || rok) || lok && rok {
			return append(l, r...), true
		}
	}
	return nil, false
}

// bodyTokens collects the identities a request body names: id, userName,
// displayName and externalId anywhere, member and manager values, and the
// quoted values of PATCH paths (members[value eq "…"]).
func bodyTokens(v any, key string, add func(string)) {
	switch t := v.(type) {
	case map[string]any:
		var opPath string
		if p, ok := getFold(t, "path").(string); ok {
			opPath = strings.ToLower(p)
			for _, lit := range literals(p) {
				add(lit)
			}
		}
		for k, el := range t {
			lk := strings.ToLower(k)
			switch lk {
			case "id", "username", "displayname", "externalid":
				if s, ok := el.(string); ok {
					add(s)
				}
			case "value":
				if s, ok := el.(string); ok && (key == "members" || key == "manager" || strings.HasPrefix(opPath, "members") || strings.HasPrefix(opPath, "manager")) {
					add(s)
				}
			}
			if strings.HasSuffix(lk, ":manager") {
				lk = "manager"
			}
			if lk == "value" && (strings.HasPrefix(opPath, "members") || strings.HasPrefix(opPath, "manager")) {
				lk = "members"
			}
			bodyTokens(el, lk, add)
		}
	case []any:
		for _, el := range t {
			if s, ok := el.(string); ok && key == "members" {
				add(s) // members given as plain strings
				continue
			}
			bodyTokens(el, key, add)
		}
	}
}

// dependencies computes, for each request, the earlier requests it waits
// for (see the comment at the top of this file).
func dependencies(reqs []*Request) [][]int {
	deps := make([][]int, len(reqs))
	last := map[string]int{}
	lastBarrier := -1
	var since []int // requests since the last barrier
	for i, r := range reqs {
		o := orderOf(r)
		if o.free {
			continue
		}
		if o.barrier {
			d := since
			if lastBarrier >= 0 {
				d = append([]int{lastBarrier}, d...)
			}
			deps[i] = d
			lastBarrier, since = i, nil
			clear(last) // the barrier stands for everything before it
			for _, t := range o.tokens {
				last[t] = i
			}
			continue
		}
		set := map[int]bool{}
		if lastBarrier >= 0 {
			set[lastBarrier] = true
		}
		for _, t := range o.tokens {
			if j, ok := last[t]; ok && j != i {
				set[j] = true
			}
			last[t] = i
		}
		d := make([]int, 0, len(set))
		for j := range set {
			d = append(d, j)
		}
		sort.Ints(d)
		deps[i] = d
		since = append(since, i)
	}
	return deps
}
