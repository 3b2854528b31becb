package tenant

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/go-json-experiment/json/jsontext"
)

// pathHint is what --tenant accepts, for errors about the path itself.
const pathHint = "a tenant is a native snapshot (.yaml or .json), a Microsoft Graph export directory, or a directory of Entra CSV downloads (docs/tenant.md)"

// Load reads the tenant at path: a file (native YAML or JSON snapshot, a
// single Graph page, a single CSV download) or a directory (a Graph
// export, a directory of CSV files, or one holding tenant.yaml). The
// format is told from the content, not the name (docs/tenant.md,
// "Detection"). Errors are *LoadError and name the file and position.
func Load(p string) (*Tenant, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, &LoadError{Source: Source{File: p}, Msg: "cannot read the tenant: " + describeOSError(err), Hint: pathHint, Err: err}
	}
	dir, name := p, "."
	if !fi.IsDir() {
		dir, name = filepath.Dir(p), filepath.Base(p)
	}
	disp := func(n string) string {
		if n == "." {
			return p
		}
		return filepath.Join(dir, filepath.FromSlash(n))
	}
	return load(os.DirFS(dir), name, p, disp)
}

func describeOSError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// LoadFS reads the tenant at name (a file or a directory, "." for the
// root) of fsys, as Load does; sources name files by their fsys paths.
func LoadFS(fsys fs.FS, name string) (*Tenant, error) {
	return load(fsys, name, name, func(n string) string { return n })
}

// Parse reads a tenant held in memory as one file named name (a native
// snapshot, a Graph page or a CSV file). Tests of other packages build
// tenants with it.
func Parse(name string, data []byte) (*Tenant, error) {
	return LoadFS(oneFileFS{name: name, data: data}, name)
}

func load(fsys fs.FS, name, display string, disp func(string) string) (*Tenant, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, &LoadError{Source: Source{File: display}, Msg: "cannot read the tenant: " + describeOSError(err), Hint: pathHint, Err: err}
	}
	if fi.IsDir() {
		return loadDir(fsys, name, display, disp)
	}
	return loadFile(fsys, name, display, disp)
}

func loadDir(fsys fs.FS, dir, display string, disp func(string) string) (*Tenant, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, &LoadError{Source: Source{File: display}, Msg: "cannot read the directory: " + describeOSError(err), Err: err}
	}
	memJSON, memCSV := membersDirHolds(fsys, dir, entries)
	switch {
	case isGraphDir(entries) || memJSON:
		b := newBuilder(display, FormatGraph)
		layout, err := scanGraphDir(fsys, dir, entries)
		if err != nil {
			return nil, &LoadError{Source: Source{File: display}, Msg: "cannot read the directory: " + describeOSError(err), Err: err}
		}
		g := newGraphLoader(b, fsys, disp)
		if err := g.load(layout); err != nil {
			return nil, err
		}
		return b.build()
	case isCSVDir(entries) || memCSV:
		b := newBuilder(display, FormatCSV)
		if err := loadCSVDir(b, fsys, dir, entries, disp); err != nil {
			return nil, err
		}
		return b.build()
	}
	var natives []string
	for _, e := range entries {
		if !e.IsDir() && slices.Contains([]string{"tenant.yaml", "tenant.yml", "tenant.json"}, e.Name()) {
			natives = append(natives, e.Name())
		}
	}
	if len(natives) == 1 {
		return loadFile(fsys, path.Join(dir, natives[0]), disp(path.Join(dir, natives[0])), disp)
	}
	msg := "the directory holds no tenant: no users.json or groups.json (Graph), no .csv files, no tenant.yaml"
	if len(natives) > 1 {
		msg = "the directory holds several snapshots (" + strings.Join(natives, ", ") + "): name one"
	}
	return nil, &LoadError{Source: Source{File: display}, Msg: msg, Hint: pathHint}
}

func membersDirHolds(fsys fs.FS, dir string, entries []fs.DirEntry) (jsonFiles, csvFiles bool) {
	for _, e := range entries {
		if !e.IsDir() || e.Name() != graphMembersDir {
			continue
		}
		sub, _ := fs.ReadDir(fsys, path.Join(dir, e.Name()))
		for _, m := range sub {
			switch n := strings.ToLower(m.Name()); {
			case strings.HasSuffix(n, ".json") || m.IsDir():
				jsonFiles = true
			case strings.HasSuffix(n, ".csv"):
				csvFiles = true
			}
		}
	}
	return jsonFiles, csvFiles
}

// sniffed is what a file's first bytes say about its format.
type sniffed uint8

const (
	sniffNativeJSON sniffed = iota + 1
	sniffGraphJSON
	sniffYAML
	sniffCSV
)

var yamlKeyLine = regexp.MustCompile(`^(?:"[^"]*"|'[^']*'|[A-Za-z_$@][\w.$@-]*)\s*:(?:\s|$)`)

// sniff tells a file's format from its first bytes (docs/tenant.md,
// "Detection"): JSON by its first character, then native or Graph by its
// first key; "#TYPE" and "version:" lines are CSV; a first line of
// "key:" is YAML; anything else is a CSV header.
func sniff(head []byte, file string) (sniffed, error) {
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 {
		return 0, &LoadError{Source: Source{File: file}, Msg: "the file is empty", Hint: pathHint}
	}
	switch trimmed[0] {
	case '[':
		return sniffGraphJSON, nil
	case '{':
		dec := jsontext.NewDecoder(bytes.NewReader(trimmed), jsonOptions...)
		dec.ReadToken()
		t, err := dec.ReadToken()
		var key string
		if t.Kind() == '"' {
			key = t.String()
		}
		switch {
		case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
			return sniffGraphJSON, nil // the loader reports the syntax error with its line
		case slices.Contains(nativeTopKeys, key):
			return sniffNativeJSON, nil
		case key == "value" || key == "error" || strings.HasPrefix(key, "@odata"):
			return sniffGraphJSON, nil
		case err == nil && t.Kind() == '}':
			return sniffNativeJSON, nil
		}
		return 0, &LoadError{Source: Source{File: file, Line: 1}, Msg: fmt.Sprintf("a JSON object whose first key is %q is neither a miscim snapshot nor a Graph page", key),
			Hint: `a snapshot starts with "format", "users", "groups" or "assignments"; a Graph page with "@odata.context" or "value"`}
	}
	for _, line := range strings.Split(string(trimmed), "\n") {
		l := strings.TrimSpace(line)
		lower := strings.ToLower(l)
		switch {
		case strings.HasPrefix(lower, "#type") || strings.HasPrefix(lower, "version:"):
			return sniffCSV, nil
		case l == "" || strings.HasPrefix(l, "#") || l == "---" || strings.HasPrefix(l, "%"):
			continue
		case yamlKeyLine.MatchString(l) || strings.HasPrefix(l, "- ") || l == "-":
			return sniffYAML, nil
		}
		return sniffCSV, nil
	}
	return sniffYAML, nil // only comments: an empty snapshot
}

func loadFile(fsys fs.FS, name, display string, disp func(string) string) (*Tenant, error) {
	file := disp(name)
	r, closeFn, err := openText(fsys, name, file)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 4096)
	n, _ := io.ReadFull(r, head)
	closeFn()
	kind, err := sniff(head[:n], file)
	if err != nil {
		return nil, err
	}
	switch kind {
	case sniffGraphJSON:
		b := newBuilder(display, FormatGraph)
		if err := loadGraphPage(b, fsys, name, disp); err != nil {
			return nil, err
		}
		return b.build()
	case sniffCSV:
		b := newBuilder(display, FormatCSV)
		if err := loadCSVFile(b, fsys, name, disp); err != nil {
			return nil, err
		}
		return b.build()
	}
	b := newBuilder(display, FormatNative)
	r, closeFn, err = openText(fsys, name, file)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	if kind == sniffNativeJSON {
		err = loadNativeJSON(b, r, file)
	} else {
		var data []byte
		data, err = io.ReadAll(r)
		if err == nil {
			err = loadNativeYAML(b, data, file)
		} else {
			err = &LoadError{Source: Source{File: file}, Msg: "read: " + err.Error(), Err: err}
		}
	}
	if err != nil {
		return nil, err
	}
	return b.build()
}

// openText opens a text file: a UTF-8 byte-order mark is dropped and a
// UTF-16 file (PowerShell's -Encoding Unicode, with its mark) is
// converted to UTF-8.
func openText(fsys fs.FS, name, file string) (io.Reader, func(), error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, &LoadError{Source: Source{File: file}, Msg: "cannot open: " + describeOSError(err), Err: err}
	}
	closeFn := func() { f.Close() }
	br := bufio.NewReaderSize(f, 512) // only to look at the byte-order mark: larger reads go straight through
	mark, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(mark, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
	case bytes.HasPrefix(mark, []byte{0xFF, 0xFE}), bytes.HasPrefix(mark, []byte{0xFE, 0xFF}):
		data, err := io.ReadAll(br)
		if err != nil {
			closeFn()
			return nil, nil, &LoadError{Source: Source{File: file}, Msg: "read: " + err.Error(), Err: err}
		}
		return bytes.NewReader(fromUTF16(data)), closeFn, nil
	}
	return br, closeFn, nil
}

func fromUTF16(data []byte) []byte {
	big := data[0] == 0xFE
	data = data[2:]
	units := make([]uint16, len(data)/2)
	for i := range units {
		if big {
			units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		} else {
			units[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
		}
	}
	return []byte(string(utf16.Decode(units)))
}
