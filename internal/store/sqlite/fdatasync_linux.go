package sqlite

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// slowSync is how long a sync may take before the next ones go through
// the blocking path; see fdatasync.
const slowSync = 2 * time.Millisecond

// diskSlow is set while syncs take longer than slowSync; one for the
// process (serve opens one store, and a stall is the disk's, not a file's).
var diskSlow atomic.Bool

// fdatasync flushes f's data (and the metadata needed to read it back) to
// the disk, as SQLite itself does on Linux.
//
// It is a raw system call: the goroutine keeps its P (the scheduler's
// processor) for the 0.2–0.4 ms the disk takes, instead of the runtime
// handing the P to another thread and the syncer queueing for one again
// when the call returns. Under serve's mixed load on two cores that
// hand-off and the wait after it cost more than the sync itself: with the
// raw call the load run's mixed throughput rose by about a tenth, and
// serve's CPU per request fell from about 155 to 130 µs
// (docs/performance.md). The price: while the call runs, the P does no
// other work, and a garbage collector's stop-the-world waits for it to
// return. So a sync that took longer than slowSync (a stalling disk)
// sends the following ones through the ordinary, P-releasing call until
// one is fast again: a stall holds up the rest of the process for one
// sync at most.
func fdatasync(f *os.File) error {
	if diskSlow.Load() {
		start := time.Now()
		err := blockingFdatasync(f)
		if time.Since(start) < slowSync {
			diskSlow.Store(false)
		}
		return err
	}
	start := time.Now()
	fd := f.Fd()
	for {
		_, _, errno := syscall.RawSyscall(syscall.SYS_FDATASYNC, fd, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if time.Since(start) >= slowSync {
			diskSlow.Store(true)
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}

func blockingFdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
