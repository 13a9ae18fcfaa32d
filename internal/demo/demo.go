// Package demo generates realistic, deterministic Atlas usage: a paying
// organization with linked ones, projects, clusters of several tiers on AWS,
// GCP and Azure that come and go, and daily line items with growth and weekly
// seasonality, plus organization-level support charges and monthly credits.
//
// The same Config always yields byte-identical data, whatever the Go release
// or the machine: randomness comes from a seeded splitmix64 and quantities
// and amounts are integer arithmetic. Items are streamed in batches that each
// carry the dimensions they reference, so memory stays flat at any size.
package demo

import (
	"context"
	"time"

	"github.com/costexplorer/costexplorer"
)

// DefaultLineItems is the size `costexplorer demo` generates. It is chosen so
// that generating and ingesting it into the embedded SQLite store takes a few
// seconds on the reference machine (2 cores).
const DefaultLineItems = 300_000

// Defaults of the other Config fields.
const (
	DefaultMonths    = 20
	DefaultBatchSize = 20_000
)

// Config sizes and pins a generated dataset: the data is a pure function of
// it.
//
// Anchor is the day the demo's world is laid out as of: its organizations,
// projects and clusters, when each was created or deleted, the months of
// history (Months ending with Anchor's month) and the size (LineItems,
// counted to Anchor). Now is the day the data ends, Anchor's or later. Past
// Anchor the world runs on: the resources alive on Anchor's day keep running
// and growing, and, as a source like Atlas does, the usage of the last
// [ProvisionalDays] days is provisional (metered charges slightly short), so
// that the data as of a later day restates them. The data as of Now is the
// same whether generated at once or reached day by day (see [Advance]).
type Config struct {
	Seed      int64
	LineItems int       // approximate target number of line items as of Anchor (default DefaultLineItems)
	Months    int       // months of history ending with Anchor's month (default DefaultMonths)
	Now       time.Time // the data ends on Now's day (default: the current time; tests pin it)
	Anchor    time.Time // the world is laid out as of Anchor's day (default: Now), not after Now
	BatchSize int       // items per emitted batch (default DefaultBatchSize)
}

// withDefaults fills the zero fields of cfg.
func (cfg Config) withDefaults() Config {
	if cfg.LineItems <= 0 {
		cfg.LineItems = DefaultLineItems
	}
	if cfg.Months <= 0 {
		cfg.Months = DefaultMonths
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	cfg.Now = cfg.Now.UTC()
	if cfg.Anchor.IsZero() {
		cfg.Anchor = cfg.Now
	}
	cfg.Anchor = cfg.Anchor.UTC()
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	return cfg
}

// Layout describes the generated organizations and the size of the rest, so
// that `costexplorer demo` can create credentials for the paying organization
// and print example queries.
type Layout struct {
	PayingOrg costexplorer.Organization
	Linked    []costexplorer.Organization // linked to PayingOrg
	Others    []costexplorer.Organization // neither paying nor linked
	Projects  int
	Clusters  int
	LineItems int64 // the exact number of line items Generate emits
	FirstDay  costexplorer.Day
	LastDay   costexplorer.Day
}

// Describe returns the layout of the dataset Generate(cfg) emits, without
// generating it. cfg must be valid (see [Config.Validate]).
func Describe(cfg Config) Layout {
	p, err := newPlan(cfg.withDefaults())
	if err != nil {
		// The SKU list is fixed and checked by the package tests; the
		// caller validated cfg.
		panic(err)
	}
	l := Layout{
		PayingOrg: p.orgs[0].org,
		Projects:  len(p.projects),
		Clusters:  len(p.clusters),
		LineItems: p.count(),
		FirstDay:  p.days[0].day,
		LastDay:   p.days[len(p.days)-1].day,
	}
	for i := 1; i < len(p.orgs); i++ {
		if i <= p.linked {
			l.Linked = append(l.Linked, p.orgs[i].org)
		} else {
			l.Others = append(l.Others, p.orgs[i].org)
		}
	}
	return l
}

// Validate checks that Now is not before Anchor.
func (cfg Config) Validate() error {
	cfg = cfg.withDefaults()
	if now, anchor := costexplorer.DayOf(cfg.Now), costexplorer.DayOf(cfg.Anchor); now < anchor {
		return costexplorer.Errorf(costexplorer.ErrValidation, "the demo data cannot end on %s, before the day its world is laid out as of (%s)", now, anchor)
	}
	return nil
}

// Generate streams the dataset of cfg to emit in batches of cfg.BatchSize
// items (the last one smaller). Every batch carries the organizations,
// projects and clusters its items reference (and the paying organization of
// any linked one), so each can be ingested on its own. Each batch is freshly
// allocated: emit may keep it. Generate stops at the first error of emit or
// when ctx is done.
func Generate(ctx context.Context, cfg Config, emit func(*costexplorer.UsageBatch) error) error {
	cfg = cfg.withDefaults()
	p, err := newPlan(cfg)
	if err != nil {
		return err
	}
	g := &generator{plan: p, ctx: ctx, emit: emit, orgIn: make([]bool, len(p.orgs)),
		tagCache: map[tagState]costexplorer.Tags{}, amounts: map[invoiceKey]costexplorer.InvoiceAmounts{}, regionOf: make([]string, len(p.clusters))}
	for ci := range p.clusters {
		g.regionOf[ci] = p.region(ci)
	}
	g.reset()
	last := len(p.days) - 1
	for oi := range p.orgs {
		o := &p.orgs[oi]
		if err := g.uses(o.uses, o.salt, oi, -1, -1, o.org.ID, 0, last, false); err != nil {
			return err
		}
		for pi := o.projects.lo; pi < o.projects.hi; pi++ {
			pp := &p.projects[pi]
			if err := g.uses(pp.uses, pp.salt, oi, pi, -1, pp.project.ID, pp.first, last, false); err != nil {
				return err
			}
			for ci := pp.clusters.lo; ci < pp.clusters.hi; ci++ {
				c := &p.clusters[ci]
				if err := g.uses(c.uses, c.salt, oi, pi, ci, c.cluster.ID, c.first, c.last, c.deleted); err != nil {
					return err
				}
			}
		}
	}
	// The last batch records the invoices paid by now, and carries every
	// organization they belong to.
	for oi := range p.orgs {
		g.addOrg(oi)
	}
	g.b.Invoices = g.invoices()
	return g.flush()
}

// generator accumulates items into the current batch.
type generator struct {
	*plan
	ctx   context.Context
	emit  func(*costexplorer.UsageBatch) error
	b     *costexplorer.UsageBatch
	orgIn []bool // orgIn[i]: orgs[i] is in b
	lastP int    // index of the last project added to b
	lastC int    // index of the last cluster added to b

	tagCache map[tagState]costexplorer.Tags
	amounts  map[invoiceKey]costexplorer.InvoiceAmounts // of the items emitted so far
	regionOf []string                                   // by cluster index
}

func (g *generator) reset() {
	g.b = &costexplorer.UsageBatch{Items: make([]costexplorer.LineItem, 0, g.cfg.BatchSize)}
	clear(g.orgIn)
	g.lastP, g.lastC = -1, -1
}

func (g *generator) flush() error {
	if len(g.b.Items) == 0 && len(g.b.Invoices) == 0 {
		return nil
	}
	if err := g.ctx.Err(); err != nil {
		return err
	}
	if err := g.emit(g.b); err != nil {
		return err
	}
	g.reset()
	return nil
}

func (g *generator) addOrg(oi int) {
	if g.orgIn[oi] {
		return
	}
	if pay := g.orgs[oi].org.PayingOrgID; pay != "" && !g.orgIn[0] {
		g.orgIn[0] = true
		g.b.Organizations = append(g.b.Organizations, g.orgs[0].org)
	}
	g.orgIn[oi] = true
	g.b.Organizations = append(g.b.Organizations, g.orgs[oi].org)
}

// uses emits the items of one resource (an organization, project or cluster
// as oi/pi/ci say, -1 for none) from day index first to last. Iteration is
// day-major so a resource's items stay together and batches carry few
// dimensions.
func (g *generator) uses(us []use, salt uint64, oi, pi, ci int, entity string, first, last int, deleted bool) error {
	if len(us) == 0 {
		return nil
	}
	orgID, projectID, clusterID := g.orgs[oi].org.ID, "", ""
	if pi >= 0 {
		projectID = g.projects[pi].project.ID
	}
	if ci >= 0 {
		clusterID = g.clusters[ci].cluster.ID
	}
	for d := first; d <= last; d++ {
		day := &g.days[d]
		for ui := range us {
			u := &us[ui]
			if u.model == qtyMonthly && !day.first {
				continue
			}
			if len(g.b.Items) == 0 || g.lastP != pi || g.lastC != ci || !g.orgIn[oi] {
				g.need(oi, pi, ci)
			}
			s := &g.skus.list[u.sku]
			h := mix(salt ^ uint64(d)<<20 ^ uint64(ui))
			q := g.provisional(u, d, quantity(u, day, d, h, d == first && first > 0, d == last && deleted), h)
			g.b.Items = append(g.b.Items, costexplorer.LineItem{
				ID:             costexplorer.NewLineItemID("demo", g.seed, entity, s.id, day.str),
				OrgID:          orgID,
				ProjectID:      projectID,
				ClusterID:      clusterID,
				Service:        s.service,
				SKU:            s.id,
				Date:           day.day,
				Quantity:       float64(q) / 1000,
				Unit:           s.unit,
				UnitPriceNanos: s.priceNanos,
				Amount:         centsOf(q, s.priceNanos),
			})
			li := &g.b.Items[len(g.b.Items)-1]
			g.describe(li, s, pi, ci, d)
			k := invoiceKey{oi, day.day.Month()}
			a := g.amounts[k]
			a.Add(li.Amount)
			g.amounts[k] = a
			if len(g.b.Items) >= g.cfg.BatchSize {
				if err := g.flush(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// need puts the dimensions of the current resource into the batch.
func (g *generator) need(oi, pi, ci int) {
	g.addOrg(oi)
	if pi >= 0 && g.lastP != pi {
		g.lastP = pi
		g.b.Projects = append(g.b.Projects, g.projects[pi].project)
	}
	if ci >= 0 && g.lastC != ci {
		g.lastC = ci
		g.b.Clusters = append(g.b.Clusters, g.clusters[ci].cluster)
	}
}

// quantity returns the quantity of use u on day index d, in milli-units. h is
// the item's noise hash; created and deleted say the resource started or
// ended that day, which shortens hourly charges.
func quantity(u *use, day *dayInfo, d int, h uint64, created, deleted bool) int64 {
	switch u.model {
	case qtyHours:
		hours := int64(24)
		if created {
			hours = 1 + int64(h%23)
		}
		if deleted {
			hours = min(hours, 1+int64((h>>8)%23))
		}
		return u.base * hours
	case qtyFixed, qtyMonthly:
		return u.base
	}
	// ±10% noise and linear growth, in 1/65536ths.
	noise := 65536 - 6554 + int64(h>>16%13108)
	q := u.base * (65536 + u.growth*int64(d)) >> 16
	if u.model == qtySeasonal {
		q = q * day.season >> 16
	}
	q = q * noise >> 16
	return max(q, 1)
}
