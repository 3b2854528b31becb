package tenant

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A CSV tenant is a directory of the files Entra's admin center and
// PowerShell's Export-Csv write, each told apart by its header
// (docs/tenant.md): users (exportUsers_<date>.csv), deleted users
// (deleted*.csv), groups (exportGroup_<date>.csv), the members of each
// group (members/<group id or name>.csv, the group's "Download members"),
// memberships with a group column, and assignments (Export-Csv of
// Get-MgServicePrincipalAppRoleAssignedTo).

type csvRole uint8

const (
	roleUsers csvRole = iota + 1
	roleGroups
	roleMembers     // members/<group>.csv
	roleMemberships // a group column and a member column
	roleAssignments
)

func (r csvRole) String() string {
	return [...]string{"", "users", "groups", "members", "memberships", "assignments"}[r]
}

// Column roles beyond plain attributes.
type colKind uint8

const (
	colAttr        colKind = iota // an attribute by name
	colEnabled                    // accountEnabled: True/False/Yes/No
	colBlockSignIn                // Block sign in (Yes/No): accountEnabled inverted
	colDeleted                    // deletedDateTime
	colExtJSON                    // onPremisesExtensionAttributes as one JSON cell
	colSkip                       // never kept (passwords) or meaningless here
	colMemberID                   // members: the member's objectId (or UPN)
	colMemberUPN                  // members: the member's UPN
	colMemberType                 // members: User, Group, Service Principal…
	colGroupID                    // memberships: the group's objectId
	colGroupName                  // memberships: the group's displayName
	colPrincipalID
	colPrincipalType
	colPrincipalName
	colAppRoleID
	colAssignmentID
	colResourceID
	colResourceName
)

type csvCol struct {
	header string // as written
	kind   colKind
	attr   string // for colAttr and colEnabled: the Entra name
}

// normHeader reduces a header to a lookup key: the bracketed property of
// a template header ("Block sign in (Yes/No) [accountEnabled] Required"),
// lower case, without spaces, dots, dashes or underscores. block is set
// for the inverted Block sign in column.
func normHeader(h string) (key, name string, block bool) {
	h = strings.TrimSpace(h)
	name = h
	if i := strings.LastIndexByte(h, '['); i >= 0 {
		if j := strings.IndexByte(h[i:], ']'); j > 1 {
			block = strings.Contains(strings.ToLower(h[:i]), "block sign in")
			name = strings.TrimSpace(h[i+1 : i+j])
		}
	}
	key = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '-', '_', '\t':
			return -1
		}
		return r
	}, strings.ToLower(name))
	return key, name, block
}

var userAliases = map[string]string{
	"id": attrObjectID, "objectid": attrObjectID,
	"username": attrUPN, "name": attrDisplayName,
	"firstname": attrGivenName, "lastname": attrSurname,
	"email": attrMail, "alternateemailaddress": attrOtherMails, "alternateemailaddresses": attrOtherMails,
	"officelocation": attrOfficeName, "office": attrOfficeName,
	"mobilephone": attrMobile, "businessphones": attrTelephoneNumber, "officephone": attrTelephoneNumber,
	"faxnumber": attrFax,
}

var groupAliases = map[string]string{"id": attrObjectID, "objectid": attrObjectID, "name": attrDisplayName}

// knownBools are attributes whose CSV cells are booleans; they read as
// "True"/"False" like Graph's booleans, whatever the case in the file.
var knownBools = map[string]bool{attrAccountEnabled: true, "securityEnabled": true, "mailEnabled": true,
	"onPremisesSyncEnabled": true, "isAssignableToRole": true, "directorySynced": true}

var (
	memberIDKeys   = []string{"memberid", "memberobjectid", "memberobjectidorupn"}
	memberTypeKeys = []string{"membertype", "@odatatype", "odatatype", "objecttype", "type"}
	groupColKeys   = []string{"groupid", "groupobjectid", "groupdisplayname", "groupname"}
	skipKeys       = []string{"passwordprofile", "initialpassword", "password", "additionalproperties", "@odatacontext"}
)

var pascalWord = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// csvColumns assigns each header its meaning for a file of role.
func csvColumns(header []string, role csvRole) []csvCol {
	cols := make([]csvCol, len(header))
	for i, h := range header {
		key, name, block := normHeader(h)
		c := csvCol{header: strings.TrimSpace(h)}
		switch {
		case key == "":
			c.kind = colSkip
		case slices.Contains(skipKeys, key):
			c.kind = colSkip
		case role == roleAssignments:
			c.kind = map[string]colKind{"principalid": colPrincipalID, "principaltype": colPrincipalType, "principaldisplayname": colPrincipalName,
				"approleid": colAppRoleID, "id": colAssignmentID, "resourceid": colResourceID, "resourcedisplayname": colResourceName}[key]
			if c.kind == colAttr {
				c.kind = colSkip
			}
		case role == roleMembers || role == roleMemberships:
			switch {
			case slices.Contains(memberIDKeys, key) || key == "id" || key == "objectid":
				c.kind = colMemberID
			case key == "userprincipalname":
				c.kind = colMemberUPN
			case slices.Contains(memberTypeKeys, key):
				c.kind = colMemberType
			case key == "groupid" || key == "groupobjectid":
				c.kind = colGroupID
			case key == "groupdisplayname" || key == "groupname":
				c.kind = colGroupName
			default:
				c.kind = colSkip
			}
		case block:
			c.kind, c.attr = colBlockSignIn, attrAccountEnabled
		case key == "blocksignin" || key == "blocksignin(yes/no)":
			c.kind, c.attr = colBlockSignIn, attrAccountEnabled
		case key == strings.ToLower(graphDeletedDateTime):
			c.kind = colDeleted
		case key == strings.ToLower(onPremExtensionAttrs):
			c.kind = colExtJSON
		default:
			c.attr = attrName(key, name, role)
			if c.attr == attrAccountEnabled {
				c.kind = colEnabled
			}
		}
		cols[i] = c
	}
	return cols
}

// attrName is the Entra name of an attribute column.
func attrName(key, name string, role csvRole) string {
	canonical, aliases := canonicalUser, userAliases
	if role == roleGroups {
		canonical, aliases = canonicalGroup, groupAliases
	}
	if a, ok := aliases[key]; ok {
		return a
	}
	if a, ok := canonical[key]; ok {
		return a
	}
	if n, ok := strings.CutPrefix(key, "onpremisesextensionattributes"); ok {
		key = n
	}
	if n, ok := strings.CutPrefix(key, "extensionattribute"); ok && isExtensionAttribute(extensionAttrPrefix+n) {
		return extensionAttrPrefix + n
	}
	if pascalWord.MatchString(name) {
		// PowerShell's Export-Csv writes the SDK's PascalCase property
		// names; Graph's are camelCase.
		return strings.ToLower(name[:1]) + name[1:]
	}
	return name
}

func hasKey(header []string, keys ...string) bool {
	for _, h := range header {
		k, _, _ := normHeader(h)
		if slices.Contains(keys, k) {
			return true
		}
	}
	return false
}

// csvRoleOf tells what a file holds from its header.
func csvRoleOf(header []string, inMembersDir bool) (csvRole, error) {
	memberish := hasKey(header, memberIDKeys...) || hasKey(header, memberTypeKeys...)
	switch {
	case hasKey(header, "principalid"):
		return roleAssignments, nil
	case inMembersDir:
		return roleMembers, nil
	case hasKey(header, groupColKeys...) && (memberish || hasKey(header, "id", "objectid", "userprincipalname")):
		return roleMemberships, nil
	case memberish:
		return 0, errors.New("this looks like one group's members download: put it in members/<group id or name>.csv, or add a groupId column")
	case hasKey(header, "userprincipalname", "username"):
		return roleUsers, nil
	case hasKey(header, "id", "objectid"):
		return roleGroups, nil
	}
	return 0, errors.New("cannot tell what this CSV holds: a users file has a userPrincipalName column, a groups file id and displayName, an assignments file PrincipalId (docs/tenant.md)")
}

// csvFile is an open CSV file past its preamble.
type csvFile struct {
	name, file string
	r          *csv.Reader
	closeFn    func()
	header     []string
	lineOff    int // lines before the csv.Reader's first line (#TYPE, version:)
	role       csvRole
	deleted    bool // deleted*.csv: every row a soft-deleted user
}

// openCSV opens a CSV file and reads its preamble and header: a UTF-8 or
// UTF-16 BOM, a "#TYPE …" line (Windows PowerShell's Export-Csv) or a
// "version:v1.0" line (the portal's bulk templates), and "," or ";" as
// the separator (Export-Csv -UseCulture in many locales).
func openCSV(fsys fs.FS, name, file string) (*csvFile, error) {
	r, closeFn, err := openText(fsys, name, file)
	if err != nil {
		return nil, err
	}
	f := &csvFile{name: name, file: file, closeFn: closeFn}
	br := bufio.NewReader(r)
	var first string
	for {
		peek, _ := br.Peek(512)
		line := string(peek)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		l := strings.TrimSpace(line)
		lower := strings.ToLower(l)
		if !strings.HasPrefix(lower, "#type") && !strings.HasPrefix(lower, "version:") {
			first = line
			break
		}
		if _, err := br.ReadString('\n'); err != nil {
			break
		}
		f.lineOff++
	}
	f.r = csv.NewReader(br)
	f.r.FieldsPerRecord = -1
	f.r.ReuseRecord = true
	if strings.Count(first, ";") > strings.Count(first, ",") {
		f.r.Comma = ';'
	}
	rec, err := f.r.Read()
	if err == io.EOF {
		closeFn()
		return nil, &LoadError{Source: Source{File: file, Line: f.lineOff + 1}, Msg: "empty CSV file: no header row",
			Hint: "a CSV file starts with a header row naming its columns"}
	}
	if err != nil {
		closeFn()
		return nil, f.csvErr(err)
	}
	if err := f.checkText(rec, f.lineOff+1); err != nil {
		closeFn()
		return nil, err
	}
	f.header = slices.Clone(rec)
	return f, nil
}

// checkText refuses a row with bytes that are not UTF-8 (after a UTF-16
// file was converted): kept as they are, they would reach the SCIM
// requests as text no endpoint accepts, and turned into U+FFFD they would
// be mangled data, as the JSON loader says too.
func (f *csvFile) checkText(rec []string, line int) error {
	for i, c := range rec {
		if utf8.ValidString(c) {
			continue
		}
		off := 0
		for off < len(c) {
			r, n := utf8.DecodeRuneInString(c[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return &LoadError{Source: Source{File: f.file, Line: line}, Msg: fmt.Sprintf("column %d is not UTF-8 text (byte %d of the cell)", i+1, off),
			Hint: "save the file as UTF-8 (the portal's download is UTF-8; Excel's \"CSV UTF-8\" keeps it so)"}
	}
	return nil
}

func (f *csvFile) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LoadError{Source: Source{File: f.file, Line: pe.Line + f.lineOff}, Msg: fmt.Sprintf("not valid CSV (column %d): %v", pe.Column, pe.Err), Err: err,
			Hint: `a field with a comma, a quote or a line break must be quoted, and quotes inside it doubled ("")`}
	}
	var le *LoadError
	if errors.As(err, &le) {
		return err
	}
	return &LoadError{Source: Source{File: f.file}, Msg: "read: " + err.Error(), Err: err}
}

// rows calls fn for each data row with the row's line. Blank rows (all
// cells empty, as Excel leaves) are skipped.
func (f *csvFile) rows(fn func(rec []string, line int) error) error {
	for {
		rec, err := f.r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return f.csvErr(err)
		}
		line, _ := f.r.FieldPos(0)
		line += f.lineOff
		blank := true
		for _, c := range rec {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		if err := f.checkText(rec, line); err != nil {
			return err
		}
		if len(rec) > len(f.header) {
			for _, extra := range rec[len(f.header):] {
				if strings.TrimSpace(extra) != "" {
					return &LoadError{Source: Source{File: f.file, Line: line}, Msg: fmt.Sprintf("row has %d fields, the header %d", len(rec), len(f.header)),
						Hint: "a value with a comma must be quoted"}
				}
			}
		}
		if err := fn(rec, line); err != nil {
			return err
		}
	}
}

// notExported reports a cell that PowerShell filled with a .NET type name
// instead of the value (entra-exports §3).
func notExported(cell string) bool {
	return strings.HasPrefix(cell, "Microsoft.Graph.PowerShell.Models.") || strings.HasPrefix(cell, "System.Collections.") ||
		(strings.HasPrefix(cell, "System.") && strings.HasSuffix(cell, "[]"))
}

// csvLoader reads a CSV tenant.
type csvLoader struct {
	b          *builder
	fsys       fs.FS
	disp       func(string) string
	groupNames map[string][]string // lower displayName → objectIds, for member files named by group
	reported   map[string]bool     // file+column already reported as not exported
}

func loadCSVDir(b *builder, fsys fs.FS, dir string, entries []fs.DirEntry, disp func(string) string) error {
	l := &csvLoader{b: b, fsys: fsys, disp: disp, reported: map[string]bool{}}
	var files []*csvFile
	defer func() {
		for _, f := range files {
			f.closeFn()
		}
	}()
	open := func(name string, inMembers bool) error {
		f, err := openCSV(fsys, name, disp(name))
		if err != nil {
			return err
		}
		files = append(files, f)
		role, err := csvRoleOf(f.header, inMembers)
		if err != nil {
			return &LoadError{Source: Source{File: f.file, Line: f.lineOff + 1}, Msg: err.Error()}
		}
		f.role = role
		f.deleted = role == roleUsers && strings.HasPrefix(strings.ToLower(path.Base(name)), "deleted")
		return nil
	}
	for _, e := range entries {
		name := path.Join(dir, e.Name())
		switch {
		case e.IsDir() && e.Name() == graphMembersDir:
			sub, err := fs.ReadDir(fsys, name)
			if err != nil {
				return err
			}
			for _, m := range sub {
				if !m.IsDir() && strings.HasSuffix(strings.ToLower(m.Name()), ".csv") {
					if err := open(path.Join(name, m.Name()), true); err != nil {
						return err
					}
				}
			}
		case !e.IsDir() && strings.HasSuffix(strings.ToLower(e.Name()), ".csv"):
			if err := open(name, false); err != nil {
				return err
			}
		case !e.IsDir() && !strings.HasPrefix(e.Name(), "."):
			b.finding(SeverityInfo, FindingIgnoredFile, ObjectRef{Kind: "file", ID: disp(name)}, Source{File: disp(name)},
				"only .csv files (and members/*.csv) make a CSV tenant", "not read: not a CSV file")
		}
	}
	return l.read(files)
}

// loadCSVFile reads one CSV file given as the tenant path.
func loadCSVFile(b *builder, fsys fs.FS, name string, disp func(string) string) error {
	l := &csvLoader{b: b, fsys: fsys, disp: disp, reported: map[string]bool{}}
	f, err := openCSV(fsys, name, disp(name))
	if err != nil {
		return err
	}
	defer f.closeFn()
	role, err := csvRoleOf(f.header, false)
	if err != nil {
		return &LoadError{Source: Source{File: f.file, Line: f.lineOff + 1}, Msg: err.Error()}
	}
	f.role = role
	f.deleted = role == roleUsers && strings.HasPrefix(strings.ToLower(path.Base(name)), "deleted")
	return l.read([]*csvFile{f})
}

// read processes the files in dependency order: users, groups, then what
// refers to them.
func (l *csvLoader) read(files []*csvFile) error {
	for _, role := range []csvRole{roleUsers, roleGroups, roleMembers, roleMemberships, roleAssignments} {
		for _, f := range files {
			if f.role != role {
				continue
			}
			var err error
			switch role {
			case roleUsers:
				l.b.contents.Users = true
				err = l.users(f)
			case roleGroups:
				l.b.contents.Groups = true
				err = l.groups(f)
			case roleMembers:
				err = l.memberFile(f)
			case roleMemberships:
				err = l.memberships(f)
			case roleAssignments:
				l.b.contents.Assignments = true
				err = l.assignments(f)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *csvLoader) prefix(f *csvFile, cols []csvCol) int32 {
	fid := l.b.srcs.file(f.file)
	p := l.b.srcs.prefix(fid, "", prefixCSV)
	m := map[string]string{}
	for _, c := range cols {
		if c.attr != "" {
			if _, ok := m[c.attr]; !ok {
				m[c.attr] = c.header
			}
		}
	}
	l.b.srcs.prefixes[p].columns = m
	return p
}

func (l *csvLoader) cellErr(f *csvFile, line int, col csvCol, hint, msg string, args ...any) *LoadError {
	return &LoadError{Source: Source{File: f.file, Line: line, Path: fmt.Sprintf("column %q", col.header)}, Msg: fmt.Sprintf(msg, args...), Hint: hint}
}

// cell returns a row's value of column i; "" when the row is short.
func cell(rec []string, i int) string {
	if i < len(rec) {
		return rec[i]
	}
	return ""
}

func (l *csvLoader) notExportedCell(f *csvFile, col csvCol, line int) {
	key := f.file + "\x00" + col.header
	if l.reported[key] {
		return
	}
	l.reported[key] = true
	l.b.finding(SeverityWarning, FindingNotExported, ObjectRef{Kind: "file", ID: f.file}, Source{File: f.file, Line: line, Path: fmt.Sprintf("column %q", col.header)},
		"select the values themselves before Export-Csv, e.g. Select-Object @{n='"+col.header+"';e={$_."+col.header+" -join ';'}}",
		"column %q holds .NET type names, not values (PowerShell's Export-Csv of a complex property): read as not exported", col.header)
}

// checkDupCols rejects two columns that give the same attribute.
func checkDupCols(f *csvFile, cols []csvCol) error {
	seen := map[string]string{}
	for _, c := range cols {
		if c.attr == "" && c.kind != colDeleted {
			continue
		}
		k := c.attr
		if c.kind == colDeleted {
			k = graphDeletedDateTime
		}
		if prev, ok := seen[k]; ok {
			return &LoadError{Source: Source{File: f.file, Line: f.lineOff + 1}, Msg: fmt.Sprintf("columns %q and %q both give %s", prev, c.header, k),
				Hint: "keep one of them"}
		}
		seen[k] = c.header
	}
	return nil
}

func (l *csvLoader) users(f *csvFile) error {
	cols := csvColumns(f.header, roleUsers)
	if err := checkDupCols(f, cols); err != nil {
		return err
	}
	pfx := l.prefix(f, cols)
	nm := &l.b.names
	mark := len(l.b.dups)
	err := f.rows(func(rec []string, line int) error {
		u := userRec{objectRec: objectRec{src: srcRef{prefix: pfx, elem: -1, line: int32(line)}, soft: f.deleted}}
		for i, c := range cols {
			v := cell(rec, i)
			if !l.hasValue(f, c, v, line) {
				continue
			}
			switch c.kind {
			case colEnabled, colBlockSignIn:
				b, ok := parseYesNo(v)
				if !ok {
					return l.cellErr(f, line, c, "accountEnabled is True or False (Block sign in: Yes or No)", "%q is not a boolean", v)
				}
				if c.kind == colBlockSignIn {
					b = !b // "Block sign in: No" is an enabled account
				}
				u.kvs = append(u.kvs, kv{name: nm.intern(attrAccountEnabled), one: BoolOf(b).String(), single: true})
			case colExtJSON:
				if err := l.extJSON(f, line, c, v, &u.kvs); err != nil {
					return err
				}
			default:
				if err := l.objectCell(f, line, c, v, &u.objectRec); err != nil {
					return err
				}
			}
		}
		if u.id == "" {
			return &LoadError{Source: Source{File: f.file, Line: line}, Msg: "user without objectId (the id column is empty or missing)",
				Hint: "the portal's download has an id column; with Export-Csv select Id too"}
		}
		if u.soft {
			l.b.contents.DeletedItems = true
		}
		l.b.addUser(&u, !f.deleted)
		return nil
	})
	if err != nil {
		return err
	}
	return l.b.checkDups(mark, "each user is one row; remove the repeated row")
}

// hasValue reports whether a cell holds a value to read: a column read,
// not blank, not a .NET type name (noted once per column).
func (l *csvLoader) hasValue(f *csvFile, c csvCol, v string, line int) bool {
	if c.kind == colSkip || strings.TrimSpace(v) == "" {
		return false
	}
	if notExported(v) {
		l.notExportedCell(f, c, line)
		return false
	}
	return true
}

// objectCell reads a cell users and groups read alike: the deletion time,
// or an attribute (the objectId among them).
func (l *csvLoader) objectCell(f *csvFile, line int, c csvCol, v string, rec *objectRec) error {
	if c.kind == colDeleted {
		t, err := parseCSVTime(v)
		if err != nil {
			return l.cellErr(f, line, c, "write an ISO 8601 time such as 2026-11-20T10:00:00Z", "%q is not a date-time", v)
		}
		rec.soft, rec.deletedAt = true, t
		return nil
	}
	rec.kvs = append(rec.kvs, cellKV(l.b.names.intern(c.attr), c.attr, v))
	if c.attr == attrObjectID {
		rec.id = strings.TrimSpace(v)
		rec.kvs[len(rec.kvs)-1] = kv{name: rec.kvs[len(rec.kvs)-1].name, one: rec.id, single: true}
	}
	return nil
}

// cellKV reads one cell: a multi-valued attribute's cell split on ";",
// a boolean attribute's as "True"/"False", anything else as written.
func cellKV(name int32, attr, v string) kv {
	if multiValued[attr] {
		var out []string
		for _, p := range strings.Split(v, ";") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return kv{name: name, vals: out, null: len(out) == 0}
	}
	if knownBools[attr] {
		if b, ok := parseYesNo(v); ok {
			return kv{name: name, one: BoolOf(b).String(), single: true}
		}
	}
	return kv{name: name, one: v, single: true}
}

func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// parseCSVTime reads ISO 8601 and the US culture format the portal uses
// for dates (8/19/2021 1:25:31 PM), as UTC.
func parseCSVTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "1/2/2006 3:04:05 PM", "1/2/2006 15:04:05", "1/2/2006 3:04 PM", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date-time: %q", s)
}

// extJSON reads an onPremisesExtensionAttributes cell written as the
// whole complex property, as the portal's newer download does.
func (l *csvLoader) extJSON(f *csvFile, line int, c csvCol, v string, kvs *[]kv) error {
	var m map[string]*string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return l.cellErr(f, line, c, `the cell holds the JSON object Graph returns: {"extensionAttribute1": "…", …}`, "not a JSON object of extension attributes: %v", err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !isExtensionAttribute(k) {
			continue
		}
		e := kv{name: l.b.names.intern(k), null: m[k] == nil}
		if m[k] != nil {
			e.one, e.single = *m[k], true
		}
		*kvs = append(*kvs, e)
	}
	return nil
}

func (l *csvLoader) groups(f *csvFile) error {
	cols := csvColumns(f.header, roleGroups)
	if err := checkDupCols(f, cols); err != nil {
		return err
	}
	pfx := l.prefix(f, cols)
	mark := len(l.b.dups)
	err := f.rows(func(rec []string, line int) error {
		g := groupRec{objectRec: objectRec{src: srcRef{prefix: pfx, elem: -1, line: int32(line)}}}
		for i, c := range cols {
			v := cell(rec, i)
			if c.kind == colExtJSON || !l.hasValue(f, c, v, line) {
				continue
			}
			if err := l.objectCell(f, line, c, v, &g.objectRec); err != nil {
				return err
			}
		}
		if g.id == "" {
			return &LoadError{Source: Source{File: f.file, Line: line}, Msg: "group without objectId (the id column is empty or missing)",
				Hint: "the portal's groups download has an id column"}
		}
		if g.soft {
			l.b.contents.DeletedItems = true
		}
		l.b.addGroup(&g, true)
		return nil
	})
	if err != nil {
		return err
	}
	return l.b.checkDups(mark, "each group is one row; remove the repeated row")
}

// groupNamed finds the group a members file or a memberships row names,
// by objectId or, failing that, by a unique displayName.
func (l *csvLoader) groupNamed(ref string) (string, error) {
	if _, ok := l.b.groupIdx[strings.ToLower(ref)]; ok {
		return ref, nil
	}
	if l.groupNames == nil {
		l.groupNames = map[string][]string{}
		for _, g := range l.b.groups {
			name := strings.ToLower(g.set.first(&l.b.names, attrDisplayName))
			l.groupNames[name] = append(l.groupNames[name], g.id)
		}
	}
	switch ids := l.groupNames[strings.ToLower(ref)]; len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	default:
		return "", fmt.Errorf("%d groups are named %q (%s): name the file or the row by the group's objectId", len(ids), ref, strings.Join(ids, ", "))
	}
}

func (l *csvLoader) memberRef(f *csvFile, cols []csvCol, rec []string, line int, pfx int32) (memberRef, bool, error) {
	ref := memberRef{src: srcRef{prefix: pfx, elem: -1, line: int32(line)}}
	var upn string
	for i, c := range cols {
		v := strings.TrimSpace(cell(rec, i))
		if v == "" {
			continue
		}
		switch c.kind {
		case colMemberID:
			ref.ref = v
		case colMemberUPN:
			upn = v
		case colMemberType:
			k, ok := parseMemberKind(v)
			if !ok {
				return ref, false, l.cellErr(f, line, c, "the member type is User, Group, Service Principal, Device or Contact", "unknown member type %q", v)
			}
			ref.kind, ref.typed = k, true
		}
	}
	if ref.ref == "" {
		ref.ref = upn
	}
	return ref, ref.ref != "", nil
}

// memberFile reads members/<group>.csv: one group's direct members.
func (l *csvLoader) memberFile(f *csvFile) error {
	cols := csvColumns(f.header, roleMembers)
	pfx := l.prefix(f, cols)
	stem := strings.TrimSuffix(path.Base(f.name), path.Ext(f.name))
	gid, err := l.groupNamed(stem)
	if err != nil {
		return &LoadError{Source: Source{File: f.file}, Msg: err.Error()}
	}
	var refs []memberRef
	err = f.rows(func(rec []string, line int) error {
		ref, ok, err := l.memberRef(f, cols, rec, line, pfx)
		if err != nil {
			return err
		}
		if !ok {
			return &LoadError{Source: Source{File: f.file, Line: line}, Msg: "member row without an id or userPrincipalName"}
		}
		refs = append(refs, ref)
		return nil
	})
	if err != nil {
		return err
	}
	l.b.contents.Memberships = true
	if gid == "" || !l.b.setMembers(gid, refs) {
		l.b.finding(SeverityWarning, FindingMembersOfUnknownGroup, ObjectRef{Kind: "group", ID: stem}, Source{File: f.file},
			"name the file members/<group id or displayName>.csv after a group of the groups file",
			"members of a group that is not in the export; not read")
	}
	return nil
}

// memberships reads a file of (group, member) rows covering every group.
func (l *csvLoader) memberships(f *csvFile) error {
	cols := csvColumns(f.header, roleMemberships)
	pfx := l.prefix(f, cols)
	byGroup := map[string][]memberRef{}
	var order []string
	unknown := map[string]bool{}
	err := f.rows(func(rec []string, line int) error {
		var gref string
		for i, c := range cols {
			if v := strings.TrimSpace(cell(rec, i)); v != "" && (c.kind == colGroupID || (c.kind == colGroupName && gref == "")) {
				gref = v
			}
		}
		if gref == "" {
			return &LoadError{Source: Source{File: f.file, Line: line}, Msg: "membership row without a group"}
		}
		gid, err := l.groupNamed(gref)
		if err != nil {
			return &LoadError{Source: Source{File: f.file, Line: line}, Msg: err.Error()}
		}
		if gid == "" {
			if !unknown[gref] {
				unknown[gref] = true
				l.b.finding(SeverityWarning, FindingMembersOfUnknownGroup, ObjectRef{Kind: "group", ID: gref}, Source{File: f.file, Line: line},
					"export the group in the groups file, or remove its rows", "members of a group that is not in the export; not read")
			}
			return nil
		}
		ref, ok, err := l.memberRef(f, cols, rec, line, pfx)
		if err != nil {
			return err
		}
		if !ok {
			return &LoadError{Source: Source{File: f.file, Line: line}, Msg: "membership row without a member id or userPrincipalName"}
		}
		key := strings.ToLower(gid)
		if _, ok := byGroup[key]; !ok {
			order = append(order, gid)
		}
		byGroup[key] = append(byGroup[key], ref)
		return nil
	})
	if err != nil {
		return err
	}
	l.b.contents.Memberships = true
	l.b.allMember = true
	for _, gid := range order {
		l.b.setMembers(gid, byGroup[strings.ToLower(gid)])
	}
	return nil
}

func (l *csvLoader) assignments(f *csvFile) error {
	cols := csvColumns(f.header, roleAssignments)
	pfx := l.prefix(f, cols)
	return f.rows(func(rec []string, line int) error {
		a := assignRec{src: srcRef{prefix: pfx, elem: -1, line: int32(line)}}
		for i, c := range cols {
			v := strings.TrimSpace(cell(rec, i))
			if v == "" {
				continue
			}
			switch c.kind {
			case colPrincipalID:
				a.principalID = v
			case colPrincipalType:
				pt, ok := parsePrincipalType(v)
				if !ok {
					return l.cellErr(f, line, c, "PrincipalType is User, Group or ServicePrincipal", "unknown principal type %q", v)
				}
				a.principalType = pt
			case colPrincipalName:
				a.principalName = v
			case colAppRoleID:
				a.appRoleID = v
			case colAssignmentID:
				a.id = v
			case colResourceID:
				a.resourceID = v
			case colResourceName:
				a.resourceName = v
			}
		}
		if a.principalID == "" {
			return &LoadError{Source: Source{File: f.file, Line: line}, Msg: "assignment without PrincipalId"}
		}
		l.b.assigns = append(l.b.assigns, a)
		return nil
	})
}

// isCSVDir reports a directory of CSV files.
func isCSVDir(entries []fs.DirEntry) bool {
	for _, e := range entries {
		if (!e.IsDir() && strings.HasSuffix(strings.ToLower(e.Name()), ".csv")) || (e.IsDir() && e.Name() == graphMembersDir) {
			return true
		}
	}
	return false
}
