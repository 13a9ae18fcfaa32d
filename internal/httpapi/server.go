package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Authenticator authenticates API requests and serves the OAuth endpoints.
// *auth.Authenticator satisfies it.
type Authenticator interface {
	// Authenticate returns the caller of r, or the error to answer with
	// (having set its challenge or Retry-After headers on w).
	Authenticate(w http.ResponseWriter, r *http.Request) (*costexplorer.Principal, error)
	// TokenHandler serves POST /api/oauth/token.
	TokenHandler() http.Handler
	// RevokeHandler serves POST /api/oauth/revoke.
	RevokeHandler() http.Handler
}

// OrganizationReader is what the organization endpoints read.
// costexplorer.OrganizationStore (and so every costexplorer.Store)
// satisfies it.
type OrganizationReader interface {
	// Organization returns the organization with id, or ErrNotFound.
	Organization(ctx context.Context, id string) (*costexplorer.Organization, error)
	// Organizations lists the organizations matching f and their total count.
	Organizations(ctx context.Context, f costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error)
}

// Shared holds what the API and the web UI (web.Config embeds it) take
// alike, so that both answer from the same query services, on the same
// clock and over the same query window. Zero values of Now, Logger and
// HistoryMonths take the defaults given on each field (WithDefaults).
type Shared struct {
	// Usage creates and returns cost-explorer query processes (internal/jobs).
	Usage costexplorer.UsageService
	// UsageQueries answers the project's own usage:query, and in the web UI
	// the "By day & tag" page and the daily totals the chart's forecast is
	// made from (internal/engine).
	UsageQueries costexplorer.UsageEvaluator
	// Now is the clock of the query window, of the API's readiness and of
	// the web UI's month range and session expiry (time.Now).
	Now func() time.Time
	// Logger receives the details of unexpected errors, and the API's
	// request logs (slog.Default()).
	Logger *slog.Logger
	// HistoryMonths is how many months back a query may start
	// (costexplorer.DefaultHistoryMonths).
	HistoryMonths int
}

// WithDefaults returns s with its zero Now, Logger and HistoryMonths
// replaced by their defaults.
func (s Shared) WithDefaults() Shared {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.HistoryMonths <= 0 {
		s.HistoryMonths = costexplorer.DefaultHistoryMonths
	}
	return s
}

// Config holds what a Server needs. Store, Invoices, Usage, UsageQueries and Auth are
// required; zero values of the others take the defaults given on each field.
type Config struct {
	// Shared holds the query services, the clock, the logger and the query
	// window, which the web UI takes too.
	Shared
	// Store answers the organization endpoints.
	Store OrganizationReader
	// Invoices answers the invoice operations (costexplorer.Store does).
	Invoices InvoiceReader
	// Auth guards every /api/atlas/v2 endpoint and serves the OAuth endpoints.
	Auth Authenticator
	// RateLimit is the per-organization bucket of the Invoices endpoint set.
	RateLimit RateLimit
	// MaxBodyBytes bounds a request body; larger bodies get 413 (1 MiB).
	MaxBodyBytes int64
	// MaxUsageRows bounds the answer of a usage:query, all pages together
	// (costexplorer.DefaultMaxUsageRows): a larger one is 400, asking for
	// a narrower query rather than paging through millions of rows.
	MaxUsageRows int
	// Web, if set, serves every path outside /api/ (the web UI).
	Web http.Handler
	// Ready, if set, is the /readyz check: an error answers 503.
	Ready func(ctx context.Context) error
	// Metrics, if set, serves GET /metrics (unauthenticated, like the
	// health checks: see the package documentation).
	Metrics http.Handler
	// Observer, if set, is told about every request (internal/metrics).
	Observer Observer
	// Reports creates and reads invoice reports (internal/jobs.Reports).
	Reports ReportService
	// ReportKey signs and verifies the reports' download URLs: a secret
	// every replica shares (the store's), so that any replica serves a URL
	// another signed.
	ReportKey []byte
}

// Observer is told what the server does, for metrics. Its methods are
// called on the request's goroutine and must be cheap.
type Observer interface {
	// ObserveRequest is called once per request, after the answer, with the
	// route pattern that served it (never the raw path), the final status
	// (an interim 102 is not one) and how long it took.
	ObserveRequest(route string, status int, d time.Duration)
	// RateLimited is called for each request the per-organization rate
	// limit of the Invoices endpoint set refuses.
	RateLimited()
}

// DefaultMaxBodyBytes is the default bound of a request body.
const DefaultMaxBodyBytes = 1 << 20

// Server serves the Atlas-compatible API.
type Server struct {
	cfg      Config
	limiters map[endpointSet]*limiter // a set without a limiter is not limited
	build    string
	handler  http.Handler
}

// New returns a Server. It panics if Store, Invoices, Usage, UsageQueries,
// Auth, Reports or ReportKey is
// missing: a server without authentication must never start.
func New(cfg Config) *Server {
	if cfg.Store == nil || cfg.Invoices == nil || cfg.Usage == nil || cfg.UsageQueries == nil || cfg.Auth == nil || cfg.Reports == nil || len(cfg.ReportKey) == 0 {
		panic("httpapi: Config.Store, Config.Invoices, Config.Usage, Config.UsageQueries, Config.Auth, Config.Reports and Config.ReportKey are required")
	}
	cfg.Shared = cfg.Shared.WithDefaults()
	cfg.Logger = slog.New(LogHandler(cfg.Logger.Handler()))
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxUsageRows <= 0 {
		cfg.MaxUsageRows = costexplorer.DefaultMaxUsageRows
	}
	s := &Server{cfg: cfg, build: buildRevision(), limiters: map[endpointSet]*limiter{}}
	if cfg.RateLimit.Capacity >= 0 {
		s.limiters[invoicesSet] = newLimiter(cfg.RateLimit, cfg.Now)
	}
	s.handler = s.routes()
	return s
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// routes builds the handler of the route table (operations). Each path
// also answers its other methods 405 with an Atlas body, and everything
// under /api/ that matches nothing is 404 RESOURCE_NOT_FOUND.
func (s *Server) routes() http.Handler {
	ops := s.operations()
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	handlers := map[string]http.Handler{} // "METHOD path" → handler
	var paths []string
	for _, o := range ops {
		if err := o.check(); err != nil {
			panic("httpapi: route table: " + err.Error())
		}
		h := o.handler
		if o.api != nil {
			h = s.atlas(o)
		}
		handlers[o.method+" "+o.path] = h
		if allowed[o.path] == nil {
			paths = append(paths, o.path)
		}
		allowed[o.path] = append(allowed[o.path], o.method)
	}
	// The 405s are registered per method rather than as one method-less
	// pattern per path: a method-less …/invoices/pending would conflict with
	// GET …/invoices/{invoiceId} in the ServeMux (neither is more specific).
	// A method outside the standard ones gets the 404 below.
	for _, p := range paths {
		methods := allowed[p]
		h := methodNotAllowed(methods)
		for _, m := range standardMethods {
			if !slices.Contains(methods, m) && !(m == http.MethodHead && slices.Contains(methods, http.MethodGet)) {
				handlers[m+" "+p] = h
			}
		}
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, errNotFound("Cannot find resource "+r.URL.Path+"."))
	}
	for pattern, h := range customMethodRoutes(handlers, http.HandlerFunc(notFound)) {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("/api/", notFound)
	if s.cfg.Web != nil {
		mux.Handle("/", s.cfg.Web)
	} else {
		mux.HandleFunc("/", notFound)
	}
	return s.recoverAndLog(canonicalAPIPaths(mux))
}

// customMethodRoutes returns the ServeMux patterns of handlers (keyed
// "METHOD path"). A path ending in Atlas's custom method on a path
// parameter, "…/{invoiceId}:generateAndDownloadReport", cannot be a
// ServeMux pattern (a wildcard is a whole segment): it is served by the
// pattern of its parameter, "…/{invoiceId}", whose handler looks at the
// segment's suffix, strips it from the parameter and sets the request's
// Pattern to the Atlas path (for the log and the metrics); a segment
// without it goes to the handler the pattern has otherwise, or notFound.
func customMethodRoutes(handlers map[string]http.Handler, notFound http.Handler) map[string]http.Handler {
	type custom struct {
		method, param, suffix, pattern string
		h                              http.Handler
	}
	out := map[string]http.Handler{}
	customs := map[string][]custom{}
	for pattern, h := range handlers {
		i := strings.Index(pattern, "}:")
		if i < 0 || strings.Contains(pattern[i:], "/") {
			out[pattern] = h
			continue
		}
		method, path, _ := strings.Cut(pattern[:i+1], " ")
		base := method + " " + path
		if handlers[base] == nil && method == http.MethodHead && handlers[http.MethodGet+" "+path] != nil {
			// The ServeMux gives a HEAD to the GET's pattern (registering
			// HEAD beside it would conflict with more specific GETs).
			base = http.MethodGet + " " + path
		}
		param := path[strings.LastIndex(path, "{")+1 : len(path)-1]
		customs[base] = append(customs[base], custom{method: method, param: param, suffix: pattern[i+1:], pattern: pattern, h: h})
	}
	for base, cs := range customs {
		plain := handlers[base]
		if plain == nil {
			plain = notFound
		}
		out[base] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, c := range cs {
				if v, ok := strings.CutSuffix(r.PathValue(c.param), c.suffix); ok && v != "" && r.Method == c.method {
					r.SetPathValue(c.param, v)
					r.Pattern = c.pattern
					c.h.ServeHTTP(w, r)
					return
				}
			}
			plain.ServeHTTP(w, r)
		})
	}
	return out
}

// canonicalAPIPaths answers a non-canonical path under /api/ (one with an
// empty, "." or ".." segment) 404 RESOURCE_NOT_FOUND. Go's ServeMux would
// redirect it to its clean form, which can be another operation
// ("…/invoices//csv" to "…/invoices/csv"); Atlas answers it as a missing
// resource, and so does this server.
func canonicalAPIPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/api/") && path.Clean(p) != strings.TrimSuffix(p, "/") {
			WriteError(w, r, errNotFound("Cannot find resource "+p+"."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// operations is the one route table: every path the server serves, with
// the steps of each Atlas operation (DESIGN §1.5, §5.2).
func (s *Server) operations() []op {
	const (
		usage    = "/api/atlas/v2/orgs/{orgId}/billing/costExplorer/usage"
		invoices = "/api/atlas/v2/orgs/{orgId}/invoices"
		invoice  = invoices + "/{invoiceId}"
		search   = invoice + "/lineItems:search"
		own      = "/api/costexplorer/v1/orgs/{orgId}"
		reports  = invoice + "/reports"
	)
	// The versions each operation exists at (DESIGN §1.5, §5.2).
	v2023 := []string{v20230101}
	v2024 := []string{v20240805}
	v2025 := []string{v20250312}
	preview := []string{vPreview}
	inv := []pathParam{invoiceParam}
	ops := []op{
		{method: "POST", path: usage, api: s.createQuery, versions: v2023, org: orgBilling, limit: invoicesSet, body: true},
		{method: "GET", path: usage + "/{token}", api: s.getUsage, versions: v2023, csv: true, org: orgBilling, params: []pathParam{tokenParam}, limit: invoicesSet},
		{method: "GET", path: "/api/atlas/v2", api: s.systemStatus, versions: v2023},
		{method: "GET", path: "/api/atlas/v2/orgs", api: s.listOrgs, versions: v2023},
		{method: "GET", path: "/api/atlas/v2/orgs/{orgId}", api: s.getOrg, versions: v2023, org: orgAny},
		{method: "GET", path: invoices, api: s.listInvoices, versions: v2023, org: orgBilling, limit: invoicesSet},
		{method: "GET", path: invoices + "/pending", api: s.listPendingInvoices, versions: v2023, org: orgBilling, limit: invoicesSet},
		{method: "GET", path: invoice, api: s.getInvoice, versions: v2023, csv: true, org: orgBilling, params: inv, limit: invoicesSet},
		{method: "GET", path: invoice + "/csv", api: s.downloadInvoiceCsv, versions: v2023, csv: true, csvOnly: true, org: orgBilling, params: inv, limit: invoicesSet},
		// GET with a body is how the specification and the SDK send it;
		// POST is accepted for clients that cannot.
		{method: "GET", path: search, api: s.queryLineItemsFromSingleInvoice, versions: v2024, org: orgBilling, params: inv, limit: invoicesSet, body: true},
		{method: "POST", path: search, api: s.queryLineItemsFromSingleInvoice, versions: v2024, org: orgBilling, params: inv, limit: invoicesSet, body: true},
		// The SKU catalogue names no organization: its bucket is the caller's.
		{method: "GET", path: "/api/atlas/v2/skus", api: s.listSkus, versions: v2025, limit: invoicesSet},
		{method: "GET", path: "/api/atlas/v2/skus/{skuId}", api: s.getSku, versions: v2025, params: []pathParam{skuParam}, limit: invoicesSet},
		// The project's own API (own.go, DESIGN §5.5).
		{method: "POST", path: own + "/usage:query", api: s.usageQuery, own: true, csv: true, org: orgBilling, limit: invoicesSet, body: true},
		{method: "POST", path: own + "/usage:forecast", api: s.usageForecast, own: true, org: orgBilling, limit: invoicesSet, body: true},
		// Invoice reports (DESIGN §5.4); the download URL they hand out is
		// signed, not authenticated.
		{method: "POST", path: reports, api: s.createOrgInvoiceReport, versions: v2025, org: orgBilling, params: inv, limit: invoicesSet, body: true},
		{method: "GET", path: reports, api: s.listOrgInvoiceReports, versions: v2025, org: orgBilling, params: inv, limit: invoicesSet},
		{method: "GET", path: reports + "/{reportId}", api: s.getOrgInvoiceReport, versions: v2025, org: orgBilling,
			params: []pathParam{invoiceParam, reportParam}, limit: invoicesSet},
		{method: "GET", path: reportDownloadPath, handler: http.HandlerFunc(s.downloadInvoiceReport)},
		// The preview that answers a report's file at once (reports_generate.go).
		{method: "POST", path: invoice + ":generateAndDownloadReport", api: s.generateOrgInvoiceAndDownloadReport, versions: preview, gzip: true,
			org: orgBilling, params: inv, limit: invoicesSet, body: true},
		{method: "GET", path: "/api/atlas/v2/orgs/{orgId}/associatedInvoices", api: s.getOrgAssociatedInvoices, versions: []string{v20250312, vPreview},
			sunset: previewSunset, org: orgBilling, limit: invoicesSet},
		{method: "POST", path: "/api/oauth/token", handler: s.cfg.Auth.TokenHandler()},
		{method: "POST", path: "/api/oauth/revoke", handler: s.cfg.Auth.RevokeHandler()},
		{method: "GET", path: "/healthz", handler: http.HandlerFunc(s.healthz)},
		{method: "GET", path: "/readyz", handler: http.HandlerFunc(s.readyz)},
		{method: "GET", path: "/openapi.yaml", handler: http.HandlerFunc(serveOpenAPI)},
	}
	if s.cfg.Metrics != nil {
		ops = append(ops, op{method: "GET", path: "/metrics", handler: s.cfg.Metrics})
	}
	return ops
}

// standardMethods are the methods a path that does not serve them answers
// 405 to.
var standardMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodTrace,
}

// methodNotAllowed answers 405 with an Atlas body and the Allow header.
func methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	if strings.Contains(allow, "GET") {
		allow += ", HEAD"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		WriteError(w, r, &costexplorer.Error{
			Code:   costexplorer.ErrMethodNotAllowed,
			Detail: "Method " + r.Method + " is not allowed on " + r.URL.Path + "; use " + allow + ".",
			Params: []any{r.Method},
		})
	})
}

// buildRevision returns the VCS revision the binary was built from, or 40
// zeros when the build carries none (tests, -buildvcs=false).
func buildRevision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) == 40 {
				return s.Value
			}
		}
	}
	return strings.Repeat("0", 40)
}
