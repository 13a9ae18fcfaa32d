package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/atlassync"
)

// syncStatusFlags registers the flags of `admin sync status`.
func syncStatusFlags(fs *flag.FlagSet) adminRun {
	source := fs.String("source", "", "the source whose marks to show (default: COSTEXPLORER_SYNC_SOURCE, else "+defaultSyncSource+")")
	return func(ctx context.Context, m *Main, store costexplorer.Store, sf *storeFlags, args []string) error {
		src := *source
		if src == "" {
			src = m.envOr(defaultSyncSource, "COSTEXPLORER_SYNC_SOURCE")
		}
		return runSyncStatus(ctx, m, store, src)
	}
}

// runSyncStatus prints the lease, the last run and the marks of source.
// The last run is the latest mark's time: every run that succeeds writes
// the pending invoice's mark.
func runSyncStatus(ctx context.Context, m *Main, store costexplorer.Store, source string) error {
	holder, expires, err := store.Lease(ctx, atlassync.LeaseName)
	if err != nil {
		return storeError(err)
	}
	marks, err := store.SyncMarks(ctx, source)
	if err != nil {
		return storeError(err)
	}
	now := m.Now()
	switch {
	case holder == "":
		fmt.Fprintln(m.Stdout, "Lease:    free (no replica has run the scheduled sync)")
	case expires.After(now):
		fmt.Fprintf(m.Stdout, "Lease:    held by %s until %s\n", holder, formatTime(expires))
	default:
		fmt.Fprintf(m.Stdout, "Lease:    free (last held by %s, lapsed %s)\n", holder, formatTime(expires))
	}
	var last time.Time
	items := 0
	rows := make([][]string, len(marks))
	for i, mk := range marks {
		if mk.SyncedAt.After(last) {
			last = mk.SyncedAt
		}
		items += mk.Items
		rows[i] = []string{mk.InvoiceID, formatTime(mk.SourceUpdated), strconv.Itoa(mk.Items), formatTime(mk.SyncedAt)}
	}
	if last.IsZero() {
		fmt.Fprintf(m.Stdout, "Last run: none from %s\n\n", source)
	} else {
		fmt.Fprintf(m.Stdout, "Last run: %s (%s ago), from %s\n\n", formatTime(last), now.Sub(last).Round(time.Second), source)
	}
	writeList(m.Stdout, []string{"INVOICE", "SOURCE UPDATED", "ITEMS", "SYNCED"}, rows, fmt.Sprintf("%d invoice(s), %d item(s)", len(marks), items))
	return nil
}
