// Package servertest starts real costexplorer servers for tests: the
// SQLite store in a temporary file, the pinned demo dataset, credentials of
// its paying organization, a settable clock, and the server composed by
// internal/server — the same function `costexplorer serve` uses — serving
// on 127.0.0.1:0.
package servertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// T0 is the pinned "now" of the tests: the demo data ends on this day and
// the query window is counted from it.
var T0 = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

// Demo is the pinned demo dataset of the tests: small, so that a server
// starts in well under a second and golden files stay readable.
var Demo = demo.Config{Seed: 7, LineItems: 4000, Months: 6, Now: T0}

// Options tune a test server. The zero value is the demo data at T0 with
// the workers running and the defaults of the components (not those of
// `costexplorer serve`: no rate-limit or body-size settings of its own).
type Options struct {
	// Path is the SQLite file (a new temporary file when empty); a second
	// server on the same Path is a restart.
	Path string
	// Demo is the dataset (servertest.Demo when nil).
	Demo *demo.Config
	// NoDemo skips loading the dataset (the file may already hold it).
	NoDemo bool
	// NoWorkers leaves the background work (the query-process workers, the
	// authentication janitor) stopped: the test is the only worker.
	NoWorkers bool
	// Clock is the server's clock (a clock pinned at T0 when nil).
	Clock *Clock
	// Logger receives the server's logs (warnings and errors through t.Log
	// when nil).
	Logger *slog.Logger
	// Config adjusts the server's configuration before it is built.
	Config func(*server.Config)
	// Store, if set, wraps the store the server is built on (to inject
	// faults); DB stays the store itself.
	Store func(costexplorer.Store) costexplorer.Store
}

// Credentials are the credentials a test server creates for its paying
// organization.
type Credentials struct {
	PublicKey, PrivateKey  string // an ORG_OWNER API key
	ClientID, ClientSecret string // an ORG_BILLING_READ_ONLY service account
}

// Server is a running test server.
type Server struct {
	*server.Server
	// URL is the base URL, http://127.0.0.1:PORT.
	URL   string
	Clock *Clock
	// DB is the store itself (Server.Store is its metrics wrapper).
	DB     *sqlite.DB
	Path   string
	Layout demo.Layout
	// Org is the demo paying organization; Credentials are its (empty when
	// the store holds no such organization).
	Org string
	Credentials

	opts   Options
	closes []func()
}

// New starts a server for t, stopped and removed when t ends.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "costexplorer.db")
	}
	if o.Logger == nil {
		o.Logger = TestLogger(t)
	}
	s, err := Start(o)
	if err != nil {
		t.Fatalf("start test server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside a test (TestMain); Close stops it. With
// Options.Path empty, its store lives in a temporary directory that Close
// removes.
func Start(o Options) (_ *Server, err error) {
	ctx := context.Background()
	s := &Server{opts: o, Clock: o.Clock, Path: o.Path}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Clock == nil {
		s.Clock = NewClock(T0)
	}
	if s.Path == "" {
		dir, err := os.MkdirTemp("", "costexplorer-test-")
		if err != nil {
			return nil, err
		}
		s.closes = append(s.closes, func() { _ = os.RemoveAll(dir) })
		s.Path = filepath.Join(dir, "costexplorer.db")
	}
	s.DB, err = sqlite.Open(ctx, s.Path, sqlite.Options{Now: s.Clock.Now})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.closes = append(s.closes, func() { _ = s.DB.Close() })
	cfg := Demo
	if o.Demo != nil {
		cfg = *o.Demo
	}
	s.Layout = demo.Describe(cfg)
	s.Org = s.Layout.PayingOrg.ID
	if !o.NoDemo {
		err := demo.Generate(ctx, cfg, func(b *costexplorer.UsageBatch) error {
			_, err := s.DB.IngestUsage(ctx, b)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("load demo data: %w", err)
		}
	}
	if _, err := s.DB.Organization(ctx, s.Org); err == nil {
		if s.Credentials, err = createCredentials(ctx, s.DB, s.Org); err != nil {
			return nil, err
		}
	}
	srv, err := s.compose(ctx)
	if err != nil {
		return nil, err
	}
	s.Server = srv
	s.closes = append(s.closes, func() { _ = srv.Close() })
	if !o.NoWorkers {
		srv.Start(ctx)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	s.URL = "http://" + ln.Addr().String()
	return s, nil
}

// compose builds a server over the test store with the test's options.
func (s *Server) compose(ctx context.Context) (*server.Server, error) {
	cfg := server.Config{Now: s.Clock.Now, Logger: s.opts.Logger, PollInterval: 20 * time.Millisecond}
	if s.opts.Config != nil {
		s.opts.Config(&cfg)
	}
	var store costexplorer.Store = s.DB
	if s.opts.Store != nil {
		store = s.opts.Store(store)
	}
	return server.New(ctx, store, cfg)
}

// Replica composes another server on the same store, with the same
// options, as a second replica sharing the database would be; it is not
// started (serve its Handler).
func (s *Server) Replica(t testing.TB) *server.Server {
	t.Helper()
	r, err := s.compose(context.Background())
	if err != nil {
		t.Fatalf("replica: %v", err)
	}
	return r
}

// Close stops the server and closes its store.
func (s *Server) Close() {
	for i := len(s.closes) - 1; i >= 0; i-- {
		s.closes[i]()
	}
	s.closes = nil
}

// createCredentials stores the Credentials of orgID.
func createCredentials(ctx context.Context, store costexplorer.Store, orgID string) (Credentials, error) {
	key, priv, err := createAPIKey(ctx, store, orgID, nil, costexplorer.RoleOrgOwner)
	if err != nil {
		return Credentials{}, err
	}
	id, secret, err := createServiceAccount(ctx, store, orgID, nil, costexplorer.RoleOrgBillingReadOnly)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{PublicKey: key.PublicKey, PrivateKey: priv, ClientID: id, ClientSecret: secret}, nil
}

func createAPIKey(ctx context.Context, store costexplorer.Store, orgID string, acl costexplorer.AccessList, roles ...costexplorer.Role) (*costexplorer.APIKey, string, error) {
	k, private, err := auth.NewAPIKey(orgID, "test", roles, acl)
	if err != nil {
		return nil, "", fmt.Errorf("new API key: %w", err)
	}
	if err := store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", fmt.Errorf("store API key: %w", err)
	}
	return k, private, nil
}

func createServiceAccount(ctx context.Context, store costexplorer.Store, orgID string, acl costexplorer.AccessList, roles ...costexplorer.Role) (string, string, error) {
	sa, secret, err := auth.NewServiceAccount(orgID, "test", roles, acl)
	if err != nil {
		return "", "", fmt.Errorf("new service account: %w", err)
	}
	if err := store.CreateServiceAccount(ctx, sa); err != nil {
		return "", "", fmt.Errorf("store service account: %w", err)
	}
	return sa.ClientID, secret, nil
}

// APIKey stores an API key of orgID and returns it with its private key.
func (s *Server) APIKey(t testing.TB, orgID string, acl costexplorer.AccessList, roles ...costexplorer.Role) (*costexplorer.APIKey, string) {
	t.Helper()
	k, private, err := createAPIKey(context.Background(), s.DB, orgID, acl, roles...)
	if err != nil {
		t.Fatal(err)
	}
	return k, private
}

// ServiceAccount stores a service account of orgID and returns its client
// id and secret.
func (s *Server) ServiceAccount(t testing.TB, orgID string, acl costexplorer.AccessList, roles ...costexplorer.Role) (string, string) {
	t.Helper()
	id, secret, err := createServiceAccount(context.Background(), s.DB, orgID, acl, roles...)
	if err != nil {
		t.Fatal(err)
	}
	return id, secret
}

// AccessToken gets a Bearer token for a service account through
// POST /api/oauth/token.
func (s *Server) AccessToken(t testing.TB, clientID, secret string) string {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatalf("token body: %v", err)
	}
	return tok.AccessToken
}

// MetricValue returns the value of the line `name{labels} v` of a
// Prometheus text exposition; labels are name, value pairs in name order,
// as client_golang writes them. It reports whether the line is there.
func MetricValue(t testing.TB, exposition, name string, labels ...string) (float64, bool) {
	t.Helper()
	key := name
	if len(labels) > 0 {
		var parts []string
		for i := 0; i+1 < len(labels); i += 2 {
			parts = append(parts, labels[i]+`="`+labels[i+1]+`"`)
		}
		key += "{" + strings.Join(parts, ",") + "}"
	}
	for _, line := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return f, true
		}
	}
	return 0, false
}

// TestLogger logs warnings and errors through t, so that failures show the
// server's side.
func TestLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
