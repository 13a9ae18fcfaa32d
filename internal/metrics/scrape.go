package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/costexplorer/costexplorer"
)

// scrapeCollector reads, at scrape time, what is cheaper to ask for than to
// keep up to date: the process counts and usage summary from the store and
// the engine's snapshot. Store values are reused for cfg.CacheFor, and the
// usage summary is read again only when the data version moved.
type scrapeCollector struct {
	cfg ScrapeConfig

	processes, lineItems, usageVersion, usageLastDay                 *prometheus.Desc
	engineRows, engineBytes, engineVersion, engineLoaded, engineLoad *prometheus.Desc
	engineDims                                                       *prometheus.Desc
	errors                                                           *prometheus.CounterVec

	mu       sync.Mutex
	readAt   time.Time // when the store values below were read (monotonic)
	counts   map[costexplorer.ProcessState]int64
	countsOK bool
	usage    costexplorer.UsageStats
	usageOK  bool
}

// processStates are the states the gauge shows, always all of them.
var processStates = []costexplorer.ProcessState{
	costexplorer.ProcessPending, costexplorer.ProcessRunning, costexplorer.ProcessDone, costexplorer.ProcessFailed,
}

func newScrapeCollector(cfg ScrapeConfig) *scrapeCollector {
	return &scrapeCollector{
		cfg: cfg,
		processes: prometheus.NewDesc("costexplorer_query_processes",
			"Query processes in the store by state (all replicas).", []string{"state"}, nil),
		lineItems: prometheus.NewDesc("costexplorer_usage_line_items",
			"Usage line items in the store; its increase is the ingest count, whichever process ingested.", nil, nil),
		usageVersion: prometheus.NewDesc("costexplorer_usage_data_version",
			"The store's data version, which every ingest that changes data increments.", nil, nil),
		usageLastDay: prometheus.NewDesc("costexplorer_usage_last_day_timestamp_seconds",
			"Start of the latest day with usage in the store (Unix time): how fresh the billing data is.", nil, nil),
		engineRows: prometheus.NewDesc("costexplorer_engine_rollup_rows",
			"Monthly rollup cells held in memory by the query engine.", nil, nil),
		engineBytes: prometheus.NewDesc("costexplorer_engine_memory_bytes",
			"Approximate memory held by the query engine's snapshot.", nil, nil),
		engineVersion: prometheus.NewDesc("costexplorer_engine_data_version",
			"The data version the query engine's snapshot reflects (behind costexplorer_usage_data_version until the next query reloads it).", nil, nil),
		engineLoaded: prometheus.NewDesc("costexplorer_engine_loaded_timestamp_seconds",
			"When the query engine built its snapshot (Unix time; 0 before the first load).", nil, nil),
		engineLoad: prometheus.NewDesc("costexplorer_engine_load_duration_seconds",
			"How long the query engine took to build its snapshot.", nil, nil),
		engineDims: prometheus.NewDesc("costexplorer_engine_dimensions",
			"Entries of the query engine's dictionaries by dimension.", []string{"dimension"}, nil),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costexplorer_metrics_scrape_errors_total",
			Help: "Values a scrape could not read (and left out), by source.",
		}, []string{"source"}),
	}
}

// Describe implements prometheus.Collector.
func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.processes, c.lineItems, c.usageVersion, c.usageLastDay,
		c.engineRows, c.engineBytes, c.engineVersion, c.engineLoaded, c.engineLoad, c.engineDims} {
		ch <- d
	}
	c.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	if c.cfg.Store != nil {
		c.collectStore(ch)
	}
	if c.cfg.Engine != nil {
		s := c.cfg.Engine.Stats()
		gauge := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
		}
		gauge(c.engineRows, float64(s.RollupRows))
		gauge(c.engineBytes, float64(s.Bytes))
		gauge(c.engineVersion, float64(s.DataVersion))
		loaded := 0.0
		if !s.LoadedAt.IsZero() {
			loaded = float64(s.LoadedAt.UnixNano()) / 1e9
		}
		gauge(c.engineLoaded, loaded)
		gauge(c.engineLoad, s.LoadDuration.Seconds())
		gauge(c.engineDims, float64(s.Organizations), "organizations")
		gauge(c.engineDims, float64(s.Projects), "projects")
		gauge(c.engineDims, float64(s.Clusters), "clusters")
		gauge(c.engineDims, float64(s.Services), "services")
	}
	c.errors.Collect(ch)
}

// collectStore emits the store values, reading them again when the cached
// ones are older than cfg.CacheFor. Concurrent scrapes wait for one read.
func (c *scrapeCollector) collectStore(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.CacheFor < 0 || c.readAt.IsZero() || time.Since(c.readAt) >= c.cfg.CacheFor {
		c.read()
	}
	if c.countsOK {
		for _, s := range processStates {
			ch <- prometheus.MustNewConstMetric(c.processes, prometheus.GaugeValue, float64(c.counts[s]), string(s))
		}
	}
	if c.usageOK {
		ch <- prometheus.MustNewConstMetric(c.lineItems, prometheus.GaugeValue, float64(c.usage.LineItems))
		ch <- prometheus.MustNewConstMetric(c.usageVersion, prometheus.GaugeValue, float64(c.usage.DataVersion))
		if c.usage.LineItems > 0 {
			last := c.usage.LastDay.Time().Unix()
			ch <- prometheus.MustNewConstMetric(c.usageLastDay, prometheus.GaugeValue, float64(last))
		}
	}
}

// read refreshes the cached store values; called with c.mu held. The usage
// summary counts tables, so it is read again only when the data version
// (one indexed row) says the data changed.
func (c *scrapeCollector) read() {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	c.readAt = time.Now()
	counts, err := c.cfg.Store.ProcessCounts(ctx)
	c.counts, c.countsOK = counts, err == nil
	if err != nil {
		c.errors.WithLabelValues("process_counts").Inc()
	}
	v, err := c.cfg.Store.DataVersion(ctx)
	if err != nil {
		c.usageOK = false
		c.errors.WithLabelValues("usage_stats").Inc()
		return
	}
	if c.usageOK && v == c.usage.DataVersion {
		return
	}
	u, err := c.cfg.Store.UsageStats(ctx)
	c.usage, c.usageOK = u, err == nil
	if err != nil {
		c.errors.WithLabelValues("usage_stats").Inc()
	}
}
