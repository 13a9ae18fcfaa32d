// Package costexplorer is the domain of a self-hosted billing Cost Explorer that
// speaks the MongoDB Atlas Administration API v2 cost-explorer contract.
//
// The root package names the nouns (organizations, projects, clusters, usage
// line items, the monthly rollup, cost-explorer queries and their processes,
// credentials) and the contracts between the layers (the store interfaces and
// the error codes they return). It imports nothing from the project; adapters
// live under internal/ and implement or consume these types:
//
//   - internal/sqlite and internal/postgres implement [Store];
//   - internal/engine evaluates a [Query] over the monthly rollup;
//   - internal/jobs runs query processes under leases;
//   - internal/httpapi serves the Atlas-compatible HTTP API.
//
// Invoices (DESIGN §5.1) are the same line items seen per organization and
// month: [Invoice] keeps the sums of its items and derives its status on a
// date ([Invoice.StatusAt]); [InvoiceLine] is an item with the names the
// invoice formats show. The wire formats of the Invoices API are written
// here, streaming, so that a store scan feeds them row by row:
// [WriteInvoiceJSON], [WriteInvoiceListJSON], [WritePendingInvoicesJSON],
// [WriteLineItemPageJSON] and the invoice CSV ([InvoiceCSVWriter]), which
// internal/importer reads back into the same items. The requests are
// parsed here too ([ParseInvoiceListQuery], [ParseLineItemSearch]).
//
// Money is integer cents ([Cents]) end to end; dollars appear only when a
// value is written to the wire.
package costexplorer
