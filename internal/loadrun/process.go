package loadrun

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Process is a server started by Start.
type Process struct {
	// URL is what the server wrote to its ready file: where it listens.
	URL  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// Start runs bin with args and --ready-file FILE (in dir, named after
// name), with env as its environment, and waits up to 30 s for the server
// to write where it listens there. A server that exits or does not become
// ready is an error with what it wrote to stderr.
func Start(dir, name string, env []string, bin string, args ...string) (*Process, error) {
	ready := filepath.Join(dir, name+".ready")
	cmd := exec.Command(bin, append(args, "--ready-file", ready)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			p.URL = strings.TrimSpace(string(b))
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s did not become ready: %s", name, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.Stop()
	return nil, fmt.Errorf("%s did not become ready: %s", name, stderr.String())
}

// PID is the server's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop interrupts the server, as Ctrl-C would, and waits for it to exit.
func (p *Process) Stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	<-p.done
}

// CPU is the user and system CPU time the server has used so far.
func (p *Process) CPU() time.Duration { return ProcessCPU(p.PID()) }

// ProcessCPU returns the user and system CPU time a process has used, from
// /proc (Linux; clock ticks of 10ms), or -1 when it cannot tell.
func ProcessCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// Env is the environment of a benchmarked miscim process working in dir:
// the caller's, without its MISCIM_* variables and with HOME and the XDG
// directories in dir, so that the user's own configuration, profiles and
// state stay out of the runs; NO_COLOR for plain output.
func Env(dir string) []string {
	env := []string{"NO_COLOR=1", "XDG_CONFIG_HOME=" + dir, "XDG_STATE_HOME=" + dir, "XDG_DATA_HOME=" + dir, "HOME=" + dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MISCIM_") && !strings.HasPrefix(kv, "XDG_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return env
}

// LoadAverage is the machine's 1, 5 and 15 minute load averages
// (/proc/loadavg), printed with each benchmark's numbers: on a shared
// 2-core machine they say how far to trust them. "unknown" elsewhere.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
