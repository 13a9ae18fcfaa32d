package atlassync_test

import (
	"context"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/atlassync"
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
	t.Helper()
	c, err := client.New(p.src.URL, client.WithDigest(p.src.PublicKey, p.src.PrivateKey),
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
