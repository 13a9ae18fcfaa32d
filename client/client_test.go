package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/httpapi"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// counter is a RoundTripper that counts requests by method and path.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	key := r.Method + " " + r.URL.Path
	if strings.Contains(r.URL.Path, "/billing/costExplorer/usage/") {
		key = r.Method + " usage/{token}"
	}
	c.n[key]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *counter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// newClient returns a client of s with the given options after an HTTP
// client that counts requests.
func newClient(t *testing.T, s *server, opts ...client.Option) (*client.Client, *counter) {
	t.Helper()
	cnt := &counter{}
	c, err := client.New(s.URL, append([]client.Option{client.WithHTTPClient(&http.Client{Transport: cnt})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, cnt
}

// q2 is a query of the demo paying organization, three months by services.
func q2(s *server) client.QueryRequest {
	return client.QueryRequest{
		Start: client.MakeMonth(2025, time.April), End: client.MakeMonth(2025, time.July),
		Organizations: []string{s.Org}, Services: []client.Service{"Clusters", "Backup", "Data Transfer", "Support"},
		GroupBy: client.GroupByServices,
	}
}

func TestAuthMethods(t *testing.T) {
	s := shared
	var want costexplorer.Cents
	tests := []struct {
		name    string
		opts    []client.Option
		md5     bool
		wantAlg string
	}{
		{"DigestSHA256", []client.Option{client.WithDigest(s.PublicKey, s.PrivateKey)}, false, "SHA-256"},
		{"DigestMD5", []client.Option{client.WithDigest(s.PublicKey, s.PrivateKey)}, true, "MD5"},
		{"ServiceAccount", []client.Option{client.WithServiceAccount(s.ClientID, s.ClientSecret)}, false, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, cnt := newClient(t, s, tt.opts...)
			if tt.md5 {
				client.PreferMD5(c)
			}
			ctx := t.Context()
			// Several requests on one nonce: nc counting must keep each
			// (nonce, nc) pair unique or the server refuses the replay.
			var tokens []string
			for range 3 {
				tok, err := c.CreateQuery(ctx, s.Org, q2(s))
				if err != nil {
					t.Fatalf("CreateQuery: %v", err)
				}
				tokens = append(tokens, tok)
			}
			if tokens[0] != tokens[1] || tokens[1] != tokens[2] || !costexplorer.IsToken(tokens[0]) {
				t.Errorf("tokens of the same query = %q, want one 64-hex token", tokens)
			}
			u, err := c.WaitForUsage(ctx, s.Org, tokens[0])
			if err != nil {
				t.Fatalf("WaitForUsage: %v", err)
			}
			if len(u.Rows) == 0 || u.Total() <= 0 {
				t.Fatalf("rows = %d, total = %v: want usage", len(u.Rows), u.Total())
			}
			if i == 0 {
				want = u.Total()
			} else if u.Total() != want {
				t.Errorf("total = %v, want %v as with the first method", u.Total(), want)
			}
			if tt.wantAlg != "" {
				if got := client.DigestAlgorithm(c); got != tt.wantAlg {
					t.Errorf("digest algorithm = %q, want %q", got, tt.wantAlg)
				}
				// One unauthenticated first leg, then every request is
				// authorized at once.
				if got := cnt.count("POST " + client.UsagePath(s.Org, "")); got != 4 {
					t.Errorf("POST requests = %d, want 4 (challenge + 3)", got)
				}
			} else if got := cnt.count("POST /api/oauth/token"); got != 1 {
				t.Errorf("token requests = %d, want 1 (cached)", got)
			}
		})
	}
}

func TestAuthFailures(t *testing.T) {
	s := shared
	member, memberSecret := s.APIKey(t, s.Org, nil, costexplorer.RoleOrgMember) // may not use the cost explorer
	tests := []struct {
		name       string
		opts       []client.Option
		wantStatus int
		wantCode   string
	}{
		{"WrongPrivateKey", []client.Option{client.WithDigest(s.PublicKey, "00000000-0000-0000-0000-000000000000")}, 401, "USER_UNAUTHORIZED"},
		{"UnknownPublicKey", []client.Option{client.WithDigest("zzzzzzzz", s.PrivateKey)}, 401, "USER_UNAUTHORIZED"},
		{"RoleWithoutBilling", []client.Option{client.WithDigest(member.PublicKey, memberSecret)}, 401, "USER_UNAUTHORIZED"},
		{"WrongSecret", []client.Option{client.WithServiceAccount(s.ClientID, "mdb_sa_sk_wrong")}, 401, "invalid_client"},
		{"NoCredentials", nil, 401, "USER_UNAUTHORIZED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, s, tt.opts...)
			_, err := c.CreateQuery(t.Context(), s.Org, q2(s))
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if ae.StatusCode != tt.wantStatus || ae.ErrorCode != tt.wantCode {
				t.Errorf("err = %d %s, want %d %s", ae.StatusCode, ae.ErrorCode, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestErrorsDecoded(t *testing.T) {
	s := shared
	c, _ := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
	ctx := t.Context()
	bad := q2(s)
	bad.GroupBy, bad.Projects = client.GroupByProjects, nil
	late := q2(s)
	late.Start, late.End = late.End, late.Start
	tests := []struct {
		name       string
		call       func() error
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"GroupByWithoutValues", func() error { _, err := c.CreateQuery(ctx, s.Org, bad); return err }, 400, "VALIDATION_ERROR", "groupBy"},
		{"StartAfterEnd", func() error { _, err := c.CreateQuery(ctx, s.Org, late); return err }, 400, "START_DATE_AFTER_END_DATE", "endDate"},
		{"UnknownToken", func() error { _, err := c.Usage(ctx, s.Org, strings.Repeat("ab", 32)); return err }, 404, "RESOURCE_NOT_FOUND", ""},
		{"MalformedToken", func() error { _, err := c.Usage(ctx, s.Org, "nope"); return err }, 400, "INVALID_PATH_PARAMETER", ""},
		{"UnknownTokenCSV", func() error { _, err := c.UsageCSV(ctx, s.Org, strings.Repeat("ab", 32)); return err }, 404, "RESOURCE_NOT_FOUND", ""},
		{"OtherOrganization", func() error { _, err := c.Organization(ctx, strings.Repeat("0", 24)); return err }, 401, "USER_UNAUTHORIZED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if ae.StatusCode != tt.wantStatus || ae.ErrorCode != tt.wantCode || ae.Detail == "" || ae.Reason != http.StatusText(tt.wantStatus) {
				t.Errorf("err = %+v, want %d %s with a detail", ae, tt.wantStatus, tt.wantCode)
			}
			if tt.wantField != "" && (len(ae.Fields) != 1 || ae.Fields[0].Field != tt.wantField || len(ae.Parameters) == 0) {
				t.Errorf("fields = %+v, parameters = %v, want %s named", ae.Fields, ae.Parameters, tt.wantField)
			}
		})
	}
}

func TestProcessingThenReady(t *testing.T) {
	s := newServer(t, serverOptions{minProcessing: time.Hour})
	c, cnt := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
	ctx := t.Context()
	tok, err := c.CreateQuery(ctx, s.Org, q2(s))
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.Usage(ctx, s.Org, tok)
	if err != nil {
		t.Fatal(err)
	}
	if u.Ready || u.Rows != nil || u.Raw != nil {
		t.Fatalf("Usage = %+v, want processing", u)
	}
	if _, err := c.UsageCSV(ctx, s.Org, tok); !errors.Is(err, client.ErrProcessing) {
		t.Fatalf("UsageCSV err = %v, want ErrProcessing", err)
	}
	// The first wait of WaitForUsage moves the server's clock past the
	// processing time, so the next poll finds the result ready. The waits
	// are recorded, not slept in full: the server's Retry-After is an hour.
	var waits []time.Duration
	client.SetSleep(c, func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		if len(waits) == 1 {
			s.Advance(time.Hour)
		}
		return client.Sleep(ctx, min(d, 10*time.Millisecond))
	})
	before := cnt.count("GET usage/{token}")
	u, err = c.WaitForUsage(ctx, s.Org, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Ready || len(u.Rows) == 0 || !bytes.HasPrefix(u.Raw, []byte(`{"usageDetails":[`)) {
		t.Fatalf("WaitForUsage = ready %v, %d rows, raw %.40s", u.Ready, len(u.Rows), u.Raw)
	}
	// (Moving the clock an hour also lets the Digest nonce go stale, so
	// requests are counted apart from waits.)
	if polls := cnt.count("GET usage/{token}") - before; polls < 2 || len(waits) < 1 {
		t.Errorf("requests = %d with %d waits, want ≥ 2 polls with a wait between", polls, len(waits))
	} else if waits[0] < 59*time.Minute {
		t.Errorf("first wait = %s, want the processing envelope's Retry-After (an hour) honoured", waits[0])
	}
	for _, r := range u.Rows {
		if r.OrganizationID == "" || r.Service == "" || r.UsageDate < "2025-04-01" || r.UsageDate >= "2025-07-01" {
			t.Errorf("row %+v outside the query", r)
		}
	}

	// The CSV of the same result is the contract's CSV of the same rows.
	rc, err := c.WaitForUsageCSV(ctx, s.Org, tok)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := costexplorer.WriteCSV(&want, u.Rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want.Bytes())
	}
}

// TestAllUsagePaging checks that the iterator follows the cursors and
// yields exactly the rows of one large page, in order, and that a bad
// request is an *APIError naming the field.
func TestAllUsagePaging(t *testing.T) {
	s := shared
	c, cnt := newClient(t, s, client.WithServiceAccount(s.ClientID, s.ClientSecret))
	ctx := t.Context()
	req := client.UsageQueryRequest{
		Granularity: client.Daily,
		TimePeriod:  client.TimePeriod{Start: "2025-05-01", End: "2025-05-15"},
		GroupBy:     []client.Dimension{"tag:team", "services"},
		PageSize:    10000,
	}
	one, err := c.QueryUsage(ctx, s.Org, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Results) < 20 || one.Next != nil {
		t.Fatalf("one page: %d rows, next %v; want every row", len(one.Results), one.Next)
	}
	req.PageSize = 9
	var all []client.UsageResult
	for r, err := range c.AllUsage(ctx, s.Org, req) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	if !reflect.DeepEqual(all, one.Results) {
		t.Errorf("iterated %d rows, want the %d of the one page in order", len(all), len(one.Results))
	}
	if got, want := cnt.count("POST "+client.UsageQueryPath(s.Org)), 1+(len(one.Results)+8)/9; got != want {
		t.Errorf("usage:query requests = %d, want %d (one page, then pages of 9)", got, want)
	}

	req.GroupBy = []client.Dimension{"regions"}
	_, err = c.QueryUsage(ctx, s.Org, req)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || len(apiErr.Fields) != 1 || apiErr.Fields[0].Field != "groupBy[0]" {
		t.Errorf("bad group-by: %v", err)
	}
}

func TestWaitForUsageCancellation(t *testing.T) {
	s := newServer(t, serverOptions{minProcessing: time.Hour})
	c, cnt := newClient(t, s, client.WithServiceAccount(s.ClientID, s.ClientSecret))
	tok, err := c.CreateQuery(t.Context(), s.Org, q2(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("CanceledWhileWaiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		client.SetSleep(c, func(ctx context.Context, d time.Duration) error {
			cancel()
			return client.Sleep(ctx, d)
		})
		before := cnt.count("GET usage/{token}")
		_, err := c.WaitForUsage(ctx, s.Org, tok)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if polls := cnt.count("GET usage/{token}") - before; polls != 1 {
			t.Errorf("polls = %d, want 1 (no poll after cancellation)", polls)
		}
		_, err = c.WaitForUsageCSV(ctx, s.Org, tok)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("CSV err = %v, want context.Canceled", err)
		}
	})
	t.Run("Deadline", func(t *testing.T) {
		client.SetSleep(c, client.Sleep)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if _, err := c.WaitForUsage(ctx, s.Org, tok); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestRateLimitRetryAfter(t *testing.T) {
	s := newServer(t, serverOptions{rateLimit: httpapi.RateLimit{Capacity: 1, Refill: 1, Period: time.Second}})
	t.Run("RetriedAfterRetryAfter", func(t *testing.T) {
		c, cnt := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
		var waits []time.Duration
		client.SetSleep(c, func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			return client.Sleep(ctx, d)
		})
		for i := range 2 {
			if _, err := c.CreateQuery(t.Context(), s.Org, q2(s)); err != nil {
				t.Fatalf("query %d: %v", i, err)
			}
		}
		// The second query found the bucket empty: one 429 with Retry-After
		// 1 s, one wait of exactly that, then success.
		if len(waits) != 1 || waits[0] != time.Second {
			t.Errorf("waits = %v, want [1s] (the Retry-After)", waits)
		}
		if got := cnt.count("POST " + client.UsagePath(s.Org, "")); got != 4 {
			t.Errorf("POST requests = %d, want 4 (challenge, ok, 429, ok)", got)
		}
	})
	t.Run("RetriesOff", func(t *testing.T) {
		c, _ := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey), client.WithRateLimitRetries(0))
		var err error
		for range 3 {
			if _, err = c.CreateQuery(t.Context(), s.Org, q2(s)); err != nil {
				break
			}
		}
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.ErrorCode != "RATE_LIMITED" {
			t.Fatalf("err = %v, want 429 RATE_LIMITED", err)
		}
		if ae.RetryAfter <= 0 || ae.RetryAfter > time.Second {
			t.Errorf("RetryAfter = %v, want (0, 1s]", ae.RetryAfter)
		}
	})
	t.Run("CanceledWhileWaitingForRetry", func(t *testing.T) {
		c, _ := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		client.SetSleep(c, func(ctx context.Context, d time.Duration) error {
			cancel()
			return client.Sleep(ctx, d)
		})
		var err error
		for range 3 {
			if _, err = c.CreateQuery(ctx, s.Org, q2(s)); err != nil {
				break
			}
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestServiceAccountTokenRefresh(t *testing.T) {
	s := shared
	c, cnt := newClient(t, s, client.WithServiceAccount(s.ClientID, s.ClientSecret))
	clock := servertest.NewRunningClock(time.Now())
	client.SetTokenClock(c, clock.Now)
	ctx := t.Context()
	get := func() {
		t.Helper()
		if _, err := c.Organization(ctx, s.Org); err != nil {
			t.Fatal(err)
		}
	}
	get()
	get()
	if n := cnt.count("POST /api/oauth/token"); n != 1 {
		t.Fatalf("token requests = %d, want 1", n)
	}
	t.Run("RenewedBeforeExpiry", func(t *testing.T) {
		// Tokens live 3600 s; one minute before that the client renews.
		clock.Advance(3540*time.Second + time.Millisecond)
		get()
		if n := cnt.count("POST /api/oauth/token"); n != 2 {
			t.Errorf("token requests = %d, want 2", n)
		}
	})
	t.Run("RetriedOnceAfterRevocation", func(t *testing.T) {
		revoke(t, s, client.CachedToken(c))
		before := cnt.count("POST /api/oauth/token")
		get()
		if n := cnt.count("POST /api/oauth/token") - before; n != 1 {
			t.Errorf("token requests after revocation = %d, want 1", n)
		}
	})
}

// revoke revokes an access token at the server.
func revoke(t *testing.T, s *server, token string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/api/oauth/revoke",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.ClientID, s.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %s", resp.Status)
	}
}

func TestDigestStaleNonce(t *testing.T) {
	s := newServer(t, serverOptions{})
	c, cnt := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
	ctx := t.Context()
	if _, err := c.Organization(ctx, s.Org); err != nil {
		t.Fatal(err)
	}
	// The nonce lives 5 minutes; after that the server answers stale=true
	// and the client answers the new challenge without the caller noticing.
	s.Advance(10 * time.Minute)
	if _, err := c.Organization(ctx, s.Org); err != nil {
		t.Fatalf("after the nonce expired: %v", err)
	}
	if got := cnt.count("GET /api/atlas/v2/orgs/" + s.Org); got != 4 {
		t.Errorf("requests = %d, want 4 (challenge, ok, stale, ok)", got)
	}
}

func TestOrganizations(t *testing.T) {
	s := shared
	c, _ := newClient(t, s, client.WithDigest(s.PublicKey, s.PrivateKey))
	ctx := t.Context()
	p, err := c.Organizations(ctx, client.ListOptions{ItemsPerPage: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalCount != 1 || len(p.Results) != 1 || p.Results[0].ID != s.Org || p.HasNext() {
		t.Errorf("page = %+v, want the caller's organization only", p)
	}
	var ids []string
	for o, err := range c.AllOrganizations(ctx, client.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	if len(ids) != 1 || ids[0] != s.Org {
		t.Errorf("AllOrganizations = %v, want [%s]", ids, s.Org)
	}
	o, err := c.Organization(ctx, s.Org)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != s.Org || o.Name == "" {
		t.Errorf("Organization = %+v", o)
	}
	bad, _ := newClient(t, s, client.WithDigest(s.PublicKey, "00000000-0000-0000-0000-000000000000"))
	for _, err := range bad.AllOrganizations(ctx, client.ListOptions{}) {
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 401 {
			t.Errorf("err = %v, want 401", err)
		}
	}
}
