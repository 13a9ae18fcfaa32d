package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// TestStepsOrder pins the order of the common steps of an Atlas operation
// on the wire: a request refused by the version negotiation, the common
// parameters, the organization check or the token check is refused before
// the rate limit, so it takes no token of the organization's bucket and
// carries no RateLimit headers; the body is read after the rate limit.
func TestStepsOrder(t *testing.T) {
	e := newEnv(t, options{rateLimit: httpapiRateLimit(1)})
	result := usagePath(e.Org) + "/" + strings.Repeat("ab", 32)
	refusedBefore := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"ErrAccept", func() *http.Request {
			req := e.apiRequest("GET", result, "")
			req.Header.Set("Accept", "application/json")
			return req
		}, 406, costexplorer.ErrInvalidVersionDate},
		{"ErrEnvelope", func() *http.Request { return e.apiRequest("GET", result+"?envelope=1", "") }, 400, costexplorer.ErrInvalidQueryParameter},
		{"ErrForeignOrg", func() *http.Request {
			return e.apiRequest("GET", usagePath("0123456789abcdef01234567")+"/"+strings.Repeat("ab", 32), "")
		}, 401, costexplorer.ErrUnauthorized},
		{"ErrToken", func() *http.Request { return e.apiRequest("GET", usagePath(e.Org)+"/abc", "") }, 400, costexplorer.ErrInvalidPathParameter},
	}
	for _, c := range refusedBefore {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			res := e.do(c.req())
			checkError(t, res, c.status, c.code)
			if v := res.header.Get("RateLimit-Remaining"); v != "" {
				t.Errorf("refused before the rate limit, yet RateLimit-Remaining = %q", v)
			}
		})
	}
	t.Run("OKTheBucketIsStillFull", func(t *testing.T) {
		e.t = t
		res := e.do(e.apiRequest("GET", result, ""))
		checkError(t, res, 404, costexplorer.ErrNotFound)
		if v := res.header.Get("RateLimit-Remaining"); v != "0" {
			t.Errorf("RateLimit-Remaining = %q, want 0 after the first counted request", v)
		}
	})
	t.Run("ErrBodyAfterRateLimit", func(t *testing.T) {
		e.t = t
		req := e.apiRequest("POST", usagePath(e.Org), `{"startDate":"2025-01-01","endDate":"2025-02-01"}`)
		req.Header.Set("Content-Type", "text/plain")
		checkError(t, e.do(req), 429, costexplorer.ErrRateLimited)
	})
}
