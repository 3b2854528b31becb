package postgres

import (
	"strings"
	"testing"
)

func TestIsURL(t *testing.T) {
	for db, want := range map[string]bool{
		"postgres://miscim@127.0.0.1:5432/miscim?sslmode=disable": true,
		"postgresql://db.example.com/miscim":                      true,
		"POSTGRES://db/miscim":                                    true,
		"postgres:///miscim?host=/run/postgresql":                 true,
		// libpq's key=value strings are file names too: SQLite paths.
		"host=db.example.com dbname=miscim": false,
		"dbname=miscim":                     false,
		"./postgres://x":                    false,
		"postgres:x":                        false,
		"/var/lib/miscim/miscim.db":         false,
		"miscim?mode=ro.db":                 false,
		"":                                  false,
	} {
		if got := IsURL(db); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", db, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://miscim:s3cret@db/miscim":              "postgres://miscim:xxxxx@db/miscim",
		"postgres://miscim@db/miscim?password=s3cret&x=1": "postgres://miscim@db/miscim?password=xxxxx&x=1",
	} {
		if got := Redact(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
