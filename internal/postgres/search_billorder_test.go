package postgres_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/postgres"
	"github.com/costexplorer/costexplorer/internal/postgres/pgtest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// TestSearchBillOrderPages pages through a cluster's items in bill-date
// order, both ways, on PostgreSQL and SQLite: a third of the items are
// billed up to three days before or after their usage day (across the
// month's edges too; some of them on it), some on their usage day, some are of zero cents. Every
// page must be the model's (LineItemSearch.Matches and Compare over the
// items ingested), and the two stores' lines identical, so that the merge of
// the two index orders (items billed on their usage day, the others) is
// checked where it is hard: many ties of bill day, pages that
// start or end in a run of late-billed items, pages past the end.
func TestSearchBillOrderPages(t *testing.T) {
	pgtest.URL(t)
	ctx := context.Background()
	m := costexplorer.MonthOf(time.Now()) - 2
	start := costexplorer.DayOf(m.Start())
	d := storetest.NewDataset(5, storetest.Shape{Orgs: 1, ProjectsPerOrg: 2, ClustersPerProject: 2, Start: start, Days: 1})
	org, project := d.Orgs[0], d.Projects[0]
	var clusters []costexplorer.Cluster
	for _, c := range d.Clusters {
		if c.ProjectID == project.ID {
			clusters = append(clusters, c)
		}
	}
	days := int(costexplorer.DayOf((m + 1).Start()) - start)
	r := rand.New(rand.NewPCG(3, 4))
	var items []costexplorer.LineItem
	for i := range 2600 {
		li := costexplorer.LineItem{
			ID: costexplorer.NewLineItemID("billorder", strconv.Itoa(i)), OrgID: org.ID, ProjectID: project.ID,
			ClusterID: clusters[min(i%7, 1)].ID, Service: costexplorer.ServiceClusters, SKU: "ATLAS_AWS_INSTANCE_M30",
			Date: start + costexplorer.Day(r.IntN(days)), Quantity: float64(r.IntN(50)) + 0.5, Unit: "server hours",
			UnitPriceNanos: 540_000_000, Amount: costexplorer.Cents(r.IntN(5000) + 1), Description: "Atlas AWS Cluster M30",
			Region: "US_EAST_1",
		}
		switch k := r.IntN(20); {
		case k < 6:
			li.BillDate = li.Date + costexplorer.Day(r.IntN(7)-3)
		case k == 6:
			li.BillDate = li.Date
		case k == 7:
			li.Amount = 0
		}
		items = append(items, li)
	}
	openers := map[string]func(t *testing.T) costexplorer.Store{
		"SQLite": func(t *testing.T) costexplorer.Store {
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"PostgreSQL": func(t *testing.T) costexplorer.Store { return open(t, pgtest.Schema(t), postgres.Options{}) },
	}
	invoiceID := costexplorer.InvoiceID(org.ID, m)
	day := func(n int) *costexplorer.Day { d := start + costexplorer.Day(n); return &d }
	searches := []costexplorer.LineItemSearch{
		{ClusterIDs: []string{clusters[1].ID}, SortOrder: costexplorer.SortDescending},
		{ClusterIDs: []string{clusters[1].ID}, SortOrder: costexplorer.SortAscending},
		{ClusterIDs: []string{clusters[1].ID}, SortOrder: costexplorer.SortAscending, IncludeZeroCents: true},
		{ClusterIDs: []string{clusters[1].ID}, GroupIDs: []string{project.ID}, SortOrder: costexplorer.SortDescending, IncludeZeroCents: true},
		{ClusterIDs: []string{clusters[1].ID}, SortOrder: costexplorer.SortDescending, BillStart: day(3), BillEnd: day(20)},
		{ClusterIDs: []string{clusters[0].ID}, SortOrder: costexplorer.SortAscending, UsageStart: day(10)},
		// The whole invoice: several clusters' keys in one order.
		{SortOrder: costexplorer.SortDescending},
	}
	got := map[string][][]costexplorer.InvoiceLine{}
	for _, name := range []string{"SQLite", "PostgreSQL"} {
		t.Run(name, func(t *testing.T) {
			s := openers[name](t)
			batches := []*costexplorer.UsageBatch{d.Dimensions()}
			for i := 0; i < len(items); i += 1000 {
				batches = append(batches, &costexplorer.UsageBatch{Items: slices.Clone(items[i:min(i+1000, len(items))])})
			}
			for _, b := range batches {
				if _, err := s.IngestUsage(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			for i, ls := range searches {
				ls.SortField = costexplorer.SortBillDates
				var want []costexplorer.LineItem
				for _, li := range items {
					if ls.Matches(&li) {
						li.InvoiceID = invoiceID
						want = append(want, li)
					}
				}
				slices.SortFunc(want, func(a, b costexplorer.LineItem) int { return ls.Compare(&a, &b) })
				var all []costexplorer.InvoiceLine
				for _, size := range []int{500, 97, 13, 1} {
					for pageNum := 1; (pageNum-2)*size <= len(want); pageNum++ {
						if size == 1 && pageNum > 40 && pageNum%37 != 0 {
							continue
						}
						page := costexplorer.PageRequest{ItemsPerPage: size, PageNum: pageNum, IncludeCount: pageNum == 1}
						lines, total, err := s.SearchLineItems(ctx, invoiceID, &ls, page)
						if err != nil {
							t.Fatalf("search %d page %+v: %v", i, page, err)
						}
						off := min(page.Offset(), len(want))
						wantPage := want[off:min(off+size, len(want))]
						if len(lines) != len(wantPage) || page.IncludeCount && total != len(want) {
							t.Fatalf("search %d page %+v: %d lines, total %d; want %d of %d", i, page, len(lines), total, len(wantPage), len(want))
						}
						for j, l := range lines {
							if l.LineItem != wantPage[j] {
								t.Fatalf("search %d page %+v line %d:\n got %+v\nwant %+v", i, page, j, l.LineItem, wantPage[j])
							}
							all = append(all, *l)
						}
					}
				}
				got[name] = append(got[name], all)
			}
		})
	}
	if len(got["SQLite"]) != len(searches) || len(got["PostgreSQL"]) != len(searches) {
		return // a subtest failed
	}
	for i := range searches {
		if !slices.Equal(got["SQLite"][i], got["PostgreSQL"][i]) {
			t.Errorf("search %d: the stores' lines differ", i)
		}
	}
}
