package forecast

import (
	"math"
	"slices"

	"github.com/costexplorer/costexplorer"
)

// Series is one group's daily totals: Days[i] is the total of day Start+i,
// in cents. Days outside it count as zero.
type Series struct {
	Start costexplorer.Day
	Days  []costexplorer.Cents
}

// Month is the forecast of one calendar month. Point, Lower and Upper are
// the month's total: what was spent before the forecast day (Actual, known)
// plus the forecast of the rest, with Lower and Upper the bounds of the
// prediction interval (Lower ≤ Point ≤ Upper).
type Month struct {
	Month               costexplorer.Month
	Point, Lower, Upper costexplorer.Cents
	Actual              costexplorer.Cents
}

// Options tune the method; the zero value of a field takes the default
// given beside it.
type Options struct {
	// Window is how many days before the forecast day are fitted (84).
	Window int
	// HalfLife is the age in days at which a day's weight halves (28).
	HalfLife float64
	// TrendWindow is how many days before the forecast day the trend is
	// fitted on, without decay (364).
	TrendWindow int
	// MinTrendDays is how many regular days a trend needs (28); with
	// half as many the model is a level with weekday effects, with fewer a
	// weighted mean.
	MinTrendDays int
	// Ahead is how many whole months follow the forecast day's month (3).
	Ahead int
	// Coverage is the prediction interval's nominal coverage (0.8).
	Coverage float64
	// Origins is how many weekly past forecast days the interval's errors
	// are measured at (52); MinOrigins how many it needs to use them
	// rather than the residual fallback (8).
	Origins, MinOrigins int
}

// Defaults of Options.
const (
	DefaultWindow       = 84
	DefaultHalfLife     = 28
	DefaultTrendWindow  = 364
	DefaultMinTrendDays = 28
	DefaultAhead        = 3
	DefaultCoverage     = 0.8
	DefaultOrigins      = 52
	DefaultMinOrigins   = 1
)

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.HalfLife <= 0 {
		o.HalfLife = DefaultHalfLife
	}
	if o.TrendWindow <= 0 {
		o.TrendWindow = DefaultTrendWindow
	}
	if o.MinTrendDays <= 0 {
		o.MinTrendDays = DefaultMinTrendDays
	}
	if o.Ahead <= 0 {
		o.Ahead = DefaultAhead
	}
	if o.Coverage <= 0 || o.Coverage >= 1 {
		o.Coverage = DefaultCoverage
	}
	if o.Origins <= 0 {
		o.Origins = DefaultOrigins
	}
	if o.MinOrigins <= 0 {
		o.MinOrigins = DefaultMinOrigins
	}
	return o
}

// History returns the first day whose total Forecast may read for a
// forecast made on asOf: the fitted window of the oldest past forecast day
// the intervals are measured at. Days before it do not change the answer.
func History(asOf costexplorer.Day, o Options) costexplorer.Day {
	o = o.withDefaults()
	return asOf - costexplorer.Day(longestTarget(asOf, o)+7*o.Origins+max(o.Window, o.TrendWindow))
}

// longestTarget is the end of the last forecast month, in days from asOf.
func longestTarget(asOf costexplorer.Day, o Options) int {
	return int(costexplorer.DayOf((asOf.Month() + costexplorer.Month(o.Ahead) + 1).Start()) - asOf)
}

// Forecast forecasts, on day asOf, the month of asOf and the o.Ahead
// months after it from s. Only the days of s before asOf are read: asOf
// itself is still accruing. See the package documentation for the method.
func Forecast(s Series, asOf costexplorer.Day, o Options) []Month {
	o = o.withDefaults()
	ser := series{start: s.Start, y: s.Days}
	if end := int(asOf - s.Start); end < len(ser.y) {
		ser.y = ser.y[:max(end, 0)]
	}
	// The targets: the rest of asOf's month, then each whole month, as
	// day ranges [from, to).
	type target struct {
		month    costexplorer.Month
		from, to costexplorer.Day
		actual   float64
	}
	first := asOf.Month()
	targets := make([]target, 0, o.Ahead+1)
	for k := range o.Ahead + 1 {
		mo := first + costexplorer.Month(k)
		t := target{month: mo, from: costexplorer.DayOf(mo.Start()), to: costexplorer.DayOf((mo + 1).Start())}
		if k == 0 {
			for d := t.from; d < asOf; d++ {
				t.actual += ser.at(d)
			}
			t.from = asOf
		}
		targets = append(targets, t)
	}
	m := fit(ser, asOf, o)

	// The errors of the same forecasts made on past days, a week apart:
	// the relative error of each target's sum at each origin whose target
	// lies wholly before asOf.
	errs := make([][]float64, len(targets))
	for j := 1; j <= o.Origins+longestTarget(asOf, o)/7+1; j++ {
		origin := asOf - costexplorer.Day(7*j)
		if origin-costexplorer.Day(o.MinTrendDays) < ser.start {
			break
		}
		pm := fit(ser, origin, o)
		for i, t := range targets {
			from, to := origin+(t.from-asOf), origin+(t.to-asOf)
			if to > asOf || len(errs[i]) >= o.Origins {
				continue
			}
			f := pm.sum(from, to)
			if f == 0 {
				continue
			}
			errs[i] = append(errs[i], (ser.sumOf(from, to)-f)/math.Abs(f))
		}
	}

	z := normalQuantile(0.5 + o.Coverage/2)
	out := make([]Month, len(targets))
	for i, t := range targets {
		f := m.sum(t.from, t.to)
		var lo, hi float64
		if e := errs[i]; len(e) >= o.MinOrigins {
			for k := range e {
				e[k] = math.Abs(e[k])
			}
			slices.Sort(e)
			w := conformal(e, o.Coverage) * math.Abs(f)
			lo, hi = f-w, f+w
		} else {
			h := float64(t.to - t.from)
			w := z * m.sigma * h
			lo, hi = f-w, f+w
		}
		lo, hi = math.Min(lo, f), math.Max(hi, f)
		if m.nonneg && m.excess >= 0 {
			lo = math.Max(lo, 0)
		}
		out[i] = Month{
			Month:  t.month,
			Actual: cents(t.actual),
			Point:  cents(t.actual + f),
			Lower:  cents(t.actual + lo),
			Upper:  cents(t.actual + hi),
		}
	}
	return out
}

// sumOf is the series' total of days [from, to).
func (s series) sumOf(from, to costexplorer.Day) float64 {
	v := 0.0
	for d := from; d < to; d++ {
		v += s.at(d)
	}
	return v
}

// cents rounds a float amount of cents to the nearest cent, once, at the
// end of the computation.
func cents(v float64) costexplorer.Cents { return costexplorer.Cents(math.Round(v)) }

// quantile is the p-quantile of sorted xs, interpolated linearly between
// order statistics (R's type 7).
func quantile(xs []float64, p float64) float64 {
	h := p * float64(len(xs)-1)
	i := int(math.Floor(h))
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}

// conformal is the split-conformal quantile of the sorted scores xs at
// coverage p: the ⌈(k+1)p⌉-th smallest of k scores, which a new score
// exchangeable with them stays within with probability at least p; the
// largest score when there are too few for that.
func conformal(xs []float64, p float64) float64 {
	i := int(math.Ceil(float64(len(xs)+1)*p)) - 1
	return xs[min(i, len(xs)-1)]
}

// normalQuantile is the standard normal distribution's p-quantile.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }
