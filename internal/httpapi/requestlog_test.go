package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/logtest"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// logBuffer collects JSON log lines.
type logBuffer struct{ logtest.Buffer }

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

// newObservedEnv is newEnv whose server logs JSON at DEBUG into logs.
func newObservedEnv(t *testing.T, o options, logs *logBuffer) *env {
	t.Helper()
	o.logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return newEnv(t, o)
}

// metric returns the value of the line `name{labels} v` of the server's
// /metrics (0 when absent); labels are name, value pairs in name order.
func (e *env) metric(name string, labels ...string) float64 {
	e.t.Helper()
	v, _ := servertest.MetricValue(e.t, string(e.do(e.newRequest("GET", "/metrics", nil)).body), name, labels...)
	return v
}

func TestRequestID(t *testing.T) {
	e := newObservedEnv(t, options{noDemo: true, noRunner: true}, &logBuffer{})
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
	logs := &logBuffer{}
	e := newObservedEnv(t, options{rateLimit: httpapiRateLimit(3)}, logs)
	sa, secret := e.ServiceAccount(e.t, e.Org, nil, costexplorer.RoleOrgBillingReadOnly)
	bearer := e.accessToken(sa, secret)
	key, private := e.APIKey(e.t, e.Org, nil, costexplorer.RoleOrgOwner)

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
			"org": e.Org, "credential": sa, "credential_kind": "serviceAccount",
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
		res := e.do(bearerRequest("POST", usagePath(e.Org), `{"startDate":"2025-01-01","endDate":"2025-03-01","groupBy":"organizations","organizations":["`+e.Org+`"]}`, "create-1"))
		if res.status != 202 {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		var v struct{ Token string }
		res.json(t, &v)
		token = v.Token
		// Both legs of the Digest handshake send the id: the challenge
		// (401, no credential yet) and the signed request.
		req := withID(e.newRequest("GET", usagePath(e.Org)+"/"+token, nil), "poll-1")
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
		if err := e.Runner.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		// Created before every other process, so that it is the one the
		// claim takes even when an earlier subtest's query is still
		// unfinished (claims go oldest first; the runner handed its lease
		// back when it stopped).
		if _, err := e.DB.CreateProcess(ctx, &costexplorer.QueryProcess{Token: failed, OrgID: e.Org, Query: costexplorer.Query{OrgID: e.Org},
			State: costexplorer.ProcessPending, CreatedAt: t0.Add(-time.Hour), ReadyAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if p, err := e.DB.ClaimProcess(ctx, "test", t0, time.Minute); err != nil || p.Token != failed {
			t.Fatalf("claim: %+v, %v", p, err)
		}
		if err := e.DB.FailProcess(ctx, failed, "test", "evaluator exploded", t0); err != nil {
			t.Fatal(err)
		}
		res := e.do(bearerRequest("GET", usagePath(e.Org)+"/"+failed, "", "boom-1"))
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
		route := []string{"route", "GET /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage/{token}", "status", "429"}
		limited0, refused0 := e.metric("costexplorer_http_rate_limited_total"), e.metric("costexplorer_http_requests_total", route...)
		var last *response
		for range 4 {
			last = e.do(bearerRequest("GET", usagePath(e.Org)+"/"+token, "", "limit"))
		}
		if last.status != 429 {
			t.Fatalf("status %d", last.status)
		}
		limited, refused := e.metric("costexplorer_http_rate_limited_total")-limited0, e.metric("costexplorer_http_requests_total", route...)-refused0
		if limited == 0 || refused == 0 {
			t.Errorf("observed %v rate limited, %v refused requests of the route", limited, refused)
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
