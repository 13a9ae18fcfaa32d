package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/golden"

	"github.com/costexplorer/costexplorer"
)

// invoiceView decodes a BillingInvoice or BillingInvoiceMetadata answer.
type invoiceView struct {
	AmountBilledCents    int64  `json:"amountBilledCents"`
	AmountPaidCents      int64  `json:"amountPaidCents"`
	CreditsCents         int64  `json:"creditsCents"`
	SalesTaxCents        int64  `json:"salesTaxCents"`
	StartingBalanceCents int64  `json:"startingBalanceCents"`
	SubtotalCents        int64  `json:"subtotalCents"`
	Created              string `json:"created"`
	Updated              string `json:"updated"`
	StartDate            string `json:"startDate"`
	EndDate              string `json:"endDate"`
	ID                   string `json:"id"`
	OrgID                string `json:"orgId"`
	StatusName           string `json:"statusName"`
	LineItems            []struct {
		ClusterName     string              `json:"clusterName"`
		GroupID         string              `json:"groupId"`
		SKU             string              `json:"sku"`
		StartDate       string              `json:"startDate"`
		TotalPriceCents int64               `json:"totalPriceCents"`
		Tags            map[string][]string `json:"tags"`
	} `json:"lineItems"`
	LinkedInvoices []invoiceView       `json:"linkedInvoices"`
	Links          []costexplorer.Link `json:"links"`
	Payments       []struct {
		AmountPaidCents int64  `json:"amountPaidCents"`
		StatusName      string `json:"statusName"`
	} `json:"payments"`
}

// invoiceListView decodes PaginatedApiInvoiceMetadata and PaginatedApiInvoice.
type invoiceListView struct {
	Links      []costexplorer.Link `json:"links"`
	Results    []invoiceView       `json:"results"`
	TotalCount *int                `json:"totalCount"`
	Status     *int                `json:"status"`
}

// searchView decodes PaginatedPublicApiUsageDetailsLineItem.
type searchView struct {
	Links   []costexplorer.Link `json:"links"`
	Results []struct {
		BillDate        string `json:"billDate"`
		UsageDate       string `json:"usageDate"`
		ClusterName     string `json:"clusterName"`
		GroupID         string `json:"groupId"`
		Description     string `json:"description"`
		TotalPriceCents int64  `json:"totalPriceCents"`
	} `json:"results"`
	TotalCount *int `json:"totalCount"`
}

// as returns a Bearer token of a new service account of orgID with role.
func (e *env) as(t testing.TB, orgID string, role costexplorer.Role) string {
	t.Helper()
	id, secret := e.ServiceAccount(t, orgID, nil, role)
	return e.accessToken(id, secret)
}

// get sends an authenticated GET with bearer (the default credential when
// empty) and accept (2023-01-01 JSON when empty).
func (e *env) get(path, accept, bearer string) *response {
	e.t.Helper()
	return e.send("GET", path, "", accept, "", bearer)
}

// searchReq sends lineItems:search with body.
func (e *env) searchReq(method, path, body, bearer string) *response {
	e.t.Helper()
	req := e.apiRequest(method, path, body)
	req.Header.Set("Accept", accept2024)
	req.Header.Set("Content-Type", accept2024)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

// masked replaces the test server's base URL, which changes from run to
// run, in a body bound for a golden file.
func (e *env) masked(body []byte) []byte {
	return bytes.ReplaceAll(body, []byte(e.URL), []byte("http://costexplorer.test"))
}

// TestInvoiceGolden pins each invoice operation's JSON and CSV on the demo
// dataset: the paying organization's list (with its linked invoices, as its
// owner sees it), a linked organization's invoice as JSON and CSV and its
// pending invoices, a page of line items, and the SKU catalogue.
func TestInvoiceGolden(t *testing.T) {
	e := newEnv(t, options{})
	owner := e.as(t, e.Org, costexplorer.RoleOrgOwner)
	linked := e.Layout.Linked[0].ID
	viewer := e.as(t, linked, costexplorer.RoleOrgBillingReadOnly)
	june := costexplorer.MonthOf(t0)
	linkedJune := costexplorer.InvoiceID(linked, june)
	payingMay := costexplorer.InvoiceID(e.Org, june-1)

	check := func(name string, res *response, ct string) {
		t.Helper()
		res.mustOK(t, name, ct)
		golden.Check(t, "invoices/"+name, e.masked(res.body))
	}
	const json23 = "application/vnd.atlas.2023-01-01+json;charset=utf-8"
	const csv23 = "application/vnd.atlas.2023-01-01+csv;charset=utf-8"
	check("list_invoices.json", e.get(invoicesPath(e.Org), "", owner), json23)
	check("get_invoice.json", e.get(invoicesPath(linked)+"/"+linkedJune, "", viewer), json23)
	csvRes := e.get(invoicesPath(linked)+"/"+linkedJune, csv2023, viewer)
	check("get_invoice.csv", csvRes, csv23)
	download := e.get(invoicesPath(linked)+"/"+linkedJune+"/csv", csv2023, viewer)
	if download.status != 200 || !bytes.Equal(download.body, csvRes.body) || download.header.Get("Content-Type") != csv23 {
		t.Errorf("downloadInvoiceCsv differs from getInvoice as CSV: %d %s", download.status, download.header.Get("Content-Type"))
	}
	check("list_pending_invoices.json", e.get(invoicesPath(linked)+"/pending", "", viewer), json23)
	check("line_items_search.json", e.searchReq("POST", invoicesPath(e.Org)+"/"+payingMay+"/lineItems:search?itemsPerPage=25&pageNum=2",
		`{"filters":{"skuServices":["Clusters","Backup","Support","Credits"],"includeZeroCentLineItems":true},"sortField":"TOTAL_PRICE_CENTS","sortOrder":"ASCENDING"}`, owner),
		"application/vnd.atlas.2024-08-05+json;charset=utf-8")
	check("list_skus.json", e.do(e.skuRequest(skusPath+"?itemsPerPage=10&pageNum=3")), json2025)
	check("get_sku.json", e.do(e.skuRequest(skusPath+"/ATLAS_AZURE_STORAGE_IOPS")), json2025)
}

// TestListInvoicesParameters checks every parameter of listInvoices on the
// paying organization's six months of invoices.
func TestListInvoicesParameters(t *testing.T) {
	e := newEnv(t, options{})
	owner := e.as(t, e.Org, costexplorer.RoleOrgOwner)
	list := func(query string, bearer string) invoiceListView {
		t.Helper()
		res := e.get(invoicesPath(e.Org)+query, "", bearer)
		if res.status != 200 {
			t.Fatalf("%s: %d %s", query, res.status, res.body)
		}
		var v invoiceListView
		res.json(t, &v)
		return v
	}
	ids := func(v invoiceListView) []string {
		var out []string
		for _, r := range v.Results {
			out = append(out, r.ID)
		}
		return out
	}
	months := []costexplorer.Month{}
	for m := costexplorer.MonthOf(t0); m > costexplorer.MonthOf(t0)-6; m-- {
		months = append(months, m)
	}
	var newestFirst []string
	for _, m := range months {
		newestFirst = append(newestFirst, costexplorer.InvoiceID(e.Org, m))
	}
	oldestFirst := slices.Clone(newestFirst)
	slices.Reverse(oldestFirst)

	all := list("", "")
	if got := ids(all); !slices.Equal(got, newestFirst) || all.TotalCount == nil || *all.TotalCount != 6 {
		t.Fatalf("default: %v total %v, want %v total 6", got, all.TotalCount, newestFirst)
	}
	for _, r := range all.Results {
		if len(r.LinkedInvoices) != 0 {
			t.Errorf("a Billing Viewer sees linked invoices of %s", r.ID)
		}
		if r.LineItems != nil {
			t.Errorf("the list carries line items")
		}
		start, _ := time.Parse(time.RFC3339, r.StartDate)
		end, _ := time.Parse(time.RFC3339, r.EndDate)
		if start.Day() != 1 || end != start.AddDate(0, 1, 0) || r.ID != costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(start)) {
			t.Errorf("invoice %s: period %s – %s", r.ID, r.StartDate, r.EndDate)
		}
	}
	// The statuses come from the data (the demo records payments); the
	// filter must keep exactly the invoices of the statuses named.
	statusOf := map[string]string{}
	for _, r := range all.Results {
		statusOf[r.ID] = r.StatusName
	}
	withStatus := func(order []string, statuses ...string) []string {
		var out []string
		for _, id := range order {
			if slices.Contains(statuses, statusOf[id]) {
				out = append(out, id)
			}
		}
		return out
	}
	if statusOf[newestFirst[0]] != "PENDING" || statusOf[newestFirst[1]] == "PENDING" {
		t.Fatalf("statuses %v: the current month alone should be PENDING", statusOf)
	}
	if len(withStatus(newestFirst, "PAID")) == 0 {
		t.Fatalf("statuses %v: no PAID invoice, the status filters would prove little", statusOf)
	}
	for query, want := range map[string][]string{
		"?orderBy=asc":                             oldestFirst,
		"?sortBy=START_DATE&orderBy=asc":           oldestFirst,
		"?sortBy=START_DATE":                       newestFirst,
		"?sortBy=END_DATE&orderBy=desc":            newestFirst,
		"?fromDate=" + months[3].Date():            newestFirst[:4],
		"?toDate=" + months[2].Date():              newestFirst[3:],
		"?toDate=" + (months[2].Date()[:8] + "15"): newestFirst[3:],
		"?fromDate=" + months[4].Date() + "&toDate=" + months[2].Date() + "&orderBy=asc": {oldestFirst[1], oldestFirst[2]},
		"?fromDate=2030-01-01":                                      nil,
		"?statusNames=PENDING":                                      newestFirst[:1],
		"?statusNames=PAID&statusNames=FREE":                        withStatus(newestFirst, "PAID", "FREE"),
		"?statusNames=INVOICED&statusNames=PENDING&orderBy=asc":     withStatus(oldestFirst, "INVOICED", "PENDING"),
		"?statusNames=CLOSED&statusNames=PAID&statusNames=INVOICED": newestFirst[1:],
		"?itemsPerPage=2&pageNum=2":                                 newestFirst[2:4],
		"?itemsPerPage=4&pageNum=2":                                 newestFirst[4:],
		"?itemsPerPage=4&pageNum=3":                                 nil,
		"?unknownParameter=1":                                       newestFirst,
	} {
		if got := ids(list(query, "")); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", query, got, want)
		}
	}
	if v := list("?itemsPerPage=2&pageNum=2", ""); relsOf(v.Links) != "previous,self,next" || *v.TotalCount != 6 ||
		v.Links[2].Href != e.URL+invoicesPath(e.Org)+"?itemsPerPage=2&pageNum=3" {
		t.Errorf("links of page 2: %+v total %v", v.Links, v.TotalCount)
	}
	if v := list("?itemsPerPage=4&pageNum=2", ""); relsOf(v.Links) != "previous,self" || *v.TotalCount != 6 {
		t.Errorf("last page: links %s total %v", relsOf(v.Links), *v.TotalCount)
	}
	if v := list("?includeCount=false", ""); v.TotalCount != nil {
		t.Errorf("includeCount=false: totalCount %d", *v.TotalCount)
	}
	res := e.get(invoicesPath(e.Org)+"?itemsPerPage=1&envelope=true&pretty=true", "", "")
	if b := string(res.body); !strings.HasPrefix(b, "{\n  \"links\": [\n") || !strings.HasSuffix(b, "  \"totalCount\": 6,\n  \"status\": 200\n}\n") {
		t.Errorf("envelope and pretty: %s", b)
	}

	// Linked invoices: only for the paying organization's owner or
	// billing admin, and only with viewLinkedInvoices=true (the default).
	linkedOrgs := []string{}
	for _, o := range e.Layout.Linked {
		linkedOrgs = append(linkedOrgs, o.ID)
	}
	slices.Sort(linkedOrgs)
	for _, role := range []costexplorer.Role{costexplorer.RoleOrgOwner, costexplorer.RoleOrgBillingAdmin} {
		v := list("", e.as(t, e.Org, role))
		for _, r := range v.Results {
			var got []string
			for _, l := range r.LinkedInvoices {
				got = append(got, l.OrgID)
				if l.StartDate != r.StartDate || l.ID != costexplorer.InvoiceID(l.OrgID, costexplorer.MonthOf(mustTime(t, l.StartDate))) {
					t.Errorf("%s: linked invoice %s of another month %s", role, l.ID, l.StartDate)
				}
			}
			if !slices.Equal(got, linkedOrgs) {
				t.Errorf("%s: invoice %s links %v, want %v", role, r.ID, got, linkedOrgs)
			}
		}
	}
	for _, r := range list("?viewLinkedInvoices=false", owner).Results {
		if len(r.LinkedInvoices) != 0 {
			t.Errorf("viewLinkedInvoices=false: %s has linked invoices", r.ID)
		}
	}
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestInvoiceAmountsMatchLines checks each invoice's amounts against its
// line items, to the cent, and its CSV against its JSON: the same items,
// the same total.
func TestInvoiceAmountsMatchLines(t *testing.T) {
	e := newEnv(t, options{})
	owner := e.as(t, e.Org, costexplorer.RoleOrgOwner)
	tagged := 0
	defer func() {
		if tagged == 0 {
			t.Errorf("no line item carries a tag: the tag columns were not checked")
		}
	}()
	for m := costexplorer.MonthOf(t0) - 5; m <= costexplorer.MonthOf(t0); m++ {
		for _, org := range []string{e.Org, e.Layout.Linked[0].ID} {
			id := costexplorer.InvoiceID(org, m)
			// The paying organization's owner reads the linked
			// organization's invoice on its own path.
			res := e.get(invoicesPath(e.Org)+"/"+id, "", owner)
			var inv invoiceView
			res.json(t, &inv)
			var charges, credits int64
			for _, l := range inv.LineItems {
				if l.TotalPriceCents > 0 {
					charges += l.TotalPriceCents
				} else {
					credits -= l.TotalPriceCents
				}
				if l.StartDate < inv.StartDate || l.StartDate >= inv.EndDate {
					t.Errorf("%s: line item of %s outside the period", id, l.StartDate)
				}
			}
			if len(inv.LineItems) == 0 || inv.OrgID != org || inv.SubtotalCents != charges || inv.CreditsCents != min(credits, charges) ||
				inv.AmountBilledCents != inv.SubtotalCents-inv.CreditsCents+inv.SalesTaxCents {
				t.Errorf("%s: %d items, subtotal %d credits %d billed %d; items: charges %d credits %d",
					id, len(inv.LineItems), inv.SubtotalCents, inv.CreditsCents, inv.AmountBilledCents, charges, credits)
			}
			res = e.get(invoicesPath(e.Org)+"/"+id+"/csv", csv2023, owner)
			recs, err := readInvoiceCSV(res.body)
			if err != nil {
				t.Fatalf("%s CSV: %v", id, err)
			}
			var csvTotal int64
			header := recs[5]
			for i, r := range recs[6:] {
				csvTotal += parseDollars(t, r[18])
				// The tag columns hold the line item's tags of its usage day.
				if i >= len(inv.LineItems) {
					break
				}
				tags := inv.LineItems[i].Tags
				tagged += len(tags)
				for c := len(costexplorer.InvoiceCSVColumns); c < len(header); c++ {
					if want := strings.Join(tags[header[c]], costexplorer.TagValueSeparator); costexplorer.RestoreCSVText(r[c]) != want {
						t.Errorf("%s row %d: %s is %q in the CSV, %q in the JSON", id, i, header[c], r[c], want)
					}
				}
			}
			if len(recs)-6 != len(inv.LineItems) || csvTotal != charges-credits || recs[0][1] != id || recs[3][1] != org {
				t.Errorf("%s CSV: %d rows total %d, JSON %d items total %d", id, len(recs)-6, csvTotal, len(inv.LineItems), charges-credits)
			}
		}
	}
}

// readInvoiceCSV reads an invoice CSV (its summary rows have three fields,
// the blank line none, the line items the header's).
func readInvoiceCSV(b []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	var out [][]string
	for _, line := range strings.SplitAfter(string(b), "\n")[4:5] {
		if line != "\n" {
			return nil, errBlank
		}
	}
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	// encoding/csv skips the blank line: put it back where it was.
	out = append(out, recs[:4]...)
	out = append(out, nil)
	return append(out, recs[4:]...), nil
}

var errBlank = &costexplorer.Error{Code: costexplorer.ErrValidation, Detail: "the fifth line of an invoice CSV is blank"}

// parseDollars reads "$12.34" or "-$0.50" as cents.
func parseDollars(t testing.TB, s string) int64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "$")
	whole, frac, ok := strings.Cut(s, ".")
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if !ok || len(frac) != 2 || err1 != nil || err2 != nil {
		t.Fatalf("amount %q", s)
	}
	if neg {
		return -(w*100 + f)
	}
	return w*100 + f
}

// TestGetInvoiceCSVNegotiation checks that getInvoice answers CSV only when
// Accept asks for it, at any date from 2023-01-01, that a CSV is never
// enveloped, and that downloadInvoiceCsv refuses JSON.
func TestGetInvoiceCSVNegotiation(t *testing.T) {
	e := newEnv(t, options{})
	path := invoicesPath(e.Org) + "/" + costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	for accept, want := range map[string]string{
		"application/vnd.atlas.2023-01-01+csv":                                              "application/vnd.atlas.2023-01-01+csv;charset=utf-8",
		"application/vnd.atlas.2025-03-12+csv":                                              "application/vnd.atlas.2023-01-01+csv;charset=utf-8",
		"application/vnd.atlas.2025-03-12+json":                                             "application/vnd.atlas.2023-01-01+json;charset=utf-8",
		"application/vnd.atlas.2023-01-01+csv, application/vnd.atlas.2023-01-01+json":       "application/vnd.atlas.2023-01-01+json;charset=utf-8",
		"application/vnd.atlas.2023-01-01+json;q=0.1, application/vnd.atlas.2023-01-01+csv": "application/vnd.atlas.2023-01-01+csv;charset=utf-8",
	} {
		res := e.get(path+"?envelope=true", accept, "")
		if res.status != 200 || res.header.Get("Content-Type") != want {
			t.Errorf("%s: %d %s", accept, res.status, res.header.Get("Content-Type"))
		}
		if strings.HasSuffix(want, "csv;charset=utf-8") != strings.HasPrefix(string(res.body), "Invoice Number,") {
			t.Errorf("%s: body %.40q", accept, res.body)
		}
		if strings.Contains(want, "json") && !strings.HasPrefix(string(res.body), `{"status":200,"content":{"amountBilledCents":`) {
			t.Errorf("%s: envelope %.60q", accept, res.body)
		}
	}
	checkError(t, e.get(path+"/csv", "application/vnd.atlas.2023-01-01+json", ""), 406, costexplorer.ErrInvalidVersionDate)
	if res := e.get(path+"/csv?pretty=true", "application/vnd.atlas.2030-01-01+csv", ""); res.status != 200 || !strings.HasPrefix(string(res.body), "Invoice Number,") {
		t.Errorf("later CSV date: %d %.40q", res.status, res.body)
	}
}

// TestInvoiceStatusLifecycle follows invoices through their statuses as
// the API shows them while the clock moves and payments are recorded:
// PENDING during the month, CLOSED after it, INVOICED once issued, PAID
// once a payment covers it, and a status recorded by an import (FAILED)
// whatever the date.
func TestInvoiceStatusLifecycle(t *testing.T) {
	e := newEnv(t, options{})
	june, may, april := costexplorer.MonthOf(t0), costexplorer.MonthOf(t0)-1, costexplorer.MonthOf(t0)-2
	status := func(m costexplorer.Month) (string, int64, int64) {
		t.Helper()
		var inv invoiceView
		res := e.get(invoicesPath(e.Org)+"/"+costexplorer.InvoiceID(e.Org, m), "", "")
		if res.status != 200 {
			t.Fatalf("%s: %d %s", m, res.status, res.body)
		}
		res.json(t, &inv)
		return inv.StatusName, inv.AmountPaidCents, inv.AmountBilledCents
	}
	expect := func(when string, m costexplorer.Month, want string) int64 {
		t.Helper()
		got, _, billed := status(m)
		if got != want {
			t.Errorf("%s: %s is %s, want %s", when, m, got, want)
		}
		return billed
	}
	expect("mid-June", june, "PENDING")
	mayBilled := expect("mid-June", may, "INVOICED")

	// Record a payment of May (as an import or sync would) on June 10.
	paid := t0.AddDate(0, 0, -5)
	batch := &costexplorer.UsageBatch{Invoices: []costexplorer.Invoice{
		{ID: costexplorer.InvoiceID(e.Org, may), OrgID: e.Org, Month: may, Payments: []costexplorer.Payment{{
			ID: "aaaaaaaaaaaaaaaaaaaaaaaa", Created: paid, Updated: paid, Status: costexplorer.PaymentPaid,
			Currency: "USD", UnitPrice: "1.00", Subtotal: costexplorer.Cents(mayBilled), AmountBilled: costexplorer.Cents(mayBilled),
			AmountPaid: costexplorer.Cents(mayBilled),
		}}},
		{ID: costexplorer.InvoiceID(e.Org, april), OrgID: e.Org, Month: april, RecordedStatus: costexplorer.InvoiceFailed},
	}}
	if _, err := e.DB.IngestUsage(context.Background(), batch); err != nil {
		t.Fatalf("record payment: %v", err)
	}
	if st, paidCents, billed := status(may); st != "PAID" || paidCents != billed {
		t.Errorf("after the payment: May %s paid %d of %d", st, paidCents, billed)
	}
	expect("after the import", april, "FAILED")
	var v invoiceListView
	e.get(invoicesPath(e.Org)+"?statusNames=PAID&statusNames=FAILED&orderBy=asc", "", "").json(t, &v)
	var got []string
	for _, r := range v.Results {
		got = append(got, r.ID)
		if (r.StatusName != "PAID" && r.StatusName != "FAILED") || r.Payments != nil {
			t.Errorf("statusNames=PAID,FAILED: %s is %s, payments %v", r.ID, r.StatusName, r.Payments)
		}
	}
	if n := len(got); n < 2 || got[n-2] != costexplorer.InvoiceID(e.Org, april) || got[n-1] != costexplorer.InvoiceID(e.Org, may) {
		t.Errorf("statusNames=PAID,FAILED&orderBy=asc: %v, want April and May last", got)
	}

	e.Clock.Advance(june.Start().AddDate(0, 1, 0).Sub(e.Clock.Now()))
	e.bearer = e.accessToken(e.ClientID, e.ClientSecret) // the old one has expired
	expect("July 1", june, "CLOSED")
	var pending invoiceListView
	e.get(invoicesPath(e.Org)+"/pending", "", "").json(t, &pending)
	if len(pending.Results) != 0 || *pending.TotalCount != 0 {
		t.Errorf("July 1: %d pending invoices, want none (no July usage yet)", len(pending.Results))
	}
	e.Clock.Advance(costexplorer.InvoiceIssueDelay)
	e.bearer = e.accessToken(e.ClientID, e.ClientSecret)
	expect("July 3", june, "INVOICED")
	expect("July 3", april, "FAILED")
}

// TestPendingInvoices checks listPendingInvoices: the current month's
// invoice with its line items, the linked organizations' for the paying
// organization's owner only.
func TestPendingInvoices(t *testing.T) {
	e := newEnv(t, options{})
	june := costexplorer.MonthOf(t0)
	for _, c := range []struct {
		role       costexplorer.Role
		wantLinked int
	}{
		{costexplorer.RoleOrgBillingReadOnly, 0},
		{costexplorer.RoleOrgOwner, len(e.Layout.Linked)},
	} {
		var v invoiceListView
		res := e.get(invoicesPath(e.Org)+"/pending", "", e.as(t, e.Org, c.role))
		res.json(t, &v)
		if len(v.Results) != 1 || *v.TotalCount != 1 || relsOf(v.Links) != "self" {
			t.Fatalf("%s: %d results total %v links %s", c.role, len(v.Results), v.TotalCount, relsOf(v.Links))
		}
		inv := v.Results[0]
		if inv.ID != costexplorer.InvoiceID(e.Org, june) || inv.StatusName != "PENDING" || len(inv.LineItems) == 0 || len(inv.LinkedInvoices) != c.wantLinked {
			t.Errorf("%s: %s %s %d items %d linked", c.role, inv.ID, inv.StatusName, len(inv.LineItems), len(inv.LinkedInvoices))
		}
		for _, l := range inv.LinkedInvoices {
			if l.StatusName != "PENDING" || len(l.LineItems) == 0 {
				t.Errorf("linked %s: %s with %d items", l.ID, l.StatusName, len(l.LineItems))
			}
		}
	}
}

// TestLinkedInvoiceAccess checks who may read a linked organization's
// invoice on the paying organization's path: its owner and billing admin;
// a billing viewer gets the 404 an unknown id gets, byte for byte.
func TestLinkedInvoiceAccess(t *testing.T) {
	e := newEnv(t, options{})
	id := costexplorer.InvoiceID(e.Layout.Linked[0].ID, costexplorer.MonthOf(t0)-1)
	ghost := randomHex(24)
	for _, role := range costexplorer.Roles {
		bearer := e.as(t, e.Org, role)
		res := e.get(invoicesPath(e.Org)+"/"+id, "", bearer)
		switch role {
		case costexplorer.RoleOrgOwner, costexplorer.RoleOrgBillingAdmin:
			var inv invoiceView
			res.json(t, &inv)
			if res.status != 200 || inv.ID != id {
				t.Errorf("%s: %d %s", role, res.status, inv.ID)
			}
		case costexplorer.RoleOrgBillingReadOnly:
			miss := e.get(invoicesPath(e.Org)+"/"+ghost, "", bearer)
			if res.status != 404 || strings.ReplaceAll(string(res.body), id, "X") != strings.ReplaceAll(string(miss.body), ghost, "X") {
				t.Errorf("%s: %d %s, unknown: %s", role, res.status, res.body, miss.body)
			}
		default:
			checkError(t, res, 401, costexplorer.ErrUnauthorized)
		}
	}
}

// TestLineItemsSearch checks lineItems:search: GET and POST alike, every
// filter, the sort orders, paging, the version, and that the rows agree
// with the invoice's line items.
func TestLineItemsSearch(t *testing.T) {
	e := newEnv(t, options{})
	id := costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	path := invoicesPath(e.Org) + "/" + id + "/lineItems:search"
	var inv invoiceView
	e.get(invoicesPath(e.Org)+"/"+id, "", "").json(t, &inv)
	search := func(query, body string) searchView {
		t.Helper()
		res := e.searchReq("POST", path+query, body, "")
		if res.status != 200 {
			t.Fatalf("%s %s: %d %s", query, body, res.status, res.body)
		}
		get := e.searchReq("GET", path+query, body, "")
		if !bytes.Equal(get.body, res.body) {
			t.Errorf("GET and POST differ for %s %s", query, body)
		}
		var v searchView
		res.json(t, &v)
		return v
	}
	var nonZero, zero int
	var cluster, group string
	for _, l := range inv.LineItems {
		if l.TotalPriceCents == 0 {
			zero++
		} else {
			nonZero++
		}
		if cluster == "" && l.ClusterName != "" {
			cluster, group = l.ClusterName, l.GroupID
		}
	}
	all := search("?itemsPerPage=500", `{}`)
	if *all.TotalCount != nonZero || len(all.Results) != min(nonZero, 500) {
		t.Fatalf("{}: total %d, %d rows; the invoice has %d non-zero items", *all.TotalCount, len(all.Results), nonZero)
	}
	if v := search("?itemsPerPage=500", `{"filters":{"includeZeroCentLineItems":true}}`); *v.TotalCount != nonZero+zero {
		t.Errorf("with zero-cent items: %d, want %d", *v.TotalCount, nonZero+zero)
	}
	for i := 1; i < len(all.Results); i++ {
		if all.Results[i-1].BillDate < all.Results[i].BillDate {
			t.Fatalf("default order is not bill date descending at %d", i)
		}
	}
	asc := search("?itemsPerPage=500", `{"sortField":"TOTAL_PRICE_CENTS","sortOrder":"ASCENDING"}`)
	for i := 1; i < len(asc.Results); i++ {
		if asc.Results[i-1].TotalPriceCents > asc.Results[i].TotalPriceCents {
			t.Fatalf("TOTAL_PRICE_CENTS ASCENDING out of order at %d", i)
		}
	}
	byUsage := search("?itemsPerPage=500", `{"sortField":"USAGE_DATES","sortOrder":"ASCENDING"}`)
	for i := 1; i < len(byUsage.Results); i++ {
		if byUsage.Results[i-1].UsageDate > byUsage.Results[i].UsageDate {
			t.Fatalf("USAGE_DATES ASCENDING out of order at %d", i)
		}
	}

	// Paging: pages of 7 put together are the whole.
	var paged []string
	for p := 1; ; p++ {
		v := search("?itemsPerPage=7&pageNum="+strconv.Itoa(p), `{"sortField":"USAGE_DATES"}`)
		for _, r := range v.Results {
			paged = append(paged, r.UsageDate+r.Description+strconv.FormatInt(r.TotalPriceCents, 10))
		}
		if !strings.HasSuffix(relsOf(v.Links), "next") {
			break
		}
	}
	if len(paged) != nonZero {
		t.Errorf("pages of 7 hold %d rows, want %d", len(paged), nonZero)
	}
	if v := search("?itemsPerPage=7&includeCount=false", `{}`); v.TotalCount != nil || relsOf(v.Links) != "self,next" {
		t.Errorf("includeCount=false: total %v links %s", v.TotalCount, relsOf(v.Links))
	}

	// Filters.
	clusters, err := e.DB.Clusters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var clusterID string
	for _, c := range clusters {
		if c.Name == cluster && c.ProjectID == group {
			clusterID = c.ID
		}
	}
	if clusterID == "" {
		t.Fatalf("no cluster %s in project %s", cluster, group)
	}
	usageDay := inv.StartDate[:8] + "10"
	for body, keep := range map[string]func(r int) bool{
		`{"filters":{"usageStartDate":"` + usageDay + `","usageEndDate":"` + usageDay + `"}}`: func(r int) bool {
			return all.Results[r].UsageDate == usageDay+"T00:00:00Z"
		},
		`{"filters":{"groupIds":["` + group + `"]}}`: func(r int) bool { return all.Results[r].GroupID == group },
		`{"filters":{"clusterIds":["` + clusterID + `"],"groupIds":["` + group + `"]}}`: func(r int) bool {
			return all.Results[r].GroupID == group && all.Results[r].ClusterName == cluster
		},
		`{"filters":{"groupIds":["` + randomHex(24) + `"]}}`: func(int) bool { return false },
		`{"filters":{"billStartDate":"2030-01-01"}}`:         func(int) bool { return false },
	} {
		want := 0
		for i := range all.Results {
			if keep(i) {
				want++
			}
		}
		if v := search("?itemsPerPage=500", body); *v.TotalCount != want || len(v.Results) != want {
			t.Errorf("%s: %d rows, want %d", body, *v.TotalCount, want)
		}
	}

	support := 0
	for _, l := range inv.LineItems {
		if sku, err := costexplorer.LookupSKU(l.SKU); err == nil && sku.Service == costexplorer.ServiceSupport && l.TotalPriceCents != 0 {
			support++
		}
	}
	if v := search("", `{"filters":{"skuServices":["Support"]}}`); *v.TotalCount != support || support == 0 {
		t.Errorf("Support: %d rows, the invoice has %d", *v.TotalCount, support)
	}

	// A later version date resolves down to 2024-08-05; envelope and pretty.
	req := e.apiRequest("POST", path+"?itemsPerPage=1&envelope=true&pretty=true", `{}`)
	req.Header.Set("Accept", "application/vnd.atlas.2025-03-12+json")
	req.Header.Set("Content-Type", "application/json")
	res := e.do(req)
	if res.status != 200 || res.header.Get("Content-Type") != "application/vnd.atlas.2024-08-05+json;charset=utf-8" ||
		!strings.HasSuffix(string(res.body), "  \"totalCount\": "+strconv.Itoa(nonZero)+",\n  \"status\": 200\n}\n") {
		t.Errorf("2025-03-12: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
}

// TestInvoiceRateLimit checks that the invoice and SKU operations share the
// cost explorer's per-organization bucket (the Invoices endpoint set) and
// carry its headers; the SKU catalogue, which names no organization, takes
// the caller's organization's tokens.
func TestInvoiceRateLimit(t *testing.T) {
	e := newEnv(t, options{rateLimit: httpapiRateLimit(3)})
	inv := invoicesPath(e.Org) + "/" + costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	for i, res := range []*response{
		e.do(e.apiRequest("POST", usagePath(e.Org), `{"startDate":"2025-01-01","endDate":"2025-02-01"}`)),
		e.get(invoicesPath(e.Org), "", ""),
		e.get(inv+"/csv", csv2023, ""),
	} {
		if res.status >= 300 || res.header.Get("RateLimit-Limit") != "3" || res.header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: %d limit %q remaining %q", i, res.status, res.header.Get("RateLimit-Limit"), res.header.Get("RateLimit-Remaining"))
		}
	}
	for _, res := range []*response{
		e.get(inv, "", ""),
		e.get(invoicesPath(e.Org)+"/pending", "", ""),
		e.searchReq("GET", inv+"/lineItems:search", `{}`, ""),
	} {
		checkError(t, res, http.StatusTooManyRequests, costexplorer.ErrRateLimited)
		if res.header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
	checkError(t, e.do(e.skuRequest(skusPath)), http.StatusTooManyRequests, costexplorer.ErrRateLimited)
	// Another organization's caller has a bucket of its own.
	req := e.skuRequest(skusPath + "/CREDIT")
	req.Header.Set("Authorization", "Bearer "+e.as(t, e.Layout.Others[0].ID, costexplorer.RoleOrgMember))
	if res := e.do(req); res.status != 200 || res.header.Get("RateLimit-Remaining") != "2" {
		t.Errorf("another organization's SKU request: %d remaining %q", res.status, res.header.Get("RateLimit-Remaining"))
	}
}

// TestInvoiceErrorCatalogue pins the bodies of the errors particular to the
// invoice operations.
func TestInvoiceErrorCatalogue(t *testing.T) {
	e := newEnv(t, options{})
	unknown := "0123456789abcdef01234567"
	search := func(body string) func() *response {
		return func() *response {
			return e.searchReq("POST", invoicesPath(e.Org)+"/"+unknown+"/lineItems:search", body, "")
		}
	}
	for _, c := range []struct {
		name   string
		status int
		code   string
		res    func() *response
	}{
		{"RESOURCE_NOT_FOUND_invoice", 404, costexplorer.ErrNotFound, func() *response { return e.get(invoicesPath(e.Org)+"/"+unknown, "", "") }},
		{"RESOURCE_NOT_FOUND_sku", 404, costexplorer.ErrNotFound, func() *response { return e.do(e.skuRequest(skusPath + "/NO_SUCH_SKU")) }},
		{"INVALID_PATH_PARAMETER_invoiceId", 400, costexplorer.ErrInvalidPathParameter, func() *response { return e.get(invoicesPath(e.Org)+"/ABC", "", "") }},
		{"INVALID_QUERY_PARAMETER_statusNames", 400, costexplorer.ErrInvalidQueryParameter, func() *response { return e.get(invoicesPath(e.Org)+"?statusNames=paid", "", "") }},
		{"START_DATE_AFTER_END_DATE_toDate", 400, costexplorer.ErrStartDateAfterEndDate, func() *response {
			return e.get(invoicesPath(e.Org)+"?fromDate=2025-03-01&toDate=2025-02-01", "", "")
		}},
		{"INVALID_ENUM_VALUE_sortField", 400, costexplorer.ErrInvalidEnumValue, search(`{"sortField":"PRICE"}`)},
		{"INVALID_ATTRIBUTE_filters", 400, costexplorer.ErrInvalidAttribute, search(`{"filters":{"clusterNames":["a"]}}`)},
		{"VALIDATION_ERROR_clusterIds", 400, costexplorer.ErrValidation, search(`{"filters":{"clusterIds":["a"]}}`)},
		{"INVALID_DATE_FORMAT_billStartDate", 400, costexplorer.ErrInvalidDateFormat, search(`{"filters":{"billStartDate":"06/01/2025"}}`)},
		{"INVALID_VERSION_DATE_search", 406, costexplorer.ErrInvalidVersionDate, func() *response {
			req := e.apiRequest("POST", invoicesPath(e.Org)+"/"+unknown+"/lineItems:search", `{}`)
			return e.do(req)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			res := c.res()
			checkError(t, res, c.status, c.code)
			golden.Check(t, "errors/"+c.name+".json", res.body)
		})
	}
}

// TestInvoiceStreamFailure checks the two ways a streamed invoice can fail
// in the store: before the first bytes are sent the answer is still a
// clean 500 UNEXPECTED_ERROR (the cause only logged); after them the
// connection is cut, so the client sees a truncated body rather than a
// complete-looking answer.
func TestInvoiceStreamFailure(t *testing.T) {
	var big *bigInvoiceStore
	e := newEnv(t, options{logger: discardLogger(), store: func(s costexplorer.Store) costexplorer.Store {
		big = newBigInvoiceStore(s, "", 0, 0)
		return big
	}})
	month := costexplorer.MonthOf(t0) - 9
	*big = *newBigInvoiceStore(big.Store, e.Org, month, 200_000)
	path := invoicesPath(e.Org) + "/" + big.inv.ID

	big.failAfter = 1
	for _, accept := range []string{"", csv2023} {
		res := e.get(path, accept, "")
		checkError(t, res, http.StatusInternalServerError, costexplorer.ErrInternal)
		if strings.Contains(string(res.body), "broke") {
			t.Errorf("the cause is shown: %s", res.body)
		}
	}

	big.failAfter = 100_000
	for _, accept := range []string{"application/vnd.atlas.2023-01-01+json", csv2023} {
		req := e.apiRequest("GET", path, "")
		req.Header.Set("Accept", accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || err == nil || n < 1<<20 {
			t.Errorf("%s: %d, %d bytes, read error %v: want 200 cut short after the first megabytes", accept, res.StatusCode, n, err)
		}
	}
	big.failAfter = 0
	if res := e.get(path+"/csv", csv2023, ""); res.status != 200 || strings.Count(string(res.body), "\n") != 200_000+6 {
		t.Errorf("unbroken: %d, %d lines", res.status, strings.Count(string(res.body), "\n"))
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestNonCanonicalPathsAreMissing checks that a path with an empty, "." or
// ".." segment is a missing resource, not a redirect to its clean form
// (which can be another operation: "…/invoices//csv" cleans to
// "…/invoices/csv").
func TestNonCanonicalPathsAreMissing(t *testing.T) {
	e := newEnv(t, options{})
	base := invoicesPath(e.Org)
	for _, p := range []string{base + "//csv", base + "/./csv", base + "/../invoices", base + "//lineItems:search", "/api/atlas/v2//orgs"} {
		res := e.get(p, "", "")
		checkError(t, res, http.StatusNotFound, costexplorer.ErrNotFound)
		if loc := res.header.Get("Location"); loc != "" {
			t.Errorf("GET %s redirects to %s", p, loc)
		}
	}
}
