package expr

import (
	"strconv"
	"strings"
)

// parseInteger reads a whole number the way VBA's conversions do:
// surrounding spaces allowed, an optional sign, decimal digits, or a
// &H (hex) / &O (octal) literal.
func parseInteger(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if v, ok := parseRadix(s); ok {
		return v, true
	}
	if !isDecimal(s, false) {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// parseNumber reads a number: a whole number as parseInteger does, or a
// decimal such as 42568.75.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if v, ok := parseRadix(s); ok {
		return float64(v), true
	}
	if !isDecimal(s, true) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func parseRadix(s string) (int64, bool) {
	if len(s) < 3 || s[0] != '&' {
		return 0, false
	}
	base := 0
	switch s[1] {
	case 'H', 'h':
		base = 16
	case 'O', 'o':
		base = 8
	default:
		return 0, false
	}
	v, err := strconv.ParseInt(s[2:], base, 64)
	if err != nil || s[2] == '+' || s[2] == '-' {
		return 0, false
	}
	return v, true
}

// isDecimal checks [+-]digits[.digits] (the fraction only if allowed), so
// that strconv's extras (Inf, NaN, 0x…, 1e5, _) are not numbers here.
func isDecimal(s string, fraction bool) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if fraction && i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	return digits > 0 && i == len(s)
}

// parseBool reads "True"/"False" in any case (as .NET's Boolean.Parse
// does), or a number: non-zero is true (CBool, EXPR).
func parseBool(s string) (bool, bool) {
	t := strings.TrimSpace(s)
	switch {
	case strings.EqualFold(t, "True"):
		return true, true
	case strings.EqualFold(t, "False"):
		return false, true
	}
	if f, ok := parseNumber(t); ok {
		return f != 0, true
	}
	return false, false
}

func itoa(v int64) Value { return Str(strconv.FormatInt(v, 10)) }
