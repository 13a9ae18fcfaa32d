package demo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"hash"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// pinnedNow is the clock of every test: the data ends on 2025-03-17.
var pinnedNow = time.Date(2025, 3, 17, 15, 4, 5, 0, time.UTC)

func testConfig(items int) Config {
	return Config{Seed: 42, LineItems: items, Now: pinnedNow, BatchSize: 5000}
}

// hashDataset generates cfg and hashes every field of every batch, in order.
func hashDataset(t testing.TB, cfg Config) (string, int) {
	t.Helper()
	h := sha256.New()
	n := 0
	err := Generate(context.Background(), cfg, func(b *costexplorer.UsageBatch) error {
		hashBatch(h, b)
		n += len(b.Items)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func hashBatch(h hash.Hash, b *costexplorer.UsageBatch) {
	str := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	str("batch")
	for _, o := range b.Organizations {
		str(o.ID)
		str(o.Name)
		str(o.PayingOrgID)
		str(o.CreatedAt.Format(time.RFC3339Nano))
	}
	for _, p := range b.Projects {
		str(p.ID)
		str(p.OrgID)
		str(p.Name)
	}
	for _, c := range b.Clusters {
		str(c.ID)
		str(c.ProjectID)
		str(c.Name)
		str(c.Provider)
		str(c.Tier)
	}
	for i := range b.Items {
		hashItem(h, &b.Items[i])
	}
	for _, inv := range b.Invoices {
		str(inv.ID)
		str(inv.OrgID)
		str(inv.Month.String())
		for _, p := range inv.Payments {
			str(p.ID)
			str(p.Created.Format(time.RFC3339Nano))
			str(string(p.Status))
			str(p.AmountPaid.String())
		}
	}
}

func hashItem(h hash.Hash, li *costexplorer.LineItem) {
	str := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	num := func(v int64) { h.Write(binary.LittleEndian.AppendUint64(nil, uint64(v))) }
	{
		h.Write(li.ID[:])
		str(li.OrgID)
		str(li.ProjectID)
		str(li.ClusterID)
		str(string(li.Service))
		str(li.SKU)
		num(int64(li.Date))
		num(int64(math.Float64bits(li.Quantity)))
		str(li.Unit)
		num(li.UnitPriceNanos)
		num(int64(li.Amount))
		str(li.Tags.String())
		str(li.Description)
		str(li.Region)
		str(li.ReplicaSet)
		num(int64(math.Float64bits(li.DiscountPercent)))
		num(int64(li.Discount))
	}
}

func TestGenerate_Deterministic(t *testing.T) {
	cfg := testConfig(60_000)
	a, n := hashDataset(t, cfg)
	b, _ := hashDataset(t, cfg)
	if a != b {
		t.Fatalf("two runs of the same config differ: %s vs %s", a, b)
	}
	t.Run("SameHashAcrossReleases", func(t *testing.T) {
		// The golden hash pins the data itself, so a change of the generator
		// (or of anything it depends on) that alters the demo is deliberate.
		path := filepath.Join("testdata", "seed42-60k.sha256")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(a+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got := strings.TrimSpace(string(want)); got != a {
			t.Errorf("dataset hash = %s, golden %s (%d items); run with -update if the change is intended", a, got, n)
		}
	})
	t.Run("OtherSeedDiffers", func(t *testing.T) {
		other := cfg
		other.Seed = 43
		if c, _ := hashDataset(t, other); c == a {
			t.Fatal("seeds 42 and 43 produced the same data")
		}
	})
	t.Run("BatchSizeOnlyRegroups", func(t *testing.T) {
		// The items do not depend on how they are batched.
		items := func(bs int) string {
			cfg := cfg
			cfg.BatchSize = bs
			h := sha256.New()
			err := Generate(context.Background(), cfg, func(b *costexplorer.UsageBatch) error {
				for i := range b.Items {
					hashItem(h, &b.Items[i])
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return hex.EncodeToString(h.Sum(nil))
		}
		if items(777) != items(50_000) {
			t.Fatal("the items differ with the batch size")
		}
	})
}

// dataset is a fully generated small dataset, with its plan, for shape tests.
type dataset struct {
	cfg     Config
	plan    *plan
	layout  Layout
	batches []*costexplorer.UsageBatch
}

func generateAll(t *testing.T, cfg Config) *dataset {
	t.Helper()
	ds := &dataset{cfg: cfg, layout: Describe(cfg)}
	var err error
	ds.plan, err = newPlan(cfg.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	err = Generate(context.Background(), cfg, func(b *costexplorer.UsageBatch) error {
		ds.batches = append(ds.batches, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (ds *dataset) items() []*costexplorer.LineItem {
	var out []*costexplorer.LineItem
	for _, b := range ds.batches {
		for i := range b.Items {
			out = append(out, &b.Items[i])
		}
	}
	return out
}

func TestGenerate_EveryItemValidAndSelfContained(t *testing.T) {
	ds := generateAll(t, testConfig(60_000))
	seen := map[costexplorer.LineItemID]bool{}
	var total int64
	for bi, b := range ds.batches {
		if len(b.Items) == 0 || len(b.Items) > ds.cfg.BatchSize {
			t.Fatalf("batch %d has %d items, want 1..%d", bi, len(b.Items), ds.cfg.BatchSize)
		}
		orgs := map[string]*costexplorer.Organization{}
		for i := range b.Organizations {
			o := &b.Organizations[i]
			if err := o.Validate(); err != nil {
				t.Fatalf("batch %d: %v", bi, err)
			}
			if orgs[o.ID] != nil {
				t.Fatalf("batch %d: organization %s twice", bi, o.ID)
			}
			orgs[o.ID] = o
		}
		for _, o := range orgs {
			if o.PayingOrgID != "" && orgs[o.PayingOrgID] == nil {
				t.Fatalf("batch %d: linked organization %s without its paying organization", bi, o.ID)
			}
		}
		projects := map[string]string{}
		for _, p := range b.Projects {
			if orgs[p.OrgID] == nil {
				t.Fatalf("batch %d: project %s without its organization", bi, p.ID)
			}
			if _, dup := projects[p.ID]; dup || !costexplorer.IsID(p.ID) || p.Name == "" {
				t.Fatalf("batch %d: bad or repeated project %+v", bi, p)
			}
			projects[p.ID] = p.OrgID
		}
		clusters := map[string]string{}
		for _, c := range b.Clusters {
			if _, ok := projects[c.ProjectID]; !ok {
				t.Fatalf("batch %d: cluster %s without its project", bi, c.ID)
			}
			if _, dup := clusters[c.ID]; dup || !costexplorer.IsID(c.ID) || c.Name == "" {
				t.Fatalf("batch %d: bad or repeated cluster %+v", bi, c)
			}
			clusters[c.ID] = c.ProjectID
		}
		for i := range b.Items {
			li := &b.Items[i]
			if err := li.Validate(); err != nil {
				t.Fatalf("batch %d: %v", bi, err)
			}
			if seen[li.ID] {
				t.Fatalf("batch %d: line item id %s twice", bi, li.ID)
			}
			seen[li.ID] = true
			if orgs[li.OrgID] == nil {
				t.Fatalf("batch %d: item %s references organization %s not in its batch", bi, li.ID, li.OrgID)
			}
			if li.ProjectID != "" && projects[li.ProjectID] != li.OrgID {
				t.Fatalf("batch %d: item %s: project %s not in its batch or of another organization", bi, li.ID, li.ProjectID)
			}
			if li.ClusterID != "" && clusters[li.ClusterID] != li.ProjectID {
				t.Fatalf("batch %d: item %s: cluster %s not in its batch or of another project", bi, li.ID, li.ClusterID)
			}
			s, err := costexplorer.LookupSKU(li.SKU)
			if err != nil {
				t.Fatalf("item %s: %v", li.ID, err)
			}
			if s.Service != li.Service || s.Unit != li.Unit {
				t.Fatalf("item %s: service/unit %q/%q, catalogue says %q/%q", li.ID, li.Service, li.Unit, s.Service, s.Unit)
			}
			if li.Date < ds.layout.FirstDay || li.Date > ds.layout.LastDay {
				t.Fatalf("item %s: date %s outside %s..%s", li.ID, li.Date, ds.layout.FirstDay, ds.layout.LastDay)
			}
			// The amount is quantity × unit price, rounded to the cent, less
			// the discount of a discounted SKU (whose unit price is the list
			// price), which is that percentage of the gross charge.
			gross := li.Quantity * float64(li.UnitPriceNanos) / 1e7
			want := gross * (1 - li.DiscountPercent/100)
			if math.Abs(float64(li.Amount)-want) > 0.51+gross/1e6 {
				t.Fatalf("item %s: amount %d cents, quantity %v × %d nanodollars less %v%% = %.2f cents", li.ID, li.Amount, li.Quantity, li.UnitPriceNanos, li.DiscountPercent, want)
			}
			if math.Abs(float64(li.Discount)-(gross-float64(li.Amount))) > 0.51 || (li.Discount > 0) != (li.DiscountPercent > 0 && li.Amount > 0) {
				t.Fatalf("item %s: discount %d cents of %.2f gross for %d cents at %v%%", li.ID, li.Discount, gross, li.Amount, li.DiscountPercent)
			}
		}
		total += int64(len(b.Items))
	}
	if total != ds.layout.LineItems {
		t.Errorf("generated %d items, Describe says %d", total, ds.layout.LineItems)
	}
	if lo, hi := int64(ds.cfg.LineItems)*3/4, int64(ds.cfg.LineItems)*5/4; total < lo || total > hi {
		t.Errorf("generated %d items for a target of %d", total, ds.cfg.LineItems)
	}
	if want := costexplorer.DayOf(pinnedNow); ds.layout.LastDay != want {
		t.Errorf("last day %s, want Now's day %s", ds.layout.LastDay, want)
	}
	if want := costexplorer.DayOf(costexplorer.MakeMonth(2023, time.August).Start()); ds.layout.FirstDay != want {
		t.Errorf("first day %s, want %s (20 months ending March 2025)", ds.layout.FirstDay, want)
	}
}

func TestGenerate_Shape(t *testing.T) {
	ds := generateAll(t, testConfig(DefaultLineItems))
	l := ds.layout
	t.Run("DefaultOrganizations", func(t *testing.T) {
		if len(l.Linked) != 2 || len(l.Others) != 1 {
			t.Fatalf("linked %d, others %d; want 2 linked and 1 unlinked", len(l.Linked), len(l.Others))
		}
		for _, o := range l.Linked {
			if o.PayingOrgID != l.PayingOrg.ID {
				t.Errorf("linked %s pays to %q, want %s", o.Name, o.PayingOrgID, l.PayingOrg.ID)
			}
		}
		if l.PayingOrg.PayingOrgID != "" || l.Others[0].PayingOrgID != "" {
			t.Error("paying or unlinked organization has a paying organization")
		}
		if l.Projects < 24 {
			t.Errorf("%d projects, want dozens", l.Projects)
		}
	})

	services := map[costexplorer.Service]int{}
	tiers := map[string]bool{}
	providers := map[string]bool{}
	var partialSupport, credits int
	for _, li := range ds.items() {
		services[li.Service]++
		switch li.Service {
		case costexplorer.ServiceSupport:
			if li.ProjectID != "" || li.ClusterID != "" {
				t.Fatalf("support item %s has a project or cluster", li.ID)
			}
			partialSupport++
		case costexplorer.ServiceCredits:
			if li.Amount >= 0 || li.ProjectID != "" {
				t.Fatalf("credit item %s: amount %d, project %q; want a negative org-level amount", li.ID, li.Amount, li.ProjectID)
			}
			credits++
		}
	}
	for _, c := range ds.plan.clusters {
		tiers[c.cluster.Tier] = true
		providers[c.cluster.Provider] = true
	}
	t.Run("PartialMatchSupport", func(t *testing.T) {
		// One support charge per organization and month.
		if want := len(ds.plan.orgs) * ds.cfg.withDefaults().Months; partialSupport != want {
			t.Errorf("%d support items, want %d", partialSupport, want)
		}
	})
	t.Run("NegativeCredits", func(t *testing.T) {
		if credits < ds.cfg.withDefaults().Months {
			t.Errorf("%d credit items, want at least one a month", credits)
		}
	})
	t.Run("TiersAndProviders", func(t *testing.T) {
		for _, want := range []string{"SERVERLESS", "FLEX", "M10", "M30", "M40"} {
			if !tiers[want] {
				t.Errorf("no %s cluster (tiers %v)", want, tiers)
			}
		}
		for _, want := range []string{"AWS", "GCP", "AZURE"} {
			if !providers[want] {
				t.Errorf("no cluster on %s", want)
			}
		}
	})
	t.Run("Services", func(t *testing.T) {
		for _, s := range []costexplorer.Service{
			costexplorer.ServiceClusters, costexplorer.ServiceStorage, costexplorer.ServiceDataTransfer,
			costexplorer.ServiceBackup, costexplorer.ServiceServerless, costexplorer.ServiceAppServices,
			costexplorer.ServiceCharts, costexplorer.ServiceBIConnector, costexplorer.ServiceDataFederation,
			costexplorer.ServiceStreamProcessing, costexplorer.ServiceSupport, costexplorer.ServiceCredits,
		} {
			if services[s] == 0 {
				t.Errorf("no %s items (have %v)", s, services)
			}
		}
	})
	t.Run("NoUsageAfterDeletion", func(t *testing.T) {
		lastUse := map[string]costexplorer.Day{}
		firstUse := map[string]costexplorer.Day{}
		for _, li := range ds.items() {
			if li.ClusterID == "" {
				continue
			}
			if d, ok := lastUse[li.ClusterID]; !ok || li.Date > d {
				lastUse[li.ClusterID] = li.Date
			}
			if d, ok := firstUse[li.ClusterID]; !ok || li.Date < d {
				firstUse[li.ClusterID] = li.Date
			}
		}
		deleted, created := 0, 0
		for _, c := range ds.plan.clusters {
			id := c.cluster.ID
			if c.deleted {
				deleted++
				if got, want := lastUse[id], ds.plan.days[c.last].day; got != want {
					t.Errorf("cluster %s deleted on %s has usage until %s", c.cluster.Name, want, got)
				}
			} else if lastUse[id] != l.LastDay {
				t.Errorf("live cluster %s has usage until %s, want %s", c.cluster.Name, lastUse[id], l.LastDay)
			}
			if c.first > 0 {
				created++
			}
			if got, want := firstUse[id], ds.plan.days[c.first].day; got != want {
				t.Errorf("cluster %s created on %s has usage from %s", c.cluster.Name, want, got)
			}
		}
		if deleted == 0 || created == 0 {
			t.Errorf("%d clusters deleted and %d created within the window; want some of each", deleted, created)
		}
	})
	t.Run("GrowthAndWeeklySeasonality", func(t *testing.T) {
		byMonth := map[costexplorer.Month]costexplorer.Cents{}
		var weekday, weekend costexplorer.Cents
		for _, li := range ds.items() {
			byMonth[li.Date.Month()] += li.Amount
			if li.Service != costexplorer.ServiceDataTransfer {
				continue
			}
			switch li.Date.Time().Weekday() {
			case time.Saturday, time.Sunday:
				weekend += li.Amount
			case time.Tuesday, time.Wednesday:
				weekday += li.Amount
			}
		}
		first, last := byMonth[costexplorer.MakeMonth(2023, time.August)], byMonth[costexplorer.MakeMonth(2025, time.February)]
		if last <= first*12/10 {
			t.Errorf("spend grew from %s to %s; want more than 20%% growth", first, last)
		}
		if weekend >= weekday {
			t.Errorf("data transfer on weekends %s ≥ on Tuesdays and Wednesdays %s", weekend, weekday)
		}
	})
}

func TestDescribe_ReferenceSize(t *testing.T) {
	// DESIGN §4: at 20 M line items, about 50 organizations, 2,000 projects
	// and 8,000 clusters.
	l := Describe(Config{Seed: 1, LineItems: 20_000_000, Months: 18, Now: pinnedNow})
	orgs := 1 + len(l.Linked) + len(l.Others)
	check := func(name string, got, lo, hi int64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %d, want %d..%d", name, got, lo, hi)
		}
	}
	check("organizations", int64(orgs), 45, 55)
	check("linked organizations", int64(len(l.Linked)), 3, 15)
	check("projects", int64(l.Projects), 1700, 2300)
	check("clusters", int64(l.Clusters), 7000, 9000)
	check("line items", l.LineItems, 19_000_000, 21_000_000)
}

func TestGenerate_Stops(t *testing.T) {
	t.Run("EmitError", func(t *testing.T) {
		boom := errors.New("boom")
		calls := 0
		err := Generate(context.Background(), testConfig(60_000), func(*costexplorer.UsageBatch) error {
			calls++
			return boom
		})
		if !errors.Is(err, boom) || calls != 1 {
			t.Fatalf("err = %v after %d calls, want boom after 1", err, calls)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		err := Generate(ctx, testConfig(60_000), func(*costexplorer.UsageBatch) error {
			calls++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Fatalf("err = %v after %d calls, want context.Canceled after 1", err, calls)
		}
	})
}

func TestCentsOf(t *testing.T) {
	tests := []struct {
		name       string
		qtyMilli   int64
		priceNanos int64
		want       costexplorer.Cents
	}{
		{"M10Day", 72_000, 80_000_000, 576},
		{"RoundsHalfUp", 1_000, 5_000_000, 1},
		{"RoundsDown", 1_000, 4_999_999, 0},
		{"Credit", 1_500_000, -1_000_000_000, -150_000},
		{"NegativeRoundsAwayFromZero", 1_000, -5_000_000, -1},
		{"LargeWithoutOverflow", 5_000_000_000_000, 9_000_000_000, 4_500_000_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := centsOf(tt.qtyMilli, tt.priceNanos); got != tt.want {
				t.Errorf("centsOf(%d, %d) = %d, want %d", tt.qtyMilli, tt.priceNanos, got, tt.want)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Seed: 7, LineItems: 1_000_000, Now: pinnedNow}
	var n int64
	b.ResetTimer()
	for b.Loop() {
		err := Generate(context.Background(), cfg, func(batch *costexplorer.UsageBatch) error {
			n += int64(len(batch.Items))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(0, "ns/op")
}
