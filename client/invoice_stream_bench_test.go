package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// bigInvoice is the JSON of one invoice with n line items, as the server
// writes it.
func bigInvoice(tb testing.TB, n int) []byte {
	tb.Helper()
	const org = "666acb8787ba43606905dcac"
	m := costexplorer.MakeMonth(2025, time.May)
	inv := costexplorer.NewInvoice(org, m, m.Start())
	line := costexplorer.InvoiceLine{LineItem: costexplorer.LineItem{
		OrgID: org, ProjectID: "666acb8787ba43606905dcb0", ClusterID: "666acb8787ba43606905dcb1",
		Service: costexplorer.ServiceClusters, SKU: "ATLAS_AWS_INSTANCE_M30", Quantity: 24, Unit: "server hours",
		UnitPriceNanos: 540_000_000, Amount: 1296, Tags: costexplorer.MustTags(map[string][]string{"team": {"payments"}}),
	}, OrgName: "Acme", ProjectName: "checkout-prod", ClusterName: "orders"}
	lines := func(_ string, fn func(*costexplorer.InvoiceLine) error) error {
		for i := range n {
			line.ID = costexplorer.NewLineItemID(strconv.Itoa(i))
			line.Date = costexplorer.DayOf(m.Start()) + costexplorer.Day(i%31)
			if err := fn(&line); err != nil {
				return err
			}
		}
		return nil
	}
	inv.Amounts.Charges = costexplorer.Cents(n) * 1296
	var buf bytes.Buffer
	if err := costexplorer.WriteInvoiceJSON(&buf, inv, lines, costexplorer.InvoiceJSONOptions{Now: m.Start()}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkReadInvoice compares reading an invoice whole (Invoice) with
// streaming its items (StreamInvoice) at 10,000 and 100,000 items. The
// peak-heap metric is the heap in use after the read, with the answer's
// bytes already counted out: it grows with the items when they are kept,
// and stays flat when they stream. The time per operation includes two
// forced collections, so this benchmark is for memory, not speed.
func BenchmarkReadInvoice(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		body := bigInvoice(b, n)
		for _, mode := range []string{"Whole", "Stream"} {
			b.Run(fmt.Sprintf("%s/items=%d", mode, n), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				var heap uint64
				for b.Loop() {
					var sum Cents
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					var kept *Invoice
					if mode == "Whole" {
						kept = &Invoice{}
						if err := json.Unmarshal(body, kept); err != nil {
							b.Fatal(err)
						}
						for _, li := range kept.LineItems {
							sum += li.TotalPrice
						}
					} else {
						kept = &Invoice{}
						if err := decodeInvoiceStream(json.NewDecoder(bytes.NewReader(body)), kept, func(li *LineItem) error {
							sum += li.TotalPrice
							return nil
						}); err != nil {
							b.Fatal(err)
						}
					}
					runtime.GC()
					runtime.ReadMemStats(&after)
					heap = max(heap, after.HeapInuse-min(after.HeapInuse, before.HeapInuse))
					if sum != Cents(n)*1296 {
						b.Fatalf("sum %d", sum)
					}
					runtime.KeepAlive(kept)
				}
				b.ReportMetric(float64(heap)/(1<<20), "MB-kept")
			})
		}
	}
}
