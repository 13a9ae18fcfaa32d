package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// newReport returns a pending FOCUS report of invoiceID requested through
// orgID, created at created, its id derived from n.
func newReport(orgID, invoiceID string, n int, created time.Time) *costexplorer.InvoiceReport {
	return &costexplorer.InvoiceReport{
		ID: fmt.Sprintf("%08x%016x", created.Unix(), n), OrgID: orgID, InvoiceID: invoiceID,
		Type: costexplorer.ReportTypeFOCUS, Format: costexplorer.ReportFormatCSV, SpecVersion: "1.3",
		CreatedAt: created, ExpiresAt: created.Add(24 * time.Hour),
	}
}

// readFile returns the whole file of report id.
func readFile(t *testing.T, s costexplorer.Store, id string, now time.Time) ([]byte, error) {
	t.Helper()
	var out []byte
	err := s.InvoiceReportFile(t.Context(), id, now, func(b []byte) error {
		out = append(out, b...)
		return nil
	})
	return out, err
}

func testInvoiceReports(t *testing.T, open Opener) {
	org, other := orgID(0), orgID(1)
	inv, inv2 := orgID(10), orgID(11)
	// withReport opens a store holding one new report of org's invoice inv.
	withReport := func(t *testing.T) (costexplorer.Store, *costexplorer.InvoiceReport) {
		t.Helper()
		s := open(t)
		r := newReport(org, inv, 1, t0)
		must(t, s.CreateInvoiceReport(t.Context(), r))
		return s, r
	}

	t.Run("CreateThenReadIt", func(t *testing.T) {
		s, r := withReport(t)
		got, err := s.InvoiceReport(t.Context(), org, inv, r.ID, t0)
		must(t, err)
		if got.State != costexplorer.ReportPending || got.Type != "FOCUS" || got.Format != "CSV" || got.SpecVersion != "1.3" ||
			got.Attempts != 0 || got.LeaseOwner != "" || !got.CreatedAt.Equal(t0.Truncate(time.Microsecond)) ||
			!got.ExpiresAt.Equal(r.ExpiresAt.Truncate(time.Microsecond)) {
			t.Fatalf("stored report = %+v", got)
		}
		wantCode(t, s.CreateInvoiceReport(t.Context(), r), costexplorer.ErrConflict)
	})

	t.Run("ReadsAreScopedToOrganizationAndInvoice", func(t *testing.T) {
		s, r := withReport(t)
		for _, c := range []struct{ org, inv string }{{other, inv}, {org, inv2}} {
			_, err := s.InvoiceReport(t.Context(), c.org, c.inv, r.ID, t0)
			wantCode(t, err, costexplorer.ErrNotFound)
			list, total, err := s.InvoiceReports(t.Context(), c.org, c.inv, t0, costexplorer.DefaultPage())
			must(t, err)
			if len(list) != 0 || total != 0 {
				t.Errorf("%s/%s lists %d reports (total %d), want none", c.org, c.inv, len(list), total)
			}
		}
	})

	t.Run("ListIsNewestFirstUnexpiredAndPaged", func(t *testing.T) {
		s := open(t)
		var ids []string
		for i := range 5 {
			r := newReport(org, inv, i, t0.Add(time.Duration(i)*time.Minute))
			if i == 0 {
				r.ExpiresAt = t0.Add(90 * time.Second) // expired at the read below
			}
			must(t, s.CreateInvoiceReport(t.Context(), r))
			ids = append(ids, r.ID)
		}
		now := t0.Add(10 * time.Minute)
		list, total, err := s.InvoiceReports(t.Context(), org, inv, now, costexplorer.PageRequest{ItemsPerPage: 3, PageNum: 1, IncludeCount: true})
		must(t, err)
		if total != 4 || len(list) != 3 || list[0].ID != ids[4] || list[1].ID != ids[3] || list[2].ID != ids[2] {
			t.Fatalf("page 1 = %v (total %d), want %v", reportIDs(list), total, []string{ids[4], ids[3], ids[2]})
		}
		list, _, err = s.InvoiceReports(t.Context(), org, inv, now, costexplorer.PageRequest{ItemsPerPage: 3, PageNum: 2, IncludeCount: true})
		must(t, err)
		if len(list) != 1 || list[0].ID != ids[1] {
			t.Fatalf("page 2 = %v, want [%s]", reportIDs(list), ids[1])
		}
		_, err = s.InvoiceReport(t.Context(), org, inv, ids[0], now)
		wantCode(t, err, costexplorer.ErrNotFound)
		n, err := s.DeleteExpiredInvoiceReports(t.Context(), now)
		must(t, err)
		if n != 1 {
			t.Errorf("deleted %d expired reports, want 1", n)
		}
	})

	t.Run("ClaimWriteFinishRead", func(t *testing.T) {
		s, r := withReport(t)
		c, err := s.ClaimInvoiceReport(t.Context(), "a", t0, 30*time.Second)
		must(t, err)
		if c.ID != r.ID || c.State != costexplorer.ReportRunning || c.LeaseOwner != "a" || c.Attempts != 1 {
			t.Fatalf("claimed %+v", c)
		}
		_, err = s.ClaimInvoiceReport(t.Context(), "b", t0.Add(time.Second), 30*time.Second)
		wantCode(t, err, costexplorer.ErrNotFound)
		_, err = readFile(t, s, r.ID, t0)
		wantCode(t, err, costexplorer.ErrNotFound) // not succeeded yet

		file := bytes.Repeat([]byte("0123456789"), 1000)
		for i := 0; i*3000 < len(file); i++ {
			must(t, s.WriteInvoiceReportChunk(t.Context(), r.ID, c.Attempts, i, file[i*3000:min(len(file), (i+1)*3000)]))
		}
		wantCode(t, s.FinishInvoiceReport(t.Context(), r.ID, "b", 1, int64(len(file)), t0, t0.Add(time.Hour)), costexplorer.ErrConflict)
		done := t0.Add(2 * time.Second)
		must(t, s.FinishInvoiceReport(t.Context(), r.ID, "a", 1, int64(len(file)), done, done.Add(24*time.Hour)))
		got, err := s.InvoiceReport(t.Context(), org, inv, r.ID, done)
		must(t, err)
		if got.State != costexplorer.ReportSucceeded || got.LeaseOwner != "" || got.Size != int64(len(file)) ||
			!got.CompletedAt.Equal(done) || !got.ExpiresAt.Equal(done.Add(24*time.Hour)) {
			t.Fatalf("finished report = %+v", got)
		}
		b, err := readFile(t, s, r.ID, done)
		must(t, err)
		if !bytes.Equal(b, file) {
			t.Fatalf("file read back is %d bytes, want the %d written", len(b), len(file))
		}
		_, err = readFile(t, s, r.ID, done.Add(24*time.Hour))
		wantCode(t, err, costexplorer.ErrNotFound) // expired
		wantCode(t, s.FailInvoiceReport(t.Context(), r.ID, "a", "late", done), costexplorer.ErrConflict)
	})

	t.Run("ALapsedLeaseIsTakenOverAndOnlyTheNewAttemptsFileCounts", func(t *testing.T) {
		s, r := withReport(t)
		a, err := s.ClaimInvoiceReport(t.Context(), "a", t0, 30*time.Second)
		must(t, err)
		must(t, s.WriteInvoiceReportChunk(t.Context(), r.ID, a.Attempts, 0, []byte("stale half")))
		b, err := s.ClaimInvoiceReport(t.Context(), "b", t0.Add(31*time.Second), 30*time.Second)
		must(t, err)
		if b.Attempts != 2 || b.LeaseOwner != "b" {
			t.Fatalf("take-over = %+v", b)
		}
		must(t, s.WriteInvoiceReportChunk(t.Context(), r.ID, b.Attempts, 0, []byte("fresh")))
		// The first owner's late chunk lands in its own attempt.
		must(t, s.WriteInvoiceReportChunk(t.Context(), r.ID, a.Attempts, 1, []byte(" of a file")))
		wantCode(t, s.FinishInvoiceReport(t.Context(), r.ID, "a", 1, 20, t0, t0.Add(time.Hour)), costexplorer.ErrConflict)
		must(t, s.FinishInvoiceReport(t.Context(), r.ID, "b", 2, 5, t0.Add(time.Minute), t0.Add(time.Hour)))
		got, err := readFile(t, s, r.ID, t0.Add(time.Minute))
		must(t, err)
		if string(got) != "fresh" {
			t.Fatalf("file = %q, want the second attempt's", got)
		}
	})

	t.Run("FailAndRelease", func(t *testing.T) {
		s := open(t)
		r1, r2 := newReport(org, inv, 1, t0), newReport(org, inv, 2, t0.Add(time.Second))
		must(t, s.CreateInvoiceReport(t.Context(), r1))
		must(t, s.CreateInvoiceReport(t.Context(), r2))
		c1, err := s.ClaimInvoiceReport(t.Context(), "a", t0, time.Minute)
		must(t, err)
		c2, err := s.ClaimInvoiceReport(t.Context(), "a", t0, time.Minute)
		must(t, err)
		if c1.ID != r1.ID || c2.ID != r2.ID {
			t.Fatalf("claimed %s then %s, want the oldest first", c1.ID, c2.ID)
		}
		must(t, s.FailInvoiceReport(t.Context(), r1.ID, "a", "The report could not be generated.", t0))
		got, err := s.InvoiceReport(t.Context(), org, inv, r1.ID, t0)
		must(t, err)
		if got.State != costexplorer.ReportFailed || got.FailureReason != "The report could not be generated." {
			t.Fatalf("failed report = %+v", got)
		}
		must(t, s.ReleaseInvoiceReportLeases(t.Context(), "a"))
		got, err = s.InvoiceReport(t.Context(), org, inv, r2.ID, t0)
		must(t, err)
		if got.State != costexplorer.ReportPending || got.LeaseOwner != "" {
			t.Fatalf("released report = %+v", got)
		}
		c, err := s.ClaimInvoiceReport(t.Context(), "b", t0, time.Minute)
		must(t, err)
		if c.ID != r2.ID || c.Attempts != 2 {
			t.Fatalf("claim after release = %+v", c)
		}
		wantCode(t, s.FinishInvoiceReport(t.Context(), orgID(99), "b", 1, 0, t0, t0), costexplorer.ErrNotFound)
	})

	t.Run("ConcurrentClaimsTakeEachReportOnce", func(t *testing.T) {
		s := open(t)
		const n = 8
		for i := range n {
			must(t, s.CreateInvoiceReport(t.Context(), newReport(org, inv, i, t0)))
		}
		var claims Claims
		AtOnce(t, 4, "ClaimInvoiceReport", func(w int) error {
			return Drain(&claims, fmt.Sprintf("w%d", w), func(owner string) (*costexplorer.InvoiceReport, error) {
				return s.ClaimInvoiceReport(t.Context(), owner, t0, time.Minute)
			}, func(r *costexplorer.InvoiceReport) string { return r.ID })
		})
		claims.Check(t, "report", n)
	})
}

func reportIDs(list []*costexplorer.InvoiceReport) []string {
	var out []string
	for _, r := range list {
		out = append(out, r.ID)
	}
	return out
}
