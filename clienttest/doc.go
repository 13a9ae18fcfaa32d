// Package clienttest drives a real costexplorer server with the official
// MongoDB Atlas Go SDK (go.mongodb.org/atlas-sdk), the client most Go users
// will point at it.
//
// It is a separate Go module, like bench/, so that the main module never
// depends on the SDK. The tests build the costexplorer binary from the parent
// module, start `costexplorer demo` on loopback with --min-processing (so
// every query passes through "processing"), read the demo's base URL from its
// banner and its credentials from demo-credentials.json, and call every
// operation the server serves with:
//
//   - two pinned SDK versions: v20250312001.1.0, the SDK of the API version
//     this project implements, and v20250312020.0.0, the newest the Go module
//     proxy served when this module was written (the proxy serves pinned
//     versions only; v20250312012, 013, 014, 016, 018 and 020 answered,
//     015, 017, 019, 021 and 022 did not);
//   - both authentication methods the SDK offers: admin.UseDigestAuth (an API
//     key) and admin.UseOAuthAuth (a service account), each after
//     admin.UseBaseURL, which the OAuth option reads to find /api/oauth/token.
//
// Every value the SDK decodes is marshalled back to JSON and compared with
// the body a raw request (the project's own client package, Digest or
// Bearer) got for the same call, so a field the SDK drops, a value it cannot
// decode or a number it rounds fails the test. Errors are compared the same
// way, through admin.AsError and admin.IsErrorCode.
//
// Run it with -count=1 (as scripts/test.sh does): the go test cache does
// not see the parent module's sources, which TestMain builds into the
// server.
//
// Adding operations: each operation is a method of sdkClient with one case
// per SDK version, returning a call that checkOK or checkError compares
// with the raw answer (see orgs_test.go, usage_test.go). The invoice
// operations will be one more file, invoices_test.go, in the same shape.
// Their SDK names (InvoicesApi) differ by version:
//
//	v20250312001                     v20250312020
//	ListInvoices                     ListInvoices
//	GetInvoice                       GetInvoice
//	DownloadInvoiceCsv               GetInvoiceCsv
//	ListPendingInvoices              ListInvoicePending
//	QueryLineItemsFromSingleInvoice  SearchInvoiceLineItems (GET with a body, 2024-08-05)
//	-                                ListSkus, GetSku (/api/atlas/v2/skus, 2025-03-12)
//
// Their models hold dates as time.Time (RFC 3339 date-times on the wire) and
// amounts as int64 cents; sameJSON takes two renderings of one instant as
// equal.
package clienttest
