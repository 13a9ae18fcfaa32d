package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/costexplorer/costexplorer/client"
)

// invoiceOperations are the Invoices operations of `costexplorer api`, under
// the Atlas CLI's names (the first of each; the others are the operation ids
// of the Atlas OpenAPI document). The list parameters go to the server as
// given, so that the server, not the command, judges them.
var invoiceOperations = []apiOperation{
	{tag: "invoices", names: []string{"listInvoices", "listOrgInvoices"},
		summary: "list an organization's invoices (GET …/orgs/{orgId}/invoices)",
		run:     runListInvoices, flags: listInvoicesFlags},
	{tag: "invoices", names: []string{"getInvoice", "getOrgInvoice"},
		summary: "get one invoice with its line items (GET …/invoices/{invoiceId}) as JSON, or as CSV with --output csv",
		run:     runGetInvoice, flags: func(fs *flag.FlagSet, a *apiArgs) { invoiceIDFlag(fs, a); outputFlag(fs, a) }},
	{tag: "invoices", names: []string{"downloadInvoiceCsv", "getInvoiceCsv", "getOrgInvoiceCsv"},
		summary: "download one invoice as CSV (GET …/invoices/{invoiceId}/csv)",
		run:     runDownloadInvoiceCSV, flags: invoiceIDFlag},
	{tag: "invoices", names: []string{"listPendingInvoices", "listInvoicePending", "listOrgInvoicePending"},
		summary: "list the invoices accruing charges this month, with their line items (GET …/invoices/pending)",
		run:     runListPendingInvoices},
	{tag: "invoices", names: []string{"queryLineItemsFromSingleInvoice", "searchInvoiceLineItems", "searchOrgInvoiceLineItems"},
		summary: "search one invoice's line items (GET …/invoices/{invoiceId}/lineItems:search with a JSON body from --file or standard input)",
		run:     runSearchLineItems, version: client.LineItemSearchVersion,
		flags: func(fs *flag.FlagSet, a *apiArgs) {
			invoiceIDFlag(fs, a)
			fs.StringVar(&a.file, "file", "", "request body file (ApiPublicUsageDetailsQueryRequest JSON, {} for every item); '-' or absent: standard input")
			pageFlags(fs, a, false)
		}},
	{tag: "invoices", names: []string{"createInvoiceReport", "createOrgInvoiceReport"},
		summary: "request a FOCUS report of one invoice (POST …/invoices/{invoiceId}/reports with a JSON body from --file or standard input)",
		run:     runCreateInvoiceReport, version: client.InvoiceReportVersion,
		flags: func(fs *flag.FlagSet, a *apiArgs) {
			invoiceIDFlag(fs, a)
			fs.StringVar(&a.file, "file", "", `request body file (InvoiceReportRequest JSON, {"reportType":"FOCUS","reportFormat":"CSV"}); '-' or absent: standard input`)
		}},
	{tag: "invoices", names: []string{"listInvoiceReports", "listOrgInvoiceReports"},
		summary: "list one invoice's unexpired reports, newest first (GET …/invoices/{invoiceId}/reports)",
		run:     runListInvoiceReports, version: client.InvoiceReportVersion,
		flags: func(fs *flag.FlagSet, a *apiArgs) { invoiceIDFlag(fs, a); pageFlags(fs, a, true) }},
	{tag: "invoices", names: []string{"getInvoiceReport", "getOrgInvoiceReport"},
		summary: "get one invoice report, with its download URL once it succeeded (GET …/invoices/{invoiceId}/reports/{reportId})",
		run:     runGetInvoiceReport, version: client.InvoiceReportVersion,
		flags: func(fs *flag.FlagSet, a *apiArgs) {
			invoiceIDFlag(fs, a)
			fs.StringVar(&a.reportID, "reportId", "", "the report id (24 hexadecimal digits)")
		}},
	{tag: "invoices", names: []string{"generateInvoiceReport", "generateOrgInvoiceAndDownloadReport"},
		summary: "generate one invoice's FOCUS report and download its gzip CSV at once (preview: POST …/invoices/{invoiceId}:generateAndDownloadReport with a JSON body from --file or standard input)",
		run:     runGenerateInvoiceReport, version: client.PreviewVersion,
		flags: func(fs *flag.FlagSet, a *apiArgs) {
			invoiceIDFlag(fs, a)
			fs.StringVar(&a.file, "file", "", `request body file (ReportGenerationRequest JSON, {} for FOCUS CSV 1.3, or {"version":"1.2"}); '-' or absent: standard input`)
			fs.StringVar(&a.output, "output", "", "file to write the gzip CSV to (standard output when absent, unless it is a terminal)")
		}},
	{tag: "invoices", names: []string{"getOrgAssociatedInvoices"},
		summary: "list the ids of an organization's invoices of one month, and of its linked organizations' (GET …/orgs/{orgId}/associatedInvoices)",
		run:     runAssociatedInvoices, version: client.AssociatedInvoicesVersion,
		flags: func(fs *flag.FlagSet, a *apiArgs) {
			listFlag(fs, a, "month", "month, 1–12 (default: the server's current month)", false)
			listFlag(fs, a, "year", "year, 2000 or later (default: the server's current year)", false)
			listFlag(fs, a, "includeLinkedOrgs", "true or false: add the invoices of the organizations this one pays for (default false)", false)
		}},
	{tag: "skus", alsoTag: "invoices", names: []string{"listSkus"},
		summary: "list the SKU catalogue (GET /api/atlas/v2/skus)",
		run:     runListSKUs, version: client.SKUVersion, noOrg: true,
		flags: func(fs *flag.FlagSet, a *apiArgs) { pageFlags(fs, a, true) }},
	{tag: "skus", alsoTag: "invoices", names: []string{"getSku"},
		summary: "get one SKU (GET /api/atlas/v2/skus/{skuId})",
		run:     runGetSKU, version: client.SKUVersion, noOrg: true,
		flags: func(fs *flag.FlagSet, a *apiArgs) {
			fs.StringVar(&a.skuID, "skuId", "", "the SKU id, e.g. ATLAS_AWS_INSTANCE_M10")
		}},
}

// invoiceExamples are the --help examples of the Invoices operations.
var invoiceExamples = map[string][]string{
	"listInvoices": {
		"costexplorer api invoices listInvoices --orgId ORG",
		"costexplorer api invoices listInvoices --orgId ORG --statusNames PAID,INVOICED --fromDate 2025-01-01 --toDate 2025-07-01",
		"costexplorer api invoices listInvoices --orgId ORG --sortBy START_DATE --orderBy asc --itemsPerPage 12 --pageNum 2 --pretty",
	},
	"getInvoice": {
		"costexplorer api invoices getInvoice --orgId ORG --invoiceId INVOICE --pretty",
		"costexplorer api invoices getInvoice --orgId ORG --invoiceId INVOICE --output csv > invoice.csv",
	},
	"downloadInvoiceCsv":  {"costexplorer api invoices downloadInvoiceCsv --orgId ORG --invoiceId INVOICE > invoice.csv"},
	"listPendingInvoices": {"costexplorer api invoices listPendingInvoices --orgId ORG --pretty"},
	"queryLineItemsFromSingleInvoice": {
		"echo '{}' | costexplorer api invoices queryLineItemsFromSingleInvoice --orgId ORG --invoiceId INVOICE --itemsPerPage 10",
		`echo '{"filters":{"skuServices":["Clusters"]},"sortField":"TOTAL_PRICE_CENTS","sortOrder":"DESCENDING"}' | costexplorer api invoices queryLineItemsFromSingleInvoice --orgId ORG --invoiceId INVOICE`,
		"costexplorer api invoices queryLineItemsFromSingleInvoice --orgId ORG --invoiceId INVOICE --file search.json",
	},
	"createInvoiceReport": {
		`echo '{"reportType":"FOCUS","reportFormat":"CSV"}' | costexplorer api invoices createInvoiceReport --orgId ORG --invoiceId INVOICE`,
		`echo '{"reportType":"FOCUS","reportFormat":"CSV","formatSpecVersion":"1.2"}' | costexplorer api invoices createInvoiceReport --orgId ORG --invoiceId INVOICE`,
	},
	"listInvoiceReports": {"costexplorer api invoices listInvoiceReports --orgId ORG --invoiceId INVOICE --pretty"},
	"getInvoiceReport": {
		"costexplorer api invoices getInvoiceReport --orgId ORG --invoiceId INVOICE --reportId REPORT",
		`curl -o report.csv.gz "$(costexplorer api invoices getInvoiceReport --orgId ORG --invoiceId INVOICE --reportId REPORT | jq -r .downloadUrl)"`,
	},
	"generateInvoiceReport": {
		`echo '{}' | costexplorer api invoices generateInvoiceReport --orgId ORG --invoiceId INVOICE --output invoice_focus.csv.gz`,
		`echo '{"reportType":"FOCUS","reportFormat":"CSV","version":"1.2"}' | costexplorer api invoices generateInvoiceReport --orgId ORG --invoiceId INVOICE | gunzip | head`,
	},
	"getOrgAssociatedInvoices": {
		"costexplorer api invoices getOrgAssociatedInvoices --orgId ORG",
		"costexplorer api invoices getOrgAssociatedInvoices --orgId ORG --month 5 --year 2025 --includeLinkedOrgs true --pretty",
		"costexplorer api invoices getOrgAssociatedInvoices --orgId ORG --version preview",
	},
	"listSkus": {"costexplorer api skus listSkus --itemsPerPage 500"},
	"getSku":   {"costexplorer api skus getSku --skuId ATLAS_AWS_INSTANCE_M10"},
}

func invoiceIDFlag(fs *flag.FlagSet, a *apiArgs) {
	fs.StringVar(&a.invoiceID, "invoiceId", "", "the invoice id (24 hexadecimal digits)")
}

func outputFlag(fs *flag.FlagSet, a *apiArgs) {
	fs.StringVar(&a.output, "output", "json", "answer format: json or csv")
}

// listFlag registers a query parameter flag whose values go to the server
// as given; repeatable ones may also be comma-separated, as in the Atlas CLI.
func listFlag(fs *flag.FlagSet, a *apiArgs, name, usage string, repeatable bool) {
	fs.Func(name, usage, func(v string) error {
		if !repeatable {
			a.list.Set(name, v)
			return nil
		}
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				a.list.Add(name, part)
			}
		}
		return nil
	})
}

func pageFlags(fs *flag.FlagSet, a *apiArgs, count bool) {
	listFlag(fs, a, "pageNum", "page number, from 1", false)
	listFlag(fs, a, "itemsPerPage", "items per page, 1–500", false)
	if count {
		listFlag(fs, a, "includeCount", "true or false: count the items", false)
	}
}

func listInvoicesFlags(fs *flag.FlagSet, a *apiArgs) {
	pageFlags(fs, a, true)
	listFlag(fs, a, "viewLinkedInvoices", "true or false: show linked organizations' invoices (default true)", false)
	listFlag(fs, a, "statusNames", "status filter: PENDING, CLOSED, INVOICED, PAID, FREE, FAILED, FORGIVEN, PREPAID (repeatable, or comma-separated)", true)
	listFlag(fs, a, "fromDate", "invoices starting on or after this date, YYYY-MM-DD", false)
	listFlag(fs, a, "toDate", "invoices ending on or before this date, YYYY-MM-DD", false)
	listFlag(fs, a, "sortBy", "START_DATE or END_DATE (default END_DATE)", false)
	listFlag(fs, a, "orderBy", "asc or desc (default desc)", false)
}

func (r *apiRun) needInvoice() error {
	if r.invoiceID == "" {
		return usageErrorf("--invoiceId is required")
	}
	return nil
}

// get sends a GET of path with the list parameters and prints the answer.
func (r *apiRun) get(ctx context.Context, m *Main, path, format string) error {
	req, err := r.c.NewRequest(ctx, http.MethodGet, path+r.query(r.list), nil)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if format != "json" {
		req.Header.Set("Accept", r.c.MediaType(format))
	}
	return m.printAnswer(r, req, false)
}

func runListInvoices(ctx context.Context, m *Main, r *apiRun) error {
	return r.get(ctx, m, client.InvoicesPath(r.orgID, ""), "json")
}

func runGetInvoice(ctx context.Context, m *Main, r *apiRun) error {
	if err := r.needInvoice(); err != nil {
		return err
	}
	if r.output != "json" && r.output != "csv" {
		return usageErrorf("--output must be json or csv")
	}
	return r.get(ctx, m, client.InvoicesPath(r.orgID, r.invoiceID), r.output)
}

func runDownloadInvoiceCSV(ctx context.Context, m *Main, r *apiRun) error {
	if err := r.needInvoice(); err != nil {
		return err
	}
	return r.get(ctx, m, client.InvoicesPath(r.orgID, r.invoiceID)+"/csv", "csv")
}

func runListPendingInvoices(ctx context.Context, m *Main, r *apiRun) error {
	return r.get(ctx, m, client.InvoicesPath(r.orgID, "pending"), "json")
}

// runSearchLineItems sends the search as the specification has it: a GET
// with a JSON body (the server accepts POST too).
func runSearchLineItems(ctx context.Context, m *Main, r *apiRun) error {
	if err := r.needInvoice(); err != nil {
		return err
	}
	return r.send(ctx, m, http.MethodGet, client.InvoicesPath(r.orgID, r.invoiceID)+"/lineItems:search"+r.query(r.list))
}

func runCreateInvoiceReport(ctx context.Context, m *Main, r *apiRun) error {
	if err := r.needInvoice(); err != nil {
		return err
	}
	return r.send(ctx, m, http.MethodPost, client.InvoiceReportsPath(r.orgID, r.invoiceID, "")+r.query(nil))
}

func runListInvoiceReports(ctx context.Context, m *Main, r *apiRun) error {
	if err := r.needInvoice(); err != nil {
		return err
	}
	return r.get(ctx, m, client.InvoiceReportsPath(r.orgID, r.invoiceID, ""), "json")
}

func runGetInvoiceReport(ctx context.Context, m *Main, r *apiRun) error {
	if err := r.needInvoice(); err != nil {
		return err
	}
	if r.reportID == "" {
		return usageErrorf("--reportId is required")
	}
	return r.get(ctx, m, client.InvoiceReportsPath(r.orgID, r.invoiceID, r.reportID), "json")
}

// runGenerateInvoiceReport sends the preview and copies the gzip CSV it
// answers, byte for byte, to --output or standard output; an error answer is
// printed as any other.
func runGenerateInvoiceReport(ctx context.Context, m *Main, r *apiRun) error {
	if err := r.needInvoice(); err != nil {
		return err
	}
	if r.output == "" {
		if f, ok := m.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return usageErrorf("the answer is a gzip file: give --output FILE or redirect standard output")
		}
	}
	req, err := r.withBody(ctx, m, http.MethodPost, client.GenerateInvoiceReportPath(r.orgID, r.invoiceID)+r.query(nil))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", r.c.MediaType("gzip"))
	if r.output == "" {
		return m.printAnswer(r, req, false)
	}
	// The file is created only once the answer is a success, so that a
	// refused request leaves no empty file behind.
	return m.printAnswerTo(r, req, func() (io.WriteCloser, error) {
		f, err := os.Create(r.output)
		if err != nil {
			return nil, usageErrorf("create --output: %v", err)
		}
		return f, nil
	})
}

func runAssociatedInvoices(ctx context.Context, m *Main, r *apiRun) error {
	return r.get(ctx, m, client.AssociatedInvoicesPath(r.orgID), "json")
}

func runListSKUs(ctx context.Context, m *Main, r *apiRun) error {
	return r.get(ctx, m, "/api/atlas/v2/skus", "json")
}

func runGetSKU(ctx context.Context, m *Main, r *apiRun) error {
	if r.skuID == "" {
		return usageErrorf("--skuId is required")
	}
	return r.get(ctx, m, "/api/atlas/v2/skus/"+url.PathEscape(r.skuID), "json")
}
