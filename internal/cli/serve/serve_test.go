package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/testkit"
)

func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	c := testkit.SelfSignedCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeTLSAndGracefulShutdown serves HTTPS on a free port, answers a
// SCIM request, and on cancellation (what SIGINT/SIGTERM do) returns nil,
// removes the ready file and leaves a database that opens cleanly.
func TestServeTLSAndGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	ios, _, _, errOut := iostreams.Test()
	opts := &Options{IO: ios, Addr: "127.0.0.1:0", TLSCert: cert, TLSKey: key, ReadyFile: filepath.Join(dir, "ready"),
		LogDir: filepath.Join(dir, "log"), AdminToken: "static", DB: filepath.Join(dir, "db"), Sync: "full",
		MaxBodyBytes: 1 << 20, ShutdownWindow: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveRun(ctx, opts) }()

	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if b, err := os.ReadFile(opts.ReadyFile); err == nil && len(b) > 0 {
			base = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatalf("not ready: %s", errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(base, "https://127.0.0.1:") || !strings.HasSuffix(base, "/scim/v2") {
		t.Fatalf("ready file holds %q", base)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest("GET", base+"/Users?filter=userName+eq+%22x%22", nil)
	req.Header.Set("Authorization", "Bearer static")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("status %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("graceful shutdown returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := os.Stat(opts.ReadyFile); !os.IsNotExist(err) {
		t.Errorf("ready file left behind: %v", err)
	}
	st, err := sqlite.Open(context.Background(), opts.DB, sqlite.Options{})
	if err != nil {
		t.Fatalf("database does not reopen: %v", err)
	}
	st.Close()
	if !strings.Contains(errOut.String(), "listening on https://127.0.0.1:") || !strings.Contains(errOut.String(), "shutting down") {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestNewCmdServeRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args, env, db, want string
	}{
		{args: "--tls-cert c.pem", want: "--tls-cert and --tls-key go together"},
		{args: "--sync fast", want: `invalid value "fast" for --sync`},
		{env: "https://mi.example.com/scim/v2", want: "serve runs the embedded engine"},
		{args: "--sync normal", db: "postgres://miscim@127.0.0.1/miscim", want: "--sync is SQLite's synchronous mode"},
		{args: "--sync full", db: "POSTGRESQL://miscim@127.0.0.1/miscim", want: "--sync is SQLite's synchronous mode"},
		{args: "--replica web/1", want: `--replica "web/1": use ASCII letters`},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		flags := &config.Flags{}
		env := config.Env{Getenv: func(k string) string {
			switch k {
			case config.EnvURL:
				return tt.env
			case config.EnvDB:
				return tt.db
			}
			return ""
		}, ReadFile: os.ReadFile, HomeDir: t.TempDir()}
		f := &cmdutil.Factory{IO: ios, Env: env, Flags: flags, Config: func() (config.Resolved, error) { return config.Resolve(*flags, env) }}
		cmd := NewCmdServe(f, func(context.Context, *Options) error { return nil })
		cmd.SetArgs(strings.Fields(tt.args))
		err := cmd.Execute()
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: want flag error %q, got %v", tt.args, tt.want, err)
		}
	}
}

// TestServeReportsTheSynchronousModeInForce: --sync decides SQLite's
// synchronous mode, and serve reports the mode read back from SQLite, so
// that a durability test can check what it runs under (a kill -9 cannot
// tell FULL from NORMAL: docs/storage.md).
func TestServeReportsTheSynchronousModeInForce(t *testing.T) {
	for _, tt := range []struct{ flag, want string }{
		{"full", "synchronous=FULL"},
		{"normal", "synchronous=NORMAL"},
		{"NORMAL", "synchronous=NORMAL"},
	} {
		t.Run(tt.flag, func(t *testing.T) {
			dir := t.TempDir()
			ios, _, _, errOut := iostreams.Test()
			opts := &Options{IO: ios, Addr: "127.0.0.1:0", ReadyFile: filepath.Join(dir, "ready"), LogDir: filepath.Join(dir, "log"),
				AdminToken: "static", DB: filepath.Join(dir, "db"), Sync: tt.flag, MaxBodyBytes: 1 << 20, ShutdownWindow: 5 * time.Second}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- serveRun(ctx, opts) }()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if b, err := os.ReadFile(opts.ReadyFile); err == nil && len(b) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not ready: %s", errOut)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(errOut.String(), "listening on http://127.0.0.1:") || !strings.Contains(errOut.String(), tt.want+")") {
				t.Errorf("--sync %s: stderr %q does not report %s", tt.flag, errOut, tt.want)
			}
		})
	}
}

// TestPprofAddr: --pprof-addr serves Go's profiler on a loopback address
// and refuses any other, since nothing guards it.
func TestPprofAddr(t *testing.T) {
	for _, addr := range []string{":6060", "0.0.0.0:6060", "192.0.2.1:6060", "localhost"} {
		if _, _, err := servePprof(addr); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("servePprof(%q) = %v, want a loopback error", addr, err)
		}
	}
	addr, stop, err := servePprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/allocs?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "heap profile") {
		t.Fatalf("GET /debug/pprof/allocs: %d %.200s", resp.StatusCode, b)
	}
}
