package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
)

// URL parameters of the explorer. Every filter is in the URL, so a view can
// be bookmarked and shared.
const (
	paramFrom    = "from"    // first month, YYYY-MM
	paramTo      = "to"      // last month (inclusive), YYYY-MM
	paramOrg     = "org"     // repeated
	paramProject = "project" // repeated
	paramCluster = "cluster" // repeated
	paramService = "service" // repeated
	paramGroupBy = "groupBy" // organizations, projects, clusters, services or none
	paramPartial = "partial" // "1": include partially matching charges
)

// defaultMonths is the default range: the last six months, this one included.
const defaultMonths = 6

// groupByNone is the groupBy parameter value for no grouping.
const groupByNone = "none"

// defaultGroupBy is the grouping of a first visit.
const defaultGroupBy = string(costexplorer.GroupByServices)

// maxShownBody bounds the API request body the page shows (a fill of every
// cluster can be long).
const maxShownBody = 16 << 10

// filters are the explorer's URL parameters, as given.
type filters struct {
	From, To string
	Orgs     []string
	Projects []string
	Clusters []string
	Services []string
	GroupBy  string
	Partial  bool
}

func parseFilters(q url.Values, current costexplorer.Month, history int) filters {
	f := filters{
		From:     strings.TrimSpace(q.Get(paramFrom)),
		To:       strings.TrimSpace(q.Get(paramTo)),
		Orgs:     nonEmpty(q[paramOrg]),
		Projects: nonEmpty(q[paramProject]),
		Clusters: nonEmpty(q[paramCluster]),
		Services: nonEmpty(q[paramService]),
		GroupBy:  strings.TrimSpace(q.Get(paramGroupBy)),
		Partial:  q.Get(paramPartial) != "" && q.Get(paramPartial) != "0",
	}
	if f.To == "" {
		f.To = current.String()
	}
	if f.From == "" {
		from := max(current-defaultMonths+1, current-costexplorer.Month(history)+1)
		f.From = from.String()
	}
	if f.GroupBy == "" {
		f.GroupBy = defaultGroupBy
	}
	return f
}

func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// requestBody is the CostExplorerFilterRequestBody the page sends through
// costexplorer.ParseQueryRequest, so that its validation is the API's.
type requestBody struct {
	StartDate             string   `json:"startDate"`
	EndDate               string   `json:"endDate"`
	Organizations         []string `json:"organizations,omitempty"`
	Projects              []string `json:"projects,omitempty"`
	Clusters              []string `json:"clusters,omitempty"`
	Services              []string `json:"services,omitempty"`
	GroupBy               string   `json:"groupBy,omitempty"`
	IncludePartialMatches bool     `json:"includePartialMatches,omitempty"`
}

// buildBody turns the filters into a request body. When the group-by
// dimension has no values selected, it is filled with every value of that
// dimension in scope (narrowed by the other selections), because the
// contract requires a filter value in the grouped dimension; the notice says
// so on the page.
func buildBody(f filters, sc *scope) (body *requestBody, notices []string, err error) {
	from, err := costexplorer.ParseMonth(f.From)
	if err != nil {
		return nil, nil, costexplorer.FieldError(costexplorer.ErrInvalidDateFormat, "from", fmt.Sprintf("The first month %q is not a month (YYYY-MM).", f.From))
	}
	to, err := costexplorer.ParseMonth(f.To)
	if err != nil {
		return nil, nil, costexplorer.FieldError(costexplorer.ErrInvalidDateFormat, "to", fmt.Sprintf("The last month %q is not a month (YYYY-MM).", f.To))
	}
	body = &requestBody{
		StartDate:             from.Date(),
		EndDate:               (to + 1).Date(),
		Organizations:         f.Orgs,
		Projects:              f.Projects,
		Clusters:              f.Clusters,
		Services:              f.Services,
		IncludePartialMatches: f.Partial,
	}
	if f.GroupBy != groupByNone {
		body.GroupBy = f.GroupBy
	}

	projectsOf := func() []*costexplorer.Project {
		if len(f.Orgs) == 0 {
			return sc.projects
		}
		var ps []*costexplorer.Project
		for _, p := range sc.projects {
			if slices.Contains(f.Orgs, p.OrgID) {
				ps = append(ps, p)
			}
		}
		return ps
	}
	var what, among string
	var n int
	switch costexplorer.GroupBy(f.GroupBy) {
	case costexplorer.GroupByOrganizations:
		if len(f.Orgs) == 0 {
			for _, o := range sc.orgs {
				body.Organizations = append(body.Organizations, o.ID)
			}
			what, n, among = "organizations", len(sc.orgs), "you can see"
		}
	case costexplorer.GroupByProjects:
		if len(f.Projects) == 0 {
			for _, p := range projectsOf() {
				body.Projects = append(body.Projects, p.ID)
			}
			what, n, among = "projects", len(body.Projects), scopeWords(f)
		}
	case costexplorer.GroupByClusters:
		if len(f.Clusters) == 0 {
			var projects []string
			if len(f.Projects) > 0 {
				projects = f.Projects
			} else {
				for _, p := range projectsOf() {
					projects = append(projects, p.ID)
				}
			}
			for _, c := range sc.clusters {
				if slices.Contains(projects, c.ProjectID) {
					body.Clusters = append(body.Clusters, c.ID)
				}
			}
			what, n, among = "clusters", len(body.Clusters), scopeWords(f)
		}
	case costexplorer.GroupByServices:
		if len(f.Services) == 0 {
			for _, s := range costexplorer.Services {
				body.Services = append(body.Services, string(s))
			}
			what, n, among = "services", len(costexplorer.Services), ""
		}
	}
	if what != "" {
		if n == 0 {
			return nil, nil, costexplorer.FieldError(costexplorer.ErrValidation, "groupBy",
				fmt.Sprintf("There are no %s %s to group by. Choose another grouping or other filters.", what, cmp.Or(among, "in scope")))
		}
		if n > costexplorer.DefaultMaxFilterValues {
			return nil, nil, costexplorer.FieldError(costexplorer.ErrValidation, "groupBy",
				fmt.Sprintf("Grouping by %s would name all %d %s %s, more than the %d a query may name. Select some %s, or narrow the scope first.",
					what, n, what, cmp.Or(among, "in scope"), costexplorer.DefaultMaxFilterValues, what))
		}
		s := fmt.Sprintf("No %s were selected to group by, so all %d %s", what, n, what)
		if among != "" {
			s += " " + among
		}
		notices = append(notices, s+" are used.")
	}
	// Values outside the scope are kept, as the API keeps them: they match
	// nothing, which the page points out.
	var outside int
	for _, id := range f.Orgs {
		if sc.org[id] == nil {
			outside++
		}
	}
	for _, id := range f.Projects {
		if sc.project[id] == nil {
			outside++
		}
	}
	for _, id := range f.Clusters {
		if sc.cluster[id] == nil {
			outside++
		}
	}
	if outside > 0 {
		notices = append(notices, fmt.Sprintf("%d selected filter value(s) are not among your organizations, projects or clusters; they match no usage.", outside))
	}
	return body, notices, nil
}

// scopeWords says which part of the scope a fill was taken from.
func scopeWords(f filters) string {
	switch {
	case len(f.Projects) > 0:
		return "of the selected projects"
	case len(f.Orgs) > 0:
		return "of the selected organizations"
	}
	return "you can see"
}

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
	Heading  string
	Total    string
	Chart    template.HTML
	Legend   []legendItem
	Table    tableView
	CSVURL   string
	JSONURL  string
	Empty    bool
	RowCount int
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
	if err := auth.AuthorizeOrg(rq.p, rq.p.OrgID, true); err != nil {
		s.renderMessage(w, r, http.StatusForbidden, "Not allowed",
			"Your "+rq.view.Kind+" "+rq.view.Who+" may not see billing data of "+rq.org.Name+
				". The Cost Explorer needs the Organization Owner, Billing Admin or Billing Viewer role.", rq.view)
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
	switch {
	case p.State == costexplorer.ProcessFailed:
		s.log.Error("web: query process failed", "token", token, "err", p.Error)
		page.State = "failed"
		status = http.StatusInternalServerError
	case !p.Ready(now):
		page.State = "processing"
		page.RefreshSeconds = refreshSeconds(p.ReadyAt.Sub(now))
		page.StatusURL = "/status/" + token
	default:
		res, err := s.resultView(q, p)
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
	return min(5, max(1, int((d+time.Second-1)/time.Second)))
}

// resultView builds the chart and table of a ready process.
func (s *Server) resultView(q *costexplorer.Query, p *costexplorer.QueryProcess) (*resultView, error) {
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
	chart := buildChart("Usage per month, "+subject, subject, months, ss)
	svg, err := renderChart(chart)
	if err != nil {
		return nil, fmt.Errorf("render chart: %w", err)
	}
	v := &resultView{
		Heading:  subject,
		Total:    grand.Grouped("$"),
		Chart:    svg,
		Legend:   chart.Legend,
		CSVURL:   "/download/" + p.Token + "/csv",
		JSONURL:  "/download/" + p.Token + "/json",
		Empty:    len(res.UsageDetails) == 0,
		RowCount: len(res.UsageDetails),
	}
	t := &v.Table
	t.Dimension = dim
	for _, m := range months {
		t.Months = append(t.Months, monthLabel(m))
		t.MonthKeys = append(t.MonthKeys, m.String())
	}
	for _, sr := range ss {
		row := tableRow{Label: sr.Label, Key: sr.Key, Total: cell(sr.Total)}
		for _, c := range sr.Cents {
			row.Cells = append(row.Cells, cell(c))
		}
		t.Rows = append(t.Rows, row)
	}
	for _, c := range monthTotals(ss, len(months)) {
		t.Totals = append(t.Totals, cell(c))
	}
	t.Grand = cell(grand)
	return v, nil
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

// statusAnswer is the JSON the page's script polls while a query processes.
type statusAnswer struct {
	State      string `json:"state"` // processing, ready or failed
	RetryAfter int    `json:"retryAfter"`
}

// status serves GET /status/{token} for the script's polling.
func (s *Server) status(w http.ResponseWriter, r *http.Request, rq *request) {
	p, ok := s.process(w, r, rq)
	if !ok {
		return
	}
	now := s.cfg.Now()
	a := statusAnswer{State: "ready"}
	switch {
	case p.State == costexplorer.ProcessFailed:
		a.State = "failed"
	case !p.Ready(now):
		a.State, a.RetryAfter = "processing", refreshSeconds(p.ReadyAt.Sub(now))
	}
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// process returns the process of the session's organization named by the
// {token} path value, answering 404 for anything else: a token of another
// organization is as unknown as one that never existed.
func (s *Server) process(w http.ResponseWriter, r *http.Request, rq *request) (*costexplorer.QueryProcess, bool) {
	if err := auth.AuthorizeOrg(rq.p, rq.p.OrgID, true); err != nil {
		s.renderMessage(w, r, http.StatusForbidden, "Not allowed", "Your credential may not see billing data.", rq.view)
		return nil, false
	}
	token := r.PathValue("token")
	notFound := func() {
		s.renderMessage(w, r, http.StatusNotFound, "Result not found",
			"There is no result with this token for "+rq.org.Name+". Results are kept for a day; run the query again.", rq.view)
	}
	if !costexplorer.IsToken(token) {
		notFound()
		return nil, false
	}
	p, err := s.cfg.Usage.Usage(r.Context(), rq.p.OrgID, token)
	if costexplorer.IsNotFound(err) {
		notFound()
		return nil, false
	}
	if err != nil {
		s.unexpected(w, r, err, rq.view)
		return nil, false
	}
	return p, true
}

// download serves GET /download/{token}/{format}: the process's stored JSON,
// or the contract's CSV of its rows, byte for byte what the API answers for
// the same token.
func (s *Server) download(w http.ResponseWriter, r *http.Request, rq *request) {
	format := r.PathValue("format")
	if format != "csv" && format != "json" {
		s.renderMessage(w, r, http.StatusNotFound, "Page not found", "Downloads are CSV or JSON.", rq.view)
		return
	}
	p, ok := s.process(w, r, rq)
	if !ok {
		return
	}
	if p.State != costexplorer.ProcessDone || !p.Ready(s.cfg.Now()) {
		w.Header().Set("Retry-After", "1")
		s.renderMessage(w, r, http.StatusConflict, "Not ready yet", "This query is still processing. Try the download again in a moment.", rq.view)
		return
	}
	var buf bytes.Buffer
	ct := "application/json; charset=utf-8"
	if format == "json" {
		// The API writes the stored body and a newline (httpapi writeBody).
		buf.Write(p.Result)
		buf.WriteByte('\n')
	} else {
		ct = "text/csv; charset=utf-8"
		var res costexplorer.Result
		if err := json.Unmarshal(p.Result, &res); err != nil {
			s.unexpected(w, r, fmt.Errorf("decode result of %s: %w", p.Token, err), rq.view)
			return
		}
		if err := costexplorer.WriteCSV(&buf, res.UsageDetails); err != nil {
			s.unexpected(w, r, err, rq.view)
			return
		}
	}
	name := fmt.Sprintf("costexplorer-%s-%s", p.Query.Start, p.Query.End-1)
	if p.Query.GroupBy != "" {
		name += "-" + string(p.Query.GroupBy)
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
