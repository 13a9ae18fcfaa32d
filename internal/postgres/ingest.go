package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// IngestUsage stores a batch in one transaction (see [sqlstore.Store.Ingest]
// for the rules), under the data lock. SKUs are created in one statement over
// arrays; line items go by COPY, in primary-key order.
func (db *DB) IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error) {
	if err := ctx.Err(); err != nil {
		return costexplorer.IngestResult{}, err
	}
	return db.Ingest(ctx, b, ingestOptions)
}

// BeginUsage opens an ingest session (see [sqlstore.Session]) on a pooled
// connection, which it holds until the session ends.
func (db *DB) BeginUsage(ctx context.Context) (costexplorer.UsageSession, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return db.BeginIngest(ctx, ingestOptions)
}

var ingestOptions = sqlstore.IngestOptions{
	Arrays: true,
	Begin: func(ctx context.Context, q sqlstore.Querier) (sqlstore.Bulk, error) {
		return &bulk{tx: q.(txQuerier).c}, nil
	},
}

// bulk is PostgreSQL's bulk path of an ingest (see [sqlstore.Bulk]).
// staged is set once the staging table has held a chunk of this
// transaction, whose rows must go before the next chunk's.
type bulk struct {
	tx     pgx.Tx
	staged bool
}

func (*bulk) Close() {}

// Exec runs a statement; pgx prepares and caches it by its text.
func (b *bulk) Exec(ctx context.Context, query string, args ...any) error {
	_, err := txQuerier{b.tx}.Exec(ctx, query, args...)
	return err
}

// ResolveSKUs creates the SKUs of keys that do not exist yet and finds the
// surrogate keys of all of them, in two statements over arrays.
func (b *bulk) ResolveSKUs(ctx context.Context, keys []sqlstore.SKUKey, into map[sqlstore.SKUKey]int64) error {
	names, services, units := make([]string, len(keys)), make([]int32, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		names[i], services[i], units[i] = k.Name, int32(k.Service), k.Unit
	}
	if _, err := b.tx.Exec(ctx, `INSERT INTO skus (name, service, unit)
		SELECT * FROM unnest($1::text[], $2::int[], $3::text[]) ON CONFLICT (name, service, unit) DO NOTHING`, names, services, units); err != nil {
		return fmt.Errorf("insert skus: %w", err)
	}
	rows, err := b.tx.Query(ctx, `SELECT s.id, s.name, s.service, s.unit FROM skus s
		JOIN unnest($1::text[], $2::int[], $3::text[]) AS k(name, service, unit)
		  ON s.name = k.name AND s.service = k.service AND s.unit = k.unit`, names, services, units)
	if err != nil {
		return fmt.Errorf("find skus: %w", err)
	}
	var id int64
	var k sqlstore.SKUKey
	if _, err := pgx.ForEachRow(rows, []any{&id, &k.Name, &k.Service, &k.Unit}, func() error {
		into[k] = id
		return nil
	}); err != nil {
		return fmt.Errorf("find skus: %w", err)
	}
	return nil
}

// stagingDDL creates the session's staging table once per connection. Its
// rows vanish at the end of each transaction (also on rollback), so a pooled
// connection never carries one batch's items into the next.
const stagingDDL = `CREATE TEMP TABLE IF NOT EXISTS staging_items (
	org_id INTEGER, invoice_id INTEGER, project_id INTEGER, cluster_id INTEGER, sku_id INTEGER, day INTEGER,
	id BYTEA, quantity DOUBLE PRECISION, unit_price_nanos BIGINT, cents BIGINT,
	bill_day INTEGER, detail_id INTEGER, tag_set_id INTEGER, discount_percent DOUBLE PRECISION, discount_cents BIGINT
) ON COMMIT DELETE ROWS`

var itemColumns = []string{"org_id", "invoice_id", "project_id", "cluster_id", "sku_id", "day", "id", "quantity", "unit_price_nanos", "cents",
	"bill_day", "detail_id", "tag_set_id", "discount_percent", "discount_cents"}

// InsertItems inserts the rows not stored yet and returns them. Re-ingesting
// stays a no-op.
//
// Most batches are new data: their rows, in key order already, go by COPY
// straight into line_items, under a savepoint. When the primary key refuses
// a row, stored already, COPY fails as a whole, the savepoint is rolled back
// and the rows take the slower path (moveStaged): COPY into a staging table,
// then INSERT ... ON CONFLICT DO NOTHING RETURNING id. Rows go in key order,
// so a batch that is all stored (a re-import) fails at its first row.
// Ingests are serialised (the data lock), so nothing else inserts in
// between. The direct COPY writes each row once, where staging wrote it
// twice and sent its id back.
func (b *bulk) InsertItems(ctx context.Context, unique []sqlstore.ItemRow) ([]sqlstore.ItemRow, error) {
	if len(unique) == 0 {
		return nil, nil
	}
	sp, err := b.tx.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	err = copyItems(ctx, sp, "line_items", unique)
	if err == nil {
		if err := sp.Commit(ctx); err != nil {
			return nil, fmt.Errorf("insert line items: %w", err)
		}
		return unique, nil
	}
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "23505" {
		return nil, fmt.Errorf("copy line items: %w", err)
	}
	if err := sp.Rollback(ctx); err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	return b.moveStaged(ctx, unique)
}

// moveStaged streams the rows through COPY into the staging table, moves
// those not stored yet into line_items, and returns them.
func (b *bulk) moveStaged(ctx context.Context, unique []sqlstore.ItemRow) ([]sqlstore.ItemRow, error) {
	index := make(map[costexplorer.LineItemID]int, len(unique))
	sqlstore.IndexItems(unique, index)
	if _, err := b.tx.Exec(ctx, stagingDDL); err != nil {
		return nil, fmt.Errorf("staging table: %w", err)
	}
	if b.staged { // a session's later chunk
		if _, err := b.tx.Exec(ctx, "TRUNCATE staging_items"); err != nil {
			return nil, fmt.Errorf("staging table: %w", err)
		}
	}
	b.staged = true
	if err := copyItems(ctx, b.tx, "staging_items", unique); err != nil {
		return nil, fmt.Errorf("copy line items: %w", err)
	}
	return moveItems(ctx, b.tx, unique, index)
}

// moveItems inserts the staged rows not stored yet into line_items in key
// order and returns them.
func moveItems(ctx context.Context, tx pgx.Tx, unique []sqlstore.ItemRow, index map[costexplorer.LineItemID]int) ([]sqlstore.ItemRow, error) {
	res, err := tx.Query(ctx, `INSERT INTO line_items (org_id, invoice_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents,
			bill_day, detail_id, tag_set_id, discount_percent, discount_cents)
		SELECT org_id, invoice_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents,
			bill_day, detail_id, tag_set_id, discount_percent, discount_cents FROM staging_items
		ORDER BY org_id, invoice_id, project_id, cluster_id, day, id
		ON CONFLICT (org_id, invoice_id, project_id, cluster_id, day, id) DO NOTHING RETURNING id`)
	if err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	inserted := make([]sqlstore.ItemRow, 0, len(unique))
	var raw []byte
	if _, err := pgx.ForEachRow(res, []any{&raw}, func() error {
		r, err := sqlstore.Returned(unique, index, raw)
		if err != nil {
			return err
		}
		inserted = append(inserted, *r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("insert line items: %w", err)
	}
	return inserted, nil
}
