package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/focus"
)

// ReportStore is what Reports needs of the database: the report rows and
// their files, and what a FOCUS export reads. Every costexplorer.Store
// satisfies it.
type ReportStore interface {
	costexplorer.InvoiceReportStore
	focus.Store
}

// ReportConfig configures Reports. Zero values take the defaults in
// parentheses.
type ReportConfig struct {
	Store ReportStore

	Workers      int           // concurrent reports per replica (1: a report is one long stream)
	Lease        time.Duration // how long a claim lasts before another replica may take it over (30 s)
	PollInterval time.Duration // how often idle workers look for reports created elsewhere (250 ms)
	TTL          time.Duration // how long a report is listed and downloadable, from its creation and again from its success (24 h)
	MaxAttempts  int           // claims before a report is marked failed (5)
	JanitorEvery time.Duration // how often expired reports are removed (1 min)
	ChunkBytes   int           // the size of the chunks the file is stored in (256 KiB)
	Now          func() time.Time
	Owner        string // this replica's lease owner name (DefaultOwner)
	Logger       *slog.Logger
}

// Reports creates invoice reports and makes them (DESIGN §5.4). Like query
// processes, a report is a row: any replica's worker claims it under a
// lease, writes the invoice's FOCUS file into the store in chunks, and marks
// it succeeded; a report whose replica crashed is claimed again once the
// lease lapses.
type Reports struct {
	cfg  ReportConfig
	pool *pool
}

// NewReports returns Reports; call Start to run its workers.
func NewReports(cfg ReportConfig) *Reports {
	positive(&cfg.Workers, 1)
	positive(&cfg.Lease, 30*time.Second)
	positive(&cfg.PollInterval, 250*time.Millisecond)
	positive(&cfg.TTL, 24*time.Hour)
	positive(&cfg.MaxAttempts, 5) // as for query processes
	positive(&cfg.JanitorEvery, time.Minute)
	positive(&cfg.ChunkBytes, 256<<10)
	identity(&cfg.Now, &cfg.Owner, &cfg.Logger)
	r := &Reports{cfg: cfg}
	r.pool = &pool{
		workers: cfg.Workers, poll: cfg.PollInterval, janitorEvery: cfg.JanitorEvery,
		runOne: r.runOne, sweep: r.sweep, wake: make(chan struct{}, cfg.Workers),
		release: func(ctx context.Context) error { return cfg.Store.ReleaseInvoiceReportLeases(ctx, cfg.Owner) },
	}
	return r
}

// Owner returns the lease owner name of this replica's workers.
func (r *Reports) Owner() string { return r.cfg.Owner }

// Create accepts a validated request for a report of the invoice
// invoiceID, which the caller found through orgID, and returns the pending
// report.
func (r *Reports) Create(ctx context.Context, orgID, invoiceID string, req *costexplorer.InvoiceReportRequest) (*costexplorer.InvoiceReport, error) {
	now := r.cfg.Now().UTC()
	rep := &costexplorer.InvoiceReport{
		ID: costexplorer.NewReportID(now), OrgID: orgID, InvoiceID: invoiceID,
		Type: req.Type, Format: req.Format, SpecVersion: req.SpecVersion,
		State:     costexplorer.ReportPending,
		CreatedAt: time.UnixMicro(now.UnixMicro()).UTC(),
		ExpiresAt: time.UnixMicro(now.Add(r.cfg.TTL).UnixMicro()).UTC(),
	}
	if err := r.cfg.Store.CreateInvoiceReport(ctx, rep); err != nil {
		return nil, fmt.Errorf("create invoice report: %w", err)
	}
	r.pool.poke()
	return rep, nil
}

// InvoiceReport returns the store's report (see
// costexplorer.InvoiceReportStore).
func (r *Reports) InvoiceReport(ctx context.Context, orgID, invoiceID, id string, now time.Time) (*costexplorer.InvoiceReport, error) {
	return r.cfg.Store.InvoiceReport(ctx, orgID, invoiceID, id, now)
}

// InvoiceReports returns the store's page of reports.
func (r *Reports) InvoiceReports(ctx context.Context, orgID, invoiceID string, now time.Time, page costexplorer.PageRequest) ([]*costexplorer.InvoiceReport, int, error) {
	return r.cfg.Store.InvoiceReports(ctx, orgID, invoiceID, now, page)
}

// InvoiceReportFile streams a succeeded report's file from the store.
func (r *Reports) InvoiceReportFile(ctx context.Context, id string, now time.Time, fn func([]byte) error) error {
	return r.cfg.Store.InvoiceReportFile(ctx, id, now, fn)
}

// Start runs the workers and the janitor until Stop is called or ctx ends.
func (r *Reports) Start(ctx context.Context) { r.pool.start(ctx) }

// Stop stops claiming reports, waits for those in flight (bounded by ctx)
// and hands back the leases still held.
func (r *Reports) Stop(ctx context.Context) error {
	if err := r.pool.stop(ctx); err != nil {
		return fmt.Errorf("release report leases: %w", err)
	}
	return nil
}

// RunOne claims and makes one report, if there is one to claim, and reports
// whether it found one (for tests that are the only worker).
func (r *Reports) RunOne(ctx context.Context) bool { return r.runOne(ctx) }

func (r *Reports) runOne(ctx context.Context) bool {
	return runClaimed(ctx, &claimed[*costexplorer.InvoiceReport]{
		what: "invoice report", verb: "make", logger: r.cfg.Logger, maxAttempts: r.cfg.MaxAttempts,
		claim: func(ctx context.Context) (*costexplorer.InvoiceReport, error) {
			return r.cfg.Store.ClaimInvoiceReport(ctx, r.cfg.Owner, r.cfg.Now(), r.cfg.Lease)
		},
		attempts: func(rep *costexplorer.InvoiceReport) int { return rep.Attempts },
		log: func(rep *costexplorer.InvoiceReport) *slog.Logger {
			return r.cfg.Logger.With("report", rep.ID, "invoice", rep.InvoiceID, "attempt", rep.Attempts)
		},
		run: r.run,
		fail: func(ctx context.Context, rep *costexplorer.InvoiceReport, reason string, _ time.Duration, log *slog.Logger) {
			r.fail(ctx, rep, reason, log)
		},
		// A missing invoice or an unknown version fails at once: no other
		// try can make them.
		failNow: func(err error) (string, bool) {
			code := costexplorer.ErrorCode(err)
			return "The report could not be generated.", code == costexplorer.ErrNotFound || code == costexplorer.ErrValidation
		},
	})
}

// run makes the file of rep and marks it succeeded.
func (r *Reports) run(ctx context.Context, rep *costexplorer.InvoiceReport, log *slog.Logger, start time.Time) error {
	size, err := r.make(ctx, rep)
	if err != nil {
		return err
	}
	now := r.cfg.Now()
	if err := r.cfg.Store.FinishInvoiceReport(ctx, rep.ID, r.cfg.Owner, rep.Attempts, size, now, now.Add(r.cfg.TTL)); err != nil {
		log.Warn("finish invoice report", "err", err)
		return nil
	}
	log.Debug("invoice report done", "duration", time.Since(start), "bytes", size)
	return nil
}

// make writes the file of rep into the store and returns its size.
func (r *Reports) make(ctx context.Context, rep *costexplorer.InvoiceReport) (int64, error) {
	st := r.cfg.Store
	orgs := []string{rep.OrgID}
	linked, err := st.LinkedOrganizations(ctx, rep.OrgID)
	if err != nil {
		return 0, err
	}
	inv, err := st.Invoice(ctx, append(orgs, linked...), rep.InvoiceID)
	if err != nil {
		return 0, err
	}
	w := &chunkWriter{ctx: ctx, st: st, id: rep.ID, attempt: rep.Attempts, buf: make([]byte, 0, r.cfg.ChunkBytes)}
	if err := r.Generate(ctx, inv, rep.SpecVersion, w); err != nil {
		return 0, err
	}
	if err := w.flush(); err != nil {
		return 0, err
	}
	return w.size, nil
}

// Generate writes the file of a report of inv at FOCUS specVersion to w:
// the gzip CSV a report's run stores, and what the preview
// generateOrgInvoiceAndDownloadReport answers at once. Memory stays
// bounded whatever the invoice's size: items stream from the store.
func (r *Reports) Generate(ctx context.Context, inv *costexplorer.Invoice, specVersion string, w io.Writer) error {
	spec, err := focus.ParseSpec(specVersion)
	if err != nil {
		// Validated by the request's parser: only a report row written by
		// another version of the server gets here, and another try cannot
		// succeed.
		return costexplorer.Errorf(costexplorer.ErrValidation, "%v", err)
	}
	_, err = focus.ExportInvoice(ctx, r.cfg.Store, inv, focus.Request{Spec: spec, Format: focus.CSV}, w)
	return err
}

func (r *Reports) fail(ctx context.Context, rep *costexplorer.InvoiceReport, reason string, log *slog.Logger) {
	if err := r.cfg.Store.FailInvoiceReport(ctx, rep.ID, r.cfg.Owner, reason, r.cfg.Now()); err != nil {
		log.Warn("fail invoice report", "err", err)
	}
}

// sweep removes expired reports and their files.
func (r *Reports) sweep(ctx context.Context) {
	if n, err := r.cfg.Store.DeleteExpiredInvoiceReports(ctx, r.cfg.Now()); err != nil {
		r.cfg.Logger.Warn("delete expired invoice reports", "err", err)
	} else if n > 0 {
		r.cfg.Logger.Info("deleted expired invoice reports", "count", n)
	}
}

// chunkWriter stores what is written to it as chunks of the file of one
// attempt of a report, holding at most one chunk in memory.
type chunkWriter struct {
	ctx     context.Context
	st      costexplorer.InvoiceReportStore
	id      string
	attempt int
	seq     int
	size    int64
	buf     []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush stores the buffered bytes as the next chunk.
func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.st.WriteInvoiceReportChunk(w.ctx, w.id, w.attempt, w.seq, w.buf); err != nil {
		return err
	}
	w.seq++
	w.size += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}
