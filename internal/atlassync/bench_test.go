package atlassync_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/costexplorer/costexplorer/internal/atlassync"
	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/servertest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// BenchmarkFirstSync times a first sync of a demo source of 60,000 line
// items (the paying organization and its linked ones reach most of them)
// into an empty SQLite store, over loopback: items/s and requests per sync.
// scripts/sync-bench.sh measures the default demo with the binary.
func BenchmarkFirstSync(b *testing.B) {
	cfg := servertest.Demo
	cfg.LineItems = 60_000
	src := servertest.New(b, servertest.Options{Demo: &cfg, Config: func(c *server.Config) { c.RateLimit.Capacity = -1 }})
	ctx := context.Background()
	items, requests := 0, int64(0)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "target.db"), sqlite.Options{Now: src.Clock.Now})
		if err != nil {
			b.Fatal(err)
		}
		counter := &atlassync.RequestCounter{}
		p := &pair{src: src}
		c := p.digestB(b, counter)
		b.StartTimer()
		rep, err := atlassync.Run(ctx, atlassync.Config{Client: c, Store: db, Now: src.Clock.Now, Requests: counter})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		items, requests = rep.Items, rep.Requests
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(items)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(requests), "requests/sync")
}
