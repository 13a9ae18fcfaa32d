package main

import (
	"strings"
	"testing"
)

func complete(t *testing.T, words ...string) []string {
	t.Helper()
	return strings.Fields(runCLI(t, nil, "", append([]string{"__complete"}, words...)...).wantCode(t, 0).stdout)
}

func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{nil, []string{"admin", "api", "demo", "import", "query", "invoices", "serve", "completion"}},
		{[]string{"invoices"}, []string{"list", "show"}},
		{[]string{"invoices", "list"}, []string{"--org", "--status", "--from", "--to", "--no-linked"}},
		{[]string{"invoices", "show"}, []string{"--org", "--top"}},
		{[]string{"api", "invoices"}, []string{"listInvoices", "getInvoice", "downloadInvoiceCsv", "listPendingInvoices", "queryLineItemsFromSingleInvoice"}},
		{[]string{"api", "skus"}, []string{"listSkus", "getSku"}},
		{[]string{"api", "invoices", "listInvoices"}, []string{"--orgId", "--statusNames", "--fromDate", "--toDate", "--sortBy", "--orderBy", "--viewLinkedInvoices", "--includeCount"}},
		{[]string{"api", "invoices", "queryLineItemsFromSingleInvoice"}, []string{"--invoiceId", "--file", "--version", "--pageNum", "--itemsPerPage"}},
		{[]string{"admin"}, []string{"apikey", "org", "serviceaccount", "verify", "backup"}},
		{[]string{"admin", "apikey"}, []string{"create", "list", "disable"}},
		{[]string{"api"}, []string{"invoices", "organizations", "skus"}},
		{[]string{"api", "invoices"}, []string{"createCostExplorerProcess", "getCostExplorerQueryProcess", "getOrgBillingCostExplorerUsage"}},
		{[]string{"serve"}, []string{"--addr", "--min-processing", "--tls-cert", "--data-dir", "--db"}},
		{[]string{"query"}, []string{"--org", "--group-by", "--output"}},
		{[]string{"admin", "apikey", "create"}, []string{"--org", "--role"}},
	} {
		got := strings.Join(complete(t, tc.words...), " ")
		for _, w := range tc.want {
			if !strings.Contains(" "+got+" ", " "+w+" ") {
				t.Errorf("completion of %v lacks %s: %s", tc.words, w, got)
			}
		}
	}
	runCLI(t, nil, "", "completion", "bash").want(t, 0, []string{"complete -o default -F _costexplorer costexplorer"}, nil)
}
