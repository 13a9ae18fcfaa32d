package costexplorer

import (
	"context"
	"time"
)

// SyncMark records what a sync brought of one invoice of a source (DESIGN
// §5.3): the invoice's updated stamp at the source and the number of line
// items it had then. A sync stores its marks in the transaction of the
// items they describe ([UsageBatch.Synced]), so that a mark never claims
// items the store lacks, whatever the moment a sync is killed; the next sync
// reads them back ([SyncStore.SyncMarks]) to skip closed invoices unchanged
// since.
type SyncMark struct {
	// Source names where the invoice came from (the base URL a sync read,
	// with its organization); marks of different sources never mix.
	Source string
	// InvoiceID is the invoice's 24-hex id.
	InvoiceID string
	// SourceUpdated is the invoice's updated time at the source.
	SourceUpdated time.Time
	// Items is how many line items the source listed for the invoice.
	Items int
	// SyncedAt is when the sync stored them; zero: the store's clock.
	SyncedAt time.Time
}

// Validate checks a mark before ingest; errors are ErrValidation.
func (m *SyncMark) Validate() error {
	switch {
	case m.Source == "":
		return Errorf(ErrValidation, "sync mark of invoice %s: the source is required", m.InvoiceID)
	case !IsID(m.InvoiceID):
		return Errorf(ErrValidation, "sync mark: invalid invoice id %q", m.InvoiceID)
	case m.Items < 0:
		return Errorf(ErrValidation, "sync mark of invoice %s: negative item count", m.InvoiceID)
	}
	return nil
}

// SyncStore keeps what a sync needs to resume and to run on one replica at a
// time: the marks of the invoices it synced and named leases.
type SyncStore interface {
	// SyncMarks returns the marks of source, ordered by invoice id.
	SyncMarks(ctx context.Context, source string) ([]SyncMark, error)

	// AcquireLease takes the lease name for holder until ttl from the
	// store's clock and reports true, when the lease is free, expired or
	// held by holder already (which renews it); it reports false, changing
	// nothing, while another holder's lease runs. Every replica sharing the
	// store sees the same lease.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease frees the lease name if holder holds it; otherwise it
	// does nothing.
	ReleaseLease(ctx context.Context, name, holder string) error
	// Lease returns the holder of the lease name and when it expires (which
	// may be past: an expired lease is free to take); "" and the zero time
	// when nobody took or holds it.
	Lease(ctx context.Context, name string) (holder string, expires time.Time, err error)
}
