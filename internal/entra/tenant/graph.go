package tenant

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Graph export directory layout (docs/tenant.md): each collection is a
// file of that name, further pages as name-2.json, name-3.json…, or a
// directory of that name holding the pages.
const (
	graphUsers       = "users"
	graphGroups      = "groups"
	graphAssignments = "assignments"
	graphDeleted     = "deletedItems"
	graphMembersDir  = "members"
)

var graphCollections = []string{graphUsers, graphGroups, graphDeleted, graphAssignments}

// pageName matches "users.json", "users-2.json": the collection, the page.
var pageName = regexp.MustCompile(`^(.+?)(?:-([0-9]{1,6}))?\.json$`)

type page struct {
	name string // path in the file system
	n    int    // page number; files of a page directory count in name order
}

// graphLayout is what a directory holds, by collection.
type graphLayout struct {
	pages   map[string][]page // collection → pages in order
	members map[string][]page // group id → pages
	ignored []string
}

func isGraphDir(entries []fs.DirEntry) bool {
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			if slices.Contains(graphCollections, name) {
				return true
			}
			continue
		}
		if m := pageName.FindStringSubmatch(name); m != nil && slices.Contains(graphCollections, m[1]) {
			return true
		}
	}
	return false
}

func scanGraphDir(fsys fs.FS, dir string, entries []fs.DirEntry) (graphLayout, error) {
	l := graphLayout{pages: map[string][]page{}, members: map[string][]page{}}
	for _, e := range entries {
		name := e.Name()
		full := path.Join(dir, name)
		switch {
		case e.IsDir() && name == graphMembersDir:
			sub, err := fs.ReadDir(fsys, full)
			if err != nil {
				return l, err
			}
			for _, m := range sub {
				mfull := path.Join(full, m.Name())
				if m.IsDir() {
					files, err := pageDir(fsys, mfull)
					if err != nil {
						return l, err
					}
					l.members[m.Name()] = append(l.members[m.Name()], files...)
					continue
				}
				pm := pageName.FindStringSubmatch(m.Name())
				if pm == nil {
					l.ignored = append(l.ignored, mfull)
					continue
				}
				l.members[pm[1]] = append(l.members[pm[1]], page{name: mfull, n: pageNumber(pm[2])})
			}
		case e.IsDir() && slices.Contains(graphCollections, name):
			files, err := pageDir(fsys, full)
			if err != nil {
				return l, err
			}
			l.pages[name] = append(l.pages[name], files...)
		case e.IsDir():
		default:
			pm := pageName.FindStringSubmatch(name)
			switch {
			case pm != nil && slices.Contains(graphCollections, pm[1]):
				l.pages[pm[1]] = append(l.pages[pm[1]], page{name: full, n: pageNumber(pm[2])})
			case strings.HasSuffix(strings.ToLower(name), ".json"), strings.HasSuffix(strings.ToLower(name), ".csv"):
				l.ignored = append(l.ignored, full)
			}
		}
	}
	for _, ps := range l.pages {
		sortPages(ps)
	}
	for _, ps := range l.members {
		sortPages(ps)
	}
	return l, nil
}

func pageNumber(s string) int {
	if s == "" {
		return 1
	}
	n, _ := strconv.Atoi(s)
	return n
}

// pageDir lists a directory of pages: its .json files in natural order
// (page-2 before page-10).
func pageDir(fsys fs.FS, dir string) ([]page, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []page
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(strings.ToLower(e.Name()), ".json") {
			out = append(out, page{name: path.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(out, func(a, b page) int { return naturalCompare(a.name, b.name) })
	for i := range out {
		out[i].n = i + 1
	}
	return out, nil
}

func sortPages(ps []page) {
	slices.SortStableFunc(ps, func(a, b page) int {
		if a.n != b.n {
			return a.n - b.n
		}
		return naturalCompare(a.name, b.name)
	})
}

// naturalCompare orders strings with their digit runs compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// pageInfo is what a page's envelope says.
type pageInfo struct {
	context   string
	nextLink  string
	deltaLink bool
	delta     bool // an item carried @removed or members@delta
}

// graphLoader reads a Graph export directory.
type graphLoader struct {
	b      *builder
	fsys   fs.FS
	disp   func(string) string
	parser pageParser // on the builder's name table
}

func newGraphLoader(b *builder, fsys fs.FS, disp func(string) string) *graphLoader {
	return &graphLoader{b: b, fsys: fsys, disp: disp, parser: pageParser{names: &b.names}}
}

// pageParser turns Graph objects into records. Its name table is the
// builder's when pages are read one by one, or its own when a page is
// read in parallel (names are mapped to the builder's after).
type pageParser struct {
	names *names
	kvs   []kv // scratch for one object's attributes, reused: addUser and addGroup copy them
}

// readPage streams one page file, calling item for each element of value
// (or of a bare array: the merged value arrays of several pages).
func (g *graphLoader) readPage(name string, kind prefixKind, item itemFunc) (pageInfo, error) {
	file := g.disp(name)
	fid := g.b.srcs.file(file)
	return readPageFile(g.fsys, name, file, func(path string) int32 { return g.b.srcs.prefix(fid, path, kind) }, item)
}

// readPageFile is readPage without the builder, so that pages can be read
// in parallel: prefixFor gives the source prefix of the array at path.
func readPageFile(fsys fs.FS, name, file string, prefixFor func(path string) int32, item itemFunc) (pageInfo, error) {
	var info pageInfo
	r, closeFn, err := openText(fsys, name, file)
	if err != nil {
		return info, err
	}
	defer closeFn()
	s := newJSONReader(r, file)
	defer s.release()
	t, err := s.token("$")
	if err != nil {
		return info, err
	}
	elements := func(path string) error {
		pfx := prefixFor(path)
		e := &elemCtx{file: file, prefix: path}
		for i := 0; s.more(); i++ {
			raw, line, err := s.elementAt(path, i)
			if err != nil {
				return err
			}
			e.raw, e.line, e.index = raw, line, i
			v := jv{b: raw}
			if !v.isObject() {
				return e.want(v, "", "an object")
			}
			if err := item(e, v, i, pfx, &info); err != nil {
				return err
			}
		}
		_, err := s.token(path)
		return err
	}
	switch t.Kind() {
	case '[':
		if err := elements("$"); err != nil {
			return info, err
		}
		return info, s.end()
	case '{':
	default:
		return info, &LoadError{Source: Source{File: file, Line: 1}, Msg: fmt.Sprintf("want a Graph response page (an object with value), got %s", describeKind(t.Kind()))}
	}
	sawValue := false
	for s.more() {
		t, err := s.token("$")
		if err != nil {
			return info, err
		}
		key := t.String()
		switch key {
		case "value":
			sawValue = true
			if err := s.expectDelim('[', "$.value", "an array"); err != nil {
				return info, err
			}
			if err := elements("$.value"); err != nil {
				return info, err
			}
		case "error":
			raw, line, err := s.element("$.error")
			if err != nil {
				return info, err
			}
			return info, graphErrorPage(raw, file, line)
		default:
			v, err := s.skipValue("$." + key)
			if err != nil {
				return info, err
			}
			switch key {
			case "@odata.context":
				info.context = v
			case "@odata.nextLink":
				info.nextLink = v
			case "@odata.deltaLink":
				info.deltaLink = true
			}
		}
	}
	if _, err := s.token("$"); err != nil {
		return info, err
	}
	if !sawValue {
		return info, &LoadError{Source: Source{File: file, Line: 1}, Msg: "a Graph page without value",
			Hint: `a page is Graph's response as returned: {"@odata.context": …, "value": [ … ]}`}
	}
	return info, s.end()
}

// graphErrorPage reports a saved Graph error response instead of a page.
func graphErrorPage(raw []byte, file string, line int) error {
	var body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &body)
	return &LoadError{Source: Source{File: file, Line: line, Path: "$.error"},
		Msg:  fmt.Sprintf("the file holds a Graph error response, not a page: %s: %s", body.Code, body.Message),
		Hint: "export the collection again; the request that wrote this file failed"}
}

func isDeltaInfo(info pageInfo) bool {
	return info.deltaLink || info.delta || strings.Contains(strings.ToLower(info.context+info.nextLink), "/delta")
}

func (g *graphLoader) load(l graphLayout) error {
	for _, f := range l.ignored {
		g.b.finding(SeverityInfo, FindingIgnoredFile, ObjectRef{Kind: "file", ID: g.disp(f)}, Source{File: g.disp(f)},
			"name it after its collection (users, groups, members/<group id>, assignments, deletedItems) or move it out",
			"not read: not a file name of a Graph export")
	}
	if err := g.collection(l.pages[graphUsers], graphUsers, prefixGraphUser, nil); err != nil {
		return err
	}
	if err := g.collection(l.pages[graphGroups], graphGroups, prefixGraphGroup, g.groupItem); err != nil {
		return err
	}
	gids := make([]string, 0, len(l.members))
	for gid := range l.members {
		gids = append(gids, gid)
	}
	slices.SortFunc(gids, naturalCompare)
	if err := g.memberPageSets(g.fsys, gids, l.members); err != nil {
		return err
	}
	if err := g.collection(l.pages[graphDeleted], graphDeleted, prefixGraphOther, g.deletedItem); err != nil {
		return err
	}
	return g.collection(l.pages[graphAssignments], graphAssignments, prefixGraphOther, g.assignmentItem)
}

type itemFunc func(e *elemCtx, v jv, i int, pfx int32, info *pageInfo) error

// collection reads every page of one collection with item (users pages
// are read in parallel by userPages). A plain export lists each object
// once; a delta (@odata.deltaLink, @removed, members@delta) may repeat
// it, and later pages win.
func (g *graphLoader) collection(pages []page, name string, kind prefixKind, item itemFunc) error {
	if len(pages) == 0 {
		return nil
	}
	switch name {
	case graphUsers:
		g.b.contents.Users = true
	case graphGroups:
		g.b.contents.Groups = true
	case graphDeleted:
		g.b.contents.DeletedItems = true
	case graphAssignments:
		g.b.contents.Assignments = true
	}
	mark := len(g.b.dups)
	var infos []pageInfo
	if name == graphUsers {
		var err error
		if infos, err = g.userPages(g.fsys, pages, kind); err != nil {
			return err
		}
	} else {
		for _, p := range pages {
			info, err := g.readPage(p.name, kind, item)
			if err != nil {
				return err
			}
			infos = append(infos, info)
		}
	}
	delta := false
	for _, info := range infos {
		delta = delta || isDeltaInfo(info)
	}
	last := infos[len(infos)-1]
	g.incomplete(last, pages, name)
	if !delta && name != graphDeleted {
		return g.b.checkDups(mark, "a plain export lists each object once: remove the repeated page, or export again")
	}
	return nil
}

// incomplete reports a collection whose last page still points to a next one.
func (g *graphLoader) incomplete(last pageInfo, pages []page, what string) {
	if last.nextLink == "" || last.deltaLink {
		return
	}
	f := g.disp(pages[len(pages)-1].name)
	g.b.finding(SeverityWarning, FindingIncompletePages, ObjectRef{Kind: "file", ID: f}, Source{File: f, Path: "$.@odata.nextLink"},
		"follow @odata.nextLink to the end and save every page (docs/tenant.md names the files)",
		"the last page of %s has an @odata.nextLink: the export stopped before the end, and what follows is missing", what)
}

// user reads one Graph user object, translating Graph's names into
// Entra's (graphUserRenames, onPremisesExtensionAttributes flattened,
// businessPhones' first value as telephoneNumber).
func (p *pageParser) user(e *elemCtx, v jv, i int, pfx int32, odataType string) (userRec, error) {
	rec := userRec{objectRec: objectRec{src: srcRef{prefix: pfx, elem: int32(i), line: int32(e.line)}, kvs: p.kvs[:0]}}
	defer func() { p.kvs = rec.kvs[:0] }()
	nm := p.names
	err := v.fields(func(k []byte, val jv) error {
		if ok, err := e.objectKey(k, val, &rec.objectRec, "user", odataType, "a users page holds users only: /users or /directory/deletedItems/microsoft.graph.user"); ok {
			return err
		}
		// switch on string(k) without keeping it: no allocation per key.
		switch string(k) {
		case attrAccountEnabled:
			switch {
			case val.isNull():
				rec.kvs = append(rec.kvs, kv{name: idAccountEnabled, null: true})
			case val.isBool():
				b, _ := val.boolean()
				rec.kvs = append(rec.kvs, kv{name: idAccountEnabled, one: BoolOf(b).String(), single: true})
			default:
				return e.want(val, attrAccountEnabled, "true or false")
			}
		case attrUPN, attrDisplayName, attrGivenName, attrSurname, attrMail, attrMailNickname:
			var err error
			rec.kvs, err = e.strAttr(nm, rec.kvs, nm.internBytes(k), "", k, val)
			return err
		case attrOtherMails, attrProxyAddresses:
			var err error
			rec.kvs, err = e.strList(nm, rec.kvs, nm.internBytes(k), k, val)
			return err
		case graphBusinessPhones:
			phones, err := e.strList(nm, nil, idTelephoneNumber, k, val)
			if err != nil {
				return err
			}
			if p := &phones[0]; len(p.vals) > 0 {
				*p = kv{name: p.name, one: p.vals[0], single: true}
			}
			rec.kvs = append(rec.kvs, phones...)
		case onPremExtensionAttrs:
			if val.isNull() {
				return nil
			}
			if !val.isObject() {
				return e.want(val, onPremExtensionAttrs, "an object")
			}
			return val.fields(func(ek []byte, ev jv) error {
				if isAnnotation(ek) {
					return nil
				}
				id, ok := extensionID(ek)
				if !ok {
					// Not one of the 15: kept under its full name.
					id = nm.intern(onPremExtensionAttrs + "." + string(ek))
				}
				var err error
				rec.kvs, err = e.strAttr(nm, rec.kvs, id, onPremExtensionAttrs, ek, ev)
				return err
			})
		case graphPasswordProfile:
			// Never kept: it can hold a password.
		default:
			if isAnnotation(k) {
				return nil
			}
			if r, ok := graphUserRenames[string(k)]; ok {
				rec.kvs = flatten(nm, rec.kvs, nm.intern(r), val)
				return nil
			}
			rec.kvs = flatten(nm, rec.kvs, nm.internBytes(k), val)
		}
		return nil
	})
	if err != nil {
		return rec, err
	}
	if rec.id == "" {
		return rec, e.errAt(v, "", "every object of a Graph export has its id; export with $select including id", "user without id")
	}
	return rec, nil
}

// objectKey reads a key Graph users and groups have alike — id,
// @odata.type, @removed, deletedDateTime — into rec; ok is false for any
// other key. what names the kind ("user"), odataType is the @odata.type
// its page may give and typeHint what such a page holds.
func (e *elemCtx) objectKey(k []byte, val jv, rec *objectRec, what, odataType, typeHint string) (ok bool, err error) {
	switch string(k) {
	case graphID:
		s, ok := val.str()
		if !ok || strings.TrimSpace(s) == "" {
			return true, e.errAt(val, graphID, "every object of a Graph export has its id", "want the %s's id as a string, got %s", what, val.kind())
		}
		rec.id = s
		rec.kvs = append(rec.kvs, kv{name: idObjectID, one: s, single: true})
	case graphODataType:
		s, _ := val.str()
		if s != "" && !strings.EqualFold(s, odataType) {
			return true, e.errAt(val, graphODataType, typeHint, "a %s in a list of %ss", s, what)
		}
	case graphRemoved:
		rec.removed, err = e.removedReason(val, graphRemoved)
		return true, err
	case graphDeletedDateTime:
		t, err := graphTime(e, val, graphDeletedDateTime)
		if err != nil {
			return true, err
		}
		if !t.IsZero() {
			rec.soft, rec.deletedAt = true, t
		}
	default:
		return false, nil
	}
	return true, nil
}

func graphTime(e *elemCtx, v jv, key string) (time.Time, error) {
	if v.isNull() {
		return time.Time{}, nil
	}
	s, ok := v.str()
	if !ok {
		return time.Time{}, e.want(v, key, "a date-time string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, e.errAt(v, key, "Graph writes ISO 8601 times such as 2026-11-20T10:00:00Z", "%q is not a date-time", s)
	}
	return t.UTC(), nil
}

func (g *graphLoader) groupItem(e *elemCtx, v jv, i int, pfx int32, info *pageInfo) error {
	rec, err := g.group(e, v, i, pfx)
	if err != nil {
		return err
	}
	if rec.removed != "" || rec.membersMode == membersDelta {
		info.delta = true
	}
	g.b.addGroup(&rec, true)
	return nil
}

func (g *graphLoader) group(e *elemCtx, v jv, i int, pfx int32) (groupRec, error) {
	rec := groupRec{objectRec: objectRec{src: srcRef{prefix: pfx, elem: int32(i), line: int32(e.line)}, kvs: g.parser.kvs[:0]}}
	defer func() { g.parser.kvs = rec.kvs[:0] }()
	nm := &g.b.names
	err := v.fields(func(k []byte, val jv) error {
		if ok, err := e.objectKey(k, val, &rec.objectRec, "group", graphGroupODataType, "a groups page holds groups only"); ok {
			return err
		}
		switch string(k) {
		case attrDisplayName, attrDescription, attrMail, attrMailNickname:
			var err error
			rec.kvs, err = e.strAttr(nm, rec.kvs, nm.internBytes(k), "", k, val)
			return err
		case graphMembers, graphMembersDelta:
			key := string(k)
			if val.isNull() {
				return nil
			}
			if !val.isArray() {
				return e.want(val, key, "an array of directory objects")
			}
			rec.membersMode = membersExpand
			if key == graphMembersDelta {
				rec.membersMode = membersDelta
			}
			mpfx := g.b.srcs.prefix(g.b.srcs.prefixes[pfx].file, e.path()+"."+key, prefixGraphOther)
			return val.items(func(j int, m jv) error {
				ref, err := member(e, m, key+"["+strconv.Itoa(j)+"]", srcRef{prefix: mpfx, elem: int32(j), line: int32(e.lineOf(m))})
				rec.members = append(rec.members, ref)
				return err
			})
		default:
			if !isAnnotation(k) {
				rec.kvs = flatten(nm, rec.kvs, nm.internBytes(k), val)
			}
		}
		return nil
	})
	if err != nil {
		return rec, err
	}
	if rec.id == "" {
		return rec, e.errAt(v, "", "every object of a Graph export has its id; export with $select including id", "group without id")
	}
	return rec, nil
}

// member reads one directoryObject of a member list: @odata.type and id.
func member(e *elemCtx, m jv, key string, src srcRef) (memberRef, error) {
	ref := memberRef{src: src}
	if !m.isObject() {
		return ref, e.want(m, key, `a directory object such as {"@odata.type": "#microsoft.graph.user", "id": "…"}`)
	}
	err := m.fields(func(k []byte, val jv) error {
		switch string(k) {
		case graphID:
			s, ok := val.str()
			if !ok || strings.TrimSpace(s) == "" {
				return e.errAt(val, key+".id", "", "want the member's id as a string, got %s", val.kind())
			}
			ref.ref = s
		case graphODataType:
			s, ok := val.str()
			if !ok {
				return e.want(val, key+"."+graphODataType, "a string")
			}
			kind, known := parseMemberKind(s)
			if !known {
				kind = MemberOther
			}
			ref.kind, ref.typed = kind, true
		case graphRemoved:
			ref.removed = true
		}
		return nil
	})
	if err == nil && ref.ref == "" {
		err = e.errAt(m, key, "", "member without id")
	}
	return ref, err
}

// groupMembers sets a group's members from its members/<group id>.json
// pages: the complete list of its direct members, which wins over
// $expand's at most 20.
func (g *graphLoader) groupMembers(gid string, pages []page, refs []memberRef, last pageInfo) {
	g.incomplete(last, pages, "the members of "+gid)
	g.b.contents.Memberships = true
	if !g.b.setMembers(gid, refs) {
		f := g.disp(pages[0].name)
		g.b.finding(SeverityWarning, FindingMembersOfUnknownGroup, ObjectRef{Kind: "group", ID: gid}, Source{File: f},
			"name the file after the group's id (members/<group id>.json) and export the group in groups.json",
			"members of a group that is not in the export; not read")
	}
}

// deletedItem reads /directory/deletedItems: soft-deleted users and
// (Microsoft 365) groups. The cast in the URL, @odata.type or the shape
// tells which.
func (g *graphLoader) deletedItem(e *elemCtx, v jv, i int, pfx int32, info *pageInfo) error {
	isGroup := strings.Contains(info.context, "microsoft.graph.group") || strings.Contains(info.context, "#groups")
	typed := false
	hasUPN := false
	_ = v.fields(func(k []byte, val jv) error {
		switch string(k) {
		case graphODataType:
			s, _ := val.str()
			switch kind, _ := parseMemberKind(s); kind {
			case MemberGroup:
				isGroup, typed = true, true
			case MemberUser:
				isGroup, typed = false, true
			}
		case attrUPN:
			hasUPN = true
		}
		return nil
	})
	if !typed && info.context == "" {
		isGroup = !hasUPN
	}
	g.b.prefixKindOf(pfx, isGroup)
	if isGroup {
		rec, err := g.group(e, v, i, pfx)
		if err != nil {
			return err
		}
		rec.soft = true
		if j, ok := g.b.groupIdx[strings.ToLower(rec.id)]; ok && g.b.groups[j].live {
			g.deletedAndLive("group", rec.id, g.b.groups[j].src, rec.src)
		}
		g.b.addGroup(&rec, false)
		return nil
	}
	rec, err := g.parser.user(e, v, i, pfx, graphUserODataType)
	if err != nil {
		return err
	}
	rec.soft = true
	if j, ok := g.b.userIdx[strings.ToLower(rec.id)]; ok && g.b.users[j].live {
		g.deletedAndLive("user", rec.id, g.b.users[j].src, rec.src)
	}
	g.b.addUser(&rec, false)
	return nil
}

func (g *graphLoader) deletedAndLive(kind, id string, live, deleted srcRef) {
	g.b.finding(SeverityWarning, FindingDeletedAndLive, ObjectRef{Kind: kind, ID: id}, g.b.srcs.resolve(deleted, ""),
		"export the live and the deleted objects at the same moment",
		"listed as live (%s) and in deletedItems: read as soft-deleted", g.b.srcs.resolve(live, ""))
}

// prefixKindOf records whether a deletedItems page's objects are users or
// groups, for AttrSource paths.
func (b *builder) prefixKindOf(pfx int32, isGroup bool) {
	k := prefixGraphUser
	if isGroup {
		k = prefixGraphGroup
	}
	b.srcs.prefixes[pfx].kind = k
}

// assignmentItem reads one appRoleAssignment of appRoleAssignedTo.
func (g *graphLoader) assignmentItem(e *elemCtx, v jv, i int, pfx int32, _ *pageInfo) error {
	rec := assignRec{src: srcRef{prefix: pfx, elem: int32(i), line: int32(e.line)}}
	fields := map[string]*string{"id": &rec.id, "principalId": &rec.principalID, "principalDisplayName": &rec.principalName,
		"appRoleId": &rec.appRoleID, "resourceId": &rec.resourceID, "resourceDisplayName": &rec.resourceName}
	err := v.fields(func(k []byte, val jv) error {
		key := string(k)
		switch key {
		case "principalType":
			s, ok := val.str()
			if !ok && !val.isNull() {
				return e.want(val, key, "a string")
			}
			pt, known := parsePrincipalType(s)
			if !known {
				return e.errAt(val, key, "principalType is User, Group or ServicePrincipal", "unknown principalType %q", s)
			}
			rec.principalType = pt
		case graphDeletedDateTime:
			rec.deleted = !val.isNull()
		default:
			if dst, ok := fields[key]; ok {
				if val.isNull() {
					return nil
				}
				s, ok := val.str()
				if !ok {
					return e.want(val, key, "a string")
				}
				*dst = s
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if strings.TrimSpace(rec.principalID) == "" {
		return e.errAt(v, "", "an appRoleAssignment names its principalId: export /servicePrincipals/{id}/appRoleAssignedTo", "assignment without principalId")
	}
	g.b.assigns = append(g.b.assigns, rec)
	return nil
}

// loadGraphPage reads a single Graph page given as the tenant path: its
// collection comes from the file name, or else from @odata.context.
func loadGraphPage(b *builder, fsys fs.FS, name string, disp func(string) string) error {
	g := newGraphLoader(b, fsys, disp)
	base := path.Base(name)
	coll := ""
	if m := pageName.FindStringSubmatch(base); m != nil && slices.Contains(graphCollections, m[1]) {
		coll = m[1]
	}
	if coll == "" {
		ctx, err := peekContext(fsys, name, disp(name))
		if err != nil {
			return err
		}
		coll = collectionOfContext(ctx)
	}
	if coll == "" {
		return &LoadError{Source: Source{File: disp(name)}, Msg: "cannot tell which collection this Graph page holds",
			Hint: "name it users.json, groups.json, assignments.json or deletedItems.json, or export a directory (docs/tenant.md)"}
	}
	layout := graphLayout{pages: map[string][]page{coll: {{name: name, n: 1}}}}
	return g.load(layout)
}

// collectionOfContext reads the collection from an @odata.context URL.
func collectionOfContext(ctx string) string {
	_, frag, _ := strings.Cut(ctx, "$metadata#")
	switch {
	case strings.HasPrefix(frag, "directory/deletedItems"):
		return graphDeleted
	case strings.Contains(frag, "appRoleAssignedTo"):
		return graphAssignments
	case strings.HasPrefix(frag, "users"):
		return graphUsers
	case strings.HasPrefix(frag, "groups"):
		return graphGroups
	}
	return ""
}

// peekContext reads @odata.context when it comes before value, as Graph
// writes it.
func peekContext(fsys fs.FS, name, file string) (string, error) {
	r, closeFn, err := openText(fsys, name, file)
	if err != nil {
		return "", err
	}
	defer closeFn()
	s := newJSONReader(r, file)
	defer s.release()
	if t, err := s.token("$"); err != nil || t.Kind() != '{' {
		return "", err
	}
	for s.more() {
		t, err := s.token("$")
		if err != nil {
			return "", err
		}
		key := t.String()
		if key == "value" {
			return "", nil
		}
		v, err := s.skipValue("$." + key)
		if err != nil {
			return "", err
		}
		if key == "@odata.context" {
			return v, nil
		}
	}
	return "", nil
}
