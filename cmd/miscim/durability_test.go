package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver"

	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/sqlite"
)

// TestKill9LosesNoAcknowledgedWrite kills `miscim serve` with SIGKILL while
// clients create users, then checks that every user whose creation was
// acknowledged (201) is in the database, and that the database passes
// SQLite's integrity check (DESIGN §9).
//
// What it proves, and what not (docs/storage.md): a process kill leaves the
// kernel's page cache in place, so this test passes with synchronous=NORMAL
// as well as FULL; it proves that an acknowledged write was committed
// before the answer and that the WAL recovers, not that the commit reached
// the disk. That part rests on the synchronous mode, which serve reports as
// read back from SQLite and which this test checks is FULL, the default.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "miscim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "miscim.db")
	ready := filepath.Join(dir, "ready")
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("kill-test-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--ready-file", ready,
		"--admin-token-file", filepath.Join(dir, "token"), "--quiet", "--log-dir", filepath.Join(dir, "log"))
	srv.Env = append(os.Environ(), "NO_COLOR=1")
	stderr := &lockedBuffer{}
	srv.Stderr = stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && len(b) > 0 {
			base = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatalf("serve not ready: %s", stderr.String())
		}
	}

	// The start-up line is written before the ready file; the copy of the
	// child's stderr may lag behind a little.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stderr.String(), "listening on"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up line on stderr: %s", stderr.String())
		}
	}
	if !strings.Contains(stderr.String(), "synchronous=FULL)") {
		t.Fatalf("serve does not report synchronous=FULL, the default this test is about: %s", stderr.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for c := 0; c < 6; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("k%d-%d@example.com", c, i)
				body := `{"userName":"` + name + `","emails":[{"value":"` + name + `","type":"work"}]}`
				req, _ := http.NewRequest("POST", base+"/Users", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer kill-test-token")
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := hc.Do(req)
				if err != nil {
					return // the server is gone
				}
				var u struct {
					ID string `json:"id"`
				}
				err = json.NewDecoder(resp.Body).Decode(&u)
				resp.Body.Close()
				if resp.StatusCode == 201 && err == nil {
					mu.Lock()
					acked = append(acked, u.ID)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	cancel()
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d creations acknowledged before the kill; the test proves nothing", len(acked))
	}

	raw, err := sql.Open("sqlite3", sqlite.FileURI(db, nil))
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	raw.Close()
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatalf("database does not open after kill -9: %v", err)
	}
	defer st.Close()
	missing := 0
	err = st.View(context.Background(), func(tx store.Tx) error {
		for _, id := range acked {
			_, err := tx.User(id)
			if errors.Is(err, store.ErrNotFound) {
				missing++
			} else if err != nil {
				return fmt.Errorf("read user %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the acknowledged users back failed, so nothing is proven: %v", err)
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged creations lost after kill -9", missing, len(acked))
	}
	t.Logf("%d acknowledged creations, all present after kill -9", len(acked))
}

// lockedBuffer collects a child's stderr, which exec copies from another
// goroutine, so that the test can read it while the child runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
