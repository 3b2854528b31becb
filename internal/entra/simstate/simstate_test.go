package simstate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestDefaultPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	xdg := env(map[string]string{"XDG_STATE_HOME": "/state", "HOME": "/home/me"})
	noXDG := env(map[string]string{"XDG_STATE_HOME": "relative/ignored", "HOME": "/home/me"})
	for _, tc := range []struct {
		url, db string
		getenv  func(string) string
		want    string // a regexp
	}{
		{"", "/home/me/.local/share/miscim/miscim.db", xdg, `^/home/me/\.local/share/miscim/miscim\.simulate\.db$`},
		{"", "ci/test.sqlite", xdg, `^ci/test\.simulate\.db$`},
		{"", "noext", xdg, `^noext\.simulate\.db$`},
		{"https://mi.example.com/scim/v2", "/x/miscim.db", xdg, `^/state/miscim/simulate/mi\.example\.com-[0-9a-f]{12}\.db$`},
		{"https://mi.example.com/scim/v2", "/x/miscim.db", noXDG, `^/home/me/\.local/state/miscim/simulate/mi\.example\.com-[0-9a-f]{12}\.db$`},
		{"http://127.0.0.1:8080/scim/v2", "", xdg, `^/state/miscim/simulate/127\.0\.0\.1_8080-[0-9a-f]{12}\.db$`},
		{"http://[::1]:8080/scim/v2", "", xdg, `^/state/miscim/simulate/__1_8080-[0-9a-f]{12}\.db$`},
		{"", "postgres://mi:secret@db.example.com/miscim", xdg, `^/state/miscim/simulate/db\.example\.com-[0-9a-f]{12}\.db$`},
	} {
		if got := DefaultPath(tc.url, tc.db, tc.getenv); !regexp.MustCompile(tc.want).MatchString(got) {
			t.Errorf("DefaultPath(%q, %q) = %q, want %s", tc.url, tc.db, got, tc.want)
		}
	}
	// One endpoint, one state: case, a trailing slash, credentials and the
	// dialect flag do not make another; another path or host does.
	same := []string{"https://mi.example.com/scim/v2", "HTTPS://MI.example.com/scim/v2/", "https://mi.example.com/scim/v2?aadOptscim062020", "https://user:pw@mi.example.com/scim/v2"}
	for _, u := range same[1:] {
		if a, b := DefaultPath(same[0], "", xdg), DefaultPath(u, "", xdg); a != b {
			t.Errorf("%s and %s have different states: %s, %s", same[0], u, a, b)
		}
	}
	for _, u := range []string{"https://mi.example.com/other/scim/v2", "https://mi2.example.com/scim/v2", "https://mi.example.com:8443/scim/v2"} {
		if DefaultPath(u, "", xdg) == DefaultPath(same[0], "", xdg) {
			t.Errorf("%s shares %s's state", u, same[0])
		}
	}
}

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new dir?#%")
	path := filepath.Join(dir, "state.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file is not where asked: %v", err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "page_size": "8192", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "10000"} {
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %s", pragma, got, err, want)
		}
	}
	db2, err := OpenExisting(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
	if _, err := OpenExisting(context.Background(), filepath.Join(dir, "none.db")); !errors.Is(err, ErrNoState) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("OpenExisting created the file")
	}
	if _, err := OpenExisting(context.Background(), dir); err == nil {
		t.Error("a directory opened as a state")
	}
}
