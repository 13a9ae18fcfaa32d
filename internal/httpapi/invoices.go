package httpapi

import (
	"context"
	"io"
	"net/http"

	"github.com/costexplorer/costexplorer"
)

// InvoiceReader is what the invoice operations read (DESIGN §5.2): the
// invoices, their streamed line items and the organizations linked to a
// paying one. costexplorer.Store satisfies it.
type InvoiceReader interface {
	costexplorer.InvoiceStore
	// LinkedOrganizations returns the ids of the organizations linked to payingID.
	LinkedOrganizations(ctx context.Context, payingID string) ([]string, error)
}

// invoiceParam is the {invoiceId} of the invoice operations: anything but 24
// lower-case hex characters is 400 INVALID_PATH_PARAMETER (the stricter of
// the specification's two patterns: getInvoiceCsv's allows any hex string).
var invoiceParam = pathParam{name: "invoiceId", valid: costexplorer.IsID, why: "an invoice id is 24 lower-case hexadecimal characters."}

// jsonOptions are the options of an invoice answer to c.
func (s *Server) jsonOptions(c *call) costexplorer.InvoiceJSONOptions {
	o := costexplorer.InvoiceJSONOptions{Now: s.cfg.Now(), BaseURL: baseURL(c.r), Indent: c.pretty}
	if c.envelope {
		o.EnvelopeStatus = http.StatusOK
	}
	return o
}

// lines streams the line items of an invoice from the store, in the
// request's context.
func (s *Server) lines(ctx context.Context) costexplorer.InvoiceLines {
	return func(invoiceID string, fn func(*costexplorer.InvoiceLine) error) error {
		return s.cfg.Invoices.InvoiceLines(ctx, invoiceID, fn)
	}
}

// listInvoices serves GET /api/atlas/v2/orgs/{orgId}/invoices: one page of
// the organization's invoices as PaginatedApiInvoiceMetadata, with every
// parameter of the specification (costexplorer.ParseInvoiceListQuery says
// how each is read). viewLinkedInvoices fills linkedInvoices only for a
// caller who may see them (costexplorer.CanViewLinkedInvoices); for others it is empty.
func (s *Server) listInvoices(c *call) (reply, error) {
	q, err := costexplorer.ParseInvoiceListQuery(c.orgID, c.r.URL.Query())
	if err != nil {
		return nil, err
	}
	if !costexplorer.CanViewLinkedInvoices(c.principal) {
		q.ViewLinkedInvoices = false
	}
	o := s.jsonOptions(c)
	invs, total, err := s.cfg.Invoices.Invoices(c.r.Context(), q, o.Now)
	if err != nil {
		return nil, err
	}
	page := &costexplorer.InvoicePage{
		Invoices: invs,
		Links:    pageLinks(c.r, q.Page, q.Page.Offset()+len(invs) < total),
	}
	if q.Page.IncludeCount {
		page.TotalCount = &total
	}
	return stream{formatJSON, func(w io.Writer) error {
		return costexplorer.WriteInvoiceListJSON(w, page, o)
	}}, nil
}

// invoice returns the invoice {invoiceId} as c's caller may see it: its own
// organization's or, for a caller who may see linked invoices, one of a
// linked organization's. Any other id — unknown, another organization's,
// a linked organization's for a Billing Viewer — is the same 404
// RESOURCE_NOT_FOUND, byte for byte.
func (s *Server) invoice(c *call) (*costexplorer.Invoice, error) {
	ctx := c.r.Context()
	id := c.r.PathValue("invoiceId")
	orgs := []string{c.orgID}
	linked := costexplorer.CanViewLinkedInvoices(c.principal)
	if linked {
		ids, err := s.cfg.Invoices.LinkedOrganizations(ctx, c.orgID)
		if err != nil {
			return nil, err
		}
		orgs = append(orgs, ids...)
	}
	inv, err := s.cfg.Invoices.Invoice(ctx, orgs, id)
	if err != nil {
		if costexplorer.IsNotFound(err) {
			return nil, errNotFound("Cannot find invoice " + id + " for organization " + c.orgID + ".")
		}
		return nil, err
	}
	if !linked {
		inv.Linked = nil
	}
	return inv, nil
}

// getInvoice serves GET …/invoices/{invoiceId}: the invoice as
// BillingInvoice with its line items, linked invoices, payments and
// refunds, or, when Accept asks for +csv, the invoice CSV as
// downloadInvoiceCsv answers it. Both are streamed.
func (s *Server) getInvoice(c *call) (reply, error) {
	inv, err := s.invoice(c)
	if err != nil {
		return nil, err
	}
	if c.neg.format == formatCSV {
		return s.invoiceCSV(c, inv)
	}
	o := s.jsonOptions(c)
	lines := s.lines(c.r.Context())
	return stream{formatJSON, func(w io.Writer) error {
		return costexplorer.WriteInvoiceJSON(w, inv, lines, o)
	}}, nil
}

// downloadInvoiceCsv serves GET …/invoices/{invoiceId}/csv: the invoice
// CSV as Atlas serves it (summary block, blank line, line items with a
// column per tag key), streamed. It has no JSON form; the CSV is never
// enveloped and pretty does not apply.
func (s *Server) downloadInvoiceCsv(c *call) (reply, error) {
	inv, err := s.invoice(c)
	if err != nil {
		return nil, err
	}
	return s.invoiceCSV(c, inv)
}

func (s *Server) invoiceCSV(c *call, inv *costexplorer.Invoice) (reply, error) {
	ctx := c.r.Context()
	org, err := s.cfg.Store.Organization(ctx, inv.OrgID)
	if err != nil {
		// The invoice's organization exists (the store keeps them in
		// step): a miss here is the store's fault, not the caller's.
		return nil, &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "Unexpected error.", Err: err}
	}
	keys, err := s.cfg.Invoices.InvoiceTagKeys(ctx, inv.ID)
	if err != nil {
		return nil, err
	}
	lines := s.lines(ctx)
	return stream{formatCSV, func(w io.Writer) error {
		return costexplorer.WriteInvoiceCSV(w, inv, org.Name, keys, lines)
	}}, nil
}

// listPendingInvoices serves GET …/invoices/pending: the organization's
// pending invoice with its line items (and its linked organizations'
// pending invoices in linkedInvoices, for a caller who may see them) as
// PaginatedApiInvoice, which is what the Atlas Go SDK decodes; results is
// empty while the month has no usage. The specification gives the
// operation no paging parameters: the one page holds every pending invoice.
func (s *Server) listPendingInvoices(c *call) (reply, error) {
	o := s.jsonOptions(c)
	self := baseURL(c.r) + c.r.URL.Path
	if c.r.URL.RawQuery != "" {
		self += "?" + c.r.URL.RawQuery
	}
	page := &costexplorer.InvoicePage{Links: []costexplorer.Link{{Href: self, Rel: "self"}}}
	inv, err := s.cfg.Invoices.PendingInvoice(c.r.Context(), c.orgID, o.Now)
	switch {
	case err == nil:
		if !costexplorer.CanViewLinkedInvoices(c.principal) {
			inv.Linked = nil
		}
		page.Invoices = []*costexplorer.Invoice{inv}
	case !costexplorer.IsNotFound(err):
		return nil, err
	}
	n := len(page.Invoices)
	page.TotalCount = &n
	lines := s.lines(c.r.Context())
	return stream{formatJSON, func(w io.Writer) error {
		return costexplorer.WritePendingInvoicesJSON(w, page, lines, o)
	}}, nil
}

// queryLineItemsFromSingleInvoice serves GET (with a JSON body, as the
// specification and the Atlas Go SDK send it) and POST
// …/invoices/{invoiceId}/lineItems:search at version 2024-08-05: one page of
// the invoice's line items that the body's filters select, in its sort
// order, as PaginatedPublicApiUsageDetailsLineItem. The body is validated
// before the invoice is looked up (costexplorer.ParseLineItemSearch: 400
// naming the field); the body is required ({} selects every non-zero item).
//
// With includeCount=false the store counts nothing, and the next link is
// given whenever the page is full (it may then lead to an empty page).
func (s *Server) queryLineItemsFromSingleInvoice(c *call) (reply, error) {
	search, err := costexplorer.ParseLineItemSearch(c.body)
	if err != nil {
		return nil, err
	}
	page, err := costexplorer.ParsePageRequest(c.r.URL.Query())
	if err != nil {
		return nil, err
	}
	inv, err := s.invoice(c)
	if err != nil {
		return nil, err
	}
	lines, total, err := s.cfg.Invoices.SearchLineItems(c.r.Context(), inv.ID, search, page)
	if err != nil {
		return nil, err
	}
	more := len(lines) == page.ItemsPerPage
	if page.IncludeCount {
		more = page.Offset()+len(lines) < total
	}
	res := &costexplorer.LineItemPage{
		Links: pageLinks(c.r, page, more),
		Lines: func(fn func(*costexplorer.InvoiceLine) error) error {
			for _, l := range lines {
				if err := fn(l); err != nil {
					return err
				}
			}
			return nil
		},
	}
	if page.IncludeCount {
		res.TotalCount = &total
	}
	o := s.jsonOptions(c)
	return stream{formatJSON, func(w io.Writer) error {
		return costexplorer.WriteLineItemPageJSON(w, res, o)
	}}, nil
}

// stream is a success body written as it is produced (an invoice of
// millions of line items is never held in memory): 200 in the negotiated
// version and format, without Content-Length. Nothing is sent before the
// body's first bytes, so an error before them (a store failure on the first
// row) is still answered by WriteError; an error after them can only cut
// the connection, which the client sees as a truncated body rather than a
// complete-looking one.
type stream struct {
	format format
	body   func(w io.Writer) error
}

func (st stream) write(w http.ResponseWriter, c *call) { st.send(w, c, "") }

// attachment is a stream sent as a file to save under filename.
type attachment struct {
	stream
	filename string
}

func (a attachment) write(w http.ResponseWriter, c *call) { a.send(w, c, a.filename) }

func (st stream) send(w http.ResponseWriter, c *call, filename string) {
	lw := &lazyWriter{w: w, contentType: contentType(c.neg.version, st.format), filename: filename}
	err := st.body(lw)
	if err == nil && st.format == formatJSON {
		_, err = lw.Write(newline) // every JSON answer ends with one
	}
	if err == nil {
		return
	}
	if !lw.started {
		WriteError(w, c.r, err)
		return
	}
	if c.r.Context().Err() == nil {
		loggerFrom(c.r.Context()).ErrorContext(c.r.Context(), "streamed answer cut short", "method", c.r.Method, "route", routeOf(c.r), "err", err)
	}
	panic(http.ErrAbortHandler)
}

// lazyWriter writes the success header just before the first body bytes.
type lazyWriter struct {
	w           http.ResponseWriter
	contentType string
	filename    string // the Content-Disposition attachment's, if set
	started     bool
}

func (lw *lazyWriter) Write(b []byte) (int, error) {
	if !lw.started {
		lw.started = true
		lw.w.Header().Set("Content-Type", lw.contentType)
		if lw.filename != "" {
			lw.w.Header().Set("Content-Disposition", `attachment; filename="`+lw.filename+`"`)
		}
		lw.w.WriteHeader(http.StatusOK)
	}
	return lw.w.Write(b)
}
