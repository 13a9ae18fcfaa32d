package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/httpapi"
)

// TestVersionNegotiation checks which Accept headers reach the 2023-01-01
// version and which representation they get.
func TestVersionNegotiation(t *testing.T) {
	e := newEnv(t, options{})
	tok := e.create(e.Org, `{"startDate":"2025-05-01","endDate":"2025-06-01","groupBy":"organizations","organizations":["`+e.Org+`"]}`)
	e.waitReady(e.Org, tok)
	const (
		jsonCT = "application/vnd.atlas.2023-01-01+json;charset=utf-8"
		csvCT  = "application/vnd.atlas.2023-01-01+csv;charset=utf-8"
	)
	cases := []struct {
		name, accept, want string
	}{
		{"SDKVersion", "application/vnd.atlas.2023-01-01+json", jsonCT},
		{"LaterDateResolvesDown", "application/vnd.atlas.2025-03-12+json", jsonCT},
		{"FarFutureDate", "application/vnd.atlas.2099-12-31+json", jsonCT},
		{"CSV", "application/vnd.atlas.2023-01-01+csv", csvCT},
		{"LaterCSV", "application/vnd.atlas.2024-08-05+csv", csvCT},
		{"WithCharset", "application/vnd.atlas.2023-01-01+json;charset=utf-8", jsonCT},
		{"UpperCase", "Application/Vnd.Atlas.2023-01-01+JSON", jsonCT},
		{"BothEqualQPrefersJSON", "application/vnd.atlas.2023-01-01+csv, application/vnd.atlas.2023-01-01+json", jsonCT},
		{"HigherQWins", "application/vnd.atlas.2023-01-01+json;q=0.5, application/vnd.atlas.2023-01-01+csv;q=0.9", csvCT},
		{"SkipsUnusable", "application/json, application/vnd.atlas.2020-01-01+json, application/vnd.atlas.2023-02-01+csv", csvCT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			req := e.apiRequest("GET", usagePath(e.Org)+"/"+tok, "")
			req.Header.Set("Accept", c.accept)
			res := e.do(req)
			if res.status != http.StatusOK || res.header.Get("Content-Type") != c.want {
				t.Errorf("Accept %q: %d %q, want 200 %q", c.accept, res.status, res.header.Get("Content-Type"), c.want)
			}
		})
	}
	t.Run("SeveralAcceptHeaders", func(t *testing.T) {
		e.t = t
		req := e.apiRequest("GET", "/api/atlas/v2/orgs", "")
		req.Header.Set("Accept", "application/json")
		req.Header.Add("Accept", "application/vnd.atlas.2025-03-12+json")
		if res := e.do(req); res.status != http.StatusOK || res.header.Get("Content-Type") != jsonCT {
			t.Errorf("%d %q", res.status, res.header.Get("Content-Type"))
		}
	})
}

// TestCreateQuery checks the 202, the token's form, the application/json
// request type, and that the same query on the same data gets the same
// token while another query gets another.
func TestCreateQuery(t *testing.T) {
	e := newEnv(t, options{})
	body := `{"startDate":"2025-01-01","endDate":"2025-04-01","groupBy":"services","services":["Clusters"]}`
	a := e.create(e.Org, body)
	if !costexplorer.IsToken(a) {
		t.Fatalf("token %q is not 64 lower-case hex", a)
	}
	req := e.apiRequest("POST", usagePath(e.Org), `{"services":["Clusters","Clusters"],"groupBy":"services","endDate":"2025-04-01","startDate":"2025-01-01"}`)
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	res := e.do(req)
	if res.status != http.StatusAccepted || !strings.Contains(string(res.body), a) {
		t.Errorf("the same query spelled differently: %d %s, want token %s", res.status, res.body, a)
	}
	if res.header.Get("Content-Type") != "application/vnd.atlas.2023-01-01+json;charset=utf-8" {
		t.Errorf("Content-Type %q", res.header.Get("Content-Type"))
	}
	if b := e.create(e.Org, `{"startDate":"2025-01-01","endDate":"2025-05-01"}`); b == a {
		t.Errorf("different queries share token %s", a)
	}
	res = e.do(e.apiRequest("POST", usagePath(e.Org)+"?envelope=true&pretty=true", body))
	want := "{\n  \"status\": 202,\n  \"content\": {\n    \"token\": \"" + a + "\"\n  }\n}\n"
	if res.status != http.StatusOK || string(res.body) != want {
		t.Errorf("envelope+pretty: %d %q, want 200 %q", res.status, res.body, want)
	}
}

// TestResultPretty checks ?pretty=true on a stored result.
func TestResultPretty(t *testing.T) {
	e := newEnv(t, options{})
	tok := e.create(e.Org, `{"startDate":"2025-05-01","endDate":"2025-06-01","groupBy":"organizations","organizations":["`+e.Org+`"]}`)
	e.waitReady(e.Org, tok)
	res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+tok+"?pretty=true", ""))
	if !bytes.HasPrefix(res.body, []byte("{\n  \"usageDetails\": [\n    {\n      \"usageDate\": \"2025-05-01\",")) {
		t.Errorf("pretty body: %s", res.body)
	}
}

// TestEnvelopeCSVResult checks that a ready CSV result is never enveloped:
// the envelope is JSON and cannot hold it.
func TestEnvelopeCSVResult(t *testing.T) {
	e := newEnv(t, options{})
	tok := e.create(e.Org, `{"startDate":"2025-05-01","endDate":"2025-06-01"}`)
	e.waitReady(e.Org, tok)
	req := e.apiRequest("GET", usagePath(e.Org)+"/"+tok+"?envelope=true", "")
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+csv")
	res := e.do(req)
	if res.status != http.StatusOK || !strings.HasPrefix(string(res.body), "Billed Date,") {
		t.Errorf("%d %.80q", res.status, res.body)
	}
}

// A done result is served from the runner's cache, shared by every request
// for its token: answering must not write into its bytes, not even into the
// spare capacity behind them (concurrent answers would race there, and a
// result backed by a larger buffer would be corrupted).
func TestUsageDoesNotWriteIntoCachedResult(t *testing.T) {
	e := newEnv(t, options{})
	token := e.create(e.Org, `{"startDate":"2025-01-01","endDate":"2025-06-01","groupBy":"organizations","organizations":["`+e.Org+`"]}`)
	e.waitReady(e.Org, token)

	p, err := e.Runner.Usage(context.Background(), e.Org, token)
	if err != nil {
		t.Fatalf("usage: %v", err)
	}
	// Give the cached result spare capacity filled with a sentinel, so that
	// a write past its length shows.
	full := make([]byte, len(p.Result), len(p.Result)+64)
	copy(full, p.Result)
	for i := len(full); i < cap(full); i++ {
		full[:cap(full)][i] = 'x'
	}
	p.Result = full
	want := bytes.Clone(full[:cap(full)])

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+token, ""))
			if res.status != http.StatusOK {
				t.Errorf("get: %d %s", res.status, res.body)
			}
		}()
	}
	wg.Wait()
	if got := full[:cap(full)]; !bytes.Equal(got, want) {
		t.Errorf("serving the result wrote into the cached process's bytes: tail %q, want %q", got[len(full):], want[len(full):])
	}
}

// TestRateLimit checks the per-organization bucket: RateLimit headers on
// success, 429 with Retry-After when empty, refill with time, and that
// another organization's bucket is separate.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, options{rateLimit: httpapiRateLimit(3)})
	path := usagePath(e.Org) + "/" + strings.Repeat("0", 64)
	body := `{"startDate":"2025-01-01","endDate":"2025-02-01"}`
	for i, want := range []string{"2", "1"} {
		res := e.do(e.apiRequest("POST", usagePath(e.Org), body))
		if res.status != http.StatusAccepted || res.header.Get("RateLimit-Limit") != "3" || res.header.Get("RateLimit-Remaining") != want {
			t.Fatalf("request %d: %d limit %q remaining %q, want 202 3 %s", i, res.status, res.header.Get("RateLimit-Limit"), res.header.Get("RateLimit-Remaining"), want)
		}
	}
	// A 404 still takes a token.
	if res := e.do(e.apiRequest("GET", path, "")); res.status != http.StatusNotFound || res.header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("third request: %d remaining %q", res.status, res.header.Get("RateLimit-Remaining"))
	}
	res := e.do(e.apiRequest("POST", usagePath(e.Org), body))
	checkError(t, res, http.StatusTooManyRequests, costexplorer.ErrRateLimited)
	if res.header.Get("Retry-After") != "60" || res.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("429 headers: Retry-After %q Remaining %q", res.header.Get("Retry-After"), res.header.Get("RateLimit-Remaining"))
	}
	// Other endpoints are not in the Invoices set.
	if res := e.do(e.apiRequest("GET", "/api/atlas/v2/orgs", "")); res.status != http.StatusOK {
		t.Errorf("orgs while rate limited: %d", res.status)
	}
	// Another organization has its own bucket.
	linked := e.Layout.Linked[0].ID
	id, secret := e.ServiceAccount(e.t, linked, nil, costexplorer.RoleOrgBillingAdmin)
	req := e.apiRequest("POST", usagePath(linked), body)
	req.Header.Set("Authorization", "Bearer "+e.accessToken(id, secret))
	if res := e.do(req); res.status != http.StatusAccepted || res.header.Get("RateLimit-Remaining") != "2" {
		t.Errorf("other organization: %d remaining %q", res.status, res.header.Get("RateLimit-Remaining"))
	}
	e.Clock.Advance(time.Minute)
	if res := e.do(e.apiRequest("POST", usagePath(e.Org), body)); res.status != http.StatusAccepted || res.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("after refill: %d remaining %q", res.status, res.header.Get("RateLimit-Remaining"))
	}
}

// TestRateLimitDisabled checks that a negative capacity turns the limit off.
func TestRateLimitDisabled(t *testing.T) {
	e := newEnv(t, options{rateLimit: httpapi.RateLimit{Capacity: -1}})
	for range 3 {
		res := e.do(e.apiRequest("GET", usagePath(e.Org)+"/"+strings.Repeat("0", 64), ""))
		if res.status != http.StatusNotFound || res.header.Get("RateLimit-Limit") != "" {
			t.Fatalf("%d limit %q", res.status, res.header.Get("RateLimit-Limit"))
		}
	}
}

// TestForeignToken checks that a token of one organization is 404 for
// another organization's credential on its own path.
func TestForeignToken(t *testing.T) {
	e := newEnv(t, options{})
	tok := e.create(e.Org, `{"startDate":"2025-01-01","endDate":"2025-02-01"}`)
	linked := e.Layout.Linked[0].ID
	id, secret := e.ServiceAccount(e.t, linked, nil, costexplorer.RoleOrgOwner)
	req := e.apiRequest("GET", usagePath(linked)+"/"+tok, "")
	req.Header.Set("Authorization", "Bearer "+e.accessToken(id, secret))
	checkError(t, e.do(req), http.StatusNotFound, costexplorer.ErrNotFound)
}

// TestRoles checks that roles without billing access are refused the cost
// explorer (401) but may read their organization.
func TestRoles(t *testing.T) {
	e := newEnv(t, options{})
	e.checkBillingRoles(t, http.StatusAccepted, func() *http.Request {
		return e.apiRequest("POST", usagePath(e.Org), `{"startDate":"2025-01-01","endDate":"2025-02-01"}`)
	})
	t.Run("EveryRoleGetsItsOrganization", func(t *testing.T) {
		e.t = t
		for _, role := range costexplorer.Roles {
			id, secret := e.ServiceAccount(e.t, e.Org, nil, role)
			req := e.apiRequest("GET", "/api/atlas/v2/orgs/"+e.Org, "")
			req.Header.Set("Authorization", "Bearer "+e.accessToken(id, secret))
			if res := e.do(req); res.status != http.StatusOK {
				t.Errorf("%s: get org: %d %s", role, res.status, res.body)
			}
		}
	})
}

// TestOperationalEndpoints checks /healthz, /readyz and /openapi.yaml, which
// need no credentials.
func TestOperationalEndpoints(t *testing.T) {
	e := newEnv(t, options{})
	if res := e.do(e.newRequest("GET", "/healthz", nil)); res.status != 200 || string(res.body) != "{\"status\":\"ok\"}\n" {
		t.Errorf("healthz: %d %s", res.status, res.body)
	}
	if res := e.do(e.newRequest("GET", "/readyz", nil)); res.status != 200 || string(res.body) != "{\"status\":\"ready\"}\n" {
		t.Errorf("readyz: %d %s", res.status, res.body)
	}
	res := e.do(e.newRequest("GET", "/openapi.yaml", nil))
	want, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 200 || !bytes.Equal(res.body, want) || res.header.Get("Content-Type") != "application/yaml" {
		t.Errorf("openapi.yaml: %d %s, %d bytes", res.status, res.header.Get("Content-Type"), len(res.body))
	}
	checkError(t, e.do(e.newRequest("POST", "/healthz", nil)), http.StatusMethodNotAllowed, costexplorer.ErrMethodNotAllowed)
	checkError(t, e.do(e.newRequest("GET", "/api/oauth/token", nil)), http.StatusMethodNotAllowed, costexplorer.ErrMethodNotAllowed)
	checkError(t, e.do(e.newRequest("GET", "/no/such/page", nil)), http.StatusNotFound, costexplorer.ErrNotFound)
}

// TestValidatorCatchesMismatches proves that the OpenAPI check every test
// relies on can fail: answers that break the document are reported.
func TestValidatorCatchesMismatches(t *testing.T) {
	e := newEnv(t, options{noDemo: true})
	req := e.apiRequest("GET", usagePath(e.Org)+"/"+strings.Repeat("0", 64), "")
	jsonHeader := http.Header{"Content-Type": {"application/vnd.atlas.2023-01-01+json;charset=utf-8"}}
	cases := []struct {
		name string
		res  *response
	}{
		{"UndeclaredStatus", &response{status: 418, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{}`)}},
		{"ExtraField", &response{status: 200, header: jsonHeader, body: []byte(`{"usageDetails":[],"extra":1}`)}},
		{"BadAmount", &response{status: 200, header: jsonHeader, body: []byte(`{"usageDetails":[{"usageDate":"2025-01-01","usageAmount":"1.00"}]}`)}},
		{"BadErrorCode", &response{status: 404, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"detail":"x","error":404,"errorCode":"NOPE","parameters":[],"reason":"Not Found"}`)}},
		{"CSVWithoutHeader", &response{status: 200, header: http.Header{"Content-Type": {"application/vnd.atlas.2023-01-01+csv;charset=utf-8"}}, body: []byte("2025-01-01,x\n")}},
		{"BodyWithoutContentType", &response{status: 200, header: http.Header{}, body: []byte(`{}`)}},
		{"Bad102", &response{status: 200, header: http.Header{}, interim: []int{102}, interimHeader: []http.Header{{"Retry-After": {"soon"}}}}},
	}
	for _, c := range cases {
		if errs := e.validate(req, c.res); len(errs) == 0 {
			t.Errorf("%s: the validator accepted it", c.name)
		}
	}
	ok := &response{status: 200, header: jsonHeader, body: []byte(`{"usageDetails":[]}`)}
	if errs := e.validate(req, ok); len(errs) != 0 {
		t.Errorf("the validator refused a good answer: %v", errs)
	}
}

// TestChunkedBodyOverLimit guards the body limit against a lying
// Content-Length: a chunked body over the limit is still 413.
func TestChunkedBodyOverLimit(t *testing.T) {
	e := newEnv(t, options{maxBodyBytes: 1024})
	body := `{"startDate":"2025-01-01","endDate":"2025-02-01","x":"` + strings.Repeat("a", 4096) + `"}`
	req := e.apiRequest("POST", usagePath(e.Org), "")
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = -1 // chunked
	req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
	checkError(t, e.do(req), http.StatusRequestEntityTooLarge, costexplorer.ErrBodyTooLarge)
}

// TestBadRequests is the table of malformed requests (body, path, header,
// query): each gets its status and errorCode, and none answers 5xx.
func TestBadRequests(t *testing.T) {
	e := newEnv(t, options{})
	const (
		ok    = `{"startDate":"2025-01-01","endDate":"2025-02-01"}`
		other = "0123456789abcdef01234567"
	)
	usage := usagePath("{org}")
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = "aaaaaaaaaaaaaaaaaaaaaaaa"
	}
	tooManyJSON, _ := json.Marshal(tooMany)
	deep := `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	del := "\x00" // header value meaning "remove the header"

	cases := []badRequest{
		// Bodies.
		{"EmptyBody", "POST", usage, "", nil, 400, costexplorer.ErrMalformedJSON},
		{"NullBody", "POST", usage, "null", nil, 400, costexplorer.ErrMalformedJSON},
		{"ArrayBody", "POST", usage, "[]", nil, 400, costexplorer.ErrMalformedJSON},
		{"StringBody", "POST", usage, `"2025-01-01"`, nil, 400, costexplorer.ErrMalformedJSON},
		{"TrailingData", "POST", usage, ok + ` {}`, nil, 400, costexplorer.ErrMalformedJSON},
		{"TruncatedObject", "POST", usage, `{"startDate":"2025-01-01",`, nil, 400, costexplorer.ErrMalformedJSON},
		{"DeepNesting", "POST", usage, deep, nil, 400, costexplorer.ErrMalformedJSON},
		{"HugeArray", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":` + string(tooManyJSON) + `}`, nil, 400, costexplorer.ErrValidation},
		{"StartDateNumber", "POST", usage, `{"startDate":20250101,"endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"EndDateBool", "POST", usage, `{"startDate":"2025-01-01","endDate":true}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"ProjectsString", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":"aaaaaaaaaaaaaaaaaaaaaaaa"}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"ProjectsNumbers", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":[1]}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"ServicesObject", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","services":{"a":1}}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"GroupByNumber", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":1}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"PartialMatchesString", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","includePartialMatches":"true"}`, nil, 400, costexplorer.ErrInvalidJSONAttribute},
		{"UnknownField", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","limit":10}`, nil, 400, costexplorer.ErrInvalidAttribute},
		{"FieldWrongCase", "POST", usage, `{"StartDate":"2025-01-01","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrInvalidAttribute},
		{"MissingEndDate", "POST", usage, `{"startDate":"2025-01-01"}`, nil, 400, costexplorer.ErrMissingAttribute},
		{"NullStartDate", "POST", usage, `{"startDate":null,"endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrMissingAttribute},
		{"EmptyObject", "POST", usage, `{}`, nil, 400, costexplorer.ErrMissingAttribute},
		{"ServiceWrongCase", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","services":["clusters"]}`, nil, 400, costexplorer.ErrInvalidEnumValue},
		{"GroupBySingular", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":"project"}`, nil, 400, costexplorer.ErrInvalidEnumValue},
		{"DateUnpadded", "POST", usage, `{"startDate":"2025-1-01","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrInvalidDateFormat},
		{"DateImpossible", "POST", usage, `{"startDate":"2025-02-30","endDate":"2025-03-01"}`, nil, 400, costexplorer.ErrInvalidDateFormat},
		{"DateTime", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01T00:00:00Z"}`, nil, 400, costexplorer.ErrInvalidDateFormat},
		{"DateInvalidUTF8", "POST", usage, "{\"startDate\":\"\xff\xfe\",\"endDate\":\"2025-02-01\"}", nil, 400, costexplorer.ErrInvalidDateFormat},
		{"StartNotFirstOfMonth", "POST", usage, `{"startDate":"2025-01-15","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrValidation},
		{"StartEqualsEnd", "POST", usage, `{"startDate":"2025-02-01","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrStartDateAfterEndDate},
		{"StartAfterEnd", "POST", usage, `{"startDate":"2025-03-01","endDate":"2025-02-01"}`, nil, 400, costexplorer.ErrStartDateAfterEndDate},
		{"StartBeforeWindow", "POST", usage, `{"startDate":"2023-12-01","endDate":"2024-02-01"}`, nil, 400, costexplorer.ErrInvalidDateRange},
		{"EndAfterWindow", "POST", usage, `{"startDate":"2025-06-01","endDate":"2025-08-01"}`, nil, 400, costexplorer.ErrInvalidDateRange},
		{"ProjectIDUpperCase", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","projects":["AAAAAAAAAAAAAAAAAAAAAAAA"]}`, nil, 400, costexplorer.ErrValidation},
		{"ClusterIDShort", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","clusters":["abc"]}`, nil, 400, costexplorer.ErrValidation},
		{"OrganizationIDNotHex", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","organizations":["zzzzzzzzzzzzzzzzzzzzzzzz"]}`, nil, 400, costexplorer.ErrValidation},
		{"GroupByClustersWithoutClusters", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":"clusters"}`, nil, 400, costexplorer.ErrValidation},
		{"GroupByServicesEmptyList", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","groupBy":"services","services":[]}`, nil, 400, costexplorer.ErrValidation},
		{"BodyOverOneMiB", "POST", usage, `{"startDate":"2025-01-01","endDate":"2025-02-01","x":"` + strings.Repeat("a", 1<<20) + `"}`, nil, 413, costexplorer.ErrBodyTooLarge},

		// Paths.
		{"OrgIDUpperCase", "POST", usagePath(strings.ToUpper(other)), ok, nil, 400, costexplorer.ErrInvalidPathParameter},
		{"OrgIDShort", "GET", "/api/atlas/v2/orgs/0123456789abcdef0123456", "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"TokenShort", "GET", usage + "/" + strings.Repeat("a", 63), "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"TokenUpperCase", "GET", usage + "/" + strings.Repeat("A", 64), "", nil, 400, costexplorer.ErrInvalidPathParameter},
		{"TokenUnknown", "GET", usage + "/" + strings.Repeat("0", 64), "", nil, 404, costexplorer.ErrNotFound},
		{"TokenEmpty", "GET", usage + "/", "", nil, 404, costexplorer.ErrNotFound},
		{"UnknownPath", "GET", "/api/atlas/v2/clusters", "", nil, 404, costexplorer.ErrNotFound},
		{"PathPrefixOnly", "POST", "/api/atlas/v2/orgs/{org}/billing/costExplorer", ok, nil, 404, costexplorer.ErrNotFound},
		{"ForeignOrg", "POST", usagePath(other), ok, nil, 401, costexplorer.ErrUnauthorized},
		{"ForeignOrgResult", "GET", usagePath(other) + "/" + strings.Repeat("0", 64), "", nil, 401, costexplorer.ErrUnauthorized},
		{"WrongMethodOnUsage", "PUT", usage, ok, nil, 405, costexplorer.ErrMethodNotAllowed},
		{"WrongMethodOnOrgs", "POST", "/api/atlas/v2/orgs", ok, nil, 405, costexplorer.ErrMethodNotAllowed},

		// Headers.
		{"NoAccept", "POST", usage, ok, map[string]string{"Accept": del}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptJSON", "POST", usage, ok, map[string]string{"Accept": "application/json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptAny", "GET", "/api/atlas/v2/orgs", "", map[string]string{"Accept": "*/*"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptTooEarly", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2022-12-31+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptBadDate", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2023-13-01+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptPreview", "GET", "/api/atlas/v2", "", map[string]string{"Accept": "application/vnd.atlas.preview+json"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptXML", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2023-01-01+xml"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptCSVOnCreate", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2023-01-01+csv"}, 406, costexplorer.ErrInvalidVersionDate},
		{"AcceptQZero", "POST", usage, ok, map[string]string{"Accept": "application/vnd.atlas.2023-01-01+json;q=0"}, 406, costexplorer.ErrInvalidVersionDate},
		{"NoContentType", "POST", usage, ok, map[string]string{"Content-Type": del}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeText", "POST", usage, ok, map[string]string{"Content-Type": "text/plain"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeForm", "POST", usage, ok, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeLatin1", "POST", usage, ok, map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeTooEarly", "POST", usage, ok, map[string]string{"Content-Type": "application/vnd.atlas.2022-01-01+json"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"ContentTypeMalformed", "POST", usage, ok, map[string]string{"Content-Type": "application/json; ;"}, 415, costexplorer.ErrUnsupportedMediaType},
		{"NoCredentials", "POST", usage, ok, map[string]string{"Authorization": del}, 401, costexplorer.ErrUnauthorized},
		{"BearerGarbage", "GET", "/api/atlas/v2/orgs", "", map[string]string{"Authorization": "Bearer not.a.jwt"}, 401, costexplorer.ErrUnauthorized},
		{"UnknownScheme", "GET", "/api/atlas/v2/orgs", "", map[string]string{"Authorization": "Negotiate abc"}, 401, costexplorer.ErrUnauthorized},

		// Query parameters.
		{"PrettyYes", "GET", "/api/atlas/v2/orgs?pretty=yes", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"EnvelopeOne", "POST", usage + "?envelope=1", ok, nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PrettyTwice", "GET", "/api/atlas/v2?pretty=true&pretty=false", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"EnvelopeEmpty", "GET", usage + "/" + strings.Repeat("0", 64) + "?envelope=", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ItemsPerPageZero", "GET", "/api/atlas/v2/orgs?itemsPerPage=0", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"ItemsPerPageTooMany", "GET", "/api/atlas/v2/orgs?itemsPerPage=501", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PageNumZero", "GET", "/api/atlas/v2/orgs?pageNum=0", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PageNumNotNumber", "GET", "/api/atlas/v2/orgs?pageNum=two", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"PageNumOverflow", "GET", "/api/atlas/v2/orgs?pageNum=99999999999999999999", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"IncludeCountMaybe", "GET", "/api/atlas/v2/orgs?includeCount=maybe", "", nil, 400, costexplorer.ErrInvalidQueryParameter},
		{"NameTooLong", "GET", "/api/atlas/v2/orgs?name=" + strings.Repeat("n", 65), "", nil, 400, costexplorer.ErrInvalidQueryParameter},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d bad requests", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			req := e.apiRequest(c.method, strings.ReplaceAll(c.path, "{org}", e.Org), c.body)
			if c.body == "" && c.method == "POST" {
				req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
			}
			e.checkRefused(t, req, c.headers, c.status, c.code)
		})
	}
}

// panickyStore is a store whose organization listing panics once armed
// (the query engine lists organizations when it loads).
type panickyStore struct {
	costexplorer.Store
	armed atomic.Bool
}

func (p *panickyStore) Organizations(ctx context.Context, f costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error) {
	if p.armed.Load() {
		panic("boom")
	}
	return p.Store.Organizations(ctx, f)
}

// TestPanicIsUnexpectedError checks the last resort: a handler that panics
// (here the organizations handler, through its store) is answered 500
// UNEXPECTED_ERROR, not a dropped connection or a stack trace.
func TestPanicIsUnexpectedError(t *testing.T) {
	var store *panickyStore
	e := newEnv(t, options{store: func(s costexplorer.Store) costexplorer.Store {
		store = &panickyStore{Store: s}
		return store
	}})
	store.armed.Store(true)
	res := e.do(e.apiRequest("GET", "/api/atlas/v2/orgs", ""))
	if res.status != http.StatusInternalServerError || strings.Contains(string(res.body), "boom") {
		t.Fatalf("panic answered %d %s", res.status, res.body)
	}
	if b := res.apiErr(t); b.ErrorCode != costexplorer.ErrInternal {
		t.Errorf("errorCode = %s", b.ErrorCode)
	}
}
