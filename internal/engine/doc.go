// Package engine answers cost-explorer queries from an in-memory, columnar,
// dictionary-encoded copy of the monthly rollup (DESIGN §1.3, §1.4, §4).
//
// The database stays the source of truth. The engine reads the rollup once
// into an immutable snapshot: organizations, projects, clusters and services
// become small integers (dictionaries), numbered in result order (by name,
// then id, as [costexplorer.CompareRows] orders rows), and the rollup cells
// become columns sorted by (organization, month, project, cluster, service),
// cut into segments of one organization and one month. A query visits only
// the segments of the organizations in its scope and the months of its
// window, filters each cell with a lookup into a per-query boolean slice over
// dictionary numbers, and aggregates by streaming (equal group keys are
// adjacent in that order) or, for services, into a small dense array. Cells
// of one organization come out already in result order, so the final sort is
// usually skipped. A second, much smaller table holds the per-service sums of
// each segment; queries that neither filter nor group by project or cluster
// (the organization and service views) read it instead. Each segment carries
// its row's invoiceId: the id of the organization's invoice of that month as
// the store has it (an imported Invoice Number stays the invoice's id), read
// with the rollup.
//
// Memory grows with rollup cells (about 18 bytes a cell plus the
// dictionaries), never with line items. Evaluate polls the source's data
// version at most every Options.RefreshInterval and rebuilds the snapshot when
// it changed (an ingest here or on another replica); rebuilds are
// single-flight and swapped in atomically, so concurrent queries always read
// one consistent snapshot.
package engine
