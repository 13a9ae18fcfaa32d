package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// apiUsage asks the API's usage:query for every row of body (one page of
// up to 10000 rows is the whole answer here).
func (e *env) apiUsage(bearer, orgID string, body string) []costexplorer.UsageResult {
	e.t.Helper()
	var a costexplorer.UsageAnswer
	e.apiPost(bearer, orgID, "usage:query", body, &a)
	if a.Next != nil {
		e.t.Fatalf("usage:query %s has more than one page", body)
	}
	return a.Results
}

// apiPost posts a JSON body to one of the project's own operations of
// orgID and decodes the 200 answer into out.
func (e *env) apiPost(bearer, orgID, op, body string, out any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.URL+"/api/costexplorer/v1/orgs/"+orgID+"/"+op, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	res, rb := e.send(http.DefaultClient, req)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s", op, body, res.StatusCode, rb)
	}
	if err := json.Unmarshal(rb, out); err != nil {
		e.t.Fatalf("%s answer: %v", op, err)
	}
}

// apiForecast returns the months of the API's usage:forecast of the total
// for body.
func (e *env) apiForecast(bearer, body string) []costexplorer.MonthForecast {
	e.t.Helper()
	var f costexplorer.UsageForecast
	e.apiPost(bearer, e.Org, "usage:forecast", body, &f)
	if len(f.Results) != 1 {
		e.t.Fatalf("usage:forecast %s: %d results, want the total", body, len(f.Results))
	}
	return f.Results[0].Months
}

// tableData is a row of a result table as the browser tests read it: its
// key, its cells by column and its total, in cents.
type tableData struct {
	Key   string            `json:"key"`
	Cells map[string]string `json:"cells"`
	Total string            `json:"total"`
}

// parseCents reads a data-cents attribute.
func parseCents(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not a number of cents: %q", s)
	}
	return v
}

// checkTable compares the rows of a table with want[row][column] in cents:
// a row per key of want, every cell exact, each row total its cells' sum.
func checkTable(t *testing.T, rows []tableData, cols []string, want map[string]map[string]int64) {
	t.Helper()
	if len(rows) != len(want) {
		t.Errorf("the table has %d rows, the API %d groups", len(rows), len(want))
	}
	for _, row := range rows {
		var sum int64
		for _, c := range cols {
			v := parseCents(t, row.Cells[c])
			sum += v
			if v != want[row.Key][c] {
				t.Errorf("table %q × %s: %d cents, API %d", row.Key, c, v, want[row.Key][c])
			}
		}
		if row.Total != strconv.FormatInt(sum, 10) {
			t.Errorf("table %q: row total %s, cells add up to %d", row.Key, row.Total, sum)
		}
	}
}

func TestUsagePage(t *testing.T) {
	e := newEnv(t, options{})
	b := e.signedIn(costexplorer.RoleOrgBillingReadOnly)
	bearer := e.bearer(e.Org)
	cellsOf := func(body string) map[string]int64 {
		out := map[string]int64{}
		if i, j := strings.Index(body, "<tbody>"), strings.Index(body, "</tbody>"); i >= 0 && j > i {
			body = body[i:j]
		}
		for _, m := range regexp.MustCompile(`<tr data-key="([^"]*)"><th scope="row">[^<]*</th>.*?<td class="rowtotal" data-cents="(-?\d+)"`).FindAllStringSubmatch(body, -1) {
			out[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
		}
		return out
	}

	t.Run("OK_DefaultDaily", func(t *testing.T) {
		res, body := b.get("/usage")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d\n%s", res.StatusCode, body)
		}
		for _, want := range []string{
			`<input type="radio" name="granularity" value="daily" checked>`,
			`value="2025-05-01"`, `value="2025-06-15"`, // from the first of last month to today
			`<h2>Jun 2025 to date</h2>`,
			`Usage per day, 1 May 2025 to 15 Jun 2025, grouped by services`,
			`<h2 id="usage-table">Usage By Day</h2>`,
			`<th scope="col" data-col="2025-06-15">15 Jun 2025</th>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the default view lacks %q", want)
			}
		}
		got := cellsOf(body)
		want := map[string]int64{}
		for _, r := range e.apiUsage(bearer, e.Org, `{"granularity":"DAILY","timePeriod":{"start":"2025-05-01","end":"2025-06-16"},"groupBy":["services"],"pageSize":10000}`) {
			want[r.Groups["services"].ID] += r.AmountCents
		}
		if len(want) == 0 || len(got) != len(want) {
			t.Fatalf("table rows %v, the API's groups %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: the page shows %d cents, the API %d", k, got[k], v)
			}
		}
	})

	t.Run("OK_TagThenServicePivots", func(t *testing.T) {
		res, body := b.get("/usage?granularity=monthly&from=2025-03-10&to=2025-05-31&by=tag:team&then=services&filter=" + url.QueryEscape("tag:environment!= and services!=Support"))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d\n%s", res.StatusCode, body)
		}
		if !strings.Contains(body, `<h2 id="usage-table">By tag:team and services</h2>`) || !strings.Contains(body, `<th scope="col" data-col="Clusters">Clusters</th>`) {
			t.Errorf("the table does not pivot by service:\n%s", body)
		}
		want := map[string]int64{}
		for _, r := range e.apiUsage(bearer, e.Org, `{"granularity":"MONTHLY","timePeriod":{"start":"2025-03-10","end":"2025-06-01"},"groupBy":["tag:team","services"],
			"filter":{"and":[{"not":{"dimension":"tag:environment","absent":true}},{"not":{"dimension":"services","in":["Support"]}}]}}`) {
			want[r.Groups["tag:team"].ID] += r.AmountCents
		}
		if got := cellsOf(body); len(want) < 2 || len(got) != len(want) {
			t.Fatalf("rows %v, the API's teams %v", got, want)
		} else {
			for k, v := range want {
				if got[k] != v {
					t.Errorf("team %q: %d cents on the page, %d from the API", k, got[k], v)
				}
			}
		}
	})

	t.Run("OK_MonthToDate", func(t *testing.T) {
		_, body := b.get("/usage?filter=" + url.QueryEscape("tag:team=data"))
		spent := func(start, end string) int64 {
			var t int64
			for _, r := range e.apiUsage(bearer, e.Org, `{"granularity":"MONTHLY","timePeriod":{"start":"`+start+`","end":"`+end+`"},"filter":{"dimension":"tag:team","in":["data"]}}`) {
				t += r.AmountCents
			}
			return t
		}
		cur, same, full := spent("2025-06-01", "2025-06-16"), spent("2025-05-01", "2025-05-16"), spent("2025-05-01", "2025-06-01")
		want := `data-spent-cents="` + strconv.FormatInt(cur, 10) + `" data-last-same-cents="` + strconv.FormatInt(same, 10) + `" data-last-full-cents="` + strconv.FormatInt(full, 10) + `"`
		if cur == 0 || !strings.Contains(body, want) {
			t.Errorf("the card lacks %s", want)
		}
		// The forecast of the month end: the API's usage:forecast of the
		// same filter.
		m := e.apiForecast(bearer, `{"filter":{"dimension":"tag:team","in":["data"]}}`)[0]
		want = `id="mtd-forecast" data-cents="` + strconv.FormatInt(int64(m.Amount), 10) + `" data-lower-cents="` + strconv.FormatInt(int64(m.Lower), 10) + `" data-upper-cents="` + strconv.FormatInt(int64(m.Upper), 10) + `"`
		if m.Month != costexplorer.MakeMonth(2025, 6) || !strings.Contains(body, want) {
			t.Errorf("the card lacks the forecast %s", want)
		}
	})

	for name, path := range map[string]string{
		"ErrBadFilter":      "/usage?filter=" + url.QueryEscape("tag:team"),
		"ErrBadDimension":   "/usage?by=regions",
		"ErrBadDay":         "/usage?from=2025-02-30",
		"ErrBeforeHistory":  "/usage?from=2020-01-01",
		"ErrSameDimTwice":   "/usage?by=services&then=services",
		"ErrUnknownService": "/usage?filter=" + url.QueryEscape("services=Coffee"),
	} {
		t.Run(name, func(t *testing.T) {
			res, body := b.get(path)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `<p class="error" role="alert">`) {
				t.Errorf("%s: %d, want 400 with the error on the page\n%s", path, res.StatusCode, body)
			}
		})
	}
}
