package client_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/jobs"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// t0 is the pinned date of the test server: the demo data ends on this day
// and the query window is counted from it. The server's clock starts there
// and then runs in real time, so that processing delays pass.
var t0 = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

// demoConfig is the small pinned dataset of the tests.
var demoConfig = demo.Config{Seed: 7, LineItems: 4000, Months: 6, Now: t0}

// server is a real costexplorer server on 127.0.0.1: the SQLite store, the
// query engine, the process runner, the authenticator and the HTTP API, as
// `costexplorer serve` wires them.
type server struct {
	URL string
	// Org is the demo paying organization; the credentials below are its.
	Org          string
	Other        string // a linked organization of Org
	PublicKey    string // ORG_OWNER API key
	PrivateKey   string
	ClientID     string // ORG_BILLING_READ_ONLY service account
	ClientSecret string
	MemberPublic string // ORG_MEMBER API key: may not use the cost explorer
	MemberSecret string

	offset *atomic.Int64 // nanoseconds added to the clock by Advance
	close  func()
}

// Advance moves the server's clock forward.
func (s *server) Advance(d time.Duration) { s.offset.Add(int64(d)) }

// serverOptions tune a test server.
type serverOptions struct {
	minProcessing time.Duration
	rateLimit     httpapi.RateLimit
}

// startServer starts a server; Close stops it and removes its files.
func startServer(o serverOptions) (_ *server, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	dir, err := os.MkdirTemp("", "costexplorer-client-test-")
	if err != nil {
		cancel()
		return nil, err
	}
	var cleanups []func()
	s := &server{close: func() {
		cancel()
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		_ = os.RemoveAll(dir)
	}}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	start := time.Now()
	s.offset = new(atomic.Int64)
	now := func() time.Time { return t0.Add(time.Since(start) + time.Duration(s.offset.Load())) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	db, err := sqlite.Open(ctx, filepath.Join(dir, "costexplorer.db"), sqlite.Options{Now: now})
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { _ = db.Close() })
	err = demo.Generate(ctx, demoConfig, func(b *costexplorer.UsageBatch) error {
		_, err := db.IngestUsage(ctx, b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load demo data: %w", err)
	}
	layout := demo.Describe(demoConfig)
	s.Org = layout.PayingOrg.ID
	if len(layout.Linked) > 0 {
		s.Other = layout.Linked[0].ID
	}
	key, priv, err := auth.NewAPIKey(s.Org, "owner", []costexplorer.Role{costexplorer.RoleOrgOwner}, nil)
	if err != nil {
		return nil, err
	}
	if err := db.CreateAPIKey(ctx, key); err != nil {
		return nil, err
	}
	s.PublicKey, s.PrivateKey = key.PublicKey, priv
	member, mpriv, err := auth.NewAPIKey(s.Org, "member", []costexplorer.Role{costexplorer.RoleOrgMember}, nil)
	if err != nil {
		return nil, err
	}
	if err := db.CreateAPIKey(ctx, member); err != nil {
		return nil, err
	}
	s.MemberPublic, s.MemberSecret = member.PublicKey, mpriv
	sa, secret, err := auth.NewServiceAccount(s.Org, "viewer", []costexplorer.Role{costexplorer.RoleOrgBillingReadOnly}, nil)
	if err != nil {
		return nil, err
	}
	if err := db.CreateServiceAccount(ctx, sa); err != nil {
		return nil, err
	}
	s.ClientID, s.ClientSecret = sa.ClientID, secret

	eng := engine.New(db, engine.Options{Now: now})
	if err := eng.Load(ctx); err != nil {
		return nil, err
	}
	runner := jobs.New(jobs.Config{Store: db, Evaluator: eng, Now: now, MinProcessing: o.minProcessing,
		PollInterval: 20 * time.Millisecond, Logger: log})
	runner.Start(ctx)
	cleanups = append(cleanups, func() { _ = runner.Stop(context.Background()) })
	authn, err := auth.New(ctx, auth.Config{Store: db, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	api := httpapi.New(httpapi.Config{Store: db, Usage: runner, Auth: authn, Now: now, Logger: log, RateLimit: o.rateLimit})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	cleanups = append(cleanups, func() { _ = srv.Close() })
	s.URL = "http://" + ln.Addr().String()
	return s, nil
}

// Close stops the server.
func (s *server) Close() { s.close() }

// newServer starts a server for one test.
func newServer(t *testing.T, o serverOptions) *server {
	t.Helper()
	s, err := startServer(o)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// The connection settings the examples use: those of the shared server.
var baseURL, orgID, publicKey, privateKey, clientID, clientSecret string

// shared is the server of the examples and of the tests that need no
// special options (processing takes 300 ms there).
var shared *server

func TestMain(m *testing.M) {
	var err error
	shared, err = startServer(serverOptions{minProcessing: 300 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test server:", err)
		os.Exit(1)
	}
	baseURL, orgID = shared.URL, shared.Org
	publicKey, privateKey = shared.PublicKey, shared.PrivateKey
	clientID, clientSecret = shared.ClientID, shared.ClientSecret
	code := m.Run()
	shared.Close()
	os.Exit(code)
}
