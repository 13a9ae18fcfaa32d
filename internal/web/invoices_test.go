package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

// apiInvoices reads the organization's invoices through the API (the
// client package) as an ORG_OWNER: what the page must agree with.
func (e *env) apiInvoices(orgID string) []client.Invoice {
	e.t.Helper()
	pk, private := e.apiKey(orgID, costexplorer.RoleOrgOwner)
	c, err := client.New(e.URL, client.WithDigest(pk, private))
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := c.Invoices(e.t.Context(), orgID, client.InvoiceListOptions{ItemsPerPage: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Results
}

var centsOf = regexp.MustCompile(`id="(amount-billed|amount-paid)" data-cents="(-?\d+)"`)

func TestInvoicesView(t *testing.T) {
	e := newEnv(t, options{})
	b := e.signedIn(costexplorer.RoleOrgOwner)
	api := e.apiInvoices(e.Org)
	inv := api[1] // a finished month

	t.Run("OK_List", func(t *testing.T) {
		res, body := b.get("/invoices")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /invoices: %d\n%s", res.StatusCode, body)
		}
		for _, a := range api {
			row := regexp.MustCompile(`<tr data-invoice="` + a.ID + `" data-month="` + a.Month().String() + `">.*</tr>`).FindString(body)
			if row == "" {
				t.Fatalf("no row for invoice %s", a.ID)
			}
			for _, want := range []string{`href="/invoices/` + a.ID + `"`, string(a.StatusName),
				`data-cents="` + strconv.FormatInt(int64(a.AmountBilled), 10) + `"`, `data-cents="` + strconv.FormatInt(int64(a.AmountPaid), 10) + `"`} {
				if !strings.Contains(row, want) {
					t.Errorf("row of %s lacks %q:\n%s", a.ID, want, row)
				}
			}
			for _, l := range a.LinkedInvoices {
				if !strings.Contains(body, `<tr class="linked" data-invoice="`+l.ID+`"`) {
					t.Errorf("linked invoice %s is not listed under %s", l.ID, a.ID)
				}
			}
		}
	})

	t.Run("OK_Invoice", func(t *testing.T) {
		res, body := b.get("/invoices/" + inv.ID)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d\n%s", res.StatusCode, body)
		}
		got := map[string]string{}
		for _, m := range centsOf.FindAllStringSubmatch(body, -1) {
			got[m[1]] = m[2]
		}
		if got["amount-billed"] != strconv.FormatInt(int64(inv.AmountBilled), 10) || got["amount-paid"] != strconv.FormatInt(int64(inv.AmountPaid), 10) {
			t.Errorf("amounts %v, want billed %d paid %d as the API", got, inv.AmountBilled, inv.AmountPaid)
		}
		// Each summary adds up to the sum of the line items.
		want := int64(inv.Subtotal - inv.Credits)
		for _, id := range []string{"by-service", "by-project"} {
			table := regexp.MustCompile(`(?s)aria-labelledby="` + id + `">(.*?)</table>`).FindStringSubmatch(body)
			if table == nil {
				t.Fatalf("no %s table", id)
			}
			var sum int64
			for _, m := range regexp.MustCompile(`data-cents="(-?\d+)"`).FindAllStringSubmatch(table[1], -1) {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				sum += n
			}
			if sum != want {
				t.Errorf("%s adds up to %d, want the items' sum %d", id, sum, want)
			}
		}
		for _, want := range []string{`href="/invoices/` + inv.ID + `/csv"`, `<h2 id="line-items">`, `id="items-next"`,
			`href="/explorer?from=` + inv.Month().String()} {
			if !strings.Contains(body, want) {
				t.Errorf("invoice page lacks %q", want)
			}
		}
		// Nothing inline that the Content-Security-Policy would block.
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`), regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`<style`)} {
			if m := bad.FindString(body); m != "" {
				t.Errorf("invoice page has inline code the policy blocks: %q", m)
			}
		}
		for _, l := range inv.LinkedInvoices {
			if !strings.Contains(body, `<tr data-invoice="`+l.ID+`"><th scope="row"><a href="/invoices/`+l.ID+`">`) {
				t.Errorf("linked invoice %s is not linked from the invoice", l.ID)
			}
		}
	})

	t.Run("OK_LineItemPages", func(t *testing.T) {
		_, body := b.get("/invoices/" + inv.ID)
		total := regexp.MustCompile(`1–50 of (\d+), by usage day`).FindStringSubmatch(body)
		if total == nil {
			t.Fatalf("page 1 does not say which items it shows")
		}
		n, _ := strconv.Atoi(total[1])
		last := (n + 49) / 50
		_, body = b.get("/invoices/" + inv.ID + "?page=" + strconv.Itoa(last))
		if !strings.Contains(body, strconv.Itoa((last-1)*50+1)+"–"+total[1]+" of "+total[1]) || strings.Contains(body, `id="items-next"`) {
			t.Errorf("the last page (%d) does not end the items", last)
		}
		if strings.Contains(body, `id="by-service"`) || !strings.Contains(body, `href="/invoices/`+inv.ID+`#by-service"`) {
			t.Error("a later page adds up the summaries again, or does not link to them")
		}
		_, body = b.get("/invoices/" + inv.ID + "?page=" + strconv.Itoa(last+1))
		if !strings.Contains(body, "No line items on this page.") {
			t.Error("a page past the end shows items")
		}
	})

	t.Run("OK_CSVIsTheAPIs", func(t *testing.T) {
		res, body := b.get("/invoices/" + inv.ID + "/csv")
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("%d %v", res.StatusCode, res.Header)
		}
		req, _ := http.NewRequest("GET", e.URL+"/api/atlas/v2/orgs/"+e.Org+"/invoices/"+inv.ID+"/csv", nil)
		req.Header.Set("Authorization", "Bearer "+e.bearer(e.Org))
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+csv")
		ares, abody := e.send(http.DefaultClient, req)
		if ares.StatusCode != http.StatusOK || body != string(abody) {
			t.Errorf("the page's CSV differs from the API's (%d):\n%.300s\n---\n%.300s", ares.StatusCode, body, abody)
		}
	})

	t.Run("OK_MonthLinkFromExplorer", func(t *testing.T) {
		_, page := b.explore("/explorer?from=" + inv.Month().String() + "&to=" + inv.Month().String())
		link := `href="/invoices?month=` + inv.Month().String() + `"`
		if strings.Count(page, link) < 2 {
			t.Errorf("the explorer links its month (the chart's column and the table's heading) with %s fewer than twice", link)
		}
		res, _ := b.get("/invoices?month=" + inv.Month().String())
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/invoices/"+inv.ID {
			t.Errorf("month link: %d to %q, want 303 to /invoices/%s", res.StatusCode, res.Header.Get("Location"), inv.ID)
		}
	})

	for _, tt := range []struct{ name, path, want string }{
		{"ErrUnknownInvoice", "/invoices/" + strings.Repeat("0", 24), "Invoice not found"},
		{"ErrNotAnID", "/invoices/nope", "Invoice not found"},
		{"ErrUnknownInvoiceCSV", "/invoices/" + strings.Repeat("0", 24) + "/csv", "Invoice not found"},
		{"ErrMonthWithoutInvoice", "/invoices?month=2001-01", "has no invoice for Jan 2001"},
		{"ErrBadMonth", "/invoices?month=May", "A month is written YYYY-MM."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := b.get(tt.path)
			if res.StatusCode != http.StatusNotFound || !strings.Contains(body, tt.want) {
				t.Errorf("%s: %d, want 404 saying %q", tt.path, res.StatusCode, tt.want)
			}
		})
	}
}

// TestInvoicesIsolation checks that an invoice outside the caller's scope —
// another organization's, or a linked one's for a Billing Viewer — is as
// unknown as a missing one, and that the view needs a billing role.
func TestInvoicesIsolation(t *testing.T) {
	e := newEnv(t, options{})
	own := e.apiInvoices(e.Org)[0]
	foreign := e.apiInvoices(e.other)[0]
	if len(own.LinkedInvoices) == 0 {
		t.Fatal("the paying organization's invoice has no linked invoices")
	}
	linked := own.LinkedInvoices[0]

	owner := e.signedIn(costexplorer.RoleOrgOwner)
	viewer := e.signedIn(costexplorer.RoleOrgBillingReadOnly)
	member := e.signedIn(costexplorer.RoleOrgMember)

	for _, tt := range []struct {
		name   string
		b      *browser
		path   string
		status int
	}{
		{"OK_OwnerSeesLinked", owner, "/invoices/" + linked.ID, http.StatusOK},
		{"OK_ViewerSeesOwn", viewer, "/invoices/" + own.ID, http.StatusOK},
		{"ErrViewerLinked", viewer, "/invoices/" + linked.ID, http.StatusNotFound},
		{"ErrOwnerForeign", owner, "/invoices/" + foreign.ID, http.StatusNotFound},
		{"ErrOwnerForeignCSV", owner, "/invoices/" + foreign.ID + "/csv", http.StatusNotFound},
		{"ErrMemberList", member, "/invoices", http.StatusForbidden},
		{"ErrMemberInvoice", member, "/invoices/" + own.ID, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := tt.b.get(tt.path)
			if res.StatusCode != tt.status {
				t.Errorf("%s: %d, want %d", tt.path, res.StatusCode, tt.status)
			}
			if tt.status == http.StatusNotFound {
				missing, mbody := tt.b.get("/invoices/" + strings.Repeat("0", 24))
				strip := func(s string) string {
					return strings.NewReplacer(foreign.ID, "ID", linked.ID, "ID", strings.Repeat("0", 24), "ID").Replace(s)
				}
				if missing.StatusCode != res.StatusCode || strip(mbody) != strip(body) {
					t.Errorf("%s differs from a missing invoice's page:\n%s\n---\n%s", tt.path, body, mbody)
				}
			}
		})
	}
	t.Run("OK_ViewerListHidesLinked", func(t *testing.T) {
		_, body := viewer.get("/invoices")
		if strings.Contains(body, `class="linked"`) || !strings.Contains(body, `data-invoice="`+own.ID+`"`) {
			t.Error("a Billing Viewer's list shows linked invoices, or not its own")
		}
	})
	t.Run("OK_SignInLeadsBack", func(t *testing.T) {
		anon := e.newBrowser()
		res, _ := anon.get("/invoices/" + own.ID)
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "next=%2Finvoices%2F"+own.ID) {
			t.Errorf("signed out: %d to %q, want the sign-in page leading back", res.StatusCode, loc)
		}
	})
}
