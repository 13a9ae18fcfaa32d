package costexplorer

import "testing"

func TestCentsDollars(t *testing.T) {
	for _, tc := range []struct {
		c    Cents
		want string
	}{
		{0, "0.00"}, {1, "0.01"}, {101839, "1018.39"}, {-50, "-0.50"}, {-500, "-5.00"}, {-123456, "-1234.56"},
		{9223372036854775807, "92233720368547758.07"},
	} {
		if got := tc.c.Dollars(); got != tc.want {
			t.Errorf("Cents(%d).Dollars() = %q, want %q", int64(tc.c), got, tc.want)
		}
	}
}

func TestCentsGrouped(t *testing.T) {
	for _, tc := range []struct {
		c            Cents
		bare, dollar string
	}{
		{0, "0.00", "$0.00"},
		{5, "0.05", "$0.05"},
		{-50, "-0.50", "-$0.50"},
		{2000, "20.00", "$20.00"},
		{99999, "999.99", "$999.99"},
		{123456, "1,234.56", "$1,234.56"},
		{45678900, "456,789.00", "$456,789.00"},
		{100000000, "1,000,000.00", "$1,000,000.00"},
		{-123456789, "-1,234,567.89", "-$1,234,567.89"},
		{9223372036854775807, "92,233,720,368,547,758.07", "$92,233,720,368,547,758.07"},
	} {
		if got := tc.c.Grouped(""); got != tc.bare {
			t.Errorf("Cents(%d).Grouped(\"\") = %q, want %q", int64(tc.c), got, tc.bare)
		}
		if got := tc.c.Grouped("$"); got != tc.dollar {
			t.Errorf("Cents(%d).Grouped(\"$\") = %q, want %q", int64(tc.c), got, tc.dollar)
		}
	}
}

func TestParseDollars(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Cents
	}{
		{"1018.39", 101839}, {"$1,018.39", 101839}, {"-5", -500}, {"-0.5", -50}, {"(12.00)", -1200},
		{".07", 7}, {"3.100", 310}, {"+2.5", 250}, {" 7 ", 700}, {"-$3.20", -320},
	} {
		got, err := ParseDollars(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDollars(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "abc", "1.005", "1.2.3", "--1", "$", "1e5", "99999999999999999999"} {
		if v, err := ParseDollars(bad); err == nil {
			t.Errorf("ParseDollars(%q) = %d, want an error", bad, v)
		}
	}
}

func TestCentsJSONRoundTrip(t *testing.T) {
	for _, c := range []Cents{0, 5, -5, 101839, -101839} {
		b, _ := c.MarshalJSON()
		var back Cents
		if err := back.UnmarshalJSON(b); err != nil || back != c {
			t.Errorf("round trip of %d via %s = %d, %v", c, b, back, err)
		}
	}
}
