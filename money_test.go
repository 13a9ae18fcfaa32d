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
