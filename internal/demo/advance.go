package demo

import (
	"context"
	"fmt"

	"github.com/costexplorer/costexplorer"
)

// ProvisionalDays is how many days, up to Now's, a source still meters:
// their metered charges (storage, traffic, requests) come in short and are
// restated as the days pass. Only days after Anchor's are provisional, so
// the demo generated at once (Now = Anchor) has none.
const ProvisionalDays = 3

// provisional returns the quantity q of use u on day index d as reported on
// Now's day: 2 to 4 % short for each day younger than ProvisionalDays, h
// being the item's noise hash.
func (p *plan) provisional(u *use, d int, q int64, h uint64) int64 {
	age := len(p.days) - 1 - d
	if d < p.planned || age >= ProvisionalDays || (u.model != qtyGrowing && u.model != qtySeasonal) {
		return q
	}
	short := int64(ProvisionalDays-age) * (2 + int64(h>>40%3))
	return max(q*(100-short)/100, 1)
}

// Advancer is a store the demo advances: its usage and its ingest sessions.
type Advancer interface {
	costexplorer.UsageStore
	costexplorer.UsageSessionStore
}

// AdvanceResult reports what an advance changed: the days it went from and
// to, the invoices it replaced, and its ingest (items inserted, removed and
// left alike).
type AdvanceResult struct {
	From, To costexplorer.Day
	Invoices int
	costexplorer.IngestResult
}

// Advance brings s, which holds the demo data of cfg's world (its Seed,
// LineItems, Months and Anchor) as of an earlier day than cfg.Now, to the
// data as of cfg.Now, exactly as [Generate] emits it, in one transaction:
// the invoices that may differ (those of the month of the first provisional
// day of the stored data onwards, of every organization) are restated with
// [costexplorer.UsageBatch.ReplaceInvoices] — new days added, provisional
// days restated, a month that ended closed and the next one opened — and the
// invoices that became paid record their payments. The stored data's day is
// its last usage day; advancing to it again changes nothing, and going back
// is ErrValidation.
func Advance(ctx context.Context, s Advancer, cfg Config) (AdvanceResult, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return AdvanceResult{}, err
	}
	stats, err := s.UsageStats(ctx)
	if err != nil {
		return AdvanceResult{}, err
	}
	res := AdvanceResult{From: stats.LastDay, To: costexplorer.DayOf(cfg.Now)}
	switch {
	case stats.LineItems == 0:
		return res, costexplorer.Errorf(costexplorer.ErrValidation, "no demo data to advance: generate it first")
	case res.To < res.From:
		return res, costexplorer.Errorf(costexplorer.ErrValidation, "the demo data is as of %s: it cannot go back to %s", res.From, res.To)
	}
	from := (res.From - (ProvisionalDays - 1)).Month()
	p, err := newPlan(cfg)
	if err != nil {
		return res, err
	}
	var replace []string
	for _, o := range p.orgs {
		for m := from; m <= res.To.Month(); m++ {
			replace = append(replace, costexplorer.InvoiceID(o.org.ID, m))
		}
	}
	res.Invoices = len(replace)

	sess, err := s.BeginUsage(ctx)
	if err != nil {
		return res, err
	}
	defer sess.Rollback()
	err = Generate(ctx, cfg, func(b *costexplorer.UsageBatch) error {
		kept := b.Items[:0]
		for i := range b.Items {
			if b.Items[i].Month() >= from {
				kept = append(kept, b.Items[i])
			}
		}
		b.Items = kept
		// The first chunk lists the invoices; the list holds for the
		// session's later chunks.
		b.ReplaceInvoices, replace = replace, nil
		return sess.Add(ctx, b)
	})
	if err != nil {
		return res, fmt.Errorf("advance the demo data: %w", err)
	}
	res.IngestResult, err = sess.Commit(ctx)
	if err != nil {
		return res, fmt.Errorf("advance the demo data: %w", err)
	}
	return res, nil
}
