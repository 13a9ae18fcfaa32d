package focus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// randomRows returns n rows of every kind of cell: nulls in nullable
// columns, strings repeating from row to row, from a few values and from
// many (past a small dictionary's size), times, cents and doubles.
func randomRows(n int) []Row {
	rnd := rand.New(rand.NewPCG(1, 2))
	few := []string{"Usage", "Credit", "a, \"quoted\" one", "été"}
	rows := make([]Row, n)
	for i := range rows {
		r := &rows[i]
		for ci, c := range allColumns {
			if c.Nullable && rnd.IntN(5) == 0 {
				r[ci] = Cell{Null: true}
				continue
			}
			switch c.Kind {
			case Cents:
				r[ci] = Cell{I: rnd.Int64N(1<<40) - 1<<39}
			case Time:
				r[ci] = Cell{I: 1_700_000_000 + int64(i/100)*3600}
			case Decimal, Quantity:
				r[ci] = Cell{F: rnd.NormFloat64() * 1e6}
			default:
				switch ci % 3 {
				case 0: // repeats from row to row
					r[ci] = Cell{S: few[i/1000%len(few)]}
				case 1:
					r[ci] = Cell{S: few[rnd.IntN(len(few))]}
				default: // many distinct values
					r[ci] = Cell{S: fmt.Sprintf("%s-%d", c.Name, rnd.IntN(n))}
				}
			}
		}
	}
	return rows
}

// TestParquetWriterRoundTrip writes rows over several row groups, with
// dictionaries that fill up, and reads them back with parquet-go.
func TestParquetWriterRoundTrip(t *testing.T) {
	for _, spec := range []Spec{Spec13, Spec12} {
		t.Run(string(spec), func(t *testing.T) {
			const n = 5*pageRows + 123
			rows := randomRows(n)
			var buf bytes.Buffer
			w := newParquetWriter(&buf, spec)
			w.rowGroupRows, w.dictMax = 2*pageRows, 4<<10
			for i := range rows {
				if err := w.Write(&rows[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.NumRows(); got != n {
				t.Fatalf("NumRows = %d, want %d", got, n)
			}
			if got := len(f.RowGroups()); got != 3 {
				t.Errorf("%d row groups, want 3", got)
			}
			// Some chunk fell back from its dictionary to plain pages.
			fellBack := false
			for _, rg := range f.Metadata().RowGroups {
				for _, cc := range rg.Columns {
					e := cc.MetaData.Encoding
					fellBack = fellBack || slices.Contains(e, format.RLEDictionary) && slices.Contains(e, format.Plain) && cc.MetaData.Type == format.ByteArray
				}
			}
			// DuckDB trusts each chunk's null_count: 0 and it reads no levels.
			idx := indexes(spec)
			for j, ci := range idx {
				var want, got int64
				for i := range rows {
					if rows[i][ci].Null {
						want++
					}
				}
				for _, rg := range f.Metadata().RowGroups {
					got += rg.Columns[j].MetaData.Statistics.NullCount
				}
				if got != want {
					t.Errorf("%s: null_count sums to %d, want %d", allColumns[ci].Name, got, want)
				}
			}
			if !fellBack {
				t.Error("no dictionary fell back to plain encoding")
			}
			if kv, _ := f.Lookup("FocusVersion"); kv != string(spec) {
				t.Errorf("FocusVersion = %q, want %q", kv, spec)
			}

			r := parquet.NewReader(f)
			defer r.Close()
			got := make([]parquet.Row, 100)
			i := 0
			for {
				k, err := r.ReadRows(got)
				for _, pr := range got[:k] {
					for _, pv := range pr {
						ci := idx[pv.Column()]
						if want, have := rows[i][ci], cellOf(allColumns[ci].Kind, pv); want != have {
							t.Fatalf("row %d, %s: got %+v, want %+v", i, allColumns[ci].Name, have, want)
						}
					}
					i++
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if i != n {
				t.Fatalf("read %d rows, want %d", i, n)
			}
		})
	}
}

// cellOf returns the Cell a writer was given for pv, a value of kind.
func cellOf(kind Kind, pv parquet.Value) Cell {
	switch {
	case pv.IsNull():
		return Cell{Null: true}
	case kind == Cents:
		return Cell{I: pv.Int64()}
	case kind == Time:
		return Cell{I: pv.Int64() / 1000}
	case kind == Decimal || kind == Quantity:
		return Cell{F: pv.Double()}
	}
	return Cell{S: string(pv.ByteArray())}
}

// TestParquetWriterEmpty writes a file without rows.
func TestParquetWriterEmpty(t *testing.T) {
	var buf bytes.Buffer
	w := newParquetWriter(&buf, Latest)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 0 || len(f.Schema().Fields()) != len(Columns(Latest)) {
		t.Fatalf("%d rows, %d columns", f.NumRows(), len(f.Schema().Fields()))
	}
}

// TestParquetWriterNullInRequired fails on a null in a required column.
func TestParquetWriterNullInRequired(t *testing.T) {
	rows := randomRows(1)
	rows[0][colBilledCost] = Cell{Null: true}
	w := newParquetWriter(io.Discard, Latest)
	if err := w.Write(&rows[0]); !errors.Is(err, errNullInField) {
		t.Fatalf("Write: %v, want %v", err, errNullInField)
	}
}

// TestParquetWriterDiscard closes the temporary files of an export that
// stopped before Close.
func TestParquetWriterDiscard(t *testing.T) {
	rows := randomRows(pageRows)
	w := newParquetWriter(io.Discard, Latest)
	for i := range rows {
		if err := w.Write(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	w.discard()
	for _, c := range w.cols {
		if c.tmp != nil {
			t.Fatalf("column %s: temporary file still open", c.name)
		}
	}
}
