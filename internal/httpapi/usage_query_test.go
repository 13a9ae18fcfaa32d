package httpapi_test

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/golden"
	"github.com/costexplorer/costexplorer/internal/server"
)

// usageQueryPath is the path of usage:query for orgID.
func usageQueryPath(orgID string) string {
	return "/api/costexplorer/v1/orgs/" + orgID + "/usage:query"
}

// usageRequest builds an authenticated usage:query request with a JSON
// body; accept "" sends no Accept header.
func (e *env) usageRequest(orgID, body, accept string) *http.Request {
	e.t.Helper()
	req := e.newRequest("POST", usageQueryPath(orgID), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Authorization", "Bearer "+e.bearer)
	return req
}

// usageQuery posts a usage:query body for the demo organization and
// decodes its JSON answer, failing on anything but 200.
func (e *env) usageQuery(body string) *costexplorer.UsageAnswer {
	e.t.Helper()
	res := e.do(e.usageRequest(e.Org, body, "application/json"))
	if res.status != http.StatusOK {
		e.t.Fatalf("usage:query %s: %d %s", body, res.status, res.body)
	}
	var a costexplorer.UsageAnswer
	res.json(e.t, &a)
	return &a
}

// usageQueryAll follows the pages of body (a JSON object without next) and
// returns every row.
func (e *env) usageQueryAll(body string) []costexplorer.UsageResult {
	e.t.Helper()
	var all []costexplorer.UsageResult
	next := ""
	for pages := 0; ; pages++ {
		b := body
		if next != "" {
			c, _ := json.Marshal(next)
			b = strings.TrimSuffix(body, "}") + `,"next":` + string(c) + `}`
		}
		a := e.usageQuery(b)
		all = append(all, a.Results...)
		if a.Next == nil {
			return all
		}
		if next = *a.Next; pages > 10000 {
			e.t.Fatal("paging does not end")
		}
	}
}

// usageGolden are the golden usage:query answers on the demo data (which
// ends on 2025-06-15): a week by team and service for production, a
// half-year by month and team with quantities, and a first page of
// services other than clusters for two teams and for items without a team.
var usageGolden = map[string]string{
	"daily_team_services": `{"granularity":"DAILY","timePeriod":{"start":"2025-06-01","end":"2025-06-04"},"groupBy":["tag:team","services"],"filter":{"dimension":"tag:environment","in":["production"]}}`,
	"monthly_team":        `{"granularity":"MONTHLY","timePeriod":{"start":"2025-01-10","end":"2025-07-01"},"groupBy":["tag:team"],"metrics":["quantity"]}`,
	"daily_untagged":      `{"granularity":"DAILY","timePeriod":{"start":"2025-06-10","end":"2025-06-15"},"groupBy":["services","tag:team"],"filter":{"and":[{"not":{"dimension":"services","in":["Clusters"]}},{"or":[{"dimension":"tag:team","absent":true},{"dimension":"tag:team","in":["payments","search"]}]}]},"pageSize":3}`,
}

// TestUsageQueryGolden pins the JSON and CSV answers of usage:query on the
// demo data; the CSV is the JSON's rows.
func TestUsageQueryGolden(t *testing.T) {
	e := newEnv(t, options{})
	for name, body := range usageGolden {
		t.Run(name, func(t *testing.T) {
			e.t = t
			req := e.usageRequest(e.Org, body, "")
			req.URL.RawQuery = "pretty=true"
			res := e.do(req)
			res.mustOK(t, "JSON", "application/json; charset=utf-8")
			var a costexplorer.UsageAnswer
			res.json(t, &a)
			if len(a.Results) == 0 {
				t.Fatalf("the golden query %s has no rows: it pins nothing", name)
			}
			golden.Check(t, "usage/"+name+".json", res.body)

			res = e.do(e.usageRequest(e.Org, body, "text/csv"))
			res.mustOK(t, "CSV", "text/csv; charset=utf-8")
			if lines := strings.Count(string(res.body), "\n"); lines != len(a.Results)+1 {
				t.Errorf("CSV has %d lines for %d rows", lines, len(a.Results))
			}
			if next := res.header.Get("Next-Cursor"); (a.Next == nil) != (next == "") || a.Next != nil && *a.Next != next {
				t.Errorf("CSV Next-Cursor %q, JSON next %v", next, a.Next)
			}
			golden.Check(t, "usage/"+name+".csv", res.body)
		})
	}
}

// TestUsageQueryEqualsCostExplorer checks, through the HTTP API of both,
// that the daily answers add up to the monthly cost explorer's to the
// cent: per month and service, and per month and project, over the demo's
// whole history.
func TestUsageQueryEqualsCostExplorer(t *testing.T) {
	e := newEnv(t, options{})
	services, _ := json.Marshal(costexplorer.Services)
	projects, err := e.DB.Projects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range projects {
		ids = append(ids, p.ID)
	}
	projectIDs, _ := json.Marshal(ids)
	for _, tc := range []struct {
		dim   costexplorer.Dimension
		atlas string
		key   func(r costexplorer.Row) string
	}{
		{costexplorer.DimServices, `"groupBy":"services","services":` + string(services), func(r costexplorer.Row) string { return string(r.Service) }},
		{costexplorer.DimProjects, `"groupBy":"projects","projects":` + string(projectIDs), func(r costexplorer.Row) string { return r.ProjectID }},
	} {
		t.Run(string(tc.dim), func(t *testing.T) {
			e.t = t
			tok := e.create(e.Org, `{"startDate":"2024-12-01","endDate":"2025-07-01",`+tc.atlas+`}`)
			res := e.waitReady(e.Org, tok)
			var env struct{ Content costexplorer.Result }
			res.json(t, &env)
			monthly := map[string]costexplorer.Cents{}
			for _, r := range env.Content.UsageDetails {
				monthly[r.UsageDate[:7]+" "+tc.key(r)] += r.UsageAmount
			}
			daily := map[string]costexplorer.Cents{}
			days := map[string]bool{}
			for _, r := range e.usageQueryAll(`{"granularity":"DAILY","timePeriod":{"start":"2024-12-01","end":"2025-07-01"},"groupBy":["` + string(tc.dim) + `"],"pageSize":500}`) {
				if r.Amount != costexplorer.Cents(r.AmountCents) {
					t.Fatalf("amount %s and amountCents %d differ", r.Amount, r.AmountCents)
				}
				if id := r.Groups[tc.dim].ID; id != "" || tc.dim != costexplorer.DimProjects {
					daily[r.Start[:7]+" "+id] += r.Amount
				}
				days[r.Start] = true
			}
			if len(monthly) == 0 || len(days) < 100 {
				t.Fatalf("%d monthly sums, %d days: the comparison checks nothing", len(monthly), len(days))
			}
			if !reflect.DeepEqual(daily, monthly) {
				for k := range monthly {
					if daily[k] != monthly[k] {
						t.Errorf("%s: daily sum %s, cost explorer %s", k, daily[k], monthly[k])
					}
				}
				for k := range daily {
					if _, ok := monthly[k]; !ok {
						t.Errorf("%s: daily sum %s, cost explorer has no row", k, daily[k])
					}
				}
			}
		})
	}
}

// TestUsageQueryPaging checks that following the cursors, in JSON and in
// CSV, gives the whole answer of one large page, and that a cursor is
// refused with another query.
func TestUsageQueryPaging(t *testing.T) {
	e := newEnv(t, options{})
	const body = `{"granularity":"DAILY","timePeriod":{"start":"2025-05-01","end":"2025-06-01"},"groupBy":["services","tag:team"],"metrics":["quantity"]`
	whole := e.usageQuery(body + `,"pageSize":10000}`)
	if whole.Next != nil || len(whole.Results) < 50 {
		t.Fatalf("%d rows, next %v: too few to page", len(whole.Results), whole.Next)
	}
	if got := e.usageQueryAll(body + `,"pageSize":7}`); !reflect.DeepEqual(got, whole.Results) {
		t.Errorf("7 rows a page: %d rows, want the %d of one page", len(got), len(whole.Results))
	}

	var csvLines []string
	next := ""
	for pages := 0; pages < 1000; pages++ {
		b := body + `,"pageSize":13`
		if next != "" {
			b += `,"next":"` + next + `"`
		}
		res := e.do(e.usageRequest(e.Org, b+"}", "text/csv"))
		if res.status != http.StatusOK {
			t.Fatalf("CSV page %d: %d %s", pages, res.status, res.body)
		}
		lines := strings.Split(strings.TrimSuffix(string(res.body), "\n"), "\n")
		if pages == 0 {
			csvLines = append(csvLines, lines[0])
		}
		csvLines = append(csvLines, lines[1:]...)
		if next = res.header.Get("Next-Cursor"); next == "" {
			break
		}
	}
	res := e.do(e.usageRequest(e.Org, body+`,"pageSize":10000}`, "text/csv"))
	if got := strings.Join(csvLines, "\n") + "\n"; got != string(res.body) {
		t.Errorf("the CSV pages are not the CSV answer:\n%.500s\n---\n%.500s", got, res.body)
	}

	first := e.usageQuery(body + `,"pageSize":1}`)
	c, _ := json.Marshal(*first.Next)
	other := strings.Replace(body, `"services","tag:team"`, `"services"`, 1)
	checkError(t, e.do(e.usageRequest(e.Org, other+`,"next":`+string(c)+`}`, "")), http.StatusBadRequest, costexplorer.ErrValidation)
}

// TestUsageQueryMaxRows checks that an answer larger than the bound is
// refused with a 400 that says how to narrow it, and a smaller one served.
func TestUsageQueryMaxRows(t *testing.T) {
	e := newEnv(t, options{config: func(c *server.Config) { c.MaxUsageRows = 20 }})
	res := e.do(e.usageRequest(e.Org, `{"granularity":"DAILY","timePeriod":{"start":"2025-06-01","end":"2025-06-08"},"groupBy":["services"]}`, ""))
	checkError(t, res, http.StatusBadRequest, costexplorer.ErrValidation)
	if !strings.Contains(res.apiErr(t).Detail, "narrow the window") {
		t.Errorf("the refusal does not say what to do: %s", res.body)
	}
	e.usageQuery(`{"granularity":"MONTHLY","timePeriod":{"start":"2025-06-01","end":"2025-06-08"},"groupBy":["services"]}`)
}

// TestUsageQueryAccept checks the plain media types of the project's own
// API: no Accept, */* and application/json are JSON; text/csv is CSV; the
// highest q wins.
func TestUsageQueryAccept(t *testing.T) {
	e := newEnv(t, options{})
	body := `{"granularity":"MONTHLY","timePeriod":{"start":"2025-05-01","end":"2025-06-01"}}`
	for _, tc := range []struct{ accept, want string }{
		{"", "application/json; charset=utf-8"},
		{"*/*", "application/json; charset=utf-8"},
		{"application/json", "application/json; charset=utf-8"},
		{"text/csv", "text/csv; charset=utf-8"},
		{"text/*", "text/csv; charset=utf-8"},
		{"application/json;q=0.5, text/csv", "text/csv; charset=utf-8"},
		{"text/csv, application/json", "application/json; charset=utf-8"},
		{"application/vnd.atlas.2023-01-01+json, text/csv;q=0.1", "text/csv; charset=utf-8"},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			e.t = t
			if res := e.do(e.usageRequest(e.Org, body, tc.accept)); res.status != http.StatusOK || res.header.Get("Content-Type") != tc.want {
				t.Errorf("Accept %q: %d %q, want 200 %q", tc.accept, res.status, res.header.Get("Content-Type"), tc.want)
			}
		})
	}
	t.Run("EnvelopeAndPretty", func(t *testing.T) {
		e.t = t
		req := e.usageRequest(e.Org, body, "")
		req.URL.RawQuery = "envelope=true&pretty=true"
		res := e.do(req)
		if res.status != http.StatusOK || !strings.HasPrefix(string(res.body), "{\n  \"status\": 200,\n  \"content\": {\n    \"results\": [") {
			t.Errorf("%d %.200s", res.status, res.body)
		}
	})
}

// checkBillingRoles sends the request newReq makes with a credential of
// each role: the roles that may see billing data get the status ok, the
// others 401.
func (e *env) checkBillingRoles(t *testing.T, ok int, newReq func() *http.Request) {
	t.Helper()
	for _, role := range costexplorer.Roles {
		t.Run(string(role), func(t *testing.T) {
			e.t = t
			id, secret := e.ServiceAccount(e.t, e.Org, nil, role)
			req := newReq()
			req.Header.Set("Authorization", "Bearer "+e.accessToken(id, secret))
			res := e.do(req)
			if costexplorer.CanViewBilling([]costexplorer.Role{role}) {
				if res.status != ok {
					t.Errorf("%d %s", res.status, res.body)
				}
			} else {
				checkError(t, res, http.StatusUnauthorized, costexplorer.ErrUnauthorized)
			}
		})
	}
}

// TestUsageQueryRoles checks that usage:query has the cost explorer's
// roles and rate-limit bucket.
func TestUsageQueryRoles(t *testing.T) {
	e := newEnv(t, options{rateLimit: httpapiRateLimit(len(costexplorer.Roles) + 3)})
	body := `{"granularity":"DAILY","timePeriod":{"start":"2025-06-01","end":"2025-06-02"}}`
	e.checkBillingRoles(t, http.StatusOK, func() *http.Request { return e.usageRequest(e.Org, body, "") })
	t.Run("SharesTheCostExplorerBucket", func(t *testing.T) {
		e.t = t
		// Each request above took a token of the organization's bucket;
		// the cost explorer takes from the same one.
		for {
			res := e.do(e.usageRequest(e.Org, body, ""))
			if res.status == http.StatusTooManyRequests {
				break
			}
			if res.status != http.StatusOK || res.header.Get("RateLimit-Limit") == "" {
				t.Fatalf("%d limit %q", res.status, res.header.Get("RateLimit-Limit"))
			}
		}
		checkError(t, e.do(e.apiRequest("POST", usagePath(e.Org), `{"startDate":"2025-01-01","endDate":"2025-02-01"}`)), http.StatusTooManyRequests, costexplorer.ErrRateLimited)
	})
}

// ownBadRequest is a malformed request to one of the project's own
// operations: the organization ("" for the demo's), the body, the headers
// to set ("\x00" removes one; "query" is the query string), and the status
// and errorCode it gets.
type ownBadRequest struct {
	name    string
	org     string
	body    string
	headers map[string]string
	status  int
	code    string
}

// checkOwnBadRequests sends each case through newReq and checks its
// refusal (never a 5xx), then that GET is 405.
func (e *env) checkOwnBadRequests(t *testing.T, cases []ownBadRequest, newReq func(org, body string) *http.Request) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			req := newReq(cmp.Or(c.org, e.Org), c.body)
			headers := maps.Clone(c.headers)
			if q, ok := headers["query"]; ok {
				req.URL.RawQuery = q
				delete(headers, "query")
			}
			e.checkRefused(t, req, headers, c.status, c.code)
		})
	}
	t.Run("WrongMethod", func(t *testing.T) {
		e.t = t
		req := newReq(e.Org, "{}")
		req.Method = "GET"
		checkError(t, e.do(req), http.StatusMethodNotAllowed, costexplorer.ErrMethodNotAllowed)
	})
}

// TestUsageQueryBadRequests is the table of malformed usage:query requests
// through the server: each gets its status and errorCode, none a 5xx.
func TestUsageQueryBadRequests(t *testing.T) {
	e := newEnv(t, options{})
	const other = "0123456789abcdef01234567"
	ok := `{"granularity":"DAILY","timePeriod":{"start":"2025-06-01","end":"2025-06-08"}}`
	with := func(extra string) string { return strings.TrimSuffix(ok, "}") + "," + extra + "}" }
	period := func(start, end string) string {
		return `{"granularity":"DAILY","timePeriod":{"start":"` + start + `","end":"` + end + `"}}`
	}
	del := "\x00"
	cases := []ownBadRequest{
		{"EmptyBody", "", "", nil, 400, costexplorer.ErrMalformedJSON},
		{"ArrayBody", "", `[]`, nil, 400, costexplorer.ErrMalformedJSON},
		{"TrailingData", "", ok + `{}`, nil, 400, costexplorer.ErrMalformedJSON},
		{"TruncatedObject", "", `{"granularity":"DAILY",`, nil, 400, costexplorer.ErrMalformedJSON},
		{"UnknownField", "", with(`"startDate":"2025-06-01"`), nil, 400, costexplorer.ErrInvalidAttribute},
		{"UnknownTimePeriodField", "", `{"granularity":"DAILY","timePeriod":{"start":"2025-06-01","end":"2025-06-08","tz":"UTC"}}`, nil, 400, costexplorer.ErrInvalidAttribute},
		{"MissingGranularity", "", `{"timePeriod":{"start":"2025-06-01","end":"2025-06-08"}}`, nil, 400, costexplorer.ErrMissingAttribute},
		{"MissingTimePeriod", "", `{"granularity":"DAILY"}`, nil, 400, costexplorer.ErrMissingAttribute},
		{"GranularityWeekly", "", `{"granularity":"WEEKLY","timePeriod":{"start":"2025-06-01","end":"2025-06-08"}}`, nil, 400, costexplorer.ErrInvalidEnumValue},
		{"GranularityNumber", "", `{"granularity":1,"timePeriod":{"start":"2025-06-01","end":"2025-06-08"}}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"StartNotADate", "", period("June 1", "2025-06-08"), nil, 400, costexplorer.ErrInvalidDateFormat},
		{"EndImpossible", "", period("2025-06-01", "2025-06-31"), nil, 400, costexplorer.ErrInvalidDateFormat},
		{"EndEqualsStart", "", period("2025-06-01", "2025-06-01"), nil, 400, costexplorer.ErrStartDateAfterEndDate},
		{"EndBeforeStart", "", period("2025-06-08", "2025-06-01"), nil, 400, costexplorer.ErrStartDateAfterEndDate},
		{"StartBeforeHistory", "", period("2023-12-31", "2025-06-01"), nil, 400, costexplorer.ErrInvalidDateRange},
		{"EndAfterThisMonth", "", period("2025-06-01", "2025-07-02"), nil, 400, costexplorer.ErrInvalidDateRange},
		{"GroupByThree", "", with(`"groupBy":["services","projects","tag:team"]`), nil, 400, costexplorer.ErrValidation},
		{"GroupByTwice", "", with(`"groupBy":["services","services"]`), nil, 400, costexplorer.ErrValidation},
		{"GroupByRegion", "", with(`"groupBy":["regions"]`), nil, 400, costexplorer.ErrInvalidEnumValue},
		{"GroupByString", "", with(`"groupBy":"services"`), nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"GroupByLongTagKey", "", with(`"groupBy":["tag:` + strings.Repeat("k", 256) + `"]`), nil, 400, costexplorer.ErrInvalidEnumValue},
		{"FilterEmpty", "", with(`"filter":{}`), nil, 400, costexplorer.ErrValidation},
		{"FilterUnknownMember", "", with(`"filter":{"dimension":"services","equals":"Clusters"}`), nil, 400, costexplorer.ErrInvalidAttribute},
		{"FilterBadDimension", "", with(`"filter":{"dimension":"region","in":["x"]}`), nil, 400, costexplorer.ErrInvalidEnumValue},
		{"FilterInAndAbsent", "", with(`"filter":{"dimension":"tag:team","in":["x"],"absent":true}`), nil, 400, costexplorer.ErrValidation},
		{"FilterBadService", "", with(`"filter":{"not":{"dimension":"services","in":["clusters"]}}`), nil, 400, costexplorer.ErrInvalidEnumValue},
		{"FilterBadClusterID", "", with(`"filter":{"dimension":"clusters","in":["c1"]}`), nil, 400, costexplorer.ErrValidation},
		{"FilterTooDeep", "", with(`"filter":` + strings.Repeat(`{"not":`, 20) + `{"dimension":"skus","absent":true}` + strings.Repeat("}", 20)), nil, 400, costexplorer.ErrValidation},
		{"FilterVeryDeep", "", with(`"filter":` + strings.Repeat(`{"not":`, 100000) + strings.Repeat("}", 100000)), nil, 400, costexplorer.ErrMalformedJSON},
		{"FilterTooManyNodes", "", with(`"filter":{"or":[` + strings.TrimSuffix(strings.Repeat(`{"dimension":"skus","absent":true},`, 300), ",") + `]}`), nil, 400, costexplorer.ErrValidation},
		{"FilterTooManyValues", "", with(`"filter":{"dimension":"tag:team","in":[` + strings.TrimSuffix(strings.Repeat(`"a",`, 1001), ",") + `]}`), nil, 400, costexplorer.ErrValidation},
		{"MetricsUnknown", "", with(`"metrics":["cost"]`), nil, 400, costexplorer.ErrInvalidEnumValue},
		{"PageSizeZero", "", with(`"pageSize":0`), nil, 400, costexplorer.ErrValidation},
		{"PageSizeHuge", "", with(`"pageSize":100000`), nil, 400, costexplorer.ErrValidation},
		{"PageSizeString", "", with(`"pageSize":"100"`), nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"NextGarbage", "", with(`"next":"%%%"`), nil, 400, costexplorer.ErrValidation},
		{"NextForged", "", with(`"next":"eyJxIjoiMDAwIiwicyI6IjIwMjUtMDYtMDEiLCJnIjpbXX0"`), nil, 400, costexplorer.ErrValidation},
		{"BodyOverOneMiB", "", with(`"next":"` + strings.Repeat("a", 1<<20) + `"`), nil, 413, costexplorer.ErrBodyTooLarge},
		{"OrgIDUpperCase", strings.ToUpper(other), ok, nil, 400, costexplorer.ErrInvalidPathParameter},
		{"ForeignOrg", other, ok, nil, 401, costexplorer.ErrUnauthorized},
		{"NoCredentials", "", ok, map[string]string{"Authorization": del}, 401, costexplorer.ErrUnauthorized},
		{"AcceptXML", "", ok, map[string]string{"Accept": "application/xml"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptAtlasOnly", "", ok, map[string]string{"Accept": "application/vnd.atlas.2023-01-01+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptQZero", "", ok, map[string]string{"Accept": "application/json;q=0"}, 406, costexplorer.ErrInvalidVersionDate},
		{"NoContentType", "", ok, map[string]string{"Content-Type": del}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeAtlas", "", ok, map[string]string{"Content-Type": "application/vnd.atlas.2023-01-01+json"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeLatin1", "", ok, map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"PrettyYes", "", ok, map[string]string{"query": "pretty=yes"}, 400, costexplorer.ErrInvalidQueryParameter},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d bad requests", len(cases))
	}
	e.checkOwnBadRequests(t, cases, func(org, body string) *http.Request { return e.usageRequest(org, body, "") })
	t.Run("AtlasPathsStayStrict", func(t *testing.T) {
		e.t = t
		// The Atlas query still refuses what its contract lacks.
		checkError(t, e.do(e.apiRequest("POST", usagePath(e.Org), `{"startDate":"2025-01-01","endDate":"2025-02-01","granularity":"DAILY"}`)), http.StatusBadRequest, costexplorer.ErrInvalidAttribute)
	})
}
