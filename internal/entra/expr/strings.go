package expr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// normalizeDiacritics replaces what the reference's table lists, longest
// match first (a letter with two combining marks before the letter with
// one).
func normalizeDiacritics(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		matched := false
		// Try the longest key first: up to diacriticsMaxRunes runes.
		ends := make([]int, 0, diacriticsMaxRunes)
		j := i
		for k := 0; k < diacriticsMaxRunes && j < len(s); k++ {
			_, size := utf8.DecodeRuneInString(s[j:])
			j += size
			ends = append(ends, j)
		}
		for k := len(ends) - 1; k >= 0; k-- {
			if rep, ok := diacritics[s[i:ends[k]]]; ok {
				b.WriteString(rep)
				i = ends[k]
				matched = true
				break
			}
		}
		if !matched {
			b.WriteString(s[i:ends[0]])
			i = ends[0]
		}
	}
	return b.String()
}

// toTitleCase is .NET's TextInfo.ToTitleCase, which PCase uses when no
// word separators are given (EXPR, PCase): the first letter of each word
// upper-cased, the rest of the word lower-cased unless the word has no
// lower-case letter (an acronym; PCase lower-cases the string first). An
// apostrophe inside a word does not start a new word; the Unicode
// categories the reference lists separate words.
func toTitleCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		if !unicode.IsLetter(r) {
			b.WriteRune(r)
			i++
			continue
		}
		b.WriteRune(unicode.ToTitle(r))
		i++
		start := i
		hasLower := unicode.IsLower(r)
		for i < len(rs) {
			r := rs[i]
			if unicode.IsLetter(r) {
				if unicode.IsLower(r) {
					hasLower = true
				}
				i++
			} else if r == '\'' {
				i++
				flushWord(&b, rs[start:i], hasLower)
				start = i
				hasLower = true
			} else if !isWordSeparator(r) {
				i++
			} else {
				break
			}
		}
		flushWord(&b, rs[start:i], hasLower)
	}
	return b.String()
}

func flushWord(b *strings.Builder, word []rune, lower bool) {
	for _, r := range word {
		if lower {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
}

// isWordSeparator is .NET's word-separator set of ToTitleCase: spaces,
// separators, control and format characters, punctuation and symbols.
func isWordSeparator(r rune) bool {
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp, unicode.Cc, unicode.Cf,
		unicode.Pc, unicode.Pd, unicode.Ps, unicode.Pe, unicode.Pi, unicode.Pf, unicode.Po,
		unicode.Sm, unicode.Sc, unicode.Sk, unicode.So)
}

// properCase is PCase with word separators: everything lower-case, then
// the first character after each separator (and at the start) upper-case
// (EXPR: PCase([lastName]," '-") turns "PINTO-DE'SILVA" into
// "Pinto-De'Silva").
func properCase(s, seps string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		switch {
		case strings.ContainsRune(seps, r):
			b.WriteRune(r)
			start = true
		case start:
			b.WriteRune(unicode.ToUpper(r))
			start = false
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// changeCase is ToLower/ToUpper with a culture: invariant when none is
// given (EXPR); Turkish and Azerbaijani rules for tr and az (dotted and
// dotless i); every other well-formed RFC 4646 name cases like the
// invariant culture.
func changeCase(s, culture string, upper bool) (string, error) {
	lang, err := cultureLanguage(culture)
	if err != nil {
		return "", err
	}
	var special unicode.SpecialCase
	switch lang {
	case "tr":
		special = unicode.TurkishCase
	case "az":
		special = unicode.AzeriCase
	}
	switch {
	case special != nil && upper:
		return strings.ToUpperSpecial(special, s), nil
	case special != nil:
		return strings.ToLowerSpecial(special, s), nil
	case upper:
		return strings.ToUpper(s), nil
	}
	return strings.ToLower(s), nil
}

// cultureLanguage checks a culture name (languagecode2[-country/regioncode2],
// a three-letter language where no two-letter one exists, optional script
// subtag) and returns its language, lower-case.
func cultureLanguage(culture string) (string, error) {
	culture = strings.TrimSpace(culture)
	if culture == "" {
		return "", nil
	}
	parts := strings.Split(culture, "-")
	bad := fmt.Errorf("culture %q is not a culture name such as en-US, tr-TR or ja-JP (RFC 4646)", culture)
	if len(parts) > 3 || !isLetters(parts[0], 2, 3) {
		return "", bad
	}
	for _, p := range parts[1:] {
		if !isLetters(p, 2, 4) && !(len(p) == 3 && isDigits(p)) {
			return "", bad
		}
	}
	return strings.ToLower(parts[0]), nil
}

func isLetters(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// substring16 returns count UTF-16 code units of s from unit start, as
// .NET's Substring does (Left, Mid), clamped to the string. A surrogate
// pair cut in half becomes U+FFFD.
func substring16(s string, start, count int64) string {
	if isASCII(s) {
		n := int64(len(s))
		if start >= n {
			return ""
		}
		end := min(n, start+count)
		return s[start:end]
	}
	units := utf16.Encode([]rune(s))
	n := int64(len(units))
	if start >= n {
		return ""
	}
	end := min(n, start+count)
	return string(utf16.Decode(units[start:end]))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// inStr finds sub in s from the 1-based UTF-16 position start; text
// compares case-insensitively (vbTextCompare).
func inStr(s, sub string, start int64, text bool) int64 {
	units := utf16.Encode([]rune(s))
	if len(units) == 0 || start > int64(len(units)) {
		return 0
	}
	if sub == "" {
		return start
	}
	su := utf16.Encode([]rune(sub))
	for i := int(start - 1); i+len(su) <= len(units); i++ {
		if equalUnits(units[i:i+len(su)], su, text) {
			return int64(i + 1)
		}
	}
	return 0
}

func equalUnits(a, b []uint16, fold bool) bool {
	for i := range a {
		if a[i] == b[i] {
			continue
		}
		if !fold || a[i] >= 0xD800 && a[i] < 0xE000 || b[i] >= 0xD800 && b[i] < 0xE000 {
			return false
		}
		if unicode.ToLower(rune(a[i])) != unicode.ToLower(rune(b[i])) {
			return false
		}
	}
	return true
}
