package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SyncRun is the outcome of one scheduled sync, as the metrics see it.
type SyncRun struct {
	Items, Restated int
	Duration        time.Duration
	Err             error
	// End is when it ended.
	End time.Time
}

// syncMetrics are the metrics of the scheduled sync, registered by the
// first ObserveSync.
type syncMetrics struct {
	lastSuccess prometheus.Gauge
	items       prometheus.Counter
	restated    prometheus.Counter
	errors      prometheus.Counter
	duration    prometheus.Histogram
}

// ObserveSync records one run of the scheduled sync: the time of the last
// success, the items brought and restated, the runs that failed, and the
// duration of each run. The metrics appear with the first run.
func (m *Metrics) ObserveSync(r SyncRun) {
	m.syncOnce.Do(func() { m.sync = newSyncMetrics(m.reg) })
	sm := m.sync
	sm.items.Add(float64(r.Items))
	sm.restated.Add(float64(r.Restated))
	sm.duration.Observe(r.Duration.Seconds())
	if r.Err != nil {
		sm.errors.Inc()
		return
	}
	sm.lastSuccess.Set(float64(r.End.UnixNano()) / 1e9)
}

// newSyncMetrics returns the sync metrics, registered on reg.
func newSyncMetrics(reg *prometheus.Registry) *syncMetrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "costexplorer_sync_" + name, Help: help})
	}
	sm := &syncMetrics{
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "costexplorer_sync_last_success_timestamp_seconds",
			Help: "When the last successful scheduled sync ended (Unix time)."}),
		items: counter("items_total", "Line items brought over by scheduled syncs on this replica."),
		restated: counter("restated_items_total",
			"Line items of re-synced invoices replaced by scheduled syncs on this replica (a pending invoice's every run)."),
		errors: counter("errors_total", "Scheduled syncs on this replica that failed."),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "costexplorer_sync_duration_seconds",
			Help: "Duration of scheduled syncs on this replica.", Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}}),
	}
	reg.MustRegister(sm.lastSuccess, sm.items, sm.restated, sm.errors, sm.duration)
	return sm
}
