//go:build !linux

package sqlite

import "os"

// fdatasync flushes f to the disk; elsewhere than on Linux, with fsync
// (on macOS Go's File.Sync uses F_FULLFSYNC, as SQLite's fullfsync does).
func fdatasync(f *os.File) error { return f.Sync() }
