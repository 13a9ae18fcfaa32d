package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/costexplorer/costexplorer"
)

const reportColumns = `id, org_id, invoice_id, report_type, report_format, spec_version, state,
	COALESCE(lease_owner, ''), lease_expires, attempts, failure_reason, file_size, created_at, completed_at, expires_at`

func scanReport(r Row) (*costexplorer.InvoiceReport, error) {
	v := new(struct {
		r                                 costexplorer.InvoiceReport
		state                             string
		attempts                          int64
		lease, created, completed, expire Time
	})
	p := &v.r
	if err := r.Scan(&p.ID, &p.OrgID, &p.InvoiceID, &p.Type, &p.Format, &p.SpecVersion, &v.state,
		&p.LeaseOwner, &v.lease, &v.attempts, &p.FailureReason, &p.Size, &v.created, &v.completed, &v.expire); err != nil {
		return nil, err
	}
	p.State, p.Attempts = costexplorer.ReportState(v.state), int(v.attempts)
	p.LeaseExpires, p.CreatedAt, p.CompletedAt, p.ExpiresAt = v.lease.Time, v.created.Time, v.completed.Time, v.expire.Time
	return p, nil
}

// CreateInvoiceReport stores r as a pending report; ErrConflict if its id
// exists.
func (s *Store) CreateInvoiceReport(ctx context.Context, r *costexplorer.InvoiceReport) error {
	if !costexplorer.IsID(r.ID) || !costexplorer.IsID(r.InvoiceID) || !costexplorer.IsID(r.OrgID) {
		return costexplorer.Errorf(costexplorer.ErrValidation, "invoice report %q: ids must be 24 lower-case hex characters", r.ID)
	}
	if r.ExpiresAt.IsZero() {
		return costexplorer.Errorf(costexplorer.ErrValidation, "invoice report %s: an expiry is required", r.ID)
	}
	created := r.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	return s.r.Write(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO invoice_reports
			(id, org_id, invoice_id, report_type, report_format, spec_version, state, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.OrgID, r.InvoiceID, r.Type, r.Format, r.SpecVersion, string(costexplorer.ReportPending),
			created.UnixMicro(), r.ExpiresAt.UnixMicro())
		return err
	})
}

// InvoiceReport returns the unexpired report id of invoiceID requested
// through orgID.
func (s *Store) InvoiceReport(ctx context.Context, orgID, invoiceID, id string, now time.Time) (*costexplorer.InvoiceReport, error) {
	return one(ctx, s, scanReport, "invoice report %s not found", id, "SELECT "+reportColumns+
		" FROM invoice_reports WHERE id = ? AND org_id = ? AND invoice_id = ? AND expires_at > ?", id, orgID, invoiceID, now.UnixMicro())
}

// InvoiceReports returns a page of the unexpired reports of invoiceID
// requested through orgID, newest first, and their number.
func (s *Store) InvoiceReports(ctx context.Context, orgID, invoiceID string, now time.Time, page costexplorer.PageRequest) ([]*costexplorer.InvoiceReport, int, error) {
	var out []*costexplorer.InvoiceReport
	var total int
	const where = " FROM invoice_reports WHERE org_id = ? AND invoice_id = ? AND expires_at > ?"
	err := s.r.ReadTx(ctx, func(q Querier) error {
		var err error
		out, err = collect(ctx, q, scanReport, "SELECT "+reportColumns+where+" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
			orgID, invoiceID, now.UnixMicro(), page.ItemsPerPage, page.Offset())
		if err != nil {
			return err
		}
		return q.QueryRow(ctx, "SELECT COUNT(*)"+where, orgID, invoiceID, now.UnixMicro()).Scan(&total)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// ClaimInvoiceReport takes the oldest unexpired pending report, or a running
// one whose lease lapsed, under the rule of ClaimProcess.
func (s *Store) ClaimInvoiceReport(ctx context.Context, owner string, now time.Time, lease time.Duration) (*costexplorer.InvoiceReport, error) {
	return claim(ctx, s, reportLease, string(costexplorer.ReportPending), reportColumns, scanReport, owner, now, lease)
}

// WriteInvoiceReportChunk stores one chunk of the file an attempt makes.
func (s *Store) WriteInvoiceReportChunk(ctx context.Context, id string, attempt, seq int, data []byte) error {
	return s.r.Write(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, "INSERT INTO invoice_report_chunks (report_id, attempt, seq, data) VALUES (?, ?, ?, ?)",
			id, attempt, seq, data)
		return err
	})
}

// FinishInvoiceReport marks the report succeeded with the file of attempt,
// then drops the chunks of the other attempts (a failure there leaves only
// unread chunks, which go with the report).
func (s *Store) FinishInvoiceReport(ctx context.Context, id, owner string, attempt int, size int64, now, expires time.Time) error {
	err := s.endLease(ctx, reportLease, id, owner,
		"state = 'SUCCEEDED', failure_reason = '', file_attempt = ?, file_size = ?, completed_at = ?, expires_at = ?",
		attempt, size, now.UnixMicro(), expires.UnixMicro())
	if err != nil {
		return err
	}
	return s.r.Write(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, "DELETE FROM invoice_report_chunks WHERE report_id = ? AND attempt <> ?", id, attempt)
		return err
	})
}

// FailInvoiceReport marks the report failed with reason.
func (s *Store) FailInvoiceReport(ctx context.Context, id, owner, reason string, now time.Time) error {
	return s.endLease(ctx, reportLease, id, owner, "state = 'FAILED', failure_reason = ?, completed_at = ?", reason, now.UnixMicro())
}

// ReleaseInvoiceReportLeases returns the running reports of owner to pending.
func (s *Store) ReleaseInvoiceReportLeases(ctx context.Context, owner string) error {
	return s.releaseLeases(ctx, reportLease, string(costexplorer.ReportPending), owner)
}

// InvoiceReportFile streams the file of a succeeded, unexpired report, one
// chunk per read, and checks that the chunks add up to its recorded size (a
// report deleted while it was read is an error, not a short file).
func (s *Store) InvoiceReportFile(ctx context.Context, id string, now time.Time, fn func([]byte) error) error {
	var attempt, size int64
	err := s.r.Read(ctx, func(q Querier) error {
		err := q.QueryRow(ctx, "SELECT file_attempt, file_size FROM invoice_reports WHERE id = ? AND state = 'SUCCEEDED' AND expires_at > ?",
			id, now.UnixMicro()).Scan(&attempt, &size)
		if s.d.IsNoRows(err) {
			return notFound("invoice report %s not found", id)
		}
		return err
	})
	if err != nil {
		return err
	}
	var read int64
	for seq := 0; ; seq++ {
		var data []byte
		err := s.r.Read(ctx, func(q Querier) error {
			return q.QueryRow(ctx, "SELECT data FROM invoice_report_chunks WHERE report_id = ? AND attempt = ? AND seq = ?",
				id, attempt, seq).Scan(&data)
		})
		if costexplorer.IsNotFound(err) || s.d.IsNoRows(err) {
			break
		}
		if err != nil {
			return err
		}
		read += int64(len(data))
		if err := fn(data); err != nil {
			return err
		}
	}
	if read != size {
		return fmt.Errorf("invoice report %s: read %d bytes of its file, want %d", id, read, size)
	}
	return nil
}

// DeleteExpiredInvoiceReports removes the reports that expired before now;
// their chunks go with them (ON DELETE CASCADE).
func (s *Store) DeleteExpiredInvoiceReports(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteExpired(ctx, "invoice_reports", now)
}
