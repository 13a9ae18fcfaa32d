package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/httpapi"
)

// benchDemo is the default `costexplorer demo` dataset, pinned to t0.
var benchDemo = demo.Config{Seed: 1, LineItems: demo.DefaultLineItems, Now: t0}

var (
	benchOnce sync.Once
	benchDir  string
	benchPath string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchDB returns a SQLite file holding the default demo dataset, built once
// per test binary (ingesting it takes seconds).
func benchDB(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "httpapi-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir, benchPath = dir, filepath.Join(dir, "demo.db")
		e := newEnv(b, options{path: benchPath, demo: &benchDemo, noRunner: true})
		_ = e.DB.Close()
	})
	return benchPath
}

// benchQueries enumerates distinct queries (so that no token is served from
// an earlier iteration): every window of the 18 months × each groupBy (with
// its filter values) × includePartialMatches.
func benchQueries(b *testing.B, e *env) []string {
	projects, clusters := e.projectsAndClusters(b)
	var projIDs, clusterIDs []string
	for _, p := range projects {
		if p.OrgID == e.Org {
			projIDs = append(projIDs, p.ID)
		}
	}
	for _, c := range clusters {
		if slices.Contains(projIDs, c.ProjectID) && len(clusterIDs) < 20 {
			clusterIDs = append(clusterIDs, c.ID)
		}
	}
	orgs := []string{e.Org}
	for _, o := range e.Layout.Linked {
		orgs = append(orgs, o.ID)
	}
	list := func(ids []string) string { j, _ := json.Marshal(ids); return string(j) }
	groups := []string{
		``,
		`,"groupBy":"organizations","organizations":` + list(orgs),
		`,"groupBy":"projects","projects":` + list(projIDs),
		`,"groupBy":"clusters","clusters":` + list(clusterIDs),
		`,"groupBy":"services","services":["Clusters","Storage","Backup","Data Transfer","Support","Credits"]`,
	}
	last := costexplorer.MonthOf(t0)
	var out []string
	for _, partial := range []string{`false`, `true`} {
		for _, g := range groups {
			for start := last - 17; start <= last; start++ {
				for end := start + 1; end <= last+1; end++ {
					out = append(out, `{"startDate":"`+start.Date()+`","endDate":"`+end.Date()+`","includePartialMatches":`+partial+g+`}`)
				}
			}
		}
	}
	return out
}

// BenchmarkPostToReady measures, over loopback on the default demo dataset,
// the time from sending a new query to having its ready JSON result: POST,
// then polling with envelope=true (as the project's client does) every
// millisecond. It reports the median and the 90th percentile. Each
// iteration is a distinct query; there are 1,710, so run it with
// -benchtime=Nx, N ≤ 1710, e.g.:
//
//	go test ./internal/httpapi/ -run '^$' -bench PostToReady -benchtime=300x
func BenchmarkPostToReady(b *testing.B) {
	e := newEnv(b, options{path: benchDB(b), demo: &benchDemo, noDemo: true, rateLimit: httpapi.RateLimit{Capacity: -1}})
	queries := benchQueries(b, e)
	if b.N > len(queries) {
		b.Fatalf("b.N = %d but only %d distinct queries: use -benchtime=%dx or less", b.N, len(queries), len(queries))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	send := func(method, path, body string) (int, []byte) {
		req := e.apiRequest(method, path, body)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return res.StatusCode, data
	}
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		status, data := send("POST", usagePath(e.Org), queries[i])
		if status != http.StatusAccepted {
			b.Fatalf("POST %s: %d %s", queries[i], status, data)
		}
		var tok struct{ Token string }
		_ = json.Unmarshal(data, &tok)
		for {
			status, data = send("GET", usagePath(e.Org)+"/"+tok.Token+"?envelope=true", "")
			if status != http.StatusOK {
				b.Fatalf("poll: %d %s", status, data)
			}
			if strings.HasPrefix(string(data), `{"status":200`) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(latencies[len(latencies)*9/10].Microseconds())/1000, "ms-p90")
}
