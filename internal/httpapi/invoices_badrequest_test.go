package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

const (
	accept2024 = "application/vnd.atlas.2024-08-05+json"
	csv2023    = "application/vnd.atlas.2023-01-01+csv"
)

// invoicesPath is the invoice list path of orgID.
func invoicesPath(orgID string) string { return "/api/atlas/v2/orgs/" + orgID + "/invoices" }

// TestInvoiceBadRequests is the table of malformed requests to the invoice
// and SKU operations (query, path, header, body): each gets its status and
// errorCode, and none answers 5xx. {org} is the caller's organization,
// {inv} its invoice of last month, {search} that invoice's lineItems:search.
func TestInvoiceBadRequests(t *testing.T) {
	e := newEnv(t, options{maxBodyBytes: 4096})
	const (
		list   = "/api/atlas/v2/orgs/{org}/invoices"
		inv    = list + "/{inv}"
		search = inv + "/lineItems:search"
		other  = "0123456789abcdef01234567"
	)
	del := "\x00" // header value meaning "remove the header"
	a24 := map[string]string{"Accept": accept2024}
	cases := []badRequest{
		// listInvoices query parameters.
		{"ListItemsPerPageZero", "GET", list + "?itemsPerPage=0", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListItemsPerPage501", "GET", list + "?itemsPerPage=501", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListItemsPerPageSigned", "GET", list + "?itemsPerPage=%2B5", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListPageNumZero", "GET", list + "?pageNum=0", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListPageNumHuge", "GET", list + "?pageNum=99999999999", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListPageNumTwice", "GET", list + "?pageNum=1&pageNum=2", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListIncludeCountUpper", "GET", list + "?includeCount=TRUE", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListViewLinkedYes", "GET", list + "?viewLinkedInvoices=yes", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListStatusLowerCase", "GET", list + "?statusNames=paid", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListStatusCommaList", "GET", list + "?statusNames=PAID,FREE", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListStatusTwice", "GET", list + "?statusNames=PAID&statusNames=PAID", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListStatusUnknown", "GET", list + "?statusNames=OVERDUE", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListStatusEmpty", "GET", list + "?statusNames=", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListFromDateSlashes", "GET", list + "?fromDate=2025/01/01", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListFromDateTime", "GET", list + "?fromDate=2025-01-01T00:00:00Z", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListToDateImpossible", "GET", list + "?toDate=2025-02-30", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListToDateBefore1970", "GET", list + "?toDate=1969-12-31", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListFromDateTwice", "GET", list + "?fromDate=2025-01-01&fromDate=2025-02-01", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListFromAfterTo", "GET", list + "?fromDate=2025-03-01&toDate=2025-01-01", "", nil, 400, costexplorer.ErrStartDateAfterEndDate},
		{"ListSortByLowerCase", "GET", list + "?sortBy=end_date", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListSortByUnknown", "GET", list + "?sortBy=AMOUNT", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListOrderByUpperCase", "GET", list + "?orderBy=DESC", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListOrderByTwice", "GET", list + "?orderBy=asc&orderBy=desc", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ListPrettyYes", "GET", list + "?pretty=yes", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"InvoiceEnvelopeOne", "GET", inv + "?envelope=1", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PendingPrettyEmpty", "GET", list + "/pending?pretty=", "", nil, 400, costexplorer.ErrInvalidQueryParameter},

		// Paths and scope.
		{"OrgIDUpperCase", "GET", invoicesPath(strings.ToUpper(other)), "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"ForeignOrgList", "GET", invoicesPath(other), "", nil, 401, costexplorer.ErrUnauthorized},
		{"ForeignOrgPending", "GET", invoicesPath(other) + "/pending", "", nil, 401, costexplorer.ErrUnauthorized},
		{"InvoiceIDShort", "GET", list + "/0123456789abcdef0123456", "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"InvoiceIDUpperCase", "GET", list + "/" + strings.ToUpper(other), "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"InvoiceIDUnknown", "GET", list + "/" + other, "", nil, 404, costexplorer.ErrNotFound},
		{"InvoiceIDUnknownCSV", "GET", list + "/" + other + "/csv", "", map[string]string{"Accept": csv2023}, 404, costexplorer.ErrNotFound},
		{"InvoiceIDUnknownSearch", "POST", list + "/" + other + "/lineItems:search", "{}", a24, 404, costexplorer.ErrNotFound},
		{"CSVOfPending", "GET", list + "/pending/csv", "", map[string]string{"Accept": csv2023}, 400, costexplorer.ErrInvalidPathParameter},
		{"CSVInvoiceIDNotHex", "GET", list + "/zzzzzzzzzzzzzzzzzzzzzzzz/csv", "", map[string]string{"Accept": csv2023}, 400, costexplorer.ErrInvalidPathParameter},
		{"SearchInvoiceIDShort", "POST", list + "/abc/lineItems:search", "{}", a24, 400, costexplorer.ErrInvalidPathParameter},
		{"UnknownSubresource", "GET", inv + "/pdf", "", nil, 404, costexplorer.ErrNotFound},
		{"SearchWithoutColon", "POST", inv + "/lineItems", "{}", a24, 404, costexplorer.ErrNotFound},
		{"DeleteInvoice", "DELETE", inv, "", nil, 405, costexplorer.ErrMethodNotAllowed},
		{"PostInvoiceList", "POST", list, "{}", nil, 405, costexplorer.ErrMethodNotAllowed},
		{"PutSearch", "PUT", search, "{}", a24, 405, costexplorer.ErrMethodNotAllowed},
		{"PostCSV", "POST", inv + "/csv", "{}", nil, 405, costexplorer.ErrMethodNotAllowed},
		{"PatchPending", "PATCH", list + "/pending", "{}", nil, 405, costexplorer.ErrMethodNotAllowed},

		// Headers.
		{"ListAcceptCSV", "GET", list, "", map[string]string{"Accept": csv2023}, 406, costexplorer.ErrInvalidVersionDate},
		{"PendingAcceptCSV", "GET", list + "/pending", "", map[string]string{"Accept": csv2023}, 406, costexplorer.ErrInvalidVersionDate},
		{"CSVDownloadAcceptJSON", "GET", inv + "/csv", "", nil, 406, costexplorer.ErrInvalidVersionDate},
		{"InvoiceAcceptTooEarly", "GET", inv, "", map[string]string{"Accept": "application/vnd.atlas.2022-12-31+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"InvoiceAcceptBareJSON", "GET", inv, "", map[string]string{"Accept": "application/json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"InvoiceAcceptXML", "GET", inv, "", map[string]string{"Accept": "application/vnd.atlas.2023-01-01+xml"}, 406, costexplorer.ErrInvalidVersionDate},
		{"SearchAccept2023", "POST", search, "{}", nil, 406, costexplorer.ErrInvalidVersionDate},
		{"SearchAcceptCSV", "POST", search, "{}", map[string]string{"Accept": "application/vnd.atlas.2024-08-05+csv"}, 406, costexplorer.ErrInvalidVersionDate},
		{"SearchNoContentType", "GET", search, "{}", map[string]string{"Accept": accept2024, "Content-Type": del}, 415, costexplorer.ErrUnsupportedMediaType},
		{"SearchContentTypeText", "POST", search, "{}", map[string]string{"Accept": accept2024, "Content-Type": "text/plain"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"SearchContentType2023", "POST", search, "{}", map[string]string{"Accept": accept2024, "Content-Type": "application/vnd.atlas.2023-01-01+json"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"NoCredentials", "GET", list, "", map[string]string{"Authorization": del}, 401, costexplorer.ErrUnauthorized},
		{"BearerGarbage", "GET", inv, "", map[string]string{"Authorization": "Bearer x.y.z"}, 401, costexplorer.ErrUnauthorized},

		// lineItems:search bodies (GET and POST alike).
		{"SearchEmptyBody", "POST", search, "", a24, 400, costexplorer.ErrMalformedJSON},
		{"SearchArrayBody", "GET", search, "[]", a24, 400, costexplorer.ErrMalformedJSON},
		{"SearchTrailingData", "POST", search, "{} {}", a24, 400, costexplorer.ErrMalformedJSON},
		{"SearchTruncated", "GET", search, `{"filters":{`, a24, 400, costexplorer.ErrMalformedJSON},
		{"SearchUnknownAttribute", "POST", search, `{"limit":10}`, a24, 400, costexplorer.ErrInvalidAttribute},
		{"SearchUnknownFilter", "POST", search, `{"filters":{"projectIds":[]}}`, a24, 400, costexplorer.ErrInvalidAttribute},
		{"SearchAttributeTwice", "GET", search, `{"sortField":"BILL_DATES","sortField":"USAGE_DATES"}`, a24, 400, costexplorer.ErrInvalidAttribute},
		{"SearchFiltersString", "POST", search, `{"filters":"all"}`, a24, 400, costexplorer.ErrInvalidJSONAttribute},
		{"SearchSortOrderNumber", "POST", search, `{"sortOrder":1}`, a24, 400, costexplorer.ErrInvalidJSONAttribute},
		{"SearchZeroCentsString", "POST", search, `{"filters":{"includeZeroCentLineItems":"true"}}`, a24, 400, costexplorer.ErrInvalidJSONAttribute},
		{"SearchClusterIDsString", "POST", search, `{"filters":{"clusterIds":"` + other + `"}}`, a24, 400, costexplorer.ErrInvalidJSONAttribute},
		{"SearchSortFieldLowerCase", "GET", search, `{"sortField":"bill_dates"}`, a24, 400, costexplorer.ErrInvalidEnumValue},
		{"SearchSortOrderAsc", "POST", search, `{"sortOrder":"asc"}`, a24, 400, costexplorer.ErrInvalidEnumValue},
		{"SearchServiceOldName", "POST", search, `{"filters":{"skuServices":["AI Models"]}}`, a24, 400, costexplorer.ErrInvalidEnumValue},
		{"SearchBillDateUnpadded", "POST", search, `{"filters":{"billStartDate":"2025-1-01"}}`, a24, 400, costexplorer.ErrInvalidDateFormat},
		{"SearchUsageDateTime", "POST", search, `{"filters":{"usageEndDate":"2025-01-01T00:00:00Z"}}`, a24, 400, costexplorer.ErrInvalidDateFormat},
		{"SearchUsageStartAfterEnd", "POST", search, `{"filters":{"usageStartDate":"2025-05-10","usageEndDate":"2025-05-01"}}`, a24, 400, costexplorer.ErrStartDateAfterEndDate},
		{"SearchClusterIDShort", "POST", search, `{"filters":{"clusterIds":["abc"]}}`, a24, 400, costexplorer.ErrValidation},
		{"SearchGroupIDRepeated", "GET", search, `{"filters":{"groupIds":["` + other + `","` + other + `"]}}`, a24, 400, costexplorer.ErrValidation},
		{"SearchBodyTooLarge", "POST", search, `{"filters":{"groupIds":["` + strings.Repeat("a", 5000) + `"]}}`, a24, 413, costexplorer.ErrBodyTooLarge},
		{"SearchItemsPerPageZero", "POST", search + "?itemsPerPage=0", "{}", a24, 400, costexplorer.ErrInvalidQueryParameter},
		{"SearchIncludeCountYes", "GET", search + "?includeCount=yes", "{}", a24, 400, costexplorer.ErrInvalidQueryParameter},

		// The SKU catalogue.
		{"SkusItemsPerPage501", "GET", "/api/atlas/v2/skus?itemsPerPage=501", "", map[string]string{"Accept": accept2025}, 400, costexplorer.ErrInvalidQueryParameter},
		{"SkusPageNumNegative", "GET", "/api/atlas/v2/skus?pageNum=-1", "", map[string]string{"Accept": accept2025}, 400, costexplorer.ErrInvalidQueryParameter},
		{"SkuIDWithDash", "GET", "/api/atlas/v2/skus/ATLAS-AWS", "", map[string]string{"Accept": accept2025}, 400, costexplorer.ErrInvalidPathParameter},
		{"SkuUnknown", "GET", "/api/atlas/v2/skus/NOPE", "", map[string]string{"Accept": accept2025}, 404, costexplorer.ErrNotFound},
		{"SkusAccept2023", "GET", "/api/atlas/v2/skus", "", nil, 406, costexplorer.ErrInvalidVersionDate},
		{"SkusPost", "POST", "/api/atlas/v2/skus", "{}", map[string]string{"Accept": accept2025}, 405, costexplorer.ErrMethodNotAllowed},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d bad requests", len(cases))
	}
	invID := costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			path := strings.NewReplacer("{org}", e.Org, "{inv}", invID).Replace(c.path)
			req := e.apiRequest(c.method, path, c.body)
			if c.body != "" && strings.Contains(path, "lineItems") {
				req.Header.Set("Content-Type", accept2024)
			}
			if c.body == "" && c.method == "POST" {
				req.Header.Set("Content-Type", accept2024)
			}
			e.checkRefused(t, req, c.headers, c.status, c.code)
		})
	}
}

// badRequest is a case of the tables of malformed requests: the request
// (a header value "\x00" removes the header) and the status and errorCode
// it must be refused with.
type badRequest struct {
	name    string
	method  string
	path    string
	body    string
	headers map[string]string
	status  int
	code    string
}

// checkRefused sets headers on req (the value "\x00" removes the header),
// sends it, and checks that it is refused with status and code, never with
// a 5xx.
func (e *env) checkRefused(t *testing.T, req *http.Request, headers map[string]string, status int, code string) {
	t.Helper()
	for k, v := range headers {
		if v == "\x00" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res := e.do(req)
	if res.status >= 500 {
		t.Fatalf("bad input answered %d: %s", res.status, res.body)
	}
	checkError(t, res, status, code)
}
