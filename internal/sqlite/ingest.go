package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// insertChunk is how many line items one INSERT statement carries. Fewer,
// larger statements cut the per-statement cost of database/sql and the
// driver, which dominates small inserts; 15 parameters a row stay far below
// SQLite's limit of 32766.
const insertChunk = 256

// itemShape is which columns an INSERT of line items binds: the columns
// after cents that no item of its chunk has a value for are left out (NULL),
// for fewer parameters to bind and convert (each costs about as much as a
// column of the row's insert): plain binds none of them, tagged the
// dictionary keys (details, tag set) that most invoice lines have, full all
// five.
type itemShape int

const (
	plain itemShape = iota
	tagged
	full
	shapes
)

// shapeColumns are the columns each shape binds after cents.
var shapeColumns = [shapes]string{plain: "", tagged: ", detail_id, tag_set_id", full: ", detail_id, tag_set_id, bill_day, discount_percent, discount_cents"}

// shapeOf returns the narrowest shape that holds every row of chunk.
func shapeOf(chunk []sqlstore.ItemRow) itemShape {
	s := plain
	for i := range chunk {
		r := &chunk[i]
		li := r.Item
		if li.BillDate != 0 || li.DiscountPercent != 0 || li.Discount != 0 {
			return full
		}
		if r.Detail != 0 || r.TagSet != 0 {
			s = tagged
		}
	}
	return s
}

// insertItems returns the INSERT of n line items of shape s, skipping ids
// stored.
func insertItems(n int, s itemShape) string {
	return newItems(n, s) + " ON CONFLICT (org_id, invoice_id, project_id, cluster_id, day, id) DO NOTHING RETURNING id"
}

// newItems returns the INSERT of n line items of shape s that fails on an
// id stored.
func newItems(n int, s itemShape) string {
	row := "(?" + strings.Repeat(", ?", 10-1+strings.Count(shapeColumns[s], ",")) + ")"
	return "INSERT INTO line_items (org_id, invoice_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents" +
		shapeColumns[s] + ") VALUES " + row + strings.Repeat(", "+row, n-1)
}

// fullInsert and fullNew are the statements of every chunk but a batch's
// last, of each shape, built once.
var fullInsert, fullNew = fullChunks(insertItems), fullChunks(newItems)

func fullChunks(build func(int, itemShape) string) (q [shapes]string) {
	for s := range shapes {
		q[s] = build(insertChunk, s)
	}
	return q
}

// chunkQuery returns the statement of a chunk of n items of shape s: built
// when the chunk is short, else the one of full built once.
func chunkQuery(n int, s itemShape, build func(int, itemShape) string, full *[shapes]string) string {
	if n < insertChunk {
		return build(n, s)
	}
	return full[s]
}

// keyCache holds the surrogate keys of committed dimension rows (see
// [sqlstore.KeyCache]); every ingest of this process shares it.
type keyCache struct{ keys *sqlstore.KeyCache }

// newKeys returns an empty cache for [keyCache].
func newKeys() *sqlstore.KeyCache { return sqlstore.NewKeyCache() }

// ingestCacheKiB is the page cache of the write connection while and after
// this process ingests: 256 MiB.
const ingestCacheKiB = 262144

var ingestCachePragma = fmt.Sprintf("PRAGMA cache_size = -%d", ingestCacheKiB)

// IngestUsage stores a batch in one transaction (see [sqlstore.Store.Ingest]
// for the rules). SKUs are created and line items inserted with prepared
// statements on the write connection.
func (db *DB) IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error) {
	db.prepareItems(ctx)
	return db.Ingest(ctx, b, db.ingestOptions(ingestCachePragma))
}

// prepareItems prepares the INSERTs of full chunks of new line items on the
// write connection, once a process, before an ingest's transaction takes
// that connection: prepared within the transaction, they were parsed again
// by every ingest (a statement of 3,840 parameters costs milliseconds to
// prepare: 4 % of the CPU time of a demo ingest). An error leaves them to
// be prepared within the transaction, as before.
func (db *DB) prepareItems(ctx context.Context) {
	for _, q := range fullNew {
		if _, err := db.writeStmts.prepare(ctx, db.write, q); err != nil {
			return
		}
	}
}

// sessionCachePragma is the page cache of the write connection during an
// ingest session: 32 MiB. A session is a file imported in chunks in bounded
// memory; a chunk's items go in key order, near the pages the chunk before
// touched, and a page the cache drops is read again from the operating
// system's cache, which is not the process's memory.
var sessionCachePragma = fmt.Sprintf("PRAGMA cache_size = -%d", 32768)

// BeginUsage opens an ingest session (see [sqlstore.Session]) on the write
// connection, which it holds until the session ends.
func (db *DB) BeginUsage(ctx context.Context) (costexplorer.UsageSession, error) {
	db.prepareItems(ctx)
	return db.BeginIngest(ctx, db.ingestOptions(sessionCachePragma))
}

// ingestOptions returns the options of an ingest whose transaction first
// sets the write connection's page cache with cachePragma.
func (db *DB) ingestOptions(cachePragma string) sqlstore.IngestOptions {
	return sqlstore.IngestOptions{
		Cache: db.keys.keys,
		Begin: func(ctx context.Context, q sqlstore.Querier) (sqlstore.Bulk, error) {
			tx := q.(txQuerier).tx
			// The write connection's page cache grows once this process
			// ingests (see Open), and stays so for later batches.
			if _, err := tx.ExecContext(ctx, cachePragma); err != nil {
				return nil, err
			}
			return &bulk{tx: tx, shared: &db.writeStmts}, nil
		},
	}
}

// bulk is SQLite's bulk path of an ingest (see [sqlstore.Bulk]). Its
// statements are prepared once per transaction.
type bulk struct {
	tx     *sql.Tx
	stmts  map[string]*sql.Stmt
	shared *stmtCache // statements prepared on the write connection
}

func (b *bulk) Close() {
	for _, s := range b.stmts {
		s.Close()
	}
}

// stmt returns query prepared in the transaction, or the transaction's
// handle of the statement prepared on the write connection.
func (b *bulk) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := b.stmts[query]; ok {
		return s, nil
	}
	var s *sql.Stmt
	var err error
	if p := b.shared.lookup(query); p != nil {
		s = b.tx.StmtContext(ctx, p) // the connection's own, not prepared again
	} else if s, err = b.tx.PrepareContext(ctx, query); err != nil {
		return nil, err
	}
	if b.stmts == nil {
		b.stmts = map[string]*sql.Stmt{}
	}
	b.stmts[query] = s
	return s, nil
}

// Exec runs query through a statement prepared once per transaction.
func (b *bulk) Exec(ctx context.Context, query string, args ...any) error {
	s, err := b.stmt(ctx, query)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(ctx, args...)
	return err
}

// ResolveSKUs creates and finds the SKUs one at a time: they are few, and
// the key cache knows them after the first batches.
func (b *bulk) ResolveSKUs(ctx context.Context, keys []sqlstore.SKUKey, into map[sqlstore.SKUKey]int64) error {
	insert, err := b.stmt(ctx, "INSERT INTO skus (name, service, unit) VALUES (?, ?, ?) ON CONFLICT (name, service, unit) DO NOTHING")
	if err != nil {
		return err
	}
	find, err := b.stmt(ctx, "SELECT id FROM skus WHERE name = ? AND service = ? AND unit = ?")
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := insert.ExecContext(ctx, k.Name, k.Service, k.Unit); err != nil {
			return fmt.Errorf("insert sku %q: %w", k.Name, err)
		}
		var id int64
		if err := find.QueryRowContext(ctx, k.Name, k.Service, k.Unit).Scan(&id); err != nil {
			return fmt.Errorf("find sku %q: %w", k.Name, err)
		}
		into[k] = id
	}
	return nil
}

// InsertItems inserts the rows, skipping ids already stored, insertChunk
// rows a statement, and returns the rows that were inserted.
//
// Most rows are new: a plain INSERT of a chunk, which returns nothing, costs
// a third less than one with ON CONFLICT and RETURNING. When the primary key
// refuses a row, SQLite backs that statement out (and only it), and the
// chunk goes again with ON CONFLICT DO NOTHING RETURNING id, as do the
// batch's later chunks: rows come in key order, so a re-imported batch fails
// on the first row of its first chunk.
func (b *bulk) InsertItems(ctx context.Context, unique []sqlstore.ItemRow) ([]sqlstore.ItemRow, error) {
	inserted := make([]sqlstore.ItemRow, 0, len(unique))
	args := make([]any, 0, insertChunk*15)
	index := make(map[costexplorer.LineItemID]int, insertChunk)
	fresh := true // no row refused yet
	for start := 0; start < len(unique); start += insertChunk {
		chunk := unique[start:min(start+insertChunk, len(unique))]
		shape := shapeOf(chunk)
		args = args[:0]
		for i := range chunk {
			r := &chunk[i]
			li := r.Item
			args = append(args, r.Org, r.Invoice, r.Project, r.Cluster, r.SKU, int64(li.Date), li.ID[:],
				li.Quantity, li.UnitPriceNanos, int64(li.Amount))
			if shape >= tagged {
				args = append(args, sqlstore.NullKey(r.Detail), sqlstore.NullKey(r.TagSet))
			}
			if shape == full {
				args = append(args, sqlstore.NullKey(int64(li.BillDate)), sqlstore.NullFloat(li.DiscountPercent), sqlstore.NullKey(int64(li.Discount)))
			}
		}
		if fresh {
			err := b.insertNew(ctx, shape, args, len(chunk))
			if err == nil {
				inserted = append(inserted, chunk...)
				continue
			}
			if se := (*sqlite.Error)(nil); !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return nil, fmt.Errorf("insert line items: %w", err)
			}
			fresh = false
		}
		var err error
		sqlstore.IndexItems(chunk, index)
		if inserted, err = b.insertChunk(ctx, shape, args, chunk, index, inserted); err != nil {
			return nil, fmt.Errorf("insert line items: %w", err)
		}
	}
	return inserted, nil
}

// insertNew runs the INSERT of n line items of shape s with args, without a
// conflict clause.
func (b *bulk) insertNew(ctx context.Context, s itemShape, args []any, n int) error {
	stmt, err := b.stmt(ctx, chunkQuery(n, s, newItems, &fullNew))
	if err != nil {
		return err
	}
	_, err = stmt.ExecContext(ctx, args...)
	return err
}

// insertChunk runs the INSERT of chunk with args (of shape s) and appends
// the rows it inserted to inserted.
func (b *bulk) insertChunk(ctx context.Context, s itemShape, args []any, chunk []sqlstore.ItemRow, index map[costexplorer.LineItemID]int, inserted []sqlstore.ItemRow) ([]sqlstore.ItemRow, error) {
	stmt, err := b.stmt(ctx, chunkQuery(len(chunk), s, insertItems, &fullInsert))
	if err != nil {
		return nil, err
	}
	res, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var raw sql.RawBytes
	for res.Next() {
		if err := res.Scan(&raw); err != nil {
			return nil, err
		}
		r, err := sqlstore.Returned(chunk, index, raw)
		if err != nil {
			return nil, err
		}
		inserted = append(inserted, *r)
	}
	return inserted, res.Err()
}
