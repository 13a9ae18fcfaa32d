package sqlite_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/cputime"
	"github.com/costexplorer/costexplorer/internal/sqlite"
	"github.com/costexplorer/costexplorer/internal/storetest"
)

// benchShape follows the reference workload (DESIGN §4): 50 organizations,
// 2,000 projects, 8,000 clusters, daily usage, about 23,000 line items a day.
var benchShape = storetest.Shape{Orgs: 50, ProjectsPerOrg: 40, ClustersPerProject: 4, Start: costexplorer.DayOf(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)), Days: 1200}

// benchBatch is the number of line items per ingest call. Each call is one
// transaction that dirties line-item pages all over the b-tree (the dataset
// yields each day's items for every resource), so larger batches write fewer
// pages per item.
var benchBatch = flag.Int("ingest.batch", 20000, "line items per IngestUsage call in BenchmarkIngest")

// openWithDimensions opens a fresh store holding the dimensions (no line
// items) of the synthetic dataset of seed, and returns it with its file and
// the dataset.
func openWithDimensions(b *testing.B, seed uint64) (*sqlite.DB, string, *storetest.Dataset) {
	b.Helper()
	db, path := open(b)
	d := storetest.NewDataset(seed, benchShape)
	if _, err := db.IngestUsage(context.Background(), d.Dimensions()); err != nil {
		b.Fatal(err)
	}
	return db, path, d
}

// BenchmarkIngest ingests b.N batches of new line items into one growing
// store and reports the ingest rate, the bytes on disk per line item (all
// tables and indexes, WAL checkpointed) and the rollup rows per line item.
// Size the run with -benchtime=Nx and -ingest.batch=M: N*M line items.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	db, path, d := openWithDimensions(b, 7)
	var (
		inserted int
		elapsed  time.Duration
		cpu      time.Duration // user+system time of the ingest calls
	)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		items := d.Items(*benchBatch)
		if len(items) == 0 {
			b.Fatal("synthetic data exhausted: raise benchShape.Days")
		}
		b.StartTimer()
		start, startCPU := time.Now(), cputime.Process()
		res, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: items})
		elapsed += time.Since(start)
		cpu += cputime.Process() - startCPU
		if err != nil {
			b.Fatal(err)
		}
		inserted += res.Inserted
	}
	b.StopTimer()
	b.ReportMetric(float64(inserted)/elapsed.Seconds(), "items/s")
	// CPU time per item is steadier than the rate on a shared machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(max(inserted, 1)), "cpu-ns/item")
	reportStorage(b, db, path, inserted)
}

// BenchmarkIngestDuplicates re-ingests batches that are already stored: the
// cost of an idempotent re-import.
func BenchmarkIngestDuplicates(b *testing.B) {
	ctx := context.Background()
	db, _, d := openWithDimensions(b, 8)
	items := d.Items(*benchBatch)
	if _, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: items}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		res, err := db.IngestUsage(ctx, &costexplorer.UsageBatch{Items: items})
		if err != nil || res.Inserted != 0 {
			b.Fatalf("re-ingest: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "items/s")
}

// reportStorage checkpoints the WAL and reports bytes per line item for the
// whole file and, in the log, per table and index (dbstat).
func reportStorage(b *testing.B, db *sqlite.DB, path string, items int) {
	b.Helper()
	if items == 0 {
		return
	}
	stats, err := db.UsageStats(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/float64(stats.LineItems), "bytes/item")
	b.ReportMetric(float64(stats.RollupRows)/float64(stats.LineItems), "rollup/item")
	rows, err := conn.Query("SELECT name, SUM(pgsize), SUM(ncell) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 6")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var size, cells int64
		if err := rows.Scan(&name, &size, &cells); err != nil {
			b.Fatal(err)
		}
		b.Logf("%-20s %12d bytes  %6.1f bytes/item", name, size, float64(size)/float64(stats.LineItems))
	}
	b.Logf("%d line items, %d rollup rows, file %d bytes", stats.LineItems, stats.RollupRows, fi.Size())
}

// BenchmarkRestate restates a pending invoice every iteration, as a daily
// sync does, beside a re-import of the same invoice (all duplicates) as the
// baseline (see storetest.BenchRestate).
func BenchmarkRestate(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, replace := range []bool{true, false} {
			b.Run(fmt.Sprintf("items=%d/restate=%v", n, replace), func(b *testing.B) {
				db, _ := open(b)
				storetest.BenchRestate(b, db, n, replace, cputime.Process)
			})
		}
	}
}

// BenchmarkInvoiceLines streams one invoice of 200,000 line items (one
// cluster, two tag sets, one in a hundred billed on another day) from the
// store to a function that keeps nothing: the store's part of serving an
// invoice's JSON or CSV (internal/httpapi's BenchmarkStreamInvoiceSQLite
// measures the whole). It reports rows/s and the process's CPU time a row.
//
//	go test ./internal/sqlite/ -run '^$' -bench InvoiceLines -count 5
func BenchmarkInvoiceLines(b *testing.B) {
	const n = 200_000
	ctx := context.Background()
	db, path := open(b)
	d := storetest.NewDataset(3, storetest.Shape{Orgs: 1, ProjectsPerOrg: 1, ClustersPerProject: 1, Start: costexplorer.DayOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), Days: 1})
	if _, err := db.IngestUsage(ctx, d.Dimensions()); err != nil {
		b.Fatal(err)
	}
	org, project, cluster := d.Orgs[0].ID, d.Projects[0].ID, d.Clusters[0].ID
	tags := []costexplorer.Tags{
		costexplorer.MustTags(map[string][]string{"team": {"payments"}, "environment": {"prod"}}),
		costexplorer.MustTags(map[string][]string{"team": {"search"}, "cost-center": {"cc-42"}}),
	}
	start := costexplorer.DayOf(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	bt := &costexplorer.UsageBatch{}
	for i := range n {
		li := costexplorer.LineItem{
			ID: costexplorer.NewLineItemID(fmt.Sprint("big-", i)), OrgID: org, ProjectID: project, ClusterID: cluster,
			Service: costexplorer.ServiceClusters, SKU: "ATLAS_AWS_INSTANCE_M30", Date: start + costexplorer.Day(i%28),
			Quantity: float64(i%97) + 0.5, Unit: "server hours", UnitPriceNanos: 540_000_000,
			Amount: costexplorer.Cents(i%10000 + 1), Description: "Atlas AWS Cluster M30", Region: "US_EAST_1",
			Tags: tags[i%2],
		}
		if i%100 == 0 {
			li.BillDate = li.Date + 1
		}
		bt.Items = append(bt.Items, li)
	}
	if _, err := db.IngestUsage(ctx, bt); err != nil {
		b.Fatal(err)
	}
	// Closed and opened again: the log copied into the file, and the
	// garbage of the ingest collected, neither during the timed reads.
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	db = openAt(b, path)
	runtime.GC()
	id := costexplorer.InvoiceID(org, start.Month())
	var cents costexplorer.Cents
	cpu0 := cputime.Process()
	for b.Loop() {
		rows := 0
		if err := db.InvoiceLines(ctx, id, func(l *costexplorer.InvoiceLine) error {
			rows++
			cents += l.Amount
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if rows != n {
			b.Fatalf("%d lines, want %d", rows, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*b.N), "cpu-ns/row")
	}
}
