package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/httpapi"
)

// The parsers of the Accept and Content-Type headers are fuzzed on their own
// in version_fuzz_test.go (FuzzNegotiate, FuzzRequestContentType). The
// targets here drive them, and everything else a request can carry, end to
// end through a real server: the real store, engine, runner and
// authenticator behind net/http on 127.0.0.1.

// fuzzTB lets newEnv build a server for a fuzz target. The server's logger
// writes through the TB it was built with, and inside the fuzz function no
// *testing.F method may be called; fuzzTB keeps the log lines instead, so
// that each input can be checked for errors the server logged.
type fuzzTB struct {
	testing.TB
	mu   sync.Mutex
	logs []string
}

func (f *fuzzTB) Helper() {}

func (f *fuzzTB) Log(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprint(args...))
}

// takeLogs returns and forgets the lines logged so far.
func (f *fuzzTB) takeLogs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.logs
	f.logs = nil
	return l
}

// fuzzEnv is a server for fuzzing: rate limiting is off, so that every input
// reaches its handler.
func fuzzEnv(f *testing.F) (*env, *fuzzTB) {
	tb := &fuzzTB{TB: f}
	e := newEnv(tb, options{rateLimit: httpapi.RateLimit{Capacity: -1}})
	tb.takeLogs()
	return e, tb
}

// send sends req and reads the whole answer without touching a testing.TB.
// A request the Go client refuses to send (a header value with a newline)
// returns ok=false: it never reaches a server.
func send(req *http.Request) (res *response, ok bool, err error) {
	var reqBody []byte
	if req.GetBody != nil {
		rc, _ := req.GetBody()
		reqBody, _ = io.ReadAll(rc)
	}
	hres, err := http.DefaultClient.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "invalid header") || strings.Contains(err.Error(), "invalid method") {
			return nil, false, nil
		}
		return nil, true, err
	}
	defer hres.Body.Close()
	res = &response{status: hres.StatusCode, header: hres.Header}
	if res.body, err = io.ReadAll(hres.Body); err != nil {
		return nil, true, err
	}
	if reqBody != nil {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	return res, true, nil
}

// checkAnswer holds for every answer of the API to anything: no 5xx; an
// error is an Atlas error body (application/json, error equal to the status,
// an errorCode, the reason phrase, a detail) whose errorCode the server's
// one table maps to that status; the answer matches openapi.yaml; and the
// server logged no error while answering.
func checkAnswer(t *testing.T, e *env, tb *fuzzTB, req *http.Request, res *response) {
	t.Helper()
	if res.status >= 500 {
		t.Fatalf("%s %s answered %d: %s", req.Method, req.URL, res.status, res.body)
	}
	if res.status >= 400 {
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%d with Content-Type %q: %s", res.status, ct, res.body)
		}
		var b apiErrorBody
		if err := json.Unmarshal(res.body, &b); err != nil {
			t.Fatalf("%d body is not JSON: %q", res.status, res.body)
		}
		if b.Error != res.status || b.ErrorCode == "" || b.Detail == "" || b.Reason != http.StatusText(res.status) || b.Parameters == nil {
			t.Fatalf("%d body is not an Atlas error: %s", res.status, res.body)
		}
		if httpapi.StatusOf(b.ErrorCode) != res.status {
			t.Fatalf("errorCode %s answered %d, its table says %d", b.ErrorCode, res.status, httpapi.StatusOf(b.ErrorCode))
		}
		if res.status == http.StatusTooManyRequests && res.header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After")
		}
	}
	for _, err := range e.validate(req, res) {
		t.Errorf("%s %s: %v", req.Method, req.URL, err)
	}
	for _, l := range tb.takeLogs() {
		if strings.Contains(l, "level=ERROR") {
			t.Errorf("server logged an error: %s", l)
		}
	}
}

// Media types of the fuzz targets' seeds (see also acceptPreviewGzip and
// previewJSON).
const (
	json1  = "application/vnd.atlas.2023-01-01+json"
	csv1   = "application/vnd.atlas.2023-01-01+csv"
	json24 = "application/vnd.atlas.2024-08-05+json"
	json25 = "application/vnd.atlas.2025-03-12+json"
)

// FuzzAPIRequest sends arbitrary requests, authenticated, to the operations
// of the API: the body, the Accept and Content-Type headers, the query string
// and the path parameters (organization id, token) all come from the fuzzer.
// Every answer is a valid one (see checkAnswer); a created query's token is
// 64 hex characters.
func FuzzAPIRequest(f *testing.F) {
	e, tb := fuzzEnv(f)
	okBody := `{"startDate":"2025-01-01","endDate":"2025-03-01","groupBy":"services","services":["Clusters","Backup"]}`
	f.Add(uint8(0), e.Org, json1, json1, "", []byte(okBody))
	f.Add(uint8(0), e.Org, json1, "application/json; charset=utf-8", "pretty=true&envelope=true", []byte(okBody))
	f.Add(uint8(0), e.Org, "application/vnd.atlas.2025-03-12+json", "text/plain", "", []byte(okBody))
	f.Add(uint8(0), e.Org, json1, json1, "", []byte(`{"startDate":"2025-01-01","endDate":"2025-03-01","projects":[`+strings.Repeat(`"aaaaaaaaaaaaaaaaaaaaaaaa",`, 50)+`"bbbbbbbbbbbbbbbbbbbbbbbb"]}`))
	f.Add(uint8(0), e.Org, json1, json1, "", []byte("{\"startDate\":\"\xff\",\"endDate\":\"2025-03-01\"}"))
	f.Add(uint8(1), strings.Repeat("a", 64), csv1, "", "", []byte(nil))
	f.Add(uint8(1), strings.Repeat("A", 64), "*/*", "", "envelope=yes", []byte(nil))
	f.Add(uint8(1), "../../orgs", json1, "", "", []byte(nil))
	f.Add(uint8(2), "", json1, "", "pageNum=2&itemsPerPage=1&includeCount=false&name=a", []byte(nil))
	f.Add(uint8(2), "", json1, "", "name=%27%20OR%201%3D1%20--&pageNum=99999999999", []byte(nil))
	f.Add(uint8(3), e.Org, json1, "", "pretty=TRUE", []byte(nil))
	f.Add(uint8(3), "0123456789abcdef01234567", json1, "", "", []byte(nil))
	f.Add(uint8(4), "5f0000000000000000000001", json1, json1, "", []byte(okBody))
	f.Add(uint8(4), "%00", json1, json1, "", []byte(okBody))
	f.Add(uint8(5), "", "application/vnd.atlas.2023-01-01+json;q=0, application/vnd.atlas.2023-01-01+csv", "", "", []byte(nil))
	fuzzRoutes(f, e, tb, []route{
		{"POST", usagePath(e.Org)},
		{"GET", usagePath(e.Org) + "/{param}"},
		{"GET", "/api/atlas/v2/orgs"},
		{"GET", "/api/atlas/v2/orgs/{param}"},
		{"POST", usagePath("{param}")},
		{"GET", "/api/atlas/v2"},
	}, func(t *testing.T, res *response) {
		if res.status == http.StatusAccepted {
			var v struct{ Token string }
			_ = json.Unmarshal(res.body, &v)
			if !costexplorer.IsToken(v.Token) {
				// An enveloped 202 is a 200; only a bare 202 lands here.
				t.Fatalf("202 without a token: %s", res.body)
			}
		}
	})
}

// FuzzInvoiceRequest sends arbitrary requests, authenticated, to the invoice
// operations and the SKU catalogue: the path parameter (invoice or SKU id),
// the Accept and Content-Type headers, the query string and the search body
// come from the fuzzer. Every answer is a valid one (checkAnswer): no 5xx,
// an Atlas error or what openapi.yaml describes.
func FuzzInvoiceRequest(f *testing.F) {
	e, tb := fuzzEnv(f)
	inv := costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	f.Add(uint8(0), "", json1, "", "statusNames=PAID&statusNames=INVOICED&fromDate=2025-01-01&toDate=2025-07-01&sortBy=START_DATE&orderBy=asc", []byte(nil))
	f.Add(uint8(0), "", json1, "", "itemsPerPage=2&pageNum=3&includeCount=false&viewLinkedInvoices=false&pretty=true&envelope=true", []byte(nil))
	f.Add(uint8(0), "", json1, "", "fromDate=2025-13-01&statusNames=paid", []byte(nil))
	f.Add(uint8(1), inv, json1, "", "envelope=true", []byte(nil))
	f.Add(uint8(1), inv, csv1, "", "pretty=true", []byte(nil))
	f.Add(uint8(1), "pending", "application/vnd.atlas.2030-01-01+csv;q=0.5, "+json1, "", "", []byte(nil))
	f.Add(uint8(2), inv, csv1, "", "", []byte(nil))
	f.Add(uint8(2), "0123456789abcdef01234567", json1, "", "", []byte(nil))
	f.Add(uint8(3), "", json1, "", "pretty=true", []byte(nil))
	f.Add(uint8(4), inv, json24, json24, "itemsPerPage=3&pageNum=2", []byte(`{"filters":{"skuServices":["Clusters"],"usageStartDate":"2025-05-02","usageEndDate":"2025-05-09"},"sortField":"TOTAL_PRICE_CENTS","sortOrder":"ASCENDING"}`))
	f.Add(uint8(4), inv, json25, "application/json", "", []byte(`{"filters":{"groupIds":["aaaaaaaaaaaaaaaaaaaaaaaa"],"clusterIds":[],"includeZeroCentLineItems":true}}`))
	f.Add(uint8(5), inv, json24, json24, "", []byte(`{"filters":{"billStartDate":"2025-05-10","billEndDate":"2025-05-01"}}`))
	f.Add(uint8(5), inv, json24, json24, "", []byte(`{"filters":null,"sortField":null}`))
	f.Add(uint8(6), "", json25, "", "itemsPerPage=7&pageNum=2", []byte(nil))
	f.Add(uint8(7), "ATLAS_AWS_INSTANCE_M10", json25, "", "envelope=true", []byte(nil))
	f.Add(uint8(7), "../orgs", json25, "", "", []byte(nil))
	base := invoicesPath(e.Org)
	fuzzRoutes(f, e, tb, []route{
		{"GET", base},
		{"GET", base + "/{param}"},
		{"GET", base + "/{param}/csv"},
		{"GET", base + "/pending"},
		{"POST", base + "/{param}/lineItems:search"},
		{"GET", base + "/{param}/lineItems:search"},
		{"GET", skusPath},
		{"GET", skusPath + "/{param}"},
	}, nil)
}

// FuzzReportPreviews sends arbitrary requests, authenticated, to the preview
// generateOrgInvoiceAndDownloadReport and to getOrgAssociatedInvoices: the
// invoice id, the Accept and Content-Type headers, the query string and the
// body come from the fuzzer. Every answer is a valid one (checkAnswer): no
// 5xx, an Atlas error or what openapi.yaml describes.
func FuzzReportPreviews(f *testing.F) {
	e, tb := fuzzEnv(f)
	inv := costexplorer.InvoiceID(e.Org, costexplorer.MonthOf(t0)-1)
	f.Add(uint8(0), inv, acceptPreviewGzip, previewJSON, "", []byte(`{}`))
	f.Add(uint8(0), inv, acceptPreviewGzip, "application/json", "envelope=true&pretty=true", []byte(`{"reportType":"FOCUS","reportFormat":"CSV","version":"1.2"}`))
	f.Add(uint8(0), inv, acceptPreviewGzip+", "+previewJSON, previewJSON, "", []byte(`{"version":null,"reportType":"focus"}`))
	f.Add(uint8(0), inv+":generateAndDownloadReport", acceptPreviewGzip, previewJSON, "", []byte(`{}`))
	f.Add(uint8(0), "0123456789abcdef01234567", json25, json25, "", []byte(`[`))
	f.Add(uint8(1), "", json25, "", "month=2&year=2025&includeLinkedOrgs=true", []byte(nil))
	f.Add(uint8(1), "", previewJSON, "", "month=00012&year=02025", []byte(nil))
	f.Add(uint8(1), "", previewJSON+";q=0.1, "+json25, "", "year=99999999999&envelope=true", []byte(nil))
	fuzzRoutes(f, e, tb, []route{
		{"POST", invoicesPath(e.Org) + "/{param}:generateAndDownloadReport"},
		{"GET", associatedPath(e.Org)},
	}, nil)
}

// route is an operation a fuzz target sends to: its method and its path,
// where the fuzzed path parameter (escaped) takes the place of {param}.
type route struct{ method, path string }

// fuzzRoutes fuzzes the operations of routes: kind picks the route (modulo
// their number); the path parameter, the Accept and Content-Type headers,
// the query string and the body are the fuzzer's. Every answer must pass
// checkAnswer, then check when it is not nil.
func fuzzRoutes(f *testing.F, e *env, tb *fuzzTB, routes []route, check func(*testing.T, *response)) {
	f.Fuzz(func(t *testing.T, kind uint8, param, accept, contentType, rawQuery string, body []byte) {
		r := routes[int(kind)%len(routes)]
		path := strings.Replace(r.path, "{param}", url.PathEscape(param), 1)
		req, res := fuzzSend(t, e, r.method, path, accept, contentType, rawQuery, body)
		if res == nil {
			return
		}
		checkAnswer(t, e, tb, req, res)
		if check != nil {
			check(t, res)
		}
	})
}

// fuzzSend sends an authenticated request made of fuzzed parts and returns
// it with its answer; a nil answer means the parts make no request a client
// could send (the input is skipped).
func fuzzSend(t *testing.T, e *env, method, path, accept, contentType, rawQuery string, body []byte) (*http.Request, *response) {
	t.Helper()
	u, err := url.Parse(e.URL + path)
	if err != nil {
		return nil, nil
	}
	if strings.ContainsFunc(rawQuery, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) {
		// Not a valid request target: Go's client would send a broken
		// request line, which net/http refuses before any handler runs
		// (a plain-text 400, outside what this server writes).
		return nil, nil
	}
	u.RawQuery = rawQuery
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u.String(), rd)
	if err != nil {
		return nil, nil
	}
	req.Header.Set("Accept", accept)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+e.bearer)
	res, sent, err := send(req)
	if !sent {
		return nil, nil
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return req, res
}

// FuzzListParams fuzzes the query-string parsers of GET /api/atlas/v2/orgs
// (pageNum, itemsPerPage, includeCount, name) and of every operation (pretty,
// envelope) end to end. present says which parameters are sent (bit i for
// the i-th, in the order of the arguments). The answer is 200, or 400
// INVALID_QUERY_PARAMETER naming the first bad parameter in the order the
// server reads them, exactly as the documented rules say:
// pretty, envelope, includeCount are true or false in any case; pageNum is an
// integer from 1 to 2^31-1; itemsPerPage from 1 to 500; name at most 64 bytes.
func FuzzListParams(f *testing.F) {
	e, tb := fuzzEnv(f)
	f.Add(uint8(0), "", "", "", "", "", "")
	f.Add(uint8(0xff), "true", "false", "1", "500", "TRUE", "acme")
	f.Add(uint8(0xff), "yes", "1", "0", "501", "", strings.Repeat("x", 65))
	f.Add(uint8(0x04), "", "", "+7", "", "", "")
	f.Add(uint8(0x0c), "", "", "2147483648", "0x10", "", "")
	f.Add(uint8(0x20), "", "", "", "", "", "' OR 1=1 --")
	f.Add(uint8(0x20), "", "", "", "", "", "%_\\")
	f.Add(uint8(0x20), "", "", "", "", "", "\xff\xfe")
	f.Fuzz(func(t *testing.T, present uint8, pretty, envelope, pageNum, itemsPerPage, includeCount, name string) {
		names := []string{"pretty", "envelope", "pageNum", "itemsPerPage", "includeCount", "name"}
		vals := []string{pretty, envelope, pageNum, itemsPerPage, includeCount, name}
		q := url.Values{}
		for i, n := range names {
			if present&(1<<i) != 0 {
				q.Set(n, vals[i])
			}
		}
		req, err := http.NewRequest("GET", e.URL+"/api/atlas/v2/orgs?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		req.Header.Set("Authorization", "Bearer "+e.bearer)
		res, _, err := send(req)
		if err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, e, tb, req, res)

		isBool := func(s string) bool { s = strings.ToLower(s); return s == "true" || s == "false" }
		isInt := func(s string, lo, hi int) bool { n, err := strconv.Atoi(s); return err == nil && n >= lo && n <= hi }
		valid := []func(string) bool{
			isBool, isBool,
			func(s string) bool { return isInt(s, 1, math.MaxInt32) },
			func(s string) bool { return isInt(s, 1, 500) },
			isBool,
			func(s string) bool { return len(s) <= 64 },
		}
		bad := ""
		for i, n := range names {
			if present&(1<<i) != 0 && !valid[i](vals[i]) {
				bad = n
				break
			}
		}
		if bad != "" {
			b := apiErrBody(t, res)
			if res.status != http.StatusBadRequest || b.ErrorCode != costexplorer.ErrInvalidQueryParameter || len(b.Parameters) == 0 || b.Parameters[0] != bad {
				t.Fatalf("bad %s: got %d %s", bad, res.status, res.body)
			}
			return
		}
		if res.status != http.StatusOK {
			t.Fatalf("valid parameters %v: %d %s", q, res.status, res.body)
		}
		var list struct {
			Results    []struct{ ID string }
			TotalCount *int
			Status     *int
		}
		if err := json.Unmarshal(res.body, &list); err != nil {
			t.Fatalf("200 body: %v", err)
		}
		wantEnvelope := present&2 != 0 && strings.EqualFold(envelope, "true")
		if (list.Status != nil) != wantEnvelope {
			t.Fatalf("envelope=%q: status field %v", envelope, list.Status)
		}
		for _, r := range list.Results {
			if r.ID != e.Org {
				t.Fatalf("listed organization %s, the caller's is %s", r.ID, e.Org)
			}
		}
		if n, _ := strconv.Atoi(pageNum); present&4 != 0 && n != 1 && len(list.Results) > 0 {
			t.Fatalf("page %q of a one-organization list has results", pageNum)
		}
	})
}

// apiErrBody decodes an Atlas error body inside a fuzz function.
func apiErrBody(t *testing.T, res *response) apiErrorBody {
	t.Helper()
	var b apiErrorBody
	if err := json.Unmarshal(res.body, &b); err != nil {
		t.Fatalf("%d body %q: %v", res.status, res.body, err)
	}
	return b
}
