package forecast

import (
	"math"
	"slices"

	"github.com/costexplorer/costexplorer"
)

// model is a fitted trend with weekday effects for the regular days of one
// series, plus the excess of its first-of-month charges. Day t is counted
// from the model's origin (t = 0 is the first day it forecasts).
type model struct {
	origin costexplorer.Day
	// beta: level at t = 0, slope per day, then the effects of six
	// weekdays against the seventh (the origin's weekday), as far as the
	// data allowed: params says how many of the eight are fitted.
	beta   [nParams]float64
	params int
	trend  bool // whether the slope is fitted (else it stays zero)
	// excess is the latest first-of-month day minus the regular model's
	// value for that day: the monthly charges (support, premium features,
	// credits) that land on the 1st.
	excess float64
	// nonneg clamps regular days at zero when no fitted day was negative.
	nonneg bool
	// sigma is the residual standard deviation of the regular days, n
	// their number: the fallback interval's inputs.
	sigma float64
	n     int
}

// nParams is the full model's parameter count: level, slope, six weekdays.
const nParams = 8

// series reads a Series as float cents by day, zero outside it.
type series struct {
	start costexplorer.Day
	y     []costexplorer.Cents
}

func (s series) at(d costexplorer.Day) float64 {
	i := int(d - s.start)
	if i < 0 || i >= len(s.y) {
		return 0
	}
	return float64(s.y[i])
}

func isFirst(d costexplorer.Day) bool { return d.Time().Day() == 1 }

// x fills the regressors of day t (from the origin) for the first p params.
func (m *model) x(t int, p int, x *[nParams]float64) {
	*x = [nParams]float64{}
	x[0] = 1
	if p > 1 && m.trend {
		x[1] = float64(t)
	}
	if p > 2 {
		if w := ((t % 7) + 7) % 7; w > 0 {
			x[1+w] = 1
		}
	}
}

// regular is the model's value for day d, ignoring first-of-month charges.
func (m *model) regular(d costexplorer.Day) float64 {
	var x [nParams]float64
	m.x(int(d-m.origin), m.params, &x)
	v := 0.0
	for i := range m.params {
		v += m.beta[i] * x[i]
	}
	if m.nonneg && v < 0 {
		v = 0
	}
	return v
}

// sum is the model's total of days [from, to).
func (m *model) sum(from, to costexplorer.Day) float64 {
	v := 0.0
	for d := from; d < to; d++ {
		v += m.regular(d)
		if isFirst(d) {
			v += m.excess
		}
	}
	return v
}

// fit fits the model on the days of s before origin (see the package
// documentation for the choices).
func fit(s series, origin costexplorer.Day, o Options) model {
	m := model{origin: origin, nonneg: true}
	// The data starts at the series' first non-zero day: before it the
	// group did not exist (a partial first month, a new cluster).
	back := costexplorer.Day(max(o.Window, o.TrendWindow))
	first := origin
	for d := max(s.start, origin-back); d < origin; d++ {
		if s.at(d) != 0 {
			first = d
			break
		}
	}
	lastFirst := costexplorer.Day(-1) // the latest 1st of a month with data
	var long, short []costexplorer.Day
	for d := first; d < origin; d++ {
		if isFirst(d) {
			lastFirst = d
			continue
		}
		if d >= origin-costexplorer.Day(o.TrendWindow) {
			long = append(long, d)
		}
		if d >= origin-costexplorer.Day(o.Window) {
			short = append(short, d)
			if s.at(d) < 0 {
				m.nonneg = false
			}
		}
	}
	m.n = len(short)
	switch {
	case len(short) == 0:
		m.params = 0
	case len(short) < o.MinTrendDays/2:
		m.params = 1 // a weighted mean
	default:
		m.params = nParams // weekdays, and a trend from MinTrendDays on
	}
	if m.params > 0 {
		slope := 0.0
		if len(long) >= o.MinTrendDays {
			slope = m.theilSen(s, long)
		}
		m.beta = m.wls(s, short, m.params, o.HalfLife, slope)
		m.beta[1], m.trend = slope, slope != 0
		ss := 0.0
		for _, d := range short {
			r := s.at(d) - m.regular(d)
			ss += r * r
		}
		if k := len(short) - m.params; k > 0 {
			m.sigma = math.Sqrt(ss / float64(k))
		}
	}
	if lastFirst >= 0 {
		m.excess = s.at(lastFirst) - m.regular(lastFirst)
	}
	return m
}

// theilSen is the trend of the regular days: the Theil–Sen slope (the
// median of the slopes between every two points) of their weekly means,
// each week a run of seven days back from the origin with at least five
// regular days. Weekly means take out the weekday effects; the median
// takes out the steps a cluster's creation or deletion makes, which a
// least-squares slope over months would extrapolate. days are sorted and
// before the origin.
// maxLag is the longest span, in weeks, of the pairs whose slopes
// theilSen takes the median of: a step in the level then moves only the
// pairs across it within eight weeks, a small share of all of them, where
// over all pairs a step a third of the way back moves half of them.
const maxLag = 8

func (m *model) theilSen(s series, days []costexplorer.Day) float64 {
	type week struct {
		t, y float64
		n    int
	}
	weeks := make([]week, int(m.origin-days[0])/7+1)
	for _, d := range days {
		w := &weeks[int(m.origin-1-d)/7]
		w.t += float64(d - m.origin)
		w.y += s.at(d)
		w.n++
	}
	var slopes []float64
	for i, a := range weeks {
		for _, b := range weeks[i+1 : min(i+1+maxLag, len(weeks))] {
			if a.n >= 5 && b.n >= 5 {
				ta, tb := a.t/float64(a.n), b.t/float64(b.n)
				slopes = append(slopes, (a.y/float64(a.n)-b.y/float64(b.n))/(ta-tb))
			}
		}
	}
	if len(slopes) == 0 {
		return 0
	}
	slices.Sort(slopes)
	return quantile(slopes, 0.5)
}

// wls fits the first p parameters of the model on days by weighted least
// squares through the normal equations (weights halving every halfLife
// days back, none when 0), after taking slope × t off each day; a tiny
// ridge keeps them solvable when a weekday (or the trend) is missing.
func (m *model) wls(s series, days []costexplorer.Day, p int, halfLife, slope float64) [nParams]float64 {
	var a [nParams][nParams + 1]float64
	var x [nParams]float64
	for _, d := range days {
		t := int(d - m.origin)
		w := 1.0
		if halfLife > 0 {
			w = math.Exp2(float64(t+1) / halfLife)
		}
		m.x(t, p, &x)
		y := s.at(d) - slope*float64(t)
		for i := range p {
			for j := range p {
				a[i][j] += w * x[i] * x[j]
			}
			a[i][p] += w * x[i] * y
		}
	}
	for i := range p {
		a[i][i] += 1e-9 * (1 + a[0][0])
	}
	return solve(a, p)
}

// solve solves the augmented system a of size n by Gaussian elimination
// with partial pivoting; a singular column gets zero.
func solve(a [nParams][nParams + 1]float64, n int) [nParams]float64 {
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		if a[c][c] == 0 {
			continue
		}
		for r := range n {
			if r == c || a[r][c] == 0 {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k <= n; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	var b [nParams]float64
	for i := range n {
		if a[i][i] != 0 {
			b[i] = a[i][n] / a[i][i]
		}
	}
	return b
}
