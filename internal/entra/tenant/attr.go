package tenant

import (
	"slices"
	"strings"
)

// names interns attribute names: each object stores small ids, not
// strings, and every snapshot has one table. The 15 extension attributes
// are interned first, so their ids are 0 to 14. It also interns short
// values (departments, job titles, "Member"), which repeat across
// thousands of users.
type names struct {
	list   []string
	ids    map[string]int32
	values map[string]string
}

// Attribute names with fixed ids: extensionAttribute1..15 are 0 to 14,
// these follow.
const (
	idObjectID int32 = maxExtensionAttribute + iota
	idUPN
	idDisplayName
	idGivenName
	idSurname
	idMail
	idMailNickname
	idOtherMails
	idAccountEnabled
	idDescription
	idTelephoneNumber
	idProxyAddresses
)

var fixedNames = []string{attrObjectID, attrUPN, attrDisplayName, attrGivenName, attrSurname, attrMail, attrMailNickname,
	attrOtherMails, attrAccountEnabled, attrDescription, attrTelephoneNumber, attrProxyAddresses}

func newNames() names {
	n := names{ids: map[string]int32{}, values: map[string]string{}}
	for _, e := range extensionAttributeNames {
		n.intern(e)
	}
	for _, f := range fixedNames {
		n.intern(f)
	}
	return n
}

// extensionID is the id of "extensionAttribute1".."extensionAttribute15"
// read from bytes, without a map lookup.
func extensionID(k []byte) (int32, bool) {
	const prefix = extensionAttrPrefix
	if len(k) <= len(prefix) || len(k) > len(prefix)+2 || string(k[:len(prefix)]) != prefix {
		return 0, false
	}
	d := k[len(prefix):]
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if d[0] == '0' || n < 1 || n > maxExtensionAttribute {
		return 0, false
	}
	return int32(n - 1), true
}

// maxInternedValue bounds which values are shared: short ones repeat.
const (
	maxInternedValue  = 24
	maxInternedValues = 1 << 16
)

func (n *names) value(s string) string {
	if len(s) > maxInternedValue {
		return s
	}
	if v, ok := n.values[s]; ok {
		return v
	}
	if len(n.values) < maxInternedValues {
		n.values[s] = s
	}
	return s
}

func (n *names) intern(name string) int32 {
	if id, ok := n.ids[name]; ok {
		return id
	}
	if n.ids == nil {
		n.ids = map[string]int32{}
	}
	id := int32(len(n.list))
	name = strings.Clone(name)
	n.list = append(n.list, name)
	n.ids[name] = id
	return id
}

// internBytes interns without allocating when the name is known.
func (n *names) internBytes(b []byte) int32 {
	if id, ok := n.ids[string(b)]; ok {
		return id
	}
	return n.intern(string(b))
}

// attrRef locates one attribute's values in attrSet.vals. multi marks a
// multi-valued attribute (read from an array or list, or one Entra
// defines so), even with a single value: expressions treat it as such.
type attrRef struct {
	name     int32
	start, n int32
	multi    bool
}

// attrSet is an object's attributes, compactly: every value in one slice,
// and per attribute its name id and value range, sorted by name.
type attrSet struct {
	vals  []string
	attrs []attrRef
}

func (a *attrSet) lookup(n *names, name string) (attrRef, bool) {
	id, ok := n.ids[name]
	if !ok {
		return attrRef{}, false
	}
	for _, r := range a.attrs {
		if r.name == id {
			return r, true
		}
	}
	return attrRef{}, false
}

func (a *attrSet) attr(n *names, name string) ([]string, bool) {
	r, ok := a.lookup(n, name)
	if !ok {
		return nil, false
	}
	return a.vals[r.start : r.start+r.n : r.start+r.n], true
}

func (a *attrSet) attrValues(n *names, name string) ([]string, bool, bool) {
	r, ok := a.lookup(n, name)
	if !ok {
		return nil, false, false
	}
	return a.vals[r.start : r.start+r.n : r.start+r.n], r.multi, true
}

func (a *attrSet) multi(n *names, name string) bool {
	r, ok := a.lookup(n, name)
	return ok && r.multi
}

// firstID is the first value of the attribute with id, "" when absent.
func (a *attrSet) firstID(id int32) string {
	for _, r := range a.attrs {
		if r.name == id {
			return a.vals[r.start]
		}
	}
	return ""
}

func (a *attrSet) attrNames(n *names) []string {
	out := make([]string, len(a.attrs))
	for i, r := range a.attrs {
		out[i] = n.list[r.name]
	}
	return out
}

// equal compares two attribute sets that may use different name tables.
func (a *attrSet) equal(an *names, b *attrSet, bn *names) bool {
	if len(a.attrs) != len(b.attrs) {
		return false
	}
	for i, r := range a.attrs {
		s := b.attrs[i]
		if an.list[r.name] != bn.list[s.name] || r.multi != s.multi ||
			!slices.Equal(a.vals[r.start:r.start+r.n], b.vals[s.start:s.start+s.n]) {
			return false
		}
	}
	return true
}

// kv is one attribute while an object is being read: one value (single,
// the common case, without a slice of its own) or vals, a multi-valued
// attribute; null is an explicit null, which clears the attribute in a
// delta.
type kv struct {
	name   int32
	one    string
	vals   []string
	single bool
	null   bool
}

func (e *kv) count() int {
	if e.null {
		return 0
	}
	if e.single {
		return 1
	}
	return len(e.vals)
}

// compact turns read attributes into an attrSet, sorted by name; nulls
// and empty value lists are dropped (absent and null are the same to
// Entra).
func compact(n *names, kvs []kv) attrSet {
	total, count := 0, 0
	for i := range kvs {
		if n := kvs[i].count(); n > 0 {
			total += n
			count++
		}
	}
	set := attrSet{vals: make([]string, 0, total), attrs: make([]attrRef, 0, count)}
	for i := range kvs {
		e := &kvs[i]
		n := e.count()
		if n == 0 {
			continue
		}
		set.attrs = append(set.attrs, attrRef{name: e.name, start: int32(len(set.vals)), n: int32(n), multi: !e.single})
		if e.single {
			set.vals = append(set.vals, e.one)
		} else {
			set.vals = append(set.vals, e.vals...)
		}
	}
	slices.SortFunc(set.attrs, func(x, y attrRef) int { return strings.Compare(n.list[x.name], n.list[y.name]) })
	return set
}

// expand is compact's inverse, for merging a later record into an object.
func (a *attrSet) expand() []kv {
	out := make([]kv, len(a.attrs))
	for i, r := range a.attrs {
		if r.multi {
			out[i] = kv{name: r.name, vals: a.vals[r.start : r.start+r.n : r.start+r.n]}
		} else {
			out[i] = kv{name: r.name, one: a.vals[r.start], single: true}
		}
	}
	return out
}

// overlay applies later values over earlier ones: a key present in later
// (even as null) replaces the earlier one, as a Graph delta item does.
func overlay(earlier, later []kv) []kv {
	out := slices.Clone(earlier)
	for _, l := range later {
		if i := slices.IndexFunc(out, func(e kv) bool { return e.name == l.name }); i >= 0 {
			out[i] = l
		} else {
			out = append(out, l)
		}
	}
	return out
}

func (u *User) first(name string) string {
	if v, ok := u.Attr(name); ok && len(v) > 0 {
		return v[0]
	}
	return ""
}

func (g *Group) first(name string) string {
	if v, ok := g.Attr(name); ok && len(v) > 0 {
		return v[0]
	}
	return ""
}
