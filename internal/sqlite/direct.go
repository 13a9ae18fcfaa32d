package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// Direct connections read results of many rows (an invoice's line items)
// through SQLite's C API itself: the transpiled library the driver wraps,
// which this package already uses for its errors. A read through
// database/sql and the driver costs, for every column of every row, two
// calls that each take the connection's mutex (the driver opens every
// connection SQLITE_OPEN_FULLMUTEX) and a value boxed in an interface,
// then converted again by database/sql: about 1.8 µs a line item of 13
// columns, more than half of what streaming an invoice costs the server.
// A direct connection is opened in multi-thread mode (SQLITE_OPEN_NOMUTEX:
// SQLite takes no per-connection lock, and the caller keeps one goroutine
// on a connection at a time, as database/sql does), read-only, and scans
// each column straight into the caller's variable.
//
// They serve [sqlstore.StreamRunner]: read transactions of the same
// snapshot semantics as the read pool's, on at most directConns
// connections, kept idle once opened (each holds the database file and its
// log open, as a pooled connection does). While all are in use, a stream
// reads on the read pool, as it did before they existed.

// directConns bounds the direct connections of a store.
const directConns = 2

// directPool hands out direct connections, at most directConns at once.
type directPool struct {
	path string

	mu    sync.Mutex
	idle  []*directConn
	inUse int // connections handed out and not yet back
	shut  bool
}

func newDirectPool(path string) *directPool {
	return &directPool{path: path}
}

// get returns an idle connection or opens one; ok is false when
// directConns are in use (the caller reads on the read pool instead of
// waiting behind a long stream).
func (p *directPool) get() (c *directConn, ok bool, err error) {
	p.mu.Lock()
	switch {
	case p.shut:
		p.mu.Unlock()
		return nil, false, errors.New("sqlite: the store is closed")
	case p.inUse >= directConns:
		p.mu.Unlock()
		return nil, false, nil
	}
	p.inUse++
	if n := len(p.idle); n > 0 {
		c = p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	if c, err = openDirect(p.path, false); err != nil {
		p.mu.Lock()
		p.inUse--
		p.mu.Unlock()
		return nil, false, err
	}
	return c, true, nil
}

// put gives c back: kept idle if it is still sound, else closed.
func (p *directPool) put(c *directConn, sound bool) {
	p.mu.Lock()
	p.inUse--
	if sound && !p.shut {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// close closes the idle connections; one in use is closed when it comes
// back.
func (p *directPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.shut = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// readTx runs fn in a read transaction on a direct connection; ok is false
// when none was free, and fn did not run.
func (p *directPool) readTx(ctx context.Context, fn func(sqlstore.Querier) error) (ok bool, err error) {
	c, ok, err := p.get()
	if !ok || err != nil {
		return ok, err
	}
	// A connection is kept only if its transaction ended (fn may panic)
	// and SQLite did not fail on it, nor may an interrupt still reach it.
	ended := false
	defer func() { p.put(c, ended && !c.broken && !c.busy) }()
	if err := c.exec(ctx, "BEGIN"); err != nil {
		ended = true // none began
		return true, err
	}
	err = fn(directQuerier{c})
	if rerr := c.exec(context.Background(), "ROLLBACK"); rerr != nil {
		return true, errors.Join(err, rerr)
	}
	ended = true
	return true, err
}

// directConn is one connection of the C API. Only one goroutine uses it at
// a time; interrupt alone may come from another.
type directConn struct {
	tls    *libc.TLS
	db     uintptr
	stmts  map[string]uintptr // prepared statements by query text
	busy   bool               // a result is being read
	broken bool               // a statement failed in SQLite, or an interrupt may still land

	// imu orders an interrupt (from a context's AfterFunc, on another
	// goroutine) before the connection's memory is freed: none lands after.
	imu    sync.Mutex
	closed bool
}

// maxDirectStmts bounds a connection's prepared statements: some query
// texts vary with their arguments (a search's filters), and a statement
// holds SQLite memory until it is finalized.
const maxDirectStmts = 64

// openDirect opens path in multi-thread mode: read-only, or read-write
// with the write connection's settings (see Open) for the ingest
// connection (ingest.go), which reports extended error codes (a
// primary-key conflict as such).
func openDirect(path string, rw bool) (*directConn, error) {
	c := &directConn{tls: libc.NewTLS(), stmts: map[string]uintptr{}}
	name, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	pdb := c.tls.Alloc(ptrSize)
	defer c.tls.Free(ptrSize)
	flags, pragmas := int32(sqlite3.SQLITE_OPEN_READONLY), []string{"PRAGMA query_only = 1", "PRAGMA cache_size = -16384"}
	if rw {
		flags, pragmas = sqlite3.SQLITE_OPEN_READWRITE, []string{"PRAGMA foreign_keys = 1", "PRAGMA synchronous = NORMAL",
			"PRAGMA cache_size = -16384", "PRAGMA wal_autocheckpoint = 0", fmt.Sprintf("PRAGMA journal_size_limit = %d", walKeepBytes)}
	}
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, flags|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = readPtr(pdb)
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, int32(busyTimeout.Milliseconds()))
	if rw {
		sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	}
	for _, pragma := range pragmas {
		if err := c.exec(context.Background(), pragma); err != nil {
			c.close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	return c, nil
}

// writeTx runs fn in an IMMEDIATE transaction and commits it if fn returns
// nil and ctx has not ended; else rolls it back. The commit itself is not
// interrupted: once begun, it ends as SQLite ends it.
func (c *directConn) writeTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	if err := c.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	err := fn(directQuerier{c})
	if err == nil {
		if err = ctx.Err(); err == nil {
			err = c.exec(context.Background(), "COMMIT")
		}
	}
	if err != nil && !c.autocommit() {
		if rerr := c.exec(context.Background(), "ROLLBACK"); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// autocommit reports whether c is outside any transaction.
func (c *directConn) autocommit() bool {
	return sqlite3.Xsqlite3_get_autocommit(c.tls, c.db) != 0
}

// interrupt stops the statement running on c, if c is still open.
func (c *directConn) interrupt() {
	c.imu.Lock()
	defer c.imu.Unlock()
	if !c.closed {
		sqlite3.Xsqlite3_interrupt(nil, c.db) // an atomic store: no lock, no TLS
	}
}

func (c *directConn) close() {
	c.imu.Lock()
	c.closed = true
	c.imu.Unlock()
	for _, st := range c.stmts {
		sqlite3.Xsqlite3_finalize(c.tls, st)
	}
	c.stmts = nil
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// err is rc as an error, with the connection's message.
func (c *directConn) err(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		if m := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)); m != "" && m != msg {
			msg += ": " + m
		}
	}
	return &directError{code: rc, msg: msg}
}

// directError is an error of SQLite reported on a direct connection.
type directError struct {
	code int32
	msg  string
}

func (e *directError) Error() string { return fmt.Sprintf("sqlite: %s (%d)", e.msg, e.code) }

// ptrSize is the size of a C pointer.
const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// readPtr reads the C pointer SQLite stored at p (an out parameter). The
// view of p's bytes is read at once.
func readPtr(p uintptr) uintptr {
	b := libc.GoBytes(p, ptrSize)
	return *(*uintptr)(unsafe.Pointer(&b[0]))
}

// prepare returns the statement of query, prepared once a connection.
func (c *directConn) prepare(query string) (uintptr, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxDirectStmts {
		// None is running (a connection reads one result at a time).
		for q, st := range c.stmts {
			sqlite3.Xsqlite3_finalize(c.tls, st)
			delete(c.stmts, q)
		}
	}
	st, err := c.compile(query)
	if err != nil {
		return 0, err
	}
	c.stmts[query] = st
	return st, nil
}

// compile prepares query; the caller finalizes the statement.
func (c *directConn) compile(query string) (uintptr, error) {
	z, err := libc.CString(query)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, z)
	pst := c.tls.Alloc(ptrSize)
	defer c.tls.Free(ptrSize)
	if rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, pst, 0); rc != sqlite3.SQLITE_OK {
		return 0, c.err(rc)
	}
	st := readPtr(pst)
	if st == 0 {
		return 0, fmt.Errorf("sqlite: no statement in %q", query)
	}
	return st, nil
}

// bind binds args to st's parameters, in order.
func (c *directConn) bind(st uintptr, args []any) error {
	if n := int(sqlite3.Xsqlite3_bind_parameter_count(c.tls, st)); n != len(args) {
		return fmt.Errorf("sqlite: %d arguments for %d parameters", len(args), n)
	}
	for i, a := range args {
		j := int32(i + 1)
		var rc int32
		switch v := a.(type) {
		case nil:
			rc = sqlite3.Xsqlite3_bind_null(c.tls, st, j)
		case int64:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st, j, v)
		case int:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st, j, int64(v))
		case int32:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st, j, int64(v))
		case bool:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st, j, boolInt(v))
		case float64:
			rc = sqlite3.Xsqlite3_bind_double(c.tls, st, j, v)
		case string:
			rc = c.bindBytes(st, j, v, true)
		case []byte:
			if v == nil {
				rc = sqlite3.Xsqlite3_bind_null(c.tls, st, j)
			} else {
				rc = c.bindBytes(st, j, string(v), false)
			}
		default:
			return fmt.Errorf("sqlite: argument %d of unsupported type %T", i+1, a)
		}
		if rc != sqlite3.SQLITE_OK {
			return c.err(rc)
		}
	}
	return nil
}

// bindBytes binds b as text or as a blob; SQLite copies it
// (SQLITE_TRANSIENT), so the C copy made here is freed at once.
func (c *directConn) bindBytes(st uintptr, j int32, b string, text bool) int32 {
	p, err := libc.CString(b)
	if err != nil {
		return sqlite3.SQLITE_NOMEM
	}
	defer libc.Xfree(c.tls, p)
	transient := ^uintptr(0)
	if text {
		return sqlite3.Xsqlite3_bind_text(c.tls, st, j, p, int32(len(b)), transient)
	}
	return sqlite3.Xsqlite3_bind_blob(c.tls, st, j, p, int32(len(b)), transient)
}

// exec runs query with args to its end, discarding any rows.
func (c *directConn) exec(ctx context.Context, query string, args ...any) error {
	r, err := c.query(ctx, query, args)
	if err != nil {
		return err
	}
	for r.Next() {
	}
	r.Close()
	return r.Err()
}

// query starts query with args. The result must be closed before the
// connection runs anything else.
func (c *directConn) query(ctx context.Context, query string, args []any) (*directRows, error) {
	if c.busy {
		return nil, errors.New("sqlite: a direct connection reads one result at a time")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := c.prepare(query)
	if err != nil {
		c.broken = true
		return nil, err
	}
	if err := c.bind(st, args); err != nil {
		sqlite3.Xsqlite3_clear_bindings(c.tls, st)
		return nil, err
	}
	c.busy = true
	r := &directRows{c: c, st: st, ctx: ctx, n: sqlite3.Xsqlite3_column_count(c.tls, st)}
	r.stop = context.AfterFunc(ctx, c.interrupt)
	return r, nil
}

// directRows is a result being read: [sqlstore.Rows] and [sqlstore.Row].
type directRows struct {
	c    *directConn
	st   uintptr
	ctx  context.Context
	n    int32
	stop func() bool
	err  error
	done bool
}

func (r *directRows) Next() bool {
	if r.done {
		return false
	}
	switch rc := sqlite3.Xsqlite3_step(r.c.tls, r.st); rc {
	case sqlite3.SQLITE_ROW:
		return true
	case sqlite3.SQLITE_DONE:
	default:
		if err := r.ctx.Err(); err != nil && rc&0xff == sqlite3.SQLITE_INTERRUPT {
			r.err = err
		} else {
			r.err, r.c.broken = r.c.err(rc), true
		}
	}
	r.Close()
	return false
}

func (r *directRows) Err() error { return r.err }

func (r *directRows) Close() {
	if r.done {
		return
	}
	r.done = true
	if !r.stop() {
		// The interrupt ran or is running: it may land after the reset,
		// on the next statement; the connection is not kept.
		r.c.broken = true
		if r.err == nil {
			r.err = r.ctx.Err()
		}
	}
	sqlite3.Xsqlite3_reset(r.c.tls, r.st)
	sqlite3.Xsqlite3_clear_bindings(r.c.tls, r.st)
	r.c.busy = false
}

// Scan reads the current row's columns into dest, converting as
// database/sql would for the types the store scans into.
func (r *directRows) Scan(dest ...any) error {
	if r.done {
		return errors.New("sqlite: Scan after the result ended")
	}
	if len(dest) != int(r.n) {
		return fmt.Errorf("sqlite: %d destinations for %d columns", len(dest), r.n)
	}
	tls, st := r.c.tls, r.st
	for i, d := range dest {
		col := int32(i)
		t := sqlite3.Xsqlite3_column_type(tls, st, col)
		switch d := d.(type) {
		case *sqlstore.NullInt64:
			// NULL reads as 0, as its Scan has it.
			if t == sqlite3.SQLITE_INTEGER || t == sqlite3.SQLITE_NULL {
				*d = sqlstore.NullInt64(sqlite3.Xsqlite3_column_int64(tls, st, col))
				continue
			}
		case *sqlstore.NullFloat64:
			switch t {
			case sqlite3.SQLITE_FLOAT, sqlite3.SQLITE_INTEGER, sqlite3.SQLITE_NULL:
				*d = sqlstore.NullFloat64(sqlite3.Xsqlite3_column_double(tls, st, col))
				continue
			}
		case *int64:
			if t == sqlite3.SQLITE_INTEGER {
				*d = sqlite3.Xsqlite3_column_int64(tls, st, col)
				continue
			}
		case *string:
			if t == sqlite3.SQLITE_TEXT || t == sqlite3.SQLITE_BLOB {
				*d = string(r.bytes(col, t))
				continue
			}
		case *float64:
			if t == sqlite3.SQLITE_FLOAT || t == sqlite3.SQLITE_INTEGER {
				*d = sqlite3.Xsqlite3_column_double(tls, st, col)
				continue
			}
		case sqlstore.BytesScanner:
			if t == sqlite3.SQLITE_TEXT || t == sqlite3.SQLITE_BLOB {
				if err := d.ScanBytes(r.bytes(col, t)); err != nil {
					return fmt.Errorf("sqlite: column %d: %w", i, err)
				}
				continue
			}
		}
		if err := convert(d, r.value(col, t)); err != nil {
			return fmt.Errorf("sqlite: column %d: %w", i, err)
		}
	}
	return nil
}

// bytes is column col's text or blob, a view of SQLite's memory valid
// until the next step (libc.GoBytes does not copy).
func (r *directRows) bytes(col, t int32) []byte {
	if t == sqlite3.SQLITE_TEXT {
		return r.c.columnText(r.st, col)
	}
	return r.c.columnBytes(r.st, col)
}

// columnBytes is column col of st's row as a blob, a view of SQLite's
// memory valid until the next step.
func (c *directConn) columnBytes(st uintptr, col int32) []byte {
	return c.view(sqlite3.Xsqlite3_column_blob(c.tls, st, col), st, col)
}

// columnText is column col of st's row as text, as [directConn.columnBytes].
func (c *directConn) columnText(st uintptr, col int32) []byte {
	return c.view(sqlite3.Xsqlite3_column_text(c.tls, st, col), st, col)
}

// view is the column col of st at p, of the size SQLite reports once p is
// had (a conversion first, then the size of its result).
func (c *directConn) view(p, st uintptr, col int32) []byte {
	n := sqlite3.Xsqlite3_column_bytes(c.tls, st, col)
	if p == 0 || n == 0 {
		return []byte{}
	}
	return libc.GoBytes(p, int(n))
}

// value is column col, of type t, as the driver gives it to database/sql: int64,
// float64, string, []byte (a copy) or nil.
func (r *directRows) value(col, t int32) any {
	switch t {
	case sqlite3.SQLITE_INTEGER:
		return sqlite3.Xsqlite3_column_int64(r.c.tls, r.st, col)
	case sqlite3.SQLITE_FLOAT:
		return sqlite3.Xsqlite3_column_double(r.c.tls, r.st, col)
	case sqlite3.SQLITE_TEXT:
		return string(r.bytes(col, t))
	case sqlite3.SQLITE_BLOB:
		return append([]byte(nil), r.bytes(col, t)...)
	}
	return nil
}

// convert stores the value v into d, as database/sql's Scan does for the
// destinations the store uses.
func convert(d, v any) error {
	switch d := d.(type) {
	case sql.Scanner:
		return d.Scan(v)
	case *any:
		*d = v
		return nil
	case *[]byte:
		switch v := v.(type) {
		case []byte:
			*d = v
			return nil
		case string:
			*d = []byte(v)
			return nil
		case nil:
			*d = nil
			return nil
		}
	case *bool:
		if n, ok := v.(int64); ok && (n == 0 || n == 1) {
			*d = n == 1
			return nil
		}
	case *string:
		switch v := v.(type) {
		case int64:
			*d = strconv.FormatInt(v, 10)
			return nil
		case float64:
			*d = strconv.FormatFloat(v, 'g', -1, 64)
			return nil
		}
	}
	// Named integer, float and string types (a service code, say).
	rv := reflect.ValueOf(d)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		e := rv.Elem()
		switch x := v.(type) {
		case int64:
			switch e.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				if !e.OverflowInt(x) {
					e.SetInt(x)
					return nil
				}
			case reflect.Float64, reflect.Float32:
				e.SetFloat(float64(x))
				return nil
			}
		case float64:
			if k := e.Kind(); k == reflect.Float64 || k == reflect.Float32 {
				e.SetFloat(x)
				return nil
			}
		case string:
			if e.Kind() == reflect.String {
				e.SetString(x)
				return nil
			}
		}
	}
	return fmt.Errorf("cannot scan %T into %T", v, d)
}

// directQuerier runs the core's statements on a direct connection, within
// its read transaction.
type directQuerier struct{ c *directConn }

func (q directQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := q.c.exec(ctx, query, args...); err != nil {
		return 0, err
	}
	return sqlite3.Xsqlite3_changes64(q.c.tls, q.c.db), nil
}

func (q directQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return q.c.query(ctx, query, args)
}

func (q directQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	r, err := q.c.query(ctx, query, args)
	return directRow{r, err}
}

// directRow is the first row of a result, as *sql.Row has it.
type directRow struct {
	r   *directRows
	err error
}

func (w directRow) Scan(dest ...any) error {
	if w.err != nil {
		return w.err
	}
	defer w.r.Close()
	if !w.r.Next() {
		if err := w.r.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	return w.r.Scan(dest...)
}
