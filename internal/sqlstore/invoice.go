package sqlstore

import (
	"context"
	"time"

	"github.com/costexplorer/costexplorer"
)

// The invoice reads of costexplorer.InvoiceStore. (Placeholder until the
// invoice schema lands: each answers ErrInternal.)

func notYet() error {
	return costexplorer.Errorf(costexplorer.ErrInternal, "invoices are not stored yet")
}

// Invoice implements costexplorer.InvoiceStore.
func (s *Store) Invoice(ctx context.Context, orgIDs []string, id string) (*costexplorer.Invoice, error) {
	return nil, notYet()
}

// Invoices implements costexplorer.InvoiceStore.
func (s *Store) Invoices(ctx context.Context, q *costexplorer.InvoiceListQuery, now time.Time) ([]*costexplorer.Invoice, int, error) {
	return nil, 0, notYet()
}

// PendingInvoice implements costexplorer.InvoiceStore.
func (s *Store) PendingInvoice(ctx context.Context, orgID string, now time.Time) (*costexplorer.Invoice, error) {
	return nil, notYet()
}

// InvoiceLines implements costexplorer.InvoiceStore.
func (s *Store) InvoiceLines(ctx context.Context, invoiceID string, fn func(*costexplorer.InvoiceLine) error) error {
	return notYet()
}

// InvoiceTagKeys implements costexplorer.InvoiceStore.
func (s *Store) InvoiceTagKeys(ctx context.Context, invoiceID string) ([]string, error) {
	return nil, notYet()
}

// SearchLineItems implements costexplorer.InvoiceStore.
func (s *Store) SearchLineItems(ctx context.Context, invoiceID string, q *costexplorer.LineItemSearch, page costexplorer.PageRequest) ([]*costexplorer.InvoiceLine, int, error) {
	return nil, 0, notYet()
}
