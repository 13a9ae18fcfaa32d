// Package forecast forecasts spending from daily totals: the end of the
// current month and the next months, each with a point estimate and a
// prediction interval (DESIGN §5.5, docs/forecast.md). It is pure: a
// series of daily totals in, months out; the caller gets the totals (a
// DAILY UsageQuery) and writes the answer.
//
// # The method
//
// A forecast made on day asOf reads only the days before asOf: asOf itself
// is still accruing. Each series (a group, or the total) is modelled on its
// own, in three parts.
//
// Regular days. Every day but the 1st of a month is a regular day; the
// series starts at its first non-zero day (before it the group did not
// exist: a partial first month, a new cluster). The trend is robust and
// slow: over the last TrendWindow days (364), the regular days are
// averaged by week (taking out the weekday effects), and the slope is the
// median of the slopes between every two weekly means at most eight weeks
// apart (a Theil–Sen estimate over short spans). A slope extrapolated over
// months must not chase the last few weeks, and a step in the level (a
// large cluster deleted) must not read as a trend: it moves only the few
// pairs across it. The level and the weekday effects are then fitted, the
// slope held, by weighted least squares over the last Window days (84),
// weights halving every HalfLife days (28) back, so that a change of level
// (a cluster added or deleted) takes over within weeks. With fewer than MinTrendDays (28)
// regular days there is no trend (a trend from a fortnight extrapolates
// noise over months); with fewer than half that, no weekdays either (a
// weighted mean). Zero days are data like any other. When no fitted day is
// negative, a forecast day is never below zero (a deleted cluster's
// level does not go on falling).
//
// The 1st of the month. Monthly charges — support plans, premium features,
// credits — land on the 1st. The excess of the latest 1st over the regular
// model's value for that day is added to every future 1st.
//
// The month. A month's point forecast is what was spent in it before asOf
// (known, the actualToDate) plus the model's sum over its remaining days.
//
// # The prediction interval
//
// The interval comes from the method's own errors on the same series, not
// from a distribution assumed for them: the same forecast (same target
// offsets from the forecast day) is made at past forecast days a week apart
// (up to Origins, 52), each fitted only on the days before it, and its
// relative error |actual − forecast| / |forecast| is measured wherever the
// target lies wholly before asOf. The half-width of the interval is the
// split-conformal quantile of these k errors at the coverage (the
// ⌈(k+1)·0.8⌉-th smallest), times the point forecast of the remaining days.
// Errors grow with the horizon, so the interval does: each month has its
// own errors. Only when a series is too short for any past forecast does
// the interval fall back to the regular days' residual spread σ, taken as
// fully correlated over the h remaining days: ± z₀.₉ · σ · h. Lower is
// clamped at zero for a series that was never negative.
//
// # Money
//
// Totals are integer cents. The fit and the sums run in float64 (the
// values, at most a few billion cents a month, are exact in it); each
// amount of the answer is rounded to the nearest cent once, at the end.
// The parts therefore need not add up to the cent (a month's point is
// rounded on its own, not summed from rounded days).
//
// # Accuracy
//
// RunBacktest measures the month-end forecasts made on one day of every
// month of a history; TestBacktestDemo runs it on the demo dataset and
// keeps it from regressing. docs/forecast.md has the figures.
package forecast
