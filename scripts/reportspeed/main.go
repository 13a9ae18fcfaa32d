// Command reportspeed times invoice reports end to end, one at a time:
// create a FOCUS report of an invoice, poll it (the first poll at once, then
// every 5 ms, over one keep-alive connection) until it has SUCCEEDED, and
// download its file; beside each, in the same run, a download of the same
// invoice's CSV (downloadInvoiceCsv: the same line items, streamed). It
// prints the medians and every creation-to-ready time in milliseconds.
// scripts/reportspeed.sh runs it against `costexplorer demo`.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"time"

	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/demo"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "the server's base URL")
	creds := flag.String("creds", "", "the demo's demo-credentials.json")
	invoice := flag.String("invoice", "", "the invoice id")
	n := flag.Int("n", 9, "reports")
	flag.Parse()
	var c demo.Credentials
	b, err := os.ReadFile(*creds)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || *invoice == "" {
		log.Fatalf("reportspeed: -creds and -invoice are needed (%v)", err)
	}
	cl, err := client.New(*base, client.WithServiceAccount(c.ClientID, c.ClientSecret))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var ready, download, csv []float64
	var size int64
	for range *n {
		start := time.Now()
		r, err := cl.CreateInvoiceReport(ctx, c.OrgID, *invoice, client.InvoiceReportRequest{ReportType: "FOCUS", ReportFormat: "CSV"})
		if err == nil {
			r, err = cl.WaitInvoiceReport(ctx, c.OrgID, *invoice, r.ReportID, 5*time.Millisecond)
		}
		if err != nil || r.State != "SUCCEEDED" {
			log.Fatalf("report: %+v %v", r, err)
		}
		ready = append(ready, ms(time.Since(start)))
		start = time.Now()
		if size, err = cl.DownloadInvoiceReport(ctx, r.DownloadURL, io.Discard); err != nil {
			log.Fatal(err)
		}
		download = append(download, ms(time.Since(start)))
		start = time.Now()
		if _, err := cl.InvoiceCSV(ctx, c.OrgID, *invoice, io.Discard); err != nil {
			log.Fatal(err)
		}
		csv = append(csv, ms(time.Since(start)))
	}
	fmt.Printf("report file %d bytes (gzip)\n", size)
	fmt.Printf("report ready after creation: median %.0f ms (all: %v)\n", median(ready), rounded(ready))
	fmt.Printf("report download: median %.0f ms\n", median(download))
	fmt.Printf("downloadInvoiceCsv of the same invoice: median %.0f ms\n", median(csv))
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func rounded(v []float64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x + 0.5)
	}
	return out
}
