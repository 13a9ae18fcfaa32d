//go:build unix

package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// bigInvoiceStore serves one generated invoice of n line items over a real
// store: its lines are made as they are streamed (one line value reused,
// nothing retained, as a store's scan does), so that the benchmark measures
// the HTTP side of streaming — the handler, the writers and the
// connection — at a size no test should ingest.
type bigInvoiceStore struct {
	costexplorer.Store
	inv *costexplorer.Invoice
	n   int
}

func newBigInvoiceStore(s costexplorer.Store, orgID string, m costexplorer.Month, n int) *bigInvoiceStore {
	inv := costexplorer.NewInvoice(orgID, m, m.Start())
	inv.Amounts.Charges = costexplorer.Cents(n) * 1296
	return &bigInvoiceStore{Store: s, inv: inv, n: n}
}

func (b *bigInvoiceStore) Invoice(ctx context.Context, orgIDs []string, id string) (*costexplorer.Invoice, error) {
	if id != b.inv.ID || !slices.Contains(orgIDs, b.inv.OrgID) {
		return b.Store.Invoice(ctx, orgIDs, id)
	}
	inv := *b.inv
	return &inv, nil
}

func (b *bigInvoiceStore) InvoiceTagKeys(ctx context.Context, id string) ([]string, error) {
	if id != b.inv.ID {
		return b.Store.InvoiceTagKeys(ctx, id)
	}
	return []string{"cost-center", "environment", "team"}, nil
}

func (b *bigInvoiceStore) InvoiceLines(ctx context.Context, id string, fn func(*costexplorer.InvoiceLine) error) error {
	if id != b.inv.ID {
		return b.Store.InvoiceLines(ctx, id, fn)
	}
	tags := []costexplorer.Tags{
		costexplorer.MustTags(map[string][]string{"team": {"payments"}, "environment": {"prod"}}),
		costexplorer.MustTags(map[string][]string{"team": {"search"}, "cost-center": {"cc-42"}}),
	}
	start := costexplorer.DayOf(b.inv.StartDate())
	l := costexplorer.InvoiceLine{
		LineItem: costexplorer.LineItem{
			OrgID: b.inv.OrgID, ProjectID: "5f0000000000000000000001", ClusterID: "5f0000000000000000000002",
			Service: costexplorer.ServiceClusters, SKU: "ATLAS_AWS_INSTANCE_M30", Unit: "server hours",
			UnitPriceNanos: 540_000_000, InvoiceID: b.inv.ID, Description: "Atlas AWS Cluster M30",
			Region: "US_EAST_1", ReplicaSet: "atlas-abc-shard-0",
		},
		OrgName: "Big Org", ProjectName: "checkout-prod", ClusterName: "orders-us-east-1",
	}
	for i := range b.n {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		l.ID = costexplorer.NewLineItemID(strconv.Itoa(i))
		l.Date = start + costexplorer.Day(i%28)
		l.Quantity = float64(i%97) + 0.5
		l.Amount = costexplorer.Cents(i%10000 + 1)
		l.Tags = tags[i%2]
		if err := fn(&l); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssKB reads a field of /proc/self/status (VmRSS, VmHWM) in KiB; 0 where
// there is none.
func rssKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux
// clear_refs 5); it reports whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// BenchmarkStreamInvoice streams a 1,000,000-item invoice through the real
// server over loopback — getInvoice as JSON, as CSV, and downloadInvoiceCsv
// — reading the body as a client would. rows/s is issue 14's figure
// (≥ 500,000); rss-growth-MB is the peak RSS of the process (server and
// client) above where it stood before the request (issue 14: ≤ 64 MB).
//
//	go test ./internal/httpapi/ -run '^$' -bench StreamInvoice -benchtime 1x
func BenchmarkStreamInvoice(b *testing.B) {
	const n = 1_000_000
	month := costexplorer.MonthOf(t0) - 2
	var big *bigInvoiceStore
	e := newEnv(b, options{rateLimit: httpapiRateLimit(1 << 30), store: func(s costexplorer.Store) costexplorer.Store {
		big = newBigInvoiceStore(s, "", 0, 0)
		return big
	}})
	*big = *newBigInvoiceStore(big.Store, e.Org, month, n)
	path := invoicesPath(e.Org) + "/" + big.inv.ID
	for _, c := range []struct{ name, path, accept string }{
		{"JSON", path, "application/vnd.atlas.2023-01-01+json"},
		{"CSV", path, csv2023},
		{"DownloadCSV", path + "/csv", csv2023},
	} {
		b.Run(c.name, func(b *testing.B) {
			var bytesRead int64
			var growth int64
			cpu0 := cpuTime()
			for b.Loop() {
				runtime.GC()
				base := rssKB("VmRSS")
				canPeak := resetPeakRSS()
				req := e.apiRequest("GET", c.path, "")
				req.Header.Set("Accept", c.accept)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var first [64]byte
				k, _ := io.ReadFull(res.Body, first[:])
				m, err := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("%d after %d bytes: %v %q", res.StatusCode, m, err, first[:k])
				}
				bytesRead += int64(k) + m
				if canPeak {
					growth = max(growth, rssKB("VmHWM")-base)
				}
				if c.accept == csv2023 && !bytes.HasPrefix(first[:k], []byte("Invoice Number,"+big.inv.ID)) {
					b.Fatalf("CSV starts %q", first[:k])
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				// On a shared machine the wall clock counts other
				// processes' turns; rows per CPU second (server and client
				// together) is what the code costs.
				b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "rows/cpu-s")
			}
			b.ReportMetric(float64(bytesRead)/float64(b.N)/1e6, "MB/op")
			b.ReportMetric(float64(growth)/1024, "rss-growth-MB")
		})
	}
}
