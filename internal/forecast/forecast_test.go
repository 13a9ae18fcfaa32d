package forecast_test

import (
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/forecast"
)

// parse returns what f parses of s, and fails the test on an error.
func parse[T any](t testing.TB, f func(string) (T, error), s string) T {
	t.Helper()
	v, err := f(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func day(t testing.TB, s string) costexplorer.Day {
	t.Helper()
	return parse(t, costexplorer.ParseDay, s)
}

func month(t testing.TB, s string) costexplorer.Month {
	t.Helper()
	return parse(t, costexplorer.ParseMonth, s)
}

// makeSeries returns the days [from, to) valued by f.
func makeSeries(from, to costexplorer.Day, f func(d costexplorer.Day) costexplorer.Cents) forecast.Series {
	s := forecast.Series{Start: from}
	for d := from; d < to; d++ {
		s.Days = append(s.Days, f(d))
	}
	return s
}

func near(got costexplorer.Cents, want, tol float64) bool {
	return float64(got) >= want-tol && float64(got) <= want+tol
}

func checkOrdered(t *testing.T, ms []forecast.Month) {
	t.Helper()
	for _, m := range ms {
		if !(m.Lower <= m.Point && m.Point <= m.Upper) {
			t.Errorf("%s: lower %d, point %d, upper %d are not in order", m.Month, m.Lower, m.Point, m.Upper)
		}
	}
}

func TestForecastConstantIsExact(t *testing.T) {
	asOf := day(t, "2026-11-10")
	s := makeSeries(day(t, "2026-01-01"), asOf, func(costexplorer.Day) costexplorer.Cents { return 1000 })
	got := forecast.Forecast(s, asOf, forecast.Options{})
	want := []forecast.Month{
		{Month: month(t, "2026-11"), Point: 30 * 1000, Lower: 30 * 1000, Upper: 30 * 1000, Actual: 9 * 1000},
		{Month: month(t, "2026-12"), Point: 31 * 1000, Lower: 31 * 1000, Upper: 31 * 1000},
		{Month: month(t, "2027-01"), Point: 31 * 1000, Lower: 31 * 1000, Upper: 31 * 1000},
		{Month: month(t, "2027-02"), Point: 28 * 1000, Lower: 28 * 1000, Upper: 28 * 1000},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d months, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("month %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestForecastReadsNothingFromAsOf(t *testing.T) {
	asOf := day(t, "2026-11-10")
	flat := func(costexplorer.Day) costexplorer.Cents { return 1000 }
	a := makeSeries(day(t, "2026-06-01"), asOf, flat)
	b := makeSeries(day(t, "2026-06-01"), asOf+40, func(d costexplorer.Day) costexplorer.Cents {
		if d >= asOf {
			return 99999
		}
		return 1000
	})
	fa, fb := forecast.Forecast(a, asOf, forecast.Options{}), forecast.Forecast(b, asOf, forecast.Options{})
	for i := range fa {
		if fa[i] != fb[i] {
			t.Errorf("month %d: %+v with later days, %+v without", i, fb[i], fa[i])
		}
	}
}

func TestForecastFollowsTrendAndWeekdays(t *testing.T) {
	// 100 $ a day growing by 1 $ a day, half on Saturdays and Sundays.
	asOf := day(t, "2026-11-10")
	origin := day(t, "2026-01-01")
	value := func(d costexplorer.Day) float64 {
		v := 10000 + 100*float64(d-origin)
		if wd := d.Time().Weekday(); wd == 0 || wd == 6 {
			v -= 5000
		}
		return v
	}
	s := makeSeries(origin, asOf, func(d costexplorer.Day) costexplorer.Cents { return costexplorer.Cents(value(d)) })
	got := forecast.Forecast(s, asOf, forecast.Options{})
	checkOrdered(t, got)
	for _, m := range got {
		from := max(costexplorer.DayOf(m.Month.Start()), asOf)
		want := float64(m.Actual)
		for d := from; d < costexplorer.DayOf((m.Month + 1).Start()); d++ {
			want += value(d)
		}
		// An exact linear series with exact weekday effects is fitted
		// exactly, up to float rounding and the ridge.
		if !near(m.Point, want, 2) {
			t.Errorf("%s: point %d, want %.0f", m.Month, m.Point, want)
		}
	}
}

func TestForecastFirstOfMonthCharges(t *testing.T) {
	// 50 $ a day, a 400 $ support charge and a 1000 $ credit on each 1st.
	asOf := day(t, "2026-11-10")
	s := makeSeries(day(t, "2026-03-01"), asOf, func(d costexplorer.Day) costexplorer.Cents {
		if d.Time().Day() == 1 {
			return 5000 + 40000 - 100000
		}
		return 5000
	})
	got := forecast.Forecast(s, asOf, forecast.Options{})
	if want := costexplorer.Cents(30*5000 - 60000); got[0].Point != want {
		t.Errorf("November: point %d, want %d (the 1st is known)", got[0].Point, want)
	}
	if want := costexplorer.Cents(31*5000 - 60000); got[1].Point != want {
		t.Errorf("December: point %d, want %d (with the 1st's charges)", got[1].Point, want)
	}
	checkOrdered(t, got)
}

func TestForecastPartialHistoryAndZeroDays(t *testing.T) {
	asOf := day(t, "2026-11-10")
	t.Run("NewGroupStartsMidMonth", func(t *testing.T) {
		// A cluster created on the 3rd: leading zeros are not its history.
		born := day(t, "2026-11-03")
		s := makeSeries(day(t, "2026-01-01"), asOf, func(d costexplorer.Day) costexplorer.Cents {
			if d < born {
				return 0
			}
			return 2000
		})
		got := forecast.Forecast(s, asOf, forecast.Options{})
		checkOrdered(t, got)
		if want := costexplorer.Cents(28 * 2000); got[0].Point != want || got[0].Actual != 7*2000 {
			t.Errorf("November: %+v, want point %d and actual %d", got[0], want, 7*2000)
		}
		if got[0].Lower < got[0].Actual {
			t.Errorf("November: lower %d below what is already spent (%d)", got[0].Lower, got[0].Actual)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		for _, m := range forecast.Forecast(forecast.Series{}, asOf, forecast.Options{}) {
			if m.Point != 0 || m.Lower != 0 || m.Upper != 0 || m.Actual != 0 {
				t.Errorf("%s: %+v, want zeros", m.Month, m)
			}
		}
	})
	t.Run("DeletedGroupDoesNotGoNegative", func(t *testing.T) {
		// Spending falls to zero: the fitted trend points down, but a series
		// that was never negative is not forecast below zero.
		s := makeSeries(day(t, "2026-07-01"), asOf, func(d costexplorer.Day) costexplorer.Cents {
			return costexplorer.Cents(max(0, 100*int(day(t, "2026-10-20")-d)))
		})
		for _, m := range forecast.Forecast(s, asOf, forecast.Options{}) {
			if m.Point < 0 || m.Lower < 0 {
				t.Errorf("%s: %+v, negative", m.Month, m)
			}
		}
	})
	t.Run("SparseDays", func(t *testing.T) {
		// Usage every fourth day only: zero days are data.
		s := makeSeries(day(t, "2026-05-01"), asOf, func(d costexplorer.Day) costexplorer.Cents {
			if d%4 == 0 {
				return 4000
			}
			return 0
		})
		got := forecast.Forecast(s, asOf, forecast.Options{})
		checkOrdered(t, got)
		if !near(got[1].Point, 31*1000, 31*1000*0.15) {
			t.Errorf("December: point %d, want about %d", got[1].Point, 31*1000)
		}
	})
}

func TestForecastIntervalWidensWithNoise(t *testing.T) {
	// A deterministic noise of ±20 %: the interval must have some width,
	// and the months further out no narrower than the next one.
	asOf := day(t, "2026-11-10")
	s := makeSeries(day(t, "2025-06-01"), asOf, func(d costexplorer.Day) costexplorer.Cents {
		h := uint32(d) * 2654435761
		return costexplorer.Cents(10000 + int(h>>16)%4001 - 2000)
	})
	got := forecast.Forecast(s, asOf, forecast.Options{})
	checkOrdered(t, got)
	for _, m := range got {
		if m.Upper-m.Lower <= 0 {
			t.Errorf("%s: an interval of no width for a noisy series: %+v", m.Month, m)
		}
	}
}

func TestForecastLevelStepIsNotATrend(t *testing.T) {
	// A large cluster deleted in March: 1,100 $ a day, then 100 $ a day.
	// The step is no trend: the months ahead stay near 100 $ a day.
	asOf := day(t, "2025-06-15")
	s := makeSeries(day(t, "2025-01-01"), asOf, func(d costexplorer.Day) costexplorer.Cents {
		if d < day(t, "2025-03-06") {
			return 110000
		}
		return 10000
	})
	got := forecast.Forecast(s, asOf, forecast.Options{})
	checkOrdered(t, got)
	for _, m := range got[1:] {
		days := float64(costexplorer.DayOf((m.Month + 1).Start()) - costexplorer.DayOf(m.Month.Start()))
		if !near(m.Point, days*10000, days*10000*0.05) {
			t.Errorf("%s: point %d, want about %.0f", m.Month, m.Point, days*10000)
		}
	}
}
