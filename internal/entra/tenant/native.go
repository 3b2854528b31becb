package tenant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
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

// nnode is one value of a native snapshot, from JSON or YAML alike.
type nnode struct {
	kind  nkind
	text  string // scalar text (a string's value, a number's digits)
	b     bool
	items []nnode
	keys  []string
	vals  []nnode
	line  int
	yaml  bool // from YAML: a plain scalar in a string field is its text
}

type nkind uint8

const (
	nNull nkind = iota
	nString
	nNumber
	nBool
	nList
	nMap
)

func (n *nnode) describe() string {
	switch n.kind {
	case nNull:
		return "null"
	case nString:
		return "a string"
	case nNumber:
		return "a number"
	case nBool:
		return "a boolean"
	case nList:
		return "a list"
	}
	return "a mapping"
}

// nativeLoader turns nnodes into records.
type nativeLoader struct {
	b    *builder
	file string
	fid  int32
	pfx  map[string]int32
}

func (l *nativeLoader) errAt(n *nnode, path, hint, msg string, args ...any) *LoadError {
	return &LoadError{Source: Source{File: l.file, Line: n.line, Path: path}, Msg: fmt.Sprintf(msg, args...), Hint: hint}
}

func (l *nativeLoader) want(n *nnode, path, what string) *LoadError {
	return l.errAt(n, path, "", "want %s, got %s", what, n.describe())
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
func (l *nativeLoader) checkKeys(n *nnode, path string, allowed []string, what string) error {
	for i, k := range n.keys {
		if !slices.Contains(allowed, k) {
			hint := fmt.Sprintf("a %s has the keys %s", what, strings.Join(allowed, ", "))
			if what == "user" || what == "group" {
				hint += "; other attributes go under attributes:"
			}
			return l.errAt(&n.vals[i], path+"."+k, hint, "unknown key %q", k)
		}
	}
	return nil
}

func (n *nnode) get(key string) (*nnode, bool) {
	for i, k := range n.keys {
		if k == key {
			return &n.vals[i], true
		}
	}
	return nil, false
}

// str reads a string field: JSON strings, or any YAML scalar (an unquoted
// 0123 stays "0123").
func (l *nativeLoader) str(n *nnode, path string) (string, bool, error) {
	switch {
	case n.kind == nNull:
		return "", false, nil
	case n.kind == nString, n.yaml && (n.kind == nNumber || n.kind == nBool):
		return n.text, true, nil
	}
	return "", false, l.want(n, path, "a string")
}

func (l *nativeLoader) boolean(n *nnode, path string) (Bool, error) {
	switch n.kind {
	case nNull:
		return Unknown, nil
	case nBool:
		return BoolOf(n.b), nil
	}
	return Unknown, &LoadError{Source: Source{File: l.file, Line: n.line, Path: path},
		Msg: fmt.Sprintf("want true or false, got %s", n.describe()), Hint: "write true or false, unquoted; leave the key out when it is not known"}
}

func (l *nativeLoader) timeOf(n *nnode, path string) (time.Time, error) {
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

func (l *nativeLoader) top(root *nnode) error {
	if root.kind != nMap {
		return l.errAt(root, "$", "a snapshot is a mapping with users, groups and assignments (docs/tenant.md)", "want a mapping at the top, got %s", root.describe())
	}
	if err := l.checkKeys(root, "$", nativeTopKeys, "snapshot"); err != nil {
		return err
	}
	if f, ok := root.get("format"); ok {
		if s, _, _ := l.str(f, "$.format"); s != NativeFormat {
			return l.errAt(f, "$.format", "this miscim reads format "+NativeFormat, "unknown snapshot format %q", s)
		}
	}
	for i, k := range root.keys {
		n := &root.vals[i]
		if k != "users" && k != "groups" && k != "assignments" {
			continue
		}
		if n.kind == nNull {
			continue
		}
		if n.kind != nList {
			return l.want(n, "$."+k, "a list")
		}
		l.section(k)
		for j := range n.items {
			if err := l.item(k, j, &n.items[j]); err != nil {
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
func (l *nativeLoader) item(list string, i int, n *nnode) error {
	switch list {
	case "users":
		return l.user(i, n)
	case "groups":
		return l.group(i, n)
	}
	return l.assignment(i, n)
}

func (l *nativeLoader) objectID(n *nnode, path, what string) (string, error) {
	idn, ok := n.get(attrObjectID)
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

func (l *nativeLoader) user(i int, n *nnode) error {
	path := elemPath("$.users", i)
	if n.kind != nMap {
		return l.want(n, path, "a mapping")
	}
	if err := l.checkKeys(n, path, nativeUserKeys, "user"); err != nil {
		return err
	}
	id, err := l.objectID(n, path, "user")
	if err != nil {
		return err
	}
	if _, dup := l.b.userIdx[strings.ToLower(id)]; dup {
		return l.errAt(n, path, "an objectId names one user; remove or fix the second one", "user %s is listed twice (first at %s)", id, l.b.srcs.resolve(l.b.users[l.b.userIdx[strings.ToLower(id)]].src, ""))
	}
	rec := userRec{id: id, src: srcRef{prefix: l.prefix("$.users"), elem: int32(i), line: int32(n.line)}}
	nm := &l.b.names
	for j, k := range n.keys {
		v := &n.vals[j]
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
		case onPremExtensionAttrs:
			if err := l.extensionAttributes(v, p, &rec.kvs); err != nil {
				return err
			}
		case nativeAttributes:
			if err := l.attributes(v, p, &rec.kvs); err != nil {
				return err
			}
		default:
			s, ok, err := l.str(v, p)
			if err != nil {
				return err
			}
			rec.kvs = append(rec.kvs, kv{name: nm.intern(k), one: s, single: true, null: !ok})
		}
	}
	l.b.addUser(&rec, true)
	if rec.soft {
		l.b.contents.DeletedItems = true
	}
	return nil
}

func (l *nativeLoader) strList(n *nnode, path string) ([]string, error) {
	switch n.kind {
	case nNull:
		return nil, nil
	case nList:
	default:
		return nil, l.want(n, path, "a list of strings")
	}
	vals := make([]string, 0, len(n.items))
	for i := range n.items {
		s, ok, err := l.str(&n.items[i], elemPath(path, i))
		if err != nil {
			return nil, err
		}
		if ok {
			vals = append(vals, s)
		}
	}
	return vals, nil
}

func (l *nativeLoader) extensionAttributes(n *nnode, path string, kvs *[]kv) error {
	if n.kind == nNull {
		return nil
	}
	if n.kind != nMap {
		return l.want(n, path, "a mapping of extensionAttribute1 to extensionAttribute15")
	}
	for j, k := range n.keys {
		if !isExtensionAttribute(k) {
			return l.errAt(&n.vals[j], path+"."+k, "onPremisesExtensionAttributes holds extensionAttribute1 to extensionAttribute15", "unknown key %q", k)
		}
		s, ok, err := l.str(&n.vals[j], path+"."+k)
		if err != nil {
			return err
		}
		*kvs = append(*kvs, kv{name: l.b.names.intern(k), one: s, single: true, null: !ok})
	}
	return nil
}

// attributes reads "attributes": any other Entra attribute by name, a
// scalar or a list of scalars; booleans read as "True"/"False".
func (l *nativeLoader) attributes(n *nnode, path string, kvs *[]kv) error {
	if n.kind == nNull {
		return nil
	}
	if n.kind != nMap {
		return l.want(n, path, "a mapping of attribute names to values")
	}
	for j, k := range n.keys {
		v := &n.vals[j]
		p := path + "." + k
		switch {
		case k == "" || nativeTopLevel[k] || k == nativeSoftDelete || k == graphDeletedDateTime:
			return l.errAt(v, p, "write it as a key of the object itself", "%q is not an attribute for attributes:", k)
		case isExtensionAttribute(k):
			return l.errAt(v, p, "write it under onPremisesExtensionAttributes:", "%q belongs under onPremisesExtensionAttributes", k)
		}
		e := kv{name: l.b.names.intern(k)}
		switch v.kind {
		case nNull:
			e.null = true
		case nList:
			for i := range v.items {
				s, ok := scalarText(&v.items[i])
				if !ok {
					return l.want(&v.items[i], elemPath(p, i), "a string, number or boolean")
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

func scalarText(n *nnode) (string, bool) {
	switch n.kind {
	case nString, nNumber:
		return n.text, true
	case nBool:
		return BoolOf(n.b).String(), true
	}
	return "", false
}

func (l *nativeLoader) group(i int, n *nnode) error {
	path := elemPath("$.groups", i)
	if n.kind != nMap {
		return l.want(n, path, "a mapping")
	}
	if err := l.checkKeys(n, path, nativeGroupKeys, "group"); err != nil {
		return err
	}
	id, err := l.objectID(n, path, "group")
	if err != nil {
		return err
	}
	if j, dup := l.b.groupIdx[strings.ToLower(id)]; dup {
		return l.errAt(n, path, "an objectId names one group; remove or fix the second one", "group %s is listed twice (first at %s)", id, l.b.srcs.resolve(l.b.groups[j].src, ""))
	}
	rec := groupRec{id: id, src: srcRef{prefix: l.prefix("$.groups"), elem: int32(i), line: int32(n.line)}, membersMode: membersList}
	nm := &l.b.names
	fromExpand := false
	for j, k := range n.keys {
		v := &n.vals[j]
		p := path + "." + k
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
		case nativeAttributes:
			if err := l.attributes(v, p, &rec.kvs); err != nil {
				return err
			}
		default:
			s, ok, err := l.str(v, p)
			if err != nil {
				return err
			}
			rec.kvs = append(rec.kvs, kv{name: nm.intern(k), one: s, single: true, null: !ok})
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
func (l *nativeLoader) members(n *nnode, path string, rec *groupRec) error {
	if n.kind == nNull {
		return nil
	}
	if n.kind != nList {
		return l.want(n, path, "a list of member objectIds")
	}
	l.b.contents.Memberships = true
	pfx := l.prefix(path)
	for i := range n.items {
		m := &n.items[i]
		p := elemPath(path, i)
		ref := memberRef{src: srcRef{prefix: pfx, elem: int32(i), line: int32(m.line)}}
		switch m.kind {
		case nString, nNumber:
			ref.ref = m.text
		case nMap:
			if err := l.checkKeys(m, p, nativeMemberKeys, "member"); err != nil {
				return err
			}
			idn, ok := m.get("id")
			if !ok {
				return l.errAt(m, p, "write the member as its objectId, or as {id: <objectId>, type: user|group|…}", "member without id")
			}
			s, _, err := l.str(idn, p+".id")
			if err != nil {
				return err
			}
			ref.ref = s
			if tn, ok := m.get("type"); ok {
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

func (l *nativeLoader) assignment(i int, n *nnode) error {
	path := elemPath("$.assignments", i)
	if n.kind != nMap {
		return l.want(n, path, "a mapping")
	}
	if err := l.checkKeys(n, path, nativeAssignmentKeys, "assignment"); err != nil {
		return err
	}
	rec := assignRec{src: srcRef{prefix: l.prefix("$.assignments"), elem: int32(i), line: int32(n.line)}}
	fields := map[string]*string{"id": &rec.id, "principalId": &rec.principalID, "principalDisplayName": &rec.principalName,
		"appRoleId": &rec.appRoleID, "resourceId": &rec.resourceID, "resourceDisplayName": &rec.resourceName}
	for j, k := range n.keys {
		v := &n.vals[j]
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

// jsonNode converts a validated JSON value into an nnode; line is the
// line of raw[0].
func jsonNode(raw []byte, line int, v jv) nnode {
	n := nnode{line: line + bytes.Count(raw[:min(v.off, len(raw))], []byte{'\n'})}
	switch {
	case v.isNull():
		n.kind = nNull
	case v.isString():
		n.kind = nString
		n.text, _ = v.str()
	case v.isBool():
		n.kind = nBool
		n.b, _ = v.boolean()
	case v.isNumber():
		n.kind, n.text = nNumber, string(v.b)
	case v.isArray():
		n.kind = nList
		_ = v.items(func(_ int, it jv) error {
			n.items = append(n.items, jsonNode(raw, line, it))
			return nil
		})
	case v.isObject():
		n.kind = nMap
		_ = v.fields(func(k []byte, val jv) error {
			n.keys = append(n.keys, string(k))
			n.vals = append(n.vals, jsonNode(raw, line, val))
			return nil
		})
	}
	return n
}

// --- YAML ---

// loadNativeYAML reads a native YAML snapshot with goccy/go-yaml's parser,
// which keeps every node's line for error messages.
func loadNativeYAML(b *builder, data []byte, file string) error {
	if err := checkUTF8(data, file); err != nil {
		return err
	}
	root, err := parseYAMLDoc(data, file)
	if err != nil {
		return err
	}
	l := &nativeLoader{b: b, file: file, fid: b.srcs.file(file)}
	return l.top(&root)
}

// parseYAMLDoc parses one YAML document into an nnode tree.
func parseYAMLDoc(data []byte, file string) (root nnode, err error) {
	defer func() {
		// The YAML parser is a third-party component; whatever input makes
		// it fail must still give an error, not a crash.
		if r := recover(); r != nil {
			err = &LoadError{Source: Source{File: file}, Msg: fmt.Sprintf("not valid YAML (the parser failed: %v)", r)}
		}
	}()
	f, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		return root, yamlError(perr, file)
	}
	var docs []ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	switch len(docs) {
	case 0:
		return nnode{kind: nMap, line: 1}, nil // comments only: an empty snapshot
	case 1:
	default:
		return root, &LoadError{Source: Source{File: file}, Msg: fmt.Sprintf("want one YAML document, found %d", len(docs)),
			Hint: "a snapshot is one document with users, groups and assignments"}
	}
	return yamlNode(docs[0], file, 0)
}

func yamlError(err error, file string) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		src := Source{File: file}
		if tok := ye.GetToken(); tok != nil && tok.Position != nil {
			src.Line = tok.Position.Line
		}
		return &LoadError{Source: src, Msg: "not valid YAML: " + ye.GetMessage(), Err: err}
	}
	return &LoadError{Source: Source{File: file}, Msg: "not valid YAML: " + firstLineOf(err.Error()), Err: err}
}

// checkUTF8 refuses a YAML snapshot with bytes that are not UTF-8: the
// YAML parser would turn them into U+FFFD, silently changing a value
// (YAML 1.2 §5.2 allows only Unicode encodings).
func checkUTF8(data []byte, file string) error {
	if utf8.Valid(data) {
		return nil
	}
	line, off := 1, 0
	for off < len(data) {
		r, n := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		if data[off] == '\n' {
			line++
		}
		off += n
	}
	return &LoadError{Source: Source{File: file, Line: line}, Msg: fmt.Sprintf("not UTF-8 text at byte %d", off),
		Hint: "save the file as UTF-8"}
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func yamlLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line
	}
	return 0
}

const maxYAMLDepth = 64

func yamlNode(n ast.Node, file string, depth int) (nnode, error) {
	out := nnode{line: yamlLine(n), yaml: true}
	if depth > maxYAMLDepth {
		return out, &LoadError{Source: Source{File: file, Line: out.line}, Msg: "YAML nested too deeply"}
	}
	switch v := n.(type) {
	case nil, *ast.NullNode:
		out.kind = nNull
	case *ast.StringNode:
		out.kind, out.text = nString, v.Value
	case *ast.LiteralNode:
		out.kind = nString
		if v.Value != nil {
			out.text = v.Value.Value
		}
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		out.kind, out.text = nNumber, n.GetToken().Value
	case *ast.BoolNode:
		out.kind, out.b, out.text = nBool, v.Value, n.GetToken().Value
	case *ast.TagNode:
		inner, err := yamlNode(v.Value, file, depth+1)
		if err != nil {
			return out, err
		}
		if tag := n.GetToken().Value; tag == "!!str" && inner.kind != nList && inner.kind != nMap {
			inner.kind = nString
		}
		return inner, nil
	case *ast.AnchorNode:
		return yamlNode(v.Value, file, depth+1)
	case *ast.AliasNode:
		return out, &LoadError{Source: Source{File: file, Line: out.line}, Msg: "YAML aliases (*name) are not supported in a snapshot",
			Hint: "write the values out in full"}
	case *ast.SequenceNode:
		out.kind = nList
		for _, it := range v.Values {
			c, err := yamlNode(it, file, depth+1)
			if err != nil {
				return out, err
			}
			out.items = append(out.items, c)
		}
	case *ast.MappingNode:
		out.kind = nMap
		for _, mv := range v.Values {
			if err := yamlPair(&out, mv, file, depth); err != nil {
				return out, err
			}
		}
	case *ast.MappingValueNode:
		out.kind = nMap
		if err := yamlPair(&out, v, file, depth); err != nil {
			return out, err
		}
	default:
		return out, &LoadError{Source: Source{File: file, Line: out.line}, Msg: fmt.Sprintf("unsupported YAML construct (%s)", n.Type())}
	}
	return out, nil
}

func yamlPair(out *nnode, mv *ast.MappingValueNode, file string, depth int) error {
	if out.line == 0 {
		out.line = yamlLine(mv.Key)
	}
	var key string
	switch k := mv.Key.(type) {
	case *ast.StringNode:
		key = k.Value
	case *ast.MergeKeyNode:
		return &LoadError{Source: Source{File: file, Line: yamlLine(mv.Key)}, Msg: "YAML merge keys (<<) are not supported in a snapshot", Hint: "write the values out in full"}
	case ast.ScalarNode:
		key = k.GetToken().Value
	default:
		return &LoadError{Source: Source{File: file, Line: yamlLine(mv.Key)}, Msg: "a mapping key must be a plain name"}
	}
	c, err := yamlNode(mv.Value, file, depth+1)
	if err != nil {
		return err
	}
	if c.line == 0 {
		c.line = yamlLine(mv.Key)
	}
	out.keys = append(out.keys, key)
	out.vals = append(out.vals, c)
	return nil
}
