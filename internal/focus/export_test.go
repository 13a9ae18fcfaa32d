package focus

import (
	"bytes"
	"context"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

var (
	tmpDir     string
	demoOnce   sync.Once
	demoDB     *sqlite.DB
	demoLayout demo.Layout
	demoCfg    = demo.Config{Seed: 7, LineItems: 20_000, Months: 4, Now: time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC), BatchSize: 5000}
)

func TestMain(m *testing.M) {
	var err error
	if tmpDir, err = os.MkdirTemp("", "focus-test"); err != nil {
		panic(err)
	}
	code := m.Run()
	if demoDB != nil {
		demoDB.Close()
	}
	os.RemoveAll(tmpDir)
	os.Exit(code)
}

func openDB(t testing.TB, name string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tmpDir, name), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// demoStore is a demo dataset (a paying organization, linked ones, four
// months, tags, discounts, credits), built once for the package's tests.
func demoStore(t testing.TB) *sqlite.DB {
	demoOnce.Do(func() {
		demoDB = openDB(t, "demo.db")
		err := demo.Generate(context.Background(), demoCfg, func(b *costexplorer.UsageBatch) error {
			_, err := demoDB.IngestUsage(context.Background(), b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		demoLayout = demo.Describe(demoCfg)
	})
	if demoDB == nil {
		t.Fatal("demo store failed")
	}
	return demoDB
}

// Fixture ids.
var (
	fxPaying  = costexplorer.DeriveID("fx", "paying")
	fxLinked  = costexplorer.DeriveID("fx", "linked")
	fxProj1   = costexplorer.DeriveID("fx", "p1")
	fxProj2   = costexplorer.DeriveID("fx", "p2")
	fxCluster = costexplorer.DeriveID("fx", "c1")
	fxJan     = costexplorer.MakeMonth(2026, 1)
	fxFeb     = costexplorer.MakeMonth(2026, 2)
)

// fixtureStore holds the cases the demo lacks: a discount of 12.5 %, a
// key with two values and a quote in a tag, an organization-level charge,
// an empty description, an unknown unit, sales tax, and credits beyond an
// invoice's charges.
func fixtureStore(t testing.TB) *sqlite.DB {
	db := openDB(t, strings.ReplaceAll(t.Name(), "/", "_")+".db")
	t.Cleanup(func() { db.Close() })
	if _, err := db.IngestUsage(context.Background(), fixtureBatch()); err != nil {
		t.Fatal(err)
	}
	return db
}

// fixtureBatch is the data of fixtureStore.
func fixtureBatch() *costexplorer.UsageBatch {
	day := func(m costexplorer.Month, d int) costexplorer.Day {
		return costexplorer.DayOf(m.Start().AddDate(0, 0, d-1))
	}
	n := 0
	item := func(org, proj, cluster string, svc costexplorer.Service, sku string, d costexplorer.Day, qty float64, unit string, nanos int64, amount costexplorer.Cents) costexplorer.LineItem {
		n++
		return costexplorer.LineItem{ID: costexplorer.NewLineItemID("fx", string(rune('a'+n))), OrgID: org, ProjectID: proj,
			ClusterID: cluster, Service: svc, SKU: sku, Date: d, Quantity: qty, Unit: unit, UnitPriceNanos: nanos,
			Amount: amount, Description: "desc " + sku}
	}
	m40 := item(fxPaying, fxProj1, fxCluster, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M40", day(fxJan, 3), 24, "server hours", 1_188_571_428, 0)
	m40.DiscountPercent = 12.5
	m40.Amount = 2496 // 24 h × $1.188571428 × 0.875, to the cent
	m40.Discount = costexplorer.DiscountFrom(m40.UnitPriceNanos, m40.Quantity, m40.Amount)
	m40.Region = "US_EAST_1"
	m40.Tags = costexplorer.MustTags(map[string][]string{"team": {"payments", "search"}, "cost \"center\"": {"a,b"}})
	storage := item(fxPaying, fxProj1, fxCluster, costexplorer.ServiceStorage, "ATLAS_AWS_STORAGE_STANDARD", day(fxJan, 3), 12.345678, "GB days", 3_833_333, 5)
	support := item(fxPaying, "", "", costexplorer.ServiceSupport, "ATLAS_SUPPORT_PRO", day(fxJan, 1), 1, "months", 799_000_000_000, 79900)
	support.Description = ""
	odd := item(fxPaying, fxProj1, "", costexplorer.ServiceAppServices, "REALM_APP_SYNC", day(fxJan, 31), 0.5, "sync runtime seconds", 80_000, 0)
	credit := item(fxPaying, "", "", costexplorer.ServiceCredits, "CREDIT", day(fxJan, 15), 1000, "credits", -1_000_000_000, -100000)
	linkedCharge := item(fxLinked, fxProj2, "", costexplorer.ServiceDataTransfer, "ATLAS_AWS_DATA_TRANSFER_INTERNET", day(fxFeb, 28), 100, "GB", 90_000_000, 900)
	linkedCredit := item(fxLinked, "", "", costexplorer.ServiceCredits, "ATLAS_PROMOTIONAL_CREDIT", day(fxFeb, 1), 50, "credits", -1_000_000_000, -5000)
	febCharge := item(fxPaying, fxProj1, fxCluster, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M10", day(fxFeb, 10), 24, "server hours", 80_000_000, 192)

	return &costexplorer.UsageBatch{
		Organizations: []costexplorer.Organization{
			{ID: fxPaying, Name: "Paying, Inc."},
			{ID: fxLinked, Name: "Linked Ltd", PayingOrgID: fxPaying},
		},
		Projects: []costexplorer.Project{{ID: fxProj1, OrgID: fxPaying, Name: "Web"}, {ID: fxProj2, OrgID: fxLinked, Name: "Batch"}},
		Clusters: []costexplorer.Cluster{{ID: fxCluster, ProjectID: fxProj1, Name: "prod-east", Provider: "AWS", Tier: "M40"}},
		Items:    []costexplorer.LineItem{m40, storage, support, odd, credit, linkedCharge, linkedCredit, febCharge},
		Invoices: []costexplorer.Invoice{{ID: costexplorer.InvoiceID(fxPaying, fxFeb), OrgID: fxPaying, Month: fxFeb, SalesTax: 17}},
	}
}

// export runs an export into memory.
func export(t testing.TB, st Store, req Request) ([]byte, Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := Export(context.Background(), st, req, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

// readBack reads an export with the reader of its format.
func readBack(t testing.TB, data []byte, f Format, r *report) *table {
	t.Helper()
	var tb *table
	var err error
	if f == CSV {
		tb, err = readCSV(data, r)
	} else {
		tb, err = readParquet(data, r)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// expect returns what the checker needs from the store: the amount billed
// of every invoice req exports.
func expect(t testing.TB, st Store, req Request) expectation {
	t.Helper()
	ctx := context.Background()
	exp := expectation{spec: req.Spec, amountBilled: map[string]*big.Rat{}}
	ids := []string{req.OrgID}
	linked, err := st.LinkedOrganizations(ctx, req.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, linked...)
	for _, id := range ids {
		invs, err := invoicesOf(ctx, st, id, req.From, req.To)
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			full, err := st.Invoice(ctx, ids, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			exp.amountBilled[inv.ID] = big.NewRat(int64(full.AmountBilled()), 100)
		}
	}
	return exp
}

var cases = []struct {
	format Format
	spec   Spec
}{{CSV, Spec13}, {Parquet, Spec13}, {CSV, Spec12}, {Parquet, Spec12}}

// TestExport_DemoPassesTheChecker exports the whole demo billing account in
// every format and version and reads it back: every rule the checker
// enforces holds, and every line item of the exported invoices is a row.
func TestExport_DemoPassesTheChecker(t *testing.T) {
	st := demoStore(t)
	stats, err := st.UsageStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(string(c.format)+"-"+string(c.spec), func(t *testing.T) {
			req := Request{OrgID: demoLayout.PayingOrg.ID, From: demoLayout.FirstDay.Month(), To: demoLayout.LastDay.Month(), Spec: c.spec, Format: c.format}
			data, sum := export(t, st, req)
			r := &report{}
			tb := readBack(t, data, c.format, r)
			if got := Columns(c.spec); len(tb.columns) != len(got) {
				t.Errorf("%d columns, want %d", len(tb.columns), len(got))
			}
			if int64(len(tb.rows)) != sum.Rows {
				t.Errorf("read %d rows, export says %d", len(tb.rows), sum.Rows)
			}
			items := 0
			for _, row := range tb.rows {
				if tb.get(row, "x_ChargeSubType").null {
					items++
				}
			}
			// The demo's paying organization and its linked ones: all of
			// the demo's items except those of the other organizations.
			if items == 0 || int64(items) > stats.LineItems {
				t.Errorf("%d item rows of %d stored items", items, stats.LineItems)
			}
			if rep := check(tb, expect(t, st, req)); len(rep.byRule) > 0 {
				t.Errorf("FOCUS rules broken:\n%s", rep)
			}
			// The demo exercises what the rules are about, or passing
			// them would say little.
			seen := map[string]bool{}
			for _, row := range tb.rows {
				seen["tags"] = seen["tags"] || !tb.get(row, "Tags").null
				seen["discount"] = seen["discount"] || !tb.get(row, "x_DiscountPercent").null
				seen["credit"] = seen["credit"] || tb.get(row, "ChargeCategory").s == ChargeCredit
				seen["linked"] = seen["linked"] || tb.get(row, "x_OrganizationId").s != tb.get(row, "BillingAccountId").s
				seen["cluster"] = seen["cluster"] || !tb.get(row, "ResourceId").null
				seen["org-level"] = seen["org-level"] || tb.get(row, "SubAccountId").null
			}
			for _, k := range []string{"tags", "discount", "credit", "linked", "cluster", "org-level"} {
				if !seen[k] {
					t.Errorf("no %s row in the demo export", k)
				}
			}
		})
	}
}

// TestExport_FixturePassesTheChecker covers what the demo does not: tax,
// credits carried forward, an exact 12.5 % contracted price, quoted tags,
// organization-level charges and a unit the catalogue does not know.
func TestExport_FixturePassesTheChecker(t *testing.T) {
	st := fixtureStore(t)
	for _, c := range cases {
		t.Run(string(c.format)+"-"+string(c.spec), func(t *testing.T) {
			req := Request{OrgID: fxPaying, From: fxJan, To: fxFeb, Spec: c.spec, Format: c.format}
			data, sum := export(t, st, req)
			r := &report{}
			tb := readBack(t, data, c.format, r)
			if rep := check(tb, expect(t, st, req)); len(rep.byRule) > 0 {
				t.Errorf("FOCUS rules broken:\n%s", rep)
			}
			// 8 items, the paying organization's February sales tax, and the
			// credits beyond the charges of its January invoice and of the
			// linked organization's February one.
			if sum.Rows != 11 || sum.Invoices != 3 {
				t.Errorf("%d rows from %d invoices, want 11 from 3", sum.Rows, sum.Invoices)
			}
			byCategory := map[string]int{}
			for _, row := range tb.rows {
				byCategory[tb.get(row, "ChargeCategory").s]++
				if tb.get(row, "SkuId").s == "ATLAS_AWS_INSTANCE_M40" {
					assertCell(t, tb, row, "BillingAccountId", fxPaying)
					assertCell(t, tb, row, "SubAccountName", "Web")
					assertCell(t, tb, row, "ResourceName", "prod-east")
					if c.spec == Spec13 {
						assertCell(t, tb, row, "HostProviderName", "Amazon Web Services")
					}
					assertCell(t, tb, row, "PricingUnit", "Hours")
					assertCell(t, tb, row, "Tags", `{"cost \"center\"":"a,b","team":"payments;search"}`)
					if c.format == CSV {
						assertCell(t, tb, row, "ListUnitPrice", "1.188571428")
						assertCell(t, tb, row, "ContractedUnitPrice", "1.0399999995")
						assertCell(t, tb, row, "ContractedCost", "24.959999988")
						assertCell(t, tb, row, "BilledCost", "24.96")
					}
				}
				if tb.get(row, "SkuId").s == "REALM_APP_SYNC" {
					assertCell(t, tb, row, "PricingUnit", "SyncRuntime-Seconds")
				}
				if tb.get(row, "x_OrganizationId").s == fxLinked {
					assertCell(t, tb, row, "BillingAccountId", fxPaying)
					assertCell(t, tb, row, "BillingAccountName", "Paying, Inc.")
					assertCell(t, tb, row, "x_OrganizationName", "Linked Ltd")
				}
			}
			want := map[string]int{"Usage": 6, "Credit": 2, "Tax": 1, "Adjustment": 2}
			for k, v := range want {
				if byCategory[k] != v {
					t.Errorf("%d %s rows, want %d (all: %v)", byCategory[k], k, v, byCategory)
				}
			}
		})
	}
}

func assertCell(t *testing.T, tb *table, row []value, col, want string) {
	t.Helper()
	if got := tb.get(row, col); got.null || got.s != want {
		t.Errorf("%s = %q (null %v), want %q", col, got.s, got.null, want)
	}
}

// TestExport_ReconcilesWithTheRollup sums the item rows by month,
// organization, project, cluster and service and finds the cost explorer's
// rollup to the cent, in both formats.
func TestExport_ReconcilesWithTheRollup(t *testing.T) {
	st := demoStore(t)
	ctx := context.Background()
	orgs := map[string]bool{demoLayout.PayingOrg.ID: true}
	for _, o := range demoLayout.Linked {
		orgs[o.ID] = true
	}
	from, to := demoLayout.FirstDay.Month(), demoLayout.LastDay.Month()
	type key struct {
		month                          costexplorer.Month
		org, project, cluster, service string
	}
	want := map[key]*big.Rat{}
	err := st.ScanRollup(ctx, func(r *costexplorer.RollupRow) error {
		if orgs[r.OrgID] && r.Month >= from && r.Month <= to {
			k := key{r.Month, r.OrgID, r.ProjectID, r.ClusterID, string(r.Service)}
			if want[k] == nil {
				want[k] = new(big.Rat)
			}
			want[k].Add(want[k], big.NewRat(int64(r.Amount), 100))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{CSV, Parquet} {
		t.Run(string(f), func(t *testing.T) {
			data, _ := export(t, st, Request{OrgID: demoLayout.PayingOrg.ID, From: from, To: to, Format: f})
			tb := readBack(t, data, f, &report{})
			got := map[key]*big.Rat{}
			for _, row := range tb.rows {
				if !tb.get(row, "x_ChargeSubType").null {
					continue // tax and carried credits are no usage
				}
				k := key{costexplorer.MonthOf(tb.get(row, "ChargePeriodStart").t), tb.get(row, "x_OrganizationId").s,
					tb.get(row, "SubAccountId").s, tb.get(row, "ResourceId").s, tb.get(row, "ServiceName").s}
				if got[k] == nil {
					got[k] = new(big.Rat)
				}
				got[k].Add(got[k], tb.get(row, "BilledCost").num)
			}
			if len(got) != len(want) {
				t.Errorf("%d groups in the export, %d in the rollup", len(got), len(want))
			}
			for k, w := range want {
				if g := got[k]; g == nil || g.Cmp(w) != 0 {
					t.Errorf("%v: export %v, rollup %s", k, g, w.FloatString(2))
				}
			}
		})
	}
}

// TestExport_ReconcilesWithTheEngine asks the cost explorer's engine what
// the paying organization spent per month by organization, project,
// cluster and service, and finds the same cents in the export's item rows.
func TestExport_ReconcilesWithTheEngine(t *testing.T) {
	st := demoStore(t)
	ctx := context.Background()
	from, to := demoLayout.FirstDay.Month(), demoLayout.LastDay.Month()
	data, _ := export(t, st, Request{OrgID: demoLayout.PayingOrg.ID, From: from, To: to})
	tb := readBack(t, data, CSV, &report{})
	eng := engine.New(st, engine.Options{})
	for g, col := range map[costexplorer.GroupBy]string{
		costexplorer.GroupByOrganizations: "x_OrganizationId", costexplorer.GroupByProjects: "SubAccountId",
		costexplorer.GroupByClusters: "ResourceId", costexplorer.GroupByServices: "ServiceName",
	} {
		t.Run(string(g), func(t *testing.T) {
			type key struct{ date, group string }
			want := map[key]costexplorer.Cents{}
			rows, err := eng.Evaluate(ctx, &costexplorer.Query{OrgID: demoLayout.PayingOrg.ID, Start: from, End: to + 1, GroupBy: g})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				k := key{r.UsageDate, map[costexplorer.GroupBy]string{costexplorer.GroupByOrganizations: r.OrganizationID,
					costexplorer.GroupByProjects: r.ProjectID, costexplorer.GroupByClusters: r.ClusterID,
					costexplorer.GroupByServices: string(r.Service)}[g]}
				want[k] += r.UsageAmount
			}
			if len(want) < 2 {
				t.Fatalf("the engine answers %d groups", len(want))
			}
			got := map[key]costexplorer.Cents{}
			for _, row := range tb.rows {
				if !tb.get(row, "x_ChargeSubType").null {
					continue
				}
				cents := new(big.Rat).Mul(tb.get(row, "BilledCost").num, big.NewRat(100, 1))
				k := key{costexplorer.MonthOf(tb.get(row, "ChargePeriodStart").t).Date(), tb.get(row, col).s}
				got[k] += costexplorer.Cents(cents.Num().Int64())
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%v: export %s, engine %s", k, got[k], w)
				}
			}
			for k, g := range got {
				if _, ok := want[k]; !ok && g != 0 {
					t.Errorf("%v: export %s, engine has no row", k, g)
				}
			}
		})
	}
}
