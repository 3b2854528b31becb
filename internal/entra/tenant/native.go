package tenant

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/yamltree"
)

// NativeFormat is the value of a native snapshot's "format" key.
const NativeFormat = "miscim-tenant/1"

// Keys of the native snapshot (docs/tenant.schema.json).
const (
	nativeAttributes = "attributes"
	nativeSoftDelete = "softDeleted"
	nativeFromExpand = "membersFromExpand"
)

var (
	nativeTopKeys = []string{"$schema", "format", "users", "groups", "assignments"}
	// nativeTopLevel are the attributes written as keys of the user or
	// group itself; others go under "attributes".
	nativeTopLevel = map[string]bool{
		attrObjectID: true, attrUPN: true, attrDisplayName: true, attrGivenName: true, attrSurname: true,
		attrMail: true, attrMailNickname: true, attrOtherMails: true, attrAccountEnabled: true, attrDescription: true,
	}
	nativeUserKeys = []string{attrObjectID, attrUPN, attrDisplayName, attrGivenName, attrSurname, attrMail,
		attrMailNickname, attrOtherMails, attrAccountEnabled, nativeSoftDelete, graphDeletedDateTime, onPremExtensionAttrs, nativeAttributes}
	nativeGroupKeys = []string{attrObjectID, attrDisplayName, attrDescription, attrMail, attrMailNickname,
		nativeSoftDelete, graphDeletedDateTime, graphMembers, nativeFromExpand, nativeAttributes}
	nativeAssignmentKeys = []string{"id", "principalId", "principalType", "principalDisplayName", "appRoleId", "resourceId", "resourceDisplayName"}
	nativeMemberKeys     = []string{"id", "type"}
)

// nativeLoader turns tree nodes into records.
type nativeLoader struct {
	b    *builder
	file string
	fid  int32
	pfx  map[string]int32
	yaml bool // from YAML: a plain scalar in a string field is its text
}

func (l *nativeLoader) errAt(n *yamltree.Node, path, hint, msg string, args ...any) *LoadError {
	return &LoadError{Source: Source{File: l.file, Line: n.Line, Path: path}, Msg: fmt.Sprintf(msg, args...), Hint: hint}
}

func (l *nativeLoader) want(n *yamltree.Node, path, what string) *LoadError {
	return l.errAt(n, path, "", "want %s, got %s", what, n.Describe())
}

func (l *nativeLoader) prefix(path string) int32 {
	if p, ok := l.pfx[path]; ok {
		return p
	}
	if l.pfx == nil {
		l.pfx = map[string]int32{}
	}
	p := l.b.srcs.prefix(l.fid, path, prefixNative)
	l.pfx[path] = p
	return p
}

// checkKeys rejects keys a snapshot does not define, which catches typos
// that would otherwise silently drop a value.
func (l *nativeLoader) checkKeys(n *yamltree.Node, path string, allowed []string, what string) error {
	for i, k := range n.Keys {
		if !slices.Contains(allowed, k) {
			hint := fmt.Sprintf("a %s has the keys %s", what, strings.Join(allowed, ", "))
			if what == "user" || what == "group" {
				hint += "; other attributes go under attributes:"
			}
			return l.errAt(&n.Vals[i], path+"."+k, hint, "unknown key %q", k)
		}
	}
	return nil
}

// str reads a string field: JSON strings, or any YAML scalar (an unquoted
// 0123 stays "0123").
func (l *nativeLoader) str(n *yamltree.Node, path string) (string, bool, error) {
	switch {
	case n.Kind == yamltree.Null:
		return "", false, nil
	case n.Kind == yamltree.String, l.yaml && (n.Kind == yamltree.Number || n.Kind == yamltree.Bool):
		return n.Text, true, nil
	}
	return "", false, l.want(n, path, "a string")
}

func (l *nativeLoader) boolean(n *yamltree.Node, path string) (Bool, error) {
	switch n.Kind {
	case yamltree.Null:
		return Unknown, nil
	case yamltree.Bool:
		return BoolOf(n.True), nil
	}
	return Unknown, &LoadError{Source: Source{File: l.file, Line: n.Line, Path: path},
		Msg: fmt.Sprintf("want true or false, got %s", n.Describe()), Hint: "write true or false, unquoted; leave the key out when it is not known"}
}

func (l *nativeLoader) timeOf(n *yamltree.Node, path string) (time.Time, error) {
	s, ok, err := l.str(n, path)
	if err != nil || !ok {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, l.errAt(n, path, "write an RFC 3339 time such as 2026-11-20T10:00:00Z", "%q is not a date-time", s)
	}
	return t.UTC(), nil
}

func (l *nativeLoader) top(root *yamltree.Node) error {
	if root.Kind != yamltree.Map {
		return l.errAt(root, "$", "a snapshot is a mapping with users, groups and assignments (docs/tenant.md)", "want a mapping at the top, got %s", root.Describe())
	}
	if err := l.checkKeys(root, "$", nativeTopKeys, "snapshot"); err != nil {
		return err
	}
	if f, ok := root.Get("format"); ok {
		if s, _, _ := l.str(f, "$.format"); s != NativeFormat {
			return l.errAt(f, "$.format", "this miscim reads format "+NativeFormat, "unknown snapshot format %q", s)
		}
	}
	for i, k := range root.Keys {
		n := &root.Vals[i]
		if k != "users" && k != "groups" && k != "assignments" {
			continue
		}
		if n.Kind == yamltree.Null {
			continue
		}
		if n.Kind != yamltree.List {
			return l.want(n, "$."+k, "a list")
		}
		l.section(k)
		for j := range n.Items {
			if err := l.item(k, j, &n.Items[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

// section records that the snapshot has a users, groups or assignments
// list, even an empty one: "no assignments" differs from "assignments
// not given".
func (l *nativeLoader) section(list string) {
	switch list {
	case "users":
		l.b.contents.Users = true
	case "groups":
		l.b.contents.Groups = true
	case "assignments":
		l.b.contents.Assignments = true
	}
}

// item reads one element of the users, groups or assignments list.
func (l *nativeLoader) item(list string, i int, n *yamltree.Node) error {
	switch list {
	case "users":
		return l.user(i, n)
	case "groups":
		return l.group(i, n)
	}
	return l.assignment(i, n)
}

// objectID checks that a user or group is a mapping with the keys of its
// kind and returns its objectId.
func (l *nativeLoader) objectID(n *yamltree.Node, path, what string, keys []string) (string, error) {
	if n.Kind != yamltree.Map {
		return "", l.want(n, path, "a mapping")
	}
	if err := l.checkKeys(n, path, keys, what); err != nil {
		return "", err
	}
	idn, ok := n.Get(attrObjectID)
	if !ok {
		return "", l.errAt(n, path, "every "+what+" needs its Entra objectId", "%s without objectId", what)
	}
	id, ok, err := l.str(idn, path+"."+attrObjectID)
	if err != nil {
		return "", err
	}
	if !ok || strings.TrimSpace(id) == "" {
		return "", l.errAt(idn, path+"."+attrObjectID, "every "+what+" needs its Entra objectId", "empty objectId")
	}
	return id, nil
}

func (l *nativeLoader) listedTwice(n *yamltree.Node, path, what, id string, first srcRef) error {
	return l.errAt(n, path, "an objectId names one "+what+"; remove or fix the second one", "%s %s is listed twice (first at %s)", what, id, l.b.srcs.resolve(first, ""))
}

// objectKey reads a key users and groups have alike: softDeleted,
// deletedDateTime, attributes, or an attribute by its Entra name.
func (l *nativeLoader) objectKey(k string, v *yamltree.Node, p string, rec *objectRec) error {
	switch k {
	case nativeSoftDelete:
		b, err := l.boolean(v, p)
		if err != nil {
			return err
		}
		rec.soft = rec.soft || b == True
	case graphDeletedDateTime:
		t, err := l.timeOf(v, p)
		if err != nil {
			return err
		}
		if !t.IsZero() {
			rec.soft, rec.deletedAt = true, t
		}
	case nativeAttributes:
		return l.attributes(v, p, &rec.kvs)
	default:
		s, ok, err := l.str(v, p)
		if err != nil {
			return err
		}
		rec.kvs = append(rec.kvs, kv{name: l.b.names.intern(k), one: s, single: true, null: !ok})
	}
	return nil
}

func (l *nativeLoader) user(i int, n *yamltree.Node) error {
	path := elemPath("$.users", i)
	id, err := l.objectID(n, path, "user", nativeUserKeys)
	if err != nil {
		return err
	}
	if j, dup := l.b.userIdx[strings.ToLower(id)]; dup {
		return l.listedTwice(n, path, "user", id, l.b.users[j].src)
	}
	rec := userRec{objectRec: objectRec{id: id, src: srcRef{prefix: l.prefix("$.users"), elem: int32(i), line: int32(n.Line)}}}
	nm := &l.b.names
	for j, k := range n.Keys {
		v := &n.Vals[j]
		p := path + "." + k
		switch k {
		case attrAccountEnabled:
			b, err := l.boolean(v, p)
			if err != nil {
				return err
			}
			rec.kvs = append(rec.kvs, kv{name: nm.intern(k), one: b.String(), single: true, null: b == Unknown})
		case attrOtherMails:
			vals, err := l.strList(v, p)
			if err != nil {
				return err
			}
			rec.kvs = append(rec.kvs, kv{name: nm.intern(k), vals: vals})
		case onPremExtensionAttrs:
			if err := l.extensionAttributes(v, p, &rec.kvs); err != nil {
				return err
			}
		default:
			if err := l.objectKey(k, v, p, &rec.objectRec); err != nil {
				return err
			}
		}
	}
	l.b.addUser(&rec, true)
	if rec.soft {
		l.b.contents.DeletedItems = true
	}
	return nil
}

func (l *nativeLoader) strList(n *yamltree.Node, path string) ([]string, error) {
	switch n.Kind {
	case yamltree.Null:
		return nil, nil
	case yamltree.List:
	default:
		return nil, l.want(n, path, "a list of strings")
	}
	vals := make([]string, 0, len(n.Items))
	for i := range n.Items {
		s, ok, err := l.str(&n.Items[i], elemPath(path, i))
		if err != nil {
			return nil, err
		}
		if ok {
			vals = append(vals, s)
		}
	}
	return vals, nil
}

func (l *nativeLoader) extensionAttributes(n *yamltree.Node, path string, kvs *[]kv) error {
	if n.Kind == yamltree.Null {
		return nil
	}
	if n.Kind != yamltree.Map {
		return l.want(n, path, "a mapping of extensionAttribute1 to extensionAttribute15")
	}
	for j, k := range n.Keys {
		if !isExtensionAttribute(k) {
			return l.errAt(&n.Vals[j], path+"."+k, "onPremisesExtensionAttributes holds extensionAttribute1 to extensionAttribute15", "unknown key %q", k)
		}
		s, ok, err := l.str(&n.Vals[j], path+"."+k)
		if err != nil {
			return err
		}
		*kvs = append(*kvs, kv{name: l.b.names.intern(k), one: s, single: true, null: !ok})
	}
	return nil
}

// attributes reads "attributes": any other Entra attribute by name, a
// scalar or a list of scalars; booleans read as "True"/"False".
func (l *nativeLoader) attributes(n *yamltree.Node, path string, kvs *[]kv) error {
	if n.Kind == yamltree.Null {
		return nil
	}
	if n.Kind != yamltree.Map {
		return l.want(n, path, "a mapping of attribute names to values")
	}
	for j, k := range n.Keys {
		v := &n.Vals[j]
		p := path + "." + k
		switch {
		case k == "" || nativeTopLevel[k] || k == nativeSoftDelete || k == graphDeletedDateTime:
			return l.errAt(v, p, "write it as a key of the object itself", "%q is not an attribute for attributes:", k)
		case isExtensionAttribute(k):
			return l.errAt(v, p, "write it under onPremisesExtensionAttributes:", "%q belongs under onPremisesExtensionAttributes", k)
		}
		e := kv{name: l.b.names.intern(k)}
		switch v.Kind {
		case yamltree.Null:
			e.null = true
		case yamltree.List:
			for i := range v.Items {
				s, ok := scalarText(&v.Items[i])
				if !ok {
					return l.want(&v.Items[i], elemPath(p, i), "a string, number or boolean")
				}
				e.vals = append(e.vals, s)
			}
			e.null = len(e.vals) == 0
		default:
			s, ok := scalarText(v)
			if !ok {
				return l.want(v, p, "a string, number, boolean or a list of them")
			}
			e.one, e.single = s, true
		}
		*kvs = append(*kvs, e)
	}
	return nil
}

func scalarText(n *yamltree.Node) (string, bool) {
	switch n.Kind {
	case yamltree.String, yamltree.Number:
		return n.Text, true
	case yamltree.Bool:
		return BoolOf(n.True).String(), true
	}
	return "", false
}

func (l *nativeLoader) group(i int, n *yamltree.Node) error {
	path := elemPath("$.groups", i)
	id, err := l.objectID(n, path, "group", nativeGroupKeys)
	if err != nil {
		return err
	}
	if j, dup := l.b.groupIdx[strings.ToLower(id)]; dup {
		return l.listedTwice(n, path, "group", id, l.b.groups[j].src)
	}
	rec := groupRec{objectRec: objectRec{id: id, src: srcRef{prefix: l.prefix("$.groups"), elem: int32(i), line: int32(n.Line)}}, membersMode: membersList}
	fromExpand := false
	for j, k := range n.Keys {
		v := &n.Vals[j]
		p := path + "." + k
		switch k {
		case nativeFromExpand:
			b, err := l.boolean(v, p)
			if err != nil {
				return err
			}
			fromExpand = b == True
		case graphMembers:
			if err := l.members(v, p, &rec); err != nil {
				return err
			}
		default:
			if err := l.objectKey(k, v, p, &rec.objectRec); err != nil {
				return err
			}
		}
	}
	if fromExpand {
		rec.membersMode = membersExpand
	}
	l.b.addGroup(&rec, true)
	if rec.soft {
		l.b.contents.DeletedItems = true
	}
	return nil
}

// members reads a group's member list: objectIds (or UPNs) resolved
// against the snapshot, or {id, type} for an explicit kind.
func (l *nativeLoader) members(n *yamltree.Node, path string, rec *groupRec) error {
	if n.Kind == yamltree.Null {
		return nil
	}
	if n.Kind != yamltree.List {
		return l.want(n, path, "a list of member objectIds")
	}
	l.b.contents.Memberships = true
	pfx := l.prefix(path)
	for i := range n.Items {
		m := &n.Items[i]
		p := elemPath(path, i)
		ref := memberRef{src: srcRef{prefix: pfx, elem: int32(i), line: int32(m.Line)}}
		switch m.Kind {
		case yamltree.String, yamltree.Number:
			ref.ref = m.Text
		case yamltree.Map:
			if err := l.checkKeys(m, p, nativeMemberKeys, "member"); err != nil {
				return err
			}
			idn, ok := m.Get("id")
			if !ok {
				return l.errAt(m, p, "write the member as its objectId, or as {id: <objectId>, type: user|group|…}", "member without id")
			}
			s, _, err := l.str(idn, p+".id")
			if err != nil {
				return err
			}
			ref.ref = s
			if tn, ok := m.Get("type"); ok {
				ts, _, err := l.str(tn, p+".type")
				if err != nil {
					return err
				}
				k, ok := parseMemberKind(ts)
				if !ok {
					return l.errAt(tn, p+".type", "the type is user, group, servicePrincipal, orgContact or device", "unknown member type %q", ts)
				}
				ref.kind, ref.typed = k, true
			}
		default:
			return l.want(m, p, "a member objectId or {id, type}")
		}
		if strings.TrimSpace(ref.ref) == "" {
			return l.errAt(m, p, "", "empty member id")
		}
		rec.members = append(rec.members, ref)
	}
	return nil
}

// parseMemberKind reads a member type as Graph (#microsoft.graph.user),
// the portal (User, Service Principal) or a person (user) writes it.
func parseMemberKind(s string) (MemberKind, bool) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.TrimPrefix(k, "#")
	k = strings.TrimPrefix(k, "microsoft.graph.")
	k = strings.ReplaceAll(k, " ", "")
	switch k {
	case "user":
		return MemberUser, true
	case "group":
		return MemberGroup, true
	case "serviceprincipal", "application":
		return MemberServicePrincipal, true
	case "orgcontact", "contact":
		return MemberOrgContact, true
	case "device":
		return MemberDevice, true
	}
	return MemberUnknown, false
}

func parsePrincipalType(s string) (PrincipalType, bool) {
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "")) {
	case "":
		return PrincipalUnknown, true
	case "user":
		return PrincipalUser, true
	case "group":
		return PrincipalGroup, true
	case "serviceprincipal":
		return PrincipalServicePrincipal, true
	}
	return PrincipalUnknown, false
}

func (l *nativeLoader) assignment(i int, n *yamltree.Node) error {
	path := elemPath("$.assignments", i)
	if n.Kind != yamltree.Map {
		return l.want(n, path, "a mapping")
	}
	if err := l.checkKeys(n, path, nativeAssignmentKeys, "assignment"); err != nil {
		return err
	}
	rec := assignRec{src: srcRef{prefix: l.prefix("$.assignments"), elem: int32(i), line: int32(n.Line)}}
	fields := map[string]*string{"id": &rec.id, "principalId": &rec.principalID, "principalDisplayName": &rec.principalName,
		"appRoleId": &rec.appRoleID, "resourceId": &rec.resourceID, "resourceDisplayName": &rec.resourceName}
	for j, k := range n.Keys {
		v := &n.Vals[j]
		s, _, err := l.str(v, path+"."+k)
		if err != nil {
			return err
		}
		if k == "principalType" {
			pt, ok := parsePrincipalType(s)
			if !ok {
				return l.errAt(v, path+"."+k, "principalType is User, Group or ServicePrincipal", "unknown principalType %q", s)
			}
			rec.principalType = pt
			continue
		}
		*fields[k] = s
	}
	if strings.TrimSpace(rec.principalID) == "" {
		return l.errAt(n, path, "an assignment names the objectId of the assigned user or group", "assignment without principalId")
	}
	l.b.assigns = append(l.b.assigns, rec)
	return nil
}

// --- JSON ---

// loadNativeJSON streams a native JSON snapshot: the lists are read one
// element at a time.
func loadNativeJSON(b *builder, r io.Reader, file string) error {
	l := &nativeLoader{b: b, file: file, fid: b.srcs.file(file)}
	s := newJSONReader(r, file)
	defer s.release()
	if err := s.expectDelim('{', "$", "an object"); err != nil {
		return err
	}
	for s.more() {
		t, err := s.token("$")
		if err != nil {
			return err
		}
		key := t.String()
		path := "$." + key
		if !slices.Contains(nativeTopKeys, key) {
			return &LoadError{Source: Source{File: file, Line: s.line(), Path: path}, Msg: fmt.Sprintf("unknown key %q", key),
				Hint: "a snapshot has the keys " + strings.Join(nativeTopKeys, ", ")}
		}
		if key != "users" && key != "groups" && key != "assignments" || s.dec.PeekKind() == 'n' {
			raw, line, err := s.element(path)
			if err != nil {
				return err
			}
			if key == "format" {
				if v, _ := (jv{b: raw}).str(); v != NativeFormat {
					return &LoadError{Source: Source{File: file, Line: line, Path: path}, Msg: fmt.Sprintf("unknown snapshot format %s", raw),
						Hint: "this miscim reads format " + NativeFormat}
				}
			}
			continue
		}
		if err := s.expectDelim('[', path, "a list"); err != nil {
			return err
		}
		l.section(key)
		for i := 0; s.more(); i++ {
			raw, line, err := s.elementAt(path, i)
			if err != nil {
				return err
			}
			n := jsonNode(raw, line, jv{b: raw})
			if err := l.item(key, i, &n); err != nil {
				return err
			}
		}
		if _, err := s.token(path); err != nil {
			return err
		}
	}
	if _, err := s.token("$"); err != nil {
		return err
	}
	return s.end()
}

// jsonNode converts a validated JSON value into a tree node; line is the
// line of raw[0].
func jsonNode(raw []byte, line int, v jv) yamltree.Node {
	n := yamltree.Node{Line: line + bytes.Count(raw[:min(v.off, len(raw))], []byte{'\n'})}
	switch {
	case v.isNull():
		n.Kind = yamltree.Null
	case v.isString():
		n.Kind = yamltree.String
		n.Text, _ = v.str()
	case v.isBool():
		n.Kind = yamltree.Bool
		n.True, _ = v.boolean()
	case v.isNumber():
		n.Kind, n.Text = yamltree.Number, string(v.b)
	case v.isArray():
		n.Kind = yamltree.List
		_ = v.items(func(_ int, it jv) error {
			n.Items = append(n.Items, jsonNode(raw, line, it))
			return nil
		})
	case v.isObject():
		n.Kind = yamltree.Map
		_ = v.fields(func(k []byte, val jv) error {
			n.Keys = append(n.Keys, string(k))
			n.Vals = append(n.Vals, jsonNode(raw, line, val))
			return nil
		})
	}
	return n
}

// --- YAML ---

// maxYAMLDepth bounds a YAML snapshot's nesting.
const maxYAMLDepth = 64

// loadNativeYAML reads a native YAML snapshot as a tree (internal/yamltree)
// whose every node keeps its line, for error messages.
func loadNativeYAML(b *builder, data []byte, file string) error {
	root, err := parseYAMLDoc(data, file)
	if err != nil {
		return err
	}
	l := &nativeLoader{b: b, file: file, fid: b.srcs.file(file), yaml: true}
	return l.top(root)
}

// parseYAMLDoc parses one YAML document into a tree; a file of comments
// only is an empty snapshot.
func parseYAMLDoc(data []byte, file string) (*yamltree.Node, error) {
	root, err := yamltree.Parse(data, yamltree.Options{What: "a snapshot", Holds: "users, groups and assignments", MaxDepth: maxYAMLDepth})
	if err != nil {
		ye := err.(*yamltree.Error)
		return nil, &LoadError{Source: Source{File: file, Line: ye.Line}, Msg: ye.Msg, Hint: ye.Hint, Err: ye.Err}
	}
	if root == nil {
		return &yamltree.Node{Kind: yamltree.Map, Line: 1}, nil
	}
	return root, nil
}
