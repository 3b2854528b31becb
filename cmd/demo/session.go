package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// session runs miscim commands in the demo's directory and writes the
// transcript: each command as a user would type it there, then what the
// command printed.
type session struct {
	ctx context.Context
	bin string // the miscim binary, absolute
	dir string // the working directory of every command
	out io.Writer
	env []string
}

func newSession(ctx context.Context, bin, dir string, out io.Writer) *session {
	s := &session{ctx: ctx, bin: bin, dir: dir, out: out}
	// The commands see none of the caller's miscim settings, and their
	// default files (config, data, state) live in the demo's directory, so
	// the demo reads and leaves nothing in the user's home.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MISCIM_") && !strings.HasPrefix(kv, "XDG_") {
			s.env = append(s.env, kv)
		}
	}
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"} {
		s.env = append(s.env, v+"="+filepath.Join(dir, ".xdg", strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(v, "XDG_"), "_HOME"))))
	}
	return s
}

func (s *session) printf(format string, args ...any) { fmt.Fprintf(s.out, format, args...) }

// heading starts a part of the demo.
func (s *session) heading(title string) { s.printf("\n== %s\n", title) }

// explain prints what Entra would do at this step and what to notice.
func (s *session) explain(text string) { s.printf("\n# %s\n", text) }

// shown prints a command line the demo ran or did by other means.
func (s *session) shown(line string) { s.printf("$ %s\n", line) }

// setenv exports a variable to the commands that follow, and shows it.
func (s *session) setenv(pairs ...string) {
	var shown []string
	for i := 0; i+1 < len(pairs); i += 2 {
		s.env = append(s.env, pairs[i]+"="+pairs[i+1])
		shown = append(shown, pairs[i]+"="+shellQuote(pairs[i+1]))
	}
	s.shown("export " + strings.Join(shown, " "))
}

// step is one miscim command of the demo.
type step struct {
	args []string
	to   string // a file in the directory that takes the command's stdout instead of the transcript
}

// run runs a step: its command line, then its output; any exit code but 0
// fails the demo. The command's
// stdout goes straight to the transcript — when that is a terminal, the
// command sees one and draws its tables for it — and its stderr, read
// through a pipe, is printed after it, so the transcript is the same from
// one run to the next; a pipe also keeps simulate's live lines and
// progress bar, meant for someone watching, out of it.
func (s *session) run(st step) error {
	line := "miscim " + joinArgs(st.args)
	if st.to != "" {
		line += " > " + st.to
	}
	s.shown(line)
	cmd := s.command(st.args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = s.out, &stderr
	if st.to != "" {
		f, err := os.OpenFile(filepath.Join(s.dir, st.to), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	err := cmd.Run()
	if stderr.Len() > 0 {
		s.printf("%s", stderr.Bytes())
	}
	if s.ctx.Err() != nil {
		return s.ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%s: exit code %d, the demo expects 0", line, exit.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	return nil
}

func (s *session) command(args ...string) *exec.Cmd {
	cmd := exec.CommandContext(s.ctx, s.bin, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	// Ctrl-C: let the command stop as it would at a prompt.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// server is a `miscim serve` running in the background.
type server struct {
	cmd     *exec.Cmd
	stderr  *lockedBuffer
	done    chan error
	shown   int // how much of stderr the transcript has shown
	stopped bool
	stopErr error
}

// serve starts `miscim serve` and waits until it listens; it returns the
// SCIM base URL it wrote to its ready file.
func (s *session) serve(args ...string) (*server, string, error) {
	s.shown("miscim " + joinArgs(args) + " &")
	cmd := s.command(args...)
	cmd.Cancel = nil // stopped by stop, not by the context
	srv := &server{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = srv.stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	go func() { srv.done <- cmd.Wait() }()
	ready := filepath.Join(s.dir, "ready")
	deadline := time.After(30 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			s.flush(srv)
			return srv, strings.TrimSpace(string(b)), nil
		}
		select {
		case err := <-srv.done:
			srv.done <- err
			s.flush(srv)
			return srv, "", fmt.Errorf("miscim serve stopped before listening: %v", err)
		case <-deadline:
			s.flush(srv)
			return srv, "", errors.New("miscim serve did not write its ready file within 30s")
		case <-s.ctx.Done():
			return srv, "", s.ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// flush prints what serve wrote on stderr since the last flush.
func (s *session) flush(srv *server) {
	b := srv.stderr.Bytes()
	s.printf("%s", b[srv.shown:])
	srv.shown = len(b)
}

// stop shuts serve down as Ctrl-C does and waits for it; it is killed if
// it has not stopped within 10 seconds, so nothing is left running. A
// second call returns the first one's result.
func (srv *server) stop() error {
	if srv == nil || srv.stopped {
		return srv.result()
	}
	srv.stopped = true
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-srv.done:
		if err != nil {
			srv.stopErr = fmt.Errorf("miscim serve: %w: %s", err, srv.stderr.Bytes())
		}
	case <-time.After(10 * time.Second):
		_ = srv.cmd.Process.Kill()
		<-srv.done
		srv.stopErr = errors.New("miscim serve did not stop within 10s of SIGINT: killed")
	}
	return srv.stopErr
}

func (srv *server) result() error {
	if srv == nil {
		return nil
	}
	return srv.stopErr
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(w string) string {
	if plainWord.MatchString(w) {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

func joinArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
