package reqlog

import (
	"bufio"
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

// WithReplica names the replica that writes the log (serve --replica):
// its segments carry the name, so that the logs of several replicas can
// share a directory, or be gathered into one, and be told apart; replay
// merges them by request time either way. Characters other than ASCII
// letters, digits, '.', '_' and '-' become '_'.
func WithReplica(name string) Option { return func(w *Writer) { w.replica = ReplicaName(name) } }

// ReplicaName is name as it appears in segment names: ASCII letters,
// digits, '.', '_' and '-' kept, anything else '_', at most 64 bytes.
func ReplicaName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// WithErrorHandler sets a function called, from the writer's goroutine,
// with each write error; the server logs them. Err returns the last one
// either way.
func WithErrorHandler(f func(error)) Option { return func(w *Writer) { w.onError = f } }

// Writer appends records to segment files in a directory, one JSON
// document per line (JSON Lines), from one background goroutine so that
// the request path only enqueues.
//
// Segments are named scim-<UTC start of their first request as
// 20060102T150405.000000000Z>-<its seq, 12 digits>.jsonl, or
// scim-<time>-<replica>-<seq>.jsonl when the writer has a replica name
// (WithReplica), so names sort in request order, across restarts too; a new segment starts at each start
// of the writer and when one reaches 64 MiB. One file per request would
// cost a file creation per request — under load the request log then
// costs a third of the server's throughput — where appending costs a
// buffered write. Writes are flushed within 10ms (sooner past 64 KiB), and
// not fsynced: the request log is a diagnostic aid, and fsyncs would compete
// with the database's. A process crash loses at most what was queued; a
// machine crash may leave a truncated last line, which readers report and
// skip.
type Writer struct {
	dir       string
	replica   string
	queueSize int
	onError   func(error)

	mu     sync.RWMutex // guards closed against Write racing Close
	closed bool
	queue  chan Record
	done   chan struct{}

	errMu   sync.Mutex
	lastErr error

	// The open segment; touched only by the writer goroutine.
	maxSegment int64
	seg        *os.File
	buf        *bufio.Writer
	segName    string
	segSize    int64
	line       []byte // the record being written, reused
}

// DefaultMaxSegmentBytes is the size at which a new segment file starts.
const DefaultMaxSegmentBytes = 64 << 20

// WithMaxSegmentBytes sets the size at which a new segment starts.
func WithMaxSegmentBytes(n int64) Option {
	return func(w *Writer) {
		if n > 0 {
			w.maxSegment = n
		}
	}
}

// NewWriter returns a Writer for dir. The directory is created (0750) on
// the first write, so a server whose logging stays off never creates it.
func NewWriter(dir string, opts ...Option) (*Writer, error) {
	if dir == "" {
		return nil, errors.New("request log: no directory given")
	}
	w := &Writer{dir: dir, queueSize: DefaultQueueSize, maxSegment: DefaultMaxSegmentBytes}
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

// flushDelay is how long a record may wait in the segment's buffer for
// others to share its write, and flushSize how much may wait at most.
const (
	flushDelay = 10 * time.Millisecond
	flushSize  = 64 << 10
)

func (w *Writer) run() {
	defer close(w.done)
	defer w.closeSegment()
	// Flush flushDelay after the first record that waits, or as soon as
	// flushSize waits: under load records are written in large blocks
	// (flushing whenever the queue ran empty cost a write syscall per
	// record at moderate load), and when traffic stops they are on disk
	// within milliseconds.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	flush := func() {
		if err := w.flush(); err != nil {
			w.setErr(err)
		}
	}
	for {
		select {
		case r, ok := <-w.queue:
			if !ok {
				timer.Stop()
				return
			}
			if err := w.append(r); err != nil {
				w.setErr(err)
			}
			switch {
			case w.buf != nil && w.buf.Buffered() >= flushSize:
				flush()
			case !armed:
				timer.Reset(flushDelay)
				armed = true
			}
		case <-timer.C:
			armed = false
			flush()
		}
	}
}

// SegmentName returns the name of the segment file that starts with r:
// its request start time in UTC and its sequence number, both fixed width,
// so that names sort in request order.
func SegmentName(r Record) string { return ReplicaSegmentName(r, "") }

// ReplicaSegmentName is SegmentName for the writer of a replica: the
// replica's name (see ReplicaName) between the time and the sequence
// number, so that names still sort in time order across replicas.
func ReplicaSegmentName(r Record, replica string) string {
	t, err := time.Parse(time.RFC3339Nano, r.Time)
	if err != nil {
		t = time.Now()
	}
	if replica != "" {
		return fmt.Sprintf("scim-%s-%s-%012d.jsonl", t.UTC().Format(fileTimeLayout), ReplicaName(replica), r.Seq)
	}
	return fmt.Sprintf("scim-%s-%012d.jsonl", t.UTC().Format(fileTimeLayout), r.Seq)
}

func (w *Writer) append(r Record) error {
	w.line = append(r.AppendJSON(w.line[:0]), '\n')
	b := w.line
	if w.seg == nil || w.segSize+int64(len(b)) > w.maxSegment {
		if err := w.openSegment(r); err != nil {
			return err
		}
	}
	if _, err := w.buf.Write(b); err != nil {
		w.closeSegment()
		return fmt.Errorf("request log: write %s: %w", w.segName, err)
	}
	w.segSize += int64(len(b))
	return nil
}

func (w *Writer) openSegment(first Record) error {
	w.closeSegment()
	if err := os.MkdirAll(w.dir, 0o750); err != nil {
		return fmt.Errorf("request log: create directory: %w", err)
	}
	name := ReplicaSegmentName(first, w.replica)
	// O_EXCL: the name is unique (time and sequence); a second writer on
	// the same directory must not interleave with this one.
	f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("request log: %w", err)
	}
	w.seg, w.segName, w.segSize = f, name, 0
	w.buf = bufio.NewWriterSize(f, 256<<10)
	return nil
}

func (w *Writer) flush() error {
	if w.buf == nil {
		return nil
	}
	if err := w.buf.Flush(); err != nil {
		// The directory may have been removed under a running server: the
		// next record opens a new segment.
		w.closeSegment()
		return fmt.Errorf("request log: write %s: %w", w.segName, err)
	}
	return nil
}

func (w *Writer) closeSegment() {
	if w.seg == nil {
		return
	}
	if err := w.buf.Flush(); err != nil {
		w.setErr(fmt.Errorf("request log: write %s: %w", w.segName, err))
	}
	if err := w.seg.Close(); err != nil {
		w.setErr(fmt.Errorf("request log: close %s: %w", w.segName, err))
	}
	w.seg, w.buf = nil, nil
}
