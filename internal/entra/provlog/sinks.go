package provlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Flusher is a sink that buffers: Flush returns once every record added
// before it is written (the Store).
type Flusher interface {
	Flush(ctx context.Context) error
}

// Multi is a sink that hands every record to each of its sinks in turn:
// the store, a --log-file, the live line, the summary. Flush and Close
// reach the sinks that have them.
type Multi []Sink

// NewMulti fans records out to sinks; nil sinks are left out, so that a
// caller can pass an optional one as it is.
func NewMulti(sinks ...Sink) Multi {
	m := make(Multi, 0, len(sinks))
	for _, s := range sinks {
		if s != nil {
			m = append(m, s)
		}
	}
	return m
}

// Add gives r to every sink, even when one fails, and returns their
// errors joined: a sink that fails stops the cycle, and the others still
// hold the record that made it stop.
func (m Multi) Add(ctx context.Context, r Record) error {
	var errs []error
	for _, s := range m {
		if err := s.Add(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Flush flushes every sink that is a Flusher.
func (m Multi) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range m {
		if f, ok := s.(Flusher); ok {
			if err := f.Flush(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Close closes every sink that is an io.Closer, in order.
func (m Multi) Close() error {
	var errs []error
	for _, s := range m {
		if c, ok := s.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// JSONLWriter is the JSON Lines sink of `simulate --log-file`: one record
// per line, in Graph's shape (MarshalJSON), written as it comes. Each line
// reaches the writer in one Write call, so that a run stopped at any point
// — Ctrl-C, kill -9 — leaves whole lines only (a line is written by one
// write(2) on a file; see CreateJSONL for a write that fails half-way).
// Safe for concurrent use.
type JSONLWriter struct {
	mu   sync.Mutex
	w    io.Writer
	err  error
	file *os.File // the file CreateJSONL opened, closed by Close
	size int64    // bytes of whole lines in file
}

// NewJSONLWriter writes records to w, which stays the caller's.
func NewJSONLWriter(w io.Writer) *JSONLWriter { return &JSONLWriter{w: w} }

// CreateJSONL creates (or truncates) the file at path for JSON Lines; the
// writer owns it, and Close syncs and closes it. Should a write fail
// half-way (a full disk), the file is cut back to its last whole line.
func CreateJSONL(path string) (*JSONLWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create the provisioning-log file: %w", err)
	}
	return &JSONLWriter{w: f, file: f}, nil
}

// Add writes r as one line.
func (j *JSONLWriter) Add(_ context.Context, r Record) error {
	line := append(appendRecord(make([]byte, 0, sizeHint(&r)+1), &r), '\n') // outside the lock
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	n, err := j.w.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if j.file != nil && n > 0 {
			_ = j.file.Truncate(j.size)
			_, _ = j.file.Seek(j.size, io.SeekStart)
		}
		j.err = fmt.Errorf("write the provisioning-log file: %w", err)
		return j.err
	}
	j.size += int64(n)
	return nil
}

// Close syncs and closes the file CreateJSONL opened; for a writer of
// NewJSONLWriter it does nothing. Adds after Close fail.
func (j *JSONLWriter) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.file == nil {
		if j.err == nil {
			j.err = errClosed
		}
		return nil
	}
	err := j.file.Sync()
	if cerr := j.file.Close(); err == nil {
		err = cerr
	}
	j.file = nil
	if j.err == nil {
		j.err = errClosed
	}
	if err != nil {
		return fmt.Errorf("close the provisioning-log file: %w", err)
	}
	return nil
}
