package main

import (
	"os"
	"sync"
	"syscall"
)

// journal is the durable baseline's persistence: an append-only file in
// which every write is one record, fdatasynced before the write is
// answered. Concurrent writers share syncs (group commit) the way a well
// built durable server does, with no timer and no batch size: a writer
// whose record is not yet durable either starts the next sync itself, when
// none is running, or waits for the one running to finish; records that
// arrive during a sync all go to disk with the next one.
type journal struct {
	f  *os.File
	fd int

	mu      sync.Mutex
	cond    *sync.Cond
	buf     []byte // records appended since the last sync started
	spare   []byte // the buffer the running sync wrote, reused
	seq     uint64 // records appended
	synced  uint64 // records durable
	syncing bool
	err     error // the last sync's failure, sticky: nothing after it is durable
	syncs   uint64
}

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	j := &journal{f: f, fd: int(f.Fd())}
	j.cond = sync.NewCond(&j.mu)
	return j, nil
}

// add queues rec and returns its ticket for wait. The caller may hold its
// own lock while adding, so that the journal's order is the order in which
// the changes were applied.
func (j *journal) add(rec []byte) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, rec...)
	j.seq++
	return j.seq
}

// wait returns once the record with ticket t is on disk.
func (j *journal) wait(t uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.synced < t && j.err == nil {
		if j.syncing {
			j.cond.Wait()
			continue
		}
		// Lead the next sync: take everything queued so far.
		j.syncing = true
		buf, upto := j.buf, j.seq
		j.buf = j.spare[:0]
		j.mu.Unlock()
		_, err := j.f.Write(buf)
		if err == nil {
			err = syscall.Fdatasync(j.fd)
		}
		j.mu.Lock()
		j.spare = buf
		j.syncing = false
		j.syncs++
		if err != nil {
			j.err = err
		} else {
			j.synced = upto
		}
		j.cond.Broadcast()
	}
	return j.err
}

// stats returns how many records and syncs the journal has made durable.
func (j *journal) stats() (records, syncs uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.synced, j.syncs
}

func (j *journal) close() error { return j.f.Close() }
