package costexplorer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// The forecast of the project's own API (POST
// /api/costexplorer/v1/orgs/{orgId}/usage:forecast, DESIGN §5.5): where
// the current month will end and what the next months will cost, per group
// or in total, each with a prediction interval. internal/forecast holds the
// method.

// ForecastMonths is how many whole months after the current one a forecast
// covers.
const ForecastMonths = 3

// ForecastCoverage is the nominal coverage of a forecast's prediction
// intervals.
const ForecastCoverage = 0.8

// UsageForecastQuery is a validated usage:forecast request for one
// organization (its scope as for [UsageQuery]): the groups (at most one
// dimension; none forecasts the total), the items counted (Filter, nil for
// every item), the forecast day (AsOf: the days before it are known, AsOf
// itself is still accruing) and the first day of history it may read.
type UsageForecastQuery struct {
	OrgID   string
	GroupBy []Dimension
	Filter  *Filter
	AsOf    Day
	Since   Day
}

// UsageForecastRequest is the usage:forecast body as it travels: every
// member optional. The Go client writes it; ParseUsageForecastRequest reads
// the same fields one by one.
type UsageForecastRequest struct {
	GroupBy []Dimension `json:"groupBy,omitempty"`
	Filter  *Filter     `json:"filter,omitempty"`
	AsOf    string      `json:"asOf,omitempty"`
}

// forecastFields are the accepted body fields; anything else is rejected.
var forecastFields = []string{"groupBy", "filter", "asOf"}

// ParseUsageForecastRequest decodes and validates a usage:forecast body for
// orgID; an empty body asks for the defaults. groupBy is a list of at most
// one dimension, filter the expression of usage:query, asOf a day no later
// than lim.Now's and after the first day of the billing data window
// (default: lim.Now's day). It returns an *Error whose code is one of
// ErrMalformedJSON, ErrInvalidJSONAttribute, ErrInvalidAttribute,
// ErrInvalidEnumValue, ErrInvalidDateFormat, ErrInvalidDateRange or
// ErrValidation, naming the offending field.
func ParseUsageForecastRequest(orgID string, body []byte, lim QueryLimits) (*UsageForecastQuery, error) {
	if lim.HistoryMonths <= 0 {
		lim.HistoryMonths = DefaultHistoryMonths
	}
	if lim.MaxFilterValues <= 0 {
		lim.MaxFilterValues = DefaultMaxFilterValues
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	raw, err := decodeObject(body, "")
	if err != nil {
		return nil, err
	}
	if err := checkFields(raw, forecastFields, ""); err != nil {
		return nil, err
	}
	today := DayOf(lim.Now)
	q := &UsageForecastQuery{OrgID: orgID, AsOf: today, Since: DayOf((MonthOf(lim.Now) - Month(lim.HistoryMonths-1)).Start())}
	if q.GroupBy, err = parseGroupBy(raw, 1); err != nil {
		return nil, err
	}
	if q.Filter, err = parseFilterField(raw, lim.MaxFilterValues); err != nil {
		return nil, err
	}
	if v, ok := raw["asOf"]; ok && !isNull(v) {
		if q.AsOf, err = parseDayField(raw, "asOf", ""); err != nil {
			return nil, err
		}
		if q.AsOf > today || q.AsOf <= q.Since {
			return nil, FieldError(ErrInvalidDateRange, "asOf", fmt.Sprintf("asOf %s is outside the billing data window: use a day after %s and no later than today, %s.", q.AsOf, q.Since, today))
		}
	}
	return q, nil
}

// parseGroupBy reads groupBy: a list of at most max distinct dimensions.
func parseGroupBy(raw map[string]json.RawMessage, max int) ([]Dimension, error) {
	dims, err := parseStringList(raw, "groupBy", "groupBy", max)
	if err != nil {
		return nil, err
	}
	var out []Dimension
	for i, s := range dims {
		d := Dimension(s)
		field := fmt.Sprintf("groupBy[%d]", i)
		if !d.Valid() {
			return nil, FieldError(ErrInvalidEnumValue, field, fmt.Sprintf("Invalid enumeration value %q for %s: use organizations, projects, clusters, services, skus or tag:KEY.", s, field))
		}
		if slices.Contains(out, d) {
			return nil, FieldError(ErrValidation, field, fmt.Sprintf("%s repeats %q: group by a dimension once.", field, s))
		}
		out = append(out, d)
	}
	return out, nil
}

// parseFilterField reads the optional filter expression.
func parseFilterField(raw map[string]json.RawMessage, maxValues int) (*Filter, error) {
	v, ok := raw["filter"]
	if !ok || isNull(v) {
		return nil, nil
	}
	nodes := 0
	f, err := parseFilter(v, "filter", 1, &nodes, maxValues)
	if err != nil {
		return nil, err
	}
	if err := f.Validate(MaxFilterDepth, maxValues); err != nil {
		return nil, err
	}
	return f, nil
}

// MonthForecast is the forecast of one calendar month: Amount is the point
// estimate of its total, Lower and Upper the bounds of the prediction
// interval, ActualToDate what was spent in it before the forecast day
// (known; zero for a month that has not begun). Lower ≤ Amount ≤ Upper.
type MonthForecast struct {
	Month        Month
	Amount       Cents
	Lower, Upper Cents
	ActualToDate Cents
}

// monthForecastWire is MonthForecast on the wire: the month as YYYY-MM, the
// point as exact dollars and cents, the rest in cents.
type monthForecastWire struct {
	Month             string `json:"month"`
	Amount            Cents  `json:"amount"`
	AmountCents       int64  `json:"amountCents"`
	LowerCents        int64  `json:"lowerCents"`
	UpperCents        int64  `json:"upperCents"`
	ActualToDateCents int64  `json:"actualToDateCents"`
}

// MarshalJSON writes m as {"month": "2026-12", "amount": 1018.39,
// "amountCents": 101839, "lowerCents", "upperCents", "actualToDateCents"}.
func (m MonthForecast) MarshalJSON() ([]byte, error) {
	return json.Marshal(monthForecastWire{Month: m.Month.String(), Amount: m.Amount, AmountCents: int64(m.Amount),
		LowerCents: int64(m.Lower), UpperCents: int64(m.Upper), ActualToDateCents: int64(m.ActualToDate)})
}

// UnmarshalJSON reads what MarshalJSON writes; the cents are authoritative.
func (m *MonthForecast) UnmarshalJSON(b []byte) error {
	var w monthForecastWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	mo, err := ParseMonth(w.Month)
	if err != nil {
		return err
	}
	*m = MonthForecast{Month: mo, Amount: Cents(w.AmountCents), Lower: Cents(w.LowerCents), Upper: Cents(w.UpperCents),
		ActualToDate: Cents(w.ActualToDateCents)}
	return nil
}

// GroupForecast is the forecast of one group: its key per group-by
// dimension (none for the total), then the month of the forecast day and
// the ForecastMonths after it, in order.
type GroupForecast struct {
	Groups map[Dimension]UsageGroup `json:"groups"`
	Months []MonthForecast          `json:"months"`
}

// UsageForecast is the answer to a UsageForecastQuery: the forecast day,
// the intervals' nominal coverage, and one GroupForecast per group that had
// usage in the history read, ordered as [CompareUsageRows] orders groups.
type UsageForecast struct {
	AsOf     Day
	Coverage float64
	Results  []GroupForecast
}

type usageForecastWire struct {
	AsOf     string          `json:"asOf"`
	Coverage float64         `json:"coverage"`
	Results  []GroupForecast `json:"results"`
}

// MarshalJSON writes f with its day as YYYY-MM-DD and an empty results
// list as [], never null.
func (f UsageForecast) MarshalJSON() ([]byte, error) {
	w := usageForecastWire{AsOf: f.AsOf.String(), Coverage: f.Coverage, Results: f.Results}
	if w.Results == nil {
		w.Results = []GroupForecast{}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *UsageForecast) UnmarshalJSON(b []byte) error {
	var w usageForecastWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d, err := ParseDay(w.AsOf)
	if err != nil {
		return fmt.Errorf("asOf: %w", err)
	}
	*f = UsageForecast{AsOf: d, Coverage: w.Coverage, Results: w.Results}
	return nil
}
