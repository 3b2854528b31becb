package expr

import (
	"encoding/binary"
	"io"
	"strings"

	"github.com/google/uuid"
)

func evalGuid(c *evalCtx, n *node) (Value, error) {
	id, err := uuid.NewRandomFromReader(c.env.rand())
	if err != nil {
		return Value{}, c.fail(n, "no randomness: %v", err)
	}
	return Str(id.String()), nil
}

// The character classes of RandomString: those of Windows' password
// complexity rules, which the reference points to.
const (
	classDigits  = "0123456789"
	classSpecial = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"
	classUpper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	classLower   = "abcdefghijklmnopqrstuvwxyz"
	maxRandomLen = 256
)

// evalRandomString builds Length characters with at least the given
// number of digits, special characters, capitals and lower-case letters,
// without CharactersToAvoid; the rest come from all four classes, and the
// whole is shuffled.
func evalRandomString(c *evalCtx, n *node) (Value, error) {
	var k [5]int64
	for i := range k {
		v, err := c.requiredInteger(n, i)
		if err != nil {
			return Value{}, err
		}
		if v < 0 {
			return Value{}, c.fail(n, "%s is %d; it cannot be negative", n.fn.paramName(i, len(n.args)), v)
		}
		k[i] = v
	}
	avoid, _, err := c.one(n, 5)
	if err != nil {
		return Value{}, err
	}
	length := k[0]
	if length > maxRandomLen {
		return Value{}, c.fail(n, "Length is %d; at most %d characters", length, maxRandomLen)
	}
	if sum := k[1] + k[2] + k[3] + k[4]; sum > length {
		return Value{}, c.fail(n, "the minimums add up to %d, more than Length %d", sum, length)
	}
	keep := func(class string) []byte {
		var out []byte
		for i := 0; i < len(class); i++ {
			if !strings.ContainsRune(avoid, rune(class[i])) {
				out = append(out, class[i])
			}
		}
		return out
	}
	classes := [4][]byte{keep(classDigits), keep(classSpecial), keep(classUpper), keep(classLower)}
	names := [4]string{"MinimumNumbers", "MinimumSpecialCharacters", "MinimumCapital", "MinimumLowerCase"}
	var all []byte
	for _, cl := range classes {
		all = append(all, cl...)
	}
	r := c.env.rand()
	out := make([]byte, 0, length)
	for i, cl := range classes {
		if k[i+1] > 0 && len(cl) == 0 {
			return Value{}, c.fail(n, "%s is %d but CharactersToAvoid excludes every such character", names[i], k[i+1])
		}
		for j := int64(0); j < k[i+1]; j++ {
			x, err := randIntn(r, len(cl))
			if err != nil {
				return Value{}, c.fail(n, "no randomness: %v", err)
			}
			out = append(out, cl[x])
		}
	}
	if int64(len(out)) < length && len(all) == 0 {
		return Value{}, c.fail(n, "CharactersToAvoid excludes every character")
	}
	for int64(len(out)) < length {
		x, err := randIntn(r, len(all))
		if err != nil {
			return Value{}, c.fail(n, "no randomness: %v", err)
		}
		out = append(out, all[x])
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := randIntn(r, i+1)
		if err != nil {
			return Value{}, c.fail(n, "no randomness: %v", err)
		}
		out[i], out[j] = out[j], out[i]
	}
	return Str(string(out)), nil
}

// randIntn returns a uniform integer in [0, n) read from r, by rejection.
func randIntn(r io.Reader, n int) (int, error) {
	limit := ^uint32(0) - ^uint32(0)%uint32(n)
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		if v := binary.LittleEndian.Uint32(b[:]); v < limit {
			return int(v % uint32(n)), nil
		}
	}
}
