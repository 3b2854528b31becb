package tenant

import (
	"bytes"
	"io/fs"
	"path"
	"time"
)

// oneFileFS is a file system of one file held in memory, for Parse (the
// standard library's in-memory file system is in testing/fstest, which
// does not belong in the binary).
type oneFileFS struct {
	name string
	data []byte
}

func (f oneFileFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name != f.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{Reader: bytes.NewReader(f.data), info: memFileInfo{name: path.Base(f.name), size: int64(len(f.data))}}, nil
}

type memFile struct {
	*bytes.Reader
	info memFileInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

type memFileInfo struct {
	name string
	size int64
}

func (i memFileInfo) Name() string       { return i.name }
func (i memFileInfo) Size() int64        { return i.size }
func (i memFileInfo) Mode() fs.FileMode  { return 0o444 }
func (i memFileInfo) ModTime() time.Time { return time.Time{} }
func (i memFileInfo) IsDir() bool        { return false }
func (i memFileInfo) Sys() any           { return nil }
