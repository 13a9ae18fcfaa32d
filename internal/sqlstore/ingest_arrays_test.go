package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// execLog is a [Bulk] that records the statements run through Exec.
type execLog struct {
	Bulk
	queries []string
	args    [][]any
}

// Exec records a copy of the arguments: a statement's arrays are the
// caller's again once it returns.
func (l *execLog) Exec(_ context.Context, query string, args ...any) error {
	copied := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case []int32:
			copied[i] = slices.Clone(a)
		case []int64:
			copied[i] = slices.Clone(a)
		case []float64:
			copied[i] = slices.Clone(a)
		case [][]byte:
			copied[i] = slices.Clone(a)
		case []string:
			copied[i] = slices.Clone(a)
		default:
			copied[i] = a
		}
	}
	l.queries = append(l.queries, query)
	l.args = append(l.args, copied)
	return nil
}

// TestArrayStatementsAreBounded checks that the statements over arrays (a
// dialect that binds them) carry at most arrayChunk rows each, and every
// row once, in order: the upserts (of numbers and of text), the prunes and
// the deletion of restated items.
func TestArrayStatementsAreBounded(t *testing.T) {
	defer func(n int) { arrayChunk = n }(arrayChunk)
	arrayChunk = 3
	const n = 8 // three statements: 3, 3 and 2 rows
	log := &execLog{}
	tx := &ingestTx{ctx: context.Background(), bulk: log, opts: &IngestOptions{Arrays: true}}
	// column c of row i is i*10+c, so that each array shows which rows it holds.
	var wantRows []int64
	for i := range n {
		wantRows = append(wantRows, int64(i*10))
	}
	check := func(what string, statement string, first func(args []any) []int64) {
		t.Helper()
		if len(log.queries) != 3 {
			t.Fatalf("%s: %d statements, want 3", what, len(log.queries))
		}
		var rows []int64
		for k, q := range log.queries {
			if q != statement {
				t.Errorf("%s: statement %d is %q, want %q", what, k, q, statement)
			}
			rows = append(rows, first(log.args[k])...)
		}
		if !slices.Equal(rows, wantRows) {
			t.Errorf("%s: rows %v, want %v", what, rows, wantRows)
		}
		log.queries, log.args = nil, nil
	}

	err := tx.upsert(func(source string) string { return "UPSERT " + source }, []string{"int", "bigint", "float8"}, n, func(i int, row []any) {
		row[0], row[1], row[2] = int64(i*10), int64(i*10+1), float64(i*10+2)
	})
	if err != nil {
		t.Fatal(err)
	}
	check("upsert", "UPSERT SELECT * FROM unnest(?::int[], ?::bigint[], ?::float8[])", func(args []any) []int64 {
		var rows []int64
		for j, v := range args[0].([]int32) {
			if args[1].([]int64)[j] != int64(v)+1 || args[2].([]float64)[j] != float64(v)+2 {
				t.Errorf("upsert: columns of row %d apart: %v", v/10, args)
			}
			rows = append(rows, int64(v))
		}
		return rows
	})

	err = tx.upsert(func(source string) string { return "ADD " + source }, []string{"int", "text"}, n, func(i int, row []any) {
		row[0], row[1] = int64(i*10), fmt.Sprint(i*10+1)
	})
	if err != nil {
		t.Fatal(err)
	}
	check("upsert of text", "ADD SELECT * FROM unnest(?::int[], ?::text[])", func(args []any) []int64 {
		var rows []int64
		for j, v := range args[0].([]int32) {
			if args[1].([]string)[j] != fmt.Sprint(v+1) {
				t.Errorf("upsert of text: columns of row %d apart: %v", v/10, args)
			}
			rows = append(rows, int64(v))
		}
		return rows
	})

	err = tx.prune("cells", []string{"a", "b"}, "TRUE", n, func(i int, k []int64) { k[0], k[1] = int64(i*10), int64(i*10+1) })
	if err != nil {
		t.Fatal(err)
	}
	check("prune", "DELETE FROM cells USING unnest(?::bigint[], ?::bigint[]) AS k(k0, k1) WHERE cells.a = k.k0 AND cells.b = k.k1 AND TRUE",
		func(args []any) []int64 { return slices.Clone(args[0].([]int64)) })

	tx.restate.dropped = map[dictUse]bool{}
	var gone []ItemRow
	for i := range n {
		gone = append(gone, ItemRow{Item: &costexplorer.LineItem{Date: costexplorer.Day(i)}, Org: int64(i * 10), Invoice: 1})
	}
	if err := tx.removeItems(gone); err != nil {
		t.Fatal(err)
	}
	if len(log.queries) > 0 && !strings.HasPrefix(log.queries[0], "DELETE FROM line_items") {
		t.Fatalf("removeItems ran %q first", log.queries[0])
	}
	check("removeItems", log.queries[0], func(args []any) []int64 {
		var rows []int64
		for _, v := range args[0].([]int32) {
			rows = append(rows, int64(v))
		}
		return rows
	})
}
