package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// orgMonth is an organization (its dictionary number, after finish) and a
// month: the key of a segment and of an invoice.
type orgMonth struct {
	org   int32
	month costexplorer.Month
}

// invoiceIDs holds, during a build, the id of each organization's invoice
// of each month as the store has it. An invoice keeps the id it was created
// with (an imported Invoice Number, a synced id), so the id cannot be
// derived from the organization and month: the cost explorer's invoiceId
// must name the invoice the Invoices API serves (DESIGN §5.1). The map lives
// only while the snapshot is built; each segment keeps its string.
type invoiceIDs map[orgMonth]string

// loadInvoiceIDs reads the source's invoice ids for the organizations of
// orgs (finished). It runs after the rollup scan: a rollup cell and the
// invoice of its items are committed together, so every cell the scan saw
// has its invoice in this later read. Invoices of organizations the
// dictionary does not know have no rollup cell and are skipped.
func loadInvoiceIDs(ctx context.Context, src Source, orgs *dict) (invoiceIDs, error) {
	refs, err := src.InvoiceIDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: invoice ids: %w", err)
	}
	ids := make(invoiceIDs, len(refs))
	for _, r := range refs {
		if o, ok := orgs.index[r.OrgID]; ok {
			// Copied, as the dictionaries copy ids: the source's string
			// may share memory the snapshot must not keep alive.
			ids[orgMonth{o, r.Month}] = strings.Clone(r.ID)
		}
	}
	return ids, nil
}

// of returns the invoice id of organization o (of the snapshot s) for month
// m: the store's, else the derived id costexplorer.InvoiceID. A store writes
// a month's items, its rollup cells and its invoice in one transaction, so
// it has an invoice for every segment; the derived id serves sources that
// keep no invoices (the benchmarks' in-memory sources).
func (ids invoiceIDs) of(s *snapshot, o int32, m costexplorer.Month) string {
	if id, ok := ids[orgMonth{o, m}]; ok {
		return id
	}
	return costexplorer.InvoiceID(s.orgs.ids[o], m)
}
