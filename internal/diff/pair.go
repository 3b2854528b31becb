package diff

import (
	"strings"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// keySpec is one attribute objects are paired by.
type keySpec struct {
	// Attr is the target path as the mapping names it.
	Attr string
	// pos is its position among the compared attributes.
	pos int
	// fold: compared case-insensitively (userName, displayName and
	// emails are not caseExact, RFC 7643 §4.1.1, §4.2; Metric Insights
	// keeps names unique case-insensitively, DESIGN §3.1–§3.2).
	fold bool
	// matching: one of Entra's matching attributes; the others are
	// diff's own fallback (externalId), which Entra does not query.
	matching bool
	// link: the connector space's link (a tenant object's linked target
	// id against the target object's id), which Entra reads a linked
	// object by before any matching (GET /Users/{id}).
	link bool
}

// linkKey is the name pairedBy gives the connector space's link.
const linkKey = "link"

// pairingKeys are the attributes a kind's objects are paired by: the
// matching attributes in precedence order (userName for users and
// displayName for groups in Metric Insights' mapping), then externalId
// when the mapping maps it and does not match by it already. Pairing by
// externalId, the object's source anchor in Metric Insights' mapping,
// finds an object Entra would find by the link it keeps: a user whose
// UPN changed, a soft-deleted user whose userName flows as its tombstone
// UPN.
//
// With a connector space (links not nil), its link comes first: Entra
// reads a linked object by its id and matches only objects it has not
// linked.
func pairingKeys(om *mapping.ObjectMapping, set *attrSet, links map[string]string) []keySpec {
	rs := scim.User
	if om.Kind == mapping.Groups {
		rs = scim.Group
	}
	var keys []keySpec
	if links != nil {
		keys = append(keys, keySpec{Attr: linkKey, pos: -1, link: true})
	}
	seen := map[int]bool{}
	add := func(target string, matching bool) {
		pos := set.position(target)
		if pos < 0 || seen[pos] {
			return
		}
		seen[pos] = true
		keys = append(keys, keySpec{Attr: set.attrs[pos].Target, pos: pos, fold: !caseExact(rs, set.paths[pos]), matching: matching})
	}
	for _, a := range om.MatchingAttributes() {
		add(a.Target, true)
	}
	add("externalId", false)
	return keys
}

// caseExact reports whether the target compares an attribute's values
// case-sensitively; an attribute the schema does not know is.
func caseExact(rs *scim.ResourceSchema, p scim.AttrPath) bool {
	if p.URI != "" && rs.SchemaByURI(p.URI) == nil {
		return true
	}
	a := rs.Lookup(p.URI, p.Name)
	if a == nil {
		return true
	}
	if p.SubAttr != "" {
		if a = a.Sub(p.SubAttr); a == nil {
			return true
		}
	}
	return a.CaseExact
}

// keyText is a key value as it is compared.
func (k *keySpec) keyText(s string) string {
	if k.fold {
		return strings.ToLower(s)
	}
	return s
}

// pairing is how the objects of one kind were paired: the left side
// (the tenant's objects, or the reference target's) with the right (the
// target's).
type pairing struct {
	keys []keySpec
	// left[i] is the right object left object i is paired with, -1 for
	// none; by[i] the key it was paired by.
	left []int32
	by   []int8
	// right[j] is the left object right object j is paired with, -1 for
	// none.
	right []int32
	// targetDup[i] are the right objects left object i matches when it
	// matches more than one; claimed[j] marks them.
	targetDup map[int32][]int32
	dupBy     map[int32]int8
	claimed   []bool
	// tenantDup[first] are the left objects after the first that share
	// its matching value; dup[i] marks them all, the first too: they
	// pair by no matching attribute (each would match the one target
	// object), only by the fallback (externalId), which tells them apart.
	tenantDup map[int32][]int32
	dup       []bool
}

// firstMatching names the first matching attribute.
func (p *pairing) firstMatching() string {
	for _, k := range p.keys {
		if k.matching {
			return k.Attr
		}
	}
	return p.keys[len(p.keys)-1].Attr
}

// pairedBy names the key an object was paired by.
func (p *pairing) pairedBy(i int) string {
	if p.left[i] < 0 {
		return ""
	}
	return p.keys[p.by[i]].Attr
}

// pairObjects pairs left objects with right ones. leftKeys[k][i] and
// rightKeys[k][j] are the values of key k ("" for none), already folded.
// dupCheck[i] says whether left object i takes part in the duplicate
// check (objects in scope: Entra provisions only those).
//
// Key by key, each left object not yet paired looks its value up among
// the right objects: one that no other left object took pairs; several
// on a matching attribute are Entra's DuplicateTargetEntries (the query
// returns them all), paired with nothing. Before that, left objects that
// share their first matching value are a duplicate in the tenant: the
// first pairs, the others do not, since they would match the same
// target object.
func pairObjects(keys []keySpec, leftKeys, rightKeys [][]string, dupCheck []bool) *pairing {
	nl, nr := 0, 0
	if len(keys) > 0 {
		nl, nr = len(leftKeys[0]), len(rightKeys[0])
	}
	p := &pairing{keys: keys, left: make([]int32, nl), by: make([]int8, nl), right: make([]int32, nr),
		targetDup: map[int32][]int32{}, dupBy: map[int32]int8{}, claimed: make([]bool, nr), tenantDup: map[int32][]int32{}, dup: make([]bool, nl)}
	for i := range p.left {
		p.left[i] = -1
	}
	for j := range p.right {
		p.right[j] = -1
	}

	// Duplicates on the left: the first matching value present.
	firstOf := map[string]int32{}
	for i := range nl {
		if dupCheck != nil && !dupCheck[i] {
			continue
		}
		for k := range keys {
			if keys[k].link {
				continue
			}
			if !keys[k].matching {
				break
			}
			v := leftKeys[k][i]
			if v == "" {
				continue
			}
			key := string(rune('0'+k)) + v
			if f, ok := firstOf[key]; ok {
				p.tenantDup[f] = append(p.tenantDup[f], int32(i))
				p.dup[f], p.dup[i] = true, true
			} else {
				firstOf[key] = int32(i)
			}
			break
		}
	}

	for k := range keys {
		index := make(map[string][]int32, nr)
		for j := range nr {
			if v := rightKeys[k][j]; v != "" {
				index[v] = append(index[v], int32(j))
			}
		}
		// Objects in scope first: an out-of-scope object never takes a
		// target object from one in scope.
		for n := range 2 * nl {
			i := n % nl
			if first := n < nl; (dupCheck == nil || dupCheck[i]) != first {
				continue
			}
			if p.left[i] >= 0 || p.dup[i] && keys[k].matching || p.targetDup[int32(i)] != nil {
				continue
			}
			v := leftKeys[k][i]
			if v == "" {
				continue
			}
			all := index[v]
			var free []int32
			for _, j := range all {
				if p.right[j] < 0 && !p.claimed[j] {
					free = append(free, j)
				}
			}
			cands := free
			if keys[k].matching {
				cands = all // Entra's query sees every object
			}
			switch {
			case len(cands) > 1:
				p.targetDup[int32(i)] = cands
				p.dupBy[int32(i)] = int8(k)
				for _, j := range free {
					p.claimed[j] = true
				}
			case len(free) == 1 && len(cands) == 1:
				j := free[0]
				p.left[i], p.by[i], p.right[j] = j, int8(k), int32(i)
			}
		}
	}
	return p
}
