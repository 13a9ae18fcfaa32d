package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// BenchRestate measures the daily restatement of a pending invoice of about
// items line items (one organization, a month of usage) in s, an empty
// store: each iteration replaces the invoice by the next day's version (a
// sixth of the last three days' items changed, a day of new items) and back,
// as a sync of a pending invoice does every day. With replace false, each
// iteration ingests the invoice's items again without restating (all
// duplicates): the baseline of a no-op re-import. It reports the invoice
// items gone through per second and, when cpu (the process's CPU time so
// far) is given, the CPU time per iteration, steadier on a shared machine.
func BenchRestate(b *testing.B, s costexplorer.Store, items int, replace bool, cpu func() time.Duration) {
	ctx := b.Context()
	start := costexplorer.DayOf(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	// About 2.9 items per cluster a day.
	d := NewDataset(99, Shape{Orgs: 1, ProjectsPerOrg: max(1, items/(30*4*3)), ClustersPerProject: 4, Start: start, Days: 31})
	all := d.All()
	last := start + 30
	var old, next []costexplorer.LineItem
	for _, li := range all {
		if li.Date < last {
			old = append(old, li)
		}
		if li.Date >= last-3 && li.Date < last && li.ID[0]%2 == 0 {
			li.Amount++ // restated
		}
		next = append(next, li)
	}
	invoice := costexplorer.InvoiceID(d.Orgs[0].ID, start.Month())
	batch := func(items []costexplorer.LineItem) *costexplorer.UsageBatch {
		if !replace {
			return &costexplorer.UsageBatch{Items: slices.Clone(old)}
		}
		return &costexplorer.UsageBatch{ReplaceInvoices: []string{invoice}, Items: slices.Clone(items)}
	}
	dims := d.Dimensions()
	dims.Items = old
	if _, err := s.IngestUsage(ctx, dims); err != nil {
		b.Fatal(err)
	}
	var removed, inserted int
	var spent time.Duration
	b.ResetTimer()
	for i := range b.N {
		items := next
		if i%2 == 1 {
			items = old
		}
		bt := batch(items)
		var before time.Duration
		if cpu != nil {
			before = cpu()
		}
		res, err := s.IngestUsage(ctx, bt)
		if cpu != nil {
			spent += cpu() - before
		}
		if err != nil {
			b.Fatal(err)
		}
		if (res.Removed == 0) == replace {
			b.Fatalf("iteration %d removed %d items", i, res.Removed)
		}
		removed += res.Removed
		inserted += res.Inserted
	}
	b.StopTimer()
	b.ReportMetric(float64(len(next)), "invoice-items")
	b.ReportMetric(float64(removed+inserted)/float64(b.N), "changed/op")
	b.ReportMetric(float64(b.N*len(next))/b.Elapsed().Seconds(), "items/s")
	if cpu != nil {
		b.ReportMetric(float64(spent.Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}
