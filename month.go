package costexplorer

import (
	"fmt"
	"time"
)

// Month is a calendar month, counted as year*12 + (month-1), so that months
// compare and subtract as integers.
type Month int32

// MonthOf returns the month that contains t (in UTC).
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month(t.Year()*12 + int(t.Month()) - 1)
}

// MakeMonth returns the month of the given year and month number (1–12).
func MakeMonth(year int, month time.Month) Month { return Month(year*12 + int(month) - 1) }

// Year returns the calendar year of m.
func (m Month) Year() int { return int(m) / 12 }

// Num returns the month number of m, 1 to 12.
func (m Month) Num() time.Month { return time.Month(int(m)%12 + 1) }

// Start returns the first instant of m, in UTC.
func (m Month) Start() time.Time { return time.Date(m.Year(), m.Num(), 1, 0, 0, 0, 0, time.UTC) }

// Date returns the first day of m as YYYY-MM-DD, the form of usageDate.
func (m Month) Date() string { return fmt.Sprintf("%04d-%02d-01", m.Year(), int(m.Num())) }

// String returns m as YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year(), int(m.Num())) }

// ParseMonth parses YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return 0, fmt.Errorf("invalid month %q: want YYYY-MM", s)
	}
	return MonthOf(t), nil
}

// Day is a calendar day, as days since 1970-01-01 (UTC).
type Day int32

// DayOf returns the day that contains t (in UTC).
func DayOf(t time.Time) Day {
	t = t.UTC()
	return Day(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time returns the first instant of d, in UTC.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Month returns the month that contains d.
func (d Day) Month() Month { return MonthOf(d.Time()) }

// String returns d as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format("2006-01-02") }

// ParseDay parses a day written YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("invalid day %q: want YYYY-MM-DD", s)
	}
	return DayOf(t), nil
}
