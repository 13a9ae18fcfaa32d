package httpapi

import (
	"net/http"
	"testing"
)

// TestRouteCheck checks that the route table refuses an entry whose steps
// cannot be right, so that a forgotten step fails when the server is built
// rather than silently on the wire.
func TestRouteCheck(t *testing.T) {
	api := func(*call) (reply, error) { return nil, nil }
	v1 := []string{v20230101}
	const usage = "/api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage"
	for _, tc := range []struct {
		name string
		op   op
		ok   bool
	}{
		{"OK", op{method: "GET", path: usage + "/{token}", api: api, versions: v1, org: orgBilling, params: []pathParam{tokenParam}, limit: invoicesSet}, true},
		{"OKNoOrganization", op{method: "GET", path: "/api/atlas/v2/orgs", api: api, versions: v1}, true},
		{"OKPlain", op{method: "GET", path: "/healthz", handler: http.NotFoundHandler()}, true},
		{"OKSeveralVersions", op{method: "GET", path: "/api/atlas/v2/skus", api: api, versions: []string{v20230101, v20250312}}, true},
		{"ErrOrgPathWithoutScope", op{method: "GET", path: "/api/atlas/v2/orgs/{orgId}", api: api, versions: v1}, false},
		{"ErrScopeWithoutOrgPath", op{method: "GET", path: "/api/atlas/v2/orgs", api: api, versions: v1, org: orgAny}, false},
		{"OKRateLimitOfTheCaller", op{method: "GET", path: "/api/atlas/v2/skus", api: api, versions: v1, limit: invoicesSet}, true},
		{"OKCSVOnly", op{method: "GET", path: "/api/atlas/v2/orgs/{orgId}/invoices/{invoiceId}/csv", api: api, versions: v1, csv: true, csvOnly: true, org: orgBilling, params: []pathParam{invoiceParam}, limit: invoicesSet}, true},
		{"ErrCSVOnlyWithoutCSV", op{method: "GET", path: "/api/atlas/v2/orgs/{orgId}/invoices/{invoiceId}/csv", api: api, versions: v1, csvOnly: true, org: orgBilling, params: []pathParam{invoiceParam}}, false},
		{"ErrNoVersions", op{method: "GET", path: "/api/atlas/v2", api: api}, false},
		{"ErrVersionsNotOldestFirst", op{method: "GET", path: "/api/atlas/v2", api: api, versions: []string{v20250312, v20230101}}, false},
		{"ErrUncheckedPathParameter", op{method: "GET", path: usage + "/{token}", api: api, versions: v1, org: orgBilling}, false},
		{"ErrPlainWithSteps", op{method: "GET", path: "/healthz", handler: http.NotFoundHandler(), versions: v1}, false},
		{"ErrBoth", op{method: "GET", path: "/api/atlas/v2", api: api, versions: v1, handler: http.NotFoundHandler()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op.check(); (err == nil) != tc.ok {
				t.Errorf("check() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
