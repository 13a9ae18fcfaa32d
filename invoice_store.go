package costexplorer

import (
	"context"
	"time"
)

// InvoiceStore keeps the invoices (DESIGN §5.1): one per organization and
// month, created by the first line item of that month, with amounts the
// store keeps in step with the items in the transaction of every ingest, and
// the metadata (recorded status, issue date, sales tax, starting balance,
// payments, refunds) an ingest records through [UsageBatch.Invoices].
//
// Invoices read here carry their payments and refunds. Statuses are not
// stored but derived on the date the caller gives ([Invoice.StatusAt]), so
// that one store answers alike on every replica whatever the time.
//
// Scope: the read methods taking organization ids answer ErrNotFound for an
// invoice of any other organization exactly as for an id that does not
// exist, so an HTTP layer that maps ErrNotFound to 404 cannot tell a
// foreign invoice from a missing one. The streaming and search methods take
// an invoice id the caller has already found through [InvoiceStore.Invoice]
// (or in an invoice's Linked).
type InvoiceStore interface {
	// Invoice returns the invoice with id when it belongs to one of orgIDs,
	// with its payments and refunds and, in Linked, the invoices of the same
	// month of the organizations linked to its organization (empty unless it
	// pays for others; each with its payments and refunds, in organization id
	// order). ErrNotFound when no invoice has that id, when it belongs to an
	// organization not in orgIDs, or when id is not a 24-hex id.
	Invoice(ctx context.Context, orgIDs []string, id string) (*Invoice, error)

	// Invoices returns the page of q.OrgID's invoices that q asks for —
	// filtered by dates and by status on date now, sorted and paged exactly
	// as [InvoiceListQuery.Apply] does — and the number of invoices that
	// match before paging. When q.ViewLinkedInvoices is set, each invoice of
	// a paying organization carries its linked invoices in Linked (as
	// [InvoiceStore.Invoice] fills them); otherwise Linked is empty. An
	// organization without invoices, or unknown, has an empty list and a
	// total of 0 (the caller checks that the organization exists).
	Invoices(ctx context.Context, q *InvoiceListQuery, now time.Time) ([]*Invoice, int, error)

	// PendingInvoice returns orgID's invoice whose status on date now is
	// PENDING (the invoice of now's month unless a status was recorded for
	// it; the latest if a recorded status makes several pending), with
	// Linked filled as [InvoiceStore.Invoice] does. ErrNotFound when the
	// organization has none (no usage yet this month).
	PendingInvoice(ctx context.Context, orgID string, now time.Time) (*Invoice, error)

	// InvoiceLines streams the line items of the invoice with invoiceID to
	// fn, with the organization, project and cluster names, in a stable
	// order (the store's key order: by project, then cluster, each in the
	// order the store first saw them, then by usage day, then by line-item
	// id), at constant memory whatever the invoice's size. The line passed to
	// fn is reused by the next call: copy it to keep it. It stops at and
	// returns the first error of fn. An invoice without items (or an unknown
	// id) streams nothing and returns nil.
	InvoiceLines(ctx context.Context, invoiceID string, fn func(*InvoiceLine) error) error

	// InvoiceTagKeys returns the tag keys that the line items of the invoice
	// carry, in byte order (the tag columns of its CSV); none for an unknown
	// id.
	InvoiceTagKeys(ctx context.Context, invoiceID string) ([]string, error)

	// SearchLineItems returns the page of the invoice's line items that s
	// selects, ordered by [LineItemSearch.Compare], at most
	// page.ItemsPerPage lines from page.Offset(), and the number of items
	// that match before paging (counted only when page.IncludeCount; 0
	// otherwise). An unknown invoice id has no items.
	SearchLineItems(ctx context.Context, invoiceID string, s *LineItemSearch, page PageRequest) ([]*InvoiceLine, int, error)

	// InvoiceSums returns the amounts of the invoice's line items summed by
	// project and service, read from what the store keeps in step with the
	// items (not from the items): one sum for each project and service that
	// has items, ordered by project id then service. An unknown id has none.
	InvoiceSums(ctx context.Context, invoiceID string) ([]InvoiceSum, error)

	// InvoiceIDs returns the id of every invoice with its organization and
	// month, ordered by organization id then month: the invoiceId of the
	// cost explorer's rows (internal/engine reads it with the rollup). An
	// invoice keeps the id it was created with — an imported Invoice Number,
	// a synced id, else [InvoiceID] — so the id cannot be recomputed from
	// the organization and month.
	InvoiceIDs(ctx context.Context) ([]InvoiceRef, error)
}

// InvoiceSum is the sum of an invoice's line items of one project (ids and
// name empty for items without one) and service.
type InvoiceSum struct {
	ProjectID, ProjectName string
	Service                Service
	Amount                 Cents
}

// InvoiceRef names the invoice of one organization and month.
type InvoiceRef struct {
	OrgID string
	Month Month
	ID    string
}
