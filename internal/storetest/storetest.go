// Package storetest is the conformance suite of [costexplorer.Store]: every
// store (internal/sqlite always, internal/postgres when TEST_DATABASE_URL is
// set) runs [Run] and so behaves alike.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Opener returns a new, empty store for one subtest and arranges with
// t.Cleanup for it to be closed.
type Opener = func(t *testing.T) costexplorer.Store

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open Opener) {
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("Organizations", func(t *testing.T) { testOrganizations(t, open) })
	t.Run("Ingest", func(t *testing.T) { testIngest(t, open) })
	t.Run("IngestSessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("Processes", func(t *testing.T) { testProcesses(t, open) })
	t.Run("Credentials", func(t *testing.T) { testCredentials(t, open) })
	t.Run("Invoices", func(t *testing.T) { testInvoices(t, open) })
	t.Run("InvoiceIDs", func(t *testing.T) { testInvoiceIDs(t, open) })
	t.Run("InvoiceReports", func(t *testing.T) { testInvoiceReports(t, open) })
	t.Run("Restate", func(t *testing.T) { testRestate(t, open) })
	t.Run("SourceStamps", func(t *testing.T) { testSourceStamps(t, open) })
}

// t0 is the pinned clock of the suite.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// wantCode fails t unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := costexplorer.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
	if code != "" {
		var e *costexplorer.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is not a *costexplorer.Error", err)
		}
	}
}

// must fails t on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
