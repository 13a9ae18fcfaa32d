package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// insertChunk is how many line items one INSERT statement carries. Fewer,
// larger statements cut the per-statement cost, which dominates small
// inserts; 15 parameters a row stay far below SQLite's limit of 32766.
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

// ingestCacheKiB is the page cache of the ingest connection during and
// after an IngestUsage: 256 MiB.
const ingestCacheKiB = 262144

var ingestCachePragma = fmt.Sprintf("PRAGMA cache_size = -%d", ingestCacheKiB)

// IngestUsage stores a batch in one transaction (see [sqlstore.Store.Ingest]
// for the rules) on the ingest connection (see [DB.ingestTx]).
func (db *DB) IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error) {
	return db.Ingest(ctx, b, db.ingestOptions(ingestCachePragma))
}

// sessionCachePragma is the page cache of the ingest connection during an
// ingest session: 32 MiB. A session is a file imported in chunks in bounded
// memory; a chunk's items go in key order, near the pages the chunk before
// touched, and a page the cache drops is read again from the operating
// system's cache, which is not the process's memory.
var sessionCachePragma = fmt.Sprintf("PRAGMA cache_size = -%d", 32768)

// BeginUsage opens an ingest session (see [sqlstore.Session]) on the ingest
// connection, which it holds, with the write connection, until the session
// ends.
func (db *DB) BeginUsage(ctx context.Context) (costexplorer.UsageSession, error) {
	return db.BeginIngest(ctx, db.ingestOptions(sessionCachePragma))
}

// ingestOptions returns the options of an ingest whose transaction first
// sets the ingest connection's page cache with cachePragma.
func (db *DB) ingestOptions(cachePragma string) sqlstore.IngestOptions {
	return sqlstore.IngestOptions{
		Cache:   db.keys.keys,
		WriteTx: db.ingestTx,
		Begin: func(ctx context.Context, q sqlstore.Querier) (sqlstore.Bulk, error) {
			// The page cache grows once this process ingests, and
			// stays so for later batches.
			if _, err := q.Exec(ctx, cachePragma); err != nil {
				return nil, err
			}
			return &bulk{c: q.(directQuerier).c}, nil
		},
	}
}

// An ingest runs on a connection of its own: a direct connection (see
// direct.go) opened read-write, which binds the values of line items
// through SQLite's C API itself. Through database/sql and the driver, each
// of the 10 to 15 values of a line item became an interface value, was
// checked and converted by database/sql, then bound by the driver under
// the connection's mutex, a blob copied to C memory of its own: about a
// fifth of an import's time in the store. The ingest transaction holds the
// write pool's one connection meanwhile, so that the process's other
// writes wait for it in Go, as they wait for any write transaction, and
// never for SQLite's lock.

// ingestConn returns the ingest connection, opened on first use. The
// caller holds the write pool's connection, which guards db.ingest.
func (db *DB) ingestConn() (*directConn, error) {
	if db.ingest == nil {
		c, err := openDirect(db.path, true)
		if err != nil {
			return nil, err
		}
		db.ingest = c
	}
	return db.ingest, nil
}

// ingestTx runs fn in an IMMEDIATE transaction on the ingest connection
// and commits it if fn returns nil ([sqlstore.IngestOptions.WriteTx]).
// A connection that may still be in a transaction, or that an interrupt
// may still reach, is closed (which rolls back what it holds) and the next
// ingest opens another.
func (db *DB) ingestTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return txErr(ctx, err)
	}
	defer conn.Close()
	c, err := db.ingestConn()
	if err != nil {
		return txErr(ctx, err)
	}
	ended := false
	defer func() {
		if !ended || c.broken || c.busy || !c.autocommit() {
			c.close()
			db.ingest = nil
		}
	}()
	err = c.writeTx(ctx, fn)
	ended = true
	return txErr(ctx, err)
}

// bulk is SQLite's bulk path of an ingest (see [sqlstore.Bulk]) on the
// ingest connection: statements prepared once a connection, line items
// bound value by value.
type bulk struct {
	c   *directConn
	ids uintptr // C memory for the ids of a chunk, bound SQLITE_STATIC
}

func (b *bulk) Close() {
	if b.ids != 0 {
		sqlite3.Xsqlite3_free(b.c.tls, b.ids)
		b.ids = 0
	}
}

// Exec runs query through a statement prepared once a connection.
func (b *bulk) Exec(ctx context.Context, query string, args ...any) error {
	return b.c.exec(ctx, query, args...)
}

// ResolveSKUs creates and finds the SKUs one at a time: they are few, and
// the key cache knows them after the first batches.
func (b *bulk) ResolveSKUs(ctx context.Context, keys []sqlstore.SKUKey, into map[sqlstore.SKUKey]int64) error {
	q := directQuerier{b.c}
	for _, k := range keys {
		if err := b.c.exec(ctx, "INSERT INTO skus (name, service, unit) VALUES (?, ?, ?) ON CONFLICT (name, service, unit) DO NOTHING", k.Name, k.Service, k.Unit); err != nil {
			return fmt.Errorf("insert sku %q: %w", k.Name, err)
		}
		var id int64
		if err := q.QueryRow(ctx, "SELECT id FROM skus WHERE name = ? AND service = ? AND unit = ?", k.Name, k.Service, k.Unit).Scan(&id); err != nil {
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
func (b *bulk) InsertItems(ctx context.Context, unique []sqlstore.ItemRow) (_ []sqlstore.ItemRow, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.ids == 0 {
		if b.ids = sqlite3.Xsqlite3_malloc(b.c.tls, insertChunk*int32(len(costexplorer.LineItemID{}))); b.ids == 0 {
			return nil, b.c.err(sqlite3.SQLITE_NOMEM)
		}
	}
	stop := context.AfterFunc(ctx, b.c.interrupt)
	defer func() {
		if !stop() {
			// The interrupt ran or is running: it may land on a later
			// statement; the connection is not kept.
			b.c.broken = true
			err = cmp.Or(ctx.Err(), err)
		}
	}()
	inserted := make([]sqlstore.ItemRow, 0, len(unique))
	index := make(map[costexplorer.LineItemID]int, insertChunk)
	fresh := true // no row refused yet
	for start := 0; start < len(unique); start += insertChunk {
		chunk := unique[start:min(start+insertChunk, len(unique))]
		shape := shapeOf(chunk)
		if fresh {
			err := b.run(chunkQuery(len(chunk), shape, newItems, &fullNew), chunk, shape, nil)
			if err == nil {
				inserted = append(inserted, chunk...)
				continue
			}
			if resultCode(err) != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return nil, fmt.Errorf("insert line items: %w", err)
			}
			fresh = false
		}
		sqlstore.IndexItems(chunk, index)
		err := b.run(chunkQuery(len(chunk), shape, insertItems, &fullInsert), chunk, shape, func(id []byte) error {
			r, err := sqlstore.Returned(chunk, index, id)
			if err == nil {
				inserted = append(inserted, *r)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("insert line items: %w", err)
		}
	}
	return inserted, nil
}

// run runs query, the INSERT of chunk's rows in the columns of shape,
// passing each id it returns to returned. The statement of a full chunk is
// prepared once a connection; a shorter one, a batch's last, serves once.
func (b *bulk) run(query string, chunk []sqlstore.ItemRow, shape itemShape, returned func(id []byte) error) error {
	c := b.c
	var st uintptr
	var err error
	if len(chunk) == insertChunk {
		st, err = c.prepare(query)
	} else {
		st, err = c.compile(query)
		defer sqlite3.Xsqlite3_finalize(c.tls, st)
	}
	if err != nil {
		return err
	}
	defer sqlite3.Xsqlite3_clear_bindings(c.tls, st) // the ids' memory outlives no binding
	defer sqlite3.Xsqlite3_reset(c.tls, st)          // first: after the error is read
	if rc := b.bind(st, chunk, shape); rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	for {
		switch rc := sqlite3.Xsqlite3_step(c.tls, st); rc {
		case sqlite3.SQLITE_ROW:
			if err := returned(c.columnBytes(st, 0)); err != nil {
				return err
			}
		case sqlite3.SQLITE_DONE:
			return nil
		default:
			return c.err(rc)
		}
	}
}

// bind binds the values of chunk's rows to st, in the columns of shape,
// and returns the first error code of SQLite's, if any. The ids are copied
// to b.ids, which SQLite reads in place until the statement is reset.
func (b *bulk) bind(st uintptr, chunk []sqlstore.ItemRow, shape itemShape) int32 {
	tls := b.c.tls
	const idSize = int32(len(costexplorer.LineItemID{}))
	j := int32(0)
	rc := int32(sqlite3.SQLITE_OK)
	keep := func(r int32) { // the first error
		if rc == sqlite3.SQLITE_OK {
			rc = r
		}
	}
	integer := func(v int64) {
		j++
		keep(sqlite3.Xsqlite3_bind_int64(tls, st, j, v))
	}
	nullable := func(v int64) {
		if v == 0 {
			j++
			keep(sqlite3.Xsqlite3_bind_null(tls, st, j))
			return
		}
		integer(v)
	}
	double := func(v float64) {
		j++
		keep(sqlite3.Xsqlite3_bind_double(tls, st, j, v))
	}
	for i := range chunk {
		r := &chunk[i]
		li := r.Item
		integer(r.Org)
		integer(r.Invoice)
		integer(r.Project)
		integer(r.Cluster)
		integer(r.SKU)
		integer(int64(li.Date))
		id := b.ids + uintptr(int32(i)*idSize)
		copy(libc.GoBytes(id, int(idSize)), li.ID[:])
		j++
		keep(sqlite3.Xsqlite3_bind_blob(tls, st, j, id, idSize, 0)) // SQLITE_STATIC
		double(li.Quantity)
		integer(li.UnitPriceNanos)
		integer(int64(li.Amount))
		if shape >= tagged {
			nullable(r.Detail)
			nullable(r.TagSet)
		}
		if shape == full {
			nullable(int64(li.BillDate))
			if li.DiscountPercent == 0 {
				nullable(0)
			} else {
				double(li.DiscountPercent)
			}
			nullable(int64(li.Discount))
		}
	}
	return rc
}
