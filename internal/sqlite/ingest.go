package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

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
	return db.Ingest(ctx, b, db.ingestOptions(ingestCachePragma))
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
			return &bulk{tx: tx, conn: q.(txQuerier).conn, raw: &db.rawStmts}, nil
		},
	}
}

// bulk is SQLite's bulk path of an ingest (see [sqlstore.Bulk]). Its
// statements are prepared once per transaction, but for the INSERTs of new
// line items, which go to the driver's connection directly (see
// [bulk.insertNew]).
type bulk struct {
	tx    *sql.Tx
	conn  *sql.Conn // the connection of tx
	stmts map[string]*sql.Stmt
	raw   *rawStmts // statements prepared on the driver connection
	args  []driver.NamedValue
}

func (b *bulk) Close() {
	for _, s := range b.stmts {
		s.Close()
	}
}

// stmt returns query prepared in the transaction.
func (b *bulk) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := b.stmts[query]; ok {
		return s, nil
	}
	s, err := b.tx.PrepareContext(ctx, query)
	if err != nil {
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
	index := make(map[costexplorer.LineItemID]int, insertChunk)
	fresh := true // no row refused yet
	for start := 0; start < len(unique); start += insertChunk {
		chunk := unique[start:min(start+insertChunk, len(unique))]
		shape := shapeOf(chunk)
		b.bind(chunk, shape)
		if fresh {
			err := b.insertNew(ctx, shape, len(chunk))
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
		if inserted, err = b.insertChunk(ctx, shape, chunk, index, inserted); err != nil {
			return nil, fmt.Errorf("insert line items: %w", err)
		}
	}
	return inserted, nil
}

// bind sets b.args to the values of chunk's rows, in the columns of shape.
// The keys a row shares with the row before (its organization, invoice,
// project, cluster and day, for most) reuse that row's values: an int64
// above 255 costs an allocation each time it becomes an interface.
func (b *bulk) bind(chunk []sqlstore.ItemRow, shape itemShape) {
	if b.args == nil {
		b.args = make([]driver.NamedValue, 0, insertChunk*15)
	}
	args := b.args[:0]
	add := func(v any) {
		args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
	}
	var prev [6]int64
	var boxed [6]any
	key := func(i int, v int64) any {
		if boxed[i] == nil || prev[i] != v {
			prev[i], boxed[i] = v, v
		}
		return boxed[i]
	}
	for i := range chunk {
		r := &chunk[i]
		li := r.Item
		add(key(0, r.Org))
		add(key(1, r.Invoice))
		add(key(2, r.Project))
		add(key(3, r.Cluster))
		add(key(4, r.SKU))
		add(key(5, int64(li.Date)))
		add(li.ID[:])
		add(li.Quantity)
		add(li.UnitPriceNanos)
		add(int64(li.Amount))
		if shape >= tagged {
			add(sqlstore.NullKey(r.Detail))
			add(sqlstore.NullKey(r.TagSet))
		}
		if shape == full {
			add(sqlstore.NullKey(int64(li.BillDate)))
			add(sqlstore.NullFloat(li.DiscountPercent))
			add(sqlstore.NullKey(int64(li.Discount)))
		}
	}
	b.args = args
}

// insertNew runs the INSERT of n line items of shape s with b.args, without
// a conflict clause. It runs on the driver's connection, with the driver's
// own arguments: database/sql would check and convert each of the 2,560 to
// 3,840 values of a full chunk into a slice it allocates, every time: going
// around it took the CPU time of a demo ingest down by 13 % (bench/notes.md).
// Its transaction is the one of b.tx, begun on the same connection.
func (b *bulk) insertNew(ctx context.Context, s itemShape, n int) error {
	return b.conn.Raw(func(dc any) error {
		if n < insertChunk {
			// A batch's last chunk: its statement serves once.
			st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, newItems(n, s))
			if err != nil {
				return err
			}
			_, err = st.(driver.StmtExecContext).ExecContext(ctx, b.args)
			return errors.Join(err, st.Close())
		}
		st, err := b.raw.prepare(ctx, dc, fullNew[s])
		if err != nil {
			return err
		}
		_, err = st.(driver.StmtExecContext).ExecContext(ctx, b.args)
		return err
	})
}

// anyArgs returns b.args as the arguments of a database/sql statement.
func (b *bulk) anyArgs() []any {
	args := make([]any, len(b.args))
	for i := range b.args {
		args[i] = b.args[i].Value
	}
	return args
}

// insertChunk runs the INSERT of chunk with b.args (of shape s) and appends
// the rows it inserted to inserted.
func (b *bulk) insertChunk(ctx context.Context, s itemShape, chunk []sqlstore.ItemRow, index map[costexplorer.LineItemID]int, inserted []sqlstore.ItemRow) ([]sqlstore.ItemRow, error) {
	stmt, err := b.stmt(ctx, chunkQuery(len(chunk), s, insertItems, &fullInsert))
	if err != nil {
		return nil, err
	}
	res, err := stmt.QueryContext(ctx, b.anyArgs()...)
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

// rawStmts holds the INSERTs of full chunks of new line items prepared on
// the write connection's driver connection, once a process (a statement of
// 3,840 parameters costs milliseconds to prepare). They belong to the
// driver connection they were prepared on: should database/sql ever open
// another, they are prepared again on it. They are finalized before their
// connection is closed, by [DB.Close] or, when an interrupted statement
// makes the pool discard it, by [DB.release].
type rawStmts struct {
	mu    sync.Mutex
	conn  any // the driver connection of stmts
	stmts map[string]driver.Stmt
}

// prepare returns query prepared on the driver connection dc, which the
// caller holds (within [sql.Conn.Raw]).
func (c *rawStmts) prepare(ctx context.Context, dc any, query string) (driver.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != dc {
		// The statements of the connection before this one were
		// finalized before the pool closed it (see [DB.release]).
		c.conn, c.stmts = dc, map[string]driver.Stmt{}
	}
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// close finalizes the statements; dc is the driver connection, which the
// caller holds.
func (c *rawStmts) close(dc any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	if c.conn == dc {
		for _, st := range c.stmts {
			errs = append(errs, st.Close())
		}
	}
	c.conn, c.stmts = nil, nil
	return errors.Join(errs...)
}
