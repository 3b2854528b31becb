package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/miscim/miscim/internal/app"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/entra/simstate"
)

var update = flag.Bool("update", false, "rewrite the expected output in the scripts")

// TestMain lets the test binary run as the miscim command inside scripts,
// so they exercise the real entry point, exit codes included.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"miscim": func() { os.Exit(app.Main(os.Args[1:])) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script against the
// real binary: the embedded engine and a background `miscim serve`.
func TestScripts(t *testing.T) {
	// $EXAMPLES is docs/examples: the bundled sample tenant in its three
	// formats and the example mappings.
	examples, err := filepath.Abs(filepath.Join("..", "..", "docs", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			work := env.WorkDir
			env.Setenv("HOME", work)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(work, ".config"))
			env.Setenv("XDG_DATA_HOME", filepath.Join(work, ".local", "share"))
			env.Setenv("XDG_STATE_HOME", filepath.Join(work, ".local", "state"))
			env.Setenv("NO_COLOR", "1")
			env.Setenv("MISCIM_DB", filepath.Join(work, "miscim.db"))
			env.Setenv("EXAMPLES", examples)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
			"waitfile": cmdWaitfile,
			"http":     cmdHTTP,
			"sleep":    cmdSleep,
			"rawpost":  cmdRawPost,
			"seedlogs": cmdSeedLogs,
		},
	})
}

// exitcode N command [args...] runs a program and checks its exit code
// (testscript's `! exec` only checks that it is not zero).
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// waitfile FILE [ENVVAR] waits up to 20s for FILE to exist and be
// non-empty (serve's --ready-file), then stores its first line in ENVVAR
// and that URL's scheme://host in ENVVAR_ROOT.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfile FILE [ENVVAR]")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			if len(args) == 2 {
				line := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
				ts.Setenv(args[1], line)
				if u, err := url.Parse(line); err == nil {
					ts.Setenv(args[1]+"_ROOT", u.Scheme+"://"+u.Host)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile: %s did not appear within 20s", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sleep DURATION waits, for changes that apply within a bound (a variable
// set by another process applies within one second).
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		ts.Fatalf("sleep: %v", err)
	}
	time.Sleep(d)
}

// http METHOD URL [BODYFILE] sends a request with the bearer token in $TOKEN
// (none when empty; "@FILE" reads it from FILE) and prints "STATUS" then the
// body on stdout, and the response headers on stderr. When the answer is a
// JSON object with an "id", $ID holds it afterwards.
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: http METHOD URL [BODYFILE]")
	}
	var body io.Reader
	if len(args) == 3 {
		body = strings.NewReader(ts.ReadFile(args[2]))
	}
	req, err := http.NewRequest(args[0], args[1], body)
	if err != nil {
		ts.Fatalf("http: %v", err)
	}
	tok := ts.Getenv("TOKEN")
	if strings.HasPrefix(tok, "@") {
		tok = strings.TrimSpace(ts.ReadFile(tok[1:]))
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.Fatalf("http: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(ts.Stdout(), "%d\n%s\n", resp.StatusCode, b)
	var withID struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &withID) == nil && withID.ID != "" {
		ts.Setenv("ID", withID.ID)
	}
	for k, v := range resp.Header {
		fmt.Fprintf(ts.Stderr(), "%s: %s\n", k, strings.Join(v, ", "))
	}
}

// rawpost URL SIZE [chunked] writes a whole POST of a create-user body of
// exactly SIZE bytes over one TCP connection — headers, then every byte of
// the body — before it reads a byte of the answer, as curl --data @file
// and Python's urllib do; with chunked, without Content-Length. It prints
// "STATUS" then the body on stdout, and "closed cleanly" on stderr when the
// server then ended the connection with a FIN rather than a reset. The
// bearer token is $TOKEN.
func cmdRawPost(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 || (len(args) == 3 && args[2] != "chunked") {
		ts.Fatalf("usage: rawpost URL SIZE [chunked]")
	}
	u, err := url.Parse(args[0])
	if err != nil {
		ts.Fatalf("rawpost: %v", err)
	}
	size, err := strconv.Atoi(args[1])
	head := `{"userName":"big@example.com","emails":[{"value":"big@example.com"}],"pad":"`
	if err != nil || size < len(head)+2 {
		ts.Fatalf("rawpost: SIZE must be a number of bytes, at least %d", len(head)+2)
	}
	body := head + strings.Repeat("x", size-len(head)-2) + `"}`
	chunked := len(args) == 3

	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		ts.Fatalf("rawpost: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	w := bufio.NewWriterSize(conn, 64<<10)
	fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\n", u.RequestURI(), u.Host, ts.Getenv("TOKEN"))
	if chunked {
		fmt.Fprintf(w, "Transfer-Encoding: chunked\r\n\r\n")
		for i := 0; i < len(body); i += 32 << 10 {
			c := body[i:min(i+32<<10, len(body))]
			fmt.Fprintf(w, "%x\r\n%s\r\n", len(c), c)
		}
		fmt.Fprintf(w, "0\r\n\r\n")
	} else {
		fmt.Fprintf(w, "Content-Length: %d\r\n\r\n%s", len(body), body)
	}
	if err := w.Flush(); err != nil {
		ts.Fatalf("rawpost: writing the request: %v", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		ts.Fatalf("rawpost: reading the answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.Fatalf("rawpost: reading the answer: %v", err)
	}
	fmt.Fprintf(ts.Stdout(), "%d\n%s\n", resp.StatusCode, b)
	if resp.Close {
		if _, err := br.ReadByte(); errors.Is(err, io.EOF) {
			fmt.Fprintln(ts.Stderr(), "closed cleanly")
		} else {
			fmt.Fprintf(ts.Stderr(), "after the answer: %v\n", err)
		}
	}
}

// seedlogs STATE FILE stores the provisioning-log records of a JSON Lines
// FILE in the simulator state file STATE through provlog.Store, as
// simulate does, for the scripts of `miscim logs`.
func cmdSeedLogs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: seedlogs STATE FILE")
	}
	ctx := context.Background()
	db, err := simstate.Open(ctx, ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("seedlogs: %v", err)
	}
	defer db.Close()
	s, err := provlog.NewStore(db)
	if err != nil {
		ts.Fatalf("seedlogs: %v", err)
	}
	for i, line := range strings.Split(strings.TrimSpace(ts.ReadFile(args[1])), "\n") {
		r, err := provlog.DecodeRecord([]byte(line))
		if err != nil {
			ts.Fatalf("seedlogs: line %d: %v", i+1, err)
		}
		if err := s.Add(ctx, r); err != nil {
			ts.Fatalf("seedlogs: line %d: %v", i+1, err)
		}
	}
	if err := s.Close(); err != nil {
		ts.Fatalf("seedlogs: %v", err)
	}
}
