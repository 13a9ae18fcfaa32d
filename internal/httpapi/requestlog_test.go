package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/auth"
	"github.com/costexplorer/costexplorer/internal/httpapi"
)

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines decodes every line whose msg is msg.
func (l *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// lineWithID returns the single line with msg and request_id id.
func (l *logBuffer) lineWithID(t *testing.T, msg, id string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, m := range l.lines(t, msg) {
		if m["request_id"] == id {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %q lines with request_id %q, want 1; log:\n%s", len(found), msg, id, l.String())
	}
	return found[0]
}

// observed records what the server tells its Observer.
type observed struct {
	mu          sync.Mutex
	requests    []string // "route status"
	rateLimited int
}

func (o *observed) ObserveRequest(route string, status int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, route+" "+http.StatusText(status))
}

func (o *observed) RateLimited() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rateLimited++
}

func (o *observed) take() ([]string, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, n := o.requests, o.rateLimited
	o.requests, o.rateLimited = nil, 0
	return r, n
}

// newObservedEnv is newEnv whose server logs JSON at DEBUG into logs and
// reports to obs (the store, runner and credentials are newEnv's).
func newObservedEnv(t *testing.T, o options, logs *logBuffer, obs httpapi.Observer) *env {
	t.Helper()
	e := newEnv(t, o)
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	authn, err := auth.New(context.Background(), auth.Config{
		Store: e.db, Now: e.clock.Now,
		Logger: slog.New(httpapi.LogHandler(log.Handler())),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.New(httpapi.Config{
		Store: e.db, Usage: e.runner, Auth: authn, Now: e.clock.Now, Logger: log, Observer: obs,
		RateLimit: o.rateLimit, Ready: o.ready,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("# nothing\n"))
		}),
	})
	e.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(e.srv.Close)
	e.doc.Servers = openapi3.Servers{{URL: e.srv.URL}}
	if e.router, err = gorillamux.NewRouter(e.doc); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRequestID(t *testing.T) {
	e := newObservedEnv(t, options{noDemo: true, noRunner: true}, &logBuffer{}, nil)
	tests := []struct {
		name     string
		incoming []string
		keep     bool
	}{
		{"MintedWhenAbsent", nil, false},
		{"KeptWhenSane", []string{"req-1.2_3:4+5/6="}, true},
		{"KeptUUID", []string{"0f8fad5b-d9cb-469f-a165-70867728950e"}, true},
		{"ReplacedWhenTooLong", []string{strings.Repeat("a", 65)}, false},
		{"ReplacedWhenItHasSpaces", []string{"a b"}, false},
		{"ReplacedWhenItHasQuotes", []string{`a"b`}, false},
		{"ReplacedWhenNonASCII", []string{"é"}, false},
		{"ReplacedWhenRepeated", []string{"one", "two"}, false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := e.newRequest("GET", "/healthz", nil)
			for _, v := range tt.incoming {
				req.Header.Add("X-Request-Id", v)
			}
			got := e.do(req).header.Values("X-Request-Id")
			if len(got) != 1 {
				t.Fatalf("X-Request-Id %q, want one value", got)
			}
			if tt.keep {
				if got[0] != tt.incoming[0] {
					t.Errorf("X-Request-Id %q, want the incoming %q", got[0], tt.incoming[0])
				}
				return
			}
			if len(got[0]) != 26 || seen[got[0]] {
				t.Errorf("X-Request-Id %q, want a fresh 26-character id", got[0])
			}
			seen[got[0]] = true
		})
	}
}

func TestRequestLog(t *testing.T) {
	logs, obs := &logBuffer{}, &observed{}
	e := newObservedEnv(t, options{rateLimit: httpapiRateLimit(3)}, logs, obs)
	sa, secret := e.serviceAccount(e.org, nil, costexplorer.RoleOrgBillingReadOnly)
	bearer := e.accessToken(sa, secret)
	key, private := e.apiKey(e.org, nil, costexplorer.RoleOrgOwner)

	withID := func(req *http.Request, id string) *http.Request {
		req.Header.Set("X-Request-Id", id)
		return req
	}
	bearerRequest := func(method, path, body, id string) *http.Request {
		req := withID(e.apiRequest(method, path, body), id)
		req.Header.Set("Authorization", "Bearer "+bearer)
		return req
	}

	t.Run("BearerCallNamesTheServiceAccount", func(t *testing.T) {
		res := e.do(bearerRequest("GET", "/api/atlas/v2/orgs", "", "list-1"))
		if res.status != 200 || res.header.Get("X-Request-Id") != "list-1" {
			t.Fatalf("%d, X-Request-Id %q", res.status, res.header.Get("X-Request-Id"))
		}
		line := logs.lineWithID(t, "request", "list-1")
		want := map[string]any{
			"level": "INFO", "method": "GET", "route": "GET /api/atlas/v2/orgs", "status": 200.0,
			"org": e.org, "credential": sa, "credential_kind": "serviceAccount",
		}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("%s = %v, want %v (line %v)", k, line[k], v, line)
			}
		}
		if line["duration"] == nil || line["bytes"].(float64) != float64(len(res.body)) {
			t.Errorf("duration/bytes missing or wrong: %v (body %d bytes)", line, len(res.body))
		}
	})
	var token string
	t.Run("DigestCallNamesThePublicKeyAndATokenPrefix", func(t *testing.T) {
		res := e.do(bearerRequest("POST", usagePath(e.org), `{"startDate":"2025-01-01","endDate":"2025-03-01","groupBy":"organizations","organizations":["`+e.org+`"]}`, "create-1"))
		if res.status != 202 {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		var v struct{ Token string }
		res.json(t, &v)
		token = v.Token
		// Both legs of the Digest handshake send the id: the challenge
		// (401, no credential yet) and the signed request.
		req := withID(e.newRequest("GET", usagePath(e.org)+"/"+token, nil), "poll-1")
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		if res := e.doDigest(req, key.PublicKey, private); res.status != 200 {
			t.Fatalf("poll: %d %s", res.status, res.body)
		}
		var line map[string]any
		for _, m := range logs.lines(t, "request") {
			if m["request_id"] == "poll-1" && m["status"] == 200.0 {
				line = m
			}
		}
		if line["route"] != "GET /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage/{token}" ||
			line["credential"] != key.PublicKey || line["credential_kind"] != "apiKey" || line["token"] != token[:12] {
			t.Errorf("line %v", line)
		}
	})
	t.Run("AuthFailureLinesCarryTheRequestID", func(t *testing.T) {
		req := withID(e.apiRequest("GET", "/api/atlas/v2/orgs", ""), "bad-1")
		req.Header.Set("Authorization", "Bearer "+bearer+"x")
		if res := e.do(req); res.status != 401 {
			t.Fatalf("status %d", res.status)
		}
		logs.lineWithID(t, "authentication failed", "bad-1")
		if line := logs.lineWithID(t, "request", "bad-1"); line["status"] != 401.0 || line["credential"] != nil {
			t.Errorf("line %v", line)
		}
	})
	t.Run("UnexpectedErrorIsLoggedWithTheRequestID", func(t *testing.T) {
		failed := strings.Repeat("ab", 32)
		ctx := context.Background()
		// Without the runner, the test is the only worker: it claims the
		// process and fails it, as a worker whose evaluation broke would.
		if err := e.runner.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.CreateProcess(ctx, &costexplorer.QueryProcess{Token: failed, OrgID: e.org, Query: costexplorer.Query{OrgID: e.org},
			State: costexplorer.ProcessPending, CreatedAt: t0, ReadyAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if p, err := e.db.ClaimProcess(ctx, "test", t0, time.Minute); err != nil || p.Token != failed {
			t.Fatalf("claim: %+v, %v", p, err)
		}
		if err := e.db.FailProcess(ctx, failed, "test", "evaluator exploded", t0); err != nil {
			t.Fatal(err)
		}
		res := e.do(bearerRequest("GET", usagePath(e.org)+"/"+failed, "", "boom-1"))
		if res.status != 500 || res.apiErr(t).ErrorCode != "UNEXPECTED_ERROR" {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if strings.Contains(string(res.body), "exploded") {
			t.Errorf("the client sees the cause: %s", res.body)
		}
		var line map[string]any
		for _, m := range logs.lines(t, "unexpected error") {
			if m["request_id"] == "boom-1" {
				line = m
			}
		}
		if line == nil || !strings.Contains(line["err"].(string), failed[:12]) {
			t.Fatalf("no unexpected error line with the request id and the cause:\n%s", logs.String())
		}
	})
	t.Run("RateLimitIsObserved", func(t *testing.T) {
		obs.take()
		var last *response
		for range 4 {
			last = e.do(bearerRequest("GET", usagePath(e.org)+"/"+token, "", "limit"))
		}
		if last.status != 429 {
			t.Fatalf("status %d", last.status)
		}
		reqs, limited := obs.take()
		if limited == 0 || reqs[len(reqs)-1] != "GET /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage/{token} Too Many Requests" {
			t.Errorf("observed %q, %d rate limited", reqs, limited)
		}
	})
	t.Run("ProbesAreQuietAndMetricsServed", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			res := e.do(withID(e.newRequest("GET", path, nil), "probe"+path))
			if res.status != 200 {
				t.Errorf("%s: %d", path, res.status)
			}
			if l := logs.lineWithID(t, "request", "probe"+path); l["level"] != "DEBUG" {
				t.Errorf("%s logged at %v", path, l["level"])
			}
		}
	})
	t.Run("NoSecretOrFullTokenIsLogged", func(t *testing.T) {
		if token == "" {
			t.Fatal("no query token to look for")
		}
		all := logs.String()
		for name, s := range map[string]string{"bearer token": bearer, "client secret": secret, "private key": private,
			"query token": token, "HA1": key.HA1MD5} {
			if strings.Contains(all, s) {
				t.Errorf("the log carries the %s", name)
			}
		}
	})
}
