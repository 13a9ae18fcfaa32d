package atlassync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/importer"
)

// Store is what a sync needs of the target store.
type Store interface {
	costexplorer.UsageSessionStore
	IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error)
	Organization(ctx context.Context, id string) (*costexplorer.Organization, error)
	SyncMarks(ctx context.Context, source string) ([]costexplorer.SyncMark, error)
}

// Config is one sync: where from, where to, and how.
type Config struct {
	// Client calls the source, with its credentials (see NewClient).
	Client *client.Client
	// Store is the target.
	Store Store
	// Source names the source in the store's sync marks (the client's base
	// URL when empty).
	Source string
	// Orgs are the organizations to sync (with their linked
	// organizations); empty means every organization the credential lists.
	Orgs []string
	// DryRun lists what a sync would bring without bringing it: no invoice
	// is downloaded and nothing is written.
	DryRun bool
	// Concurrency is how many organizations' invoices are on their way at
	// a time, downloaded or downloading and not yet imported (2 when 0: the
	// next organization's download while one imports; see runUnits). Each
	// organization's invoices go one after the other, oldest first.
	Concurrency int
	// ExactOrder numbers line items as the source's line-item search
	// orders them, at the cost of reading that search (one request per 500
	// items, and a key per item of an invoice in memory), so that searches
	// break ties of a day as the source does (see order.go). Without it
	// every other answer is the source's already.
	ExactOrder bool
	// TempDir holds the invoices downloaded before they are imported (the
	// system's temporary directory when empty).
	TempDir string
	// Attempts is how many times one invoice is tried when its download
	// fails half-way (3 when 0).
	Attempts int
	// Now is the clock (time.Now when nil): the sync marks' time, and the
	// date on which a status is judged derivable.
	Now func() time.Time
	// Requests, when set, counts the requests sent (see RequestCounter).
	Requests *RequestCounter
	// Progress, when set, is called after each invoice.
	Progress func(Progress)
	// Logger receives a line per invoice brought over (discarded when nil).
	Logger *slog.Logger
}

// Progress is where a running sync is.
type Progress struct {
	Invoices, Total int // invoices done, and to do
	Items           int // line items brought so far
	Elapsed         time.Duration
}

// Reason says why an invoice is (or is not) brought over.
type Reason string

// The reasons.
const (
	ReasonNew       Reason = "new"       // never synced
	ReasonChanged   Reason = "changed"   // its updated stamp moved since the last sync
	ReasonPending   Reason = "pending"   // pending: restated on every run
	ReasonUnchanged Reason = "unchanged" // closed and unchanged: skipped
)

// InvoicePlan is one invoice of the source and what the sync does with it.
type InvoicePlan struct {
	OrgID, InvoiceID string
	Month            costexplorer.Month
	Status           costexplorer.InvoiceStatus
	Updated          time.Time
	Reason           Reason
	// PreviousItems is how many items the last sync brought (0: none).
	PreviousItems int
	// Items is how many it brought this time (0 for a dry run or a skip).
	Items int
}

// Report is what a sync did (or, for a dry run, would do).
type Report struct {
	Orgs     int
	Invoices []InvoicePlan
	// Synced invoices were brought over; Unchanged ones skipped.
	Synced, Unchanged int
	// Items were written; Restated are the items they replaced.
	Items, Restated int
	Requests        int64
	Duration        time.Duration
}

// Run syncs the store from the source. It returns the report of what was
// done even on an error (every invoice it lists as synced is in the store);
// an error of one organization does not stop the others, and the errors are
// joined.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	s := &syncer{cfg: cfg, rep: &Report{}, planned: map[string]bool{}}
	s.setDefaults()
	start := time.Now()
	var before int64
	if cfg.Requests != nil {
		before = cfg.Requests.Count()
	}
	ctx, cancel := context.WithCancel(ctx)
	err := s.run(ctx)
	cancel() // what the background reads still do is no longer wanted
	s.bg.Wait()
	s.rep.Duration = time.Since(start)
	for _, p := range s.plans {
		s.rep.Invoices = append(s.rep.Invoices, *p)
	}
	if cfg.Requests != nil {
		s.rep.Requests = cfg.Requests.Count() - before
	}
	return s.rep, err
}

type syncer struct {
	cfg     Config
	rep     *Report
	marks   map[string]costexplorer.SyncMark
	plans   []*InvoicePlan  // every invoice listed, in order (the report's)
	planned map[string]bool // the invoice ids in plans

	mu    sync.Mutex // guards rep and done while units run
	done  int
	start time.Time

	// What the organizations' invoices need besides their CSVs, read in
	// the background while the CSVs download and import (see background).
	paymentReads []*paymentRead
	clusterReads []*clusterRead
	bg           sync.WaitGroup
}

func (s *syncer) setDefaults() {
	c := &s.cfg
	if c.Source == "" {
		c.Source = c.Client.BaseURL()
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 2
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// unit is the invoices of one organization to bring over, oldest first,
// read through the path of the organization listed (a paying
// organization's credential reads its linked organizations' invoices there).
type unit struct {
	org      costexplorer.Organization // Name empty when not listed
	pathOrg  string
	invoices []*planned
	// clusters is set by the organization's clusterRead, once read is done.
	clusters clusterIDs
	read     *done
}

// size is how much the unit brings, as the list tells it: the sum of its
// invoices' charges, in the magnitude of their items'.
func (u *unit) size() int64 {
	var n int64
	for _, p := range u.invoices {
		n += max(int64(p.src.Subtotal), -int64(p.src.Subtotal))
	}
	return n
}

// planned is an invoice to bring over, with what the source said of it.
type planned struct {
	plan *InvoicePlan
	src  *client.Invoice
	meta costexplorer.Invoice
	// payments, when the invoice has some, is the paymentRead that sets
	// meta's payments and refunds.
	payments *done
}

func (s *syncer) run(ctx context.Context) error {
	s.start = time.Now()
	orgs, err := s.organizations(ctx)
	if err != nil {
		return err
	}
	s.rep.Orgs = len(orgs)
	marks, err := s.cfg.Store.SyncMarks(ctx, s.cfg.Source)
	if err != nil {
		return fmt.Errorf("read the sync marks: %w", err)
	}
	s.marks = make(map[string]costexplorer.SyncMark, len(marks))
	for _, m := range marks {
		s.marks[m.InvoiceID] = m
	}
	var units []*unit
	var links []costexplorer.Organization // linked organizations, PayingOrgID set
	for _, o := range orgs {
		us, ls, err := s.plan(ctx, o)
		if err != nil {
			return err
		}
		units = append(units, us...)
		links = append(links, ls...)
	}
	if s.cfg.DryRun {
		return nil
	}
	// The smallest first (by their amounts: the list tells no item
	// counts), so that the imports start as soon as possible and the
	// larger units download while they run. The order of organizations
	// does not show in any answer.
	slices.SortStableFunc(units, func(a, b *unit) int { return cmp.Compare(a.size(), b.size()) })
	s.background(ctx)
	if err := s.runUnits(ctx, units); err != nil {
		return err
	}
	return s.link(ctx, links)
}

// organizations lists the organizations to sync.
func (s *syncer) organizations(ctx context.Context) ([]costexplorer.Organization, error) {
	var out []costexplorer.Organization
	if len(s.cfg.Orgs) > 0 {
		for _, id := range s.cfg.Orgs {
			var o *client.Organization
			err := s.retry(ctx, "organization "+id, func() (err error) {
				o, err = s.cfg.Client.Organization(ctx, id)
				return err
			})
			if err != nil {
				return nil, err
			}
			out = append(out, costexplorer.Organization{ID: o.ID, Name: o.Name})
		}
		return out, nil
	}
	err := s.retry(ctx, "list the organizations", func() error {
		out = out[:0]
		for o, err := range s.cfg.Client.AllOrganizations(ctx, client.ListOptions{ItemsPerPage: 500}) {
			if err != nil {
				return err
			}
			out = append(out, costexplorer.Organization{ID: o.ID, Name: o.Name})
		}
		return nil
	})
	return out, err
}

// plan lists org's invoices and its linked organizations' and decides
// which to bring over; for those, it reads what the list lacks (payments,
// cluster ids).
func (s *syncer) plan(ctx context.Context, org costexplorer.Organization) ([]*unit, []costexplorer.Organization, error) {
	own := &unit{org: org, pathOrg: org.ID}
	linked := map[string]*unit{}
	var linkedOrder []string
	parent := map[string]string{} // linked invoice id → the paying organization's invoice of that month
	opts := client.InvoiceListOptions{SortBy: client.SortByStartDate, OrderBy: client.OrderAsc, ItemsPerPage: 500}
	var listed []client.Invoice
	err := s.retry(ctx, "list the invoices of "+org.ID, func() error {
		listed = listed[:0]
		for inv, err := range s.cfg.Client.AllInvoices(ctx, org.ID, opts) {
			if err != nil {
				return err
			}
			listed = append(listed, inv)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, inv := range listed {
		s.consider(own, &inv)
		for i := range inv.LinkedInvoices {
			l := &inv.LinkedInvoices[i]
			u := linked[l.OrgID]
			if u == nil {
				u = &unit{org: costexplorer.Organization{ID: l.OrgID, PayingOrgID: org.ID}, pathOrg: org.ID}
				linked[l.OrgID] = u
				linkedOrder = append(linkedOrder, l.OrgID)
			}
			s.consider(u, l)
			parent[l.ID] = inv.ID
		}
	}
	units := []*unit{own}
	var links []costexplorer.Organization
	for _, id := range linkedOrder {
		units = append(units, linked[id])
		links = append(links, linked[id].org)
	}
	if s.cfg.DryRun {
		return units, links, nil
	}
	s.planPayments(org.ID, units, parent)
	cr := &clusterRead{orgID: org.ID, units: units, done: newDone()}
	for _, u := range units {
		u.read = cr.done
	}
	s.clusterReads = append(s.clusterReads, cr)
	return units, links, nil
}

// consider decides whether inv is brought over and notes it in the report
// and, if so, in u.
func (s *syncer) consider(u *unit, inv *client.Invoice) {
	if s.planned[inv.ID] {
		return // listed twice: as a linked invoice and as an organization's own
	}
	s.planned[inv.ID] = true
	mark, seen := s.marks[inv.ID]
	p := &InvoicePlan{OrgID: inv.OrgID, InvoiceID: inv.ID, Month: inv.Month(), Status: inv.StatusName, Updated: inv.Updated}
	switch {
	case !seen:
		p.Reason = ReasonNew
	case inv.StatusName == client.InvoicePending:
		p.Reason = ReasonPending
	case !mark.SourceUpdated.Equal(inv.Updated):
		p.Reason = ReasonChanged
	default:
		p.Reason = ReasonUnchanged
	}
	if seen {
		p.PreviousItems = mark.Items
	}
	s.plans = append(s.plans, p)
	if p.Reason == ReasonUnchanged {
		s.rep.Unchanged++
		return
	}
	src := *inv
	src.LinkedInvoices = nil
	u.invoices = append(u.invoices, &planned{plan: p, src: &src, meta: metadata(&src)})
}

// metadata is what the store records of an invoice beyond its items, as
// far as the list tells it (payments and refunds come from the invoice
// itself, see readPayments).
func metadata(inv *client.Invoice) costexplorer.Invoice {
	return costexplorer.Invoice{
		ID: inv.ID, OrgID: inv.OrgID, Month: inv.Month(), Created: inv.Created, Updated: inv.Updated,
		SalesTax: inv.SalesTax, StartingBalance: inv.StartingBalance,
	}
}

// needsPayments reports whether the list's view of inv suggests payments or
// refunds, which only the invoice itself lists: money paid, or a status
// that payments decide. A pending, closed, issued or free invoice with
// nothing paid has none, which saves reading the invoice (all its items, as
// JSON) on every run.
func needsPayments(inv *client.Invoice) bool {
	switch inv.StatusName {
	case client.InvoicePending, client.InvoiceClosed, client.InvoiceInvoiced, client.InvoiceFree:
		return inv.AmountPaid != 0
	}
	return true
}

// planPayments plans the reads of the payments and refunds of the planned
// invoices that have some, one invoice document per month: the paying
// organization's carries its linked organizations' invoices of that month.
func (s *syncer) planPayments(orgID string, units []*unit, parent map[string]string) {
	reads := map[string]*paymentRead{} // by document id
	for _, u := range units {
		for _, p := range u.invoices {
			if !needsPayments(p.src) {
				continue
			}
			doc := cmp.Or(parent[p.src.ID], p.src.ID)
			r := reads[doc]
			if r == nil {
				r = &paymentRead{orgID: orgID, doc: doc, done: newDone()}
				reads[doc] = r
				s.paymentReads = append(s.paymentReads, r)
			}
			r.want = append(r.want, p)
			p.payments = r.done
		}
	}
}

// paymentRead is one invoice document to read for the payments and refunds
// of the planned invoices it informs (want).
type paymentRead struct {
	orgID, doc string
	want       []*planned
	done       *done
}

// read reads the document (its line items scanned past, not decoded: the
// CSVs bring them) and sets the payments and refunds of the invoices.
func (r *paymentRead) read(ctx context.Context, s *syncer) error {
	var full *client.Invoice
	err := s.retry(ctx, "invoice "+r.doc, func() (err error) {
		full, err = s.cfg.Client.StreamInvoice(ctx, r.orgID, r.doc, nil)
		return err
	})
	if err != nil {
		return err
	}
	byID := map[string]*client.Invoice{full.ID: full}
	for i := range full.LinkedInvoices {
		byID[full.LinkedInvoices[i].ID] = &full.LinkedInvoices[i]
	}
	for _, p := range r.want {
		if inv := byID[p.src.ID]; inv != nil {
			p.meta.Payments, p.meta.Refunds = payments(inv)
		}
	}
	return nil
}

// clusterRead is the cost-explorer query of an organization that names the
// clusters of its units (see clusterIDs).
type clusterRead struct {
	orgID string
	units []*unit
	done  *done
}

// done is closed when a background read is over; err says how it went.
type done struct {
	c   chan struct{}
	err error
}

func newDone() *done { return &done{c: make(chan struct{})} }

func (d *done) finish(err error) {
	d.err = err
	close(d.c)
}

// wait waits for the read, and returns its error.
func (d *done) wait(ctx context.Context) error {
	select {
	case <-d.c:
		return d.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// paymentReaders is how many invoice documents are read at a time for
// their payments. The first organization to import needs a document a
// month, each as large as the month's items of every organization: one
// reader at a time would hold its imports back.
const paymentReaders = 2

// background reads the payments and the cluster ids that the invoices will
// need, in the order the invoices import: neither waits for the CSVs, nor
// they for it, until an invoice is stored. The payments are the slow part:
// each paid month's document carries all of the month's items once more,
// as JSON. Run waits for the reads before it returns.
func (s *syncer) background(ctx context.Context) {
	var next atomic.Int64
	for range paymentReaders {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			for i := int(next.Add(1)) - 1; i < len(s.paymentReads); i = int(next.Add(1)) - 1 {
				r := s.paymentReads[i]
				r.done.finish(r.read(ctx, s))
			}
		}()
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		for _, r := range s.clusterReads {
			ids, err := s.clusterIDs(ctx, r.orgID, r.units)
			for _, u := range r.units {
				u.clusters = ids
			}
			r.done.finish(err)
		}
	}()
}

// payments converts the payments and refunds of an invoice.
func payments(inv *client.Invoice) ([]costexplorer.Payment, []costexplorer.Refund) {
	var ps []costexplorer.Payment
	for _, p := range inv.Payments {
		ps = append(ps, costexplorer.Payment{
			ID: p.ID, Created: p.Created, Updated: p.Updated, Status: costexplorer.PaymentStatus(p.StatusName),
			Currency: p.Currency, UnitPrice: p.UnitPrice, Subtotal: p.Subtotal, SalesTax: p.SalesTax,
			AmountBilled: p.AmountBilled, AmountPaid: p.AmountPaid,
		})
	}
	var rs []costexplorer.Refund
	for _, r := range inv.Refunds {
		rs = append(rs, costexplorer.Refund{PaymentID: r.PaymentID, Amount: r.Amount, Created: r.Created, Reason: r.Reason})
	}
	return ps, rs
}

// recordedStatus is the status to record for an invoice the source reports
// as src: none when the store, deriving it on date now from the amounts and
// payments it will hold, finds the same (then it moves on with time, as the
// source's does: CLOSED, then INVOICED, then PAID); the source's otherwise.
func recordedStatus(src *client.Invoice, meta *costexplorer.Invoice, now time.Time) costexplorer.InvoiceStatus {
	derived := *meta
	derived.Amounts = costexplorer.InvoiceAmounts{Charges: src.Subtotal, Credits: src.Credits}
	if derived.StatusAt(now) == src.StatusName {
		return ""
	}
	return src.StatusName
}

// runUnits brings the units over in a pipeline of two stages: one
// goroutine downloads each unit's invoices (stage) while this one imports
// the units downloaded before (importUnit). At most Concurrency units are
// on their way at a time (downloaded or downloading, and not yet
// imported): with the default 2, the next unit downloads while one
// imports. The store takes one write transaction at a time, so importing
// two units at once would gain nothing. An error stops its unit, not the
// others.
func (s *syncer) runUnits(ctx context.Context, units []*unit) error {
	total := 0
	for _, u := range units {
		total += len(u.invoices)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make(chan struct{}, s.cfg.Concurrency)
	ready := make(chan *staged, len(units))
	go func() {
		defer close(ready)
		for _, u := range units {
			if len(u.invoices) == 0 {
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			ready <- s.stage(ctx, u)
		}
	}()
	var errs []error
	for st := range ready {
		err := st.err
		if err == nil {
			err = s.importUnit(ctx, st, total)
		}
		if st.dir != "" {
			_ = os.RemoveAll(st.dir)
		}
		<-slots
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// staged is a unit whose invoices are downloaded, to temporary files.
type staged struct {
	u     *unit
	dir   string
	files []string
	dims  *dimOrder
	err   error
}

// stage downloads a unit's invoices, and reads the order of their projects
// and clusters on the way (see dims.go): a unit's invoices are imported
// once they are all here.
func (s *syncer) stage(ctx context.Context, u *unit) *staged {
	st := &staged{u: u, dims: newDimOrder()}
	st.dir, st.err = os.MkdirTemp(s.cfg.TempDir, "costexplorer-sync-")
	if st.err != nil {
		st.dir = ""
		return st
	}
	for _, p := range u.invoices {
		path := filepath.Join(st.dir, p.src.ID+".csv")
		what := fmt.Sprintf("download invoice %s of %s (%s)", p.src.ID, p.src.OrgID, p.plan.Month)
		var sc *dimScanner
		st.err = s.retry(ctx, what, func() (err error) {
			sc, err = s.download(ctx, u, p, path)
			return err
		})
		if st.err != nil {
			return st
		}
		st.dims.add(sc)
		st.files = append(st.files, path)
	}
	return st
}

// importUnit imports a downloaded unit's invoices, oldest first, and stops
// at the first that fails.
func (s *syncer) importUnit(ctx context.Context, st *staged, total int) error {
	u := st.u
	if err := u.read.wait(ctx); err != nil {
		return err
	}
	if err := s.createDims(ctx, u, st.dims); err != nil {
		return err
	}
	for i, p := range u.invoices {
		if p.payments != nil {
			if err := p.payments.wait(ctx); err != nil {
				return err
			}
		}
		p.meta.RecordedStatus = recordedStatus(p.src, &p.meta, s.cfg.Now())
		what := fmt.Sprintf("invoice %s of %s (%s)", p.src.ID, p.src.OrgID, p.plan.Month)
		if err := s.retry(ctx, what, func() error { return s.invoice(ctx, u, p, st.files[i]) }); err != nil {
			return err
		}
		_ = os.Remove(st.files[i])
		s.mu.Lock()
		s.rep.Synced++
		s.rep.Items += p.plan.Items
		s.rep.Restated += p.plan.PreviousItems
		s.done++
		prog := Progress{Invoices: s.done, Total: total, Items: s.rep.Items, Elapsed: time.Since(s.start)}
		s.mu.Unlock()
		s.cfg.Logger.Info("sync: invoice", "invoice", p.src.ID, "org", p.src.OrgID, "month", p.plan.Month.String(),
			"reason", string(p.plan.Reason), "items", p.plan.Items, "before", p.plan.PreviousItems)
		if s.cfg.Progress != nil {
			s.cfg.Progress(prog)
		}
	}
	return nil
}

// download writes the invoice's CSV to path, and returns what it read of
// its projects and clusters on the way.
func (s *syncer) download(ctx context.Context, u *unit, p *planned, path string) (*dimScanner, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	sc := newDimScanner()
	_, err = s.cfg.Client.InvoiceCSV(ctx, u.pathOrg, p.src.ID, io.MultiWriter(f, sc))
	return sc, errors.Join(err, f.Close())
}

// retry calls fn up to Attempts times while it fails in a way that may
// pass (a body cut short, a source that keeps failing past the client's own
// retries), waiting a little longer each time.
func (s *syncer) retry(ctx context.Context, what string, fn func() error) error {
	var err error
	for attempt := 0; attempt < s.cfg.Attempts; attempt++ {
		if attempt > 0 {
			s.cfg.Logger.Warn("sync: trying again", "what", what, "attempt", attempt+1, "err", err)
			select {
			case <-time.After(time.Duration(attempt) * 250 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err = fn(); err == nil || !retryable(ctx, err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// invoice brings one invoice over in one transaction: its old items out,
// the items of its CSV (downloaded to path) in, its metadata and its sync
// mark.
func (s *syncer) invoice(ctx context.Context, u *unit, p *planned, path string) error {
	ids := rowIDs(p.src.ID)
	if s.cfg.ExactOrder {
		r, err := s.sourceOrder(ctx, u, p.src)
		if err != nil {
			return err
		}
		ids = r.id
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sess, err := s.cfg.Store.BeginUsage(ctx)
	if err != nil {
		return err
	}
	defer sess.Rollback()
	first := &costexplorer.UsageBatch{ReplaceInvoices: []string{p.src.ID}}
	if u.org.Name != "" {
		first.Organizations = []costexplorer.Organization{{ID: u.org.ID, Name: u.org.Name}}
	}
	if err := sess.Add(ctx, first); err != nil {
		return err
	}
	sum, err := importer.ImportInto(ctx, sess, p.src.ID+".csv", f, importer.Options{ClusterID: u.clusters.lookup, ItemID: ids})
	if err != nil {
		return err
	}
	last := &costexplorer.UsageBatch{
		Invoices: []costexplorer.Invoice{p.meta},
		Synced: []costexplorer.SyncMark{{
			Source: s.cfg.Source, InvoiceID: p.src.ID, SourceUpdated: p.src.Updated, Items: sum.Rows, SyncedAt: s.cfg.Now(),
		}},
	}
	if err := sess.Add(ctx, last); err != nil {
		return err
	}
	if _, err := sess.Commit(ctx); err != nil {
		return err
	}
	p.plan.Items = sum.Rows
	return nil
}

// link records which organizations the paying ones pay for, once their
// invoices (and so the organizations, named by their rows) are stored.
func (s *syncer) link(ctx context.Context, links []costexplorer.Organization) error {
	var b costexplorer.UsageBatch
	for _, l := range links {
		o, err := s.cfg.Store.Organization(ctx, l.ID)
		if err != nil {
			if costexplorer.ErrorCode(err) == costexplorer.ErrNotFound {
				continue // no items yet: nothing to pay for
			}
			return err
		}
		if o.PayingOrgID != l.PayingOrgID {
			b.Organizations = append(b.Organizations, costexplorer.Organization{ID: o.ID, Name: o.Name, PayingOrgID: l.PayingOrgID})
		}
	}
	if len(b.Organizations) == 0 {
		return nil
	}
	if _, err := s.cfg.Store.IngestUsage(ctx, &b); err != nil {
		return fmt.Errorf("link the organizations: %w", err)
	}
	return nil
}

// retryable reports whether an invoice that failed with err may succeed if
// tried again: the source failed or the connection did, not the request.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae *client.APIError
	var ne net.Error
	var de *costexplorer.Error
	var ie *importer.ImportError
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &dns):
		return false // nobody there: the client has tried again already
	case errors.As(err, &ae):
		return ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= 500
	case errors.As(err, &ie), errors.As(err, &de):
		return false // the data or the request is at fault: it would fail again
	case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return true
	}
	return false
}
