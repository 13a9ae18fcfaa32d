package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Placeholder is how a dialect numbers the parameters of a statement.
type Placeholder int

const (
	// Question is SQLite's '?' (the style the core writes).
	Question Placeholder = iota
	// Dollar is PostgreSQL's $1, $2, ….
	Dollar
)

// Dialect carries what differs in the SQL of the two stores. The core writes
// each query once and takes the differing fragments from here.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Placeholder is the dialect's parameter style; adapters pass the core's
	// query text through [Dialect.Bind].
	Placeholder Placeholder
	// NoRows is the driver's "no rows" error (sql.ErrNoRows, pgx.ErrNoRows),
	// matched with errors.Is.
	NoRows error
	// Bool encodes a flag as a statement argument (SQLite stores 0 and 1 in
	// INTEGER columns, PostgreSQL has BOOLEAN).
	Bool func(bool) any
	// Greatest is the two-argument maximum function: MAX in SQLite,
	// GREATEST in PostgreSQL.
	Greatest string
	// NoLimit is the LIMIT that means none, for an OFFSET without a limit:
	// -1 in SQLite, ALL in PostgreSQL.
	NoLimit string
	// ForUpdate locks the rows a SELECT reads until the transaction ends
	// (" FOR UPDATE"); empty where the write transaction already excludes
	// every other writer (SQLite).
	ForUpdate string
	// SkipLocked ends the claim's candidate subquery: " FOR UPDATE SKIP
	// LOCKED" in PostgreSQL, so concurrent claimers on any replica skip rows
	// another is claiming; empty in SQLite, whose claim runs in an IMMEDIATE
	// transaction that no other writer shares.
	SkipLocked string
	// LockData, when set, runs first in every transaction that changes
	// dimensions or the data version (PostgreSQL's advisory lock, which
	// serialises them across replicas as SQLite's single writer does).
	LockData func(ctx context.Context, q Querier) error
	// LockSchema, when set, runs first in the transactions that migrate the
	// schema and load the service codes (PostgreSQL's advisory lock, so that
	// replicas starting together apply each migration once).
	LockSchema func(ctx context.Context, q Querier) error
	// ExecScript runs a migration's script of several statements within q
	// (PostgreSQL needs its simple protocol for that).
	ExecScript func(ctx context.Context, q Querier, script string) error
	// Translate maps a driver error to a domain error (no rows →
	// ErrNotFound, unique violation → ErrConflict, …); the dialect's Runner
	// applies it to every error it returns.
	Translate func(ctx context.Context, err error) error
}

// IsNoRows reports whether err is the dialect's "no rows" error.
func (d Dialect) IsNoRows(err error) bool { return err != nil && errors.Is(err, d.NoRows) }

// Bind returns query, written with '?' placeholders, in the dialect's
// parameter style.
func (d Dialect) Bind(query string) string {
	if d.Placeholder == Dollar {
		return Rebind(query)
	}
	return query
}

// lockData runs the dialect's data lock, if any.
func (d Dialect) lockData(ctx context.Context, q Querier) error {
	if d.LockData == nil {
		return nil
	}
	return d.LockData(ctx, q)
}

// lockSchema runs the dialect's schema lock, if any.
func (d Dialect) lockSchema(ctx context.Context, q Querier) error {
	if d.LockSchema == nil {
		return nil
	}
	return d.LockSchema(ctx, q)
}

// Rebind rewrites the '?' placeholders of query as $1, $2, … in order,
// leaving those inside quoted strings and identifiers alone. Text without
// '?' is returned unchanged (and unallocated).
func Rebind(query string) string {
	if strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Times are stored as integer unix microseconds (PostgreSQL's precision) in
// both stores, and the zero time as NULL.

// Micros encodes t as a statement argument: unix microseconds, or NULL for
// the zero time.
func Micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// Time scans a nullable unix-microseconds column: NULL is the zero time.
// Both drivers call its Scan with an int64 or nil.
type Time struct{ time.Time }

// Scan implements [sql.Scanner].
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
	case int64:
		t.Time = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("scan time: unsupported %T", src)
	}
	return nil
}

// NullString encodes s as a statement argument, the empty string as NULL.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NullKey encodes v as a statement argument, 0 as NULL: the columns of a
// line item it has no value for (a dictionary key, a bill day, a discount)
// are NULL, which costs no byte of the record in either engine.
func NullKey(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// NullFloat encodes f as a statement argument, 0 as NULL.
func NullFloat(f float64) any {
	if f == 0 {
		return nil
	}
	return f
}

// NullInt64 scans a nullable integer column: NULL is 0. As a destination
// of database/sql it also spares the reflection that *int64 costs there
// (which matters on a row path that runs a million times).
type NullInt64 int64

// Scan implements [sql.Scanner].
func (n *NullInt64) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = 0
	case int64:
		*n = NullInt64(v)
	default:
		var x sql.NullInt64
		if err := x.Scan(src); err != nil {
			return err
		}
		*n = NullInt64(x.Int64)
	}
	return nil
}

// NullFloat64 scans a nullable floating-point column: NULL is 0. SQLite
// may hand an integer for it.
type NullFloat64 float64

// Scan implements [sql.Scanner].
func (n *NullFloat64) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = 0
	case float64:
		*n = NullFloat64(v)
	case int64:
		*n = NullFloat64(v)
	default:
		var x sql.NullFloat64
		if err := x.Scan(src); err != nil {
			return err
		}
		*n = NullFloat64(x.Float64)
	}
	return nil
}

var (
	_ sql.Scanner = (*Time)(nil)
	_ sql.Scanner = (*NullInt64)(nil)
	_ sql.Scanner = (*NullFloat64)(nil)
)
