package atlassync_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/atlassync"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// faultProxy stands between a sync and its source and spoils answers as
// fault says: it forwards every request, then answers as the fault chosen
// for request number n (from 1) of that path kind.
type faultProxy struct {
	t      *testing.T
	target string
	fault  func(n int, r *http.Request) fault

	mu     sync.Mutex
	counts map[string]int // requests by kind (list, csv, json, search, query, other)
	faults map[fault]int
}

type fault int

const (
	pass        fault = iota
	tooMany           // 429 with Retry-After: 1
	serverError       // 500
	unavailable       // 503
	cutBody           // half the answer, then a connection reset
	slow              // the answer after 150 ms
)

func newFaultProxy(t *testing.T, target string, f func(n int, r *http.Request) fault) (*faultProxy, string) {
	fp := &faultProxy{t: t, target: target, fault: f, counts: map[string]int{}, faults: map[fault]int{}}
	s := httptest.NewServer(fp)
	t.Cleanup(s.Close)
	return fp, s.URL
}

// kind sorts a request by what it asks.
func kind(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/csv"):
		return "csv"
	case strings.HasSuffix(p, "/lineItems:search"):
		return "search"
	case strings.Contains(p, "/costExplorer/"):
		return "query"
	case strings.HasSuffix(p, "/invoices"):
		return "list"
	case strings.Contains(p, "/invoices/"):
		return "json"
	}
	return "other"
}

func (fp *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fp.mu.Lock()
	k := kind(r)
	fp.counts[k]++
	f := fp.fault(fp.counts[k], r)
	// The first leg of a Digest handshake is no answer to spoil.
	if r.Header.Get("Authorization") == "" && f != slow {
		f = pass
	}
	fp.faults[f]++
	fp.mu.Unlock()
	switch f {
	case tooMany:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case serverError, unavailable:
		w.WriteHeader(map[fault]int{serverError: 500, unavailable: 503}[f])
		return
	case slow:
		time.Sleep(150 * time.Millisecond)
	}
	body, _ := io.ReadAll(r.Body)
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, fp.target+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for key, vs := range resp.Header {
		w.Header()[key] = vs
	}
	if f != cutBody || resp.StatusCode != 200 || len(b) < 64 {
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
		return
	}
	// Promise the whole answer, send half of it, and reset the connection.
	w.Header().Del("Content-Length")
	w.WriteHeader(resp.StatusCode)
	w.Write(b[:len(b)/2])
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		fp.t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// TestFaultsNeverLeaveHalfAnInvoice: a source behind a proxy that answers
// 429 with Retry-After, 500 and 503, cuts CSV, JSON and search answers in
// the middle with a connection reset, and answers slowly. A sync that
// meets a fault it can outlast brings everything exactly; one that meets an
// invoice the proxy always cuts fails on it and leaves it out entirely,
// the rest stored and the store verified clean; once the proxy heals, the
// next sync completes it.
func TestFaultsNeverLeaveHalfAnInvoice(t *testing.T) {
	p := newPair(t)
	var broken sync.Map // paths whose CSV is always cut
	fp, proxyURL := newFaultProxy(t, p.src.URL, func(n int, r *http.Request) fault {
		k := kind(r)
		if _, ok := broken.Load(r.URL.Path); ok {
			return cutBody
		}
		switch {
		case k == "csv" && n%5 == 1, k == "json" && n == 1, k == "search" && (n == 2 || n == 9), k == "list" && n == 1:
			return cutBody
		case k == "csv" && n == 2, k == "other" && n == 1:
			return tooMany
		case n%7 == 3:
			return serverError
		case n%11 == 5:
			return unavailable
		case n%4 == 0:
			return slow
		}
		return pass
	})
	counter := &atlassync.RequestCounter{}
	c, err := client.New(proxyURL, client.WithDigest(p.src.PublicKey, p.src.PrivateKey),
		client.WithHTTPClient(httpClient(counter)), client.WithServerErrorRetries(5), client.WithRateLimitRetries(5))
	if err != nil {
		t.Fatal(err)
	}
	cfg := atlassync.Config{Client: c, Store: p.dst.DB, Now: p.src.Clock.Now, ExactOrder: true, Requests: counter,
		Logger: servertest.TestLogger(t), Source: p.src.URL}

	// One invoice of a linked organization is always cut.
	victim := p.src.Layout.Linked[0].ID
	victimInvoice := costexplorer.InvoiceID(victim, costexplorer.MonthOf(servertest.T0)-2)
	broken.Store(client.InvoicesPath(p.src.Org, victimInvoice)+"/csv", true)
	rep, err := atlassync.Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), victimInvoice) {
		t.Fatalf("a sync with an invoice always cut: err = %v, want one naming %s", err, victimInvoice)
	}
	if _, err := p.dst.DB.Invoice(context.Background(), []string{victim}, victimInvoice); costexplorer.ErrorCode(err) != costexplorer.ErrNotFound {
		t.Errorf("the invoice always cut is in the target (err %v): want none of it", err)
	}
	marks, err := p.dst.DB.SyncMarks(context.Background(), p.src.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range marks {
		if m.InvoiceID == victimInvoice {
			t.Errorf("a mark for the invoice always cut: %+v", m)
		}
	}
	verifyClean(t, p.dst.DB)
	t.Logf("with an invoice always cut: %d invoices synced", rep.Synced)

	// Healed: the next sync brings the rest, and the target answers as the
	// source does.
	broken.Delete(client.InvoicesPath(p.src.Org, victimInvoice) + "/csv")
	if _, err := atlassync.Run(context.Background(), cfg); err != nil {
		t.Fatalf("after the proxy healed: %v", err)
	}
	verifyClean(t, p.dst.DB)
	p.same(t, 5, 50)
	fp.mu.Lock()
	t.Logf("requests by kind %v; faults %v", fp.counts, fp.faults)
	for _, f := range []fault{tooMany, serverError, unavailable, cutBody, slow} {
		if fp.faults[f] == 0 {
			t.Errorf("fault %d never happened: the test proves less than it says", f)
		}
	}
	fp.mu.Unlock()
}

// verifyClean fails t unless the store's Verify finds nothing.
func verifyClean(t *testing.T, s interface {
	Verify(context.Context) ([]string, error)
}) {
	t.Helper()
	problems, err := s.Verify(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", err, problems)
	}
}

// TestSyncWaitsOutRateLimits: a client that does not pace meets the
// source's rate limit (8 requests, then 10 a second) and waits out each 429
// as Retry-After says; the sync completes exactly.
func TestSyncWaitsOutRateLimits(t *testing.T) {
	src := servertest.New(t, servertest.Options{Clock: servertest.NewRunningClock(servertest.T0), Config: func(c *server.Config) {
		c.RateLimit = httpapi.RateLimit{Capacity: 8, Refill: 10, Period: time.Second}
	}})
	p := &pair{src: src, dst: servertest.New(t, servertest.Options{NoDemo: true, Clock: src.Clock})}
	var limited atomic.Int64
	counter := &atlassync.RequestCounter{Next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && resp.StatusCode == http.StatusTooManyRequests {
			limited.Add(1)
		}
		return resp, err
	})}
	c, err := client.New(src.URL, client.WithDigest(src.PublicKey, src.PrivateKey),
		client.WithHTTPClient(httpClient(counter)), client.WithRateLimitRetries(30))
	if err != nil {
		t.Fatal(err)
	}
	rep := p.sync(t, c, counter)
	if limited.Load() == 0 {
		t.Fatal("no 429: the test proves nothing")
	}
	t.Logf("%d answers 429 of %d requests", limited.Load(), rep.Requests)
	p.same(t, 6, 10)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
