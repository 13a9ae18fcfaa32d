package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/jobs"
	"github.com/costexplorer/costexplorer/internal/sqlite"
	"github.com/costexplorer/costexplorer/internal/web"
)

// t0 is the pinned "now" of every test: the demo data ends on this day and
// the month range and query window are counted from it.
var t0 = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

// demoConfig is the pinned demo dataset of the tests: small, so that a test
// server starts in well under a second.
var demoConfig = demo.Config{Seed: 7, LineItems: 4000, Months: 6, Now: t0}

// clock is a settable clock shared by every part of the server, so tests
// move time instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// options tune a test environment.
type options struct {
	minProcessing time.Duration
}

// env is the whole server (store, engine, runner, authenticator, API and web
// UI, composed as cmd/costexplorer serve composes them) on 127.0.0.1, over a
// temporary SQLite file holding the demo data.
type env struct {
	t      *testing.T
	clock  *clock
	db     *sqlite.DB
	runner *jobs.Runner
	authn  *auth.Authenticator
	srv    *httptest.Server
	layout demo.Layout
	org    string // the demo paying organization
	other  string // an organization neither paying nor linked
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, clock: &clock{t: t0}}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "costexplorer.db"), sqlite.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	e.db = db
	t.Cleanup(func() { _ = db.Close() })
	e.layout = demo.Describe(demoConfig)
	e.org = e.layout.PayingOrg.ID
	if len(e.layout.Others) == 0 || len(e.layout.Linked) == 0 {
		t.Fatalf("demo layout has %d linked and %d other organizations; the tests need both", len(e.layout.Linked), len(e.layout.Others))
	}
	e.other = e.layout.Others[0].ID
	err = demo.Generate(ctx, demoConfig, func(b *costexplorer.UsageBatch) error {
		_, err := db.IngestUsage(ctx, b)
		return err
	})
	if err != nil {
		t.Fatalf("load demo data: %v", err)
	}
	eng := engine.New(db, engine.Options{Now: e.clock.Now})
	if err := eng.Load(ctx); err != nil {
		t.Fatalf("load engine: %v", err)
	}
	e.runner = jobs.New(jobs.Config{
		Store: db, Evaluator: eng, Now: e.clock.Now, MinProcessing: o.minProcessing,
		PollInterval: 20 * time.Millisecond, Logger: testLogger(t),
	})
	e.runner.Start(ctx)
	t.Cleanup(func() { _ = e.runner.Stop(context.Background()) })
	e.authn, err = auth.New(ctx, auth.Config{Store: db, Now: e.clock.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	e.srv = httptest.NewServer(e.handler())
	t.Cleanup(e.srv.Close)
	return e
}

// handler composes the API and a web UI over the environment's store: each
// call is one more server replica sharing the database.
func (e *env) handler() http.Handler {
	e.t.Helper()
	ui, err := web.New(context.Background(), web.Config{
		Store: e.db, Usage: e.runner, Auth: e.authn, Now: e.clock.Now, Logger: testLogger(e.t),
	})
	if err != nil {
		e.t.Fatalf("web.New: %v", err)
	}
	api := httpapi.New(httpapi.Config{
		Store: e.db, Usage: e.runner, Auth: e.authn, Now: e.clock.Now, Logger: testLogger(e.t), Web: ui,
	})
	return api.Handler()
}

// testLogger logs through t, so failures show the server's side.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// apiKey stores an API key of orgID and returns its public and private key.
func (e *env) apiKey(orgID string, roles ...costexplorer.Role) (string, string) {
	e.t.Helper()
	k, private, err := auth.NewAPIKey(orgID, "web test", roles, nil)
	if err != nil {
		e.t.Fatalf("new API key: %v", err)
	}
	if err := e.db.CreateAPIKey(context.Background(), k); err != nil {
		e.t.Fatalf("store API key: %v", err)
	}
	return k.PublicKey, private
}

// serviceAccount stores a service account of orgID and returns its client id
// and secret.
func (e *env) serviceAccount(orgID string, roles ...costexplorer.Role) (string, string) {
	e.t.Helper()
	sa, secret, err := auth.NewServiceAccount(orgID, "web test", roles, nil)
	if err != nil {
		e.t.Fatalf("new service account: %v", err)
	}
	if err := e.db.CreateServiceAccount(context.Background(), sa); err != nil {
		e.t.Fatalf("store service account: %v", err)
	}
	return sa.ClientID, secret
}

// bearer returns an API access token of a new billing service account of
// orgID, through POST /api/oauth/token.
func (e *env) bearer(orgID string) string {
	e.t.Helper()
	id, secret := e.serviceAccount(orgID, costexplorer.RoleOrgBillingReadOnly)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, body := e.send(http.DefaultClient, req)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		e.t.Fatalf("token body: %v", err)
	}
	return tok.AccessToken
}

// apiCreate submits a query through the API and returns its token.
func (e *env) apiCreate(bearer, orgID string, body any) string {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/atlas/v2/orgs/"+orgID+"/billing/costExplorer/usage", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	req.Header.Set("Content-Type", "application/json")
	res, rb := e.send(http.DefaultClient, req)
	if res.StatusCode != http.StatusAccepted {
		e.t.Fatalf("create query: %d %s", res.StatusCode, rb)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(rb, &tok); err != nil {
		e.t.Fatalf("create query body: %v", err)
	}
	return tok.Token
}

// apiResult polls the API for a query's result in format ("json" or "csv")
// until it is ready, and returns the body.
func (e *env) apiResult(bearer, orgID, token, format string) []byte {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/atlas/v2/orgs/"+orgID+"/billing/costExplorer/usage/"+token, nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+"+format)
		res, body := e.send(http.DefaultClient, req)
		if res.StatusCode == http.StatusOK && len(body) > 0 {
			return body
		}
		if res.StatusCode != http.StatusOK || time.Now().After(deadline) {
			e.t.Fatalf("query result: %d %q", res.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send does req and reads the whole answer.
func (e *env) send(c *http.Client, req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return res, body
}

// browser is a cookie-keeping client of the web UI that does not follow
// redirects, so tests see each answer.
type browser struct {
	e   *env
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, jar: jar, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// get fetches path.
func (b *browser) get(path string) (*http.Response, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	res, body := b.e.send(b.c, req)
	return res, string(body)
}

// post sends a form to path, with extra headers.
func (b *browser) post(path string, form url.Values, headers ...string) (*http.Response, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, body := b.e.send(b.c, req)
	return res, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken returns the CSRF token of the first form of page.
func formToken(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return m[1]
}

// signIn signs b in with a credential and returns the answer to the form.
func (b *browser) signIn(id, secret string, extra ...string) (*http.Response, string) {
	b.e.t.Helper()
	_, page := b.get("/signin")
	form := url.Values{"csrf": {formToken(b.e.t, page)}, "id": {id}, "secret": {secret}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return b.post("/signin", form)
}

// mustSignIn signs b in and fails the test unless it worked.
func (b *browser) mustSignIn(id, secret string) {
	b.e.t.Helper()
	res, body := b.signIn(id, secret)
	if res.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("sign in: %d\n%s", res.StatusCode, body)
	}
}

// sessionCookie returns the session cookie b holds ("" if none).
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "costexplorer_session" {
			return c.Value
		}
	}
	return ""
}

var stateAttr = regexp.MustCompile(`id="result" data-state="([a-z]+)"`)

// explore loads an explorer URL until its query is no longer processing and
// returns the final answer.
func (b *browser) explore(path string) (*http.Response, string) {
	b.e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, body := b.get(path)
		m := stateAttr.FindStringSubmatch(body)
		if m == nil || m[1] != "processing" {
			return res, body
		}
		if time.Now().After(deadline) {
			b.e.t.Fatalf("GET %s still processing after 30 s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
