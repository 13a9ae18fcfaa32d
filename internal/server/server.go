// Package server composes a costexplorer server from a store and a
// configuration: store → query engine → query-process runner →
// authenticator → API → web UI, with metrics around them all. It is the one
// place where the components are built and wired; `costexplorer serve`,
// `costexplorer demo` and every test that needs a server go through New, so
// that the tests exercise the wiring that ships.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/jobs"
	"github.com/costexplorer/costexplorer/internal/metrics"
	"github.com/costexplorer/costexplorer/internal/web"
)

// Config is the configuration of one server. DefaultConfig gives the
// defaults of `costexplorer serve`; a zero field takes the default of the
// component it configures.
type Config struct {
	// Now is the clock of every component: billing windows, leases, token
	// expiry, nonces, sessions (time.Now).
	Now func() time.Time
	// Logger receives the server's logs (discarded when nil).
	Logger *slog.Logger

	// Query processes (internal/jobs).
	Workers       int           // concurrent evaluations on this replica
	Lease         time.Duration // how long a claim lasts before another replica may take it over
	PollInterval  time.Duration // how often idle workers look for processes created elsewhere
	MinProcessing time.Duration // each process stays "processing" at least this long
	ResultTTL     time.Duration // how long a result is kept

	// ReportTTL is how long an invoice report is listed and its download
	// URL works, from its success (internal/jobs.ReportConfig.TTL).
	ReportTTL time.Duration

	// HistoryMonths is how many months back a query may start (API and web UI).
	HistoryMonths int
	// RateLimit is the per-organization bucket of the Invoices endpoint set;
	// a negative Capacity disables it.
	RateLimit httpapi.RateLimit
	// MaxBodyBytes bounds a request body (413 beyond).
	MaxBodyBytes int64
	// MaxUsageRows bounds a usage:query answer (httpapi.Config.MaxUsageRows;
	// 0: the default).
	MaxUsageRows int

	// Authentication (internal/auth).
	NonceTTL       time.Duration  // Digest nonce lifetime
	TokenTTL       time.Duration  // OAuth access token lifetime
	TrustedProxies []netip.Prefix // proxies whose X-Forwarded-For is trusted

	// MetricsApart leaves GET /metrics off the public handler: the caller
	// serves MetricsHandler on a listener of its own (ServeMetrics), so that
	// the metrics need not be reachable where the API is.
	MetricsApart bool
	// Pprof adds Go's profiles (net/http/pprof, under /debug/pprof/) to
	// the metrics listener (ServeMetrics); never to the public handler.
	Pprof bool
	// NoWebUI serves the API alone: paths outside /api/ answer Atlas 404s
	// instead of the web UI's pages.
	NoWebUI bool
	// TLS, if set, makes Serve speak HTTPS (and HTTP/2).
	TLS *tls.Config

	// Timeouts of Serve and ServeMetrics: reading a request's header, the
	// whole request, writing the answer, and an idle keep-alive connection
	// (10 s, 60 s, 120 s, 120 s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// maxHeaderBytes bounds a request's header (431 beyond).
const maxHeaderBytes = 64 << 10

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// DefaultConfig returns the defaults of `costexplorer serve`.
func DefaultConfig() Config {
	return Config{
		Now:           time.Now,
		Workers:       2,
		Lease:         30 * time.Second,
		ResultTTL:     24 * time.Hour,
		HistoryMonths: costexplorer.DefaultHistoryMonths,
		RateLimit:     httpapi.RateLimit{Capacity: 500, Refill: 100, Period: time.Minute},
		MaxBodyBytes:  httpapi.DefaultMaxBodyBytes,
		NonceTTL:      5 * time.Minute,
		TokenTTL:      time.Hour,
	}
}

// Server is a composed server. Its components are exported for the tests
// and commands that need to reach one (the runner's owner name, the
// metrics registry); they are not to be rebuilt elsewhere.
type Server struct {
	// Store is the store every component uses: the caller's, wrapped in
	// the metrics' timing.
	Store   costexplorer.Store
	Engine  *engine.Engine
	Runner  *jobs.Runner
	Reports *jobs.Reports
	Auth    *auth.Authenticator
	API     *httpapi.Server
	Web     *web.Server // nil with Config.NoWebUI
	Metrics *metrics.Metrics

	cfg     Config
	log     *slog.Logger
	handler http.Handler

	mu       sync.Mutex
	stopping bool
	servers  []*http.Server
}

// New builds a server on store: it loads the query engine and reads the
// authentication and session keys from the store, so a failure here leaves
// nothing running. Start the workers with Start and serve with Serve; the
// store stays the caller's to close, after Shutdown.
func New(ctx context.Context, store costexplorer.Store, cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, log: log, Metrics: metrics.New(auth.FailureKinds)}

	// Every component reaches the store through the timing wrapper; the
	// scrape reads the store itself, so that scrapes are not store traffic.
	s.Store = s.Metrics.InstrumentStore(store)

	// RefreshInterval 0: every evaluation checks the store's data version, so
	// a result is never computed on data older than the version its token
	// was derived from (one cheap read per evaluation).
	s.Engine = engine.New(s.Store, engine.Options{Now: cfg.Now})
	if err := s.Engine.Start(ctx); err != nil {
		return nil, fmt.Errorf("load query engine: %w", err)
	}
	s.Metrics.ReadAtScrape(metrics.ScrapeConfig{Store: store, Engine: s.Engine})

	var err error
	s.Auth, err = auth.New(ctx, auth.Config{
		Store:          s.Store,
		Now:            cfg.Now,
		NonceTTL:       cfg.NonceTTL,
		TokenTTL:       cfg.TokenTTL,
		TrustedProxies: cfg.TrustedProxies,
		// Its lines inside a request carry the request id.
		Logger:    slog.New(httpapi.LogHandler(log.Handler())),
		OnFailure: s.Metrics.AuthFailure,
	})
	if err != nil {
		return nil, fmt.Errorf("authentication: %w", err)
	}

	s.Runner = jobs.New(jobs.Config{
		Store:         s.Store,
		Evaluator:     s.Engine,
		Workers:       cfg.Workers,
		Lease:         cfg.Lease,
		PollInterval:  cfg.PollInterval,
		MinProcessing: cfg.MinProcessing,
		ResultTTL:     cfg.ResultTTL,
		Now:           cfg.Now,
		Logger:        log,
		Observe:       s.Metrics.ObserveProcess,
	})

	s.Reports = jobs.NewReports(jobs.ReportConfig{
		Store:        s.Store,
		Lease:        cfg.Lease,
		PollInterval: cfg.PollInterval,
		TTL:          cfg.ReportTTL,
		Now:          cfg.Now,
		Owner:        s.Runner.Owner(),
		Logger:       log,
	})
	reportKey, err := s.Store.Secret(ctx, reportKeyName, auth.RandomSecret(32))
	if err != nil {
		return nil, fmt.Errorf("report signing key: %w", err)
	}

	// The API and the web UI answer from the same services, clock and
	// query window.
	shared := httpapi.Shared{
		Usage:         s.Runner,
		UsageQueries:  s.Engine,
		Now:           cfg.Now,
		Logger:        log,
		HistoryMonths: cfg.HistoryMonths,
	}
	var ui http.Handler
	if !cfg.NoWebUI {
		s.Web, err = web.New(ctx, web.Config{
			Shared: shared,
			Store:  s.Store,
			Auth:   s.Auth,
		})
		if err != nil {
			return nil, fmt.Errorf("web UI: %w", err)
		}
		ui = s.Web
	}

	var metricsHandler http.Handler
	if !cfg.MetricsApart {
		metricsHandler = s.Metrics.Handler()
	}
	s.API = httpapi.New(httpapi.Config{
		Shared:       shared,
		Store:        s.Store,
		Invoices:     s.Store,
		Auth:         s.Auth,
		RateLimit:    cfg.RateLimit,
		MaxBodyBytes: cfg.MaxBodyBytes,
		MaxUsageRows: cfg.MaxUsageRows,
		Ready:        readiness(s.Store, s.Engine),
		Metrics:      metricsHandler,
		Observer:     s.Metrics,
		Web:          ui,
		Reports:      s.Reports,
		ReportKey:    reportKey,
	})
	s.handler = s.Metrics.InFlight(s.API.Handler())
	return s, nil
}

// reportKeyName names the store's secret that signs the invoice reports'
// download URLs.
const reportKeyName = "invoice-report-url"

// Handler returns the public HTTP handler: the API, the web UI and (unless
// Config.MetricsApart) /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler serves the metrics in the Prometheus exposition format.
func (s *Server) MetricsHandler() http.Handler { return s.Metrics.Handler() }

// Start starts the background work: the query-process workers and the
// janitor of expired authentication state. They outlive ctx's
// cancellation: Shutdown stops them after the HTTP server has finished the
// requests in flight, which may still create queries.
func (s *Server) Start(ctx context.Context) {
	s.Runner.Start(context.WithoutCancel(ctx))
	s.Reports.Start(context.WithoutCancel(ctx))
	s.Auth.Start(context.WithoutCancel(ctx))
}

// Serve serves the public handler on ln (HTTPS when Config.TLS is set)
// until Shutdown or Close, and then returns http.ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, s.handler, s.cfg.TLS) }

// ServeMetrics serves the metrics (and, with Config.Pprof, Go's profiles)
// alone on ln (plain HTTP) until Shutdown or Close, and then returns
// http.ErrServerClosed.
func (s *Server) ServeMetrics(ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.MetricsHandler())
	if s.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return s.serve(ln, mux, nil)
}

func (s *Server) serve(ln net.Listener, h http.Handler, tlsConfig *tls.Config) error {
	srv := s.httpServer(ln, h)
	if srv == nil {
		return http.ErrServerClosed
	}
	if tlsConfig != nil {
		srv.TLSConfig = tlsConfig
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// httpServer returns an HTTP server for ln with the timeouts every listener
// uses, registered for Shutdown; nil (and ln closed) once the server is
// shutting down.
func (s *Server) httpServer(ln net.Listener, h http.Handler) *http.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		_ = ln.Close()
		return nil
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: orDefault(s.cfg.ReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       orDefault(s.cfg.ReadTimeout, 60*time.Second),
		WriteTimeout:      orDefault(s.cfg.WriteTimeout, 120*time.Second),
		IdleTimeout:       orDefault(s.cfg.IdleTimeout, 120*time.Second),
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.servers = append(s.servers, srv)
	return srv
}

// stop marks the server as stopping and returns its HTTP servers.
func (s *Server) stop() []*http.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
	return s.servers
}

// Shutdown stops the server in order: stop accepting HTTP and finish the
// requests in flight (within ctx), then stop the workers, handing their
// leases back so that another replica takes their processes over at once,
// and the authentication janitor.
// It returns the HTTP servers' error (requests still in flight when ctx
// ended); a failure to hand the leases back is only logged, since the
// leases lapse anyway. The store is the caller's to close afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range s.stop() {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.Runner.Stop(ctx); err != nil {
		s.log.Warn("stop workers", "err", err)
	}
	if err := s.Reports.Stop(ctx); err != nil {
		s.log.Warn("stop report workers", "err", err)
	}
	if err := s.Auth.Stop(ctx); err != nil {
		s.log.Warn("stop the authentication janitor", "err", err)
	}
	return errors.Join(errs...)
}

// Close stops the server at once: open connections are closed, not
// drained, and the workers are stopped.
func (s *Server) Close() error {
	for _, srv := range s.stop() {
		_ = srv.Close()
	}
	return errors.Join(s.Runner.Stop(context.Background()), s.Reports.Stop(context.Background()), s.Auth.Stop(context.Background()))
}
