// Package serve implements `miscim serve`: the embedded engine over HTTP —
// SCIM under /scim/v2, the admin API under /api, /healthz and /metrics.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/build"
	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/reqlog"
	"github.com/miscim/miscim/internal/server"
	"github.com/miscim/miscim/internal/store/postgres"
	"github.com/miscim/miscim/internal/store/sqlite"
	"github.com/miscim/miscim/internal/target"
)

// Options are the inputs of serveRun.
type Options struct {
	IO             *iostreams.IOStreams
	Addr           string
	TLSCert        string
	TLSKey         string
	ReadyFile      string
	LogDir         string
	AdminToken     string
	DB             string
	Sync           string
	Replica        string
	Quiet          bool
	MaxBodyBytes   int64
	ShutdownWindow time.Duration
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) on this
	// loopback address; cmd/loadgen profiles serve under load with it.
	PprofAddr string
}

// NewCmdServe returns the serve command.
func NewCmdServe(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO, ShutdownWindow: 30 * time.Second}
	var adminTokenFile string
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080] [--tls-cert F --tls-key F] [--ready-file F] [--log-dir DIR]",
		Short: "Serve the embedded engine over HTTP",
		Long: `Serve the embedded SCIM engine over HTTP: SCIM 2.0 under /scim/v2 (what
Entra's Tenant URL points to), the admin API under /api, /healthz and
/metrics (Prometheus).

SCIM requests need the API token of an Admin user (miscim tokens create).
--admin-token-file (or MISCIM_ADMIN_TOKEN) also accepts one static token as
the built-in administrator, with no user behind it: for CI and test
harnesses that need an empty store.

Once listening, serve prints the base URL on stderr and, with --ready-file,
writes the SCIM base URL (http://127.0.0.1:PORT/scim/v2) to that file; port
0 picks a free port. SIGINT or SIGTERM stops it gracefully: requests in
flight finish and the database is closed cleanly.

With ENABLE_SCIM_REQUEST_LOGGER=Y every SCIM request is written to --log-dir
(default /opt/mi/web/backend/data/temp/scim when writable, else
$XDG_STATE_HOME/miscim/scim-log), in files named after the replica
(--replica, default HOST-PORT).

--db (or MISCIM_DB) is a SQLite file, or a postgres:// (postgresql://) URL:
several serve replicas on one PostgreSQL database behind a load balancer act
as one endpoint (docs/deploy.md). /healthz answers 503 with the reason while
the database is away, and SCIM requests 503 with Retry-After; the replica
reconnects by itself.`,
		Example: `  miscim serve --addr 127.0.0.1:8080
  miscim serve --addr 127.0.0.1:0 --ready-file /tmp/url --admin-token-file /tmp/token &
  miscim serve --addr :8443 --tls-cert cert.pem --tls-key key.pem
  miscim serve --addr :8080 --db 'postgres://miscim@db.example.com/miscim?sslmode=verify-full' --replica web1`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if cfg.URL != "" {
				return cmdutil.FlagErrorf("serve runs the embedded engine; drop --url (or MISCIM_URL) and choose the database with --db")
			}
			opts.DB = cfg.DB
			if (opts.TLSCert == "") != (opts.TLSKey == "") {
				return cmdutil.FlagErrorf("--tls-cert and --tls-key go together")
			}
			if err := cmdutil.CheckEnum("sync", opts.Sync, []string{"full", "normal"}); err != nil {
				return err
			}
			if postgres.IsURL(opts.DB) && cmd.Flags().Changed("sync") {
				return cmdutil.FlagErrorf("--sync is SQLite's synchronous mode; on PostgreSQL a commit is as durable as the server's synchronous_commit makes it (docs/storage.md): drop --sync")
			}
			if opts.Replica == "" {
				opts.Replica = f.Env.Getenv("MISCIM_REPLICA")
			}
			if opts.Replica != "" && reqlog.ReplicaName(opts.Replica) != opts.Replica {
				return cmdutil.FlagErrorf("--replica %q: use ASCII letters, digits, '.', '_' and '-' (at most 64), it names the replica's request-log files", opts.Replica)
			}
			switch {
			case adminTokenFile != "":
				b, err := os.ReadFile(adminTokenFile)
				if err != nil {
					return &cmdutil.InputError{Err: fmt.Errorf("read --admin-token-file: %w", err)}
				}
				opts.AdminToken = strings.TrimSpace(string(b))
				if opts.AdminToken == "" {
					return &cmdutil.InputError{Err: fmt.Errorf("--admin-token-file %s is empty", adminTokenFile)}
				}
			case f.Env.Getenv("MISCIM_ADMIN_TOKEN") != "":
				opts.AdminToken = strings.TrimSpace(f.Env.Getenv("MISCIM_ADMIN_TOKEN"))
			}
			if opts.LogDir == "" {
				opts.LogDir = target.DefaultLogDir()
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address to listen on; port 0 picks a free port")
	fl.StringVar(&opts.TLSCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
	fl.StringVar(&opts.TLSKey, "tls-key", "", "PEM private key file for --tls-cert")
	fl.StringVar(&opts.ReadyFile, "ready-file", "", "write the SCIM base URL to this file once listening")
	fl.StringVar(&opts.LogDir, "log-dir", "", "request-log directory (used while ENABLE_SCIM_REQUEST_LOGGER=Y)")
	fl.StringVar(&adminTokenFile, "admin-token-file", "", "file holding a static bearer token accepted as the built-in administrator (env MISCIM_ADMIN_TOKEN)")
	fl.StringVar(&opts.Sync, "sync", "full", "SQLite synchronous mode: full (survives power loss) or normal (survives a crash, faster)")
	fl.StringVar(&opts.Replica, "replica", "", "name of this replica, in its request-log file names, access log and /healthz (env MISCIM_REPLICA; default HOST-PORT)")
	fl.BoolVar(&opts.Quiet, "quiet", false, "no access log on stderr")
	fl.Int64Var(&opts.MaxBodyBytes, "max-body", 1<<20, "largest request body in bytes (larger: 413)")
	fl.StringVar(&opts.PprofAddr, "pprof-addr", "", "serve Go's profiler on this loopback address (for performance work; docs/performance.md)")
	_ = fl.MarkHidden("pprof-addr")
	_ = cmd.MarkFlagFilename("tls-cert", "pem", "crt")
	_ = cmd.MarkFlagFilename("tls-key", "pem", "key")
	_ = cmd.MarkFlagFilename("admin-token-file")
	_ = cmd.MarkFlagDirname("log-dir")
	cmdutil.EnumFlag(cmd, "sync", []string{"full", "normal"})
	return cmd
}

// serveGCPercent is the garbage collector's target for a serving process
// when GOGC does not set one: a request leaves 6–8 KB of garbage and the
// heap is small (a peak resident set of 38 MB under the load run), so at
// Go's default of 100 the collector runs many times a second. At 400,
// serve's CPU per mixed request fell by about 5% in a paired run (within
// the noise in another) and the peak resident set rose to 54 MB
// (docs/performance.md).
const serveGCPercent = 400

func serveRun(ctx context.Context, opts *Options) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	sync := sqlite.SyncFull
	if strings.EqualFold(opts.Sync, "normal") {
		sync = sqlite.SyncNormal
	}
	// For SQLite the start-up line reports the synchronous mode in force,
	// read back from SQLite: a durability test can check what it ran
	// under.
	st, info, err := target.OpenStore(ctx, opts.DB, sync)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return &cmdutil.InputError{Err: fmt.Errorf("listen on %s: %w", opts.Addr, err),
			Hints: []string{"choose another --addr, or port 0 for a free one"}}
	}
	replica := opts.Replica
	if replica == "" {
		replica = defaultReplica(ln.Addr())
	}

	// Quiet discards in the handler, which says it is disabled, so that no
	// record is formatted only to be thrown away (a few per cent of the
	// CPU under load).
	var handler slog.Handler = slog.DiscardHandler
	if !opts.Quiet {
		handler = slog.NewTextHandler(opts.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo})
	}
	logger := slog.New(handler).With("replica", replica)
	e := engine.New(st)
	srv := server.New(e, server.Options{
		AdminToken:   opts.AdminToken,
		LogDir:       opts.LogDir,
		Logger:       logger,
		MaxBodyBytes: opts.MaxBodyBytes,
		Version:      build.Get().Version,
		Replica:      replica,
	})
	defer srv.Close()

	if opts.PprofAddr != "" {
		_, stop, err := servePprof(opts.PprofAddr)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}

	scheme := "http"
	if opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			ln.Close()
			return &cmdutil.InputError{Err: fmt.Errorf("load --tls-cert/--tls-key: %w", err)}
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s/scim/v2", scheme, displayAddr(ln.Addr()))

	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	fmt.Fprintf(opts.IO.ErrOut, "miscim serve: listening on %s as replica %s (database %s)\n", base, replica, info)
	if opts.ReadyFile != "" {
		if err := writeAtomic(opts.ReadyFile, base+"\n"); err != nil {
			_ = hs.Close()
			return &cmdutil.InputError{Err: fmt.Errorf("write --ready-file: %w", err)}
		}
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(opts.IO.ErrOut, "miscim serve: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), opts.ShutdownWindow)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if opts.ReadyFile != "" {
		_ = os.Remove(opts.ReadyFile)
	}
	return nil
}

// servePprof serves net/http/pprof on addr, which must be a loopback
// address: profiles show the process's internals and nothing guards them.
func servePprof(addr string) (bound string, stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return "", nil, &cmdutil.InputError{Err: fmt.Errorf("--pprof-addr %q must be a loopback address such as 127.0.0.1:6060", addr)}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, &cmdutil.InputError{Err: fmt.Errorf("listen on --pprof-addr %s: %w", addr, err)}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return ln.Addr().String(), func() { _ = hs.Close() }, nil
}

// defaultReplica names a replica after its host and port: unique among
// replicas that share a host, stable across restarts on the same port.
func defaultReplica(a net.Addr) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "miscim"
	}
	port := "0"
	if tcp, ok := a.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
	}
	return reqlog.ReplicaName(host + "-" + port)
}

// displayAddr turns a listener address into host:port a client can dial
// (an unspecified address becomes 127.0.0.1).
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

func writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
