package metrics

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/costexplorer/costexplorer"
)

// EngineStats is what the scrape reads from the query engine;
// *engine.Engine satisfies it.
type EngineStats interface {
	Stats() costexplorer.EngineStats
}

// ScrapeStore is what the scrape reads from the store. Every
// costexplorer.Store satisfies it.
type ScrapeStore interface {
	ProcessCounts(ctx context.Context) (map[costexplorer.ProcessState]int64, error)
	DataVersion(ctx context.Context) (int64, error)
	UsageStats(ctx context.Context) (costexplorer.UsageStats, error)
}

// ScrapeConfig says where the values read at scrape time come from. Zero
// fields leave their metrics out.
type ScrapeConfig struct {
	// Store is asked for the process counts and the usage summary at scrape
	// time. Give it the store itself, not InstrumentStore's wrapper, so that
	// scrapes do not show up as store traffic.
	Store ScrapeStore
	// Engine reports the query engine's snapshot at scrape time.
	Engine EngineStats
	// Timeout bounds the store queries of one scrape (2 s).
	Timeout time.Duration
	// CacheFor is how long values read from the store are reused by later
	// scrapes (1 s), so that a flood of requests to the unauthenticated
	// /metrics cannot turn into a flood of queries. Negative: never reuse.
	CacheFor time.Duration
}

// Metrics holds the metrics of one server on a registry of its own (never
// the global default registry, so that several servers can run in one
// process, as tests do). Its methods are safe for concurrent use.
// *Metrics is an httpapi.Observer.
type Metrics struct {
	reg          *prometheus.Registry
	failureKinds []string // the label values of authFailures but otherKind

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	inFlight        prometheus.Gauge
	rateLimited     prometheus.Counter
	authFailures    *prometheus.CounterVec
	processDuration *prometheus.HistogramVec
	storeDuration   *prometheus.HistogramVec
	storeErrors     *prometheus.CounterVec

	syncOnce sync.Once // registers syncMetrics with the first ObserveSync
	sync     *syncMetrics
}

var (
	// requestBuckets reach down to half a millisecond: most answers come
	// from memory or one indexed row.
	requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	// processBuckets reach up to two minutes: a query over a large dataset.
	processBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	// storeBuckets start at 100 µs: an embedded SQLite lookup.
	storeBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

// New returns the metrics of one server, with the Go runtime, process and
// build-info collectors registered. failureKinds are the kinds of refused
// authentication AuthFailure counts (auth.FailureKinds), shown at zero from
// the start; any other kind is counted as "other". Call ReadAtScrape once
// the store and the engine exist.
func New(failureKinds []string) *Metrics {
	m := &Metrics{
		reg:          prometheus.NewRegistry(),
		failureKinds: slices.Clone(failureKinds),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costexplorer_http_requests_total",
			Help: "HTTP requests answered, by route pattern and final status.",
		}, []string{"route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "costexplorer_http_request_duration_seconds",
			Help:    "Time from receiving a request to the end of its answer, by route pattern and final status.",
			Buckets: requestBuckets,
		}, []string{"route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "costexplorer_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "costexplorer_http_rate_limited_total",
			Help: "Requests refused with 429 by the per-organization rate limit of the Invoices endpoint set (this replica's buckets).",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costexplorer_auth_failures_total",
			Help: "Refused authentications by kind (missing counts the first leg of every Digest handshake).",
		}, []string{"kind"}),
		processDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "costexplorer_query_process_duration_seconds",
			Help:    "Evaluation time of query processes finished on this replica, by outcome (done, failed).",
			Buckets: processBuckets,
		}, []string{"state"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "costexplorer_store_operation_duration_seconds",
			Help:    "Duration of store calls made by this server, by store method (scans include the caller's per-row work).",
			Buckets: storeBuckets,
		}, []string{"operation"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costexplorer_store_operation_errors_total",
			Help: "Store calls that failed for a reason other than a domain answer (not found, conflict, validation) or a canceled request.",
		}, []string{"operation"}),
	}
	for _, k := range m.failureKinds {
		m.authFailures.WithLabelValues(k)
	}
	m.authFailures.WithLabelValues(otherKind)
	for _, s := range []costexplorer.ProcessState{costexplorer.ProcessDone, costexplorer.ProcessFailed} {
		m.processDuration.WithLabelValues(string(s))
	}
	m.reg.MustRegister(m.requests, m.requestDuration, m.inFlight, m.rateLimited, m.authFailures,
		m.processDuration, m.storeDuration, m.storeErrors,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	return m
}

// ReadAtScrape registers the values read at scrape time from cfg's store
// and engine (the costexplorer_query_processes, costexplorer_usage_* and
// costexplorer_engine_* gauges). Call it once per Metrics.
func (m *Metrics) ReadAtScrape(cfg ScrapeConfig) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.CacheFor == 0 {
		cfg.CacheFor = time.Second
	}
	m.reg.MustRegister(newScrapeCollector(cfg))
}

// Registry returns the registry the metrics live on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// maxConcurrentScrapes bounds the scrapes served at once; more get 503.
const maxConcurrentScrapes = 4

// Handler serves the metrics in the Prometheus exposition format. A value
// that cannot be read (the store is down) is left out of the answer instead
// of failing it, and counted in costexplorer_metrics_scrape_errors_total.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxConcurrentScrapes,
		Timeout:             30 * time.Second,
	})
}

// InFlight wraps the server's handler to count the requests in flight.
func (m *Metrics) InFlight(h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerInFlight(m.inFlight, h)
}

// ObserveRequest implements httpapi.Observer.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	s := strconv.Itoa(status)
	m.requests.WithLabelValues(route, s).Inc()
	m.requestDuration.WithLabelValues(route, s).Observe(d.Seconds())
}

// RateLimited implements httpapi.Observer.
func (m *Metrics) RateLimited() { m.rateLimited.Inc() }

// otherKind is the label of a failure kind this package does not know, so
// that the label stays a fixed set whatever a caller passes.
const otherKind = "other"

// AuthFailure counts a refused authentication; give it to
// auth.Config.OnFailure.
func (m *Metrics) AuthFailure(kind string) {
	if !slices.Contains(m.failureKinds, kind) {
		kind = otherKind
	}
	m.authFailures.WithLabelValues(kind).Inc()
}

// ObserveProcess records a finished query process; give it to
// jobs.Config.Observe.
func (m *Metrics) ObserveProcess(state costexplorer.ProcessState, d time.Duration) {
	if state != costexplorer.ProcessDone && state != costexplorer.ProcessFailed {
		return
	}
	m.processDuration.WithLabelValues(string(state)).Observe(d.Seconds())
}
