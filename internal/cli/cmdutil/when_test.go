package cmdutil

import (
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-11-27T09:00:00Z":        time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		"2026-11-27T10:00:00.5+01:00": time.Date(2026, 11, 27, 9, 0, 0, 5e8, time.UTC),
		"2026-11-27 09:00:00":         time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		"2026-11-26":                  time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		"90m":                         now.Add(-90 * time.Minute),
		"":                            {},
	} {
		got, err := ParseWhen("since", in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseWhen("since", "-5m", now); err == nil {
		t.Error("a negative duration is accepted")
	}
}
