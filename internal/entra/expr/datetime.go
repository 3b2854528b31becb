package expr

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dates follow .NET's DateTime, which Entra's functions use: ticks of
// 100 ns from 0001-01-01, a kind (Unspecified, Utc, Local), en-US names
// and patterns (CDate, DateAdd and Now render "M/d/yyyy h:mm:ss tt", the
// en-US general pattern). Entra's service runs in UTC, so "local" is UTC
// here: a parsed offset converts the time to UTC.

// dateKind is .NET's DateTimeKind.
type dateKind uint8

const (
	kindUnspecified dateKind = iota
	kindUTC
	kindLocal
)

const (
	ticksPerSecond = 10_000_000
	unixEpochTicks = 621_355_968_000_000_000 // 1970-01-01 in ticks
	fileTimeEpoch  = 504_911_232_000_000_000 // 1601-01-01 in ticks (AD dates)
	maxTicks       = 3_155_378_975_999_999_999
)

func ticksOf(t time.Time) int64 {
	return unixEpochTicks + t.Unix()*ticksPerSecond + int64(t.Nanosecond()/100)
}

func timeOf(ticks int64) time.Time {
	d := ticks - unixEpochTicks
	sec, rem := d/ticksPerSecond, d%ticksPerSecond
	if rem < 0 {
		rem += ticksPerSecond
		sec--
	}
	return time.Unix(sec, rem*100).UTC()
}

func inRange(t time.Time) bool { return t.Year() >= 1 && t.Year() <= 9999 }

func dateValue(t time.Time, k dateKind) Value {
	return Value{kind: KindDateTime, dkind: k, ticks: ticksOf(t)}
}

// formatGeneral renders ticks as "M/d/yyyy h:mm:ss tt", the form of CDate,
// DateAdd and Now (EXPR).
func formatGeneral(ticks int64) string {
	s, _ := formatDate(timeOf(ticks), kindUTC, "G")
	return s
}

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// standardFormats are .NET's standard date and time format strings with
// the en-US culture's patterns.
var standardFormats = map[string]string{
	"d": "M/d/yyyy",
	"D": "dddd, MMMM d, yyyy",
	"f": "dddd, MMMM d, yyyy h:mm tt",
	"F": "dddd, MMMM d, yyyy h:mm:ss tt",
	"g": "M/d/yyyy h:mm tt",
	"G": "M/d/yyyy h:mm:ss tt",
	"m": "MMMM d", "M": "MMMM d",
	"o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
	"r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
	"s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
	"t": "h:mm tt",
	"T": "h:mm:ss tt",
	"u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
	"U": "dddd, MMMM d, yyyy h:mm:ss tt",
	"y": "MMMM yyyy", "Y": "MMMM yyyy",
}

// fmtToken is one element of a custom format: a specifier repeated n
// times, or literal text.
type fmtToken struct {
	spec byte
	n    int
	lit  string
	z    bool // the literal is an unquoted Z: in parsing it means UTC
}

// tokenizeFormat splits a .NET custom date and time format string.
func tokenizeFormat(f string) ([]fmtToken, error) {
	if f == "" {
		return nil, errors.New("the format is empty")
	}
	if len(f) == 1 {
		std, ok := standardFormats[f]
		if !ok {
			return nil, fmt.Errorf("%q is not a standard format (d D f F g G M O R s t T u U Y); a one-letter custom format is written %%%s", f, f)
		}
		f = std
	}
	var out []fmtToken
	for i := 0; i < len(f); {
		c := f[i]
		switch c {
		case 'd', 'f', 'F', 'g', 'h', 'H', 'K', 'm', 'M', 's', 't', 'y', 'z':
			j := i
			for j < len(f) && f[j] == c {
				j++
			}
			n := j - i
			if (c == 'f' || c == 'F') && n > 7 {
				return nil, fmt.Errorf("%q has more than 7 %c: .NET formats at most 7 fraction digits", f, c)
			}
			out = append(out, fmtToken{spec: c, n: n})
			i = j
		case '\'', '"':
			j := i + 1
			var b strings.Builder
			for j < len(f) && f[j] != c {
				if f[j] == '\\' && j+1 < len(f) {
					j++
				}
				b.WriteByte(f[j])
				j++
			}
			if j == len(f) {
				return nil, fmt.Errorf("the quote at position %d of the format %q is not closed", i+1, f)
			}
			out = append(out, fmtToken{lit: b.String()})
			i = j + 1
		case '%':
			if i+1 == len(f) || f[i+1] == '%' {
				return nil, fmt.Errorf("the format %q ends with %%, or has %%%%", f)
			}
			i++
		case '\\':
			if i+1 == len(f) {
				return nil, fmt.Errorf("the format %q ends with a backslash", f)
			}
			out = append(out, fmtToken{lit: f[i+1 : i+2]})
			i += 2
		default:
			out = append(out, fmtToken{lit: f[i : i+1], z: c == 'Z'})
			i++
		}
	}
	return out, nil
}

// formatDate formats t (a UTC wall clock of kind k) with a .NET format.
func formatDate(t time.Time, k dateKind, format string) (string, error) {
	toks, err := tokenizeFormat(format)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, tk := range toks {
		if tk.spec == 0 {
			b.WriteString(tk.lit)
			continue
		}
		n := tk.n
		switch tk.spec {
		case 'd':
			switch {
			case n == 1:
				b.WriteString(strconv.Itoa(t.Day()))
			case n == 2:
				fmt.Fprintf(&b, "%02d", t.Day())
			case n == 3:
				b.WriteString(dayNames[t.Weekday()][:3])
			default:
				b.WriteString(dayNames[t.Weekday()])
			}
		case 'M':
			switch {
			case n == 1:
				b.WriteString(strconv.Itoa(int(t.Month())))
			case n == 2:
				fmt.Fprintf(&b, "%02d", int(t.Month()))
			case n == 3:
				b.WriteString(monthNames[t.Month()-1][:3])
			default:
				b.WriteString(monthNames[t.Month()-1])
			}
		case 'y':
			switch n {
			case 1:
				b.WriteString(strconv.Itoa(t.Year() % 100))
			case 2:
				fmt.Fprintf(&b, "%02d", t.Year()%100)
			default:
				fmt.Fprintf(&b, "%0*d", n, t.Year())
			}
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(&b, h, n)
		case 'H':
			pad(&b, t.Hour(), n)
		case 'm':
			pad(&b, t.Minute(), n)
		case 's':
			pad(&b, t.Second(), n)
		case 'f', 'F':
			digits := fmt.Sprintf("%07d", t.Nanosecond()/100)[:n]
			if tk.spec == 'F' {
				digits = strings.TrimRight(digits, "0")
				if digits == "" {
					// .NET drops the decimal point before an empty F.
					if s := b.String(); strings.HasSuffix(s, ".") {
						b.Reset()
						b.WriteString(s[:len(s)-1])
					}
				}
			}
			b.WriteString(digits)
		case 't':
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			b.WriteString(ampm[:min(n, 2)])
		case 'z':
			switch n {
			case 1:
				b.WriteString("+0")
			case 2:
				b.WriteString("+00")
			default:
				b.WriteString("+00:00")
			}
		case 'K':
			switch k {
			case kindUTC:
				b.WriteString("Z")
			case kindLocal:
				b.WriteString("+00:00")
			}
		case 'g':
			b.WriteString("A.D.")
		}
	}
	return b.String(), nil
}

func pad(b *strings.Builder, v, n int) {
	if n >= 2 {
		fmt.Fprintf(b, "%02d", v)
		return
	}
	b.WriteString(strconv.Itoa(v))
}

// dateStyles are .NET's DateTimeStyles.
type dateStyles uint16

const (
	styleAllowLeadingWhite dateStyles = 1 << iota
	styleAllowTrailingWhite
	styleAllowInnerWhite
	styleNoCurrentDateDefault
	styleAdjustToUniversal
	styleAssumeLocal
	styleAssumeUniversal
	styleRoundtripKind
)

// defaultStyles is FormatDateTime's default when dateTimeStyles is empty:
// "DateTimeStyles.RoundtripKind, DateTimeStyles.AllowLeadingWhite,
// DateTimeStyles.AllowTrailingWhite" (EXPR).
const defaultStyles = styleRoundtripKind | styleAllowLeadingWhite | styleAllowTrailingWhite

var styleNames = map[string]dateStyles{
	"none":                 0,
	"allowleadingwhite":    styleAllowLeadingWhite,
	"allowtrailingwhite":   styleAllowTrailingWhite,
	"allowinnerwhite":      styleAllowInnerWhite,
	"allowwhitespaces":     styleAllowLeadingWhite | styleAllowTrailingWhite | styleAllowInnerWhite,
	"nocurrentdatedefault": styleNoCurrentDateDefault,
	"adjusttouniversal":    styleAdjustToUniversal,
	"assumelocal":          styleAssumeLocal,
	"assumeuniversal":      styleAssumeUniversal,
	"roundtripkind":        styleRoundtripKind,
}

// parseStyles reads a dateTimeStyles value: DateTimeStyles names,
// separated by commas or |, with or without the "DateTimeStyles." prefix,
// in any case (as .NET's Enum.Parse with ignoreCase reads them).
func parseStyles(s string) (dateStyles, error) {
	var st dateStyles
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' }) {
		name := strings.ToLower(strings.TrimSpace(part))
		name = strings.TrimPrefix(name, "datetimestyles.")
		v, ok := styleNames[name]
		if !ok {
			return 0, fmt.Errorf("dateTimeStyles %q: %q is not a DateTimeStyles value (None, AllowLeadingWhite, AllowTrailingWhite, AllowInnerWhite, AllowWhiteSpaces, NoCurrentDateDefault, AdjustToUniversal, AssumeLocal, AssumeUniversal, RoundtripKind)", s, strings.TrimSpace(part))
		}
		st |= v
	}
	if st&styleAssumeLocal != 0 && st&styleAssumeUniversal != 0 {
		return 0, fmt.Errorf("dateTimeStyles %q: AssumeLocal and AssumeUniversal cannot be combined", s)
	}
	if st&styleRoundtripKind != 0 && st&(styleAdjustToUniversal|styleAssumeLocal|styleAssumeUniversal) != 0 {
		return 0, fmt.Errorf("dateTimeStyles %q: RoundtripKind cannot be combined with AdjustToUniversal, AssumeLocal or AssumeUniversal", s)
	}
	return st, nil
}

// parsed collects the fields a parse found; -1 is absent.
type parsed struct {
	year, month, day, hour, minute, second int
	ticks                                  int64 // fraction, in ticks
	weekday                                int
	pm                                     int // -1 absent, 0 AM, 1 PM
	hour12                                 bool
	offset                                 int // seconds east of UTC
	hasOffset, utc                         bool
}

func newParsed() parsed {
	return parsed{year: -1, month: -1, day: -1, hour: -1, minute: -1, second: -1, weekday: -1, pm: -1}
}

// parseExact is .NET's DateTime.ParseExact with the en-US culture.
func parseExact(s, format string, st dateStyles, now time.Time) (time.Time, dateKind, error) {
	toks, err := tokenizeFormat(format)
	if err != nil {
		return time.Time{}, 0, err
	}
	if st&styleAllowLeadingWhite != 0 {
		s = strings.TrimLeft(s, " \t\r\n")
	}
	if st&styleAllowTrailingWhite != 0 {
		s = strings.TrimRight(s, " \t\r\n")
	}
	p := newParsed()
	i := 0
	mismatch := func() error { return fmt.Errorf("%q does not match the format %q", s, format) }
	for _, tk := range toks {
		if st&styleAllowInnerWhite != 0 {
			for i < len(s) && s[i] == ' ' {
				i++
			}
		}
		if tk.spec == 0 {
			if tk.z {
				switch {
				case strings.HasPrefix(s[i:], "Z"):
					i++
				case strings.HasPrefix(s[i:], "GMT"):
					i += 3
				default:
					return time.Time{}, 0, mismatch()
				}
				p.hasOffset, p.utc, p.offset = true, true, 0
				continue
			}
			if tk.lit == " " && st&styleAllowInnerWhite != 0 {
				continue
			}
			if !strings.HasPrefix(s[i:], tk.lit) {
				return time.Time{}, 0, mismatch()
			}
			i += len(tk.lit)
			continue
		}
		var v int
		var ok bool
		n := tk.n
		switch tk.spec {
		case 'd':
			switch {
			case n <= 2:
				v, i, ok = digits(s, i, n, 2)
				p.day = v
			case n == 3:
				v, i, ok = name(s, i, dayNames, 3)
				p.weekday = v
			default:
				v, i, ok = name(s, i, dayNames, 0)
				p.weekday = v
			}
		case 'M':
			switch {
			case n <= 2:
				v, i, ok = digits(s, i, n, 2)
				p.month = v
			case n == 3:
				v, i, ok = name(s, i, monthNames, 3)
				p.month = v + 1
			default:
				v, i, ok = name(s, i, monthNames, 0)
				p.month = v + 1
			}
		case 'y':
			switch {
			case n <= 2:
				v, i, ok = digits(s, i, n, 2)
				if ok {
					// Two-digit years: .NET's Gregorian TwoDigitYearMax, 2049.
					if v <= 49 {
						v += 2000
					} else {
						v += 1900
					}
				}
			default:
				v, i, ok = digits(s, i, n, max(n, 4))
			}
			p.year = v
		case 'h':
			v, i, ok = digits(s, i, min(n, 2), 2)
			p.hour, p.hour12 = v, true
		case 'H':
			v, i, ok = digits(s, i, min(n, 2), 2)
			p.hour = v
		case 'm':
			v, i, ok = digits(s, i, min(n, 2), 2)
			p.minute = v
		case 's':
			v, i, ok = digits(s, i, min(n, 2), 2)
			p.second = v
		case 'f', 'F':
			lo := n
			if tk.spec == 'F' {
				lo = 0
			}
			start := i
			for i < len(s) && i-start < n && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			ok = i-start >= lo
			if ok {
				frac := s[start:i] + strings.Repeat("0", 7-(i-start))
				t, _ := strconv.ParseInt(frac, 10, 64)
				p.ticks = t
			}
		case 't':
			if i < len(s) {
				c := s[i] | 0x20
				if c == 'a' || c == 'p' {
					if n >= 2 {
						ok = i+1 < len(s) && s[i+1]|0x20 == 'm'
						if ok {
							i += 2
						}
					} else {
						ok = true
						i++
					}
					if c == 'p' {
						p.pm = 1
					} else {
						p.pm = 0
					}
				}
			}
		case 'z', 'K':
			if tk.spec == 'K' && strings.HasPrefix(s[i:], "Z") {
				i++
				p.hasOffset, p.utc, ok = true, true, true
				break
			}
			if tk.spec == 'K' && (i == len(s) || s[i] != '+' && s[i] != '-') {
				ok = true // K matches no zone too
				break
			}
			var off int
			off, i, ok = offsetAt(s, i, n, tk.spec == 'K')
			if ok {
				p.hasOffset, p.offset = true, off
			}
		case 'g':
			for _, era := range []string{"A.D.", "AD"} {
				if len(s)-i >= len(era) && strings.EqualFold(s[i:i+len(era)], era) {
					i += len(era)
					ok = true
					break
				}
			}
		}
		if !ok {
			return time.Time{}, 0, mismatch()
		}
	}
	if i != len(s) {
		return time.Time{}, 0, fmt.Errorf("%q has extra text %q after the format %q", s, s[i:], format)
	}
	return p.resolve(st, now, s)
}

// digits reads between lo and hi ASCII digits at s[i:].
func digits(s string, i, lo, hi int) (int, int, bool) {
	j := i
	for j < len(s) && j-i < hi && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j-i < lo {
		return 0, i, false
	}
	v, err := strconv.Atoi(s[i:j])
	return v, j, err == nil
}

// name reads one of names (or its first n letters) at s[i:], in any case;
// it returns the index. The longest match wins.
func name(s string, i int, names []string, n int) (int, int, bool) {
	best, bestLen := -1, 0
	for k, nm := range names {
		if n > 0 {
			nm = nm[:n]
		}
		if len(s)-i >= len(nm) && strings.EqualFold(s[i:i+len(nm)], nm) && len(nm) > bestLen {
			best, bestLen = k, len(nm)
		}
	}
	return best, i + bestLen, best >= 0
}

// offsetAt reads a zone offset: z "+h"/"-hh", zz "+hh", zzz and K
// "+hh:mm". It returns seconds east of UTC.
func offsetAt(s string, i, n int, k bool) (int, int, bool) {
	if i >= len(s) || s[i] != '+' && s[i] != '-' {
		return 0, i, false
	}
	sign := 1
	if s[i] == '-' {
		sign = -1
	}
	j := i + 1
	lo := 1
	if n >= 2 || k {
		lo = 2
	}
	h, j, ok := digits(s, j, lo, 2)
	if !ok {
		return 0, i, false
	}
	m := 0
	if n >= 3 || k {
		if j >= len(s) || s[j] != ':' {
			return 0, i, false
		}
		if m, j, ok = digits(s, j+1, 2, 2); !ok {
			return 0, i, false
		}
	}
	if h > 14 || m > 59 || h == 14 && m > 0 {
		return 0, i, false
	}
	return sign * (h*3600 + m*60), j, true
}

// resolve builds the time from the parsed fields with .NET's defaults and
// zone rules (DateTimeParse.CheckDefaultDateTime and
// DetermineTimeZoneAdjustments, "local" being UTC).
func (p parsed) resolve(st dateStyles, now time.Time, s string) (time.Time, dateKind, error) {
	if p.year == -1 || p.month == -1 || p.day == -1 {
		switch {
		case p.year == -1 && p.month == -1 && p.day == -1:
			if st&styleNoCurrentDateDefault != 0 {
				p.year, p.month, p.day = 1, 1, 1
			} else {
				p.year, p.month, p.day = now.Year(), int(now.Month()), now.Day()
			}
		case p.month == -1 && p.day == -1:
			p.month, p.day = 1, 1
		default:
			if p.year == -1 {
				p.year = now.Year()
			}
			if p.month == -1 {
				p.month = 1
			}
			if p.day == -1 {
				p.day = 1
			}
		}
	}
	hour := max(p.hour, 0)
	if p.pm >= 0 {
		if hour > 12 || p.hour12 && hour == 0 {
			return time.Time{}, 0, fmt.Errorf("%q: hour %d is not valid with AM/PM", s, hour)
		}
		hour %= 12
		if p.pm == 1 {
			hour += 12
		}
	} else if p.hour12 && hour > 12 {
		return time.Time{}, 0, fmt.Errorf("%q: hour %d is not valid on a 12-hour clock", s, hour)
	}
	minute, second := max(p.minute, 0), max(p.second, 0)
	if p.month < 1 || p.month > 12 || p.year < 1 || p.year > 9999 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, 0, fmt.Errorf("%q is not a valid date and time", s)
	}
	if p.day < 1 || p.day > daysIn(p.year, p.month) {
		return time.Time{}, 0, fmt.Errorf("%q: day %d does not exist in %s %d", s, p.day, monthNames[p.month-1], p.year)
	}
	t := time.Date(p.year, time.Month(p.month), p.day, hour, minute, second, int(p.ticks)*100, time.UTC)
	if p.weekday >= 0 && int(t.Weekday()) != p.weekday {
		return time.Time{}, 0, fmt.Errorf("%q: %d/%d/%d is a %s, not a %s", s, p.month, p.day, p.year, t.Weekday(), dayNames[p.weekday])
	}
	k := kindUnspecified
	if !p.hasOffset {
		switch {
		case st&styleAssumeUniversal != 0:
			k = kindLocal
			if st&styleAdjustToUniversal != 0 {
				k = kindUTC
			}
		case st&styleAssumeLocal != 0:
			k = kindLocal
			if st&styleAdjustToUniversal != 0 {
				k = kindUTC
			}
		}
		return t, k, nil
	}
	t = t.Add(-time.Duration(p.offset) * time.Second)
	switch {
	case st&styleRoundtripKind != 0 && p.utc:
		k = kindUTC
	case st&styleAdjustToUniversal != 0:
		k = kindUTC
	default:
		k = kindLocal
	}
	if !inRange(t) {
		return time.Time{}, 0, fmt.Errorf("%q is outside the DateTime range", s)
	}
	return t, k, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// The forms CDate, DateAdd, DateDiff and NumFromDate accept, as .NET's
// DateTime.Parse reads them with the en-US culture: ISO 8601 dates with an
// optional time and zone (2009-06-15T01:45:30-07:00, 2020-03-16-07:00,
// 2021-08-24), yyyy/M/d, US M/d/yyyy with an optional 12- or 24-hour time
// (8/25/2021 5:41:18 PM), month names (June 15, 2009; 15 Jun 2009; RFC
// 1123 "Mon, 15 Jun 2009 20:45:30 GMT"), and a time alone (today).
var (
	timePart   = `(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?\s*([AaPp]\.?[Mm]\.?)?)?`
	zonePart   = `\s*(Z|GMT|UTC|[+-]\d{1,2}(?::?\d{2})?)?`
	weekday    = `(?:(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat)[a-z]*\.?,?\s+)?`
	reISO      = regexp.MustCompile(`^(\d{4})[-/](\d{1,2})[-/](\d{1,2})` + timePart + zonePart + `$`)
	reUS       = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})` + timePart + zonePart + `$`)
	reDayMonth = regexp.MustCompile(`^` + weekday + `(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})` + timePart + zonePart + `$`)
	reMonthDay = regexp.MustCompile(`^` + weekday + `([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})` + timePart + zonePart + `$`)
	reTime     = regexp.MustCompile(`^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?\s*([AaPp]\.?[Mm]\.?)?` + zonePart + `$`)
)

// parseDate reads a date string in the forms above. It returns UTC: an
// offset converts to UTC; no zone is taken as UTC (CDate "returns a UTC
// DateTime").
func parseDate(s string, now time.Time) (time.Time, error) {
	in := strings.TrimSpace(s)
	p := newParsed()
	var rest []string
	switch {
	case reISO.MatchString(in):
		m := reISO.FindStringSubmatch(in)
		p.year, p.month, p.day = atoi(m[1]), atoi(m[2]), atoi(m[3])
		rest = m[4:]
	case reUS.MatchString(in):
		m := reUS.FindStringSubmatch(in)
		p.month, p.day, p.year = atoi(m[1]), atoi(m[2]), atoi(m[3])
		if len(m[3]) == 2 {
			if p.year <= 49 {
				p.year += 2000
			} else {
				p.year += 1900
			}
		}
		rest = m[4:]
	case reDayMonth.MatchString(in):
		m := reDayMonth.FindStringSubmatch(in)
		mo, ok := monthByName(m[2])
		if !ok {
			return time.Time{}, notADate(s)
		}
		p.day, p.month, p.year = atoi(m[1]), mo, atoi(m[3])
		rest = m[4:]
	case reMonthDay.MatchString(in):
		m := reMonthDay.FindStringSubmatch(in)
		mo, ok := monthByName(m[1])
		if !ok {
			return time.Time{}, notADate(s)
		}
		p.month, p.day, p.year = mo, atoi(m[2]), atoi(m[3])
		rest = m[4:]
	case reTime.MatchString(in):
		m := reTime.FindStringSubmatch(in)
		p.year, p.month, p.day = now.Year(), int(now.Month()), now.Day()
		rest = m[1:]
	default:
		return time.Time{}, notADate(s)
	}
	// rest: hour, minute, second, fraction, AM/PM, zone.
	if rest[0] != "" {
		p.hour, p.minute = atoi(rest[0]), atoi(rest[1])
		if rest[2] != "" {
			p.second = atoi(rest[2])
		}
		if rest[3] != "" {
			p.ticks, _ = strconv.ParseInt((rest[3] + "000000")[:7], 10, 64)
		}
		if rest[4] != "" {
			p.hour12 = true
			p.pm = 0
			if rest[4][0]|0x20 == 'p' {
				p.pm = 1
			}
		}
	}
	if z := rest[5]; z != "" {
		p.hasOffset = true
		switch z {
		case "Z", "GMT", "UTC":
			p.utc = true
		default:
			off, ok := parseOffset(z)
			if !ok {
				return time.Time{}, notADate(s)
			}
			p.offset = off
		}
	}
	t, _, err := p.resolve(styleAdjustToUniversal, now, s)
	if err != nil {
		return time.Time{}, err
	}
	return t, nil
}

func notADate(s string) error {
	return fmt.Errorf("%q is not a date and time miscim can read (for example 2009-06-15T01:45:30-07:00, 2020-03-16-07:00 or 8/25/2021 5:41:18 PM; see docs/expr.md)", s)
}

func atoi(s string) int {
	v, _ := strconv.Atoi(s)
	return v
}

func monthByName(s string) (int, bool) {
	for i, m := range monthNames {
		if strings.EqualFold(s, m) || len(s) == 3 && strings.EqualFold(s, m[:3]) || strings.EqualFold(s, "Sept") && i == 8 {
			return i + 1, true
		}
	}
	return 0, false
}

// parseOffset reads +h, +hh, +hhmm, +hh:mm.
func parseOffset(z string) (int, bool) {
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	body := strings.ReplaceAll(z[1:], ":", "")
	var h, m int
	switch len(body) {
	case 1, 2:
		h = atoi(body)
	case 3, 4:
		h, m = atoi(body[:len(body)-2]), atoi(body[len(body)-2:])
	default:
		return 0, false
	}
	if h > 14 || m > 59 || h == 14 && m > 0 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// addInterval is VBA's DateAdd: years and months keep the day, clamped to
// the month's last day (.NET's AddYears/AddMonths).
func addInterval(t time.Time, interval string, n int64) (time.Time, bool) {
	switch interval {
	case "yyyy":
		return addMonths(t, n*12)
	case "m":
		return addMonths(t, n)
	case "d":
		return addDuration(t, n, 24*time.Hour)
	case "ww":
		return addDuration(t, n, 7*24*time.Hour)
	case "h":
		return addDuration(t, n, time.Hour)
	case "n":
		return addDuration(t, n, time.Minute)
	}
	return addDuration(t, n, time.Second)
}

func addMonths(t time.Time, n int64) (time.Time, bool) {
	total := int64(t.Year())*12 + int64(t.Month()-1) + n
	y, m := total/12, total%12+1
	if total < 12 || y > 9999 {
		return time.Time{}, false
	}
	d := min(t.Day(), daysIn(int(y), int(m)))
	return time.Date(int(y), time.Month(m), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), true
}

func addDuration(t time.Time, n int64, unit time.Duration) (time.Time, bool) {
	// Work in ticks so that no time.Duration overflows.
	per := int64(unit / 100)
	if n > 0 && n > (maxTicks)/per || n < 0 && -n > maxTicks/per {
		return time.Time{}, false
	}
	ticks := ticksOf(t) + n*per
	if ticks < 0 || ticks > maxTicks {
		return time.Time{}, false
	}
	return timeOf(ticks), true
}

// dateDiff is the VB runtime's DateDiff (Microsoft.VisualBasic.DateAndTime),
// which Microsoft's examples match: d, h, n, s truncate the elapsed time;
// ww counts weeks between the Sundays that start the two weeks; m and yyyy
// count calendar months and years.
func dateDiff(interval string, a, b time.Time) int64 {
	d := ticksOf(b) - ticksOf(a)
	switch interval {
	case "yyyy":
		return int64(b.Year() - a.Year())
	case "m":
		return int64(b.Year()-a.Year())*12 + int64(b.Month()-a.Month())
	case "d":
		return d / (ticksPerSecond * 86400)
	case "ww":
		a2 := ticksOf(a) - int64(a.Weekday())*ticksPerSecond*86400
		b2 := ticksOf(b) - int64(b.Weekday())*ticksPerSecond*86400
		return (b2 - a2) / (ticksPerSecond * 86400) / 7
	case "h":
		return d / (ticksPerSecond * 3600)
	case "n":
		return d / (ticksPerSecond * 60)
	}
	return d / ticksPerSecond
}

// intervals are the documented DateAdd/DateDiff intervals (EXPR).
var intervals = []string{"yyyy", "m", "d", "ww", "h", "n", "s"}

// parseInterval accepts a documented interval in any case, as the VB
// runtime's string overloads do.
func parseInterval(s string) (string, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, iv := range intervals {
		if t == iv {
			return iv, true
		}
	}
	return "", false
}
