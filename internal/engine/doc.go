// Package engine answers cost-explorer queries from an in-memory, columnar,
// dictionary-encoded copy of the monthly rollup (DESIGN §1.3, §1.4, §4), and
// the project's own usage queries (DESIGN §5.5: daily or monthly periods,
// tags, two group-bys, filter expressions) from a copy of the daily rollup.
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
// usually skipped. Two smaller tables hold the rollup summed over some of
// its dimensions: the per-service sums of each segment, which queries that
// neither filter nor group by project or cluster (the organization and
// service views) read instead, and the per-project sums, which queries that
// neither filter nor group by cluster or service (the project view) read. A
// query with a project filter skips the organizations none of whose
// projects pass it. Each segment carries
// its row's invoiceId: the id of the organization's invoice of that month as
// the store has it (an imported Invoice Number stays the invoice's id), read
// with the rollup.
//
// The daily rollup (one cell an organization, day, project, cluster, SKU and
// tag set, about one a line item, which the store sums from its line items
// as it scans them: Source.ScanDailyRollup) is a snapshot of
// its own, loaded and refreshed apart, so that its much longer build never
// delays a cost-explorer query (daily.go). Its cells are cut into segments of
// one organization and one month, and each segment into series: the days of
// one (project, cluster, service, SKU, tag set). A series holds its
// dimensions, sums and form once (39 bytes); a cell holds its day of the
// month (1 byte), its amount in cents (2 bytes as an int16, or 4 as an
// int32 for a series with an amount beyond 327.67 dollars; the rare amount
// beyond ±21 million dollars in a side map) and its quantity as a float32
// (4 bytes, about 7 significant digits). A series on consecutive days keeps
// no days, and one with the same amount and quantity every day (hourly and
// fixed charges) keeps them once (daily_cells.go). In the demo that is
// about 6.5 bytes a line item (1 M items, 2026-12-07). Tag
// sets are dictionary numbers; a tag group-by or filter resolves every tag
// set once per snapshot and key. Beside the rollup, the snapshot keeps it
// summed into coarser levels (daily_levels.go), amounts only, in the same
// forms: by project and cluster, by service, and by service and the values
// of one tag key, for the keys whose levels stay small. A query reads the
// smallest level that holds what it groups and filters by (a query for
// quantities, the rollup itself). A usage query (usage.go) walks the months
// of its window; in each it visits the segments of the organizations in
// scope, tests the filter and finds the group once per series, adds the
// series' cells in the window to per-(group, day) sums (or, for a monthly
// period over a whole month, the series' sum), then sorts the month's
// groups and lists its rows as 4-byte references to those sums. The
// answer's rows are made only when read (EvaluateUsageRows), so that a
// usage:query page of a large answer costs what the page holds.
//
// Memory grows with rollup cells: about 20 bytes a monthly cell (its
// per-service and per-project sums included) and, in the demo, 7.7 bytes a
// line item for the daily snapshot with its levels (12.6 before the series
// forms), plus the dictionaries.
// Evaluate and EvaluateUsage poll the source's data version at most every
// Options.RefreshInterval and rebuild their snapshot when it changed (an
// ingest here or on another replica); rebuilds are single-flight and swapped
// in atomically, so concurrent queries always read one consistent snapshot. While the daily snapshot is rebuilt,
// the old one serves: memory holds both for the length of the build. A
// server starts the engine with Start: the monthly snapshot is in place
// when it returns, the daily one follows in the background (its build is the
// longer one), and a usage query waits for it only if it comes first.
package engine
