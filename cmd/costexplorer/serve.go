package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/jobs"
	"github.com/costexplorer/costexplorer/internal/metrics"
	"github.com/costexplorer/costexplorer/internal/web"
)

func runServe(ctx context.Context, m *Main, args []string) error {
	cfg := defaultServerConfig()
	fs := m.newFlagSet("serve", "serve [flags]",
		"costexplorer serve --data-dir ./costexplorer-data --addr 127.0.0.1:8080",
		"costexplorer serve --db postgres://user@db:5432/costexplorer --addr :8080 --workers 4",
		"COSTEXPLORER_MIN_PROCESSING=2s costexplorer serve   # every query answers \"processing\" for 2 s")
	cfg.register(fs, m)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	source, err := applyEnv(fs, m)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.PrintConfig {
		printConfig(m.Stdout, fs, source)
		return nil
	}
	store, err := m.openStore(ctx, &cfg.Store)
	if err != nil {
		return err
	}
	defer store.Close()
	return m.serve(ctx, &cfg, store, nil)
}

// newLogger returns the process logger the configuration asks for.
func (m *Main) newLogger(cfg *serverConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

// serve runs the HTTP server on store until ctx ends, then shuts down in
// order: stop accepting and finish requests in flight, stop the workers
// (handing their leases back), and let the caller close the store. banner,
// if set, is printed once the server accepts connections.
func (m *Main) serve(ctx context.Context, cfg *serverConfig, store costexplorer.Store, banner func(baseURL string)) error {
	log := m.newLogger(cfg)
	now := m.Now

	// Every component reaches the store through the timing wrapper; the
	// scrape reads the store itself, so that scrapes are not store traffic.
	mx := metrics.New(auth.FailureKinds)
	raw := store
	store = mx.InstrumentStore(raw)

	// RefreshInterval 0: every evaluation checks the store's data version, so
	// a result is never computed on data older than the version its token
	// was derived from (one cheap read per evaluation).
	eng := engine.New(store, engine.Options{Now: now})
	if err := eng.Load(ctx); err != nil {
		return fmt.Errorf("load query engine: %w", err)
	}
	mx.ReadAtScrape(metrics.ScrapeConfig{Store: raw, Engine: eng})

	var proxies []netip.Prefix
	for _, p := range cfg.TrustedProxies {
		pp, _ := parsePrefix(p)
		proxies = append(proxies, pp)
	}
	authn, err := auth.New(ctx, auth.Config{
		Store:          store,
		Now:            now,
		NonceTTL:       cfg.NonceTTL,
		TokenTTL:       cfg.TokenTTL,
		TrustedProxies: proxies,
		// Its lines inside a request carry the request id.
		Logger:    slog.New(httpapi.LogHandler(log.Handler())),
		OnFailure: mx.AuthFailure,
	})
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}

	runner := jobs.New(jobs.Config{
		Store:         store,
		Evaluator:     eng,
		Workers:       cfg.Workers,
		Lease:         cfg.Lease,
		MinProcessing: cfg.MinProcessing,
		ResultTTL:     cfg.ResultTTL,
		Now:           now,
		Logger:        log,
		Observe:       mx.ObserveProcess,
	})
	// The web UI reads its session key from the store; build it before the
	// workers start so that a failure leaves nothing running.
	ui, err := web.New(ctx, web.Config{
		Store:         store,
		Usage:         runner,
		Auth:          authn,
		Now:           now,
		Logger:        log,
		HistoryMonths: cfg.HistoryMonths,
	})
	if err != nil {
		return fmt.Errorf("web UI: %w", err)
	}
	// The workers outlive ctx: on shutdown they are stopped after the HTTP
	// server has finished the requests in flight (runner.Stop below).
	runner.Start(context.WithoutCancel(ctx))
	// The janitor of expired nonces, revoked tokens and sessions.
	authn.Start(context.WithoutCancel(ctx))
	defer authn.Stop(context.Background())

	api := httpapi.New(httpapi.Config{
		Store:         store,
		Usage:         runner,
		Auth:          authn,
		Now:           now,
		Logger:        log,
		HistoryMonths: cfg.HistoryMonths,
		RateLimit:     httpapi.RateLimit{Capacity: cfg.RateCapacity, Refill: cfg.RateRefill, Period: cfg.RatePeriod},
		MaxBodyBytes:  cfg.MaxBodyBytes,
		Ready:         readiness(store, eng),
		Metrics:       mx.Handler(),
		Observer:      mx,
		Web:           ui,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = runner.Stop(context.Background())
		return err
	}
	srv := &http.Server{
		Handler:           mx.InFlight(api.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		certs, err := newCertReloader(cfg.TLSCert, cfg.TLSKey, log)
		if err != nil {
			ln.Close()
			_ = runner.Stop(context.Background())
			return err
		}
		certs.watch(ctx, m.CertReloaded)
		srv.TLSConfig = certs.tlsConfig()
		scheme = "https"
	}
	baseURL := scheme + "://" + displayAddr(ln.Addr())
	log.Info("costexplorer serving", "url", baseURL, "owner", runner.Owner())
	if banner != nil {
		banner(baseURL)
	}
	if m.Ready != nil {
		m.Ready(baseURL)
	}

	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		_ = runner.Stop(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	if err := runner.Stop(sctx); err != nil {
		log.Warn("stop workers", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

// readinessTimeout bounds the store round trips of one /readyz, so that a
// hung database answers 503 rather than a probe timeout.
const readinessTimeout = 2 * time.Second

// readiness is the /readyz check: the store answers a ping; the migrated
// schema answers a query (the data version lives in a table the migrations
// create — the store applies them when it opens and refuses to open
// otherwise, so this proves they stay applied on the database this replica
// reaches); and the query engine holds a snapshot. Two indexed round trips
// and an atomic load: cheap enough for a probe every second. The error
// names the failing part for the server log; the client sees only 503
// SERVICE_UNAVAILABLE.
func readiness(store costexplorer.Store, eng *engine.Engine) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, readinessTimeout)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			return fmt.Errorf("store unreachable: %w", err)
		}
		if _, err := store.DataVersion(ctx); err != nil {
			return fmt.Errorf("store schema: %w", err)
		}
		if eng.Stats().LoadedAt.IsZero() {
			return errors.New("query engine not loaded")
		}
		return nil
	}
}

// displayAddr turns a listener address into one a person can paste.
func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") {
		return "127.0.0.1:" + strings.TrimPrefix(s, "[::]:")
	}
	if strings.HasPrefix(s, "0.0.0.0:") {
		return "127.0.0.1:" + strings.TrimPrefix(s, "0.0.0.0:")
	}
	return s
}
