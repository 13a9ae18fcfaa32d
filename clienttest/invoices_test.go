package clienttest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	admin001 "go.mongodb.org/atlas-sdk/v20250312001/admin"
	admin020 "go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// The media types the invoice operations are replayed with: the SDK sends
// these, the project's client sends 2023-01-01 JSON unless told.
var (
	acceptCSV    = http.Header{"Accept": {"application/vnd.atlas.2023-01-01+csv"}}
	acceptSearch = http.Header{"Accept": {"application/vnd.atlas.2024-08-05+json"}, "Content-Type": {"application/vnd.atlas.2024-08-05+json"}}
	acceptSKUs   = http.Header{"Accept": {"application/vnd.atlas.2025-03-12+json"}}
)

// invoiceListParams are the query parameters of listInvoices; zero values
// are not set on the SDK request (which then sends its defaults).
type invoiceListParams struct {
	pageNum, itemsPerPage    int
	includeCount, viewLinked *bool
	statusNames              []string
	fromDate, toDate         string
	sortBy, orderBy          string
}

// invoiceListRequest is the SDK's listInvoices request builder, the same
// methods at both versions.
type invoiceListRequest[R, V any] interface {
	countedRequest[R, V]
	ViewLinkedInvoices(bool) R
	StatusNames([]string) R
	FromDate(string) R
	ToDate(string) R
	SortBy(string) R
	OrderBy(string) R
}

func listInvoicesWith[R invoiceListRequest[R, V], V any](r R, p invoiceListParams) call {
	r = counted(r, p.pageNum, p.itemsPerPage, p.includeCount)
	if p.viewLinked != nil {
		r = r.ViewLinkedInvoices(*p.viewLinked)
	}
	if p.statusNames != nil {
		r = r.StatusNames(p.statusNames)
	}
	if p.fromDate != "" {
		r = r.FromDate(p.fromDate)
	}
	if p.toDate != "" {
		r = r.ToDate(p.toDate)
	}
	if p.sortBy != "" {
		r = r.SortBy(p.sortBy)
	}
	if p.orderBy != "" {
		r = r.OrderBy(p.orderBy)
	}
	return result(r.Execute())
}

// listInvoices is GET /orgs/{orgId}/invoices: ListInvoices at both versions.
func (c *sdkClient) listInvoices(ctx context.Context, orgID string, p invoiceListParams) call {
	if c.a001 != nil {
		return listInvoicesWith(c.a001.InvoicesApi.ListInvoices(ctx, orgID), p)
	}
	return listInvoicesWith(c.a020.InvoicesApi.ListInvoices(ctx, orgID), p)
}

// getInvoice is GET /orgs/{orgId}/invoices/{invoiceId}: GetInvoice.
func (c *sdkClient) getInvoice(ctx context.Context, orgID, id string) call {
	if c.a001 != nil {
		return result(c.a001.InvoicesApi.GetInvoice(ctx, orgID, id).Execute())
	}
	return result(c.a020.InvoicesApi.GetInvoice(ctx, orgID, id).Execute())
}

// downloadInvoiceCsv is GET …/invoices/{invoiceId}/csv: DownloadInvoiceCsv
// in v20250312001, renamed GetInvoiceCsv by v20250312020. The SDK returns
// the body as a string.
func (c *sdkClient) downloadInvoiceCsv(ctx context.Context, orgID, id string) call {
	var (
		s    string
		resp *http.Response
		err  error
	)
	if c.a001 != nil {
		s, resp, err = c.a001.InvoicesApi.DownloadInvoiceCsv(ctx, orgID, id).Execute()
	} else {
		s, resp, err = c.a020.InvoicesApi.GetInvoiceCsv(ctx, orgID, id).Execute()
	}
	r := result(&s, resp, err)
	r.header = acceptCSV
	return r
}

// listPendingInvoices is GET …/invoices/pending: ListPendingInvoices,
// renamed ListInvoicePending.
func (c *sdkClient) listPendingInvoices(ctx context.Context, orgID string) call {
	if c.a001 != nil {
		return result(c.a001.InvoicesApi.ListPendingInvoices(ctx, orgID).Execute())
	}
	return result(c.a020.InvoicesApi.ListInvoicePending(ctx, orgID).Execute())
}

// lineItemSearch is an ApiPublicUsageDetailsQueryRequest, built as the SDK
// model of each version.
type lineItemSearch struct {
	sortField, sortOrder string
	groupIDs, services   []string
	usageStart, usageEnd string
	includeZero          *bool
	itemsPerPage         int
	pageNum              int
}

func (q lineItemSearch) body001() *admin001.ApiPublicUsageDetailsQueryRequest {
	return &admin001.ApiPublicUsageDetailsQueryRequest{
		SortField: optString(q.sortField), SortOrder: optString(q.sortOrder),
		Filters: &admin001.UsageDetailsFilterRequest{
			GroupIds: optSlice(q.groupIDs), SkuServices: optSlice(q.services),
			UsageStartDate: optString(q.usageStart), UsageEndDate: optString(q.usageEnd),
			IncludeZeroCentLineItems: q.includeZero,
		},
	}
}

func (q lineItemSearch) body020() *admin020.ApiPublicUsageDetailsQueryRequest {
	return &admin020.ApiPublicUsageDetailsQueryRequest{
		SortField: optString(q.sortField), SortOrder: optString(q.sortOrder),
		Filters: &admin020.UsageDetailsFilterRequest{
			GroupIds: optSlice(q.groupIDs), SkuServices: optSlice(q.services),
			UsageStartDate: optString(q.usageStart), UsageEndDate: optString(q.usageEnd),
			IncludeZeroCentLineItems: q.includeZero,
		},
	}
}

// pagedRequest is a request builder with paging.
type pagedRequest[R, V any] interface {
	PageNum(int) R
	ItemsPerPage(int) R
	Execute() (*V, *http.Response, error)
}

// countedRequest is a request builder with paging and the includeCount
// parameter (the lists of organizations and invoices).
type countedRequest[R, V any] interface {
	pagedRequest[R, V]
	IncludeCount(bool) R
}

// paged sets the paging parameters that are not zero on r.
func paged[R pagedRequest[R, V], V any](r R, pageNum, itemsPerPage int) R {
	if pageNum != 0 {
		r = r.PageNum(pageNum)
	}
	if itemsPerPage != 0 {
		r = r.ItemsPerPage(itemsPerPage)
	}
	return r
}

// counted sets the paging parameters that are not zero, and includeCount
// unless nil, on r.
func counted[R countedRequest[R, V], V any](r R, pageNum, itemsPerPage int, includeCount *bool) R {
	r = paged(r, pageNum, itemsPerPage)
	if includeCount != nil {
		r = r.IncludeCount(*includeCount)
	}
	return r
}

func pagedWith[R pagedRequest[R, V], V any](r R, pageNum, itemsPerPage int) call {
	return result(paged(r, pageNum, itemsPerPage).Execute())
}

// searchLineItems is GET …/invoices/{invoiceId}/lineItems:search with a
// JSON body at 2024-08-05: QueryLineItemsFromSingleInvoice, renamed
// SearchInvoiceLineItems.
func (c *sdkClient) searchLineItems(ctx context.Context, orgID, id string, q lineItemSearch) call {
	var r call
	if c.a001 != nil {
		body := q.body001()
		r = pagedWith(c.a001.InvoicesApi.QueryLineItemsFromSingleInvoice(ctx, orgID, id, body), q.pageNum, q.itemsPerPage)
		r.sent = mustJSON(body)
	} else {
		body := q.body020()
		r = pagedWith(c.a020.InvoicesApi.SearchInvoiceLineItems(ctx, orgID, id, body), q.pageNum, q.itemsPerPage)
		r.sent = mustJSON(body)
	}
	r.header = acceptSearch
	return r
}

// listSkus and getSku exist only in the newer SDK (2025-03-12).
func (c *sdkClient) listSkus(ctx context.Context, pageNum, itemsPerPage int) call {
	r := pagedWith(c.a020.InvoicesApi.ListSkus(ctx), pageNum, itemsPerPage)
	r.header = acceptSKUs
	return r
}

func (c *sdkClient) getSku(ctx context.Context, id string) call {
	r := result(c.a020.InvoicesApi.GetSku(ctx, id).Execute())
	r.header = acceptSKUs
	return r
}

// sdkLacks are fields of the Atlas specification that both pinned SDK
// versions predate (their models have no field for them), so the SDK drops
// them when it decodes: cloudProvider of InvoiceLineItem and of
// PublicApiUsageDetailsLineItemView. checkInvoiceOK leaves them out of the
// raw answer before comparing, and counts them, so that a test can still
// require them on the wire.
var sdkLacks = map[string]bool{"cloudProvider": true}

// checkInvoiceOK is checkOK less the fields the SDK lacks; it returns how
// many it left out.
func (c *sdkClient) checkInvoiceOK(t testing.TB, ctx context.Context, what string, r call) int {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %s: %v", c, what, r.err)
	}
	if r.resp.StatusCode != http.StatusOK || r.value == nil {
		t.Fatalf("%s: %s: status %d, value %v", c, what, r.resp.StatusCode, r.value)
	}
	raw := c.replay(t, ctx, r)
	if raw.status != http.StatusOK {
		t.Fatalf("%s: %s: raw status %d: %s", c, what, raw.status, clip(raw.body))
	}
	v := jsonValue(raw.body)
	n := dropFields(v, sdkLacks)
	sameJSON(t, c.String()+": "+what, r.value, mustJSON(v))
	return n
}

// dropFields deletes the keys in names from every object in v and returns
// how many it deleted.
func dropFields(v any, names map[string]bool) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if names[k] {
				delete(x, k)
				n++
				continue
			}
			n += dropFields(y, names)
		}
	case []any:
		for _, y := range x {
			n += dropFields(y, names)
		}
	}
	return n
}

// checkCSV is checkOK for an operation the SDK returns as a string: the
// same bytes as a raw request's.
func (c *sdkClient) checkCSV(t testing.TB, ctx context.Context, what string, r call) string {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %s: %v", c, what, r.err)
	}
	s, _ := r.value.(*string)
	if r.resp.StatusCode != http.StatusOK || s == nil {
		t.Fatalf("%s: %s: status %d, value %v", c, what, r.resp.StatusCode, r.value)
	}
	raw := c.replay(t, ctx, r)
	if raw.status != http.StatusOK || string(raw.body) != *s {
		t.Errorf("%s: %s: the SDK's CSV (%d bytes) differs from the raw answer (%d, %d bytes)", c, what, len(*s), raw.status, len(raw.body))
	}
	return *s
}

// TestInvoices calls every invoice operation through both SDK versions and
// both authentication methods and compares each decoded answer with a raw
// request's: the list with every parameter, each listed invoice as JSON and
// CSV, the pending invoices, line-item searches, and their errors.
func TestInvoices(t *testing.T) {
	yes, no := true, false
	forEachClient(t, func(t *testing.T, c *sdkClient) {
		ctx := t.Context()
		org := demo.creds.OrgID
		list := c.listInvoices(ctx, org, invoiceListParams{})
		c.checkOK(t, ctx, "list invoices", list, http.StatusOK)
		ids := resultIDs(list.value)
		if len(ids) < 2 {
			t.Fatalf("the demo organization has %d invoices", len(ids))
		}
		t.Run("ListWithEveryParameter", func(t *testing.T) {
			for _, p := range []invoiceListParams{
				{pageNum: 2, itemsPerPage: 1},
				{includeCount: &no, viewLinked: &no},
				{viewLinked: &yes, statusNames: []string{"PENDING", "INVOICED", "PAID", "CLOSED"}},
				{statusNames: []string{"FREE"}},
				{fromDate: "2020-01-01", toDate: "2099-01-01", sortBy: "START_DATE", orderBy: "asc"},
			} {
				c.checkOK(t, ctx, "list invoices", c.listInvoices(ctx, org, p), http.StatusOK)
			}
		})
		t.Run("GetEveryListed", func(t *testing.T) {
			for _, id := range ids {
				r := c.getInvoice(ctx, org, id)
				if c.checkInvoiceOK(t, ctx, "get invoice "+id, r) == 0 {
					t.Errorf("get invoice %s: no line item carries cloudProvider", id)
				}
				if got := idOf(r.value); got != id {
					t.Errorf("get invoice %s: id %s", id, got)
				}
			}
		})
		t.Run("DownloadCSV", func(t *testing.T) {
			for _, id := range ids[:2] {
				s := c.checkCSV(t, ctx, "download invoice "+id, c.downloadInvoiceCsv(ctx, org, id))
				if !strings.HasPrefix(s, "Invoice Number,"+id+",\n") {
					t.Errorf("CSV of %s starts %.60q", id, s)
				}
			}
		})
		t.Run("Pending", func(t *testing.T) {
			r := c.listPendingInvoices(ctx, org)
			c.checkInvoiceOK(t, ctx, "list pending invoices", r)
			if p := resultIDs(r.value); len(p) != 1 || p[0] != ids[0] {
				t.Errorf("pending %v, want the newest invoice %s", p, ids[0])
			}
		})
		t.Run("SearchLineItems", func(t *testing.T) {
			for _, q := range []lineItemSearch{
				{},
				{itemsPerPage: 5, pageNum: 2, sortField: "TOTAL_PRICE_CENTS", sortOrder: "ASCENDING"},
				{sortField: "USAGE_DATES", services: []string{"Clusters", "Support"}, includeZero: &yes},
				{groupIDs: []string{"0123456789abcdef01234567"}},
			} {
				c.checkInvoiceOK(t, ctx, "search line items", c.searchLineItems(ctx, org, ids[1], q))
			}
		})
		t.Run("Errors", func(t *testing.T) {
			c.checkErrors(t, ctx, []errorCase{
				{"ErrUnknownInvoice", c.getInvoice(ctx, org, "0123456789abcdef01234567"), 404, "RESOURCE_NOT_FOUND"},
				{"ErrInvalidInvoiceID", c.getInvoice(ctx, org, "not-an-invoice"), 400, "INVALID_PATH_PARAMETER"},
				{"ErrForeignOrg", c.listInvoices(ctx, "0123456789abcdef01234567", invoiceListParams{}), 401, "USER_UNAUTHORIZED"},
				{"ErrStatus", c.listInvoices(ctx, org, invoiceListParams{statusNames: []string{"paid"}}), 400, "INVALID_QUERY_PARAMETER"},
				{"ErrDates", c.listInvoices(ctx, org, invoiceListParams{fromDate: "2025-03-01", toDate: "2025-01-01"}), 400, "START_DATE_AFTER_END_DATE"},
				{"ErrUnknownInvoiceCSV", c.downloadInvoiceCsv(ctx, org, "0123456789abcdef01234567"), 404, "RESOURCE_NOT_FOUND"},
				{"ErrSearchService", c.searchLineItems(ctx, org, ids[1], lineItemSearch{services: []string{"Compute"}}), 400, "INVALID_ENUM_VALUE"},
				{"ErrSearchDates", c.searchLineItems(ctx, org, ids[1], lineItemSearch{usageStart: "2025-02-01", usageEnd: "2025-01-01"}), 400, "START_DATE_AFTER_END_DATE"},
			})
		})
	})
}

// TestSkus calls the SKU catalogue through the newer SDK, which alone has
// it, with both authentication methods.
func TestSkus(t *testing.T) {
	forEachClient(t, func(t *testing.T, c *sdkClient) {
		if c.a020 == nil {
			t.Skip("v20250312001 has no SKU operations")
		}
		ctx := t.Context()
		list := c.listSkus(ctx, 0, 0)
		c.checkOK(t, ctx, "list SKUs", list, http.StatusOK)
		c.checkOK(t, ctx, "list SKUs page 2", c.listSkus(ctx, 2, 50), http.StatusOK)
		ids := resultIDs(list.value)
		if len(ids) == 0 {
			t.Fatal("no SKU listed")
		}
		for _, id := range ids[:5] {
			c.checkOK(t, ctx, "get SKU "+id, c.getSku(ctx, id), http.StatusOK)
		}
		c.checkError(t, ctx, "unknown SKU", c.getSku(ctx, "NO_SUCH_SKU"), 404, "RESOURCE_NOT_FOUND")
		c.checkError(t, ctx, "bad page", c.listSkus(ctx, 0, 501), 400, "INVALID_QUERY_PARAMETER")
	})
}
