package jobs_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/jobs"
)

// TestReportsRunAndStop: a report created here is made by this replica's
// worker (woken at once, not after a poll), its file is a whole gzip CSV;
// Stop hands back nothing it does not hold, and a report whose invoice does
// not exist fails at once instead of being tried five times.
func TestReportsRunAndStop(t *testing.T) {
	db, layout, clock := freshDemo(t)
	r := jobs.NewReports(jobs.ReportConfig{Store: db, Now: clock.Now, Owner: "a", PollInterval: time.Hour})
	r.Start(t.Context())
	inv := costexplorer.InvoiceID(layout.PayingOrg.ID, costexplorer.MonthOf(start)-1)
	req := &costexplorer.InvoiceReportRequest{Type: "FOCUS", Format: "CSV", SpecVersion: "1.3"}
	rep, err := r.Create(t.Context(), layout.PayingOrg.ID, inv, req)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := r.Create(t.Context(), layout.PayingOrg.ID, costexplorer.DeriveID("no", "invoice"), req)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err1 := r.InvoiceReport(t.Context(), layout.PayingOrg.ID, inv, rep.ID, clock.Now())
		b, err2 := r.InvoiceReport(t.Context(), layout.PayingOrg.ID, missing.InvoiceID, missing.ID, clock.Now())
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if a.State == costexplorer.ReportSucceeded && b.State == costexplorer.ReportFailed {
			if b.Attempts != 1 {
				t.Errorf("the report of a missing invoice was tried %d times", b.Attempts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %s and %s (the worker was not woken?)", a.State, b.State)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := r.InvoiceReportFile(t.Context(), rep.ID, clock.Now(), func(b []byte) error { _, err := file.Write(b); return err }); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&file)
	if err != nil {
		t.Fatal(err)
	}
	csv, err := io.ReadAll(zr)
	if err != nil || !bytes.HasPrefix(csv, []byte("BilledCost,")) || bytes.Count(csv, []byte("\r\n")) < 2 {
		t.Fatalf("report file: %v %.100q", err, csv)
	}
}
