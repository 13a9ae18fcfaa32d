package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/httpapi"
)

// BenchmarkUsageQuery measures, over loopback on the default demo dataset,
// the time from sending a usage:query to having read every page of its
// JSON answer (pages of 10,000 rows, following the cursors), for the
// queries of issue #17's targets on the demo's scale. It reports the
// median and the 90th percentile and the rows of one answer. Run it beside
// BenchmarkPostToReady (the Atlas query, created and polled until ready):
//
//	go test ./internal/httpapi/ -run '^$' -bench 'UsageQuery|PostToReady' -benchtime=200x
func BenchmarkUsageQuery(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"Daily90ByClusters", `{"granularity":"DAILY","timePeriod":{"start":"2025-03-17","end":"2025-06-15"},"groupBy":["clusters"]`},
		{"Daily18MonthsByServices", `{"granularity":"DAILY","timePeriod":{"start":"2024-01-01","end":"2025-07-01"},"groupBy":["services"]`},
		{"Daily90ByTeamAndService", `{"granularity":"DAILY","timePeriod":{"start":"2025-03-17","end":"2025-06-15"},"groupBy":["tag:team","services"]`},
		{"Monthly18ByProjectsFiltered", `{"granularity":"MONTHLY","timePeriod":{"start":"2024-01-01","end":"2025-07-01"},"groupBy":["projects"],"filter":{"dimension":"tag:environment","in":["production"]}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, options{path: benchDB(b), demo: &benchDemo, noDemo: true, noRunner: true, rateLimit: httpapi.RateLimit{Capacity: -1}})
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			query := func() int {
				rows, next := 0, ""
				for {
					body := bc.body + `,"pageSize":10000`
					if next != "" {
						body += `,"next":"` + next + `"`
					}
					req := e.usageRequest(e.Org, body+"}", "")
					res, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					data, _ := io.ReadAll(res.Body)
					res.Body.Close()
					var a costexplorer.UsageAnswer
					if res.StatusCode != http.StatusOK || json.Unmarshal(data, &a) != nil {
						b.Fatalf("%d %.200s", res.StatusCode, data)
					}
					rows += len(a.Results)
					if a.Next == nil {
						return rows
					}
					next = *a.Next
				}
			}
			rows := query() // the engine's daily snapshot loads on first use
			latencies := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				query()
				latencies = append(latencies, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(latencies[len(latencies)*9/10].Microseconds())/1000, "ms-p90")
			b.ReportMetric(float64(rows), "rows")
		})
	}
}
