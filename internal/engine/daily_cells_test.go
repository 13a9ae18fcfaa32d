package engine

import (
	"math"
	"slices"
	"testing"
)

// TestSeriesFormsReadBackTheirCells appends series of every form to one
// segment and reads them back in order, as the queries and the levels do.
func TestSeriesFormsReadBackTheirCells(t *testing.T) {
	type series struct {
		name  string
		days  []uint8
		cents []int64
		qty   []float32
		form  uint8 // the flags expected
	}
	big := int64(math.MaxInt32) + 7
	cases := []series{
		{"OneCell", []uint8{30}, []int64{5}, []float32{1.5}, 0},
		{"ConsecutiveSame", []uint8{3, 4, 5, 6}, []int64{120, 120, 120, 120}, []float32{24, 24, 24, 24}, formConst},
		{"ConsecutiveVarying", []uint8{0, 1, 2}, []int64{1, 2, 3}, []float32{1, 1, 1}, 0},
		{"SameAmountOtherQuantity", []uint8{0, 1}, []int64{9, 9}, []float32{1, 2}, 0},
		{"SparseSame", []uint8{1, 5, 9}, []int64{-7, -7, -7}, []float32{0, 0, 0}, formSparse | formConst},
		{"SparseVarying", []uint8{0, 30}, []int64{big, -big}, []float32{3, 4}, formSparse | formWide},
		{"ConsecutiveSameBig", []uint8{10, 11, 12}, []int64{big, big, big}, []float32{2, 2, 2}, formConst | formWide},
		{"Int16Bounds", []uint8{0, 1}, []int64{math.MinInt16, math.MaxInt16}, []float32{1, 2}, 0},
		{"BeyondInt16", []uint8{0, 1}, []int64{math.MaxInt16 + 1, 1}, []float32{1, 2}, formWide},
		{"SameBeyondInt16", []uint8{7, 8}, []int64{math.MinInt16 - 1, math.MinInt16 - 1}, []float32{1, 1}, formConst | formWide},
		{"AfterBig", []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30},
			slices.Repeat([]int64{-1, 1}, 16)[:31], slices.Repeat([]float32{1}, 31), 0},
	}
	for _, withQty := range []bool{true, false} {
		var g dailySeg
		var end []int32
		n := int32(0)
		for _, c := range cases {
			qty := c.qty
			if !withQty {
				qty = nil
			}
			g.appendSeries(c.days, c.cents, qty)
			n += int32(len(c.days))
			end = append(end, n)
		}
		var pos, skipped cellPos
		var sc seriesCells
		for i, c := range cases {
			// Without quantities, equal amounts alone make a series
			// constant: the forms checked are those with them.
			if got := g.form[i] &^ formDay; withQty && got != c.form {
				t.Errorf("%s: form %#x, want %#x", c.name, got, c.form)
			}
			cells := int32(len(c.days))
			g.read(i, cells, &pos, &sc, withQty)
			g.skip(i, cells, &skipped)
			if skipped != pos {
				t.Fatalf("%s: skip moved to %+v, read to %+v", c.name, skipped, pos)
			}
			if !slices.Equal(sc.day[:sc.n], c.days) || !slices.Equal(sc.cents[:sc.n], c.cents) {
				t.Errorf("%s: read days %v cents %v, want %v %v", c.name, sc.day[:sc.n], sc.cents[:sc.n], c.days, c.cents)
			}
			if withQty && !slices.Equal(sc.qty[:sc.n], c.qty) {
				t.Errorf("%s: read quantities %v, want %v", c.name, sc.qty[:sc.n], c.qty)
			}
		}
		if int(pos.day) != len(g.day) || int(pos.val) != len(g.c16)+len(g.cents) || int(pos.wide) != len(g.cents) {
			t.Errorf("read to %+v, columns hold %d days, %d narrow and %d wide amounts", pos, len(g.day), len(g.c16), len(g.cents))
		}
		if withQty && len(g.qty) != len(g.c16)+len(g.cents) {
			t.Errorf("%d quantities for %d amounts", len(g.qty), len(g.c16)+len(g.cents))
		}
	}
}
