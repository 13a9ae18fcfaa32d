package costexplorer

import (
	"errors"
	"io"
	"strconv"
	"time"
)

// Link is an Atlas link: a URL and its relation ("self", "next", …).
type Link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// InvoiceJSONOptions say how an invoice answer is written. Now is the date
// statuses and amounts paid are computed on; BaseURL the scheme and host of
// the links ("https://cloud.example.com"); Indent writes the pretty form
// (pretty=true). EnvelopeStatus, when not 0, is the HTTP status an
// envelope=true answer carries: an entity is wrapped as
// {"status": N, "content": …}, a list gains "status": N after its other
// fields (as the cost explorer's lists do).
type InvoiceJSONOptions struct {
	Now            time.Time
	BaseURL        string
	Indent         bool
	EnvelopeStatus int
}

// check rejects options without a date: every status and amount paid
// depends on it, and the zero time would show every invoice PENDING.
func (o *InvoiceJSONOptions) check() error {
	if o.Now.IsZero() {
		return errors.New("invoice json: InvoiceJSONOptions.Now is not set")
	}
	return nil
}

// FormatTimestamp writes t as every Atlas date-time is written: RFC 3339 in
// UTC with its zone, to the second ("2026-11-01T00:00:00Z"). The official
// clients fail to decode a bare date.
func FormatTimestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// InvoicePage is one page of a list of invoices: the invoices, the page's
// links, and the total count when the request asked for it (nil omits it).
type InvoicePage struct {
	Invoices   []*Invoice
	Links      []Link
	TotalCount *int
}

// InvoiceURL is the path of an invoice under the API base path.
func InvoiceURL(baseURL, orgID, invoiceID string) string {
	return baseURL + "/api/atlas/v2/orgs/" + orgID + "/invoices/" + invoiceID
}

// WriteInvoiceJSON writes inv as a BillingInvoice: its fields, its line
// items as lines streams them, its linked invoices (each a full invoice with
// its own line items) and its payments and refunds.
func WriteInvoiceJSON(w io.Writer, inv *Invoice, lines InvoiceLines, o InvoiceJSONOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	s := newJSONStream(w, o.Indent)
	if o.EnvelopeStatus != 0 {
		s.beginObject()
		s.field("status", o.EnvelopeStatus)
		s.key("content")
	}
	if err := writeInvoice(s, inv, lines, o); err != nil {
		return err
	}
	if o.EnvelopeStatus != 0 {
		s.endObject()
	}
	return s.Flush()
}

// WriteInvoiceListJSON writes a page of invoices as a
// PaginatedApiInvoiceMetadata: each invoice as a BillingInvoiceMetadata, with
// its linked invoices (those filled in Invoice.Linked) the same way.
func WriteInvoiceListJSON(w io.Writer, page *InvoicePage, o InvoiceJSONOptions) error {
	return writePage(w, page, o, func(s *jsonStream, inv *Invoice) error {
		writeInvoiceMetadata(s, inv, o)
		return nil
	})
}

// WritePendingInvoicesJSON writes a page of invoices as a
// PaginatedApiInvoice: each a full BillingInvoice with its line items, as
// the Atlas Go SDK decodes listPendingInvoices.
func WritePendingInvoicesJSON(w io.Writer, page *InvoicePage, lines InvoiceLines, o InvoiceJSONOptions) error {
	return writePage(w, page, o, func(s *jsonStream, inv *Invoice) error {
		return writeInvoice(s, inv, lines, o)
	})
}

func writePage(w io.Writer, page *InvoicePage, o InvoiceJSONOptions, item func(*jsonStream, *Invoice) error) error {
	if err := o.check(); err != nil {
		return err
	}
	return writeList(w, page.Links, page.TotalCount, o, func(s *jsonStream) error {
		for _, inv := range page.Invoices {
			if err := item(s, inv); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeList writes an Atlas paginated list: links, the results that
// results writes, totalCount when given, and the envelope's status.
func writeList(w io.Writer, links []Link, total *int, o InvoiceJSONOptions, results func(*jsonStream) error) error {
	s := newJSONStream(w, o.Indent)
	s.beginObject()
	writeLinks(s, links)
	s.key("results")
	s.beginArray()
	if err := results(s); err != nil {
		return err
	}
	s.endArray()
	if total != nil {
		s.field("totalCount", *total)
	}
	if o.EnvelopeStatus != 0 {
		s.field("status", o.EnvelopeStatus)
	}
	s.endObject()
	return s.Flush()
}

func writeLinks(s *jsonStream, links []Link) {
	if links == nil {
		links = []Link{}
	}
	s.field("links", links)
}

// writeInvoiceHead writes the fields of an invoice that come before
// lineItems; writeInvoiceTail the links and orgId after linkedInvoices;
// writeInvoiceAmounts the fields after refunds. BillingInvoice and
// BillingInvoiceMetadata share them, in the schema's (alphabetical) order.
func writeInvoiceHead(s *jsonStream, inv *Invoice, o InvoiceJSONOptions) {
	created := inv.Created
	if created.IsZero() {
		created = inv.StartDate()
	}
	s.field("amountBilledCents", int64(inv.AmountBilled()))
	s.field("amountPaidCents", int64(inv.AmountPaid(o.Now)))
	s.field("created", FormatTimestamp(created))
	s.field("creditsCents", int64(inv.CreditsApplied()))
	s.field("endDate", FormatTimestamp(inv.EndDate()))
	s.field("id", inv.ID)
}

func writeInvoiceTail(s *jsonStream, inv *Invoice, o InvoiceJSONOptions) {
	writeLinks(s, []Link{{Href: InvoiceURL(o.BaseURL, inv.OrgID, inv.ID), Rel: "self"}})
	s.field("orgId", inv.OrgID)
}

func writeInvoiceAmounts(s *jsonStream, inv *Invoice, o InvoiceJSONOptions) {
	updated := inv.Updated
	if updated.IsZero() {
		updated = inv.Created
	}
	if updated.IsZero() {
		updated = inv.StartDate()
	}
	s.field("salesTaxCents", int64(inv.SalesTax))
	s.field("startDate", FormatTimestamp(inv.StartDate()))
	s.field("startingBalanceCents", int64(inv.StartingBalance))
	s.field("statusName", inv.StatusAt(o.Now))
	s.field("subtotalCents", int64(inv.Subtotal()))
	s.field("updated", FormatTimestamp(updated))
}

func writeInvoiceMetadata(s *jsonStream, inv *Invoice, o InvoiceJSONOptions) {
	s.beginObject()
	writeInvoiceHead(s, inv, o)
	s.key("linkedInvoices")
	s.beginArray()
	for _, l := range inv.Linked {
		writeInvoiceMetadata(s, l, o)
	}
	s.endArray()
	writeInvoiceTail(s, inv, o)
	writeInvoiceAmounts(s, inv, o)
	s.endObject()
}

func writeInvoice(s *jsonStream, inv *Invoice, lines InvoiceLines, o InvoiceJSONOptions) error {
	s.beginObject()
	writeInvoiceHead(s, inv, o)
	s.key("lineItems")
	s.beginArray()
	var (
		row []byte
		enc lineEncoder
	)
	if err := lines(inv.ID, func(l *InvoiceLine) error {
		row = enc.appendInvoiceLine(row[:0], l)
		s.rawValue(row)
		return s.err
	}); err != nil {
		return err
	}
	s.endArray()
	s.key("linkedInvoices")
	s.beginArray()
	for _, l := range inv.Linked {
		if err := writeInvoice(s, l, lines, o); err != nil {
			return err
		}
	}
	s.endArray()
	writeInvoiceTail(s, inv, o)
	payments := make([]paymentJSON, len(inv.Payments))
	for i := range inv.Payments {
		payments[i] = newPaymentJSON(&inv.Payments[i])
	}
	s.field("payments", payments)
	refunds := make([]refundJSON, len(inv.Refunds))
	for i, r := range inv.Refunds {
		refunds[i] = refundJSON{int64(r.Amount), FormatTimestamp(r.Created), r.PaymentID, r.Reason}
	}
	s.field("refunds", refunds)
	writeInvoiceAmounts(s, inv, o)
	s.endObject()
	return s.err
}

// appendInvoiceLine appends l as the Atlas InvoiceLineItem, byte for byte
// what encoding/json writes for the schema's fields in their order (the
// tests hold the struct it must match). Written by hand because it runs once
// per line item of invoices of millions. Optional fields are left out when
// the item has no value for them; the discount fields appear only when a
// discount applies.
func appendInvoiceLine(b []byte, l *InvoiceLine) []byte {
	var e lineEncoder
	return e.appendInvoiceLine(b, l)
}

// lineEncoder is appendInvoiceLine for a stream of lines: it keeps the JSON
// of the last value of each field that repeats from one line to the next
// (an invoice's lines come by project, cluster and day, and share a few
// SKUs, units, prices and tag sets), so that a line like the one before
// encodes only its id-free numbers again. The zero value is ready.
type lineEncoder struct {
	cloud, sku, unit, cluster, group, groupName, tags memo[string]
	created, end, start                               memo[Day]
	price                                             memo[int64]
}

// memo is the encoding of the last key a field had.
type memo[K comparable] struct {
	key K
	b   []byte
	set bool
}

// append appends the encoding of k, enc(nil, k) computed when k is not the
// last key.
func (m *memo[K]) append(b []byte, k K, enc func([]byte, K) []byte) []byte {
	if !m.set || m.key != k {
		m.key, m.set, m.b = k, true, enc(m.b[:0], k)
	}
	return append(b, m.b...)
}

func appendCloudProvider(b []byte, sku string) []byte {
	return appendJSONString(b, string(CloudProviderOf(sku)))
}

func appendClusterName(b []byte, s string) []byte {
	return appendJSONStringMember(b, `,"clusterName":`, s)
}

func appendGroupID(b []byte, s string) []byte { return appendJSONStringMember(b, `,"groupId":`, s) }

func appendGroupName(b []byte, s string) []byte {
	return appendJSONStringMember(b, `,"groupName":`, s)
}

func appendTagsJSON(b []byte, enc string) []byte { return Tags{enc}.appendJSON(b) }

func appendPrice(b []byte, n int64) []byte { return appendNanos(b, n, false) }

func (e *lineEncoder) appendInvoiceLine(b []byte, l *InvoiceLine) []byte {
	b = append(b, `{"cloudProvider":`...)
	b = e.cloud.append(b, l.SKU, appendCloudProvider)
	b = e.cluster.append(b, l.ClusterName, appendClusterName)
	b = append(b, `,"created":`...)
	b = e.created.append(b, l.Billed(), appendDayTimestamp)
	discounted := l.Discount != 0 || l.DiscountPercent != 0
	if discounted {
		b = append(b, `,"discountCents":`...)
		b = strconv.AppendInt(b, int64(l.Discount), 10)
	}
	b = append(b, `,"endDate":`...)
	b = e.end.append(b, l.Date+1, appendDayTimestamp)
	b = e.group.append(b, l.ProjectID, appendGroupID)
	b = e.groupName.append(b, l.ProjectName, appendGroupName)
	b = appendJSONStringMember(b, `,"note":`, l.Note)
	if discounted {
		b = append(b, `,"percentDiscount":`...)
		b = appendJSONFloat(b, l.DiscountPercent)
	}
	b = append(b, `,"quantity":`...)
	b = appendJSONFloat(b, l.Quantity)
	b = append(b, `,"sku":`...)
	b = e.sku.append(b, l.SKU, appendJSONString)
	b = append(b, `,"startDate":`...)
	b = e.start.append(b, l.Date, appendDayTimestamp)
	b = appendJSONStringMember(b, `,"stitchAppName":`, l.Application)
	b = append(b, `,"tags":`...)
	b = e.tags.append(b, l.Tags.enc, appendTagsJSON)
	b = append(b, `,"totalPriceCents":`...)
	b = strconv.AppendInt(b, int64(l.Amount), 10)
	b = append(b, `,"unit":`...)
	b = e.unit.append(b, l.Unit, appendJSONString)
	b = append(b, `,"unitPriceDollars":`...)
	b = e.price.append(b, l.UnitPriceNanos, appendPrice)
	return append(b, '}')
}

// appendUsageDetail appends l as the Atlas PublicApiUsageDetailsLineItemView
// (additionalData left out: no stream processors here).
func appendUsageDetail(b []byte, l *InvoiceLine) []byte {
	b = append(b, `{"billDate":`...)
	b = appendDayTimestamp(b, l.Billed())
	b = append(b, `,"cloudProvider":`...)
	b = appendJSONString(b, string(l.CloudProvider()))
	b = appendJSONStringMember(b, `,"clusterName":`, l.ClusterName)
	b = appendJSONStringMember(b, `,"description":`, l.Description)
	b = appendJSONStringMember(b, `,"groupId":`, l.ProjectID)
	b = append(b, `,"quantity":`...)
	b = appendJSONFloat(b, l.Quantity)
	b = append(b, `,"totalPriceCents":`...)
	b = strconv.AppendInt(b, int64(l.Amount), 10)
	b = append(b, `,"unitPriceDollars":`...)
	b = appendNanos(b, l.UnitPriceNanos, false)
	b = append(b, `,"usageDate":`...)
	b = appendDayTimestamp(b, l.Date)
	return append(b, '}')
}

// appendDayTimestamp appends the first instant of d as a quoted RFC 3339
// timestamp ("2024-06-01T00:00:00Z"), as time.Time.AppendFormat writes it,
// without the layout's interpretation (three times a line item).
func appendDayTimestamp(b []byte, d Day) []byte {
	t := d.Time()
	y, m, dd := t.Date()
	if y < 1000 || y > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339)
		return append(b, '"')
	}
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-', byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+dd/10), byte('0'+dd%10))
	return append(b, "T00:00:00Z\""...)
}

// paymentJSON is the Atlas BillingPayment.
type paymentJSON struct {
	AmountBilledCents int64         `json:"amountBilledCents"`
	AmountPaidCents   int64         `json:"amountPaidCents"`
	Created           string        `json:"created"`
	Currency          string        `json:"currency"`
	ID                string        `json:"id"`
	SalesTaxCents     int64         `json:"salesTaxCents"`
	StatusName        PaymentStatus `json:"statusName"`
	SubtotalCents     int64         `json:"subtotalCents"`
	UnitPrice         string        `json:"unitPrice"`
	Updated           string        `json:"updated"`
}

func newPaymentJSON(p *Payment) paymentJSON {
	updated := p.Updated
	if updated.IsZero() {
		updated = p.Created
	}
	return paymentJSON{
		AmountBilledCents: int64(p.AmountBilled), AmountPaidCents: int64(p.AmountPaid),
		Created: FormatTimestamp(p.Created), Currency: p.Currency, ID: p.ID,
		SalesTaxCents: int64(p.SalesTax), StatusName: p.Status, SubtotalCents: int64(p.Subtotal),
		UnitPrice: p.UnitPrice, Updated: FormatTimestamp(updated),
	}
}

// refundJSON is the Atlas BillingRefund.
type refundJSON struct {
	AmountCents int64  `json:"amountCents"`
	Created     string `json:"created"`
	PaymentID   string `json:"paymentId"`
	Reason      string `json:"reason"`
}

// LineItemPage is one page of a lineItems:search answer: its links, the
// total count when asked for (nil omits it), and Lines, which streams the
// page's lines to fn.
type LineItemPage struct {
	Links      []Link
	TotalCount *int
	Lines      func(fn func(*InvoiceLine) error) error
}

// WriteLineItemPageJSON writes a page of line items as a
// PaginatedPublicApiUsageDetailsLineItem.
func WriteLineItemPageJSON(w io.Writer, page *LineItemPage, o InvoiceJSONOptions) error {
	return writeList(w, page.Links, page.TotalCount, o, func(s *jsonStream) error {
		if page.Lines == nil {
			return nil
		}
		var row []byte
		return page.Lines(func(l *InvoiceLine) error {
			row = appendUsageDetail(row[:0], l)
			s.rawValue(row)
			return s.err
		})
	})
}

// appendJSONStringMember appends key (`,"name":`) and s as a JSON string,
// or nothing when s is empty (an optional member left out).
func appendJSONStringMember(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}
