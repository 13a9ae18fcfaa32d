package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// The "By day & tag" page (GET /usage): the project's own usage queries
// (DESIGN §5.5) — a granularity switch, a stacked chart per day or month,
// group by a tag or any dimension and then by a second one (the table
// pivots), filters in the people's syntax (costexplorer.ParseFilterText),
// and the month-to-date card. Its queries are the API's usage:query: the
// same body goes through costexplorer.ParseUsageQueryRequest and the same
// evaluator answers it at once.

// URL parameters of the usage page.
const (
	paramGranularity = "granularity" // daily or monthly
	paramDayFrom     = "from"        // first day, YYYY-MM-DD
	paramDayTo       = "to"          // last day (inclusive), YYYY-MM-DD
	paramBy          = "by"          // the first group-by dimension
	paramThen        = "then"        // the second, optional
	paramFilter      = "filter"      // the filter in the people's syntax
)

// usageDefaultBy is the first grouping of a first visit.
const usageDefaultBy = "services"

// usagePage is the data of the usage template.
type usagePage struct {
	pageBase
	Form   usageForm
	Errors []string
	Card   *mtdCard
	Result *usageResult
	API    string // the usage:query body of what is shown
	Path   string
}

// usageForm is the form as the URL gives it.
type usageForm struct {
	Daily          bool
	From, To       string
	By, Then       string
	Filter         string
	Dimensions     []string
	MonthlyURL     string
	DailyURL       string
	ExplorerURL    string
	MaxDay, MinDay string
}

// usageResult is a ready answer: the chart over the periods by the first
// dimension, and the table — by period, or pivoted by the second dimension.
type usageResult struct {
	Heading string
	Total   moneyCell
	Chart   template.HTML
	Legend  []legendItem
	Table   usageTable
	Rows    int
	Empty   bool
}

// usageTable is the table: a row per group of the first dimension, a
// column per period or, with a second dimension, per group of it.
type usageTable struct {
	Corner  string
	Columns []usageColumn
	Rows    []tableRow
	Totals  []moneyCell
	Grand   moneyCell
}

// usageColumn is a column of the table: its key (data-col) and heading.
type usageColumn struct {
	Key, Label string
}

// mtdCard is the month-to-date card: what the month has cost so far and how
// that compares with the same days of the month before.
type mtdCard struct {
	Month       string
	Through     string
	Spent       moneyCell
	LastSame    moneyCell
	LastMonth   string
	LastFull    moneyCell
	Change      string // "+3.2 %", or "" when last month had nothing
	ChangeClass string // up, down
	// Forecast is the month end forecast (internal/forecast, the API's
	// usage:forecast of the filter's total), nil when there is none.
	Forecast *costexplorer.MonthForecast
	Point    moneyCell
	Low      moneyCell
	High     moneyCell
}

// usage serves GET /usage.
func (s *Server) usage(w http.ResponseWriter, r *http.Request, rq *request) {
	if !s.billingAllowed(w, r, rq, "billing data", "The Cost Explorer needs") {
		return
	}
	now := s.cfg.Now()
	page := &usagePage{pageBase: pageBase{Title: "By day & tag", Session: rq.view}, Path: "POST /api/costexplorer/v1/orgs/" + rq.p.OrgID + "/usage:query"}
	page.Form = usageFormOf(r.URL.Query(), now, s.cfg.HistoryMonths)
	lim := costexplorer.QueryLimits{Now: now, HistoryMonths: s.cfg.HistoryMonths}

	filter, err := parsePageFilter(page.Form.Filter)
	if err == nil {
		page.Card, err = s.monthToDate(r, rq.p.OrgID, filter, now, lim)
	}
	var fc []costexplorer.MonthForecast
	if err == nil {
		fc, err = s.filterForecast(r.Context(), rq.p.OrgID, filter)
	}
	if len(fc) > 0 {
		c := page.Card
		c.Forecast, c.Point, c.Low, c.High = &fc[0], cell(fc[0].Amount), cell(fc[0].Lower), cell(fc[0].Upper)
	}
	var q *costexplorer.UsageQuery
	var rows []costexplorer.UsageRow
	if err == nil {
		q, rows, err = s.pageQuery(r, rq.p.OrgID, page, filter, lim)
	}
	if err != nil {
		var ce *costexplorer.Error
		if !errors.As(err, &ce) || ce.Code == costexplorer.ErrInternal || ce.Code == costexplorer.ErrUnavailable {
			s.unexpected(w, r, err, rq.view)
			return
		}
		page.Errors = append(page.Errors, ce.Detail)
		s.render(w, r, http.StatusBadRequest, "usage.html", page)
		return
	}
	if q.Granularity != costexplorer.Monthly || (q.End-1).Month() != costexplorer.MonthOf(now) {
		fc = nil // the forecast is drawn on a monthly chart that ends with this month
	}
	if page.Result, err = usageResultView(q, rows, fc); err != nil {
		s.unexpected(w, r, err, rq.view)
		return
	}
	s.render(w, r, http.StatusOK, "usage.html", page)
}

// usageFormOf reads the form from the URL, with the defaults of a first
// visit: daily, from the first of last month to today, by service.
func usageFormOf(v url.Values, now time.Time, history int) usageForm {
	f := usageForm{
		Daily:  !strings.EqualFold(v.Get(paramGranularity), "monthly"),
		From:   strings.TrimSpace(v.Get(paramDayFrom)),
		To:     strings.TrimSpace(v.Get(paramDayTo)),
		By:     strings.TrimSpace(v.Get(paramBy)),
		Then:   strings.TrimSpace(v.Get(paramThen)),
		Filter: strings.TrimSpace(v.Get(paramFilter)),
	}
	today := costexplorer.DayOf(now)
	current := costexplorer.MonthOf(now)
	if f.To == "" {
		f.To = today.String()
	}
	if f.From == "" {
		back := costexplorer.Month(1)
		if !f.Daily {
			back = defaultMonths - 1
		}
		f.From = costexplorer.DayOf((current - back).Start()).String()
	}
	if _, ok := v[paramBy]; !ok {
		f.By = usageDefaultBy
	}
	f.Dimensions = []string{"services", "projects", "clusters", "organizations", "skus", "tag:team", "tag:environment", "tag:cost-center"}
	f.MinDay = costexplorer.DayOf((current - costexplorer.Month(history) + 1).Start()).String()
	f.MaxDay = (costexplorer.DayOf((current + 1).Start()) - 1).String()
	switchTo := func(g string) string {
		u := url.Values{}
		for k, vs := range v {
			u[k] = vs
		}
		u.Set(paramGranularity, g)
		return "/usage?" + u.Encode()
	}
	f.DailyURL, f.MonthlyURL = switchTo("daily"), switchTo("monthly")
	f.ExplorerURL = "/explorer"
	return f
}

// parsePageFilter reads the filter box; a mistake in it is a 400 naming it.
func parsePageFilter(s string) (*costexplorer.Filter, error) {
	if s == "" {
		return nil, nil
	}
	f, err := costexplorer.ParseFilterText(s)
	if err != nil {
		return nil, costexplorer.FieldError(costexplorer.ErrValidation, paramFilter, "Filter: "+err.Error()+".")
	}
	return f, nil
}

// pageQuery runs the query of the form: the request body it makes goes
// through the API's parser, so that the page refuses what the API refuses.
func (s *Server) pageQuery(r *http.Request, orgID string, page *usagePage, filter *costexplorer.Filter, lim costexplorer.QueryLimits) (*costexplorer.UsageQuery, []costexplorer.UsageRow, error) {
	f := &page.Form
	req := costexplorer.UsageQueryRequest{Granularity: costexplorer.Monthly, Filter: filter, PageSize: costexplorer.MaxUsagePageSize}
	if f.Daily {
		req.Granularity = costexplorer.Daily
	}
	to, err := costexplorer.ParseDay(f.To)
	if err != nil {
		return nil, nil, costexplorer.FieldError(costexplorer.ErrInvalidDateFormat, paramDayTo, fmt.Sprintf("The last day %q is not a day (YYYY-MM-DD).", f.To))
	}
	req.TimePeriod = costexplorer.TimePeriod{Start: f.From, End: (to + 1).String()}
	for _, g := range []string{f.By, f.Then} {
		if g == "" {
			continue
		}
		d, err := costexplorer.ParseDimension(g)
		if err != nil {
			return nil, nil, costexplorer.FieldError(costexplorer.ErrInvalidEnumValue, paramBy, "Group by: "+err.Error()+".")
		}
		req.GroupBy = append(req.GroupBy, d)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, nil, err
	}
	if shown, err := json.MarshalIndent(req, "", "  "); err == nil && len(shown) <= maxShownBody {
		page.API = string(shown)
	}
	q, _, err := costexplorer.ParseUsageQueryRequest(orgID, body, lim)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.cfg.UsageQueries.EvaluateUsage(r.Context(), q)
	if err == nil {
		err = costexplorer.CheckUsageRows(len(rows), costexplorer.DefaultMaxUsageRows)
	}
	return q, rows, err
}

// monthToDate builds the month-to-date card for the filter: the current
// month from its first day through today, against the same days of the
// month before (as many as it has) and that month in full.
func (s *Server) monthToDate(r *http.Request, orgID string, filter *costexplorer.Filter, now time.Time, lim costexplorer.QueryLimits) (*mtdCard, error) {
	today := costexplorer.DayOf(now)
	cur := today.Month()
	first, lastFirst := costexplorer.DayOf(cur.Start()), costexplorer.DayOf((cur - 1).Start())
	sameEnd := min(lastFirst+(today-first)+1, first)
	sum := func(start, end costexplorer.Day) (costexplorer.Cents, error) {
		if start < costexplorer.DayOf((cur - costexplorer.Month(lim.HistoryMonths) + 1).Start()) {
			return 0, nil // before the history the API serves
		}
		rows, err := s.cfg.UsageQueries.EvaluateUsage(r.Context(), &costexplorer.UsageQuery{
			OrgID: orgID, Granularity: costexplorer.Monthly, Start: start, End: end, Filter: filter})
		var t costexplorer.Cents
		for _, row := range rows {
			t += row.Amount
		}
		return t, err
	}
	spent, err := sum(first, today+1)
	if err != nil {
		return nil, err
	}
	same, err := sum(lastFirst, sameEnd)
	if err != nil {
		return nil, err
	}
	full, err := sum(lastFirst, first)
	if err != nil {
		return nil, err
	}
	c := &mtdCard{Month: monthLabel(cur), Through: dayLabel(today), Spent: cell(spent), LastSame: cell(same),
		LastMonth: monthLabel(cur - 1), LastFull: cell(full)}
	if same != 0 {
		pct := float64(spent-same) / float64(abs(same)) * 100
		c.Change = fmt.Sprintf("%+.1f %%", pct)
		c.ChangeClass = "up"
		if spent < same {
			c.ChangeClass = "down"
		}
	}
	return c, nil
}

// usageResultView builds the chart and the table of an answer.
func usageResultView(q *costexplorer.UsageQuery, rows []costexplorer.UsageRow, fc []costexplorer.MonthForecast) (*usageResult, error) {
	var periods []chartPeriod
	periodOf := func(d costexplorer.Day) string { return d.String() }
	if q.Granularity == costexplorer.Daily {
		periods = dayPeriods(q.Start, q.End)
	} else {
		var months []costexplorer.Month
		for m := q.Start.Month(); m <= (q.End - 1).Month(); m++ {
			months = append(months, m)
		}
		periods = monthPeriods(months)
		periodOf = func(d costexplorer.Day) string { return d.Month().String() }
	}
	index := make(map[string]int, len(periods))
	for i, p := range periods {
		index[p.Key] = i
	}
	// The chart and the by-period table: a series per group of the first
	// dimension (the total when there is none).
	first := usageSeries(q, 0)
	var grand costexplorer.Cents
	for i := range rows {
		r := &rows[i]
		pi, ok := index[periodOf(r.Start)]
		if !ok {
			return nil, fmt.Errorf("usage row of %s is outside the query's periods", r.Start)
		}
		first.add(r, pi, len(periods))
		grand += r.Amount
	}
	ss := first.sorted()
	subject := dayLabel(q.Start) + " to " + dayLabel(q.End-1)
	if len(q.GroupBy) > 0 {
		subject += ", grouped by " + string(q.GroupBy[0])
		if len(q.GroupBy) > 1 {
			subject += " then " + string(q.GroupBy[1])
		}
	}
	per := "day"
	if q.Granularity == costexplorer.Monthly {
		per = "month"
	}
	chart := buildChart("Usage per "+per+", "+subject, subject, periods, ss, fc)
	svg, err := renderChart(chart)
	if err != nil {
		return nil, fmt.Errorf("render chart: %w", err)
	}
	res := &usageResult{Heading: subject, Total: cell(grand), Chart: svg, Legend: chart.Legend, Rows: len(rows), Empty: len(rows) == 0}
	t := &res.Table
	t.Corner = "Total"
	if len(q.GroupBy) > 0 {
		t.Corner = dimensionLabel(q.GroupBy[0])
	}
	t.Grand = cell(grand)
	if len(q.GroupBy) < 2 {
		for _, p := range periods {
			t.Columns = append(t.Columns, usageColumn{Key: p.Key, Label: p.Long})
		}
		t.Rows, t.Totals = seriesTable(ss, len(periods))
		return res, nil
	}
	// Two dimensions: the table pivots, a column per group of the second,
	// each cell the window's sum.
	second := usageSeries(q, 1)
	for i := range rows {
		second.add(&rows[i], 0, 1)
	}
	cols := second.sorted()
	colIndex := map[string]int{}
	for i, c := range cols {
		colIndex[c.Key] = i
		t.Columns = append(t.Columns, usageColumn{Key: c.Key, Label: c.Label})
	}
	cells := map[string][]costexplorer.Cents{}
	for i := range rows {
		r := &rows[i]
		k := r.Groups[0].ID
		if cells[k] == nil {
			cells[k] = make([]costexplorer.Cents, len(cols))
		}
		cells[k][colIndex[r.Groups[1].ID]] += r.Amount
	}
	for _, sr := range ss {
		row := tableRow{Label: sr.Label, Key: sr.Key, Total: cell(sr.Total)}
		for _, c := range cells[sr.Key] {
			row.Cells = append(row.Cells, cell(c))
		}
		t.Rows = append(t.Rows, row)
	}
	for _, c := range cols {
		t.Totals = append(t.Totals, cell(c.Total))
	}
	return res, nil
}

// seriesSet gathers rows into a series per group of one group-by
// dimension (or one total series when the query has none).
type seriesSet struct {
	q   *costexplorer.UsageQuery
	dim int
	by  map[string]*series
	all []*series
}

func usageSeries(q *costexplorer.UsageQuery, dim int) *seriesSet {
	return &seriesSet{q: q, dim: dim, by: map[string]*series{}}
}

// add adds row r to its group's series in period pi of n.
func (ss *seriesSet) add(r *costexplorer.UsageRow, pi, n int) {
	key, label, ctx := "total", "Total", ""
	if ss.dim < len(ss.q.GroupBy) {
		g := r.Groups[ss.dim]
		key, label, ctx = g.ID, g.Name, g.ID
		if label == "" {
			label = "(no " + noun(ss.q.GroupBy[ss.dim]) + ")"
		}
	}
	s := ss.by[key]
	if s == nil {
		s = &series{Key: key, Label: label, Cents: make([]costexplorer.Cents, n), context: ctx}
		ss.by[key] = s
		ss.all = append(ss.all, s)
	}
	s.Cents[pi] += r.Amount
	s.Total += r.Amount
}

// sorted returns the series in rank order: largest absolute total first,
// then by label, names shared by several groups told apart by their ids.
func (ss *seriesSet) sorted() []*series {
	disambiguate(ss.all)
	slices.SortFunc(ss.all, func(a, b *series) int {
		return cmp.Or(cmp.Compare(abs(b.Total), abs(a.Total)), cmp.Compare(a.Label, b.Label), cmp.Compare(a.Key, b.Key))
	})
	return ss.all
}

// noun is what one value of d is called: "team" for tag:team, "project".
func noun(d costexplorer.Dimension) string {
	if k, ok := d.TagKey(); ok {
		return k
	}
	return strings.TrimSuffix(string(d), "s")
}

// dimensionLabel is a table heading for d: "Project", "tag team".
func dimensionLabel(d costexplorer.Dimension) string {
	if k, ok := d.TagKey(); ok {
		return "Tag " + k
	}
	n := noun(d)
	if n == "sku" {
		return "SKU"
	}
	return strings.ToUpper(n[:1]) + n[1:]
}
