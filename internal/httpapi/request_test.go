package httpapi_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

func init() {
	// The CSV result is validated as a string (its schema pins the header
	// line); kin-openapi has no decoder for the Atlas media type otherwise.
	openapi3filter.RegisterBodyDecoder("application/vnd.atlas.2023-01-01+csv", openapi3filter.PlainBodyDecoder)
	// The generated invoice report is a gzip file, validated as a string.
	openapi3filter.RegisterBodyDecoder("application/vnd.atlas.preview+gzip", openapi3filter.PlainBodyDecoder)
}

// t0 is the pinned "now" of every test (servertest.T0): the demo data ends
// on this day and the query window is counted from it.
var t0 = servertest.T0

// options tune a test environment.
type options struct {
	path          string // SQLite file (a new temp file when empty)
	minProcessing time.Duration
	noRunner      bool // do not start the query runner
	rateLimit     httpapi.RateLimit
	maxBodyBytes  int64
	noDemo        bool         // skip loading the demo data (the file may already have it)
	demo          *demo.Config // the dataset (servertest.Demo when nil)
	// store wraps the store the server uses, to inject faults.
	store  func(costexplorer.Store) costexplorer.Store
	logger *slog.Logger // the server's log (warnings through t when nil)
	// config adjusts the server's configuration further.
	config func(*server.Config)
}

// env is a real server (servertest: the composition `costexplorer serve`
// uses, without the web UI, so that every path answers as the API does) on
// 127.0.0.1, with a client that checks every answer against openapi.yaml.
type env struct {
	*servertest.Server
	t testing.TB

	router routers.Router
	doc    *openapi3.T

	// bearer is an access token of the ORG_BILLING_READ_ONLY service
	// account of Org.
	bearer string
}

func newEnv(t testing.TB, o options) *env {
	t.Helper()
	e := &env{t: t}
	e.Server = servertest.New(t, servertest.Options{
		Path: o.path, Demo: o.demo, NoDemo: o.noDemo, NoWorkers: o.noRunner, Store: o.store, Logger: o.logger,
		Config: func(c *server.Config) {
			c.NoWebUI = true
			c.MinProcessing = o.minProcessing
			c.RateLimit = o.rateLimit
			c.MaxBodyBytes = o.maxBodyBytes
			if o.config != nil {
				o.config(c)
			}
		},
	})
	e.doc = loadDocument(t)
	e.doc.Servers = openapi3.Servers{{URL: e.URL}}
	var err error
	if e.router, err = gorillamux.NewRouter(e.doc); err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	if e.ClientID != "" {
		e.bearer = e.accessToken(e.ClientID, e.ClientSecret)
	}
	return e
}

func loadDocument(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// projectsAndClusters returns every project and cluster in the server's
// store, of every organization.
func (e *env) projectsAndClusters(tb testing.TB) ([]*costexplorer.Project, []*costexplorer.Cluster) {
	tb.Helper()
	projects, err := e.DB.Projects(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	clusters, err := e.DB.Clusters(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return projects, clusters
}

// accessToken gets a Bearer token for a service account.
func (e *env) accessToken(clientID, secret string) string {
	e.t.Helper()
	req := e.newRequest("POST", "/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	res := e.do(req)
	if res.status != http.StatusOK {
		e.t.Fatalf("token: %d %s", res.status, res.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(res.body, &tok); err != nil {
		e.t.Fatalf("token body: %v", err)
	}
	return tok.AccessToken
}

// newRequest builds a request to the test server (no credentials, no Accept).
func (e *env) newRequest(method, path string, body io.Reader) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	return req
}

// apiRequest builds an authenticated request that accepts the 2023-01-01 JSON
// version.
func (e *env) apiRequest(method, path, body string) *http.Request {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := e.newRequest(method, path, r)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
	}
	req.Header.Set("Authorization", "Bearer "+e.bearer)
	return req
}

// response is a fully read answer, already checked against openapi.yaml.
type response struct {
	status        int
	header        http.Header
	body          []byte
	interim       []int // 1xx statuses seen before the final answer
	interimHeader []http.Header
}

// mustOK fails t unless r is a 200 of the given Content-Type; what names
// the answer in the failure.
func (r *response) mustOK(t testing.TB, what, contentType string) {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != contentType {
		t.Fatalf("%s: %d %q %.1000s", what, r.status, r.header.Get("Content-Type"), r.body)
	}
}

func (r *response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d body %q: %v", r.status, r.body, err)
	}
}

// apiErr decodes an Atlas error body.
func (r *response) apiErr(t testing.TB) apiErrorBody {
	t.Helper()
	var b apiErrorBody
	r.json(t, &b)
	return b
}

type apiErrorBody struct {
	Detail           string `json:"detail"`
	Error            int    `json:"error"`
	ErrorCode        string `json:"errorCode"`
	Parameters       []any  `json:"parameters"`
	Reason           string `json:"reason"`
	BadRequestDetail *struct {
		Fields []costexplorer.FieldViolation `json:"fields"`
	} `json:"badRequestDetail"`
}

// do sends req with a plain client, reads the whole answer and validates it
// against the project's OpenAPI document. Every test request goes through
// here, so no answer escapes validation.
func (e *env) do(req *http.Request) *response {
	e.t.Helper()
	res := &response{}
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{
		Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			res.interim = append(res.interim, code)
			res.interimHeader = append(res.interimHeader, http.Header(header).Clone())
			return nil
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	var reqBody []byte
	if req.Body != nil && req.GetBody != nil {
		rc, _ := req.GetBody()
		reqBody, _ = io.ReadAll(rc)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hres, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer hres.Body.Close()
	res.status, res.header = hres.StatusCode, hres.Header
	if res.body, err = io.ReadAll(hres.Body); err != nil {
		e.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	if req.Body != nil && reqBody != nil {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	for _, err := range e.validate(req, res) {
		e.t.Errorf("%s %s: %v", req.Method, req.URL, err)
	}
	return res
}

// validate checks an answer against openapi.yaml: the operation's declared
// statuses (undeclared ones fail), headers and body schemas, and the interim
// 1xx answers; answers to paths or methods the document lacks must be Atlas
// errors (404/405). On top of the document: a body always has a
// Content-Type, and an empty body has none.
func (e *env) validate(req *http.Request, res *response) []error {
	var errs []error
	ct := res.header.Get("Content-Type")
	if len(res.body) > 0 && ct == "" {
		errs = append(errs, fmt.Errorf("%d body without Content-Type", res.status))
	}
	if len(res.body) == 0 && ct != "" && req.Method != http.MethodHead {
		errs = append(errs, fmt.Errorf("%d empty body with Content-Type %q", res.status, ct))
	}
	route, params, err := e.router.FindRoute(req)
	if p := req.URL.Path; err == nil && path.Clean(p) != strings.TrimSuffix(p, "/") {
		// A non-canonical path ("/orgs/./billing/…") is no operation's
		// path even when a template matches it with "." as a parameter:
		// the server answers it as a missing resource before routing.
		err = fmt.Errorf("non-canonical path %s", p)
	}
	if err != nil {
		// Not an operation of the document: only Atlas errors may answer,
		// 404 or 405.
		if res.status != http.StatusNotFound && res.status != http.StatusMethodNotAllowed {
			errs = append(errs, fmt.Errorf("no operation in openapi.yaml (%v) but answered %d", err, res.status))
		}
		return append(errs, e.checkSchema(res, "ApiError")...)
	}
	check := func(status int, header http.Header, body []byte) error {
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 status,
			Header:                 header,
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		in.SetBodyBytes(body)
		return openapi3filter.ValidateResponse(context.Background(), in)
	}
	if err := check(res.status, res.header, res.body); err != nil {
		errs = append(errs, fmt.Errorf("answer %d does not match openapi.yaml: %v\nbody: %s", res.status, err, res.body))
	}
	for i, code := range res.interim {
		if err := check(code, res.interimHeader[i], nil); err != nil {
			errs = append(errs, fmt.Errorf("interim %d does not match openapi.yaml: %v", code, err))
		}
	}
	return errs
}

// checkSchema validates a JSON body against a named component schema.
func (e *env) checkSchema(res *response, name string) []error {
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		return []error{fmt.Errorf("%d Content-Type %q, want application/json", res.status, ct)}
	}
	var v any
	if err := json.Unmarshal(res.body, &v); err != nil {
		return []error{fmt.Errorf("%d body is not JSON: %v", res.status, err)}
	}
	if err := e.doc.Components.Schemas[name].Value.VisitJSON(v); err != nil {
		return []error{fmt.Errorf("%d body does not match %s: %v", res.status, name, err)}
	}
	return nil
}

// digest answers a Digest challenge (RFC 7616, MD5, qop=auth) the way the
// Atlas Go SDK does: nc=00000001 and a uri with the query string.
func digest(t testing.TB, challenge, method, uri, user, password string) string {
	t.Helper()
	params := map[string]string{}
	rest, ok := strings.CutPrefix(challenge, "Digest ")
	if !ok {
		t.Fatalf("not a Digest challenge: %q", challenge)
	}
	for _, part := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(part, "=")
		params[k] = strings.Trim(v, `"`)
	}
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	cb := make([]byte, 8)
	_, _ = rand.Read(cb)
	cnonce := hex.EncodeToString(cb)
	ha1 := h(user + ":" + params["realm"] + ":" + password)
	ha2 := h(method + ":" + uri)
	resp := h(ha1 + ":" + params["nonce"] + ":00000001:" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s", response="%s"`,
		user, params["realm"], params["nonce"], uri, cnonce, resp)
}

// doDigest sends req with Digest credentials: a first request without them
// for the challenge, then the answer to it.
func (e *env) doDigest(req *http.Request, user, password string) *response {
	e.t.Helper()
	first := req.Clone(req.Context())
	if req.GetBody != nil {
		first.Body, _ = req.GetBody()
	}
	res := e.do(first)
	if res.status != http.StatusUnauthorized {
		return res
	}
	challenge := res.header.Values("WWW-Authenticate")
	if len(challenge) == 0 {
		e.t.Fatalf("401 without a challenge")
	}
	req.Header.Set("Authorization", digest(e.t, challenge[0], req.Method, req.URL.RequestURI(), user, password))
	return e.do(req)
}

// usagePath is the cost-explorer path of orgID.
func usagePath(orgID string) string {
	return "/api/atlas/v2/orgs/" + orgID + "/billing/costExplorer/usage"
}

// create posts a query and returns its token.
func (e *env) create(orgID, body string) string {
	e.t.Helper()
	res := e.do(e.apiRequest("POST", usagePath(orgID), body))
	if res.status != http.StatusAccepted {
		e.t.Fatalf("create query: %d %s", res.status, res.body)
	}
	var v struct{ Token string }
	res.json(e.t, &v)
	return v.Token
}

// waitReady polls a token with envelope=true until its status is 200 and
// returns the last answer. It waits for the runner, so it has a generous
// bound instead of a timed assertion.
func (e *env) waitReady(orgID, token string) *response {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := e.do(e.apiRequest("GET", usagePath(orgID)+"/"+token+"?envelope=true", ""))
		if res.status != http.StatusOK {
			e.t.Fatalf("poll: %d %s", res.status, res.body)
		}
		var v struct{ Status int }
		res.json(e.t, &v)
		if v.Status == http.StatusOK {
			return res
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("query %s not ready after 30 s", token)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// httpapiRateLimit is a bucket of capacity n refilled one token a minute.
func httpapiRateLimit(n int) httpapi.RateLimit {
	return httpapi.RateLimit{Capacity: n, Refill: 1, Period: time.Minute}
}
