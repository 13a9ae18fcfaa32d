// Package atlassync fills a costexplorer store from an Atlas-compatible
// Invoices API (DESIGN §5.3): real Atlas, or another costexplorer.
//
// A run lists the organizations (every one the credential reaches, or the
// ones asked for), then each organization's invoices with their linked
// invoices. An invoice is brought over when the store has never synced it,
// when its updated stamp moved since (a correction at the source), or when
// it is pending (it grows every day and may restate past days). Each one is
// brought over as a whole, in one transaction of the store: its old line
// items are replaced (UsageBatch.ReplaceInvoices, so the rollup and the
// invoice amounts move by the difference), its metadata recorded, and its
// sync mark written. A crash, a reset connection or a fault of the source
// anywhere in between leaves the store as it was; the next run takes the
// invoice again.
//
// Line items come through the invoice CSV, read by internal/importer as an
// imported file would be: it is the one answer that carries everything an
// invoice shows (descriptions, regions, replica sets, tags, project and
// cluster names). What the CSV lacks comes from elsewhere: statuses,
// payments, refunds and stamps from the JSON of the invoice; cluster ids —
// the CSV names a cluster by project and name — from one cost-explorer query
// per organization, so that the store answers with the source's ids. Line
// items take ids that grow with their row, so a store that orders an
// invoice's items by id keeps the source's order.
//
// A run overlaps what it can (see runUnits and background): the payments
// and cluster ids are read in the background while one goroutine downloads
// an organization's CSVs (reading their projects and clusters on the way)
// and another imports the organization downloaded before, the smallest
// first; an invoice waits only for its own month's payments. The store
// takes one write transaction at a time, so imports go one after the other.
//
// A run is a good API citizen: it pages, honours RateLimit-Remaining and
// 429 Retry-After, retries 5xx answers and network faults with a jittered,
// bounded backoff (the client package does all of that), and works on a
// bounded number of organizations at a time.
package atlassync
