package demo

import (
	"strconv"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// What an invoice shows of the demo's items beyond their amounts: tags that
// change over time, descriptions, regions, discounts, and the invoices'
// payments. None of it draws from the plan's random sequence (each is a hash
// of the resource's salt), so the resources and the amounts are those of the
// demo before invoices existed: every cost-explorer answer stays the same.

// The tag values. A project carries a team and a cost center, a cluster
// also its environment.
var (
	teams        = []string{"payments", "search", "platform", "data", "mobile", "growth"}
	environments = []string{"production", "staging", "development"}
)

// tagState is what fixes an item's tags: indexes into teams and
// environments (-1: none) and the cost center.
type tagState struct {
	team, env int8
	costCode  int16
}

// projectTags returns the team and cost center of project pi on day index
// d. A third of the projects change team once, on a day of their own; every
// cost center is renumbered at the reorganisation half-way through the
// window, so a query by tag over the whole window shows both.
func (p *plan) projectTags(pi, d int) (team int8, costCode int16) {
	h := mix(p.projects[pi].salt ^ 0x7a95)
	team = int8(h % uint64(len(teams)))
	if h>>8%3 == 0 && d >= int(h>>16%uint64(p.planned)) {
		team = (team + 1) % int8(len(teams))
	}
	costCode = int16(100 + h>>24%40)
	if d >= p.planned/2 {
		costCode += 100
	}
	return team, costCode
}

// clusterEnv returns the environment of cluster ci on day index d: most are
// production from their first day; a third start in staging and are promoted
// after a few weeks; one in seven is a development cluster.
func (p *plan) clusterEnv(ci, d int) int8 {
	c := &p.clusters[ci]
	h := mix(c.salt ^ 0xe1e1)
	switch {
	case h%7 == 0:
		return 2
	case h%3 == 0 && d < c.first+14+int(h>>8%45):
		return 1
	}
	return 0
}

// tags returns the tags of an item of project pi and cluster ci (-1: none)
// on day index d, built once per distinct state.
func (g *generator) tags(pi, ci, d int) costexplorer.Tags {
	if pi < 0 {
		return costexplorer.Tags{}
	}
	st := tagState{env: -1}
	st.team, st.costCode = g.projectTags(pi, d)
	if ci >= 0 {
		st.env = g.clusterEnv(ci, d)
	}
	if t, ok := g.tagCache[st]; ok {
		return t
	}
	m := map[string][]string{"team": {teams[st.team]}, "cost-center": {"cc-" + strconv.Itoa(int(st.costCode))}}
	if st.env >= 0 {
		m["environment"] = []string{environments[st.env]}
	}
	t := costexplorer.MustTags(m)
	g.tagCache[st] = t
	return t
}

// regions are the cloud regions clusters run in, by provider.
var regions = map[string][]string{
	"AWS":   {"US_EAST_1", "US_WEST_2", "EU_WEST_1"},
	"GCP":   {"CENTRAL_US", "WESTERN_EUROPE"},
	"AZURE": {"US_EAST_2", "EUROPE_WEST"},
}

// region returns the region of cluster ci.
func (p *plan) region(ci int) string {
	c := &p.clusters[ci]
	rs := regions[c.cluster.Provider]
	if len(rs) == 0 {
		return ""
	}
	return rs[mix(c.salt^0x4e61)%uint64(len(rs))]
}

// discounts are the SKUs sold at a discount (by the end of their id, any
// provider), in percent: the amount is net of it, the unit price the list
// price.
var discounts = []struct {
	suffix  string
	percent int64
}{
	{"_INSTANCE_M40", 15},
	{"_BACKUP_SNAPSHOT_STORAGE", 10},
	{"ATLAS_ADVANCED_SECURITY", 20},
}

// discountOf returns the discount percent of a SKU, 0 when it has none.
func discountOf(sku string) int64 {
	for _, d := range discounts {
		if strings.HasSuffix(sku, d.suffix) {
			return d.percent
		}
	}
	return 0
}

// describe sets what an invoice shows of li beyond its amount: the tags of
// its resource that day, the SKU's description, the cluster's region and
// replica set, and the discount of a discounted SKU (the item's amount is
// what was charged, so UnitPriceNanos becomes the list price it was taken
// from).
func (g *generator) describe(li *costexplorer.LineItem, s *sku, pi, ci, d int) {
	li.Tags = g.tags(pi, ci, d)
	li.Description = s.description
	if ci >= 0 {
		li.Region = g.regionOf[ci]
		if strings.Contains(s.id, "_INSTANCE_") {
			li.ReplicaSet = g.clusters[ci].cluster.Name + "-shard-0"
		}
	}
	if pct := discountOf(s.id); pct > 0 && li.Amount > 0 {
		li.UnitPriceNanos = s.priceNanos * 100 / (100 - pct)
		li.DiscountPercent = float64(pct)
		li.Discount = costexplorer.DiscountFrom(li.UnitPriceNanos, li.Quantity, li.Amount)
	}
}

// invoiceKey names an organization's invoice of a month in the generator.
type invoiceKey struct {
	org   int
	month costexplorer.Month
}

// paymentDelay is when after its issue date the demo pays an invoice: a
// week, on the tenth of the month after the invoice's, at 09:30Z.
const paymentDelay = 7*24*time.Hour + 9*time.Hour + 30*time.Minute

// invoices returns the metadata of the invoices of the window before last
// month: each is paid, by one payment of its amount billed a week after its
// issue date. The others need none: the store derives their status (the
// current month PENDING; last month's CLOSED until its issue date, the 3rd,
// then INVOICED, whatever the day, so the demo always shows one of each; an
// invoice billing nothing FREE).
func (g *generator) invoices() []costexplorer.Invoice {
	var out []costexplorer.Invoice
	first := g.days[0].day.Month()
	current := costexplorer.MonthOf(g.cfg.Now)
	for oi := range g.orgs {
		orgID := g.orgs[oi].org.ID
		for m := first; m < current-1; m++ {
			amounts, ok := g.amounts[invoiceKey{oi, m}]
			if !ok {
				continue
			}
			inv := costexplorer.NewInvoice(orgID, m, m.Start())
			inv.Amounts = amounts
			paidAt := inv.IssueDate().Add(paymentDelay)
			if inv.AmountBilled() <= 0 {
				continue
			}
			billed := inv.AmountBilled()
			out = append(out, costexplorer.Invoice{ID: inv.ID, OrgID: orgID, Month: m, Payments: []costexplorer.Payment{{
				ID:      costexplorer.DeriveID("demo", g.seed, "payment", orgID, m.String()),
				Created: paidAt, Updated: paidAt,
				Status:   costexplorer.PaymentPaid,
				Currency: "USD", UnitPrice: "1.00",
				Subtotal: inv.Subtotal(), AmountBilled: billed, AmountPaid: billed,
			}}})
		}
	}
	return out
}
