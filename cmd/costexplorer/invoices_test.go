package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/golden"
)

// demoInvoices returns the ids of the demo organization's invoices, newest
// first, and the id of one of its linked organizations' invoices.
func demoInvoices(t *testing.T, s *cliServer) (ids []string, linked string) {
	t.Helper()
	status, body := s.rawFetch(t, "GET", client.InvoicesPath(s.creds.OrgID, "")+"?itemsPerPage=500", "application/vnd.atlas.2023-01-01+json", nil)
	if status != 200 {
		t.Fatalf("list invoices: %d %s", status, body)
	}
	var page struct {
		Results []struct {
			ID     string `json:"id"`
			Linked []struct {
				ID string `json:"id"`
			} `json:"linkedInvoices"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Results {
		ids = append(ids, r.ID)
		if linked == "" && len(r.Linked) > 0 {
			linked = r.Linked[0].ID
		}
	}
	if len(ids) < 3 || linked == "" {
		t.Fatalf("the demo has %d invoices and linked invoice %q: want several, with linked ones", len(ids), linked)
	}
	return ids, linked
}

// TestAPIInvoicesPrintServerBodyAsReceived checks that every Invoices and
// SKU operation sends the request its flags describe and prints the
// server's body byte for byte.
func TestAPIInvoicesPrintServerBodyAsReceived(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	org := s.creds.OrgID
	ids, _ := demoInvoices(t, s)
	inv := ids[1]
	json23 := "application/vnd.atlas.2023-01-01+json"
	csv23 := "application/vnd.atlas.2023-01-01+csv"
	search := "application/vnd.atlas.2024-08-05+json"
	skus := "application/vnd.atlas.2025-03-12+json"
	invPath := client.InvoicesPath(org, inv)
	const body = `{"filters":{"skuServices":["Clusters"]},"sortField":"TOTAL_PRICE_CENTS","sortOrder":"DESCENDING"}`
	file := filepath.Join(t.TempDir(), "search.json")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stdin  string
		args   []string
		method string
		path   string
		accept string
		body   string
	}{
		{"ListInvoices", "", []string{"api", "invoices", "listInvoices"}, "GET", client.InvoicesPath(org, ""), json23, ""},
		{"ListInvoicesEveryParameter", "", []string{"api", "invoices", "listOrgInvoices", "--statusNames", "INVOICED,PENDING", "--statusNames", "PAID",
			"--fromDate", "2025-01-01", "--toDate", "2025-07-01", "--sortBy", "START_DATE", "--orderBy", "asc", "--itemsPerPage", "2", "--pageNum", "2",
			"--includeCount", "false", "--viewLinkedInvoices", "false", "--pretty"},
			"GET", client.InvoicesPath(org, "") + "?" + url.Values{
				"statusNames": {"INVOICED", "PENDING", "PAID"}, "fromDate": {"2025-01-01"}, "toDate": {"2025-07-01"}, "sortBy": {"START_DATE"},
				"orderBy": {"asc"}, "itemsPerPage": {"2"}, "pageNum": {"2"}, "includeCount": {"false"}, "viewLinkedInvoices": {"false"}, "pretty": {"true"},
			}.Encode(), json23, ""},
		{"GetInvoice", "", []string{"api", "invoices", "getInvoice", "--invoiceId", inv}, "GET", invPath, json23, ""},
		{"GetInvoiceCSV", "", []string{"api", "invoices", "getOrgInvoice", "--invoiceId", inv, "--output", "csv"}, "GET", invPath, csv23, ""},
		{"DownloadInvoiceCsv", "", []string{"api", "invoices", "downloadInvoiceCsv", "--invoiceId", inv}, "GET", invPath + "/csv", csv23, ""},
		{"ListPendingInvoices", "", []string{"api", "invoices", "listPendingInvoices", "--envelope"}, "GET", client.InvoicesPath(org, "pending") + "?envelope=true", json23, ""},
		{"QueryLineItemsStdin", body, []string{"api", "invoices", "queryLineItemsFromSingleInvoice", "--invoiceId", inv, "--itemsPerPage", "3"},
			"GET", invPath + "/lineItems:search?itemsPerPage=3", search, body},
		{"QueryLineItemsFile", "", []string{"api", "invoices", "searchOrgInvoiceLineItems", "--invoiceId", inv, "--file", file, "--pageNum", "2"},
			"POST", invPath + "/lineItems:search?pageNum=2", search, body},
		{"ListSkus", "", []string{"api", "skus", "listSkus", "--itemsPerPage", "5"}, "GET", "/api/atlas/v2/skus?itemsPerPage=5", skus, ""},
		{"GetSkuUnderInvoicesTag", "", []string{"api", "invoices", "getSku", "--skuId", "ATLAS_AWS_INSTANCE_M10"}, "GET", "/api/atlas/v2/skus/ATLAS_AWS_INSTANCE_M10", skus, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, env, tt.stdin, tt.args...).wantCode(t, 0)
			var reqBody []byte
			if tt.body != "" {
				reqBody = []byte(tt.body)
			}
			s.wantServed(t, r, tt.method, tt.path, tt.accept, reqBody)
		})
	}
}

func TestAPIInvoicesErrors(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	unknown := strings.Repeat("0", 24)
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"MissingInvoiceID", "", []string{"api", "invoices", "getInvoice"}, exitUsage, []string{"--invoiceId is required"}},
		{"MissingSkuID", "", []string{"api", "skus", "getSku"}, exitUsage, []string{"--skuId is required"}},
		{"BadOutput", "", []string{"api", "invoices", "getInvoice", "--invoiceId", unknown, "--output", "xml"}, exitUsage, []string{"--output must be json or csv"}},
		{"UnknownInvoice", "", []string{"api", "invoices", "getInvoice", "--invoiceId", unknown}, exitAPIError,
			[]string{"Error: 404 RESOURCE_NOT_FOUND", `"errorCode":"RESOURCE_NOT_FOUND"`}},
		{"BadStatusJudgedByServer", "", []string{"api", "invoices", "listInvoices", "--statusNames", "paid"}, exitAPIError,
			[]string{"Error: 400 INVALID_QUERY_PARAMETER", "statusNames"}},
		{"MalformedSearchBody", "{", []string{"api", "invoices", "queryLineItemsFromSingleInvoice", "--invoiceId", unknown}, exitAPIError, []string{"Error: 4"}},
		{"UnknownSku", "", []string{"api", "skus", "getSku", "--skuId", "NOPE"}, exitAPIError, []string{"Error: 404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, env, tt.stdin, tt.args...).wantCode(t, tt.wantCode)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestInvoicesGolden runs `costexplorer invoices list|show` against the demo
// server and compares the tables with golden files.
func TestInvoicesGolden(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	ids, _ := demoInvoices(t, s)
	tests := []struct {
		name, golden string
		args         []string
	}{
		{"List", "invoices/list.golden", []string{"invoices", "list"}},
		{"ListFiltered", "invoices/list-filtered.golden", []string{"invoices", "list", "--from", "2025-03", "--to", "2025-05", "--no-linked"}},
		{"Show", "invoices/show.golden", []string{"invoices", "show", ids[1]}},
		{"ShowTop3FlagAfter", "invoices/show-top3.golden", []string{"invoices", "show", ids[2], "--top", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, env, "", tt.args...).wantCode(t, 0)
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
			golden.Check(t, tt.golden, []byte(r.stdout))
		})
	}

	t.Run("ShowAddsUpToTheInvoice", func(t *testing.T) {
		c, err := client.New(s.URL, client.WithDigest(s.creds.PublicKey, s.creds.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		inv, err := c.Invoice(t.Context(), s.creds.OrgID, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := newInvoiceSummary(0)
		for i := range inv.LineItems {
			if err := sum.add(&inv.LineItems[i]); err != nil {
				t.Fatal(err)
			}
		}
		var bySvc, byPrj client.Cents
		for _, v := range sum.services {
			bySvc += v
		}
		for _, p := range sum.projects {
			byPrj += p.total
		}
		if want := inv.Subtotal - inv.Credits; bySvc != want || byPrj != want {
			t.Errorf("by service %s, by project %s; want subtotal - credits = %s", bySvc, byPrj, want)
		}
	})

	errs := []struct {
		name       string
		args       []string
		code       int
		wantStderr string
	}{
		{"ErrNoSubcommand", []string{"invoices"}, exitUsage, "name a sub-command"},
		{"ErrUnknownSubcommand", []string{"invoices", "delete"}, exitUsage, `unknown sub-command "delete"`},
		{"ErrShowNoID", []string{"invoices", "show"}, exitUsage, "name one invoice id"},
		{"ErrBadStatus", []string{"invoices", "list", "--status", "LATE"}, exitUsage, `--status "LATE"`},
		{"ErrBadMonth", []string{"invoices", "list", "--from", "2025-13"}, exitUsage, `--from "2025-13"`},
		{"ErrBadTop", []string{"invoices", "show", ids[0], "--top", "-1"}, exitUsage, "--top"},
		{"ErrUnknownInvoice", []string{"invoices", "show", strings.Repeat("a", 24)}, exitAPIError, "404 RESOURCE_NOT_FOUND"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, env, "", tt.args...).wantCode(t, tt.code)
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, r.stderr)
			}
		})
	}
}

func TestTextTable(t *testing.T) {
	tb := &textTable{right: []bool{false, true}}
	tb.row("A", "1.00")
	tb.row("Longer", "1,234.00")
	tb.rule()
	tb.row("TOTAL", "1,235.00")
	var b strings.Builder
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "A           1.00\nLonger  1,234.00\n------  --------\nTOTAL   1,235.00\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestInvoiceSummaryKeepsLargest(t *testing.T) {
	s := newInvoiceSummary(2)
	for _, c := range []client.Cents{5, 50, 7, 50, 1} {
		li := client.LineItem{SKU: "ATLAS_AWS_INSTANCE_M10", GroupID: "p", TotalPrice: c, Note: c.String()}
		if err := s.add(&li); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.top) != 2 || s.top[0].TotalPrice != 50 || s.top[1].TotalPrice != 50 {
		t.Errorf("top = %+v, want the two items of 50", s.top)
	}
	if s.services["Clusters"] != 113 || s.projects["p"].total != 113 || s.n != 5 {
		t.Errorf("services %v, project %v, n %d; want 113 in each, 5 items", s.services, s.projects["p"].total, s.n)
	}
}

// TestInvoicesHelp checks that every new command's --help shows its
// examples and flags, on standard output for the group and standard error
// for a command (as the flag package writes it), with exit status 0.
func TestInvoicesHelp(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"invoices", "--help"}, []string{"Usage: costexplorer invoices list|show", "costexplorer invoices show --org ORG INVOICE"}},
		{[]string{"invoices", "list", "--help"}, []string{"Examples:", "--status PAID,INVOICED", "-no-linked", "Exit status:", "Connection and credentials"}},
		{[]string{"invoices", "show", "--help"}, []string{"Examples:", "--top 20 INVOICE", "-top int", "Connection and credentials"}},
		{[]string{"api", "invoices", "listInvoices", "--help"}, []string{"Aliases: listInvoices, listOrgInvoices", "--statusNames PAID,INVOICED", "-viewLinkedInvoices"}},
		{[]string{"api", "invoices", "queryLineItemsFromSingleInvoice", "--help"}, []string{"searchOrgInvoiceLineItems", "-file string", `-version string`, "(default \"2024-08-05\")"}},
		{[]string{"api", "skus", "getSku", "--help"}, []string{"--skuId ATLAS_AWS_INSTANCE_M10", "(default \"2025-03-12\")"}},
		{[]string{"api", "--help"}, []string{"invoices downloadInvoiceCsv | getInvoiceCsv | getOrgInvoiceCsv", "skus listSkus"}},
	} {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			r := runCLI(t, nil, "", tt.args...).wantCode(t, 0)
			for _, w := range tt.want {
				if !strings.Contains(r.stdout+r.stderr, w) {
					t.Errorf("help lacks %q:\n%s%s", w, r.stdout, r.stderr)
				}
			}
		})
	}
}
