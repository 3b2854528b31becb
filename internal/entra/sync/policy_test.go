package sync

import (
	"strings"
	"testing"
	"time"
)

func TestParseDialect(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    Dialect
		wantErr bool
	}{
		{"", DialectLegacy, false},
		{"legacy", DialectLegacy, false},
		{"LEGACY", DialectLegacy, false},
		{"aadOptscim062020", DialectFlag, false},
		{"aadoptscim062020", DialectFlag, false},
		{"scim2", "", true},
	} {
		got, err := ParseDialect(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("ParseDialect(%q) = %q, %v; want %q, error %v", c.in, got, err, c.want, c.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "aadOptscim062020") {
			t.Errorf("ParseDialect(%q): error %q does not name the values to use", c.in, err)
		}
	}
}

func TestParseBooleanPolicy(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    BooleanPolicy
		wantErr bool
	}{
		{"", BooleanVerbatim, false},
		{"verbatim-string", BooleanVerbatim, false},
		{"Coerce-Boolean", BooleanCoerce, false},
		{"export-error", BooleanError, false},
		{"strict", "", true},
	} {
		got, err := ParseBooleanPolicy(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("ParseBooleanPolicy(%q) = %q, %v; want %q, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    []time.Duration
		wantErr string
	}{
		{"30m,1h,2h", []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour}, ""},
		{" 5s , ,10s", []time.Duration{5 * time.Second, 10 * time.Second}, ""},
		{"", nil, "empty schedule"},
		{",,", nil, "empty schedule"},
		{"30m,soon", nil, `invalid duration "soon"`},
		{"0s", nil, `invalid duration "0s"`},
		{"-1h", nil, `invalid duration "-1h"`},
	} {
		got, err := ParseSchedule(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseSchedule(%q) error = %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("ParseSchedule(%q) = %v, %v; want %v", c.in, got, err, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("ParseSchedule(%q)[%d] = %v, want %v", c.in, i, got[i], c.want[i])
			}
		}
	}
}

// FuzzParseSchedule: --escrow-schedule never panics, and what it accepts
// is a non-empty list of positive durations.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"30m,1h,2h", "", "1h,,", "0s", "-5m", "1e9h", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSchedule(s)
		if err != nil {
			return
		}
		if len(got) == 0 {
			t.Fatalf("ParseSchedule(%q) accepted an empty schedule", s)
		}
		for _, d := range got {
			if d <= 0 {
				t.Fatalf("ParseSchedule(%q) accepted %v", s, d)
			}
		}
	})
}
