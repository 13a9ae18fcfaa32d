package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/focus"
)

// chromium returns the browser the end-to-end test drives. Without one the
// test is skipped locally, but fails in CI (CI=true), where .ci/run installs
// Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("COSTEXPLORER_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required in CI: %v (set COSTEXPLORER_CHROMIUM or install chromium)", err)
		}
		t.Skipf("no Chromium at %s (set COSTEXPLORER_CHROMIUM): %v", path, err)
	}
	return path
}

// newChrome starts a headless Chromium with a fresh profile and returns a
// tab context. The browser stops when the test ends.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	profile := t.TempDir()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// pageData is what the test reads from the rendered result: the chart's
// segments and month totals, and the table, all in exact cents.
type pageData struct {
	Token  string `json:"token"`
	CSV    string `json:"csv"`
	JSON   string `json:"json"`
	FOCUS  string `json:"focus"`
	Months []struct {
		Month string `json:"month"`
		Total string `json:"total"`
		Segs  []struct {
			Key   string `json:"key"`
			Cents string `json:"cents"`
		} `json:"segs"`
	} `json:"months"`
	Rows   []tableData       `json:"rows"`
	Totals map[string]string `json:"totals"`
	Grand  string            `json:"grand"`
	// Forecast is the chart's forecast of the total: per month, the point
	// and the 80 % interval's bounds.
	Forecast []forecastData `json:"forecast"`
}

// forecastData is a month's forecast as the chart draws it, in cents.
type forecastData struct {
	Month string `json:"month"`
	Cents string `json:"cents"`
	Lower string `json:"lower"`
	Upper string `json:"upper"`
}

// readPage reads the result of the cost explorer page (readScript),
// with its download links, the chart's months and the totals row.
var readPage = readScript("month", `
    token: attr(document.getElementById('result'), 'data-token'),
    csv: document.getElementById('download-csv').href,
    json: document.getElementById('download-json').href,
    focus: document.getElementById('download-focus').href,
    months: [...document.querySelectorAll('svg.chart-svg g.month')].map(g => ({
      month: attr(g, 'data-month'),
      total: attr(g, 'data-total-cents'),
      segs: [...g.querySelectorAll('rect.seg')].map(r => ({key: attr(r, 'data-key'), cents: attr(r, 'data-cents')})),
    })),
    totals: cells(foot),`)

// readScript is a script that reads a usage page: the table's rows (each
// row's cents by column, the columns keyed by the data-KEY attribute of
// the header cells), the chart's forecast and the grand total, and props,
// the page's own properties (which may use attr, cols, cells and foot).
func readScript(key, props string) string {
	return `(() => {
  const attr = (el, name) => el.getAttribute(name);
  const cols = [...document.querySelectorAll('table.usage thead th[data-` + key + `]')].map(th => attr(th, 'data-` + key + `'));
  const cells = tr => Object.fromEntries([...tr.querySelectorAll('td:not(.rowtotal)')].map((td, i) => [cols[i], attr(td, 'data-cents')]));
  const foot = document.querySelector('table.usage tfoot tr');
  return {` + props + `
    rows: [...document.querySelectorAll('table.usage tbody tr')].map(tr => ({
      key: attr(tr, 'data-key'), cells: cells(tr), total: attr(tr.querySelector('td.rowtotal'), 'data-cents'),
    })),
    forecast: [...document.querySelectorAll('svg.chart-svg g.forecast')].map(g => ({
      month: attr(g.parentElement, 'data-month'),
      cents: attr(g, 'data-cents'), lower: attr(g, 'data-lower-cents'), upper: attr(g, 'data-upper-cents'),
    })),
    grand: attr(foot.querySelector('td.rowtotal'), 'data-cents'),
  };
})()`
}

// pageWeight reads the Performance API after a load with the cache off.
const pageWeight = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    html: {transfer: nav.transferSize, body: nav.encodedBodySize},
    resources: performance.getEntriesByType('resource').map(e => ({name: e.name, transfer: e.transferSize, body: e.encodedBodySize})),
    svg: document.querySelector('svg.chart-svg').outerHTML.length,
  };
})()`

type weight struct {
	HTML struct {
		Transfer int `json:"transfer"`
		Body     int `json:"body"`
	} `json:"html"`
	Resources []struct {
		Name     string `json:"name"`
		Transfer int    `json:"transfer"`
		Body     int    `json:"body"`
	} `json:"resources"`
	SVG int `json:"svg"`
}

// TestBrowser drives the page in Chromium end to end: sign in with an API
// key, pick a range and a group-by, watch the processing state turn into a
// result, and check the chart, the table and the CSV download against the
// API's answers for the same query, to the cent and to the byte.
func TestBrowser(t *testing.T) {
	ctx := newChrome(t)
	// Every query stays "processing" for an hour of the pinned clock, so the
	// test sees the processing state for certain and ends it by moving the
	// clock.
	e := newEnv(t, options{minProcessing: time.Hour})
	pk, private := e.apiKey(e.Org, costexplorer.RoleOrgBillingAdmin)

	var (
		mu      sync.Mutex
		entries []string
	)
	logs := chromedp.Events(ctx, log.EntryAdded)
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			mu.Lock()
			entries = append(entries, string(ev.Entry.Level)+" "+string(ev.Entry.Source)+": "+ev.Entry.Text+" "+ev.Entry.URL)
			mu.Unlock()
		}
	}()
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string, out any) {
		t.Helper()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v in %s", what, err, raw)
		}
	}
	// Cache off: every load below is a first load, measured as such.
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatalf("disable cache: %v", err)
	}

	// Sign in: the explorer sends a visitor without a session to the form.
	run("open the explorer", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(chromedp.ID("secret")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/signin") {
		t.Fatalf("a visitor without a session is at %s, want the sign-in page", loc)
	}
	run("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("id"), pk),
		chromedp.SendKeys(chromedp.ID("secret"), private),
	)
	submit(t, ctx, "sign in", chromedp.CSS(`form.card button[type="submit"]`))
	run("wait for the explorer", chromedp.WaitVisible(chromedp.ID("run")))

	// Pick a range and a group-by, and run the query.
	const from, to, groupBy = "2025-02", "2025-05", "projects"
	run("pick filters and submit",
		chromedp.SetValue(chromedp.ID("f-from"), from),
		chromedp.SetValue(chromedp.ID("f-to"), to),
		chromedp.SetValue(chromedp.ID("f-groupby"), groupBy),
	)
	submit(t, ctx, "show usage", chromedp.ID("run"))
	processing := `location.search.includes("groupBy=projects") && document.querySelector('#result[data-state="processing"]') !== null`
	waitFor(t, ctx, "the processing state", processing)
	// The query becomes ready; the page's script notices and shows it.
	e.Clock.Advance(time.Hour + time.Second)
	ready := `location.search.includes("groupBy=projects") && document.querySelector('#result[data-state="ready"]') !== null`
	waitFor(t, ctx, "the result", ready)
	var got pageData
	eval("read the result", readPage, &got)

	// The same query through the API, with the values the page says it
	// filled in: every project of the paying organization and its linked
	// organizations.
	scope := map[string]bool{e.Org: true}
	for _, o := range e.Layout.Linked {
		scope[o.ID] = true
	}
	projects, err := e.DB.Projects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range projects {
		if scope[p.OrgID] {
			ids = append(ids, p.ID)
		}
	}
	bearer := e.bearer(e.Org)
	token := e.apiCreate(bearer, e.Org, map[string]any{
		"startDate": from + "-01", "endDate": "2025-06-01", "groupBy": groupBy, "projects": ids,
	})
	if token != got.Token {
		t.Fatalf("the page ran query %s, the API runs %s for the same filters", got.Token, token)
	}
	apiJSON := e.apiResult(bearer, e.Org, token, "json")
	var res costexplorer.Result
	if err := json.Unmarshal(apiJSON, &res); err != nil {
		t.Fatal(err)
	}
	checkAgainstAPI(t, &got, res.UsageDetails, []string{"2025-02", "2025-03", "2025-04", "2025-05"})

	// Downloads, fetched with the browser's session cookie, are the API's
	// answers byte for byte.
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.URL}})
	if err != nil {
		t.Fatal(err)
	}
	var session *http.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "costexplorer_session" {
			session = &http.Cookie{Name: c.Name, Value: c.Value}
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
				t.Errorf("session cookie in the browser: HttpOnly=%v SameSite=%s", c.HTTPOnly, c.SameSite)
			}
		}
	}
	if session == nil {
		t.Fatal("the browser holds no session cookie")
	}
	download := func(link string) []byte {
		req, _ := http.NewRequest("GET", link, nil)
		req.AddCookie(session)
		res, body := e.send(http.DefaultClient, req)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download %s: %d %v", link, res.StatusCode, res.Header)
		}
		return body
	}
	if csv, want := download(got.CSV), e.apiResult(bearer, e.Org, token, "csv"); !bytes.Equal(csv, want) {
		t.Errorf("CSV download differs from the API's CSV:\n%s\nwant:\n%s", csv, want)
	}
	if js := download(got.JSON); !bytes.Equal(js, apiJSON) {
		t.Errorf("JSON download differs from the API's JSON:\n%s\nwant:\n%s", js, apiJSON)
	}
	// The FOCUS download: the whole billing account's invoices of the period
	// (no organization was chosen), as `export focus` writes them.
	fromMonth, _ := costexplorer.ParseMonth(from)
	toMonth, _ := costexplorer.ParseMonth(to)
	if f, want := download(got.FOCUS), e.export(t, focus.Request{OrgID: e.Org, From: fromMonth, To: toMonth}); !bytes.Equal(f, want) {
		t.Errorf("FOCUS download %s (%d bytes) differs from export focus of the period (%d bytes)", got.FOCUS, len(f), len(want))
	}

	// The script's filter box narrows a long list as one types.
	run("filter the services", chromedp.SendKeys(chromedp.CSS(`input.filter-box[aria-controls="f-service"]`), "stor"))
	var visible []string
	eval("read the visible services", `[...document.getElementById('f-service').options].filter(o => !o.hidden).map(o => o.value)`, &visible)
	if strings.Join(visible, "|") != "Storage|DSC Storage" {
		t.Errorf("services visible after typing \"stor\": %q, want Storage and DSC Storage", visible)
	}

	// A shared link with no grouping: every detail, more than 19 groups a
	// month, so the chart has an Other segment; still exact to the cent.
	run("open a shared view", chromedp.Navigate(e.URL+"/explorer?from=2025-01&to=2025-06&groupBy=none"))
	e.Clock.Advance(time.Hour + time.Second)
	waitFor(t, ctx, "the detailed result", `location.search.includes("groupBy=none") && document.querySelector('#result[data-state="ready"]') !== null`)
	var detail pageData
	eval("read the detailed result", readPage, &detail)
	bearer = e.bearer(e.Org)
	token = e.apiCreate(bearer, e.Org, map[string]any{"startDate": "2025-01-01", "endDate": "2025-07-01"})
	if token != detail.Token {
		t.Fatalf("the page ran query %s, the API runs %s for the same filters", detail.Token, token)
	}
	var detailRes costexplorer.Result // fresh: Unmarshal would keep fields of reused rows
	if err := json.Unmarshal(e.apiResult(bearer, e.Org, token, "json"), &detailRes); err != nil {
		t.Fatal(err)
	}
	others := 0
	for _, m := range detail.Months {
		for _, s := range m.Segs {
			if s.Key == "other" {
				others++
			}
		}
	}
	if others == 0 {
		t.Fatal("no month of the detailed view has an Other segment; the dataset no longer exercises it")
	}
	checkAgainstAPI(t, &detail, detailRes.UsageDetails, []string{"2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"})
	// The window ends with the current month: the chart draws the
	// forecast of the total, the API's usage:forecast to the cent.
	checkForecastAgainstAPI(t, e, bearer, &detail)
	if len(got.Forecast) != 0 {
		t.Errorf("a window that ends before the current month has a forecast: %+v", got.Forecast)
	}
	run("back to the projects view", chromedp.Navigate(e.URL+"/explorer?from=2025-02&to=2025-05&groupBy=projects"))

	// A first load of this view (a bookmark), cache off: its weight.
	run("reload the view", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#result[data-state="ready"]`)))
	var w weight
	eval("measure the page", pageWeight, &w)
	total, body := w.HTML.Transfer, w.HTML.Body
	parts := []string{"HTML " + strconv.Itoa(w.HTML.Transfer) + " B (body " + strconv.Itoa(w.HTML.Body) + " B, of which SVG " + strconv.Itoa(w.SVG) + " B)"}
	for _, r := range w.Resources {
		total += r.Transfer
		body += r.Body
		parts = append(parts, filepath.Base(strings.SplitN(r.Name, "?", 2)[0])+" "+strconv.Itoa(r.Transfer)+" B")
	}
	t.Logf("page weight, first load of %s to %s grouped by %s (%d table rows): %d bytes transferred (%d bytes of bodies): %s",
		from, to, groupBy, len(got.Rows), total, body, strings.Join(parts, ", "))
	if len(w.Resources) < 2 || w.HTML.Transfer == 0 {
		t.Errorf("the measurement missed the page's parts: %+v", w)
	}

	// Screenshots, laptop and phone width. On a phone the page itself must
	// not scroll sideways: the chart and the table scroll in their boxes.
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(t.TempDir(), name)
		for _, p := range []string{path, filepath.Join(os.TempDir(), name)} {
			if err := os.WriteFile(p, png, 0o644); err != nil {
				t.Fatalf("write screenshot: %v", err)
			}
		}
		t.Logf("screenshot: %s (also %s)", path, filepath.Join(os.TempDir(), name))
	}
	shot("costexplorer-web.png")
	run("phone width", chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#result[data-state="ready"]`)))
	var overflow struct {
		Scroll int `json:"scroll"`
		Inner  int `json:"inner"`
	}
	eval("page width", `({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})`, &overflow)
	if overflow.Scroll > overflow.Inner {
		t.Errorf("at phone width the page is %d px wide in a %d px window", overflow.Scroll, overflow.Inner)
	}
	shot("costexplorer-web-phone.png")

	// From the explorer to an invoice: the chart's column of a month links to
	// the organization's invoice of that month, whose amounts are the API's.
	run("laptop width", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(e.URL+"/explorer?from=2025-02&to=2025-05&groupBy=projects"),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-state="ready"]`)))
	var may client.Invoice
	for _, inv := range e.apiInvoices(e.Org) {
		if inv.Month().String() == "2025-05" {
			may = inv
		}
	}
	if may.ID == "" {
		t.Fatal("the API lists no invoice for May 2025")
	}
	submit(t, ctx, "click May 2025 in the chart", chromedp.CSS(`svg.chart-svg a.month-link:last-of-type text.total`))
	run("wait for the invoice", chromedp.WaitVisible(chromedp.ID("invoice")))
	var shown struct {
		ID     string `json:"id"`
		Billed string `json:"billed"`
		Paid   string `json:"paid"`
		Range  string `json:"range"`
		Rows   int    `json:"rows"`
		CSV    string `json:"csv"`
	}
	const readInvoice = `(() => ({
  id: document.getElementById('invoice').getAttribute('data-invoice'),
  billed: document.getElementById('amount-billed').getAttribute('data-cents'),
  paid: document.getElementById('amount-paid').getAttribute('data-cents'),
  range: document.querySelector('#line-items + p.hint').textContent,
  rows: document.querySelectorAll('table.items tbody tr').length,
  csv: document.getElementById('download-invoice-csv').href,
}))()`
	eval("read the invoice", readInvoice, &shown)
	if shown.ID != may.ID || shown.Billed != strconv.FormatInt(int64(may.AmountBilled), 10) || shown.Paid != strconv.FormatInt(int64(may.AmountPaid), 10) {
		t.Errorf("the chart led to invoice %s billed %s paid %s; the API's May invoice is %s billed %d paid %d",
			shown.ID, shown.Billed, shown.Paid, may.ID, may.AmountBilled, may.AmountPaid)
	}
	if shown.Rows != 50 || !strings.HasPrefix(shown.Range, "1–50 of ") {
		t.Errorf("first page of line items: %d rows, %q", shown.Rows, shown.Range)
	}
	submit(t, ctx, "next page of line items", chromedp.ID("items-next"))
	run("wait for page 2", chromedp.WaitVisible(chromedp.ID("items-prev")))
	eval("read page 2", readInvoice, &shown)
	if !strings.HasPrefix(shown.Range, "51–") || shown.Rows == 0 {
		t.Errorf("second page of line items: %d rows, %q", shown.Rows, shown.Range)
	}
	// The CSV link downloads the API's CSV of the invoice, byte for byte.
	var csv struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	eval("download the CSV", `(() => { const x = new XMLHttpRequest(); x.open('GET', document.getElementById('download-invoice-csv').href, false); x.send(); return {status: x.status, body: x.responseText}; })()`, &csv)
	req, _ := http.NewRequest("GET", e.URL+"/api/atlas/v2/orgs/"+e.Org+"/invoices/"+may.ID+"/csv", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+csv")
	if _, apiCSV := e.send(http.DefaultClient, req); csv.Status != 200 || csv.Body != string(apiCSV) {
		t.Errorf("the page's CSV (%d, %d bytes) is not the API's (%d bytes)", csv.Status, len(csv.Body), len(apiCSV))
	}
	shot("costexplorer-invoice.png")
	submit(t, ctx, "back to the list of invoices", chromedp.CSS(`p.crumbs a`))
	run("wait for the list", chromedp.WaitVisible(chromedp.CSS(`table.invoices tr[data-invoice="`+may.ID+`"]`)))
	shot("costexplorer-invoices.png")

	// The page ran with its Content-Security-Policy and no errors.
	mu.Lock()
	defer mu.Unlock()
	for _, entry := range entries {
		if strings.HasPrefix(entry, "error") || strings.Contains(entry, "Content Security Policy") {
			t.Errorf("browser log: %s", entry)
		}
	}
}

// waitFor waits until the JavaScript expression is true on the page, across
// the reloads the page's own script makes.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second)))
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("wait for %s: %v", what, err)
		}
		// A navigation ended the poll: look again on the new page.
		time.Sleep(50 * time.Millisecond)
	}
}

// submit clicks a form's button and waits for the navigation it starts.
func submit[S chromedp.Selectable](t *testing.T, ctx context.Context, what string, button S) {
	t.Helper()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(button))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%s: %d %s", what, res.Status, res.URL)
}

// checkAgainstAPI compares the chart and the table with the API's rows, to
// the cent.
func checkAgainstAPI(t *testing.T, got *pageData, rows []costexplorer.Row, months []string) {
	t.Helper()
	// want[key][month] in cents, from the API's rows.
	want := map[string]map[string]int64{}
	monthTotal := map[string]int64{}
	var grand int64
	for _, r := range rows {
		key := strings.Join([]string{r.OrganizationID, r.ProjectID, r.ClusterID, string(r.Service)}, "/")
		m := r.UsageDate[:7]
		if want[key] == nil {
			want[key] = map[string]int64{}
		}
		want[key][m] += int64(r.UsageAmount)
		monthTotal[m] += int64(r.UsageAmount)
		grand += int64(r.UsageAmount)
	}
	if len(rows) == 0 {
		t.Fatal("the API result is empty; the test would prove nothing")
	}
	cents := func(s string) int64 { t.Helper(); return parseCents(t, s) }
	abs := func(v int64) int64 { return max(v, -v) }

	// The chart: one column per month; each month's segments are its 19
	// largest groups exactly, plus Other holding the rest; the column total
	// is the month's total.
	if len(got.Months) != len(months) {
		t.Fatalf("chart has %d months, want %d", len(got.Months), len(months))
	}
	for i, col := range got.Months {
		m := months[i]
		if col.Month != m {
			t.Errorf("chart column %d is %s, want %s", i, col.Month, m)
		}
		if cents(col.Total) != monthTotal[m] {
			t.Errorf("%s: chart total %s cents, API %d", m, col.Total, monthTotal[m])
		}
		var sum, other int64
		shown := map[string]bool{}
		for _, s := range col.Segs {
			c := cents(s.Cents)
			sum += c
			if s.Key == "other" {
				other = c
				continue
			}
			shown[s.Key] = true
			if c != want[s.Key][m] {
				t.Errorf("%s %s: bar %d cents, API %d", m, s.Key, c, want[s.Key][m])
			}
		}
		if sum != monthTotal[m] {
			t.Errorf("%s: bars add up to %d cents, API total %d", m, sum, monthTotal[m])
		}
		var rest []int64
		var restSum, minShown int64 = 0, -1
		for key, byMonth := range want {
			c := byMonth[m]
			if c == 0 {
				continue
			}
			if shown[key] {
				if minShown < 0 || abs(c) < minShown {
					minShown = abs(c)
				}
				continue
			}
			rest = append(rest, abs(c))
			restSum += c
		}
		if len(shown) > 19 || (len(rest) > 0 && len(shown) != 19) {
			t.Errorf("%s: %d groups shown and %d in Other, want the 19 largest shown", m, len(shown), len(rest))
		}
		if other != restSum {
			t.Errorf("%s: Other is %d cents, the groups not shown add up to %d", m, other, restSum)
		}
		if len(rest) > 0 && slices.Max(rest) > minShown {
			t.Errorf("%s: a group of %d cents is in Other while one of %d cents is shown", m, slices.Max(rest), minShown)
		}
	}

	// The table: one row per group, every cell and total exact.
	checkTable(t, got.Rows, months, want)
	for _, m := range months {
		if cents(got.Totals[m]) != monthTotal[m] {
			t.Errorf("table total %s: %s cents, API %d", m, got.Totals[m], monthTotal[m])
		}
	}
	if cents(got.Grand) != grand {
		t.Errorf("table grand total %s cents, API %d", got.Grand, grand)
	}
}

// checkForecastAgainstAPI compares the forecast the chart draws with the
// API's usage:forecast of the total, made the same day.
func checkForecastAgainstAPI(t *testing.T, e *env, bearer string, got *pageData) {
	t.Helper()
	want := e.apiForecast(bearer, `{}`)
	if len(got.Forecast) != len(want) {
		t.Fatalf("the chart draws %d forecast months, the API has %d: %+v", len(got.Forecast), len(want), got.Forecast)
	}
	for i, m := range want {
		g := got.Forecast[i]
		if g.Month != m.Month.String() || g.Cents != strconv.FormatInt(int64(m.Amount), 10) ||
			g.Lower != strconv.FormatInt(int64(m.Lower), 10) || g.Upper != strconv.FormatInt(int64(m.Upper), 10) {
			t.Errorf("forecast %d: the chart draws %+v, the API says %s %d [%d, %d]", i, g, m.Month, m.Amount, m.Lower, m.Upper)
		}
	}
}
