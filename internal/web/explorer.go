package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/focus"
)

// explorerPage is the data of the explorer template.
type explorerPage struct {
	pageBase
	Form    formView
	Notices []string
	Errors  []string

	// State is "" (nothing to show), "processing", "failed" or "ready".
	State     string
	Token     string
	StatusURL string
	Result    *resultView

	APIMethodPath string
	APIBody       string
}

// formView is the filter form: its options and what is selected.
type formView struct {
	FromMonths []option
	ToMonths   []option
	Orgs       []option
	Projects   []optgroup
	Clusters   []optgroup
	Services   []option
	GroupBys   []option
	Partial    bool
	NProjects  int
	NClusters  int
}

type option struct {
	Value, Label string
	Selected     bool
}

type optgroup struct {
	Label   string
	Options []option
}

// resultView is a ready result.
type resultView struct {
	Heading string
	Total   string
	Chart   template.HTML
	Legend  []legendItem
	Table   tableView
	CSVURL  string
	JSONURL string
	// FOCUSURL and FOCUSParquetURL export the FOCUS rows of the query's
	// period and organizations (internal/focus).
	FOCUSURL, FOCUSParquetURL string
	Empty                     bool
	RowCount                  int
}

// tableView is the "Usage By Month" table: groups × months, with a total
// column and a total row.
type tableView struct {
	Dimension string
	Months    []string
	MonthKeys []string
	Rows      []tableRow
	Totals    []moneyCell
	Grand     moneyCell
}

type tableRow struct {
	Label string
	Key   string
	Cells []moneyCell
	Total moneyCell
}

type moneyCell struct {
	Cents int64
	Text  string
	Zero  bool
}

func cell(c costexplorer.Cents) moneyCell {
	return moneyCell{Cents: int64(c), Text: c.Grouped("$"), Zero: c == 0}
}

// explorer serves GET / and GET /explorer: the filter form and, for the
// filters in the URL (or the defaults), the query's processing state or its
// result.
func (s *Server) explorer(w http.ResponseWriter, r *http.Request, rq *request) {
	if !s.billingAllowed(w, r, rq, "billing data", "The Cost Explorer needs") {
		return
	}
	ctx := r.Context()
	now := s.cfg.Now()
	current := costexplorer.MonthOf(now)
	sc, err := s.loadScope(ctx, rq.org)
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return
	}
	f := parseFilters(r.URL.Query(), current, s.cfg.HistoryMonths)
	page := &explorerPage{
		pageBase:      pageBase{Title: "Cost Explorer", Session: rq.view},
		Form:          s.formView(f, sc, current),
		APIMethodPath: "POST /api/atlas/v2/orgs/" + rq.p.OrgID + "/billing/costExplorer/usage",
	}
	status := http.StatusOK
	body, notices, err := buildBody(f, sc)
	page.Notices = notices
	var q *costexplorer.Query
	if err == nil {
		raw, _ := json.Marshal(body)
		q, err = costexplorer.ParseQueryRequest(rq.p.OrgID, raw, costexplorer.QueryLimits{Now: now, HistoryMonths: s.cfg.HistoryMonths})
		if shown, e := json.MarshalIndent(body, "", "  "); e == nil && len(shown) <= maxShownBody {
			page.APIBody = string(shown)
		}
	}
	if err != nil {
		var ce *costexplorer.Error
		if !errors.As(err, &ce) {
			s.unexpected(w, r, err, rq.view)
			return
		}
		page.Errors = append(page.Errors, ce.Detail)
		s.render(w, r, http.StatusBadRequest, "explorer.html", page)
		return
	}
	token, err := s.cfg.Usage.CreateQuery(ctx, q)
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return
	}
	p, err := s.cfg.Usage.Usage(ctx, rq.p.OrgID, token)
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return
	}
	page.Token = token
	switch p.Status(now) {
	case costexplorer.QueryFailed:
		s.log.Error("web: query process failed", "token", token, "err", p.Error)
		page.State = "failed"
		status = http.StatusInternalServerError
	case costexplorer.QueryProcessing:
		page.State = "processing"
		page.RefreshSeconds = refreshSeconds(p.ReadyAt.Sub(now))
		page.StatusURL = "/status/" + token
	default:
		fc, err := s.forecastOf(ctx, q, current)
		if err != nil {
			s.unexpected(w, r, err, rq.view)
			return
		}
		res, err := s.resultView(q, p, fc)
		if err != nil {
			s.unexpected(w, r, err, rq.view)
			return
		}
		page.State = "ready"
		page.Result = res
	}
	s.render(w, r, status, "explorer.html", page)
}

// refreshSeconds is how long the processing page waits before looking again:
// until the process may be ready, at least one second and at most five.
func refreshSeconds(d time.Duration) int {
	return min(5, costexplorer.RetryAfterSeconds(d))
}

// resultView builds the chart and table of a ready process.
func (s *Server) resultView(q *costexplorer.Query, p *costexplorer.QueryProcess, fc []costexplorer.MonthForecast) (*resultView, error) {
	var res costexplorer.Result
	if err := json.Unmarshal(p.Result, &res); err != nil {
		return nil, fmt.Errorf("decode result of %s: %w", p.Token, err)
	}
	months := q.Months()
	ss, err := groupRows(q.GroupBy, months, res.UsageDetails)
	if err != nil {
		return nil, fmt.Errorf("result of %s: %w", p.Token, err)
	}
	var grand costexplorer.Cents
	for _, sr := range ss {
		grand += sr.Total
	}
	span := monthLabel(q.Start)
	if q.End-q.Start > 1 {
		span += " to " + monthLabel(q.End-1)
	}
	subject := span
	dim := dimensionName(q.GroupBy)
	if q.GroupBy != costexplorer.GroupByNone {
		subject += ", grouped by " + string(q.GroupBy)
	}
	chart := buildChart("Usage per month, "+subject, subject, monthPeriods(months), ss, fc)
	svg, err := renderChart(chart)
	if err != nil {
		return nil, fmt.Errorf("render chart: %w", err)
	}
	v := &resultView{
		Heading:         subject,
		Total:           grand.Grouped("$"),
		Chart:           svg,
		Legend:          chart.Legend,
		CSVURL:          "/download/" + p.Token + "/csv",
		JSONURL:         "/download/" + p.Token + "/json",
		FOCUSURL:        focusURL(q.Start, q.End-1, q.Organizations, focus.CSV),
		FOCUSParquetURL: focusURL(q.Start, q.End-1, q.Organizations, focus.Parquet),
		Empty:           len(res.UsageDetails) == 0,
		RowCount:        len(res.UsageDetails),
	}
	t := &v.Table
	t.Dimension = dim
	for _, m := range months {
		t.Months = append(t.Months, monthLabel(m))
		t.MonthKeys = append(t.MonthKeys, m.String())
	}
	t.Rows, t.Totals = seriesTable(ss, len(months))
	t.Grand = cell(grand)
	return v, nil
}

// seriesTable returns a table row per series, a cell per period of n, and
// the total row's cells.
func seriesTable(ss []*series, n int) (rows []tableRow, totals []moneyCell) {
	for _, sr := range ss {
		row := tableRow{Label: sr.Label, Key: sr.Key, Total: cell(sr.Total)}
		for _, c := range sr.Cents {
			row.Cells = append(row.Cells, cell(c))
		}
		rows = append(rows, row)
	}
	for _, c := range monthTotals(ss, n) {
		totals = append(totals, cell(c))
	}
	return rows, totals
}

// dimensionName is the table's first column heading for a grouping.
func dimensionName(g costexplorer.GroupBy) string {
	switch g {
	case costexplorer.GroupByOrganizations:
		return "Organization"
	case costexplorer.GroupByProjects:
		return "Project"
	case costexplorer.GroupByClusters:
		return "Cluster"
	case costexplorer.GroupByServices:
		return "Service"
	}
	return "Organization / project / cluster / service"
}

// formView builds the filter form for f within sc.
func (s *Server) formView(f filters, sc *scope, current costexplorer.Month) formView {
	fv := formView{Partial: f.Partial, NProjects: len(sc.projects), NClusters: len(sc.clusters)}
	first := current - costexplorer.Month(s.cfg.HistoryMonths) + 1
	monthOptions := func(selected string) []option {
		var opts []option
		found := false
		for m := current; m >= first; m-- {
			o := option{Value: m.String(), Label: monthLabel(m), Selected: m.String() == selected}
			found = found || o.Selected
			opts = append(opts, o)
		}
		if !found {
			// Keep what the URL says, so the form shows the value the error
			// message is about.
			opts = append([]option{{Value: selected, Label: selected, Selected: true}}, opts...)
		}
		return opts
	}
	fv.FromMonths = monthOptions(f.From)
	fv.ToMonths = monthOptions(f.To)
	for _, o := range sc.orgs {
		fv.Orgs = append(fv.Orgs, option{Value: o.ID, Label: o.Name, Selected: slices.Contains(f.Orgs, o.ID)})
	}
	many := len(sc.orgs) > 1
	var pg *optgroup
	for _, p := range sc.projects {
		if pg == nil || pg.Label != sc.org[p.OrgID].Name {
			fv.Projects = append(fv.Projects, optgroup{Label: sc.org[p.OrgID].Name})
			pg = &fv.Projects[len(fv.Projects)-1]
		}
		pg.Options = append(pg.Options, option{Value: p.ID, Label: p.Name, Selected: slices.Contains(f.Projects, p.ID)})
	}
	if !many && len(fv.Projects) == 1 {
		fv.Projects[0].Label = ""
	}
	var cg *optgroup
	for _, c := range sc.clusters {
		label := sc.project[c.ProjectID].Name
		if many {
			label = sc.org[sc.project[c.ProjectID].OrgID].Name + " / " + label
		}
		if cg == nil || cg.Label != label {
			fv.Clusters = append(fv.Clusters, optgroup{Label: label})
			cg = &fv.Clusters[len(fv.Clusters)-1]
		}
		cg.Options = append(cg.Options, option{Value: c.ID, Label: c.Name, Selected: slices.Contains(f.Clusters, c.ID)})
	}
	for _, sv := range costexplorer.Services {
		fv.Services = append(fv.Services, option{Value: string(sv), Label: string(sv), Selected: slices.Contains(f.Services, string(sv))})
	}
	for _, g := range []struct{ v, l string }{
		{"services", "Services"}, {"projects", "Projects"}, {"clusters", "Clusters"},
		{"organizations", "Organizations"}, {groupByNone, "No grouping (every detail)"},
	} {
		fv.GroupBys = append(fv.GroupBys, option{Value: g.v, Label: g.l, Selected: f.GroupBy == g.v})
	}
	return fv
}
