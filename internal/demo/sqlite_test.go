package demo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

func openSQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "demo.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// ingest generates cfg into db, one IngestUsage per batch, and returns the
// number of items and their total.
func ingest(tb testing.TB, db *sqlite.DB, cfg Config) (int64, costexplorer.Cents) {
	tb.Helper()
	var n int64
	var total costexplorer.Cents
	err := Generate(context.Background(), cfg, func(b *costexplorer.UsageBatch) error {
		res, err := db.IngestUsage(context.Background(), b)
		if err != nil {
			return err
		}
		if res.Inserted != len(b.Items) {
			tb.Fatalf("inserted %d of a batch of %d", res.Inserted, len(b.Items))
		}
		n += int64(len(b.Items))
		for i := range b.Items {
			total += b.Items[i].Amount
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n, total
}

// TestGenerate_IngestsIntoSQLite checks against the real store that every
// batch ingests on its own, that the store ends up with exactly the generated
// data, that a second run inserts nothing, and that the rollup is consistent.
func TestGenerate_IngestsIntoSQLite(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	cfg := testConfig(60_000)
	n, total := ingest(t, db, cfg)
	l := Describe(cfg)
	st, err := db.UsageStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	orgs := int64(1 + len(l.Linked) + len(l.Others))
	if st.LineItems != n || st.Total != total || st.Organizations != orgs || st.Projects != int64(l.Projects) || st.Clusters != int64(l.Clusters) {
		t.Errorf("store stats %+v; generated %d items, %s, %d orgs, %d projects, %d clusters", st, n, total, orgs, l.Projects, l.Clusters)
	}
	if st.FirstDay != l.FirstDay || st.LastDay != l.LastDay {
		t.Errorf("store days %s..%s, layout %s..%s", st.FirstDay, st.LastDay, l.FirstDay, l.LastDay)
	}
	linked, err := db.LinkedOrganizations(ctx, l.PayingOrg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(linked) != len(l.Linked) {
		t.Errorf("store links %d organizations to the paying one, layout %d", len(linked), len(l.Linked))
	}
	if problems, err := db.Verify(ctx); err != nil || len(problems) > 0 {
		t.Errorf("Verify: %v %v", err, problems)
	}

	// A second run is a no-op.
	version := st.DataVersion
	err = Generate(ctx, cfg, func(b *costexplorer.UsageBatch) error {
		res, err := db.IngestUsage(ctx, b)
		if err == nil && res.Inserted != 0 {
			t.Errorf("second run inserted %d items", res.Inserted)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := db.DataVersion(ctx); v != version {
		t.Errorf("data version %d after a second run, was %d", v, version)
	}
}

// BenchmarkGenerateIngestSQLite is what `costexplorer demo` does on first
// start: the default dataset generated and ingested into a fresh SQLite file.
func BenchmarkGenerateIngestSQLite(b *testing.B) {
	cfg := Config{Seed: 1, Now: pinnedNow}
	var n int64
	for b.Loop() {
		b.StopTimer()
		db := openSQLite(b)
		b.StartTimer()
		items, _ := ingest(b, db, cfg)
		n += items
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/dataset")
}

// TestGenerate_InvoicesMatchTheirItems: every invoice of the demo holds the
// sums of its line items to the cent; past invoices are PAID by one payment
// of their amount billed, last month's is CLOSED until the 3rd and INVOICED
// from then, the current month's PENDING.
func TestGenerate_InvoicesMatchTheirItems(t *testing.T) {
	for _, now := range []time.Time{pinnedNow, time.Date(2025, 3, 2, 23, 0, 0, 0, time.UTC)} {
		t.Run(now.Format(time.DateOnly), func(t *testing.T) {
			ctx := context.Background()
			db := openSQLite(t)
			cfg := testConfig(20_000)
			cfg.Now = now
			want := map[string]costexplorer.InvoiceAmounts{}
			err := Generate(ctx, cfg, func(b *costexplorer.UsageBatch) error {
				for i := range b.Items {
					li := &b.Items[i]
					a := want[li.Invoice()]
					a.Add(li.Amount)
					want[li.Invoice()] = a
				}
				_, err := db.IngestUsage(ctx, b)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			l := Describe(cfg)
			current := costexplorer.MonthOf(now)
			lastStatus := costexplorer.InvoiceInvoiced
			if now.Day() < 3 {
				lastStatus = costexplorer.InvoiceClosed
			}
			n := 0
			for _, o := range append(append([]costexplorer.Organization{l.PayingOrg}, l.Linked...), l.Others...) {
				q := &costexplorer.InvoiceListQuery{OrgID: o.ID, SortBy: costexplorer.InvoiceSortStartDate, OrderBy: costexplorer.SortAsc,
					Page: costexplorer.PageRequest{ItemsPerPage: 500, PageNum: 1}}
				invs, _, err := db.Invoices(ctx, q, now)
				if err != nil {
					t.Fatal(err)
				}
				if len(invs) != DefaultMonths {
					t.Fatalf("organization %s has %d invoices, want one a month (%d)", o.ID, len(invs), DefaultMonths)
				}
				for _, inv := range invs {
					n++
					if inv.Amounts != want[inv.ID] {
						t.Errorf("%s: amounts %+v, its items sum to %+v", inv, inv.Amounts, want[inv.ID])
					}
					wantStatus := costexplorer.InvoicePaid
					switch inv.Month {
					case current:
						wantStatus = costexplorer.InvoicePending
					case current - 1:
						wantStatus = lastStatus
					}
					if st := inv.StatusAt(now); st != wantStatus {
						t.Errorf("%s of %s: %s on %s, want %s", inv, inv.Month, st, now.Format(time.DateOnly), wantStatus)
					}
					if wantStatus == costexplorer.InvoicePaid && (len(inv.Payments) != 1 || inv.AmountPaid(now) != inv.AmountBilled()) {
						t.Errorf("%s: paid %s by %d payments, billed %s", inv, inv.AmountPaid(now), len(inv.Payments), inv.AmountBilled())
					}
					if wantStatus != costexplorer.InvoicePaid && len(inv.Payments) != 0 {
						t.Errorf("%s (%s) has %d payments", inv, wantStatus, len(inv.Payments))
					}
				}
			}
			if n != len(want) {
				t.Errorf("%d invoices listed, the items name %d", n, len(want))
			}
			if problems, err := db.Verify(ctx); err != nil || len(problems) > 0 {
				t.Errorf("Verify: %v %v", err, problems)
			}
		})
	}
}

// TestGenerate_TagsHaveHistory: projects and clusters carry team,
// cost-center and environment tags that change over the window, and a few
// SKUs are discounted.
func TestGenerate_TagsHaveHistory(t *testing.T) {
	ds := generateAll(t, testConfig(60_000))
	teamsOf := map[string]map[string]bool{} // project → teams seen
	costCenters, envs := map[string]bool{}, map[string]bool{}
	var discounted, untagged int
	for _, li := range ds.items() {
		switch {
		case li.ProjectID == "":
			if !li.Tags.IsZero() {
				t.Fatalf("organization-level item %s carries tags %s", li.ID, li.Tags)
			}
			untagged++
		default:
			if teamsOf[li.ProjectID] == nil {
				teamsOf[li.ProjectID] = map[string]bool{}
			}
			teamsOf[li.ProjectID][li.Tags.Values("team")[0]] = true
			costCenters[li.Tags.Values("cost-center")[0]] = true
			if li.ClusterID != "" {
				envs[li.Tags.Values("environment")[0]] = true
			} else if li.Tags.Values("environment") != nil {
				t.Fatalf("project-level item %s carries an environment", li.ID)
			}
		}
		if li.Discount > 0 {
			discounted++
		}
	}
	changed := 0
	for _, ts := range teamsOf {
		if len(ts) > 1 {
			changed++
		}
	}
	if changed == 0 || len(costCenters) < 4 || len(envs) != 3 || discounted == 0 || untagged == 0 {
		t.Errorf("%d projects changed team, %d cost centers, environments %v, %d discounted items, %d untagged", changed, len(costCenters), envs, discounted, untagged)
	}
}
