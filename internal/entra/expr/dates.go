package expr

import (
	"strings"
	"time"
)

// dateArg evaluates argument i as a DateTime: a DateTime value, or a
// string in a form CDate reads.
func (c *evalCtx) dateArg(n *node, i int) (t time.Time, k dateKind, isNull bool, err error) {
	v, err := c.arg(n, i)
	if err != nil {
		return time.Time{}, 0, false, err
	}
	if v.kind == KindDateTime {
		return timeOf(v.ticks), v.dkind, false, nil
	}
	s, isNull, err := c.one(n, i)
	if err != nil || isNull {
		return time.Time{}, 0, isNull, err
	}
	t, perr := parseDate(s, c.env.now())
	if perr != nil {
		e := c.fail(n, "%s: %v", c.describeArg(n, i), perr)
		e.Hint = "convert other formats with FormatDateTime(source, , inputFormat, \"yyyy-MM-ddTHH:mm:ssZ\")"
		return time.Time{}, 0, false, e
	}
	return t, kindUTC, false, nil
}

func evalCDate(c *evalCtx, n *node) (Value, error) {
	t, _, isNull, err := c.dateArg(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	return dateValue(t, kindUTC), nil
}

func evalNow(c *evalCtx, n *node) (Value, error) {
	return dateValue(c.env.now(), kindUTC), nil
}

func (c *evalCtx) interval(n *node) (string, error) {
	s, isNull, err := c.one(n, 0)
	if err != nil {
		return "", err
	}
	iv, ok := parseInterval(s)
	if isNull || !ok {
		return "", c.fail(n, "interval %q is not one of %s", s, strings.Join(intervals, ", "))
	}
	return iv, nil
}

func checkInterval(ck *checker, n *node) error {
	if s, ok := constArg(n, 0); ok {
		if _, ok := parseInterval(s); !ok {
			return ck.fail(n.args[0].pos, "yyyy year, m month, d day, ww week, h hour, n minute, s second", "%s: interval %q is not one of %s", n.name, s, strings.Join(intervals, ", "))
		}
	}
	return nil
}

func evalDateAdd(c *evalCtx, n *node) (Value, error) {
	iv, err := c.interval(n)
	if err != nil {
		return Value{}, err
	}
	k, err := c.requiredInteger(n, 1)
	if err != nil {
		return Value{}, err
	}
	t, kind, isNull, err := c.dateArg(n, 2)
	if err != nil || isNull {
		return Value{}, err
	}
	r, ok := addInterval(t, iv, k)
	if !ok {
		return Value{}, c.fail(n, "the result is outside the DateTime range (years 1 to 9999)")
	}
	return dateValue(r, kind), nil
}

func evalDateDiff(c *evalCtx, n *node) (Value, error) {
	iv, err := c.interval(n)
	if err != nil {
		return Value{}, err
	}
	a, _, aNull, err := c.dateArg(n, 1)
	if err != nil {
		return Value{}, err
	}
	b, _, bNull, err := c.dateArg(n, 2)
	if err != nil || aNull || bNull {
		return Value{}, err
	}
	return itoa(dateDiff(iv, a, b)), nil
}

// evalDateFromNum reads an AD date: 100 ns intervals since 1601-01-01 UTC.
func evalDateFromNum(c *evalCtx, n *node) (Value, error) {
	v, isNull, err := c.integer(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	if v < 0 || v > maxTicks-fileTimeEpoch {
		return Value{}, c.fail(n, "%d is outside the range of AD dates (0 to %d)", v, int64(maxTicks-fileTimeEpoch))
	}
	return Value{kind: KindDateTime, dkind: kindUTC, ticks: fileTimeEpoch + v}, nil
}

// evalNumFromDate writes an AD date (accountExpires) from an ISO 8601
// date and time.
func evalNumFromDate(c *evalCtx, n *node) (Value, error) {
	t, _, isNull, err := c.dateArg(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	ticks := ticksOf(t)
	if ticks < fileTimeEpoch {
		return Value{}, c.fail(n, "%s is before 1601-01-01, the first AD date", t.Format(time.DateOnly))
	}
	return itoa(ticks - fileTimeEpoch), nil
}

// evalFormatDateTime is DateTime.ParseExact(source, inputFormat, en-US,
// dateTimeStyles) formatted with outputFormat.
func evalFormatDateTime(c *evalCtx, n *node) (Value, error) {
	src, isNull, err := c.one(n, 0)
	if err != nil {
		return Value{}, err
	}
	stylesText, stylesNull, err := c.one(n, 1)
	if err != nil {
		return Value{}, err
	}
	in, inNull, err := c.one(n, 2)
	if err != nil {
		return Value{}, err
	}
	out, outNull, err := c.one(n, 3)
	if err != nil || isNull {
		return Value{}, err
	}
	if inNull || outNull {
		return Value{}, c.fail(n, "inputFormat and outputFormat must not be null")
	}
	st := dateStyles(defaultStyles)
	if !stylesNull && strings.TrimSpace(stylesText) != "" {
		if st, err = parseStyles(stylesText); err != nil {
			return Value{}, c.fail(n, "%v", err)
		}
	}
	t, k, err := parseExact(src, in, st, c.env.now())
	if err != nil {
		return Value{}, c.fail(n, "%v", err)
	}
	s, err := formatDate(t, k, out)
	if err != nil {
		return Value{}, c.fail(n, "outputFormat: %v", err)
	}
	return Str(s), nil
}

func checkFormatDateTime(ck *checker, n *node) error {
	if s, ok := constArg(n, 1); ok && strings.TrimSpace(s) != "" {
		if _, err := parseStyles(s); err != nil {
			return ck.fail(n.args[1].pos, "", "FormatDateTime: %v", err)
		}
	}
	for _, i := range []int{2, 3} {
		if s, ok := constArg(n, i); ok {
			if _, err := tokenizeFormat(s); err != nil {
				return ck.fail(n.args[i].pos, "see .NET's custom date and time format strings (docs/expr.md)", "FormatDateTime: %s: %v", functions["FormatDateTime"].paramName(i, 4), err)
			}
		}
	}
	return nil
}
