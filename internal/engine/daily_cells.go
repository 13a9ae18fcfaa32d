package engine

import "math"

// How a daily series keeps its cells. Most series need less than a day
// byte, an amount and a quantity a cell: a resource charged every day has
// its cells on consecutive days, and one charged by the hour or at a fixed
// price has the same amount and quantity every day. So each series has a
// form byte:
//
//   - its low five bits are the day of its first cell;
//   - formSparse: its days are not consecutive, and each cell has its day
//     in the segment's day column (otherwise the days are the first day and
//     those after it, and the day column holds nothing of the series);
//   - formConst: every cell has the same amount and quantity, which the
//     value columns hold once for the series (otherwise once a cell);
//   - formWide: its amounts are in the int32 column (cents; bigCents and
//     the side map for the rare amount beyond), otherwise in the int16
//     column (c16): most daily amounts are below 327.67 dollars.
//
// A series' cells are found by walking the segment's series in order
// (cellPos): the day and value columns hold the series one after the other.
// Series have at most 31 cells (one a day of a month).
const (
	formDay    uint8 = 0x1f
	formSparse uint8 = 0x20
	formConst  uint8 = 0x40
	formWide   uint8 = 0x80
)

// seriesCells is one series' cells, decoded.
type seriesCells struct {
	n     int
	day   [31]uint8
	cents [31]int64
	qty   [31]float32
}

// cellPos is where a series' cells start in a segment's columns: day in
// day, val in qty, wide in cents and val-wide in c16.
type cellPos struct{ day, val, wide int32 }

// appendSeries appends the form and the cells of one series to g: n cells,
// on days (increasing, at most 31), with amounts cents and quantities qty
// (nil: the segment keeps no quantities).
func (g *dailySeg) appendSeries(days []uint8, cents []int64, qty []float32) {
	n := len(days)
	form := days[0]
	if int(days[n-1])-int(days[0]) != n-1 {
		form |= formSparse
		g.day = append(g.day, days...)
	}
	same := true
	for i := 1; i < n && same; i++ {
		same = cents[i] == cents[0] && (qty == nil || math.Float32bits(qty[i]) == math.Float32bits(qty[0]))
	}
	if same && n > 1 {
		form |= formConst
		n = 1
	}
	narrow := true
	for _, v := range cents[:n] {
		narrow = narrow && v >= math.MinInt16 && v <= math.MaxInt16
	}
	if narrow {
		for _, v := range cents[:n] {
			g.c16 = append(g.c16, int16(v))
		}
	} else {
		form |= formWide
		for _, v := range cents[:n] {
			g.appendAmount(v)
		}
	}
	if qty != nil {
		g.qty = append(g.qty, qty[:n]...)
	}
	g.form = append(g.form, form)
}

// read decodes series si, of n cells starting at p, into sc (quantities
// only when qty), and moves p past it.
func (g *dailySeg) read(si int, n int32, p *cellPos, sc *seriesCells, qty bool) {
	form := g.form[si]
	sc.n = int(n)
	if form&formSparse != 0 {
		copy(sc.day[:n], g.day[p.day:p.day+n])
		p.day += n
	} else {
		for i, d := int32(0), form&formDay; i < n; i++ {
			sc.day[i] = d + uint8(i)
		}
	}
	values := n
	if form&formConst != 0 {
		values = 1
	}
	if form&formWide != 0 {
		for i, c := range g.cents[p.wide : p.wide+values] {
			v := int64(c)
			if c == bigCents {
				v = g.big[p.wide+int32(i)]
			}
			sc.cents[i] = v
		}
		p.wide += values
	} else {
		for i, c := range g.c16[p.val-p.wide : p.val-p.wide+values] {
			sc.cents[i] = int64(c)
		}
	}
	if qty {
		copy(sc.qty[:values], g.qty[p.val:p.val+values])
	}
	p.val += values
	if values == 1 {
		for i := int32(1); i < n; i++ {
			sc.cents[i] = sc.cents[0]
			sc.qty[i] = sc.qty[0]
		}
	}
}

// skip moves p past series si, of n cells.
func (g *dailySeg) skip(si int, n int32, p *cellPos) {
	form := g.form[si]
	if form&formSparse != 0 {
		p.day += n
	}
	if form&formConst != 0 {
		n = 1
	}
	if form&formWide != 0 {
		p.wide += n
	}
	p.val += n
}
