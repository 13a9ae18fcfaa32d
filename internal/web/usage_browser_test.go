package web_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/costexplorer/costexplorer"
)

// usageData is what the browser test reads from the "By day & tag" page:
// the chart's columns and segments, the pivoted table and the card, in
// exact cents.
type usageData struct {
	Columns []struct {
		Key   string `json:"key"`
		Total string `json:"total"`
		Segs  []struct {
			Key   string `json:"key"`
			Cents string `json:"cents"`
		} `json:"segs"`
	} `json:"columns"`
	Cols         []string       `json:"cols"`
	Table        []tableData    `json:"rows"`
	Grand        string         `json:"grand"`
	Spent        string         `json:"spent"`
	Forecast     []forecastData `json:"forecast"`
	CardForecast string         `json:"cardForecast"`
}

// readUsagePage reads the "By day & tag" page (readScript), with the
// chart's columns, the table's column keys and the card.
var readUsagePage = readScript("col", `
    columns: [...document.querySelectorAll('svg.chart-svg g.month')].map(g => ({
      key: attr(g, 'data-month'),
      total: attr(g, 'data-total-cents'),
      segs: [...g.querySelectorAll('rect.seg')].map(r => ({key: attr(r, 'data-key'), cents: attr(r, 'data-cents')})),
    })),
    cols: cols,
    spent: attr(document.getElementById('mtd'), 'data-spent-cents'),
    cardForecast: document.getElementById('mtd-forecast') ? attr(document.getElementById('mtd-forecast'), 'data-cents') : '',`)

// TestBrowserUsage drives the "By day & tag" page in Chromium: the daily
// chart grouped by a tag, the table pivoted by service, the granularity
// switch to months, all against the API's usage:query to the cent.
func TestBrowserUsage(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t, options{})
	pk, private := e.apiKey(e.Org, costexplorer.RoleOrgBillingAdmin)
	bearer := e.bearer(e.Org)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	read := func(what string) *usageData {
		t.Helper()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](readUsagePage))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var d usageData
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v in %s", what, err, raw)
		}
		return &d
	}
	cents := func(s string) int64 { t.Helper(); return parseCents(t, s) }

	run("open the sign-in form", chromedp.Navigate(e.URL+"/usage"), chromedp.WaitVisible(chromedp.ID("secret")))
	run("fill in the sign-in form", chromedp.SendKeys(chromedp.ID("id"), pk), chromedp.SendKeys(chromedp.ID("secret"), private))
	submit(t, ctx, "sign in", chromedp.CSS(`form.card button[type="submit"]`))
	run("open the page", chromedp.Navigate(e.URL+"/usage"), chromedp.WaitVisible(chromedp.ID("run")))

	// Ask for two weeks by day, grouped by team then service, with the form.
	run("fill in the form",
		chromedp.SetValue(chromedp.ID("u-from"), "2025-06-01"),
		chromedp.SetValue(chromedp.ID("u-to"), "2025-06-14"),
		chromedp.SetValue(chromedp.ID("u-by"), "tag:team"),
		chromedp.SetValue(chromedp.ID("u-then"), "services"),
		chromedp.SetValue(chromedp.ID("u-filter"), "tag:environment!="),
	)
	submit(t, ctx, "show usage", chromedp.ID("run"))
	waitFor(t, ctx, "the daily result", `location.search.includes("by=tag%3Ateam") && document.querySelector('#result[data-state="ready"]') !== null`)
	got := read("read the daily page")
	screenshot(ctx, "usage-daily.png")

	// The API's answer: per day and team (the chart), per team and service
	// (the table).
	rows := e.apiUsage(bearer, e.Org, `{"granularity":"DAILY","timePeriod":{"start":"2025-06-01","end":"2025-06-15"},"groupBy":["tag:team","services"],
		"filter":{"not":{"dimension":"tag:environment","absent":true}},"pageSize":10000}`)
	if len(rows) == 0 {
		t.Fatal("the API answer is empty; the test would prove nothing")
	}
	byDay := map[string]map[string]int64{}
	dayTotal := map[string]int64{}
	pivot := map[string]map[string]int64{}
	var grand int64
	for _, r := range rows {
		team, svc := r.Groups["tag:team"].ID, r.Groups["services"].ID
		if byDay[r.Start] == nil {
			byDay[r.Start] = map[string]int64{}
		}
		if pivot[team] == nil {
			pivot[team] = map[string]int64{}
		}
		byDay[r.Start][team] += r.AmountCents
		dayTotal[r.Start] += r.AmountCents
		pivot[team][svc] += r.AmountCents
		grand += r.AmountCents
	}
	if len(got.Columns) != 14 {
		t.Fatalf("the daily chart has %d columns, want 14", len(got.Columns))
	}
	for _, col := range got.Columns {
		if cents(col.Total) != dayTotal[col.Key] {
			t.Errorf("%s: column total %s, API %d", col.Key, col.Total, dayTotal[col.Key])
		}
		seen := 0
		for _, s := range col.Segs {
			if cents(s.Cents) != byDay[col.Key][s.Key] || s.Key == "other" {
				t.Errorf("%s team %q: bar %s cents, API %d", col.Key, s.Key, s.Cents, byDay[col.Key][s.Key])
			}
			seen++
		}
		if nonzero := len(byDay[col.Key]); seen != nonzero {
			t.Errorf("%s: %d bars, the API has %d teams that day", col.Key, seen, nonzero)
		}
	}
	checkTable(t, got.Table, got.Cols, pivot)
	if cents(got.Grand) != grand {
		t.Errorf("grand total %s, API %d", got.Grand, grand)
	}

	// The granularity switch: the same view by month.
	submit(t, ctx, "switch to monthly", chromedp.CSS(`nav.switch-links a`))
	waitFor(t, ctx, "the monthly result", `location.search.includes("granularity=monthly") && document.querySelector('#result[data-state="ready"]') !== null`)
	monthly := read("read the monthly page")
	screenshot(ctx, "usage-monthly.png")
	if len(monthly.Columns) != 1 || monthly.Columns[0].Key != "2025-06" || cents(monthly.Columns[0].Total) != grand {
		t.Errorf("monthly chart %+v, want one column 2025-06 of %d cents", monthly.Columns, grand)
	}
	if monthly.Spent == "" || cents(monthly.Spent) == 0 {
		t.Errorf("the month-to-date card shows %q", monthly.Spent)
	}
	// The chart ends with this month, so it draws the forecast of the
	// filter's total, dashed with its band: the API's usage:forecast.
	fc := e.apiForecast(bearer, `{"filter":{"not":{"dimension":"tag:environment","absent":true}}}`)
	if len(monthly.Forecast) != len(fc) {
		t.Fatalf("the chart draws %d forecast months, the API has %d", len(monthly.Forecast), len(fc))
	}
	for i, f := range monthly.Forecast {
		w := fc[i]
		if f.Month != w.Month.String() || cents(f.Cents) != int64(w.Amount) || cents(f.Lower) != int64(w.Lower) || cents(f.Upper) != int64(w.Upper) {
			t.Errorf("forecast %d: the chart has %+v, the API %+v", i, f, w)
		}
	}
	if monthly.CardForecast != strconv.FormatInt(int64(fc[0].Amount), 10) {
		t.Errorf("the card's forecast %q, the API's %d", monthly.CardForecast, fc[0].Amount)
	}
}

// screenshot saves the page as name under $COSTEXPLORER_SCREENSHOTS, when
// set: for a person to look at, never compared.
func screenshot(ctx context.Context, name string) {
	dir := os.Getenv("COSTEXPLORER_SCREENSHOTS")
	if dir == "" {
		return
	}
	if shot, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{}); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name), shot.Data, 0o644)
	}
}
