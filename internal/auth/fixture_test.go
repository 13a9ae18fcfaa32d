package auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/logtest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// atlasError is the decoded Atlas error body.
type atlasError struct {
	Error      int    `json:"error"`
	ErrorCode  string `json:"errorCode"`
	Detail     string `json:"detail"`
	Parameters []any  `json:"parameters"`
}

// fixture is a real SQLite store, an Authenticator on it and a loopback
// HTTP server mounting its middleware and handlers.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	path  string
	db    *sqlite.DB
	clock *testClock
	auth  *Authenticator
	srv   *httptest.Server
	logs  *logtest.Buffer
	orgID string
}

// newFixture opens a fresh database with one organization. edit adjusts the
// Config (brute-force slowing is off unless a test turns it on).
func newFixture(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "costexplorer.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, ctx: ctx, path: path, db: db, logs: &logtest.Buffer{}, orgID: "5f0000000000000000000001",
		clock: &testClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}}
	f.createOrg(f.orgID, false)
	cfg := Config{
		Store:      db,
		Now:        f.clock.Now,
		Logger:     slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BruteForce: BruteForceConfig{Delay: -1},
	}
	if edit != nil {
		edit(&cfg)
	}
	f.auth, f.srv = f.serve(cfg)
	return f
}

// serve starts another Authenticator (a replica) with cfg on a server.
func (f *fixture) serve(cfg Config) (*Authenticator, *httptest.Server) {
	f.t.Helper()
	a, err := New(f.ctx, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/atlas/v2/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(w, r)
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"kind": p.Kind, "id": p.ID, "publicKey": p.PublicKey, "orgId": p.OrgID, "roles": p.Roles, "body": string(body)})
	}))
	mux.Handle("POST /api/oauth/token", a.TokenHandler())
	mux.Handle("/api/oauth/token", a.TokenHandler())
	mux.Handle("POST /api/oauth/revoke", a.RevokeHandler())
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return a, srv
}

func (f *fixture) createOrg(id string, requiresAccessList bool) {
	f.t.Helper()
	if err := f.db.CreateOrganization(f.ctx, &costexplorer.Organization{ID: id, Name: "Org " + id, RequiresAccessList: requiresAccessList}); err != nil {
		f.t.Fatal(err)
	}
}

// apiKey creates an API key of orgID and returns it with its private key.
func (f *fixture) apiKey(orgID string, acl ...string) (*costexplorer.APIKey, string) {
	f.t.Helper()
	k, priv, err := NewAPIKey(orgID, "test key", []costexplorer.Role{costexplorer.RoleOrgBillingReadOnly}, acl)
	return stored(f, k, priv, err, f.db.CreateAPIKey)
}

// serviceAccount creates a service account of orgID and returns it with
// its secret.
func (f *fixture) serviceAccount(orgID string, acl ...string) (*costexplorer.ServiceAccount, string) {
	f.t.Helper()
	sa, secret, err := NewServiceAccount(orgID, "test account", []costexplorer.Role{costexplorer.RoleOrgBillingAdmin}, acl)
	return stored(f, sa, secret, err, f.db.CreateServiceAccount)
}

// stored saves the credential c that a constructor returned with its secret
// and err, and returns them; any error fails the test.
func stored[C any](f *fixture, c C, secret string, err error, create func(context.Context, C) error) (C, string) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	if err := create(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	return c, secret
}

// revokeInStore revokes token in the store directly, as another replica's
// revocation endpoint would, for an hour.
func (f *fixture) revokeInStore(t *testing.T, token string) {
	t.Helper()
	claims, err := f.auth.tokens.verifySignature(token)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.RevokeToken(f.ctx, claims.ID, f.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// disableServiceAccount disables the account in the store, enabling it
// again when t ends.
func (f *fixture) disableServiceAccount(t *testing.T, clientID string) {
	t.Helper()
	if err := f.db.SetServiceAccountEnabled(f.ctx, clientID, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.SetServiceAccountEnabled(f.ctx, clientID, true) })
}

// digestClient returns an HTTP client that signs with the key.
func (f *fixture) digestClient(publicKey, privateKey string, edit func(*digestTransport)) *http.Client {
	tr := &digestTransport{Username: publicKey, Password: privateKey, Base: f.srv.Client().Transport}
	if edit != nil {
		edit(tr)
	}
	return &http.Client{Transport: tr}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) atlasError(t *testing.T) atlasError {
	t.Helper()
	var e atlasError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e
}

// wantAtlasError checks the status, errorCode and that the body agrees.
func (r *response) wantAtlasError(t *testing.T, status int, code string) atlasError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	e := r.atlasError(t)
	if e.Error != status || e.ErrorCode != code {
		t.Fatalf("body %s, want error %d %s", r.body, status, code)
	}
	return e
}

func do(t testing.TB, c *http.Client, req *http.Request) *response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}
}

func (f *fixture) request(method, pathAndQuery string, body io.Reader) *http.Request {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, method, f.srv.URL+pathAndQuery, body)
	if err != nil {
		f.t.Fatal(err)
	}
	return req
}

// token asks the token endpoint for an access token with HTTP Basic.
func (f *fixture) tokenRequest(clientID, secret string, form url.Values) *response {
	f.t.Helper()
	req := f.request("POST", "/api/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	return do(f.t, f.srv.Client(), req)
}

// accessToken returns a fresh access token of the account.
func (f *fixture) accessToken(clientID, secret string) string {
	f.t.Helper()
	r := f.tokenRequest(clientID, secret, url.Values{"grant_type": {"client_credentials"}})
	if r.status != 200 {
		f.t.Fatalf("token endpoint: %d %s", r.status, r.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil {
		f.t.Fatal(err)
	}
	return tok.AccessToken
}

// bearer calls the API with an access token.
func (f *fixture) bearer(token string, edit func(*http.Request)) *response {
	f.t.Helper()
	req := f.request("GET", "/api/atlas/v2/orgs", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if edit != nil {
		edit(req)
	}
	return do(f.t, f.srv.Client(), req)
}

// principal decodes the test handler's answer.
func (r *response) principal(t *testing.T) map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d, want 200; body %s", r.status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
