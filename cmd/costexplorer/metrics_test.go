package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/logtest"
	"github.com/costexplorer/costexplorer/internal/servertest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

// opsClient talks to an in-process server the way an API client does.
type opsClient struct {
	t      *testing.T
	base   string
	bearer string
	c      *http.Client
}

// opsAnswer is one finished exchange.
type opsAnswer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; an empty bearer sends no credentials, extra headers
// are "Name: value" pairs.
func (o *opsClient) do(method, path, bearer, body string, headers ...string) opsAnswer {
	o.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, o.base+path, r)
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := o.c.Do(req)
	if err != nil {
		o.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		o.t.Fatal(err)
	}
	return opsAnswer{status: res.StatusCode, header: res.Header, body: b}
}

// demoQueryBody is a valid query of the demo's paying organization, grouped
// by organization, over the given number of months ending endsBefore months
// before testNow's month (distinct arguments, distinct tokens).
func demoQueryBody(org string, months, endsBefore int) string {
	end := costexplorer.MonthOf(testNow) + 1 - costexplorer.Month(endsBefore)
	return fmt.Sprintf(`{"startDate":"%s","endDate":"%s","organizations":["%s"],"groupBy":"organizations"}`,
		(end - costexplorer.Month(months)).Date(), end.Date(), org)
}

const (
	usageRoute  = "POST /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage"
	resultRoute = "GET /api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage/{token}"
	orgsRoute   = "GET /api/atlas/v2/orgs"
)

// TestMetricsAfterAScriptedWorkload scrapes /metrics after a known sequence
// of requests and checks the counters it must show, then that nothing
// secret and no query token appears anywhere in the answer.
func TestMetricsAfterAScriptedWorkload(t *testing.T) {
	dir := t.TempDir()
	const capacity = 40
	s := startCommand(t, testNow, "demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--size", "3000",
		"--rate-limit-capacity", strconv.Itoa(capacity), "--log-level", "warn")
	creds := readCreds(t, dir)
	o := &opsClient{t: t, base: s.URL, c: &http.Client{Timeout: 30 * time.Second}}
	bearer := bearerToken(t, o.c, s.URL, creds)
	usage := "/api/atlas/v2/orgs/" + creds.OrgID + "/billing/costExplorer/usage"

	// 1. create a query
	res := o.do("POST", usage, bearer, demoQueryBody(creds.OrgID, 6, 0))
	if res.status != 202 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var created struct{ Token string }
	if err := json.Unmarshal(res.body, &created); err != nil || !costexplorer.IsToken(created.Token) {
		t.Fatalf("create body %s: %v", res.body, err)
	}
	token := created.Token
	limited := 1 // requests that took a rate-limit token
	// 2. poll until ready
	polls := 0
	for deadline := time.Now().Add(30 * time.Second); ; {
		res := o.do("GET", usage+"/"+token+"?envelope=true", bearer, "")
		polls++
		limited++
		if res.status != 200 {
			t.Fatalf("poll: %d %s", res.status, res.body)
		}
		var env struct{ Status int }
		_ = json.Unmarshal(res.body, &env)
		if env.Status == 200 {
			break
		}
		if time.Now().After(deadline) || limited >= capacity-2 {
			t.Fatalf("not ready after %d polls", polls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// 3. fetch the CSV
	if res := o.do("GET", usage+"/"+token, bearer, "", "Accept: application/vnd.atlas.2023-01-01+csv"); res.status != 200 {
		t.Fatalf("csv: %d %s", res.status, res.body)
	}
	limited++
	// 4. an organization listing, a 401 without credentials, a 401 with a
	// forged token, a readiness probe
	if res := o.do("GET", "/api/atlas/v2/orgs", bearer, ""); res.status != 200 {
		t.Fatalf("orgs: %d %s", res.status, res.body)
	}
	if res := o.do("GET", "/api/atlas/v2/orgs", "", ""); res.status != 401 {
		t.Fatalf("anonymous orgs: %d", res.status)
	}
	if res := o.do("GET", "/api/atlas/v2/orgs", bearer+"x", ""); res.status != 401 {
		t.Fatalf("forged bearer: %d", res.status)
	}
	if res := o.do("GET", "/readyz", "", ""); res.status != 200 {
		t.Fatalf("readyz: %d %s", res.status, res.body)
	}
	// 5. use up the bucket (the pinned clock never refills it): the next
	// request is the 429
	for ; limited < capacity; limited++ {
		if res := o.do("GET", usage+"/"+token, bearer, ""); res.status != 200 {
			t.Fatalf("fetch %d: %d %s", limited, res.status, res.body)
		}
	}
	if res := o.do("GET", usage+"/"+token, bearer, ""); res.status != 429 {
		t.Fatalf("past the bucket: %d %s", res.status, res.body)
	}

	scrape := o.do("GET", "/metrics", "", "")
	if scrape.status != 200 || !strings.HasPrefix(scrape.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", scrape.status, scrape.header.Get("Content-Type"))
	}
	body := string(scrape.body)
	layout := demo.Describe(demo.Config{Seed: 1, LineItems: 3000, Now: testNow})
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"costexplorer_http_requests_total", []string{"route", "POST /api/oauth/token", "status", "200"}, 1},
		{"costexplorer_http_requests_total", []string{"route", usageRoute, "status", "202"}, 1},
		{"costexplorer_http_requests_total", []string{"route", resultRoute, "status", "200"}, capacity - 1},
		{"costexplorer_http_requests_total", []string{"route", resultRoute, "status", "429"}, 1},
		{"costexplorer_http_requests_total", []string{"route", orgsRoute, "status", "200"}, 1},
		{"costexplorer_http_requests_total", []string{"route", orgsRoute, "status", "401"}, 2},
		{"costexplorer_http_requests_total", []string{"route", "GET /readyz", "status", "200"}, 1},
		{"costexplorer_http_request_duration_seconds_count", []string{"route", usageRoute, "status", "202"}, 1},
		{"costexplorer_http_requests_in_flight", nil, 1}, // this scrape
		{"costexplorer_http_rate_limited_total", nil, 1},
		{"costexplorer_auth_failures_total", []string{"kind", "missing"}, 1},
		{"costexplorer_auth_failures_total", []string{"kind", "bearer_invalid"}, 1},
		{"costexplorer_auth_failures_total", []string{"kind", "digest_invalid"}, 0},
		{"costexplorer_query_processes", []string{"state", "done"}, 1},
		{"costexplorer_query_processes", []string{"state", "pending"}, 0},
		{"costexplorer_query_process_duration_seconds_count", []string{"state", "done"}, 1},
		{"costexplorer_query_process_duration_seconds_count", []string{"state", "failed"}, 0},
		{"costexplorer_store_operation_duration_seconds_count", []string{"operation", "CreateProcess"}, 1},
		{"costexplorer_store_operation_duration_seconds_count", []string{"operation", "FinishProcess"}, 1},
		{"costexplorer_usage_line_items", nil, float64(layout.LineItems)},
	}
	for _, w := range want {
		got, ok := servertest.MetricValue(t, body, w.name, w.labels...)
		if !ok || got != w.value {
			t.Errorf("%s%q = %v (present %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	for _, name := range []string{"costexplorer_engine_rollup_rows", "costexplorer_engine_memory_bytes", "go_goroutines", "process_resident_memory_bytes"} {
		if v, ok := servertest.MetricValue(t, body, name); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want a positive value", name, v, ok)
		}
	}
	if v, _ := servertest.MetricValue(t, body, "costexplorer_store_operation_errors_total", "operation", "CreateProcess"); v != 0 {
		t.Errorf("store errors during a healthy workload: %v", v)
	}
	secrets := map[string]string{
		"query token": token, "bearer token": bearer, "client secret": creds.ClientSecret, "private key": creds.PrivateKey,
		"client id": creds.ClientID, "public key": creds.PublicKey, "organization id": creds.OrgID,
	}
	for what, v := range secrets {
		if strings.Contains(body, v) {
			t.Errorf("/metrics carries the %s", what)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// logLines decodes the JSON log lines of a server's standard error.
func logLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue // the demo's own lines
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

var metricsServing = regexp.MustCompile(`msg="metrics serving" url=(http://[0-9.:]+)/metrics`)

// TestMetricsAddrServesMetricsApart starts a server with --metrics-addr:
// /metrics answers there and only there, and the metrics listener serves
// nothing else.
func TestMetricsAddrServesMetricsApart(t *testing.T) {
	dir := t.TempDir()
	s := startCommand(t, testNow, "demo", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--data-dir", dir, "--size", "3000")
	m := metricsServing.FindStringSubmatch(s.Stderr.String())
	if m == nil {
		t.Fatalf("no metrics listener in the log:\n%s", s.Stderr.String())
	}
	apart := &opsClient{t: t, base: m[1], c: &http.Client{Timeout: 30 * time.Second}}
	public := &opsClient{t: t, base: s.URL, c: apart.c}
	if r := public.do("GET", "/healthz", "", ""); r.status != 200 {
		t.Fatalf("public /healthz: %d", r.status)
	}
	r := apart.do("GET", "/metrics", "", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics listener /metrics: %d %s", r.status, r.header.Get("Content-Type"))
	}
	// The public listener's requests are counted on the metrics listener.
	if v, ok := servertest.MetricValue(t, string(r.body), "costexplorer_http_requests_total", "route", "GET /healthz", "status", "200"); !ok || v < 1 {
		t.Errorf("healthz requests = %v (found %v), want at least 1", v, ok)
	}
	if r := public.do("GET", "/metrics", "", ""); r.status != 404 || strings.Contains(string(r.body), "costexplorer_http_requests_total") {
		t.Errorf("public /metrics: %d %s, want 404", r.status, r.body)
	}
	for _, path := range []string{"/healthz", "/api/atlas/v2/orgs", "/"} {
		if r := apart.do("GET", path, "", ""); r.status != 404 {
			t.Errorf("metrics listener %s: %d, want 404", path, r.status)
		}
	}
}

// TestRequestLogLinesCarryTheResponseRequestID checks the request log of a
// real server: each answer's X-Request-Id names its log lines, which say who
// called what with which outcome, and nothing secret is logged.
func TestRequestLogLinesCarryTheResponseRequestID(t *testing.T) {
	dir := t.TempDir()
	s := startCommand(t, testNow, "demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--size", "3000", "--log-format", "json")
	creds := readCreds(t, dir)
	o := &opsClient{t: t, base: s.URL, c: &http.Client{Timeout: 30 * time.Second}}
	bearer := bearerToken(t, o.c, s.URL, creds)
	usage := "/api/atlas/v2/orgs/" + creds.OrgID + "/billing/costExplorer/usage"

	created := o.do("POST", usage, bearer, demoQueryBody(creds.OrgID, 3, 1))
	var tok struct{ Token string }
	if err := json.Unmarshal(created.body, &tok); err != nil || created.status != 202 {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	poll := o.do("GET", usage+"/"+tok.Token+"?envelope=true", bearer, "", "X-Request-Id: client-chosen.42")
	forged := o.do("GET", "/api/atlas/v2/orgs", bearer+"x", "")
	s.Stop(t) // flush every line

	lines := logLines(t, s.Stderr.String())
	byID := func(id, msg string) map[string]any {
		t.Helper()
		for _, l := range lines {
			if l["request_id"] == id && l["msg"] == msg {
				return l
			}
		}
		t.Fatalf("no %q line with request_id %q in:\n%s", msg, id, s.Stderr.String())
		return nil
	}
	t.Run("MintedIDNamesTheCreateLine", func(t *testing.T) {
		id := created.header.Get("X-Request-Id")
		if id == "" {
			t.Fatal("no X-Request-Id")
		}
		l := byID(id, "request")
		for k, v := range map[string]any{"level": "INFO", "method": "POST", "route": usageRoute, "status": 202.0,
			"org": creds.OrgID, "credential": creds.ClientID, "credential_kind": "serviceAccount"} {
			if l[k] != v {
				t.Errorf("%s = %v, want %v", k, l[k], v)
			}
		}
		if _, ok := l["duration"]; !ok {
			t.Error("no duration")
		}
	})
	t.Run("IncomingIDIsKeptAndTheTokenShortened", func(t *testing.T) {
		if got := poll.header.Get("X-Request-Id"); got != "client-chosen.42" {
			t.Fatalf("X-Request-Id %q", got)
		}
		l := byID("client-chosen.42", "request")
		if l["route"] != resultRoute || l["token"] != tok.Token[:12] || l["status"] != 200.0 {
			t.Errorf("line %v", l)
		}
	})
	t.Run("AuthFailureLinesShareTheID", func(t *testing.T) {
		id := forged.header.Get("X-Request-Id")
		byID(id, "authentication failed")
		if l := byID(id, "request"); l["status"] != 401.0 {
			t.Errorf("line %v", l)
		}
	})
	t.Run("NoSecretOrTokenIsLogged", func(t *testing.T) {
		all := s.Stderr.String()
		for what, v := range map[string]string{"query token": tok.Token, "bearer token": bearer,
			"client secret": creds.ClientSecret, "private key": creds.PrivateKey} {
			if strings.Contains(all, v) {
				t.Errorf("the log carries the %s", what)
			}
		}
	})
}

func openBreakable(t *testing.T) *servertest.BreakableStore {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqliteFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &servertest.BreakableStore{Store: db}
}

// TestReadyzFollowsTheStore serves on a store that stops answering and
// comes back: /readyz is 503 during the outage and 200 before and after,
// while /healthz stays 200 throughout.
func TestReadyzFollowsTheStore(t *testing.T) {
	store := openBreakable(t)
	var stderr logtest.Buffer
	m := NewMain(strings.NewReader(""), io.Discard, &stderr, func(string) string { return "" })
	m.Now = func() time.Time { return testNow }
	ready := make(chan string, 1)
	m.Ready = func(u string) { ready <- u }
	cfg := defaultServerConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.LogFormat = "json"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.serve(ctx, &cfg, store, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("not serving after 60 s")
	}
	o := &opsClient{t: t, base: base, c: &http.Client{Timeout: 30 * time.Second}}
	check := func(wantReady int) {
		t.Helper()
		if r := o.do("GET", "/healthz", "", ""); r.status != 200 {
			t.Errorf("/healthz %d", r.status)
		}
		r := o.do("GET", "/readyz", "", "")
		if r.status != wantReady {
			t.Fatalf("/readyz %d %s, want %d", r.status, r.body, wantReady)
		}
		if wantReady == 503 {
			var e struct{ ErrorCode, Detail string }
			_ = json.Unmarshal(r.body, &e)
			if e.ErrorCode != "SERVICE_UNAVAILABLE" || strings.Contains(string(r.body), "refused") {
				t.Errorf("503 body %s: want SERVICE_UNAVAILABLE without the cause", r.body)
			}
		}
	}
	check(200)
	store.PingDown.Store(true)
	check(503)
	store.PingDown.Store(false)
	check(200)
	if !strings.Contains(stderr.String(), `"msg":"not ready"`) || !strings.Contains(stderr.String(), "store unreachable") {
		t.Errorf("the outage is not in the log:\n%s", stderr.String())
	}
}

// TestBackupWhileServingRestoresAndVerifies takes `admin backup` of a data
// directory while a server answers queries on it and an import writes to
// it, then restores the copy as a data directory of its own: `admin verify`
// must accept it, and it must hold a consistent state of the import (all of
// it or none of it).
func TestBackupWhileServingRestoresAndVerifies(t *testing.T) {
	dir := t.TempDir()
	s := startCommand(t, testNow, "demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--size", "5000",
		"--rate-limit-capacity", "100000", "--log-level", "warn")
	creds := readCreds(t, dir)
	hc := &http.Client{Timeout: 30 * time.Second}
	bearer := bearerToken(t, hc, s.URL, creds)
	usage := s.URL + "/api/atlas/v2/orgs/" + creds.OrgID + "/billing/costExplorer/usage"
	before := storeStats(t, dir)

	// The workload: distinct queries created and polled until stopped.
	var (
		stop     atomic.Bool
		served   atomic.Int64
		wg       sync.WaitGroup
		failMu   sync.Mutex
		failures []string
	)
	fail := func(f string, args ...any) {
		failMu.Lock()
		defer failMu.Unlock()
		failures = append(failures, fmt.Sprintf(f, args...))
	}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				body := demoQueryBody(creds.OrgID, 1+(i+w)%6, i%12)
				req, _ := http.NewRequest("POST", usage, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+bearer)
				req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
				req.Header.Set("Content-Type", "application/json")
				res, err := hc.Do(req)
				if err != nil {
					fail("create: %v", err)
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var tok struct{ Token string }
				if res.StatusCode != 202 || json.Unmarshal(b, &tok) != nil {
					fail("create: %d %s", res.StatusCode, b)
					return
				}
				req, _ = http.NewRequest("GET", usage+"/"+tok.Token+"?envelope=true", nil)
				req.Header.Set("Authorization", "Bearer "+bearer)
				req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
				if res, err = hc.Do(req); err != nil {
					fail("poll: %v", err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					fail("poll: %d", res.StatusCode)
					return
				}
				served.Add(2)
			}
		}()
	}
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	for deadline := time.Now().Add(30 * time.Second); served.Load() < 20; {
		failMu.Lock()
		failed := len(failures) > 0
		failMu.Unlock()
		if failed || time.Now().After(deadline) {
			t.Fatalf("workload made no progress: %v", failures)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// An import writing to the same file while the backup runs.
	csv := filepath.Join(t.TempDir(), "invoice.csv")
	writeInvoiceCSV(t, csv, 20000)
	imported := make(chan int, 1)
	var importOut bytes.Buffer
	go func() {
		im := NewMain(strings.NewReader(""), &importOut, &importOut, func(string) string { return "" })
		im.Now = func() time.Time { return testNow }
		imported <- im.Run(context.Background(), []string{"import", "usage", "--data-dir", dir, csv})
	}()

	out := filepath.Join(t.TempDir(), "backup.db")
	servedBefore := served.Load()
	runAdminIn(t, dir, "backup", "--out", out).wantCode(t, 0)
	if code := <-imported; code != 0 {
		t.Fatalf("import exited %d:\n%s", code, importOut.String())
	}
	stop.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("the workload failed while the backup ran: %v", failures)
	}
	t.Logf("workload: %d requests, %d of them after the backup started", served.Load(), served.Load()-servedBefore)

	restored := t.TempDir()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, sqliteFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runAdminIn(t, restored, "verify").wantCode(t, 0); !strings.Contains(r.stdout, "is consistent") {
		t.Errorf("verify of the restored copy: %q", r.stdout)
	}
	after := storeStats(t, dir)
	got := storeStats(t, restored)
	if got.LineItems != before.LineItems && got.LineItems != after.LineItems {
		t.Errorf("restored copy holds %d line items: neither the %d before the import nor the %d after it",
			got.LineItems, before.LineItems, after.LineItems)
	}
	if after.LineItems != before.LineItems+20000 {
		t.Errorf("import added %d line items, want 20000", after.LineItems-before.LineItems)
	}
	// The restored directory serves.
	r := startCommand(t, testNow, "serve", "--addr", "127.0.0.1:0", "--data-dir", restored, "--log-level", "warn")
	if res, err := hc.Get(r.URL + "/readyz"); err != nil || res.StatusCode != 200 {
		t.Errorf("restored server /readyz: %v %v", res, err)
	} else {
		res.Body.Close()
	}
}
