package forecast

import (
	"math"
	"slices"

	"github.com/costexplorer/costexplorer"
)

// Backtest is the accuracy of the forecasts of one month's total made on
// one day of each month of a series' history.
type Backtest struct {
	// Months are the months tested, oldest first.
	Months []BacktestMonth
	// MedianAPE is the median absolute percentage error of the point
	// forecasts (0.03 is 3 %).
	MedianAPE float64
	// Coverage is the share of months whose actual total fell within the
	// prediction interval (bounds included).
	Coverage float64
}

// BacktestMonth is one month of a Backtest: the forecast made on its day
// and the month's actual total.
type BacktestMonth struct {
	Forecast Month
	Total    costexplorer.Cents
	APE      float64 // |Point − Total| / |Total|
}

// Covered reports whether the month's total fell within the interval.
func (b *BacktestMonth) Covered() bool {
	return b.Forecast.Lower <= b.Total && b.Total <= b.Forecast.Upper
}

// RunBacktest forecasts, on day `day` (1–28) of every month of s, the
// total of the month `ahead` months later (0: the month end), as Forecast
// would have on that day (it reads nothing later), wherever that month is
// complete in s and the forecast day has o.Window days of s before it, and
// compares it with the month's total. Months whose total is zero are
// skipped (no percentage error exists).
func RunBacktest(s Series, day, ahead int, o Options) Backtest {
	o = o.withDefaults()
	end := s.Start + costexplorer.Day(len(s.Days))
	ser := series{start: s.Start, y: s.Days}
	var b Backtest
	for mo := s.Start.Month(); ; mo++ {
		from, to := costexplorer.DayOf(mo.Start()), costexplorer.DayOf((mo + 1).Start())
		if to > end {
			break
		}
		asOf := costexplorer.DayOf((mo - costexplorer.Month(ahead)).Start()) + costexplorer.Day(day-1)
		if asOf-costexplorer.Day(o.Window) < s.Start {
			continue
		}
		total := cents(ser.sumOf(from, to))
		if total == 0 {
			continue
		}
		o.Ahead = ahead
		f := Forecast(s, asOf, o)[ahead]
		b.Months = append(b.Months, BacktestMonth{Forecast: f, Total: total,
			APE: math.Abs(float64(f.Point-total)) / math.Abs(float64(total))})
	}
	if len(b.Months) == 0 {
		return b
	}
	apes := make([]float64, 0, len(b.Months))
	covered := 0
	for i := range b.Months {
		apes = append(apes, b.Months[i].APE)
		if b.Months[i].Covered() {
			covered++
		}
	}
	slices.Sort(apes)
	b.MedianAPE = quantile(apes, 0.5)
	b.Coverage = float64(covered) / float64(len(b.Months))
	return b
}
