package cmdutil

import (
	"fmt"
	"os"
	"path/filepath"
)

// ReportFile is a report (--report FILE) being written: a temporary file
// beside the destination, renamed over it only once complete, so that a
// CI job never reads half a report. Commands claim it before they start
// working, so that an unwritable path is found before a long run, not
// after it.
type ReportFile struct {
	path string
	tmp  *os.File
}

// CreateReport claims the temporary file. Failure is an InputError (exit
// 2): the path is the user's to fix.
func CreateReport(path string) (*ReportFile, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, &InputError{Err: fmt.Errorf("--report %s is a directory", path), Hints: []string{"give a file name such as junit.xml"}}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("cannot write --report %s: %w", path, err), Hints: []string{"check that the directory exists and is writable"}}
	}
	return &ReportFile{path: path, tmp: tmp}, nil
}

// Commit writes b and renames the file into place.
func (r *ReportFile) Commit(b []byte) error {
	_, err := r.tmp.Write(b)
	if err == nil {
		err = r.tmp.Sync()
	}
	if cerr := r.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp makes 0600 files; a report is no secret.
		err = os.Chmod(r.tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(r.tmp.Name(), r.path)
	}
	if err != nil {
		os.Remove(r.tmp.Name())
		r.tmp = nil
		return &InputError{Err: fmt.Errorf("write --report %s: %w", r.path, err)}
	}
	r.tmp = nil
	return nil
}

// Abort removes the temporary file of a report never committed; after
// Commit it does nothing.
func (r *ReportFile) Abort() {
	if r.tmp != nil {
		r.tmp.Close()
		os.Remove(r.tmp.Name())
		r.tmp = nil
	}
}
