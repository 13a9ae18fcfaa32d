package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// t0 is the pinned "now" of every test (servertest.T0): the demo data ends
// on this day and the month range and query window are counted from it.
var t0 = servertest.T0

// options tune a test environment.
type options struct {
	minProcessing time.Duration
}

// env is the whole server (servertest: store, engine, runner,
// authenticator, API and web UI, composed by the function `costexplorer
// serve` uses) on 127.0.0.1, over a temporary SQLite file holding the demo
// data.
type env struct {
	*servertest.Server
	t     *testing.T
	other string // an organization neither paying nor linked
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	e := &env{t: t, Server: servertest.New(t, servertest.Options{
		Config: func(c *server.Config) { c.MinProcessing = o.minProcessing },
	})}
	if len(e.Layout.Others) == 0 || len(e.Layout.Linked) == 0 {
		t.Fatalf("demo layout has %d linked and %d other organizations; the tests need both", len(e.Layout.Linked), len(e.Layout.Others))
	}
	e.other = e.Layout.Others[0].ID
	return e
}

// handler composes another server on the environment's store: one more
// replica sharing the database.
func (e *env) handler() http.Handler {
	e.t.Helper()
	return e.Replica(e.t).Handler()
}

// apiKey stores an API key of orgID and returns its public and private key.
func (e *env) apiKey(orgID string, roles ...costexplorer.Role) (string, string) {
	e.t.Helper()
	k, private := e.APIKey(e.t, orgID, nil, roles...)
	return k.PublicKey, private
}

// serviceAccount stores a service account of orgID and returns its client id
// and secret.
func (e *env) serviceAccount(orgID string, roles ...costexplorer.Role) (string, string) {
	e.t.Helper()
	return e.ServiceAccount(e.t, orgID, nil, roles...)
}

// bearer returns an API access token of a new billing service account of
// orgID, through POST /api/oauth/token.
func (e *env) bearer(orgID string) string {
	e.t.Helper()
	id, secret := e.serviceAccount(orgID, costexplorer.RoleOrgBillingReadOnly)
	return e.AccessToken(e.t, id, secret)
}

// apiCreate submits a query through the API and returns its token.
func (e *env) apiCreate(bearer, orgID string, body any) string {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.URL+"/api/atlas/v2/orgs/"+orgID+"/billing/costExplorer/usage", strings.NewReader(string(b)))
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
		req, _ := http.NewRequest("GET", e.URL+"/api/atlas/v2/orgs/"+orgID+"/billing/costExplorer/usage/"+token, nil)
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
	req, _ := http.NewRequest("GET", b.e.URL+path, nil)
	res, body := b.e.send(b.c, req)
	return res, string(body)
}

// post sends a form to path, with extra headers.
func (b *browser) post(path string, form url.Values, headers ...string) (*http.Response, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.e.URL+path, strings.NewReader(form.Encode()))
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

// signedIn returns a new browser signed in with a new API key of the
// environment's organization that has role.
func (e *env) signedIn(role costexplorer.Role) *browser {
	e.t.Helper()
	b := e.newBrowser()
	b.mustSignIn(e.apiKey(e.Org, role))
	return b
}

// sessionCookie returns the session cookie b holds ("" if none).
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.e.URL)
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
