package costexplorer

import (
	"context"
	"time"
)

// OrganizationStore keeps organizations and their links.
type OrganizationStore interface {
	// CreateOrganization stores o; ErrConflict if its id exists.
	CreateOrganization(ctx context.Context, o *Organization) error
	// Organization returns the organization with id, or ErrNotFound.
	Organization(ctx context.Context, id string) (*Organization, error)
	// Organizations lists organizations matching f, ordered by name then id,
	// with the total count of matches before paging.
	Organizations(ctx context.Context, f OrganizationFilter) ([]*Organization, int, error)
	// LinkOrganization makes linkedID a linked organization of payingID;
	// ErrNotFound if either is missing, ErrValidation if payingID is itself
	// linked or linkedID pays for others.
	LinkOrganization(ctx context.Context, payingID, linkedID string) error
	// LinkedOrganizations returns the ids of the organizations linked to payingID.
	LinkedOrganizations(ctx context.Context, payingID string) ([]string, error)
}

// UsageStore keeps usage line items, their dimensions and the monthly and
// daily rollups.
type UsageStore interface {
	// IngestUsage stores a batch in one transaction: dimensions are created or
	// renamed, items whose id is already stored are skipped, and the rollup
	// gains the amounts of the new items; the invoices the batch lists in
	// ReplaceInvoices are restated (their items replaced, the rollup and
	// their amounts moved by the difference), and its sync marks recorded. A
	// batch that fails validation or references unknown dimensions changes
	// nothing.
	IngestUsage(ctx context.Context, b *UsageBatch) (IngestResult, error)

	// DataVersion returns a number that changes whenever usage data changes
	// (on any replica). Tokens and the engine's cache are keyed by it.
	DataVersion(ctx context.Context) (int64, error)

	// ScanRollup calls fn for every rollup row.
	ScanRollup(ctx context.Context, fn func(*RollupRow) error) error

	// ScanDailyRollup calls fn for every cell of the daily rollup that holds
	// line items, by organization and month (a month's cells together).
	ScanDailyRollup(ctx context.Context, fn func(*DailyRollupRow) error) error

	// ScanLineItems calls fn for every line item (for verification and tests).
	ScanLineItems(ctx context.Context, fn func(*LineItem) error) error

	// Projects returns every project; Clusters every cluster.
	Projects(ctx context.Context) ([]*Project, error)
	Clusters(ctx context.Context) ([]*Cluster, error)

	// UsageStats summarises the stored usage.
	UsageStats(ctx context.Context) (UsageStats, error)
}

// Store is everything a server needs from its database. internal/sqlite and
// internal/postgres implement it, and internal/storetest checks that both
// behave alike.
type Store interface {
	OrganizationStore
	UsageStore
	InvoiceStore
	ProcessStore
	InvoiceReportStore
	CredentialStore
	SyncStore

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Verifier is implemented by stores that can check their own invariants.
type Verifier interface {
	// Verify recomputes the rollup from the line items and checks referential
	// integrity, returning one line per difference (none when consistent).
	Verify(ctx context.Context) ([]string, error)
}

// Clock returns the current time. Components take one so tests can pin it.
type Clock func() time.Time
