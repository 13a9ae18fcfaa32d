package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/server"
)

func runServe(ctx context.Context, m *Main, args []string) error {
	cfg, fs := m.newServerFlags("serve",
		"costexplorer serve --data-dir ./costexplorer-data --addr 127.0.0.1:8080",
		"costexplorer serve --db postgres://user@db:5432/costexplorer --addr :8080 --workers 4",
		"COSTEXPLORER_MIN_PROCESSING=2s costexplorer serve   # every query answers \"processing\" for 2 s")
	if printed, err := cfg.parse(fs, m, args); printed || err != nil {
		return err
	}
	store, err := m.openStore(ctx, &cfg.Store)
	if err != nil {
		return err
	}
	defer store.Close()
	return m.serve(ctx, cfg, store, nil)
}

// newServerFlags returns the default server configuration and the flag set
// of the command name with every option of it: how each command that runs
// a server (serve, demo) starts, before it adds flags of its own.
func (m *Main) newServerFlags(name string, examples ...string) (*serverConfig, *flag.FlagSet) {
	cfg := defaultServerConfig()
	fs := m.newFlagSet(name, name+" [flags]", examples...)
	cfg.register(fs, m)
	return &cfg, fs
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

// serve runs the server on store until ctx ends, then shuts down in order:
// stop accepting and finish requests in flight, stop the workers (handing
// their leases back), and let the caller close the store. banner, if set, is
// printed once the server accepts connections.
func (m *Main) serve(ctx context.Context, cfg *serverConfig, store costexplorer.Store, banner func(baseURL string)) error {
	log := m.newLogger(cfg)
	scfg := server.Config{
		Now:           m.Now,
		Logger:        log,
		Workers:       cfg.Workers,
		Lease:         cfg.Lease,
		MinProcessing: cfg.MinProcessing,
		ResultTTL:     cfg.ResultTTL,
		HistoryMonths: cfg.HistoryMonths,
		RateLimit:     httpapi.RateLimit{Capacity: cfg.RateCapacity, Refill: cfg.RateRefill, Period: cfg.RatePeriod},
		MaxBodyBytes:  cfg.MaxBodyBytes,
		NonceTTL:      cfg.NonceTTL,
		TokenTTL:      cfg.TokenTTL,
		MetricsApart:  cfg.MetricsAddr != "",
		Pprof:         cfg.Pprof,
	}
	for _, p := range cfg.TrustedProxies {
		pp, _ := parsePrefix(p)
		scfg.TrustedProxies = append(scfg.TrustedProxies, pp)
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		certs, err := newCertReloader(cfg.TLSCert, cfg.TLSKey, log)
		if err != nil {
			return err
		}
		certs.watch(ctx, m.CertReloaded)
		scfg.TLS = certs.tlsConfig()
		scheme = "https"
	}
	srv, err := server.New(ctx, store, scfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	listeners := []func() error{func() error { return srv.Serve(ln) }}
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		listeners = append(listeners, func() error { return srv.ServeMetrics(mln) })
		log.Info("metrics serving", "url", "http://"+displayAddr(mln.Addr())+"/metrics")
	}
	srv.Start(ctx)
	sched, err := m.startSync(ctx, &cfg.Sync, srv, store, log)
	if err != nil {
		_ = srv.Close()
		return err
	}
	baseURL := scheme + "://" + displayAddr(ln.Addr())
	log.Info("costexplorer serving", "url", baseURL, "owner", srv.Runner.Owner())
	if banner != nil {
		banner(baseURL)
	}
	if m.Ready != nil {
		m.Ready(baseURL)
	}

	errc := make(chan error, len(listeners))
	for _, serve := range listeners {
		go func() { errc <- serve() }()
	}
	select {
	case err := <-errc:
		_ = srv.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if sched != nil {
		if err := sched.Stop(sctx); err != nil {
			log.Warn("sync: stop", "err", err)
		}
	}
	shutdownErr := srv.Shutdown(sctx)
	for range listeners {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
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
