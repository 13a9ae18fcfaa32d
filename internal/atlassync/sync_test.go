package atlassync_test

import (
	"context"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/atlassync"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// pair is a source server with the demo data and an empty target server
// that syncs from it, on one clock.
type pair struct {
	src, dst *servertest.Server
	// dstKey is an ORG_OWNER API key of the paying organization on the
	// target, created once the first sync brought the organization.
	dstPublic, dstPrivate string
}

func newPair(t *testing.T) *pair {
	t.Helper()
	src := servertest.New(t, servertest.Options{})
	dst := servertest.New(t, servertest.Options{NoDemo: true, Clock: src.Clock})
	return &pair{src: src, dst: dst}
}

// digest is a client of the source with its owner's API key, counting its
// requests into counter.
func (p *pair) digest(t *testing.T, counter *atlassync.RequestCounter) *client.Client {
	return p.digestB(t, counter)
}

func (p *pair) digestB(t testing.TB, counter *atlassync.RequestCounter) *client.Client {
	t.Helper()
	c, err := client.New(p.src.URL, client.WithDigest(p.src.PublicKey, p.src.PrivateKey),
		client.WithHTTPClient(httpClient(counter)), client.WithServerErrorRetries(5), client.WithRateLimitRetries(5))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oauth is a client of the source with a billing admin's service account
// (OAuth client credentials; a billing viewer would not see the linked
// organizations' invoices), counting its requests into counter.
func (p *pair) oauth(t *testing.T, counter *atlassync.RequestCounter) *client.Client {
	t.Helper()
	id, secret := p.src.ServiceAccount(t, p.src.Org, nil, costexplorer.RoleOrgBillingAdmin)
	c, err := client.New(p.src.URL, client.WithServiceAccount(id, secret),
		client.WithHTTPClient(httpClient(counter)), client.WithServerErrorRetries(5), client.WithRateLimitRetries(5))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sync runs a sync into the target and fails the test on an error.
func (p *pair) sync(t *testing.T, c *client.Client, counter *atlassync.RequestCounter) *atlassync.Report {
	t.Helper()
	rep, err := atlassync.Run(context.Background(), atlassync.Config{
		Client: c, Store: p.dst.DB, Now: p.src.Clock.Now, ExactOrder: true, Requests: counter, Logger: servertest.TestLogger(t),
	})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return rep
}

// answers compares the target's answers with the source's, as the paying
// organization's owner on both.
func (p *pair) answers(t *testing.T) *servertest.Answers {
	t.Helper()
	if p.dstPublic == "" {
		k, priv := p.dst.APIKey(t, p.src.Org, nil, costexplorer.RoleOrgOwner)
		p.dstPublic, p.dstPrivate = k.PublicKey, priv
	}
	want, err := client.New(p.src.URL, client.WithDigest(p.src.PublicKey, p.src.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.New(p.dst.URL, client.WithDigest(p.dstPublic, p.dstPrivate))
	if err != nil {
		t.Fatal(err)
	}
	return &servertest.Answers{Want: want, Got: got, Org: p.src.Org}
}

// same checks every invoice answer and n cost-explorer queries.
func (p *pair) same(t *testing.T, seed uint64, n int) {
	t.Helper()
	a := p.answers(t)
	a.Invoices(t)
	now := costexplorer.MonthOf(p.src.Clock.Now())
	a.Queries(t, seed, n, now-costexplorer.Month(servertest.Demo.Months-1), now)
}

func TestFirstSyncAnswersAsTheSource(t *testing.T) {
	p := newPair(t)
	counter := &atlassync.RequestCounter{}
	rep := p.sync(t, p.digest(t, counter), counter)
	if rep.Synced == 0 || rep.Items == 0 || rep.Unchanged != 0 {
		t.Fatalf("first sync: %+v", rep)
	}
	t.Logf("first sync: %d invoices, %d items, %d requests", rep.Synced, rep.Items, rep.Requests)
	sum := 0
	for _, inv := range rep.Invoices {
		sum += inv.Items
	}
	if sum != rep.Items || len(rep.Invoices) != rep.Synced {
		t.Errorf("the report's invoices hold %d items in %d invoices; its totals %d in %d", sum, len(rep.Invoices), rep.Items, rep.Synced)
	}
	p.same(t, 1, 50)

	// A second sync on an unchanged source brings the pending invoices
	// only, changing nothing.
	again := p.sync(t, p.digest(t, counter), counter)
	if again.Unchanged == 0 || again.Synced == 0 || again.Synced >= rep.Synced {
		t.Errorf("second sync: %d synced, %d unchanged; first synced %d", again.Synced, again.Unchanged, rep.Synced)
	}
	t.Logf("second sync: %d invoices, %d items, %d requests", again.Synced, again.Items, again.Requests)
	p.same(t, 2, 10)
}

// advance moves the source's demo data and clock to day.
func (p *pair) advance(t *testing.T, day time.Time) demo.AdvanceResult {
	t.Helper()
	cfg := servertest.Demo
	cfg.Anchor, cfg.Now = servertest.T0, day
	res, err := demo.Advance(context.Background(), p.src.DB, cfg)
	if err != nil {
		t.Fatalf("advance the source to %s: %v", day.Format(time.DateOnly), err)
	}
	p.src.Clock.Advance(day.Sub(p.src.Clock.Now()))
	return res
}

// TestSyncFollowsTheSourceAcrossDaysAndMonths: the source moves on a day
// (a new day on the pending invoice, its provisional days restated), then
// across the month's end (the pending invoice closes, restated one last
// time, a new one opens); each sync brings the target back to the source's
// answers, bringing only what changed.
//
// It syncs as the source's billing admin, a service account over OAuth
// (the first test syncs with an API key over Digest).
func TestSyncFollowsTheSourceAcrossDaysAndMonths(t *testing.T) {
	p := newPair(t)
	counter := &atlassync.RequestCounter{}
	c := p.oauth(t, counter)
	first := p.sync(t, c, counter)

	p.advance(t, servertest.T0.AddDate(0, 0, 1))
	day := p.sync(t, c, counter)
	reasons := countReasons(day)
	// Only the pending invoices are brought: the paying organization's and
	// its linked ones'; every closed invoice is skipped.
	if reasons[atlassync.ReasonPending] != day.Synced || day.Synced == 0 || day.Unchanged != first.Synced-day.Synced {
		t.Errorf("a day later: %v, %d synced, %d unchanged of %d", reasons, day.Synced, day.Unchanged, first.Synced)
	}
	if day.Restated == 0 || day.Items <= day.Restated {
		t.Errorf("a day later: %d items replacing %d: want the pending invoices grown", day.Items, day.Restated)
	}
	t.Logf("a day later: %d invoices, %d items (replacing %d), %d requests", day.Synced, day.Items, day.Restated, day.Requests)
	p.same(t, 3, 50)

	// Across the month's end: June's invoices close (restated once more:
	// their last days were provisional) and July's open.
	p.advance(t, time.Date(2025, 7, 2, 12, 0, 0, 0, time.UTC))
	month := p.sync(t, c, counter)
	reasons = countReasons(month)
	if reasons[atlassync.ReasonNew] == 0 || reasons[atlassync.ReasonChanged] == 0 {
		t.Errorf("across the month's end: %v, want new (July) and changed (June, closed) invoices", reasons)
	}
	t.Logf("across the month's end: %v, %d items, %d requests", reasons, month.Items, month.Requests)
	p.same(t, 4, 50)

	// The source drops a third of the paying organization's pending items
	// and changes the amount of some others (a correction): the sync
	// removes and replaces them.
	pending := costexplorer.InvoiceID(p.src.Org, costexplorer.MonthOf(p.src.Clock.Now()))
	var kept []costexplorer.LineItem
	n := 0
	err := p.src.DB.ScanLineItems(context.Background(), func(li *costexplorer.LineItem) error {
		if li.InvoiceID != pending {
			return nil
		}
		if n++; n%3 != 0 {
			if n%5 == 0 {
				li.Amount += 123
			}
			kept = append(kept, *li)
		}
		return nil
	})
	if err != nil || n < 30 {
		t.Fatalf("the pending invoice %s: %d items, %v", pending, n, err)
	}
	if _, err := p.src.DB.IngestUsage(context.Background(), &costexplorer.UsageBatch{ReplaceInvoices: []string{pending}, Items: kept}); err != nil {
		t.Fatal(err)
	}
	fewer := p.sync(t, c, counter)
	t.Logf("after the source dropped %d of %d pending items: %d items replacing %d", n-len(kept), n, fewer.Items, fewer.Restated)
	p.same(t, 8, 20)
}

// countReasons counts the invoices of a report by reason, those synced
// only (and the unchanged ones).
func countReasons(rep *atlassync.Report) map[atlassync.Reason]int {
	n := map[atlassync.Reason]int{}
	for _, inv := range rep.Invoices {
		n[inv.Reason]++
	}
	return n
}
