package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// openDirectTest opens a store with a table of one row of every storage
// class, and NULLs.
func openDirectTest(t *testing.T) (*DB, string) {
	t.Helper()
	ctx := context.Background()
	db, path := openTemp(t, "direct.db")
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE kinds (i INTEGER, f REAL, s TEXT, b BLOB, n INTEGER);
		INSERT INTO kinds VALUES (-42, 2.5, 'naïve', x'00ff10', NULL), (7, 3, '12', x'', NULL)`); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// inDirect runs fn in a direct read transaction, which must get a
// connection.
func inDirect(t *testing.T, db *DB, fn func(q sqlstore.Querier) error) error {
	t.Helper()
	ok, err := db.direct.readTx(context.Background(), fn)
	if !ok {
		t.Fatal("no direct connection was free")
	}
	return err
}

type service int16

// TestDirectScansAsDatabaseSQL checks that a direct connection scans every
// destination type the store uses as database/sql and the driver do:
// same values, and an error where they give one.
func TestDirectScansAsDatabaseSQL(t *testing.T) {
	db, _ := openDirectTest(t)
	ctx := context.Background()
	type row struct {
		I       int64
		F       float64
		S       string
		B       []byte
		NI      sqlstore.NullInt64
		NF      sqlstore.NullFloat64
		IAsF    float64
		IAsStr  string
		FAsNF   sqlstore.NullFloat64
		SvcI    service
		AnyB    any
		AnyN    any
		Flag    bool
		NAsNF   sqlstore.NullFloat64
		SAsB    []byte
		NullStr sql.NullString
	}
	const query = "SELECT i, f, s, b, n, n, i, i, f, i, b, n, i > 0, n, s, n FROM kinds ORDER BY rowid"
	dests := func(r *row) []any {
		return []any{&r.I, &r.F, &r.S, &r.B, &r.NI, &r.NF, &r.IAsF, &r.IAsStr, &r.FAsNF, &r.SvcI, &r.AnyB, &r.AnyN, &r.Flag, &r.NAsNF, &r.SAsB, &r.NullStr}
	}
	var want []row
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(dests(&r)...); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	if err := rows.Err(); err != nil || len(want) != 2 {
		t.Fatalf("database/sql read %d rows: %v", len(want), err)
	}

	var got []row
	err = inDirect(t, db, func(q sqlstore.Querier) error {
		return sqlstore.Each(ctx, q, query, func(r sqlstore.Row) error {
			var w row
			if err := r.Scan(dests(&w)...); err != nil {
				return err
			}
			got = append(got, w)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("direct scan:\n%+v\nwant (database/sql):\n%+v", got, want)
	}

	// Where database/sql refuses, so does a direct connection.
	for _, c := range []struct {
		query string
		dest  any
	}{
		{"SELECT n FROM kinds", new(int64)},
		{"SELECT s FROM kinds", new(int64)},
		{"SELECT b FROM kinds", new(service)},
		{"SELECT i FROM kinds", new(bool)},
	} {
		sqlErr := db.read.QueryRowContext(ctx, c.query).Scan(c.dest)
		directErr := inDirect(t, db, func(q sqlstore.Querier) error { return q.QueryRow(ctx, c.query).Scan(c.dest) })
		if sqlErr == nil || directErr == nil {
			t.Errorf("%s into %T: database/sql %v, direct %v; want both to fail", c.query, c.dest, sqlErr, directErr)
		}
	}
}

// TestDirectBindsArguments checks the argument types the store passes,
// and the errors of a wrong count or type.
func TestDirectBindsArguments(t *testing.T) {
	db, _ := openDirectTest(t)
	ctx := context.Background()
	args := []any{int64(1) << 40, 3, int32(-4), "nul\x00inside", []byte{0, 1, 2}, []byte(nil), nil, true, 1.25}
	const query = "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?"
	want := make([]any, len(args))
	ptrs := func(v []any) []any {
		p := make([]any, len(v))
		for i := range v {
			p[i] = &v[i]
		}
		return p
	}
	if err := db.read.QueryRowContext(ctx, query, args...).Scan(ptrs(want)...); err != nil {
		t.Fatal(err)
	}
	got := make([]any, len(args))
	if err := inDirect(t, db, func(q sqlstore.Querier) error { return q.QueryRow(ctx, query, args...).Scan(ptrs(got)...) }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("direct: %#v\nwant (database/sql): %#v", got, want)
	}

	err := inDirect(t, db, func(q sqlstore.Querier) error {
		var n int64
		if err := q.QueryRow(ctx, "SELECT ?", 1, 2).Scan(&n); err == nil {
			t.Error("two arguments for one parameter: no error")
		}
		if err := q.QueryRow(ctx, "SELECT ?", time.Now()).Scan(&n); err == nil {
			t.Error("an argument of an unsupported type: no error")
		}
		if err := q.QueryRow(ctx, "SELECT i FROM kinds WHERE i = ?", 1000).Scan(&n); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("no row: %v, want sql.ErrNoRows", err)
		}
		// The connection still answers after those errors.
		return q.QueryRow(ctx, "SELECT count(*) FROM kinds").Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDirectReadSeesOneSnapshot checks that a direct read transaction does
// not see a write committed after its first read.
func TestDirectReadSeesOneSnapshot(t *testing.T) {
	db, _ := openDirectTest(t)
	ctx := context.Background()
	count := func(q sqlstore.Querier) int64 {
		var n int64
		if err := q.QueryRow(ctx, "SELECT count(*) FROM kinds").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	err := inDirect(t, db, func(q sqlstore.Querier) error {
		before := count(q)
		if _, err := db.write.ExecContext(ctx, "INSERT INTO kinds (i) VALUES (1)"); err != nil {
			return err
		}
		if after := count(q); after != before {
			t.Errorf("the transaction saw %d rows, then %d", before, after)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := inDirect(t, db, func(q sqlstore.Querier) error { _ = count(q); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestDirectReadStopsWhenContextEnds checks that a statement running when
// its context ends stops with the context's error, that the connection is
// not kept (the interrupt might still reach it), and that the next read
// opens a sound one.
func TestDirectReadStopsWhenContextEnds(t *testing.T) {
	db, _ := openDirectTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ok, err := db.direct.readTx(ctx, func(q sqlstore.Querier) error {
		return sqlstore.Each(ctx, q, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT i FROM n WHERE i < 0",
			func(sqlstore.Row) error { return nil })
	})
	if !ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("endless read: ok %v, %v; want the context's deadline", ok, err)
	}
	if n := len(db.direct.idle); n != 0 {
		t.Errorf("%d connections kept after an interrupted read, want 0", n)
	}
	var n int64
	if err := inDirect(t, db, func(q sqlstore.Querier) error {
		return q.QueryRow(context.Background(), "SELECT count(*) FROM kinds").Scan(&n)
	}); err != nil || n != 2 {
		t.Fatalf("after the interrupted read: %d rows, %v", n, err)
	}
}

// TestDirectConnectionsAreBounded checks that at most directConns direct
// transactions run at once, that one more is told to read elsewhere
// rather than wait, and that closing the store closes the idle ones.
func TestDirectConnectionsAreBounded(t *testing.T) {
	db, path := openDirectTest(t)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{}, directConns)
	done := make(chan error, directConns)
	for range directConns {
		go func() {
			_, err := db.direct.readTx(ctx, func(q sqlstore.Querier) error {
				started <- struct{}{}
				<-release
				return nil
			})
			done <- err
		}()
	}
	for range directConns {
		<-started
	}
	ok, err := db.direct.readTx(ctx, func(sqlstore.Querier) error {
		t.Error("a transaction beyond the bound ran")
		return nil
	})
	if ok || err != nil {
		t.Errorf("beyond the bound: ok %v, %v; want not ok, no error", ok, err)
	}
	var n int64
	if err := (runner{db}).StreamTx(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, "SELECT count(*) FROM kinds").Scan(&n)
	}); err != nil || n != 2 {
		t.Errorf("a stream while the direct connections are busy: %d rows, %v; want it on the read pool", n, err)
	}
	close(release)
	for range directConns {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := len(db.direct.idle); got != directConns {
		t.Errorf("%d idle direct connections, want %d", got, directConns)
	}
	before := logFDCount(t, path)
	db.direct.close()
	if got := logFDCount(t, path); got != before-directConns {
		t.Errorf("after closing the direct connections %d log descriptors, want %d", got, before-directConns)
	}
	if ok, err := db.direct.readTx(ctx, func(sqlstore.Querier) error { return nil }); ok || err == nil {
		t.Errorf("after close: ok %v, %v; want an error", ok, err)
	}
}

// TestDirectStatementsAreBounded checks that query texts that vary (a
// search's filters) do not pile up prepared statements on a connection.
func TestDirectStatementsAreBounded(t *testing.T) {
	db, _ := openDirectTest(t)
	ctx := context.Background()
	err := inDirect(t, db, func(q sqlstore.Querier) error {
		for i := range 3 * maxDirectStmts {
			var n int64
			if err := q.QueryRow(ctx, "SELECT ? + "+strconv.Itoa(i), 1).Scan(&n); err != nil {
				return err
			}
			if n != int64(i+1) {
				t.Fatalf("query %d answered %d", i, n)
			}
			if got := len(q.(directQuerier).c.stmts); got > maxDirectStmts {
				t.Fatalf("%d prepared statements after %d query texts, want at most %d", got, i+1, maxDirectStmts)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDirectConnectionAfterAPanicIsNotKept checks that a transaction left
// by a panic mid-result does not come back to the next reader.
func TestDirectConnectionAfterAPanicIsNotKept(t *testing.T) {
	db, _ := openDirectTest(t)
	ctx := context.Background()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		_ = inDirect(t, db, func(q sqlstore.Querier) error {
			rows, err := q.Query(ctx, "SELECT i FROM kinds")
			if err != nil {
				return err
			}
			rows.Next()
			panic("mid-result")
		})
	}()
	if n := len(db.direct.idle); n != 0 {
		t.Errorf("%d connections kept after a panic, want 0", n)
	}
	var n int64
	if err := inDirect(t, db, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, "SELECT count(*) FROM kinds").Scan(&n)
	}); err != nil || n != 2 {
		t.Fatalf("after the panic: %d rows, %v", n, err)
	}
}
