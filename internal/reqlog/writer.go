package reqlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultQueueSize is how many records may wait for the disk before Write
// blocks.
const DefaultQueueSize = 4096

// fileTimeLayout is the time part of a file name: fixed width, UTC, so
// that names sort in time order as plain strings (the trailing Z is a
// literal).
const fileTimeLayout = "20060102T150405.000000000Z"

// ErrClosed is recorded when a record is written after Close.
var ErrClosed = errors.New("request log closed")

// Option configures a Writer.
type Option func(*Writer)

// WithQueueSize sets how many records may be queued (default 4096).
func WithQueueSize(n int) Option {
	return func(w *Writer) {
		if n > 0 {
			w.queueSize = n
		}
	}
}

// WithErrorHandler sets a function called, from the writer's goroutine,
// with each write error; the server logs them. Err returns the last one
// either way.
func WithErrorHandler(f func(error)) Option { return func(w *Writer) { w.onError = f } }

// Writer writes records to a directory, one file per record, from one
// background goroutine so that the request path only enqueues.
//
// Files are named scim-<UTC request start as 20060102T150405.000000000Z>-
// <seq, 12 digits>.json, so names sort in request order, across restarts
// too. Each file is written under a temporary name and renamed, so a reader
// never sees half a record. Files are not fsynced: the request log is a
// diagnostic aid, and fsyncs would compete with the database's. A process
// crash loses nothing already written; a machine crash may lose the last
// records or leave them empty, which readers report and skip.
type Writer struct {
	dir       string
	queueSize int
	onError   func(error)

	mu     sync.RWMutex // guards closed against Write racing Close
	closed bool
	queue  chan Record
	done   chan struct{}

	errMu   sync.Mutex
	lastErr error
	dirMade bool // touched only by the writer goroutine
}

// NewWriter returns a Writer for dir. The directory is created (0750) on
// the first write, so a server whose logging stays off never creates it.
func NewWriter(dir string, opts ...Option) (*Writer, error) {
	if dir == "" {
		return nil, errors.New("request log: no directory given")
	}
	w := &Writer{dir: dir, queueSize: DefaultQueueSize}
	for _, o := range opts {
		o(w)
	}
	w.queue = make(chan Record, w.queueSize)
	w.done = make(chan struct{})
	go w.run()
	return w, nil
}

// Dir returns the directory the writer writes to.
func (w *Writer) Dir() string { return w.dir }

// Write enqueues a record. When the queue is full it blocks until there is
// room: records are never dropped silently. Authorization, Proxy-
// Authorization and cookie headers are redacted again here, so that no
// caller can put a credential in the log by mistake.
func (w *Writer) Write(r Record) {
	r.RequestHeaders = redactMap(r.RequestHeaders)
	r.ResponseHeaders = redactMap(r.ResponseHeaders)
	if r.RequestHeaders == nil {
		r.RequestHeaders = map[string][]string{}
	}
	if r.ResponseHeaders == nil {
		r.ResponseHeaders = map[string][]string{}
	}
	if r.Format == 0 {
		r.Format = FormatVersion
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.setErr(fmt.Errorf("request %s not logged: %w", r.RequestID, ErrClosed))
		return
	}
	w.queue <- r
}

// Close writes what is queued and stops the writer. It returns the last
// write error, if any. Close may be called more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
	return w.Err()
}

// Err returns the last write error, or nil.
func (w *Writer) Err() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.lastErr
}

func (w *Writer) setErr(err error) {
	w.errMu.Lock()
	w.lastErr = err
	w.errMu.Unlock()
	if w.onError != nil {
		w.onError(err)
	}
}

func (w *Writer) run() {
	defer close(w.done)
	for r := range w.queue {
		if err := w.writeFile(r); err != nil {
			w.setErr(err)
		}
	}
}

// FileName returns the file name of a record: its request start time in
// UTC and its sequence number, both fixed width.
func FileName(r Record) string {
	t, err := time.Parse(time.RFC3339Nano, r.Time)
	if err != nil {
		t = time.Now()
	}
	return fmt.Sprintf("scim-%s-%012d.json", t.UTC().Format(fileTimeLayout), r.Seq)
}

func (w *Writer) writeFile(r Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("request log: encode request %s: %w", r.RequestID, err)
	}
	b = append(b, '\n')
	if !w.dirMade {
		if err := os.MkdirAll(w.dir, 0o750); err != nil {
			return fmt.Errorf("request log: create directory: %w", err)
		}
		w.dirMade = true
	}
	name := FileName(r)
	// The temporary name starts with a dot and ends in .tmp, so a reader
	// listing scim-*.json never picks it up. The final name is unique
	// (time and sequence), so the temporary one is too; O_EXCL guards
	// against a second writer on the same directory. Creating it 0640
	// directly saves a chmod (umask can only remove bits).
	tmp := filepath.Join(w.dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		// The directory may have been removed under a running server:
		// make it again next time.
		w.dirMade = false
		return fmt.Errorf("request log: %w", err)
	}
	_, werr := f.Write(b)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(w.dir, name))
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("request log: write %s: %w", name, werr)
	}
	return nil
}
