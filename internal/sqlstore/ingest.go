package sqlstore

import (
	"time"

	"context"
	"fmt"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// Bulk is the part of an ingest that each dialect does its own way, inside
// the ingest's transaction: creating SKUs and moving line items in bulk
// (SQLite with prepared multi-row inserts, PostgreSQL with COPY).
type Bulk interface {
	// ResolveSKUs creates the SKUs among keys not stored yet and puts the
	// surrogate keys of all of keys into into.
	ResolveSKUs(ctx context.Context, keys []SKUKey, into map[SKUKey]int64) error
	// InsertItems inserts unique (distinct ids in key order, as
	// [UniqueItems] returns them), skipping ids stored already, and returns
	// the rows it inserted (see [IndexItems] and [Returned]).
	InsertItems(ctx context.Context, unique []ItemRow) ([]ItemRow, error)
	// Exec runs a statement that the ingest runs again and again with other
	// arguments (a chunk of a multi-row upsert). SQLite prepares it once per
	// transaction: parsing a statement of a thousand parameters costs as much
	// as running it.
	Exec(ctx context.Context, query string, args ...any) error
	// Close releases what the bulk path holds (prepared statements).
	Close()
}

// IngestOptions is what a dialect gives [Store.Ingest].
type IngestOptions struct {
	// Cache holds the keys of committed dimension rows, shared by the
	// ingests of a process; nil: every ingest reads them.
	Cache *KeyCache
	// Begin runs first in the ingest's transaction, after the data lock,
	// and returns the bulk path over q.
	Begin func(ctx context.Context, q Querier) (Bulk, error)
	// WriteTx, when set, runs the ingest's write transaction instead of
	// the runner's WriteTx, with the same contract: fn's statements in one
	// transaction, committed if fn returns nil (SQLite runs an ingest on a
	// connection of its own, see internal/sqlite's ingest.go).
	WriteTx func(ctx context.Context, fn func(Querier) error) error
	// Arrays is set when the dialect binds a slice to one array parameter
	// and has unnest (PostgreSQL): lookups by many ids and the rollup upsert
	// are then one statement each, instead of one per chunk of placeholders
	// (a round trip each).
	Arrays bool
}

// Ingest stores a batch in one transaction (see [costexplorer.UsageStore]).
// Dimensions are created or renamed; a project cannot move to another
// organization, nor a cluster to another project. Items are validated and
// must reference organizations, projects and clusters that exist in the
// store or the batch, consistently (the project of the item's organization,
// the cluster of the item's project); otherwise the error is ErrValidation
// and nothing changes. Items already stored (or repeated in the batch) are
// skipped. Each item joins the invoice of its organization and month,
// created by its first item (see resolveInvoices); the invoices' amounts
// move by the inserted items in the same transaction, and the batch's
// invoice metadata and sync marks are recorded. The invoices the batch
// lists in ReplaceInvoices are restated (see ingest_restate.go). The data
// version changes when items were inserted or removed, a dimension was
// created, renamed or relinked (names appear in query results) or an invoice
// created or changed, and only then (not for sync marks alone).
func (s *Store) Ingest(ctx context.Context, b *costexplorer.UsageBatch, opts IngestOptions) (costexplorer.IngestResult, error) {
	if err := b.Validate(); err != nil {
		return costexplorer.IngestResult{}, err
	}
	var (
		res costexplorer.IngestResult
		t   *ingestTx
	)
	err := opts.writeTx(s)(ctx, func(q Querier) error {
		var err error
		if t, err = s.beginTx(ctx, q, &opts); err != nil {
			return err
		}
		defer t.bulk.Close()
		if err := t.add(b); err != nil {
			return err
		}
		res, err = t.commit()
		return err
	})
	if err != nil {
		return costexplorer.IngestResult{}, err
	}
	if opts.Cache != nil {
		opts.Cache.Merge(&t.Keys)
	}
	return res, nil
}

// writeTx returns the transaction an ingest runs in: the options' WriteTx,
// else the runner's.
func (o *IngestOptions) writeTx(s *Store) func(ctx context.Context, fn func(Querier) error) error {
	if o.WriteTx != nil {
		return o.WriteTx
	}
	return s.r.WriteTx
}

// ingestTx is one ingest's transaction. Its resolver's keys join the shared
// cache only after the commit: a key cached before could belong to a row
// rolled back.
type ingestTx struct {
	s    *Store
	ctx  context.Context
	q    Querier
	bulk Bulk
	opts *IngestOptions
	*Resolver

	changed bool // a dimension was created, renamed or relinked
	restate restatement

	// What the chunks added so far have changed (see ingest_session.go).
	inserted, duplicates int
	delta                RollupDelta
	totals               Totals
	// updated holds the Updated stamps the ingest's invoice metadata
	// sets, by invoice key, written once the amounts have moved.
	updated map[int64]time.Time
}

// Load reads the keys of the stored dimensions among the ids given (see
// [Finder]).
func (t *ingestTx) Load(orgs, projects, clusters []string, keys *Keys) error {
	if err := t.selectIn("SELECT ext_id, id FROM organizations WHERE ext_id", orgs, orgKeys(keys)); err != nil {
		return err
	}
	if err := t.selectIn("SELECT ext_id, id, org_id FROM projects WHERE ext_id", projects, projectKeys(keys)); err != nil {
		return err
	}
	return t.selectIn("SELECT ext_id, id, project_id FROM clusters WHERE ext_id", clusters, clusterKeys(keys))
}

// ResolveSKUs goes to the dialect's bulk path.
func (t *ingestTx) ResolveSKUs(keys []SKUKey, into map[SKUKey]int64) error {
	return t.bulk.ResolveSKUs(t.ctx, keys, into)
}

// chunk is how many rows one multi-row statement of the ingest carries: few
// statements per batch, and at 10 parameters a row far below both dialects.
// limits (32,766 in SQLite, 65,535 in PostgreSQL).
const chunk = 256

// placeholders returns n placeholders: "?, ?, ?".
func placeholders(n int) string { return "?" + strings.Repeat(", ?", n-1) }

// values returns n rows of cols placeholders: "(?, ?), (?, ?)".
func values(n, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return row + strings.Repeat(", "+row, n-1)
}

// arrayChunk is how many rows one statement over arrays carries (where the
// dialect binds arrays): few statements, and arrays of bounded size however
// many rows an ingest moves (a file of 10 M items moves about a million
// item counts at its commit; in one statement, their arrays and encodings
// took about 90 MB).
var arrayChunk = 1 << 16 // a variable for tests

// eachChunk calls fn with the bounds of each chunk of [0, n).
func eachChunk(n int, fn func(start, end int) error) error {
	return eachChunkOf(chunk, n, fn)
}

// eachChunkOf calls fn with the bounds of each size-row chunk of [0, n).
func eachChunkOf(size, n int, fn func(start, end int) error) error {
	for start := 0; start < n; start += size {
		if err := fn(start, min(start+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// orgKeys, projectKeys and clusterKeys return scanners of rows of (ext_id,
// id) or (ext_id, id, parent id) into keys.
func orgKeys(keys *Keys) func(Row) error {
	return scanKey(false, func(ext string, id, _ int64) { keys.PutOrg(ext, id) })
}

func projectKeys(keys *Keys) func(Row) error {
	return scanKey(true, func(ext string, id, org int64) { keys.PutProject(ext, ProjectRef{id, org}) })
}

func clusterKeys(keys *Keys) func(Row) error {
	return scanKey(true, func(ext string, id, project int64) { keys.PutCluster(ext, ClusterRef{id, project}) })
}

func scanKey(parent bool, put func(ext string, id, parent int64)) func(Row) error {
	return func(r Row) error {
		var ext string
		var id, p int64
		dest := []any{&ext, &id, &p}
		if !parent {
			dest = dest[:2]
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		put(ext, id, p)
		return nil
	}
}

// selectIn runs query, which ends in "WHERE ext_id", for ids (in chunks
// unless the dialect binds arrays), and calls scan for each row.
func (t *ingestTx) selectIn(query string, ids []string, scan func(Row) error) error {
	if len(ids) == 0 {
		return nil
	}
	if t.opts.Arrays {
		return Each(t.ctx, t.q, query+" = ANY(?)", scan, ids)
	}
	return eachChunk(len(ids), func(start, end int) error {
		args := make([]any, 0, end-start)
		for _, id := range ids[start:end] {
			args = append(args, id)
		}
		return Each(t.ctx, t.q, query+" IN ("+placeholders(end-start)+")", scan, args...)
	})
}

// rollupUpsert returns the statement that adds the rows of source to the
// monthly rollup.
func rollupUpsert(source string) string {
	return "INSERT INTO rollup (month, org_id, project_id, cluster_id, service, cents) " + source +
		" ON CONFLICT (month, org_id, project_id, cluster_id, service) DO UPDATE SET cents = rollup.cents + excluded.cents"
}

// addRollup adds the cells' amounts to the monthly rollup, in key order.
func (t *ingestTx) addRollup(cells []Cell) error {
	// Surrogate keys are INTEGER columns where arrays are bound.
	err := t.upsert(rollupUpsert, []string{"int", "int", "int", "int", "int", "bigint"}, len(cells), func(i int, row []any) {
		c := &cells[i]
		row[0], row[1], row[2], row[3], row[4], row[5] = int64(c.Month), c.Org, c.Project, c.Cluster, c.Service, int64(c.Amount)
	})
	if err != nil {
		return fmt.Errorf("update rollup: %w", err)
	}
	return nil
}

// pruneRollup deletes, among cells (which lost items), those left at zero
// without items: a rollup cell exists when items do, as a fresh ingest of
// the same items would leave it (a cell of zero-amount items stays).
func (t *ingestTx) pruneRollup(cells []CellKey) error {
	const empty = `rollup.cents = 0 AND NOT EXISTS (SELECT 1 FROM line_items li JOIN skus s ON s.id = li.sku_id
		WHERE li.org_id = rollup.org_id AND li.invoice_id = (SELECT id FROM invoices WHERE org_id = rollup.org_id AND month = rollup.month)
		AND li.project_id = rollup.project_id AND li.cluster_id = rollup.cluster_id AND s.service = rollup.service)`
	err := t.prune("rollup", []string{"month", "org_id", "project_id", "cluster_id", "service"}, empty, len(cells), func(i int, k []int64) {
		c := &cells[i]
		k[0], k[1], k[2], k[3], k[4] = int64(c.Month), c.Org, c.Project, c.Cluster, c.Service
	})
	if err != nil {
		return fmt.Errorf("prune rollup: %w", err)
	}
	return nil
}

// prune deletes, among the rows of table keyed (cols) by the n keys key
// fills, those that cond (written with the table's name) says are empty:
// one statement over unnest of one array a key column where the dialect
// binds arrays, else one statement a key. The rollup and the item counts
// use it for the rows a restatement left without items.
func (t *ingestTx) prune(table string, cols []string, cond string, n int, key func(i int, k []int64)) error {
	if n == 0 {
		return nil
	}
	k := make([]int64, len(cols))
	match := make([]string, len(cols))
	if t.opts.Arrays {
		arrays := make([]any, len(cols))
		casts, names := make([]string, len(cols)), make([]string, len(cols))
		for c, col := range cols {
			casts[c], names[c] = "?::bigint[]", fmt.Sprintf("k%d", c)
			match[c] = table + "." + col + " = k." + names[c]
		}
		statement := "DELETE FROM " + table + " USING unnest(" + strings.Join(casts, ", ") + ") AS k(" + strings.Join(names, ", ") +
			") WHERE " + strings.Join(match, " AND ") + " AND " + cond
		return eachChunkOf(arrayChunk, n, func(start, end int) error {
			for c := range arrays {
				arrays[c] = make([]int64, end-start)
			}
			for i := start; i < end; i++ {
				key(i, k)
				for c, v := range k {
					arrays[c].([]int64)[i-start] = v
				}
			}
			return t.bulk.Exec(t.ctx, statement, arrays...)
		})
	}
	for c, col := range cols {
		match[c] = table + "." + col + " = ?"
	}
	statement := "DELETE FROM " + table + " WHERE " + strings.Join(match, " AND ") + " AND " + cond
	args := make([]any, len(cols))
	for i := range n {
		key(i, k)
		for c, v := range k {
			args[c] = v
		}
		if err := t.bulk.Exec(t.ctx, statement, args...); err != nil {
			return err
		}
	}
	return nil
}

// countsUpsert returns the statement that adds the rows of source to
// invoice_item_counts.
func countsUpsert(source string) string {
	return "INSERT INTO invoice_item_counts (invoice_id, project_id, cluster_id, sku_id, items, nonzero_items, cents) " + source +
		` ON CONFLICT (invoice_id, project_id, cluster_id, sku_id) DO UPDATE SET items = invoice_item_counts.items + excluded.items,
		nonzero_items = invoice_item_counts.nonzero_items + excluded.nonzero_items, cents = invoice_item_counts.cents + excluded.cents`
}

// addCounts adds the changes of counts to invoice_item_counts, in key order.
func (t *ingestTx) addCounts(counts []Count) error {
	err := t.upsert(countsUpsert, []string{"bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint"}, len(counts), func(i int, row []any) {
		c := &counts[i]
		row[0], row[1], row[2], row[3], row[4], row[5], row[6] = c.Invoice, c.Project, c.Cluster, c.SKU, c.Items, c.NonZero, int64(c.Amount)
	})
	if err != nil {
		return fmt.Errorf("update invoice item counts: %w", err)
	}
	// A row left without items (a restatement removed them all) goes, as
	// it would not exist after a fresh ingest of the same items.
	var gone []CountKey
	for i := range counts {
		if counts[i].Items < 0 {
			gone = append(gone, counts[i].CountKey)
		}
	}
	err = t.prune("invoice_item_counts", []string{"invoice_id", "project_id", "cluster_id", "sku_id"}, "invoice_item_counts.items = 0",
		len(gone), func(i int, k []int64) {
			k[0], k[1], k[2], k[3] = gone[i].Invoice, gone[i].Project, gone[i].Cluster, gone[i].SKU
		})
	if err != nil {
		return fmt.Errorf("prune invoice item counts: %w", err)
	}
	return nil
}

// upsert runs statement(source) over n rows of len(types) columns, which
// fill sets (int64 for "int" and "bigint", float64 for "float8", string for
// "text"): one statement over unnest of one array a column where the
// dialect binds arrays, else one multi-row VALUES statement a chunk.
func (t *ingestTx) upsert(statement func(source string) string, types []string, n int, fill func(i int, row []any)) error {
	if n == 0 {
		return nil
	}
	cols := len(types)
	row := make([]any, cols)
	if t.opts.Arrays {
		casts := make([]string, cols)
		for c, typ := range types {
			casts[c] = "?::" + typ + "[]"
		}
		query := statement("SELECT * FROM unnest(" + strings.Join(casts, ", ") + ")")
		arrays := make([]any, cols)
		return eachChunkOf(arrayChunk, n, func(start, end int) error {
			for c, typ := range types {
				switch typ {
				case "int":
					arrays[c] = make([]int32, end-start)
				case "bigint":
					arrays[c] = make([]int64, end-start)
				case "text":
					arrays[c] = make([]string, end-start)
				default:
					arrays[c] = make([]float64, end-start)
				}
			}
			for i := start; i < end; i++ {
				fill(i, row)
				for c, v := range row {
					switch a := arrays[c].(type) {
					case []int32:
						a[i-start] = int32(v.(int64))
					case []int64:
						a[i-start] = v.(int64)
					case []float64:
						a[i-start] = v.(float64)
					case []string:
						a[i-start] = v.(string)
					}
				}
			}
			return t.bulk.Exec(t.ctx, query, arrays...)
		})
	}
	full := statement("VALUES " + values(chunk, cols))
	args := make([]any, 0, chunk*cols)
	return eachChunk(n, func(start, end int) error {
		args = args[:0]
		for i := start; i < end; i++ {
			fill(i, row)
			args = append(args, row...)
		}
		query := full
		if end-start < chunk {
			query = statement("VALUES " + values(end-start, cols))
		}
		return t.bulk.Exec(t.ctx, query, args...)
	})
}

// finish moves the running totals by the items inserted (tot) and removed
// (gone), changes the data version if items were inserted or removed or a
// dimension changed, and returns the version after the ingest.
func (t *ingestTx) finish(tot, gone Totals) (int64, error) {
	var v int64
	var err error
	switch {
	case gone.Items > 0:
		return t.finishRestated(tot, gone)
	case tot.Items > 0:
		err = t.q.QueryRow(t.ctx, `UPDATE usage_state SET
			data_version = data_version + 1,
			line_items   = line_items + ?,
			total_cents  = total_cents + ?,
			first_day    = CASE WHEN first_day IS NULL OR first_day > ? THEN ? ELSE first_day END,
			last_day     = CASE WHEN last_day IS NULL OR last_day < ? THEN ? ELSE last_day END
			WHERE id = 1 RETURNING data_version`,
			int64(tot.Items), int64(tot.Cents), int64(tot.FirstDay), int64(tot.FirstDay), int64(tot.LastDay), int64(tot.LastDay)).Scan(&v)
	case t.changed:
		return BumpDataVersion(t.ctx, t.q)
	default:
		err = t.q.QueryRow(t.ctx, "SELECT data_version FROM usage_state WHERE id = 1").Scan(&v)
	}
	return v, err
}

// finishRestated is finish after removals. The first and last days stay
// unless an item removed was on one of them and none inserted reaches it:
// then they are recomputed from the items (a scan, which a daily
// restatement, adding the newest day, never needs).
func (t *ingestTx) finishRestated(tot, gone Totals) (int64, error) {
	var count int64
	var first, last NullInt64
	if err := t.q.QueryRow(t.ctx, "SELECT line_items, first_day, last_day FROM usage_state WHERE id = 1").Scan(&count, &first, &last); err != nil {
		return 0, err
	}
	lo, hi := costexplorer.Day(first), costexplorer.Day(last)
	stale := (gone.FirstDay == lo && (tot.Items == 0 || tot.FirstDay > lo)) || (gone.LastDay == hi && (tot.Items == 0 || tot.LastDay < hi))
	if tot.Items > 0 {
		lo, hi = min(lo, tot.FirstDay), max(hi, tot.LastDay)
	}
	var firstArg, lastArg any = int64(lo), int64(hi)
	switch {
	case count+int64(tot.Items-gone.Items) == 0:
		firstArg, lastArg = nil, nil
	case stale:
		var f, l NullInt64
		if err := t.q.QueryRow(t.ctx, "SELECT MIN(day), MAX(day) FROM line_items").Scan(&f, &l); err != nil {
			return 0, err
		}
		firstArg, lastArg = int64(f), int64(l)
	}
	var v int64
	err := t.q.QueryRow(t.ctx, `UPDATE usage_state SET data_version = data_version + 1, line_items = line_items + ?, total_cents = total_cents + ?,
		first_day = ?, last_day = ? WHERE id = 1 RETURNING data_version`,
		int64(tot.Items-gone.Items), int64(tot.Cents-gone.Cents), firstArg, lastArg).Scan(&v)
	return v, err
}
