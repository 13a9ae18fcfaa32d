// Package httpapi serves the Atlas-compatible HTTP API: the two cost-explorer
// operations, the invoice operations and the SKU catalogue (invoices.go,
// skus.go; DESIGN §5.2), the organization endpoints, the system status, the OAuth
// endpoints (served by internal/auth), health checks and the project's own
// OpenAPI document (openapi.yaml, embedded and served at /openapi.yaml), and
// the project's own API under /api/costexplorer/v1 (usage:query; own.go),
// which takes the same steps with plain media types instead of Atlas
// versions.
//
// Every route is in one table (routes in server.go). Each Atlas operation
// declares its steps there — the versions it exists at, whether CSV or gzip
// may be asked for, its organization scope, further path parameters, its
// rate-limit set, whether it reads a body — and one wrapper (Server.atlas in
// route.go) runs them in this order; the operation then returns its reply or
// an error, and a request that fails anywhere is answered by the one error
// writer, WriteError, with the single table from Atlas errorCode to HTTP
// status:
//
//  1. authentication (Authenticator.Authenticate): 401, 403, 429, 503;
//  2. version negotiation from Accept against the operation's versions
//     (version.go): 406 INVALID_VERSION_DATE;
//  3. the common query parameters pretty and envelope: 400
//     INVALID_QUERY_PARAMETER for anything but true/false given once;
//  4. the orgId path parameter, 400 INVALID_PATH_PARAMETER (after
//     authentication, so that an anonymous caller learns nothing), and
//     authorization (costexplorer.AuthorizeOrg): 401, the same whether or
//     not the organization exists;
//  5. the other path parameters (a result token, an invoice id, a SKU id):
//     400;
//  6. the per-organization rate limit of the operation's endpoint set (the
//     caller's organization's bucket where the path names none): 429;
//  7. the request media type (415) and body size (413);
//  8. the operation: body and query validation (costexplorer.ParseQueryRequest,
//     ParseInvoiceListQuery, ParseLineItemSearch: 400 with the field or
//     parameter named), the store or service call, and its reply — streamed
//     for invoices and line items.
//
// Operations: every request is logged once, at INFO (DEBUG for successful
// /healthz, /readyz and /metrics), by the outermost middleware, with a
// request id that the answer carries in X-Request-Id (a sane incoming one is
// kept), the method, the route pattern (never the raw path, which carries
// query tokens), the status, duration and body bytes, and, once
// authenticated, the organization and the credential id (an API key's public
// key or a service account's client id) — never a secret, and a query token
// only by its first 12 characters. Lines logged inside a request with its
// context carry the same request_id (LogHandler). Config.Observer is told the
// route, status and duration of each request and each rate-limit refusal;
// Config.Metrics is served at GET /metrics without authentication, like the
// health checks: it carries counts by route pattern and fixed kinds, nothing
// that names an organization, a credential or a token.
//
// Choices where the Atlas specification leaves a gap (the stricter reading
// wins, so that a client that works here also works against Atlas):
//
//   - a result token that is not 64 lower-case hex characters is 400
//     INVALID_PATH_PARAMETER; a well-formed unknown, expired or foreign token
//     is 404 RESOURCE_NOT_FOUND;
//   - bare application/json or */* in Accept does not name a version: 406;
//     with several acceptable values the highest q wins, JSON before CSV at
//     equal q; CSV exists for the cost-explorer result and getInvoice, and
//     downloadInvoiceCsv has nothing else (a JSON Accept is 406 there);
//   - a foreign invoice id, and a linked organization's for a caller who may
//     not see linked invoices (only ORG_OWNER and ORG_BILLING_ADMIN may, as
//     Atlas documents), is the same 404 as an unknown one; a Billing Viewer
//     gets linkedInvoices empty;
//   - the SKU catalogue names no organization: any authenticated caller may
//     read it, and it takes a token of the caller's organization's bucket;
//   - large invoices are streamed: an error after the first bytes cuts the
//     connection (a truncated body) rather than end a complete-looking one;
//   - error answers are never enveloped and always application/json (a
//     Digest client must still see its 401 challenge);
//   - while processing, envelope=true answers the JSON envelope
//     {"status": 102, "content": {}} whatever format was negotiated; a ready
//     CSV result is never enveloped;
//   - the rate-limit buckets live in the process: with several replicas the
//     limit applies per replica;
//   - a ready result is gzip-compressed for a request whose Accept-Encoding
//     prefers gzip (q-values honoured; the identity otherwise, and while
//     its gzip form is being built) and carries Vary: Accept-Encoding;
//     every other answer is the identity (encoding.go);
//   - unknown query parameters are ignored (Atlas does); repeated known ones
//     are 400;
//   - a path under /api/ that names no operation is 404 and a wrong method
//     405, before authentication: the route table is public (it is in
//     /openapi.yaml), so this reveals nothing;
//   - invoice reports (reports.go) are kept per {orgId} they were requested
//     through; formatSpecVersion other than 1.3 and 1.2 is 400
//     VALIDATION_ERROR (the specification types it as a free string); a
//     report's download URL is served here without credentials, signed with
//     the store's shared secret: a signature that does not match is 403
//     INVALID_SIGNATURE (as an object store answers an altered presigned
//     URL), a genuine URL past its expiry or of a report that is gone 404;
//   - the preview version (application/vnd.atlas.preview+json or +gzip) is
//     its own version, never reached from a date: the preview
//     generateOrgInvoiceAndDownloadReport exists at it alone and answers
//     gzip alone (any other Accept is 406), getOrgAssociatedInvoices beside
//     2025-03-12, its preview answers carrying the Sunset header of the
//     specification's x-sunset; a custom method on a path parameter
//     ("{invoiceId}:generateAndDownloadReport") is served through the
//     parameter's pattern (customMethodRoutes in server.go).
package httpapi
