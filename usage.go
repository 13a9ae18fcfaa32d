package costexplorer

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
)

// LineItemID is the stable identity of a usage line item, and so the key that
// makes ingesting the same data twice a no-op. It is 128 bits, derived from
// the item's source (see [NewLineItemID]). An id names one charge of one
// resource on one day: every source must derive it from (at least) the
// organization, project, cluster and day, which the stores cluster their
// line items by. The SKU, its service and unit may map differently in a later
// release; an item stored again under the same id is still a duplicate.
type LineItemID [16]byte

// NewLineItemID derives a line-item id from the given parts (for an invoice
// CSV row: the row's content and its occurrence among identical rows).
func NewLineItemID(parts ...string) LineItemID {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var id LineItemID
	copy(id[:], h.Sum(nil))
	return id
}

// String returns the id as 32 hex characters.
func (id LineItemID) String() string { return hex.EncodeToString(id[:]) }

// LineItem is one usage charge: a quantity of a SKU used by an organization,
// optionally within a project and a cluster, on one day. AmountCents is the
// charge; negative for credits. ProjectID and ClusterID are empty for charges
// that belong to no project or cluster (Support, Credits): such charges are
// partial matches for project and cluster filters (DESIGN §1.4).
//
// The fields after Amount are what an invoice shows of the item (DESIGN
// §5.1, the invoice CSV and InvoiceLineItem); they are zero for sources that
// do not carry them, and a store that does not keep them yet ignores them.
// InvoiceID is the invoice the item belongs to (empty: the derived invoice of
// its organization and month, see [LineItem.Invoice]); BillDate the day the
// charge was billed (0: the usage day); Application the App Services
// application; DiscountPercent (0 to 100) and Discount (cents, ≥ 0) what was
// taken off before Amount; Tags the resource's tags as they were on the usage
// day.
type LineItem struct {
	ID             LineItemID
	OrgID          string
	ProjectID      string
	ClusterID      string
	Service        Service
	SKU            string
	Date           Day
	Quantity       float64
	Unit           string
	UnitPriceNanos int64 // unit price in billionths of a dollar; descriptive only
	Amount         Cents

	InvoiceID       string
	BillDate        Day
	Description     string
	Note            string
	Region          string
	ReplicaSet      string
	ConfigServer    string
	Application     string
	DiscountPercent float64
	Discount        Cents
	Tags            Tags
}

// Month returns the billing month of the item.
func (li *LineItem) Month() Month { return li.Date.Month() }

// Validate checks an item before ingest; errors are ErrValidation.
func (li *LineItem) Validate() error { return li.validate(nil) }

// validate is [LineItem.Validate]; an id or service equal to the one of
// prev, an item found valid, is not checked again (a batch's items mostly
// share their organization, project, cluster, invoice and service with the
// item before them). prev may be nil.
func (li *LineItem) validate(prev *LineItem) error {
	bad := func(format string, args ...any) error {
		return Errorf(ErrValidation, "line item %s: "+format, append([]any{li.ID}, args...)...)
	}
	if prev == nil {
		prev = &LineItem{}
	}
	// id reports whether s is an id: s is, when prev had it (non-empty).
	id := func(s, prev string) bool { return s != "" && s == prev || IsID(s) }
	switch {
	case !id(li.OrgID, prev.OrgID):
		return bad("invalid organization id %q", li.OrgID)
	case li.ProjectID != "" && !id(li.ProjectID, prev.ProjectID):
		return bad("invalid project id %q", li.ProjectID)
	case li.ClusterID != "" && !id(li.ClusterID, prev.ClusterID):
		return bad("invalid cluster id %q", li.ClusterID)
	case li.ClusterID != "" && li.ProjectID == "":
		return bad("a cluster charge needs its project")
	case math.IsNaN(li.Quantity) || math.IsInf(li.Quantity, 0):
		return bad("quantity must be a finite number")
	case li.InvoiceID != "" && !id(li.InvoiceID, prev.InvoiceID):
		return bad("invalid invoice id %q", li.InvoiceID)
	case li.BillDate < 0:
		return bad("bill date before 1970")
	case !(li.DiscountPercent >= 0 && li.DiscountPercent <= 100):
		return bad("discount percent must be from 0 to 100")
	case li.Discount < 0:
		return bad("discount cannot be negative")
	}
	if li.Service != prev.Service || li.Service == "" {
		if _, ok := ParseService(string(li.Service)); !ok {
			return bad("unknown service %q", li.Service)
		}
	}
	return nil
}

// validateItems validates each item, as [LineItem.Validate] does, and
// returns the first error.
func validateItems(items []LineItem) error {
	var prev *LineItem
	for i := range items {
		if err := items[i].validate(prev); err != nil {
			return err
		}
		prev = &items[i]
	}
	return nil
}

// UsageBatch is a unit of ingest: the dimensions it mentions (created, or
// renamed if they exist) and its line items. A store ingests a batch in one
// transaction: all of it or none of it.
type UsageBatch struct {
	Organizations []Organization
	Projects      []Project
	Clusters      []Cluster
	Items         []LineItem

	// Invoices records what a source says of invoices beyond their items
	// (an import, a sync, the demo): for each, the invoice of its
	// organization and month is created if missing, and its RecordedStatus,
	// Issued, SalesTax, StartingBalance, Payments and Refunds replace those
	// stored. Created and Updated, when set, replace the stored stamps once
	// the ingest has moved the invoice (a sync keeps its source's); zero,
	// the store keeps its own (the ingest's clock). Amounts and Linked are
	// ignored: the store derives them. An id other than the stored invoice's
	// of that organization and month is ErrConflict.
	Invoices []Invoice

	// ReplaceInvoices restates invoices: it lists the 24-hex ids of
	// invoices whose stored line items the batch replaces. Every item stored
	// before the batch (before the session, for a [UsageSession], where the
	// list of a chunk holds for the later chunks too) that belongs to a
	// listed invoice and is not among the batch's items is deleted, an item
	// stored with the same id but another content is replaced, and an item
	// stored alike is left as it is (a duplicate); the rollup and the
	// invoices' amounts move by the difference, in the ingest's one
	// transaction, so that a reader sees the invoice before or after, never
	// a mix. An id that no stored invoice has is allowed: the batch's first
	// item creates the invoice, as always. Every item of a batch that lists
	// invoices must belong to a listed invoice (the invoice of its
	// organization and month), else the batch is ErrValidation; and a
	// session cannot list an invoice that its earlier chunks added items to
	// without listing it (ErrValidation: which items were there before
	// would be ambiguous).
	ReplaceInvoices []string

	// Synced records what a sync brought (see [SyncMark]), upserted by
	// source and invoice in the ingest's transaction.
	Synced []SyncMark
}

// Validate checks everything in the batch that needs no store: the ids and
// names of its dimensions and every item. Errors are ErrValidation. That the
// references resolve (an item's project belongs to its organization, …) is
// the store's to check, against what it holds.
func (b *UsageBatch) Validate() error {
	for _, id := range b.ReplaceInvoices {
		if !IsID(id) {
			return Errorf(ErrValidation, "replace invoices: invalid invoice id %q", id)
		}
	}
	return cmp.Or(validateAll(b.Organizations), validateAll(b.Projects), validateAll(b.Clusters), validateItems(b.Items),
		validateAll(b.Invoices), validateAll(b.Synced))
}

// validateAll validates each element of s and returns the first error.
func validateAll[T any, PT interface {
	*T
	Validate() error
}](s []T) error {
	for i := range s {
		if err := PT(&s[i]).Validate(); err != nil {
			return err
		}
	}
	return nil
}

// IngestResult reports what an ingest changed. Inserted counts the items
// stored, Duplicates those skipped as stored already (alike, for a
// replaced invoice), Removed the items of replaced invoices deleted (those
// the batch no longer holds, and the old content of those it changed, which
// count in Inserted too). Deltas are the rollup cells the batch moved (by
// new items, and by removed ones with the opposite amount), so an
// in-process engine can apply them without re-reading the store.
// DataVersion is the store's version after the ingest.
type IngestResult struct {
	Inserted    int
	Duplicates  int
	Removed     int
	Deltas      []RollupRow
	DataVersion int64
}

// RollupRow is one cell of the monthly rollup: the sum of the amounts of all
// line items of one month, organization, project, cluster and service.
// ProjectID and ClusterID are empty for charges without them.
type RollupRow struct {
	Month     Month
	OrgID     string
	ProjectID string
	ClusterID string
	Service   Service
	Amount    Cents
}

// UsageStats summarises what a store holds.
type UsageStats struct {
	LineItems     int64
	RollupRows    int64
	Organizations int64
	Projects      int64
	Clusters      int64
	Total         Cents
	FirstDay      Day
	LastDay       Day
	DataVersion   int64
}
