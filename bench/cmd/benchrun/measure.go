package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/bench"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// Ingest is a load of the line items into one database.
type Ingest struct {
	Seconds      float64 // time spent inside the database's load calls
	PerSecond    float64 // line items per second of that time
	CPUSeconds   float64 // process CPU time (user+system) spent in those calls
	PerCPUSecond float64 // line items per CPU second: steadier on a shared machine
	Bytes        int64   // on disk, all tables and indexes
	BytesPerItem float64
	RollupRows   int64
	Note         string `json:",omitempty"`
}

// QueryResult holds one reference query's figures at one size.
type QueryResult struct {
	Name, About string
	SQL         string // over the line items
	Rows        int
	BodyBytes   int
	Engine      bench.Timing
	DuckRaw     bench.Timing // the fastest form over the line items (DuckRawForm)
	DuckRawForm string
	DuckRaw1    bench.Timing // that form again with DuckDB limited to one thread
	DuckForms   []FormTiming // every form tried, a short run each
	// The same for the rollup table: DuckRollup is its fastest form.
	DuckRollupForm  string       `json:",omitempty"`
	DuckRollupForms []FormTiming `json:",omitempty"`
	DuckRollup      bench.Timing
	E2E             bench.Timing
	GetPerSec       float64 // GETs of its ready result per second, as the Atlas SDK sends them
	GetErrors       int
	GetEnvPerSec    float64       // the same with ?envelope=true, as the project's client polls
	GetCPU          time.Duration // server CPU time per plain GET
	Gets            []GetResult   `json:",omitempty"` // with wrk, against our server and nginx
}

// GetResult is a ready result's GET throughput in one format, measured with
// wrk against our server and against nginx serving the same bytes.
type GetResult struct {
	Format         string // JSON, CSV, envelope
	Bytes          int    // the identity body
	Encoding       string // the Content-Encoding our server answered to Accept-Encoding: gzip ("" for identity)
	GzipBytes      int    // that body's size
	NginxGzipBytes int    // the .gz file nginx serves with gzip_static
	Ours           bench.WrkResult
	OursGzip       bench.WrkResult
	Nginx          bench.WrkResult
	NginxGzip      bench.WrkResult
	CPU, CPUGzip   time.Duration // our server's CPU time per request
}

// FormTiming is one DuckDB form's time on one query.
type FormTiming struct {
	Form   string
	Timing bench.Timing
	CPU    time.Duration // median process CPU time (DuckDB's threads, user and system) per execution
}

// SizeResult holds every figure of one dataset size.
type SizeResult struct {
	Size, Organizations, Projects, Clusters int
	LineItems                               int64
	RollupRows                              int
	GenerateSeconds                         float64 // the whole pass: generation and every load
	SQLite                                  Ingest
	Postgres                                *Ingest `json:",omitempty"`
	PostgresSkipped                         string  `json:",omitempty"`
	Duck                                    Ingest
	DuckRollupSeconds                       float64
	DuckByDaySeconds                        float64          // CREATE TABLE items_by_day AS … ORDER BY
	DuckKeyedSeconds                        float64          // the dimension tables and the keyed tables
	DuckTableBytes                          map[string]int64 `json:",omitempty"` // per table, from its storage blocks
	DuckThreads                             int              // DuckDB's threads setting as it started
	DuckVersion                             string           `json:",omitempty"`
	EngineLoad                              time.Duration
	EngineBytes                             int64
	Queries                                 []QueryResult

	ServerStart       time.Duration // process start to ready (engine loaded)
	DailyReady        time.Duration `json:",omitempty"` // process start to the daily snapshot built (answers to daily usage queries)
	ConcurrentE2E     bench.Timing  // Q1–Q4 end to end, one client per query at once
	CreatePerSec      float64       // distinct query creations (POST answered 202) per second
	Created           int
	CreateErrors      int
	EvaluatedPerSec   float64 // those creations evaluated and stored per second
	ServerPeakRSS     int64   // VmHWM at the end, bytes
	ServerRSS         int64   // VmRSS at the end
	ServerRSSAfterRun int64   // VmRSS after the concurrent Q1–Q4 phase
	ServerPeakAfterQ  int64   // VmHWM after the concurrent Q1–Q4 phase
	// The largest VmRSS sampled (every 20 ms) while Q1–Q4 ran concurrently.
	ServerRSSConcurrent int64 `json:",omitempty"`
}

// openPostgres, when built with -tags postgres, opens the PostgreSQL store
// and returns its ingest sink and a function that finishes and reports.
var openPostgres func(ctx context.Context, dsn string) (sink func(*costexplorer.UsageBatch) error, finish func(ctx context.Context, items int64) (*Ingest, error), err error)

func measureSize(ctx context.Context, cfg *config, n int) (*SizeResult, error) {
	dir := cfg.sizeDir(n)
	if cfg.ServerOnly {
		return measureServerOnly(ctx, cfg, n, dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	res := &SizeResult{Size: n}
	dbPath := filepath.Join(dir, "costexplorer.db")

	// 1. One pass over the generated items, each batch loaded into every
	// database; each load is timed on its own.
	// With -duck-only, DuckDB alone: no store, no server.
	var store *sqlite.DB
	if !cfg.DuckOnly {
		var err error
		if store, err = sqlite.Open(ctx, dbPath, sqlite.Options{}); err != nil {
			return nil, err
		}
		defer func() {
			if store != nil {
				store.Close()
			}
		}()
	}
	duck, err := bench.OpenDuck(ctx, filepath.Join(dir, "items.duckdb"))
	if err != nil {
		return nil, err
	}
	defer duck.Close()
	var sqliteTook, duckTook, pgTook, sqliteCPU, duckCPU, pgCPU time.Duration
	timed := func(total, cpu *time.Duration, f func(*costexplorer.UsageBatch) error) func(*costexplorer.UsageBatch) error {
		return func(b *costexplorer.UsageBatch) error {
			start, startCPU := time.Now(), bench.CPUTime()
			err := f(b)
			*total += time.Since(start)
			*cpu += bench.CPUTime() - startCPU
			return err
		}
	}
	sinks := []func(*costexplorer.UsageBatch) error{timed(&duckTook, &duckCPU, duck.Append)}
	if store != nil {
		sinks = append(sinks, timed(&sqliteTook, &sqliteCPU, func(b *costexplorer.UsageBatch) error {
			r, err := store.IngestUsage(ctx, b)
			if err == nil && r.Inserted != len(b.Items) {
				err = fmt.Errorf("sqlite inserted %d of %d items", r.Inserted, len(b.Items))
			}
			return err
		}))
	}
	var pgFinish func(context.Context, int64) (*Ingest, error)
	switch {
	case cfg.DuckOnly:
		res.PostgresSkipped = "-duck-only"
	case cfg.PGDSN == "":
		res.PostgresSkipped = "no DSN given (BENCH_PG_DSN)"
	case cfg.PGMax > 0 && n > cfg.PGMax:
		res.PostgresSkipped = fmt.Sprintf("above -pg-max (%d line items)", cfg.PGMax)
	case openPostgres == nil:
		res.PostgresSkipped = "built without internal/postgres (the script adds -tags postgres once the package exists)"
	default:
		sink, finish, err := openPostgres(ctx, cfg.PGDSN)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		sinks = append(sinks, timed(&pgTook, &pgCPU, sink))
		pgFinish = finish
	}
	start := time.Now()
	lastLog := start
	var seen int64
	progress := func(b *costexplorer.UsageBatch) error {
		seen += int64(len(b.Items))
		if time.Since(lastLog) > 15*time.Second {
			lastLog = time.Now()
			if store != nil {
				logf("  %d items: sqlite %.0f/s, duckdb %.0f/s", seen, float64(seen)/sqliteTook.Seconds(), float64(seen)/duckTook.Seconds())
			} else {
				logf("  %d items: duckdb %.0f/s", seen, float64(seen)/duckTook.Seconds())
			}
		}
		return nil
	}
	data, err := bench.Generate(ctx, n, append(sinks, progress)...)
	if err != nil {
		return nil, err
	}
	res.GenerateSeconds = time.Since(start).Seconds()
	res.LineItems, res.RollupRows = data.LineItems, len(data.Rollup)
	res.Organizations, res.Projects, res.Clusters = len(data.Orgs), len(data.Projects), len(data.Clusters)
	queries := data.Queries()
	if store == nil {
		if err := loadDuck(ctx, res, duck, data, duckTook, duckCPU); err != nil {
			return nil, err
		}
		// The engine on the generated rollup, through the Source a store serves.
		eng := engine.New(data.Source(), engine.Options{RefreshInterval: time.Hour})
		if err := eng.Load(ctx); err != nil {
			return nil, err
		}
		data.Rollup = nil
		return res, measureEngine(ctx, cfg, res, eng, duck, queries)
	}
	st, err := store.UsageStats(ctx)
	if err != nil {
		return nil, err
	}
	if st.LineItems != data.LineItems || st.RollupRows != int64(len(data.Rollup)) || st.Total != data.Total {
		return nil, fmt.Errorf("sqlite holds %d items, %d rollup rows, %s; generated %d, %d, %s", st.LineItems, st.RollupRows, st.Total, data.LineItems, len(data.Rollup), data.Total)
	}
	secrets, err := serviceAccounts(ctx, store, queries)
	if err != nil {
		return nil, err
	}
	err = store.Close() // checkpoints the WAL into the file
	store = nil
	if err != nil {
		return nil, err
	}
	res.SQLite = Ingest{Seconds: sqliteTook.Seconds(), PerSecond: float64(data.LineItems) / sqliteTook.Seconds(), RollupRows: st.RollupRows,
		CPUSeconds: sqliteCPU.Seconds(), PerCPUSecond: float64(data.LineItems) / sqliteCPU.Seconds()}
	res.SQLite.Bytes = fileBytes(dbPath, dbPath+"-wal")
	res.SQLite.BytesPerItem = float64(res.SQLite.Bytes) / float64(data.LineItems)
	logf("sqlite: %d items in %.1f s (%.0f/s; %.0f per CPU second), %.1f bytes/item, %d rollup rows", data.LineItems, sqliteTook.Seconds(), res.SQLite.PerSecond, res.SQLite.PerCPUSecond, res.SQLite.BytesPerItem, st.RollupRows)
	if pgFinish != nil {
		pg, err := pgFinish(ctx, data.LineItems)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		pg.Seconds, pg.PerSecond = pgTook.Seconds(), float64(data.LineItems)/pgTook.Seconds()
		pg.CPUSeconds, pg.PerCPUSecond = pgCPU.Seconds(), float64(data.LineItems)/pgCPU.Seconds()
		res.Postgres = pg
		logf("postgres: %.0f items/s", pg.PerSecond)
	}

	if err := loadDuck(ctx, res, duck, data, duckTook, duckCPU); err != nil {
		return nil, err
	}
	data.Rollup = nil // the engine reads the store, as a server does

	// 2. Our engine, built from the SQLite store as a server builds it.
	if err := measureStoreEngine(ctx, cfg, res, dbPath, duck, queries); err != nil {
		return nil, err
	}
	// 3. The server, end to end.
	if err := measureServer(ctx, cfg, res, dir, dbPath, queries, secrets); err != nil {
		return nil, err
	}
	return res, nil
}

// serviceAccounts creates the service accounts the load generator uses (Q1–Q3
// and Q4 may name different organizations) and returns their credentials
// by organization.
func serviceAccounts(ctx context.Context, store *sqlite.DB, queries []bench.RefQuery) (map[string][2]string, error) {
	secrets := map[string][2]string{}
	for _, q := range queries {
		if _, ok := secrets[q.Query.OrgID]; ok {
			continue
		}
		sa, secret, err := auth.NewServiceAccount(q.Query.OrgID, "bench", []costexplorer.Role{costexplorer.RoleOrgBillingReadOnly}, nil)
		if err == nil {
			err = store.CreateServiceAccount(ctx, sa)
		}
		if err != nil {
			return nil, fmt.Errorf("service account: %w", err)
		}
		secrets[q.Query.OrgID] = [2]string{sa.ClientID, secret}
	}
	return secrets, nil
}

// measureServerOnly is -server-only: the server's figures on the store of
// size n that a -keep run left in dir, checked to hold the dataset generated
// again (for its queries).
func measureServerOnly(ctx context.Context, cfg *config, n int, dir string) (*SizeResult, error) {
	dbPath := filepath.Join(dir, "costexplorer.db")
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("-server-only: no store of %d line items (a -keep run's) in %s: %w", n, dir, err)
	}
	data, err := bench.Generate(ctx, n)
	if err != nil {
		return nil, err
	}
	res := &SizeResult{Size: n, LineItems: data.LineItems, RollupRows: len(data.Rollup),
		Organizations: len(data.Orgs), Projects: len(data.Projects), Clusters: len(data.Clusters)}
	queries := data.Queries()
	data.Rollup = nil
	for _, q := range queries {
		res.Queries = append(res.Queries, QueryResult{Name: q.Name})
	}
	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	st, err := store.UsageStats(ctx)
	if err == nil && (st.LineItems != data.LineItems || st.Total != data.Total) {
		err = fmt.Errorf("-server-only: the store holds %d items, %s; generated %d, %s", st.LineItems, st.Total, data.LineItems, data.Total)
	}
	var secrets map[string][2]string
	if err == nil {
		secrets, err = serviceAccounts(ctx, store, queries)
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	logf("server only: the store of %d line items checked; generating took what it took, not measured", data.LineItems)
	return res, measureServer(ctx, cfg, res, dir, dbPath, queries, secrets)
}

// loadDuck finishes DuckDB's load: the appender flushed, the rollup table
// and the other layouts of the line items built.
func loadDuck(ctx context.Context, res *SizeResult, duck *bench.Duck, data *bench.Dataset, took, cpu time.Duration) error {
	var err error
	if res.DuckThreads, err = duck.Threads(ctx); err != nil {
		return err
	}
	if res.DuckVersion, err = duck.Version(ctx); err != nil {
		return err
	}
	if err := duck.FinishLoad(ctx); err != nil {
		return err
	}
	res.Duck = Ingest{Seconds: took.Seconds(), PerSecond: float64(data.LineItems) / took.Seconds(),
		CPUSeconds: cpu.Seconds(), PerCPUSecond: float64(data.LineItems) / cpu.Seconds()}
	rollupTook, err := duck.BuildRollup(ctx)
	if err != nil {
		return err
	}
	res.DuckRollupSeconds = rollupTook.Seconds()
	if res.Duck.RollupRows, err = duck.Count(ctx, "rollup"); err != nil {
		return err
	}
	if res.Duck.Bytes, err = duck.Bytes(); err != nil {
		return err
	}
	res.Duck.BytesPerItem = float64(res.Duck.Bytes) / float64(data.LineItems)
	res.Duck.Note = "line items and rollup table in one file"
	logf("duckdb: %.0f items/s, %.1f bytes/item, rollup built in %.2f s", res.Duck.PerSecond, res.Duck.BytesPerItem, rollupTook.Seconds())
	byDay, keyed, err := duck.BuildLayouts(ctx)
	if err != nil {
		return err
	}
	res.DuckByDaySeconds, res.DuckKeyedSeconds = byDay.Seconds(), keyed.Seconds()
	res.DuckTableBytes = map[string]int64{}
	for _, t := range []string{"line_items", "items_by_day", "items_keyed", "items_keyed_loaded", "rollup"} {
		if res.DuckTableBytes[t], err = duck.TableBytes(ctx, t); err != nil {
			return err
		}
	}
	file, err := duck.Bytes()
	if err != nil {
		return err
	}
	logf("duckdb: %d threads; items_by_day built in %.2f s, the keyed tables in %.2f s; bytes per item: as loaded %.1f, by day %.1f, keyed %.1f; file %.0f MB",
		res.DuckThreads, res.DuckByDaySeconds, res.DuckKeyedSeconds,
		float64(res.DuckTableBytes["line_items"])/float64(data.LineItems), float64(res.DuckTableBytes["items_by_day"])/float64(data.LineItems),
		float64(res.DuckTableBytes["items_keyed"])/float64(data.LineItems), float64(file)/1e6)
	return nil
}

func fileBytes(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// measureStoreEngine times Q1–Q4 on our engine built from the SQLite store
// (as a server builds it) and on DuckDB.
func measureStoreEngine(ctx context.Context, cfg *config, res *SizeResult, dbPath string, duck *bench.Duck, queries []bench.RefQuery) error {
	eng, store, err := bench.LoadEngine(ctx, dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	return measureEngine(ctx, cfg, res, eng, duck, queries)
}

// measureEngine times Q1–Q4 on eng and on DuckDB (its rollup table and every
// form over its line items: the fastest is the raw anchor), and checks that
// every one answers as the engine does.
func measureEngine(ctx context.Context, cfg *config, res *SizeResult, eng *engine.Engine, duck *bench.Duck, queries []bench.RefQuery) error {
	es := eng.Stats()
	res.EngineLoad, res.EngineBytes = es.LoadDuration, es.Bytes
	logf("engine: snapshot of %d rollup rows, ≈ %.1f MB, built in %v", es.RollupRows, float64(es.Bytes)/1e6, es.LoadDuration.Round(time.Millisecond))
	runtime.GC()
	for _, rq := range queries {
		qr := QueryResult{Name: rq.Name, About: rq.About}
		var rows []costexplorer.Row
		samples := make([]time.Duration, 0, cfg.EngineRuns)
		for i := range cfg.EngineRuns + 20 {
			start := time.Now()
			var err error
			rows, err = eng.Evaluate(ctx, &rq.Query)
			if err != nil {
				return err
			}
			if i >= 20 { // warm-up
				samples = append(samples, time.Since(start))
			}
		}
		qr.Engine = bench.Summarise(samples)
		want := bench.Answer{Rows: len(rows)}
		for i := range rows {
			want.Total += rows[i].UsageAmount
		}
		qr.Rows = want.Rows
		// timeDuck runs sql warm-up + runs times, checking every answer;
		// cpu gets the median CPU time per execution.
		var cpu time.Duration
		timeDuck := func(what, sql string, runs int) (bench.Timing, error) {
			samples := make([]time.Duration, 0, runs)
			cpus := make([]time.Duration, 0, runs)
			for i := range runs + 2 {
				start, startCPU := time.Now(), bench.CPUTime()
				got, err := duck.Run(ctx, sql)
				if err != nil {
					return bench.Timing{}, fmt.Errorf("%s, %s: %w", rq.Name, what, err)
				}
				if got != want {
					return bench.Timing{}, fmt.Errorf("%s, %s: DuckDB answered %+v, the engine %+v\n%s", rq.Name, what, got, want, sql)
				}
				if i >= 2 {
					samples = append(samples, time.Since(start))
					cpus = append(cpus, bench.CPUTime()-startCPU)
				}
			}
			cpu = bench.Summarise(cpus).Median
			return bench.Summarise(samples), nil
		}
		var err error
		// Every form a short run; the fastest a full run (and for the line
		// items, again on one thread to show what DuckDB's parallelism
		// gives on this machine).
		fastest := func(forms []bench.DuckForm) ([]FormTiming, bench.DuckForm, bench.Timing, error) {
			var tried []FormTiming
			best := -1
			for fi, f := range forms {
				t, err := timeDuck(f.Name, rq.FormSQL(f, duck), cfg.FormRuns)
				if err != nil {
					return nil, f, t, err
				}
				tried = append(tried, FormTiming{Form: f.Name, Timing: t, CPU: cpu})
				// The fastest by its CPU time: on a shared machine (this one
				// has 2 cores and other tenants) wall times of a short run
				// move by several times, the CPU an execution takes much
				// less; every form runs the same scan and aggregate
				// operators, so DuckDB's parallelism gives them alike.
				if best < 0 || cpu < tried[best].CPU {
					best = fi
				}
			}
			f := forms[best]
			t, err := timeDuck(f.Name, rq.FormSQL(f, duck), cfg.DuckRuns)
			return tried, f, t, err
		}
		rollupForms, rf, rollup, err := fastest(bench.RollupForms)
		if err != nil {
			return err
		}
		qr.DuckRollupForms, qr.DuckRollupForm, qr.DuckRollup = rollupForms, rf.Name, rollup
		rawForms, f, raw, err := fastest(bench.DuckForms)
		if err != nil {
			return err
		}
		qr.DuckForms, qr.DuckRawForm, qr.SQL, qr.DuckRaw = rawForms, f.Name, rq.FormSQL(f, duck), raw
		if err := duck.SetThreads(ctx, 1); err != nil {
			return err
		}
		qr.DuckRaw1, err = timeDuck(f.Name+", one thread", qr.SQL, cfg.FormRuns)
		if err2 := duck.SetThreads(ctx, res.DuckThreads); err == nil {
			err = err2
		}
		if err != nil {
			return err
		}
		var forms []string
		for _, ft := range append(slices.Clone(qr.DuckRollupForms), qr.DuckForms...) {
			forms = append(forms, fmt.Sprintf("%s %.2f (CPU %.2f)", ft.Form, bench.Ms(ft.Timing.Median), bench.Ms(ft.CPU)))
		}
		logf("%s: %d rows; engine %.3f ms, duckdb rollup %.3f ms, raw %.3f ms (%s; one thread %.3f ms); forms: %s (medians)", rq.Name, qr.Rows,
			bench.Ms(qr.Engine.Median), bench.Ms(qr.DuckRollup.Median), bench.Ms(qr.DuckRaw.Median), qr.DuckRawForm, bench.Ms(qr.DuckRaw1.Median), strings.Join(forms, "; "))
		res.Queries = append(res.Queries, qr)
	}
	return nil
}

// measureServer runs the costexplorer binary on the store and measures Q1–Q4
// end to end, GET and creation throughput, and peak memory.
func measureServer(ctx context.Context, cfg *config, res *SizeResult, dir, dbPath string, queries []bench.RefQuery, secrets map[string][2]string) error {
	prof, profFlags, err := profilerFlags(cfg, res.Size)
	if err != nil {
		return err
	}
	start := time.Now()
	// Rate limiting is lifted (it would measure the limit) and the history
	// window widened to reach the pinned dataset; everything else is the
	// default configuration.
	srv, err := bench.StartServer(ctx, cfg.Bin, dbPath, filepath.Join(dir, "server.log"), append([]string{
		"--rate-limit-capacity", "1000000000", "--rate-limit-refill", "1000000000", "--rate-limit-period", "1s",
		"--history-months", "600", "--log-level", "warn"}, profFlags...)...)
	if err != nil {
		return err
	}
	defer srv.Stop()
	res.ServerStart = time.Since(start)
	logf("server: pid %d ready in %v", srv.PID(), res.ServerStart.Round(time.Millisecond))

	clients := map[string]*bench.Client{}
	for org, s := range secrets {
		c, err := bench.NewClient(ctx, srv.BaseURL, org, s[0], s[1], cfg.Workers)
		if err != nil {
			return err
		}
		clients[org] = c
	}
	// The daily snapshot (issue 17) is built in the background once the
	// server is ready; wait for it, so that what follows measures serving
	// alone, and report how long it took.
	if err := clients[queries[0].Query.OrgID].WaitDaily(ctx, queries[0].Query.Start.Start()); err != nil {
		return err
	}
	res.DailyReady = time.Since(start)
	logf("server: daily snapshot ready %v after start", res.DailyReady.Round(time.Millisecond))
	// Every query sent is distinct, a fresh evaluation: also from those of
	// an earlier run on the same store (-server-only), whose results it
	// still holds.
	var variant atomic.Int64
	variant.Store(time.Now().UnixNano() & (1<<48 - 1))
	nextBody := func(rq *bench.RefQuery) []byte { return rq.Body(int(variant.Add(1))) }

	// End to end, one query at a time.
	ready := make([]string, len(queries)) // a ready token per query
	for qi := range queries {
		rq := &queries[qi]
		c := clients[rq.Query.OrgID]
		samples := make([]time.Duration, 0, cfg.E2ERuns)
		for i := range cfg.E2ERuns + 3 {
			took, body, err := c.Query(ctx, nextBody(rq))
			if err != nil {
				return fmt.Errorf("%s end to end: %w", rq.Name, err)
			}
			if i >= 3 {
				samples = append(samples, took)
			}
			res.Queries[qi].BodyBytes = len(body)
		}
		tok, err := c.Create(ctx, rq.Body(0))
		if err != nil {
			return err
		}
		for {
			ok, _, err := c.Get(ctx, tok)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			time.Sleep(time.Millisecond)
		}
		ready[qi] = tok
		res.Queries[qi].E2E = bench.Summarise(samples)
		logf("%s end to end: median %.2f ms, p99 %.2f ms, body %d bytes", rq.Name, bench.Ms(res.Queries[qi].E2E.Median), bench.Ms(res.Queries[qi].E2E.P99), res.Queries[qi].BodyBytes)
		// With -profile, where the time of such a query goes: more of the
		// same queries, one at a time, under the CPU profiler, then the
		// execution tracer (goroutines, GC, the poll loop).
		if err := prof.during(ctx, rq.Name+"-e2e", 10*time.Second, 3*time.Second, func(ctx context.Context) error {
			_, _, err := c.Query(ctx, nextBody(rq))
			return err
		}); err != nil {
			return err
		}
	}

	// Q1–Q4 at once, one client each, for the memory figure: the server's
	// resident set sampled while they run (VmHWM would also count the peak
	// of the engine's load at start).
	var conc []time.Duration
	concCh := make(chan time.Duration, 4*cfg.E2ERuns)
	sampled, stopSampling := make(chan int64), make(chan struct{})
	go func() {
		var peak int64
		for {
			if _, rss, err := srv.Memory(); err == nil {
				peak = max(peak, rss)
			}
			select {
			case <-stopSampling:
				sampled <- peak
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	l := bench.RunLoad(ctx, len(queries), len(queries)*cfg.E2ERuns, 4*cfg.LoadFor, func(ctx context.Context, i int) error {
		rq := &queries[i%len(queries)]
		took, _, err := clients[rq.Query.OrgID].Query(ctx, nextBody(rq))
		if err == nil {
			concCh <- took
		}
		return err
	})
	close(stopSampling)
	res.ServerRSSConcurrent = <-sampled
	close(concCh)
	for d := range concCh {
		conc = append(conc, d)
	}
	if l.Errors > 0 {
		return fmt.Errorf("concurrent Q1–Q4: %d errors, first: %v", l.Errors, l.FirstErr)
	}
	res.ConcurrentE2E = bench.Summarise(conc)
	if res.ServerPeakAfterQ, res.ServerRSSAfterRun, err = srv.Memory(); err != nil {
		return err
	}
	logf("concurrent Q1–Q4: %d queries, median %.2f ms; server RSS up to %.0f MB while they ran, VmHWM %.0f MB", len(conc), bench.Ms(res.ConcurrentE2E.Median),
		float64(res.ServerRSSConcurrent)/1e6, float64(res.ServerPeakAfterQ)/1e6)
	// With -profile, what holds the server's memory after that run.
	if err := prof.snapshot(ctx, "heap", "heap-after-concurrent"); err != nil {
		return err
	}
	if err := prof.metrics(ctx, "metrics-after-concurrent"); err != nil {
		return err
	}
	if cfg.E2EOnly {
		return nil
	}

	// GETs of ready results: with wrk against our server and nginx when
	// both are there; else with the Go load generator (which parses every
	// body on the same cores).
	if cfg.Wrk != "" && cfg.Nginx != "" {
		if err := measureGets(ctx, cfg, res, srv, dir, queries, ready, clients); err != nil {
			return err
		}
	} else if err := measureGoGets(ctx, cfg, res, srv, queries, ready, clients); err != nil {
		return err
	}

	// Distinct query creations, then the time until all are evaluated.
	lastTok := make([]atomic.Pointer[string], len(queries))
	lastIdx := make([]atomic.Int64, len(queries))
	began := time.Now()
	l = bench.RunLoad(ctx, cfg.Workers, cfg.CreateCount, cfg.LoadFor, func(ctx context.Context, i int) error {
		qi := i % len(queries)
		rq := &queries[qi]
		tok, err := clients[rq.Query.OrgID].Create(ctx, nextBody(rq))
		if err == nil && int64(i) >= lastIdx[qi].Load() {
			lastIdx[qi].Store(int64(i))
			lastTok[qi].Store(&tok)
		}
		return err
	})
	res.Created, res.CreateErrors, res.CreatePerSec = l.Requests-l.Errors, l.Errors, l.PerSecond()
	for qi := range queries {
		p := lastTok[qi].Load()
		if p == nil {
			continue
		}
		c := clients[queries[qi].Query.OrgID]
		for {
			ok, _, err := c.Get(ctx, *p)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			if time.Since(began) > 10*time.Minute {
				return fmt.Errorf("created queries not evaluated after 10 minutes")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	res.EvaluatedPerSec = float64(res.Created) / time.Since(began).Seconds()
	logf("creations: %d in %v: %.0f/s (%d errors, first: %v); all evaluated at %.0f/s", res.Created, l.Elapsed.Round(time.Millisecond), res.CreatePerSec, l.Errors, l.FirstErr, res.EvaluatedPerSec)

	if res.ServerPeakRSS, res.ServerRSS, err = srv.Memory(); err != nil {
		return err
	}
	logf("server: VmHWM %.0f MB, VmRSS %.0f MB", float64(res.ServerPeakRSS)/1e6, float64(res.ServerRSS)/1e6)
	return nil
}

// measureGoGets measures GETs of ready results with the Go load generator:
// plain (the Atlas SDK's form), then with the envelope (the project
// client's).
func measureGoGets(ctx context.Context, cfg *config, res *SizeResult, srv *bench.Server, queries []bench.RefQuery, ready []string, clients map[string]*bench.Client) error {
	for qi := range queries {
		c, tok := clients[queries[qi].Query.OrgID], ready[qi]
		for _, envelope := range []bool{false, true} {
			cpu0, err := srv.CPUTime()
			if err != nil {
				return err
			}
			l := bench.RunLoad(ctx, cfg.Workers, cfg.GetCount, cfg.LoadFor, func(ctx context.Context, i int) error {
				get := c.GetPlain
				if envelope {
					get = c.Get
				}
				ok, _, err := get(ctx, tok)
				if err == nil && !ok {
					err = fmt.Errorf("token %s not ready", tok)
				}
				return err
			})
			cpu1, err := srv.CPUTime()
			if err != nil {
				return err
			}
			if envelope {
				res.Queries[qi].GetEnvPerSec = l.PerSecond()
			} else {
				res.Queries[qi].GetPerSec = l.PerSecond()
				res.Queries[qi].GetCPU = (cpu1 - cpu0) / time.Duration(max(l.Requests, 1))
			}
			res.Queries[qi].GetErrors += l.Errors
			logf("%s GET (envelope %v): %d requests in %v: %.0f/s, server CPU %v per request (%d errors, first: %v)", queries[qi].Name, envelope, l.Requests, l.Elapsed.Round(time.Millisecond), l.PerSecond(), (cpu1-cpu0)/time.Duration(max(l.Requests, 1)), l.Errors, l.FirstErr)
		}
	}

	return nil
}
