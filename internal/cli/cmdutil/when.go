package cmdutil

import (
	"strings"
	"time"

	"github.com/miscim/miscim/internal/reqlog"
)

// ParseWhen reads a time flag such as --since or --until: RFC 3339
// (fractional seconds optional, a space for the T allowed, UTC without a
// zone), a date (midnight UTC), or a Go duration meaning that long before
// now. "" is the zero time. A bad value is a FlagError naming the flag.
func ParseWhen(flag, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := reqlog.ParseTime(s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, FlagErrorf("invalid --%s %q: use an RFC 3339 time (2026-11-27T09:00:00Z), a date (2026-11-27) or a duration ago (90m, 24h)", flag, s)
}
