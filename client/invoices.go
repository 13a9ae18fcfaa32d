package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
)

// API versions of the Invoices operations. The invoice operations are at
// the client's version (2023-01-01 by default); line-item search and the SKU
// catalogue exist only from these dates, so the client sends the later of
// its own version and the operation's.
const (
	LineItemSearchVersion = "2024-08-05"
	SKUVersion            = "2025-03-12"
)

// Invoice is an Atlas invoice (BillingInvoice). A list of invoices carries
// its metadata only (BillingInvoiceMetadata): LineItems, Payments and
// Refunds are then empty. Every amount is exact integer cents, decoded from
// the integer …Cents fields of the answer.
type Invoice struct {
	ID              string        `json:"id"`
	OrgID           string        `json:"orgId"`
	StatusName      InvoiceStatus `json:"statusName"`
	StartDate       time.Time     `json:"startDate"`
	EndDate         time.Time     `json:"endDate"`
	Created         time.Time     `json:"created"`
	Updated         time.Time     `json:"updated"`
	AmountBilled    Cents         `json:"-"`
	AmountPaid      Cents         `json:"-"`
	Credits         Cents         `json:"-"`
	SalesTax        Cents         `json:"-"`
	StartingBalance Cents         `json:"-"`
	Subtotal        Cents         `json:"-"`
	LineItems       []LineItem    `json:"lineItems"`
	LinkedInvoices  []Invoice     `json:"linkedInvoices"`
	Payments        []Payment     `json:"payments"`
	Refunds         []Refund      `json:"refunds"`
	Links           []Link        `json:"links"`
}

// Month returns the invoice's billing month.
func (inv *Invoice) Month() Month { return costexplorer.MonthOf(inv.StartDate) }

// UnmarshalJSON decodes a BillingInvoice or BillingInvoiceMetadata.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	type plain Invoice
	return json.Unmarshal(b, &struct {
		*plain
		AmountBilled    intCents `json:"amountBilledCents"`
		AmountPaid      intCents `json:"amountPaidCents"`
		Credits         intCents `json:"creditsCents"`
		SalesTax        intCents `json:"salesTaxCents"`
		StartingBalance intCents `json:"startingBalanceCents"`
		Subtotal        intCents `json:"subtotalCents"`
	}{(*plain)(inv), intCents{&inv.AmountBilled}, intCents{&inv.AmountPaid}, intCents{&inv.Credits},
		intCents{&inv.SalesTax}, intCents{&inv.StartingBalance}, intCents{&inv.Subtotal}})
}

// intCents decodes an integer number of cents (the …Cents fields of the
// Invoices API) into the Cents it points to, which itself reads dollars.
type intCents struct{ to *Cents }

// UnmarshalJSON implements json.Unmarshaler.
func (c intCents) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, (*int64)(c.to)) }

// LineItem is one line item of an invoice (InvoiceLineItem): one SKU's
// usage of one day. Tags map each key to its values as they were that day.
type LineItem struct {
	CloudProvider    string              `json:"cloudProvider"`
	ClusterName      string              `json:"clusterName"`
	Created          time.Time           `json:"created"`
	StartDate        time.Time           `json:"startDate"`
	EndDate          time.Time           `json:"endDate"`
	GroupID          string              `json:"groupId"`
	GroupName        string              `json:"groupName"`
	Note             string              `json:"note"`
	PercentDiscount  float64             `json:"percentDiscount"`
	Quantity         float64             `json:"quantity"`
	SKU              string              `json:"sku"`
	StitchAppName    string              `json:"stitchAppName"`
	Tags             map[string][]string `json:"tags"`
	Unit             string              `json:"unit"`
	UnitPriceDollars float64             `json:"unitPriceDollars"`
	Discount         Cents               `json:"-"`
	TotalPrice       Cents               `json:"-"`
}

// UnmarshalJSON decodes an InvoiceLineItem.
func (li *LineItem) UnmarshalJSON(b []byte) error {
	type plain LineItem
	return json.Unmarshal(b, &struct {
		*plain
		Discount   intCents `json:"discountCents"`
		TotalPrice intCents `json:"totalPriceCents"`
	}{(*plain)(li), intCents{&li.Discount}, intCents{&li.TotalPrice}})
}

// Service returns the cost-explorer service the item's SKU is billed under
// ("" for a SKU the catalogue does not know).
func (li *LineItem) Service() Service {
	s, err := costexplorer.LookupSKU(li.SKU)
	if err != nil {
		return ""
	}
	return s.Service
}

// Payment is one payment toward an invoice (BillingPayment).
type Payment struct {
	ID           string    `json:"id"`
	StatusName   string    `json:"statusName"`
	Currency     string    `json:"currency"`
	UnitPrice    string    `json:"unitPrice"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	AmountBilled Cents     `json:"-"`
	AmountPaid   Cents     `json:"-"`
	SalesTax     Cents     `json:"-"`
	Subtotal     Cents     `json:"-"`
}

// UnmarshalJSON decodes a BillingPayment.
func (p *Payment) UnmarshalJSON(b []byte) error {
	type plain Payment
	return json.Unmarshal(b, &struct {
		*plain
		AmountBilled intCents `json:"amountBilledCents"`
		AmountPaid   intCents `json:"amountPaidCents"`
		SalesTax     intCents `json:"salesTaxCents"`
		Subtotal     intCents `json:"subtotalCents"`
	}{(*plain)(p), intCents{&p.AmountBilled}, intCents{&p.AmountPaid}, intCents{&p.SalesTax}, intCents{&p.Subtotal}})
}

// Refund is money returned for one payment (BillingRefund).
type Refund struct {
	PaymentID string    `json:"paymentId"`
	Created   time.Time `json:"created"`
	Reason    string    `json:"reason"`
	Amount    Cents     `json:"-"`
}

// UnmarshalJSON decodes a BillingRefund.
func (r *Refund) UnmarshalJSON(b []byte) error {
	type plain Refund
	return json.Unmarshal(b, &struct {
		*plain
		Amount intCents `json:"amountCents"`
	}{(*plain)(r), intCents{&r.Amount}})
}

// Page is one page of a list: its results, the total count across pages
// (0 when the count was not asked for) and the links.
type Page[T any] struct {
	Results    []T    `json:"results"`
	TotalCount int    `json:"totalCount"`
	Links      []Link `json:"links"`
}

// HasNext reports whether the server links a next page.
func (p *Page[T]) HasNext() bool { return hasNext(p.Links) }

func hasNext(links []Link) bool {
	for _, l := range links {
		if l.Rel == "next" {
			return true
		}
	}
	return false
}

// InvoiceListOptions are the parameters of listInvoices. Zero fields take
// the server's defaults: every status and date, linked invoices shown,
// sorted by END_DATE descending, page 1 of 100, with the total count.
type InvoiceListOptions struct {
	// HideLinkedInvoices sends viewLinkedInvoices=false.
	HideLinkedInvoices bool
	// StatusNames keeps the invoices of these statuses.
	StatusNames []InvoiceStatus
	// FromDate keeps invoices starting on or after this day (its date
	// part, UTC); ToDate those ending on or before it.
	FromDate, ToDate time.Time
	SortBy           InvoiceSortField
	OrderBy          SortOrder
	PageNum          int
	ItemsPerPage     int
	// OmitCount asks the server not to count (includeCount=false).
	OmitCount bool
}

// Values returns the query parameters of o.
func (o InvoiceListOptions) Values() url.Values {
	v := pageValues(o.PageNum, o.ItemsPerPage, o.OmitCount)
	if o.HideLinkedInvoices {
		v.Set("viewLinkedInvoices", "false")
	}
	for _, s := range o.StatusNames {
		v.Add("statusNames", string(s))
	}
	if !o.FromDate.IsZero() {
		v.Set("fromDate", o.FromDate.UTC().Format(time.DateOnly))
	}
	if !o.ToDate.IsZero() {
		v.Set("toDate", o.ToDate.UTC().Format(time.DateOnly))
	}
	if o.SortBy != "" {
		v.Set("sortBy", string(o.SortBy))
	}
	if o.OrderBy != "" {
		v.Set("orderBy", string(o.OrderBy))
	}
	return v
}

func pageValues(pageNum, itemsPerPage int, omitCount bool) url.Values {
	v := url.Values{}
	if pageNum > 0 {
		v.Set("pageNum", strconv.Itoa(pageNum))
	}
	if itemsPerPage > 0 {
		v.Set("itemsPerPage", strconv.Itoa(itemsPerPage))
	}
	if omitCount {
		v.Set("includeCount", "false")
	}
	return v
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// InvoicesPath returns the path of orgID's invoices, and of one invoice
// when invoiceID is not empty.
func InvoicesPath(orgID, invoiceID string) string {
	p := "/api/atlas/v2/orgs/" + url.PathEscape(orgID) + "/invoices"
	if invoiceID != "" {
		p += "/" + url.PathEscape(invoiceID)
	}
	return p
}

// Invoices returns one page of orgID's invoices (listInvoices), each with
// its metadata and its linked invoices.
func (c *Client) Invoices(ctx context.Context, orgID string, opts InvoiceListOptions) (*Page[Invoice], error) {
	return fetch[Page[Invoice]](ctx, c, http.MethodGet, withQuery(InvoicesPath(orgID, ""), opts.Values()), "", nil)
}

// AllInvoices iterates over every invoice opts selects, page after page
// from opts.PageNum. It stops at the first error, which it yields.
func (c *Client) AllInvoices(ctx context.Context, orgID string, opts InvoiceListOptions) iter.Seq2[Invoice, error] {
	return paginate(opts.PageNum, func(page int) (*Page[Invoice], error) {
		opts.PageNum = page
		return c.Invoices(ctx, orgID, opts)
	})
}

// paginate iterates over the results of the pages pageAt returns, from page
// first (1 when 0) while the server links a next page.
func paginate[T any](first int, pageAt func(page int) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page := max(first, 1); ; page++ {
			p, err := pageAt(page)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, r := range p.Results {
				if !yield(r, nil) {
					return
				}
			}
			if !p.HasNext() || len(p.Results) == 0 {
				return
			}
		}
	}
}

// Invoice returns one invoice of orgID (getInvoice) with its line items,
// linked invoices, payments and refunds. A foreign or unknown id is an
// *APIError with status 404.
func (c *Client) Invoice(ctx context.Context, orgID, invoiceID string) (*Invoice, error) {
	return fetch[Invoice](ctx, c, http.MethodGet, InvoicesPath(orgID, invoiceID), "", nil)
}

// PendingInvoices returns orgID's invoices accruing charges this month
// (listPendingInvoices), each with its line items.
func (c *Client) PendingInvoices(ctx context.Context, orgID string) ([]Invoice, error) {
	var p Page[Invoice]
	if err := c.call(ctx, http.MethodGet, InvoicesPath(orgID, "pending"), nil, &p); err != nil {
		return nil, err
	}
	return p.Results, nil
}

// InvoiceCSV streams the invoice's CSV (downloadInvoiceCsv: the summary
// block, a blank line, then the line items) to w as it arrives, in constant
// memory whatever the invoice's size, and returns the number of bytes
// written.
func (c *Client) InvoiceCSV(ctx context.Context, orgID, invoiceID string, w io.Writer) (int64, error) {
	resp, err := c.get(ctx, InvoicesPath(orgID, invoiceID)+"/csv", c.MediaType("csv"))
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("client: copy the invoice CSV: %w", err)
	}
	return n, nil
}

// LineItemQuery is the body of a line-item search
// (ApiPublicUsageDetailsQueryRequest). Zero fields are left out: the server
// then returns every item with a non-zero amount, by bill date descending.
// The dates are days (their date part, UTC), inclusive.
type LineItemQuery struct {
	BillStartDate, BillEndDate   time.Time
	UsageStartDate, UsageEndDate time.Time
	ClusterIDs                   []string
	GroupIDs                     []string
	SKUServices                  []string
	IncludeZeroCentLineItems     bool
	SortField                    LineItemSortField
	SortOrder                    LineItemSortOrder
}

// MarshalJSON writes the request body.
func (q LineItemQuery) MarshalJSON() ([]byte, error) {
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.DateOnly)
	}
	type filters struct {
		BillStartDate            string   `json:"billStartDate,omitempty"`
		BillEndDate              string   `json:"billEndDate,omitempty"`
		UsageStartDate           string   `json:"usageStartDate,omitempty"`
		UsageEndDate             string   `json:"usageEndDate,omitempty"`
		ClusterIDs               []string `json:"clusterIds,omitempty"`
		GroupIDs                 []string `json:"groupIds,omitempty"`
		SKUServices              []string `json:"skuServices,omitempty"`
		IncludeZeroCentLineItems bool     `json:"includeZeroCentLineItems,omitempty"`
	}
	var f *filters
	if !q.BillStartDate.IsZero() || !q.BillEndDate.IsZero() || !q.UsageStartDate.IsZero() || !q.UsageEndDate.IsZero() ||
		len(q.ClusterIDs) > 0 || len(q.GroupIDs) > 0 || len(q.SKUServices) > 0 || q.IncludeZeroCentLineItems {
		f = &filters{day(q.BillStartDate), day(q.BillEndDate), day(q.UsageStartDate), day(q.UsageEndDate),
			q.ClusterIDs, q.GroupIDs, q.SKUServices, q.IncludeZeroCentLineItems}
	}
	return json.Marshal(struct {
		Filters   *filters          `json:"filters,omitempty"`
		SortField LineItemSortField `json:"sortField,omitempty"`
		SortOrder LineItemSortOrder `json:"sortOrder,omitempty"`
	}{f, q.SortField, q.SortOrder})
}

// UsageLineItem is one line item of a search
// (PublicApiUsageDetailsLineItemView).
type UsageLineItem struct {
	BillDate         time.Time `json:"billDate"`
	UsageDate        time.Time `json:"usageDate"`
	CloudProvider    string    `json:"cloudProvider"`
	ClusterName      string    `json:"clusterName"`
	Description      string    `json:"description"`
	GroupID          string    `json:"groupId"`
	Quantity         float64   `json:"quantity"`
	UnitPriceDollars float64   `json:"unitPriceDollars"`
	TotalPrice       Cents     `json:"-"`
}

// UnmarshalJSON decodes a PublicApiUsageDetailsLineItemView.
func (li *UsageLineItem) UnmarshalJSON(b []byte) error {
	type plain UsageLineItem
	return json.Unmarshal(b, &struct {
		*plain
		TotalPrice intCents `json:"totalPriceCents"`
	}{(*plain)(li), intCents{&li.TotalPrice}})
}

// PageOptions select a page of a list. Zero fields take the server's
// defaults (page 1 of 100, with the total count).
type PageOptions struct {
	PageNum      int
	ItemsPerPage int
	// OmitCount asks the server not to count (includeCount=false).
	OmitCount bool
}

// SearchLineItems returns one page of the invoice's line items that q
// selects (queryLineItemsFromSingleInvoice, API version 2024-08-05). The
// request is a GET with a JSON body, as the Atlas specification has it, so
// that it works against Atlas as well as costexplorer (which takes POST too).
func (c *Client) SearchLineItems(ctx context.Context, orgID, invoiceID string, q LineItemQuery, page PageOptions) (*Page[UsageLineItem], error) {
	body, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	path := withQuery(InvoicesPath(orgID, invoiceID)+"/lineItems:search", pageValues(page.PageNum, page.ItemsPerPage, page.OmitCount))
	return fetch[Page[UsageLineItem]](ctx, c, http.MethodGet, path, LineItemSearchVersion, body)
}

// AllLineItems iterates over every line item q selects, page after page.
func (c *Client) AllLineItems(ctx context.Context, orgID, invoiceID string, q LineItemQuery, page PageOptions) iter.Seq2[UsageLineItem, error] {
	return paginate(page.PageNum, func(n int) (*Page[UsageLineItem], error) {
		page.PageNum = n
		return c.SearchLineItems(ctx, orgID, invoiceID, q, page)
	})
}

// SKU is one SKU of the catalogue (SkuResponse).
type SKU = costexplorer.SKUResponse

// SKUs returns one page of the SKU catalogue (listSkus, API version
// 2025-03-12).
func (c *Client) SKUs(ctx context.Context, page PageOptions) (*Page[SKU], error) {
	path := withQuery("/api/atlas/v2/skus", pageValues(page.PageNum, page.ItemsPerPage, page.OmitCount))
	return fetch[Page[SKU]](ctx, c, http.MethodGet, path, SKUVersion, nil)
}

// AllSKUs iterates over the whole SKU catalogue, page after page.
func (c *Client) AllSKUs(ctx context.Context, page PageOptions) iter.Seq2[SKU, error] {
	return paginate(page.PageNum, func(n int) (*Page[SKU], error) {
		page.PageNum = n
		return c.SKUs(ctx, page)
	})
}

// SKU returns one SKU (getSku, API version 2025-03-12); an unknown id is an
// *APIError with status 404.
func (c *Client) SKU(ctx context.Context, skuID string) (*SKU, error) {
	return fetch[SKU](ctx, c, http.MethodGet, "/api/atlas/v2/skus/"+url.PathEscape(skuID), SKUVersion, nil)
}
