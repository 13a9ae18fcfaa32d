package sqlstore

import "context"

// Row-reading helpers of the core: one row, a list of values, a loop.

// one reads the single row of a query on the read side (through SQLite's
// statement cache: query must be constant text). No row is ErrNotFound,
// detailed by missing formatted with key.
func one[T any](ctx context.Context, s *Store, scan func(Row) (*T, error), missing, key, query string, args ...any) (*T, error) {
	var v *T
	err := s.r.Read(ctx, func(q Querier) error {
		var err error
		v, err = scan(q.QueryRow(ctx, query, args...))
		if s.d.IsNoRows(err) {
			return notFound(missing, key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// list reads the rows of a query on the read side, one value each.
func list[T any](ctx context.Context, s *Store, scan func(Row) (*T, error), query string, args ...any) ([]*T, error) {
	var out []*T
	err := s.r.Read(ctx, func(q Querier) error {
		var err error
		out, err = collect(ctx, q, scan, query, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// collect reads the rows of a query within q, one value each (an empty,
// non-nil slice for none).
func collect[T any](ctx context.Context, q Querier, scan func(Row) (*T, error), query string, args ...any) ([]*T, error) {
	out := []*T{}
	err := Each(ctx, q, query, func(r Row) error {
		v, err := scan(r)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, args...)
	return out, err
}

// BytesScanner is a scan destination that takes a text or blob column's
// bytes as they are, valid during the call only: a dialect that can hand
// them over without a copy (SQLite's direct connections) does, else the
// destination's [sql.Scanner] gets them.
type BytesScanner interface {
	ScanBytes(b []byte) error
}

// Each runs query within q and calls fn for each row.
func Each(ctx context.Context, q Querier, query string, fn func(Row) error, args ...any) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachString runs a query of one text column within q and calls fn for each
// value.
func EachString(ctx context.Context, q Querier, query string, fn func(string), args ...any) error {
	return Each(ctx, q, query, func(r Row) error {
		var s string
		if err := r.Scan(&s); err != nil {
			return err
		}
		fn(s)
		return nil
	}, args...)
}
