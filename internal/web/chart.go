package web

import (
	"bytes"
	"cmp"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// maxChartGroups is how many groups a month's column shows, largest first;
// the rest of the month is one "Other" segment, as on the Atlas page.
const maxChartGroups = 19

// palette colours the chart's groups in rank order (Tableau 20 without its
// greys); otherColour is the "Other" segment's grey.
var palette = []string{
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
	"#ff9da7", "#9c755f", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d",
	"#f1ce63", "#d4a6c8", "#fabfd2", "#d7b5a6", "#499894",
}

const otherColour = "#bab0ac"

// otherKey is the data-key of the "Other" segments.
const otherKey = "other"

// Chart geometry, in SVG user units.
const (
	chartHeight      = 360
	chartTop         = 30 // room for the total above each column
	chartBottom      = 46 // two lines of month label
	chartLeft        = 72 // y axis labels
	chartRight       = 12
	chartMinWidth    = 840
	chartMinSlot     = 56 // horizontal room per month beyond 14 months
	chartDaySlot     = 24 // horizontal room per day beyond 30 days
	chartLabelSlot   = 44 // narrower columns show no total above them
	chartMaxBarWidth = 72
)

// chartModel is a laid-out chart, ready for the chart.svg template.
type chartModel struct {
	Width, Height int
	Title, Desc   string
	AxisX         string // x of the y-axis labels
	PlotLeft      string
	PlotRight     string
	Ticks         []chartTick
	Columns       []chartColumn
	Legend        []legendItem
}

type chartTick struct {
	Y     string
	Label string
	Zero  bool
}

// chartPeriod is a column of the chart: a month or a day.
type chartPeriod struct {
	Key   string // YYYY-MM or YYYY-MM-DD
	Label string // "Jan", "3"
	Sub   string // the line under it: the year, or the month on a day column
	Long  string // "Jan 2025", "3 Nov 2026"
	Link  string // where the column leads: the invoice of its month
}

// monthPeriods returns the chart periods of months.
func monthPeriods(months []costexplorer.Month) []chartPeriod {
	ps := make([]chartPeriod, len(months))
	for i, mo := range months {
		ps[i] = chartPeriod{Key: mo.String(), Label: mo.Num().String()[:3], Sub: strconv.Itoa(mo.Year()),
			Long: monthLabel(mo), Link: "/invoices?month=" + mo.String()}
	}
	return ps
}

// dayPeriods returns the chart periods of the days from start to end
// (exclusive); the month shows under the first day and each first of a
// month.
func dayPeriods(start, end costexplorer.Day) []chartPeriod {
	var ps []chartPeriod
	for d := start; d < end; d++ {
		t := d.Time()
		p := chartPeriod{Key: d.String(), Label: strconv.Itoa(t.Day()), Long: dayLabel(d),
			Link: "/invoices?month=" + d.Month().String()}
		if d == start || t.Day() == 1 {
			p.Sub = t.Month().String()[:3]
		}
		ps = append(ps, p)
	}
	return ps
}

// chartColumn is one period: its stacked segments and its total.
type chartColumn struct {
	Month      string // the period's key, YYYY-MM or YYYY-MM-DD
	Link       string
	Label      string // "Jan"
	Year       string
	X          string // centre
	LabelY     string
	YearY      string
	TotalCents int64
	TotalLabel string
	TotalY     string
	Title      string
	Segments   []chartSegment
	Forecast   *chartForecast // nil for a month without one
	Future     bool           // a month to come, with a forecast only
}

// chartSegment is one group's part of a month's column. Cents is exact: the
// browser test reads it from the data-cents attribute.
type chartSegment struct {
	X, Y, W, H string
	Fill       string
	Key        string
	Group      string
	Cents      int64
	Title      string
}

// legendItem is one entry of the legend under the chart.
type legendItem struct {
	Label string
	Fill  string
	Key   string
}

// buildChart lays out the stacked column chart of ss over the periods
// (months or days). Each period shows its maxChartGroups largest groups (by
// absolute amount) and an "Other" segment for the rest; positive amounts
// stack up from zero and negative ones (credits) down from it. fc, the
// forecasts of the total by month (forecast.go), adds to the months it
// covers, after them if need be, a dashed column and a band.
func buildChart(title, subject string, months []chartPeriod, ss []*series, fc []costexplorer.MonthForecast) *chartModel {
	data := len(months)
	for _, f := range fc {
		if len(months) == 0 || f.Month.String() > months[len(months)-1].Key {
			months = append(slices.Clip(months), monthPeriods([]costexplorer.Month{f.Month})...)
		}
	}
	n := len(months)
	width := chartMinWidth
	minSlot := chartMinSlot
	if len(months) > 0 && len(months[0].Key) > len("2006-01") {
		minSlot = chartDaySlot
	}
	if w := chartLeft + chartRight + n*minSlot; w > width {
		width = w
	}
	m := &chartModel{Width: width, Height: chartHeight, Title: title}

	// Pick each month's groups, and give every group shown anywhere a
	// colour in rank order, so a group keeps its colour across months.
	type part struct {
		s     *series // nil for Other
		cents costexplorer.Cents
	}
	rank := make(map[*series]int, len(ss))
	for i, s := range ss {
		rank[s] = i
	}
	shown := map[*series]bool{}
	parts := make([][]part, n)
	hasOther := false
	for mi := range months {
		var in []*series
		for _, s := range ss {
			if mi < data && s.Cents[mi] != 0 {
				in = append(in, s)
			}
		}
		slices.SortStableFunc(in, func(a, b *series) int {
			return cmp.Or(cmp.Compare(abs(b.Cents[mi]), abs(a.Cents[mi])), cmp.Compare(rank[a], rank[b]))
		})
		var other costexplorer.Cents
		for i, s := range in {
			if i < maxChartGroups {
				parts[mi] = append(parts[mi], part{s, s.Cents[mi]})
				shown[s] = true
			} else {
				other += s.Cents[mi]
			}
		}
		// Stack in rank order, so that colours sit at the same height
		// from month to month; Other goes last (on top).
		slices.SortFunc(parts[mi], func(a, b part) int { return cmp.Compare(rank[a.s], rank[b.s]) })
		if len(in) > maxChartGroups {
			parts[mi] = append(parts[mi], part{nil, other})
			hasOther = true
		}
	}
	colour := map[*series]string{}
	for _, s := range ss {
		if shown[s] {
			colour[s] = palette[len(m.Legend)%len(palette)]
			m.Legend = append(m.Legend, legendItem{Label: s.Label, Fill: colour[s], Key: s.Key})
		}
	}
	if hasOther {
		m.Legend = append(m.Legend, legendItem{Label: "Other", Fill: otherColour, Key: otherKey})
	}

	// The value axis spans the tallest positive stack and the deepest
	// negative one, in steps of 1, 2 or 5 times a power of ten.
	var hi, lo costexplorer.Cents
	for _, ps := range parts {
		var pos, neg costexplorer.Cents
		for _, p := range ps {
			if p.cents > 0 {
				pos += p.cents
			} else {
				neg += p.cents
			}
		}
		hi, lo = max(hi, pos), min(lo, neg)
	}
	for _, f := range fc {
		hi, lo = max(hi, f.Upper, f.Amount), min(lo, f.Lower)
	}
	step := niceStep(hi - lo)
	top := ceilTo(hi, step)
	bottom := -ceilTo(-lo, step)
	if top == bottom {
		top = step
	}
	plotTop, plotBottom := float64(chartTop), float64(chartHeight-chartBottom)
	y := func(c costexplorer.Cents) float64 {
		return plotTop + float64(top-c)/float64(top-bottom)*(plotBottom-plotTop)
	}
	m.AxisX = num(chartLeft - 8)
	m.PlotLeft = num(chartLeft)
	m.PlotRight = num(float64(width - chartRight))
	for v := bottom; v <= top; v += step {
		m.Ticks = append(m.Ticks, chartTick{Y: num(y(v)), Label: formatCompact(v), Zero: v == 0})
	}

	slot := float64(width-chartLeft-chartRight) / float64(max(n, 1))
	barW := math.Min(slot*0.62, chartMaxBarWidth)
	totals := monthTotals(ss, n)
	fcOf := map[string]*costexplorer.MonthForecast{}
	for i := range fc {
		fcOf[fc[i].Month.String()] = &fc[i]
	}
	var desc []string
	for mi, mo := range months {
		cx := chartLeft + slot*(float64(mi)+0.5)
		col := chartColumn{
			Month:      mo.Key,
			Link:       mo.Link,
			Label:      mo.Label,
			Year:       mo.Sub,
			X:          num(cx),
			LabelY:     num(plotBottom + 18),
			YearY:      num(plotBottom + 34),
			TotalCents: int64(totals[mi]),
			TotalLabel: formatCompact(totals[mi]),
			Title:      mo.Long + ": " + totals[mi].Grouped("$") + " in total",
		}
		if slot < chartLabelSlot {
			col.TotalLabel = "" // no room: the column's title and the table have it
		}
		var up, down costexplorer.Cents
		for _, p := range parts[mi] {
			var y0, y1 float64
			if p.cents >= 0 {
				y0, y1 = y(up+p.cents), y(up)
				up += p.cents
			} else {
				y0, y1 = y(down), y(down+p.cents)
				down += p.cents
			}
			seg := chartSegment{
				X: num(cx - barW/2), Y: num(y0), W: num(barW), H: num(y1 - y0),
				Cents: int64(p.cents),
			}
			if p.s == nil {
				seg.Fill, seg.Key, seg.Group = otherColour, otherKey, "Other"
			} else {
				seg.Fill, seg.Key, seg.Group = colour[p.s], p.s.Key, p.s.Label
			}
			seg.Title = seg.Group + ", " + mo.Long + ": " + p.cents.Grouped("$")
			col.Segments = append(col.Segments, seg)
		}
		col.TotalY = num(y(up) - 6)
		if f := fcOf[mo.Key]; f != nil {
			col.Forecast = &chartForecast{
				X: num(cx - barW/2), W: num(barW),
				PointY: num(y(f.Amount)), ColH: num(y(0) - y(f.Amount)),
				LowY: num(y(f.Upper)), BandH: num(y(f.Lower) - y(f.Upper)),
				Cents: int64(f.Amount), LowCents: int64(f.Lower), HighCents: int64(f.Upper),
				Label: formatCompact(f.Amount), LabelY: num(y(max(f.Upper, up)) - 6),
				Title: "Forecast, " + mo.Long + ": " + f.Amount.Grouped("$") + " (80 % interval " +
					f.Lower.Grouped("$") + " to " + f.Upper.Grouped("$") + ")",
			}
			col.TotalY = num(min(y(up), y(f.Upper)) - 20)
			desc = append(desc, "forecast "+mo.Long+" "+f.Amount.Grouped("$"))
		}
		if mi >= data {
			// A month to come: its forecast only.
			col.TotalLabel, col.Title, col.Future = "", mo.Long+": forecast only", true
		} else {
			desc = append(desc, mo.Long+" "+totals[mi].Grouped("$"))
		}
		m.Columns = append(m.Columns, col)
	}
	per, Per, adj := "month", "Month", "Monthly"
	if minSlot == chartDaySlot {
		per, Per, adj = "day", "Day", "Daily"
	}
	d := "Stacked columns of usage per " + per
	if subject != "" {
		d += ", " + subject
	}
	d += ". Each " + per + " shows its " + strconv.Itoa(maxChartGroups) + " largest groups; the rest is combined as Other."
	if len(desc) > 0 {
		d += " " + adj + " totals: " + strings.Join(desc, "; ") + "."
	}
	m.Desc = d + " The Usage By " + Per + " table lists every value."
	return m
}

// niceStep returns an axis step of 1, 2 or 5 times a power of ten, at least
// a dollar, that divides span into about five intervals (the step nearest
// span/5 on a log scale, as d3's ticks choose it).
func niceStep(span costexplorer.Cents) costexplorer.Cents {
	raw := float64(span) / 5
	power := costexplorer.Cents(100)
	for float64(power)*10 <= raw {
		power *= 10
	}
	switch ratio := raw / float64(power); {
	case ratio >= math.Sqrt(50):
		return power * 10
	case ratio >= math.Sqrt(10):
		return power * 5
	case ratio >= math.Sqrt(2):
		return power * 2
	}
	return power
}

// ceilTo rounds v (≥ 0) up to a multiple of step.
func ceilTo(v, step costexplorer.Cents) costexplorer.Cents {
	return (v + step - 1) / step * step
}

// num formats a coordinate with at most one decimal.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// renderChart writes m as a standalone SVG element.
func renderChart(m *chartModel) (template.HTML, error) {
	var buf bytes.Buffer
	if err := chartTemplate.Execute(&buf, m); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil //nolint:gosec // produced by html/template, which escaped every value
}
