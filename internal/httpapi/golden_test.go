package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/golden"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// goldenQueries returns the query bodies of the golden results, one per
// groupBy and one without, over the demo paying organization: each groupBy
// carries the filter values its dimension needs.
func goldenQueries(t *testing.T, e *env) map[string]string {
	t.Helper()
	ctx := context.Background()
	projects, err := e.DB.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var projIDs []string
	for _, p := range projects {
		if p.OrgID == e.Org && len(projIDs) < 2 {
			projIDs = append(projIDs, p.ID)
		}
	}
	clusters, err := e.DB.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var clusterIDs []string
	for _, c := range clusters {
		for _, p := range projIDs {
			if c.ProjectID == p && len(clusterIDs) < 3 {
				clusterIDs = append(clusterIDs, c.ID)
			}
		}
	}
	if len(projIDs) < 2 || len(clusterIDs) < 2 {
		t.Fatalf("demo layout too small: projects %v clusters %v", projIDs, clusterIDs)
	}
	orgs := []string{e.Org}
	for _, o := range e.Layout.Linked {
		orgs = append(orgs, o.ID)
	}
	list := func(ids []string) string { b, _ := json.Marshal(ids); return string(b) }
	return map[string]string{
		"none":          `{"startDate":"2025-05-01","endDate":"2025-06-01"}`,
		"organizations": `{"startDate":"2025-03-01","endDate":"2025-06-01","groupBy":"organizations","organizations":` + list(orgs) + `}`,
		"projects":      `{"startDate":"2025-03-01","endDate":"2025-06-01","groupBy":"projects","projects":` + list(projIDs) + `}`,
		"clusters":      `{"startDate":"2025-03-01","endDate":"2025-06-01","groupBy":"clusters","clusters":` + list(clusterIDs) + `}`,
		"services":      `{"startDate":"2025-03-01","endDate":"2025-06-01","groupBy":"services","services":["Clusters","Backup","Support","Credits"],"includePartialMatches":true}`,
	}
}

// TestGoldenResults pins the 202 body and the JSON and CSV results of each
// groupBy (and of none) on the pinned demo dataset.
func TestGoldenResults(t *testing.T) {
	e := newEnv(t, options{})
	res := e.do(e.apiRequest("POST", usagePath(e.Org), `{"startDate":"2025-01-01","endDate":"2025-07-01"}`))
	if res.status != http.StatusAccepted {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	golden.Check(t, "create_202.json", res.body)

	for name, body := range goldenQueries(t, e) {
		t.Run(name, func(t *testing.T) {
			tok := e.create(e.Org, body)
			e.waitReady(e.Org, tok)
			res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok, ""))
			res.mustOK(t, "JSON", "application/vnd.atlas.2023-01-01+json;charset=utf-8")
			var v costexplorer.Result
			res.json(t, &v)
			if len(v.UsageDetails) == 0 {
				t.Errorf("the golden query %s has no rows: it pins nothing", name)
			}
			golden.Check(t, "result_"+name+".json", res.body)

			req := e.apiRequest("GET", usagePath(e.Org)+"/"+tok, "")
			req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+csv")
			res = e.do(req)
			res.mustOK(t, "CSV", "application/vnd.atlas.2023-01-01+csv;charset=utf-8")
			if lines := strings.Count(string(res.body), "\n"); lines != len(v.UsageDetails)+1 {
				t.Errorf("CSV has %d lines for %d rows", lines, len(v.UsageDetails))
			}
			golden.Check(t, "result_"+name+".csv", res.body)
		})
	}
}

// TestEmptyResultIsNeverEmpty checks that a query matching nothing is still
// a body: usageDetails [] in JSON, the header line in CSV.
func TestEmptyResultIsNeverEmpty(t *testing.T) {
	e := newEnv(t, options{})
	tok := e.create(e.Org, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":["000000000000000000000000"]}`)
	e.waitReady(e.Org, tok)
	res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok, ""))
	if string(res.body) != "{\"usageDetails\":[]}\n" {
		t.Errorf("JSON = %q", res.body)
	}
	req := e.apiRequest("GET", usagePath(e.Org)+"/"+tok, "")
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+csv")
	res = e.do(req)
	want := strings.Join(costexplorer.CSVHeader, ",") + "\n"
	if string(res.body) != want {
		t.Errorf("CSV = %q, want the header line %q", res.body, want)
	}
}

// errorCase is one entry of the error catalogue: a request and the answer
// it must get.
type errorCase struct {
	name   string
	status int
	code   string
	req    func(e *env) *http.Request
}

// TestErrorCatalogue pins the body of every error this API answers with.
func TestErrorCatalogue(t *testing.T) {
	e := newEnv(t, options{maxBodyBytes: 4096})
	post := func(body string) func(e *env) *http.Request {
		return func(e *env) *http.Request { return e.apiRequest("POST", usagePath(e.Org), body) }
	}
	cases := []errorCase{
		{"MALFORMED_JSON", 400, costexplorer.ErrMalformedJSON, post(`{"startDate":`)},
		{"INVALID_JSON_ATTRIBUTE", 400, costexplorer.ErrInvalidJSONAttribute, post(`{"startDate":20250101,"endDate":"2025-02-01"}`)},
		{"INVALID_ATTRIBUTE", 400, costexplorer.ErrInvalidAttribute, post(`{"startDate":"2025-01-01","endDate":"2025-02-01","groupby":"services"}`)},
		{"MISSING_ATTRIBUTE", 400, costexplorer.ErrMissingAttribute, post(`{"endDate":"2025-02-01"}`)},
		{"INVALID_ENUM_VALUE", 400, costexplorer.ErrInvalidEnumValue, post(`{"startDate":"2025-01-01","endDate":"2025-02-01","services":["Clusters","Compute"]}`)},
		{"INVALID_DATE_FORMAT", 400, costexplorer.ErrInvalidDateFormat, post(`{"startDate":"2025/01/01","endDate":"2025-02-01"}`)},
		{"START_DATE_AFTER_END_DATE", 400, costexplorer.ErrStartDateAfterEndDate, post(`{"startDate":"2025-03-01","endDate":"2025-02-01"}`)},
		{"INVALID_DATE_RANGE", 400, costexplorer.ErrInvalidDateRange, post(`{"startDate":"2023-01-01","endDate":"2025-02-01"}`)},
		{"VALIDATION_ERROR", 400, costexplorer.ErrValidation, post(`{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":"projects"}`)},
		{"INVALID_PATH_PARAMETER", 400, costexplorer.ErrInvalidPathParameter, func(e *env) *http.Request {
			return e.apiRequest("POST", usagePath("ORG"), `{"startDate":"2025-01-01","endDate":"2025-02-01"}`)
		}},
		{"INVALID_PATH_PARAMETER_token", 400, costexplorer.ErrInvalidPathParameter, func(e *env) *http.Request {
			return e.apiRequest("GET", usagePath(e.Org)+"/abc", "")
		}},
		{"INVALID_QUERY_PARAMETER", 400, costexplorer.ErrInvalidQueryParameter, func(e *env) *http.Request {
			return e.apiRequest("GET", "/api/atlas/v2/orgs?itemsPerPage=501", "")
		}},
		{"USER_UNAUTHORIZED", 401, costexplorer.ErrUnauthorized, func(e *env) *http.Request {
			req := e.apiRequest("POST", usagePath(e.Org), `{}`)
			req.Header.Del("Authorization")
			return req
		}},
		{"USER_UNAUTHORIZED_foreign_org", 401, costexplorer.ErrUnauthorized, func(e *env) *http.Request {
			return e.apiRequest("POST", usagePath("0123456789abcdef01234567"), `{}`)
		}},
		{"IP_ADDRESS_NOT_ON_ACCESS_LIST", 403, costexplorer.ErrIPNotOnAccessList, func(e *env) *http.Request {
			id, secret := e.ServiceAccount(e.t, e.Org, costexplorer.AccessList{"10.0.0.0/8"}, costexplorer.RoleOrgBillingAdmin)
			req := e.apiRequest("GET", "/api/atlas/v2/orgs", "")
			req.Header.Set("Authorization", "Bearer "+e.accessToken(id, secret))
			return req
		}},
		{"ORG_REQUIRES_ACCESS_LIST", 403, costexplorer.ErrOrgRequiresAccessList, func(e *env) *http.Request {
			org := &costexplorer.Organization{ID: "aaaaaaaaaaaaaaaaaaaaaaaa", Name: "Strict Org", RequiresAccessList: true, CreatedAt: t0}
			if err := e.DB.CreateOrganization(context.Background(), org); err != nil {
				e.t.Fatal(err)
			}
			id, secret := e.ServiceAccount(e.t, org.ID, nil, costexplorer.RoleOrgOwner)
			req := e.apiRequest("GET", "/api/atlas/v2/orgs", "")
			req.Header.Set("Authorization", "Bearer "+e.accessToken(id, secret))
			return req
		}},
		{"RESOURCE_NOT_FOUND", 404, costexplorer.ErrNotFound, func(e *env) *http.Request {
			return e.apiRequest("GET", usagePath(e.Org)+"/"+strings.Repeat("ab", 32), "")
		}},
		{"RESOURCE_NOT_FOUND_path", 404, costexplorer.ErrNotFound, func(e *env) *http.Request {
			return e.apiRequest("GET", "/api/atlas/v2/orgs/"+e.Org+"/groups", "")
		}},
		{"METHOD_NOT_ALLOWED", 405, costexplorer.ErrMethodNotAllowed, func(e *env) *http.Request {
			return e.apiRequest("DELETE", usagePath(e.Org), "")
		}},
		{"INVALID_VERSION_DATE", 406, costexplorer.ErrInvalidVersionDate, func(e *env) *http.Request {
			req := e.apiRequest("GET", "/api/atlas/v2/orgs", "")
			req.Header.Set("Accept", "application/json")
			return req
		}},
		{"REQUEST_ENTITY_TOO_LARGE", 413, costexplorer.ErrBodyTooLarge, post(`{"startDate":"2025-01-01","endDate":"2025-02-01","projects":["` + strings.Repeat("a", 5000) + `"]}`)},
		{"UNSUPPORTED_MEDIA_TYPE", 415, costexplorer.ErrUnsupportedMediaType, func(e *env) *http.Request {
			req := e.apiRequest("POST", usagePath(e.Org), `{"startDate":"2025-01-01","endDate":"2025-02-01"}`)
			req.Header.Set("Content-Type", "text/plain")
			return req
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			defer func() { e.t = nil }()
			res := e.do(c.req(e))
			checkError(t, res, c.status, c.code)
			golden.Check(t, "errors/"+c.name+".json", res.body)
		})
	}

	t.Run("RATE_LIMITED", func(t *testing.T) {
		e := newEnv(t, options{rateLimit: httpapiRateLimit(1)})
		e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+strings.Repeat("ab", 32), ""))
		res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+strings.Repeat("ab", 32), ""))
		checkError(t, res, 429, costexplorer.ErrRateLimited)
		if res.header.Get("Retry-After") != "60" {
			t.Errorf("Retry-After = %q, want 60", res.header.Get("Retry-After"))
		}
		golden.Check(t, "errors/RATE_LIMITED.json", res.body)
	})
	t.Run("SERVICE_UNAVAILABLE", func(t *testing.T) {
		var store *servertest.BreakableStore
		e := newEnv(t, options{store: func(s costexplorer.Store) costexplorer.Store {
			store = &servertest.BreakableStore{Store: s}
			return store
		}})
		store.PingDown.Store(true)
		res := e.do(e.newRequest("GET", "/readyz", nil))
		checkError(t, res, 503, costexplorer.ErrUnavailable)
		golden.Check(t, "errors/SERVICE_UNAVAILABLE.json", res.body)
	})
	t.Run("UNEXPECTED_ERROR", func(t *testing.T) {
		e := newEnv(t, options{noRunner: true})
		tok := failedProcess(t, e)
		res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok, ""))
		checkError(t, res, 500, costexplorer.ErrInternal)
		if strings.Contains(string(res.body), "boom") {
			t.Errorf("500 shows the cause: %s", res.body)
		}
		golden.Check(t, "errors/UNEXPECTED_ERROR.json", res.body)
	})
}

// failedProcess creates a query through the API and fails its process
// through the store, as a worker does after its last attempt.
func failedProcess(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	tok := e.create(e.Org, `{"startDate":"2025-01-01","endDate":"2025-02-01"}`)
	p, err := e.DB.ClaimProcess(ctx, "test-worker", e.Clock.Now(), time.Minute)
	if err != nil || p.Token != tok {
		t.Fatalf("claim: %v %v", p, err)
	}
	if err := e.DB.FailProcess(ctx, tok, "test-worker", "boom", e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	return tok
}

// checkError checks an Atlas error answer: status, errorCode, the body's
// error and reason, application/json.
func checkError(t *testing.T, res *response, status int, code string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d; body %s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	b := res.apiErr(t)
	if b.ErrorCode != code || b.Error != status || b.Reason != http.StatusText(status) || b.Detail == "" {
		t.Errorf("body = %+v, want errorCode %s, error %d, reason %q and a detail", b, code, status, http.StatusText(status))
	}
	if status == 400 && b.ErrorCode != costexplorer.ErrMalformedJSON && len(b.Parameters) == 0 {
		t.Errorf("400 %s names no parameter: %s", code, res.body)
	}
}
