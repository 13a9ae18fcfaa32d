package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"golang.org/x/term"

	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/atlassync"
)

const syncUsage = `sync [--source URL] [--org ORG]… [--data-dir DIR | --db DSN] [--dry-run]

Fills the store from an Atlas-compatible Invoices API (MongoDB Atlas itself by
default, or another costexplorer): the organizations the credential lists (or
each --org) with their linked organizations, every closed invoice once (and
again when its updated stamp moves), and the pending invoice on every run. A
pending invoice grows every day and may restate past days: its line items are
replaced as a whole, and the rollup and the invoice amounts move by the
difference in one transaction, so queries see the invoice before or after,
never a mix. Each invoice is brought over in one transaction with its sync
mark: a sync killed at any point loses nothing, and the next run goes on.

Line items come from the invoice CSV; payments and statuses from the invoice
JSON; cluster ids from one cost-explorer query per organization. Requests
follow the source's rate limit (RateLimit-Remaining, 429 Retry-After) and are
retried after 5xx answers and network faults with a bounded backoff.
On a terminal, progress (invoices, items, rate) shows on standard error; a
summary, with the number of requests sent, ends on standard output.
--dry-run lists what would be brought and why, and writes nothing.
The target then answers every invoice and cost-explorer request as the
source does, byte for byte, except that a line-item search may order the
items of one day that tie on its sort key otherwise: --exact-order makes
those the source's too, at one more request per 500 line items.
A Billing Viewer's credential brings its own organization's invoices only:
linked organizations' need an Organization Owner or Billing Admin.
--base-url is not used: --source names the source.`

var syncExamples = []string{
	"MONGODB_ATLAS_PUBLIC_API_KEY=… MONGODB_ATLAS_PRIVATE_API_KEY=… costexplorer sync --data-dir /var/lib/costexplorer",
	"costexplorer sync --client-id mdb_sa_id_… --client-secret-file sa.secret --org 5f… --db postgres://db/costexplorer",
	"costexplorer sync --source http://127.0.0.1:8080 --public-key abc --private-key-file key --dry-run",
}

// defaultSyncSource is where sync reads when nothing else is said.
const defaultSyncSource = "https://cloud.mongodb.com"

// syncFlags are the flags of sync (and of the scheduled sync of serve,
// which reads the same credentials from the environment).
type syncFlags struct {
	source     string
	orgs       stringList
	dryRun     bool
	exactOrder bool
	verbose    bool
}

// runSync runs `costexplorer sync`.
func runSync(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("sync", syncUsage, syncExamples...)
	var sf storeFlags
	sf.register(fs, m)
	var f syncFlags
	fs.StringVar(&f.source, "source", m.envOr(defaultSyncSource, "COSTEXPLORER_SYNC_SOURCE"), "base URL of the source (COSTEXPLORER_SYNC_SOURCE)")
	fs.Var(&f.orgs, "org", "organization to sync, with its linked organizations (repeatable; default: every organization the credential lists)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "list what would be synced, and write nothing")
	fs.BoolVar(&f.verbose, "verbose", false, "log each invoice brought over, and each retry, on standard error")
	fs.BoolVar(&f.exactOrder, "exact-order", false, "also read each invoice's line-item search (a request per 500 items) so that searches order ties as the source does")
	var cf connFlags
	var unused string
	cf.register(fs, "", &unused)
	conn, err := cf.parse(m, args, "")
	if err != nil {
		return err
	}
	conn.BaseURL = f.source
	counter := &atlassync.RequestCounter{}
	c, err := m.newClient(conn, syncClientOptions(counter)...)
	if err != nil {
		return err
	}
	store, err := m.openStore(ctx, &sf)
	if err != nil {
		return err
	}
	defer store.Close()
	target, ok := store.(atlassync.Store)
	if !ok {
		return fmt.Errorf("the store %s cannot take a sync (no ingest sessions)", sf.describe())
	}
	stop, err := startCPUProfile(m.Getenv("COSTEXPLORER_SYNC_CPUPROFILE"))
	if err != nil {
		return err
	}
	defer stop()
	rep, err := atlassync.Run(ctx, atlassync.Config{
		Client: c, Store: target, Orgs: f.orgs, DryRun: f.dryRun, ExactOrder: f.exactOrder, Now: m.Now, Requests: counter,
		Progress: m.syncProgress(), Logger: m.syncLogger(f.verbose),
	})
	printSyncReport(m.Stdout, rep, f.dryRun)
	if err != nil {
		return classify(err)
	}
	return nil
}

// startCPUProfile writes a CPU profile to path until stop is called;
// nothing when path is empty. Its path is read from the environment
// (COSTEXPLORER_SYNC_CPUPROFILE, COSTEXPLORER_IMPORT_CPUPROFILE), not a
// flag: it is for measuring the sync and the import (scripts/sync-bench.sh,
// scripts/import-bench.sh), not for their users.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// syncClientOptions are the client settings of a sync: every request
// counted, GETs retried after 5xx answers and network faults, 429s after
// Retry-After (patiently: a sync would rather wait than fail), and requests
// paced at Atlas's refill rate (100 a minute) once the source says its
// limit is nearly spent.
func syncClientOptions(counter *atlassync.RequestCounter) []client.Option {
	return []client.Option{
		client.WithHTTPClient(&http.Client{Transport: counter}),
		client.WithServerErrorRetries(5),
		client.WithRateLimitRetries(30),
		client.WithRateLimitPacing(600*time.Millisecond, 2),
	}
}

// syncProgress reports invoices, items and the rate on standard error when
// it is a terminal; nil otherwise.
func (m *Main) syncProgress() func(atlassync.Progress) {
	f, ok := m.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(p atlassync.Progress) {
		secs := p.Elapsed.Seconds()
		fmt.Fprintf(f, "\r\033[K%d/%d invoices, %d items, %.1fs, %.0f items/s", p.Invoices, p.Total, p.Items, secs, float64(p.Items)/max(secs, 1e-9))
		if p.Invoices == p.Total {
			fmt.Fprintln(f)
		}
	}
}

// syncLogger logs retries (warnings) on standard error, and with verbose
// each invoice brought over.
func (m *Main) syncLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
}

// printSyncReport writes what a sync did, or would do.
func printSyncReport(w io.Writer, rep *atlassync.Report, dryRun bool) {
	if rep == nil {
		return
	}
	if dryRun {
		for _, p := range rep.Invoices {
			what := "would sync"
			if p.Reason == atlassync.ReasonUnchanged {
				what = "would skip"
			}
			fmt.Fprintf(w, "%s %s of %s %s (%s, %s), %d items stored\n", what, p.InvoiceID, p.OrgID, p.Month, p.Status, p.Reason, p.PreviousItems)
		}
	}
	verb := "synced"
	if dryRun {
		verb = "would sync"
	}
	fmt.Fprintf(w, "%d organizations: %s %d invoices (%d unchanged), %d items (%d replaced), %d requests, %s\n",
		rep.Orgs, verb, rep.Synced+pendingCount(rep, dryRun), rep.Unchanged, rep.Items, rep.Restated, rep.Requests,
		rep.Duration.Round(time.Millisecond))
}

// pendingCount is, for a dry run, the invoices it would sync (Synced counts
// only those brought over).
func pendingCount(rep *atlassync.Report, dryRun bool) int {
	if !dryRun {
		return 0
	}
	n := 0
	for _, p := range rep.Invoices {
		if p.Reason != atlassync.ReasonUnchanged {
			n++
		}
	}
	return n
}
