package costexplorer

import (
	"fmt"
	"strconv"
	"strings"
)

// Cents is an amount of money in US cents. All sums are taken over Cents;
// dollars appear only when a value is written to the wire.
type Cents int64

// Dollars formats c as US dollars with exactly two decimals ("1018.39",
// "-0.50"), computed from the integer, never through a float.
func (c Cents) Dollars() string { return string(c.AppendDollars(nil)) }

// AppendDollars appends what Dollars returns to b, without allocating: the
// FOCUS export writes millions of amounts.
func (c Cents) AppendDollars(b []byte) []byte {
	v := int64(c)
	if v < 0 {
		b = append(b, '-')
	}
	u := uint64(v)
	if v < 0 {
		u = -u // also right for the most negative int64
	}
	b = strconv.AppendUint(b, u/100, 10)
	return append(b, '.', byte('0'+u%100/10), byte('0'+u%10))
}

// Grouped formats c for people to read: dollars with thousands separated by
// commas and exactly two decimals, with symbol (such as "$", or none) between
// the sign and the digits: Cents(-123456).Grouped("$") is "-$1,234.56". Like
// Dollars it works from the integer.
func (c Cents) Grouped(symbol string) string {
	d := c.Dollars()
	sign := ""
	if strings.HasPrefix(d, "-") {
		sign, d = "-", d[1:]
	}
	whole, frac, _ := strings.Cut(d, ".")
	var b strings.Builder
	b.WriteString(sign + symbol)
	for i, ch := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	b.WriteString("." + frac)
	return b.String()
}

// String implements fmt.Stringer.
func (c Cents) String() string { return c.Dollars() }

// MarshalJSON writes c as a JSON number of dollars with two decimals.
func (c Cents) MarshalJSON() ([]byte, error) { return []byte(c.Dollars()), nil }

// UnmarshalJSON reads a JSON number (or string) of dollars exactly.
func (c *Cents) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ParseDollars(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseDollars parses a decimal amount of US dollars ("1018.39", "-5", "$1,234.5",
// "(12.00)" for a negative amount) into cents exactly. More than two decimals
// are accepted only when the extra digits are zero, because silently rounding
// money would lose it.
func ParseDollars(s string) (Cents, error) {
	orig := s
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg = true
		s = s[1 : len(s)-1]
	}
	if strings.HasPrefix(s, "-") {
		neg = !neg
		s = s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	s = strings.TrimPrefix(s, "$")
	s = strings.ReplaceAll(s, ",", "")
	if s == "" {
		return 0, fmt.Errorf("invalid amount %q", orig)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if len(frac) > 2 {
		if strings.Trim(frac[2:], "0") != "" {
			return 0, fmt.Errorf("invalid amount %q: more than two decimals", orig)
		}
		frac = frac[:2]
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("invalid amount %q", orig)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<62)/100 {
		return 0, fmt.Errorf("invalid amount %q", orig)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := Cents(w*100 + f)
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
