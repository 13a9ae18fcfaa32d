// Package client is a Go client for the cost-explorer and Invoices
// operations of the MongoDB Atlas Administration API v2, as served by
// costexplorer and by any Atlas-compatible base URL (cloud.mongodb.com
// included).
//
// A Client authenticates with an API key (HTTP Digest, RFC 7616, see
// [WithDigest]) or a service account (OAuth 2.0 client credentials with a
// cached, refreshed access token, see [WithServiceAccount]). A query is
// created with [Client.CreateQuery], which returns a token; the result is
// polled with [Client.Usage] (one look) or [Client.WaitForUsage] (until it is
// ready, with backoff, honouring Retry-After and the context). Results come as
// typed rows whose amounts are exact integer cents, or as a CSV stream
// ([Client.UsageCSV], [Client.WaitForUsageCSV]).
//
// Invoices: [Client.Invoices] lists one page with every parameter of
// listInvoices, [Client.AllInvoices] iterates over all pages (iter.Seq2);
// [Client.Invoice] reads one with its line items, [Client.StreamInvoice]
// reads them one at a time in constant memory, [Client.InvoiceCSV] streams
// the CSV to an io.Writer; [Client.PendingInvoices], [Client.SearchLineItems]
// (API version 2024-08-05) and [Client.SKUs] (2025-03-12) complete the set.
// Every …Cents field of the API is decoded as exact integer cents.
//
// Every failure the server reports is an [*APIError], matchable with
// errors.As, carrying the HTTP status, the Atlas errorCode, the detail and the
// parameters. Rate-limited requests (429) are retried a bounded number of
// times after the server's Retry-After ([WithRateLimitRetries]).
//
// While a query is processing, the client asks with envelope=true, so that
// the server answers 200 {"status":102,"content":{}} instead of an interim
// 102 Processing followed by an empty 200: an answer every HTTP stack reads
// the same way.
package client
