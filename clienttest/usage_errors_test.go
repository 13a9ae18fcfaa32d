package clienttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// validQuery is a query the server accepts; its token is not polled.
func validQuery() usageQuery {
	end := firstOfMonth(time.Now()).AddDate(0, 1, 0)
	return usageQuery{StartDate: end.AddDate(0, -3, 0).Format(time.DateOnly), EndDate: end.Format(time.DateOnly)}
}

// Every error code the cost explorer answers that the SDK's typed calls can
// provoke: each must come back as an error admin.AsError recognises, with
// the code admin.IsErrorCode matches and the body decoded whole.
func TestUsageErrors(t *testing.T) {
	const foreignOrg = "0123456789abcdef01234567"
	org := demo.creds.OrgID
	forEachClient(t, func(t *testing.T, c *sdkClient) {
		ctx := t.Context()
		with := func(f func(q *usageQuery)) usageQuery {
			q := validQuery()
			f(&q)
			return q
		}
		manyOrgs := make([]string, 50_000) // about 1.3 MB of ids: over --max-body-bytes
		for i := range manyOrgs {
			manyOrgs[i] = fmt.Sprintf("%024x", i)
		}
		c.checkErrors(t, ctx, []errorCase{
			{"ErrStartDateAfterEndDate", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.StartDate, q.EndDate = q.EndDate, q.StartDate })), 400, "START_DATE_AFTER_END_DATE"},
			{"ErrStartBeforeHistory", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.StartDate = "2020-01-01" })), 400, "INVALID_DATE_RANGE"},
			{"ErrEndAfterNextMonth", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.EndDate = "2099-01-01" })), 400, "INVALID_DATE_RANGE"},
			{"ErrDateFormat", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.StartDate = q.StartDate[:7] })), 400, "INVALID_DATE_FORMAT"},
			// The SDK's StartDate is a plain string, always sent: an unset
			// one arrives as "" (not as a missing attribute).
			{"ErrEmptyStartDate", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.StartDate = "" })), 400, "INVALID_DATE_FORMAT"},
			{"ErrStartNotFirstOfMonth", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.StartDate = q.StartDate[:8] + "15" })), 400, "VALIDATION_ERROR"},
			{"ErrGroupByWithoutFilter", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.GroupBy = "projects" })), 400, "VALIDATION_ERROR"},
			{"ErrOrganizationID", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.Organizations = []string{"xyz"} })), 400, "VALIDATION_ERROR"},
			{"ErrGroupByEnum", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.GroupBy = "regions" })), 400, "INVALID_ENUM_VALUE"},
			{"ErrServiceEnum", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.Services = []string{"Nope"} })), 400, "INVALID_ENUM_VALUE"},
			{"ErrBodyTooLarge", c.createUsageQuery(ctx, org, with(func(q *usageQuery) { q.Organizations = manyOrgs })), 413, "REQUEST_ENTITY_TOO_LARGE"},
			{"ErrCreateOrgPath", c.createUsageQuery(ctx, "not-an-org", validQuery()), 400, "INVALID_PATH_PARAMETER"},
			{"ErrCreateForeignOrg", c.createUsageQuery(ctx, foreignOrg, validQuery()), 401, "USER_UNAUTHORIZED"},
			{"ErrTokenPath", c.getUsage(ctx, org, "not-a-token"), 400, "INVALID_PATH_PARAMETER"},
			{"ErrUnknownToken", c.getUsage(ctx, org, strings.Repeat("0", 64)), 404, "RESOURCE_NOT_FOUND"},
			{"ErrGetForeignOrg", c.getUsage(ctx, foreignOrg, strings.Repeat("0", 64)), 401, "USER_UNAUTHORIZED"},
		})
	})
}

// Wrong credentials. An API key's 401 is an Atlas error; a service account
// with a wrong secret never gets an access token, and the SDK returns the
// OAuth error of the token endpoint (not an Atlas error: admin.AsError does
// not recognise it).
func TestWrongCredentials(t *testing.T) {
	bad := demo.creds
	bad.PrivateKey = "00000000-0000-4000-8000-000000000000"
	bad.ClientSecret = "mdb_sa_sk_" + strings.Repeat("0", 48)
	for _, v := range sdkVersions {
		t.Run(v+"/digest", func(t *testing.T) {
			c := newSDKClient(t, v, digestAuth, clientConfig{base: demo.base, creds: bad})
			c.checkError(t, t.Context(), "get organization", c.getOrg(t.Context(), demo.creds.OrgID), 401, "USER_UNAUTHORIZED")
		})
		t.Run(v+"/oauth", func(t *testing.T) {
			c := newSDKClient(t, v, oauthAuth, clientConfig{base: demo.base, creds: bad})
			r := c.getOrg(t.Context(), demo.creds.OrgID)
			var re *oauth2.RetrieveError
			if !errors.As(r.err, &re) {
				t.Fatalf("error %T %v, want the token endpoint's *oauth2.RetrieveError", r.err, r.err)
			}
			if re.Response.StatusCode != 401 || re.ErrorCode != "invalid_client" {
				t.Errorf("token endpoint: %d %q, want 401 invalid_client", re.Response.StatusCode, re.ErrorCode)
			}
			if _, ok := c.asError(r.err); ok {
				t.Errorf("admin.AsError recognises the token endpoint's error %v", r.err)
			}
		})
	}
}

// rewrite is a transport under the SDK's authentication that changes what
// the SDK sends to the API (never to the OAuth token endpoint): the body
// and headers no typed SDK call can produce.
type rewrite struct {
	method string
	body   []byte
	header http.Header
}

func (w rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/api/atlas/") {
		req = req.Clone(req.Context())
		if w.method != "" {
			req.Method = w.method
		}
		if w.body != nil {
			req.Body = io.NopCloser(bytes.NewReader(w.body))
			req.ContentLength = int64(len(w.body))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(w.body)), nil }
		}
		for k, v := range w.header {
			req.Header[k] = v
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// The error codes the SDK's typed calls cannot provoke (its model only
// marshals well-formed bodies of known fields, and it always sends its own
// method, Accept and Content-Type): sent through a rewriting transport under the
// SDK's authentication, each answer must still decode through
// admin.AsError. The SDK's configuration has DefaultHeader, but it adds to
// the SDK's own Accept rather than replacing it, and the server reads the
// first Accept, so an old version cannot be asked for that way.
func TestUsageErrorsTheSDKCannotSend(t *testing.T) {
	org := demo.creds.OrgID
	q := validQuery()
	for _, tc := range []struct {
		name   string
		method string
		body   string
		header http.Header
		get    bool
		status int
		code   string
	}{
		{name: "ErrMalformedJSON", body: `{"startDate":`, status: 400, code: "MALFORMED_JSON"},
		{name: "ErrWrongJSONType", body: `{"startDate":` + `20260101` + `,"endDate":"` + q.EndDate + `"}`, status: 400, code: "INVALID_JSON_ATTRIBUTE"},
		{name: "ErrUnknownField", body: `{"startDate":"` + q.StartDate + `","endDate":"` + q.EndDate + `","region":"EU"}`, status: 400, code: "INVALID_ATTRIBUTE"},
		{name: "ErrMissingStartDate", body: `{"endDate":"` + q.EndDate + `"}`, status: 400, code: "MISSING_ATTRIBUTE"},
		{name: "ErrContentType", header: http.Header{"Content-Type": {"text/plain"}}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "ErrCreateOldVersion", header: http.Header{"Accept": {"application/vnd.atlas.2022-01-01+json"}}, status: 406, code: "INVALID_VERSION_DATE"},
		{name: "ErrMethod", method: http.MethodPut, get: true, status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "ErrGetOldVersion", get: true, header: http.Header{"Accept": {"application/vnd.atlas.2022-01-01+json"}}, status: 406, code: "INVALID_VERSION_DATE"},
	} {
		for _, v := range sdkVersions {
			for _, a := range authMethods {
				rw := rewrite{method: tc.method, header: tc.header}
				if tc.body != "" {
					rw.body = []byte(tc.body)
				}
				c := newSDKClient(t, v, a, clientConfig{base: demo.base, creds: demo.creds, transport: rw})
				t.Run(tc.name+"/"+c.String(), func(t *testing.T) {
					ctx := t.Context()
					var r call
					if tc.get {
						r = c.getUsage(ctx, org, strings.Repeat("0", 64))
					} else {
						r = c.createUsageQuery(ctx, org, q)
						if rw.body != nil {
							r.sent = rw.body
						}
					}
					r.header = tc.header
					c.checkError(t, ctx, tc.name, r, tc.status, tc.code)
				})
			}
		}
	}
}

// A 429 from the per-organization rate limit, on a server of its own with
// a bucket of three requests that refills once an hour.
func TestRateLimited(t *testing.T) {
	s, err := startDemo(filepath.Join(t.TempDir(), "data"),
		"--rate-limit-capacity", "3", "--rate-limit-refill", "1", "--rate-limit-period", "1h")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	for _, v := range sdkVersions {
		for _, a := range authMethods {
			c := newSDKClient(t, v, a, clientConfig{base: s.base, creds: s.creds})
			t.Run(c.String(), func(t *testing.T) {
				ctx := t.Context()
				for range 5 {
					r := c.getUsage(ctx, s.creds.OrgID, strings.Repeat("0", 64))
					if r.resp == nil || r.resp.StatusCode != http.StatusTooManyRequests {
						continue
					}
					if r.resp.Header.Get("Retry-After") == "" {
						t.Error("a 429 without Retry-After")
					}
					c.checkError(t, ctx, "get usage", r, 429, "RATE_LIMITED")
					return
				}
				t.Fatal("no 429 after 5 requests with a bucket of 3")
			})
		}
	}
}
