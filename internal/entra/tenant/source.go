package tenant

import (
	"fmt"
	"strconv"
)

// Source is where a value was read from, for error messages and findings.
type Source struct {
	File string // path of the file, as the tenant path was given
	Line int    // line where the object starts (a CSV row's line); 0 when unknown
	// Path is the JSON path of the object or value in the file's own
	// names ($.value[3].mail, $.users[0].onPremisesExtensionAttributes.
	// extensionAttribute1), or for CSV the column (column "mail"); "" for
	// a whole CSV row or a whole file.
	Path string
}

// String renders "file:line: path", leaving out what is unknown.
func (s Source) String() string {
	out := s.File
	if s.Line > 0 {
		out += ":" + strconv.Itoa(s.Line)
	}
	if s.Path != "" {
		if out != "" {
			out += ": "
		}
		out += s.Path
	}
	return out
}

// srcRef is an object's source, compactly: the array it is in (a prefix),
// its index there and its line.
type srcRef struct {
	prefix int32
	elem   int32 // index in the prefix's array; -1 for a CSV row or a whole file
	line   int32
}

type prefixKind uint8

const (
	prefixNative prefixKind = iota
	prefixGraphUser
	prefixGraphGroup
	prefixGraphOther
	prefixCSV
)

// srcPrefix is one array of objects in one file: "$.value" of a page,
// "$.users" of a snapshot, "$.groups[3].members", or a CSV file.
type srcPrefix struct {
	file    int32
	path    string
	kind    prefixKind
	columns map[string]string // CSV: attribute name → header as written
}

type sources struct {
	files    []string
	prefixes []srcPrefix
}

func (s *sources) file(name string) int32 {
	s.files = append(s.files, name)
	return int32(len(s.files) - 1)
}

func (s *sources) prefix(file int32, path string, kind prefixKind) int32 {
	s.prefixes = append(s.prefixes, srcPrefix{file: file, path: path, kind: kind})
	return int32(len(s.prefixes) - 1)
}

// resolve renders an object's source and, with attr, the path of that
// attribute's value in the format's own names.
func (s *sources) resolve(r srcRef, attr string) Source {
	if s == nil || int(r.prefix) >= len(s.prefixes) || r.prefix < 0 {
		return Source{}
	}
	p := s.prefixes[r.prefix]
	src := Source{File: s.files[p.file], Line: int(r.line)}
	if p.kind == prefixCSV {
		if attr != "" {
			if col, ok := p.columns[attr]; ok {
				src.Path = fmt.Sprintf("column %q", col)
			}
		}
		return src
	}
	path := p.path
	if r.elem >= 0 {
		path += "[" + strconv.Itoa(int(r.elem)) + "]"
	}
	if attr != "" {
		path += "." + keyIn(p.kind, attr)
	}
	src.Path = path
	return src
}

// keyIn is where an attribute lives in an object of a JSON or YAML format.
func keyIn(kind prefixKind, attr string) string {
	switch kind {
	case prefixGraphUser:
		return graphKeyOf(attr)
	case prefixGraphGroup, prefixGraphOther:
		if attr == attrObjectID {
			return graphID
		}
		return attr
	}
	if nativeTopLevel[attr] {
		return attr
	}
	if isExtensionAttribute(attr) {
		return onPremExtensionAttrs + "." + attr
	}
	return nativeAttributes + "." + attr
}
