package engine

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer"
)

// The daily rollup in memory (DESIGN §5.5). A cell is one organization, day,
// project, cluster, SKU and tag set: about one a line item, so its layout
// decides the server's memory. Cells are cut into segments of one
// organization and one month, and within a segment into series: the cells
// of one (project, cluster, service, SKU, tag set), one a day. A series
// holds its dimensions, its sums and its form once (39 bytes); a cell holds
// its day of the month (1 byte), its amount (cents as an int16, or an int32
// in a series with larger amounts, the rare amount beyond ±21 million
// dollars in a side map) and its quantity (4 bytes: float32, about 7
// significant digits), except that a series on consecutive days keeps no
// days and a series with the same amount and quantity every day keeps them
// once (daily_cells.go). Queries filter and
// group a series at a time and then only add its cells' numbers. The
// coarser levels summed from it are in daily_levels.go.

// dailySeg is the cells of one organization and one month. Series i holds
// cells end[i-1] (0 for the first) to end[i], kept in the form form[i]
// (daily_cells.go).
type dailySeg struct {
	org   int32
	month costexplorer.Month
	first costexplorer.Day // the month's first day

	// Series columns.
	proj, clus []int32
	svc        []uint16
	sku        []int32
	tags       []int32
	form       []uint8
	end        []int32
	total      []int64   // the sum of the series' cents: a monthly query over the whole month reads it
	qtotal     []float64 // and of their quantities

	// Cell columns, series after series (see cellPos).
	day   []uint8 // day of the month, from 0, of the cells of sparse series
	c16   []int16 // amounts of narrow series
	cents []int32 // amounts of wide series; bigCents: the amount is in big, by its index in cents
	qty   []float32
	big   map[int32]int64
}

// bigCents marks a cell whose amount does not fit an int32.
const bigCents = math.MinInt32

// dailyTable is the daily rollup at one level of detail (daily_levels.go):
// segments ordered by organization and month (an organization and month
// may have several segments when the source does not give its cells
// together).
type dailyTable struct {
	keep       dimSet // the dimensions its series hold; the others are summed over (and zero)
	tagKey     string // with keepTags: "" the whole tag set, else only this key's values
	quantities bool   // it holds quantities (qtotal, qty)
	segs       []dailySeg
	orgSegs    []int32 // orgSegs[o]..orgSegs[o+1]: the segments of organization o
	cells      int
	series     int
	days       int // bytes of the day columns
	values     int // entries of the value columns: quantities, amounts
	wide       int // amounts in the int32 columns (the others in int16)
}

// bytes returns the memory of the table's columns (a column of a dimension
// it does not hold is shared zeros: not counted).
func (t *dailyTable) bytes() int64 {
	series, value := int64(1+4+8), int64(2)
	for _, d := range []struct {
		bit  dimSet
		size int64
	}{{keepProj, 4}, {keepClus, 4}, {keepSvc, 2}, {keepSKU, 4}, {keepTags, 4}} {
		if t.keep&d.bit != 0 {
			series += d.size
		}
	}
	if t.quantities {
		series, value = series+8, value+4
	}
	n := int64(len(t.orgSegs))*4 + int64(t.series)*series + int64(t.days) + int64(t.values)*value + int64(t.wide)*2
	for i := range t.segs {
		n += int64(len(t.segs[i].big))*48 + 15*24 + 24
	}
	return n
}

// dailyBuilder reads daily rollup rows into segments. Rows of one segment
// and series should come together, each series by day (the store's key
// order); any other order is still summed right, in more series and
// segments.
type dailyBuilder struct {
	d       *dims
	t       dailyTable // the rollup itself
	skus    *dict      // SKU id → its name (costexplorer.SKUName)
	tagSets []costexplorer.Tags
	tags    map[costexplorer.Tags]int32

	arena    *arena   // where the columns of finished segments go
	cur      dailySeg // the segment being read, in scratch columns
	open     bool     // cur holds a segment
	next     costexplorer.Day
	lastDay  int
	lastKey  seriesKey
	haveLast bool
	series   seriesCells // the cells of the series being read

	// The last ids seen and their numbers: consecutive rows mostly repeat
	// them, and a string comparison of shared strings is cheaper than a map
	// lookup.
	lastOrg, lastProj, lastClus, lastSKU string
	org, proj, clus, sku                 int32
	lastTags                             costexplorer.Tags
	tag                                  int32
}

type seriesKey struct {
	proj, clus int32
	svc        uint16
	sku, tags  int32
}

func newDailyBuilder(d *dims) *dailyBuilder {
	b := &dailyBuilder{d: d, arena: &arena{}, skus: newDict(true), tags: map[costexplorer.Tags]int32{}}
	b.t.keep, b.t.quantities = keepAll, true
	b.tags[costexplorer.Tags{}] = 0
	b.tagSets = []costexplorer.Tags{{}}
	b.org, b.proj, b.clus, b.sku = -1, -1, -1, -1
	return b
}

// add reads one row.
func (b *dailyBuilder) add(r *costexplorer.DailyRollupRow) error {
	if b.org < 0 || r.OrgID != b.lastOrg {
		b.lastOrg, b.org = r.OrgID, b.d.orgs.put(r.OrgID, "")
	}
	if b.proj < 0 || r.ProjectID != b.lastProj {
		b.lastProj, b.proj = r.ProjectID, b.d.projects.put(r.ProjectID, "")
	}
	if b.clus < 0 || r.ClusterID != b.lastClus {
		b.lastClus, b.clus = r.ClusterID, b.d.clusters.put(r.ClusterID, "")
	}
	if b.sku < 0 || r.SKU != b.lastSKU {
		b.lastSKU, b.sku = r.SKU, b.skus.put(r.SKU, costexplorer.SKUName(r.SKU))
	}
	if r.Tags != b.lastTags {
		tg, ok := b.tags[r.Tags]
		if !ok {
			tg = int32(len(b.tagSets))
			b.tags[r.Tags] = tg
			b.tagSets = append(b.tagSets, r.Tags)
		}
		b.lastTags, b.tag = r.Tags, tg
	}
	svc := b.d.services.put(string(r.Service), string(r.Service))
	if svc > 0xFFFF {
		return fmt.Errorf("engine: more than 65536 distinct services in the daily rollup")
	}
	g := &b.cur
	if !b.open || g.org != b.org || r.Day < g.first || r.Day >= b.next {
		b.flush()
		m := r.Day.Month()
		g.org, g.month, g.first = b.org, m, costexplorer.DayOf(m.Start())
		b.next = costexplorer.DayOf((m + 1).Start())
		b.open, b.haveLast = true, false
	}
	day := int(r.Day - g.first)
	k := seriesKey{b.proj, b.clus, uint16(svc), b.sku, b.tag}
	if !b.haveLast || k != b.lastKey || day <= b.lastDay {
		b.endSeries()
		g.newSeries(k)
		b.lastKey, b.haveLast = k, true
	}
	b.lastDay = day
	sc := &b.series
	sc.day[sc.n], sc.cents[sc.n], sc.qty[sc.n] = uint8(day), int64(r.Amount), float32(r.Quantity)
	sc.n++
	g.total[len(g.total)-1] += int64(r.Amount)
	g.qtotal[len(g.qtotal)-1] += r.Quantity
	return nil
}

// endSeries appends the cells of the series being read to its segment.
func (b *dailyBuilder) endSeries() {
	sc := &b.series
	if !b.haveLast || sc.n == 0 {
		return
	}
	g := &b.cur
	g.appendSeries(sc.day[:sc.n], sc.cents[:sc.n], sc.qty[:sc.n])
	prev := int32(0)
	if len(g.end) > 0 {
		prev = g.end[len(g.end)-1]
	}
	g.end = append(g.end, prev+int32(sc.n))
	sc.n = 0
}

// newSeries starts a series (its cells follow).
func (g *dailySeg) newSeries(k seriesKey) {
	g.proj, g.clus, g.svc, g.sku, g.tags = append(g.proj, k.proj), append(g.clus, k.clus), append(g.svc, k.svc), append(g.sku, k.sku), append(g.tags, k.tags)
	g.total, g.qtotal = append(g.total, 0), append(g.qtotal, 0)
}

// key returns the dimensions of series i.
func (g *dailySeg) key(i int) seriesKey {
	return seriesKey{g.proj[i], g.clus[i], g.svc[i], g.sku[i], g.tags[i]}
}

// appendAmount appends a cell's amount (to big when it does not fit an
// int32).
func (g *dailySeg) appendAmount(cents int64) {
	if cents > math.MinInt32 && cents <= math.MaxInt32 {
		g.cents = append(g.cents, int32(cents))
		return
	}
	if g.big == nil {
		g.big = map[int32]int64{}
	}
	g.big[int32(len(g.cents))] = cents
	g.cents = append(g.cents, bigCents)
}

// compact returns a copy of g whose columns are in the arena, without
// spare capacity, and resets g's columns for the next segment.
func (g *dailySeg) compact(a *arena) dailySeg {
	c := dailySeg{
		org: g.org, month: g.month, first: g.first,
		proj: clone(a, g.proj), clus: clone(a, g.clus), svc: clone(a, g.svc), sku: clone(a, g.sku),
		tags: clone(a, g.tags), form: clone(a, g.form), end: clone(a, g.end), total: clone(a, g.total), qtotal: clone(a, g.qtotal),
		day: clone(a, g.day), c16: clone(a, g.c16), cents: clone(a, g.cents), qty: clone(a, g.qty), big: g.big,
	}
	*g = dailySeg{proj: g.proj[:0], clus: g.clus[:0], svc: g.svc[:0], sku: g.sku[:0], tags: g.tags[:0], form: g.form[:0], end: g.end[:0],
		total: g.total[:0], qtotal: g.qtotal[:0], day: g.day[:0], c16: g.c16[:0], cents: g.cents[:0], qty: g.qty[:0]}
	return c
}

// flush ends the segment being read: its columns are copied to their exact
// size, so that the table holds no spare capacity.
func (b *dailyBuilder) flush() {
	if !b.open {
		return
	}
	b.endSeries()
	b.t.add(b.cur.compact(b.arena))
	b.open = false
}

// add appends a finished segment.
func (t *dailyTable) add(g dailySeg) {
	if n := len(g.end); n > 0 {
		t.cells += int(g.end[n-1])
	}
	t.series += len(g.end)
	t.days += len(g.day)
	t.values += len(g.c16) + len(g.cents)
	t.wide += len(g.cents)
	t.segs = append(t.segs, g)
}

// finish ends the build once the dictionaries are renumbered: series take
// the new numbers, segments are ordered by organization and month, and the
// coarser levels are summed from them.
func (b *dailyBuilder) finish(s *dailySnapshot, orgMap, projMap, clusMap, svcMap []int32) {
	b.flush()
	skuMap := b.skus.finish()
	s.skus, s.tagSets = b.skus, b.tagSets
	t := &b.t
	for i := range t.segs {
		g := &t.segs[i]
		g.org = orgMap[g.org]
		for j := range g.end {
			g.proj[j], g.clus[j], g.svc[j], g.sku[j] = projMap[g.proj[j]], clusMap[g.clus[j]], uint16(svcMap[g.svc[j]]), skuMap[g.sku[j]]
		}
	}
	slices.SortStableFunc(t.segs, func(a, b dailySeg) int {
		return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.month, b.month))
	})
	t.orgSegs = make([]int32, len(b.d.orgs.ids)+1)
	si := 0
	for o := range len(b.d.orgs.ids) + 1 {
		for si < len(t.segs) && int(t.segs[si].org) < o {
			si++
		}
		t.orgSegs[o] = int32(si)
	}
	s.levels = []dailyTable{*t}
	s.buildLevels(b.arena)
	b.arena.own(s)
}

// dailySnapshot is one immutable copy of the daily rollup with its own
// dictionaries (a few megabytes: built apart from the monthly snapshot, it
// cannot share that one's numbers).
type dailySnapshot struct {
	generation
	loadedAt time.Time
	loadTook time.Duration
	dims
	skus    *dict // SKU id → its name (costexplorer.SKUName), result order
	tagSets []costexplorer.Tags

	// levels are the daily rollup at each level of detail: levels[0] is
	// the rollup itself (daily_levels.go).
	levels []dailyTable

	tagKeys     map[string]bool // the keys of the tag sets
	tagKeyCache sync.Map        // tag key → *tagKey, for the keys of tagKeys
}

func (s *dailySnapshot) bytes() int64 {
	n := s.dims.bytes() + s.skus.bytes()
	for i := range s.levels {
		n += s.levels[i].bytes()
	}
	for _, ts := range s.tagSets {
		n += int64(len(ts.String())) + 16 + 48
	}
	return n
}

// buildDaily reads the source's daily rollup into a new snapshot, the data
// version first (see build).
func buildDaily(ctx context.Context, src Source, now func() time.Time) (*dailySnapshot, error) {
	began := time.Now()
	version, d, orgs, err := begin(ctx, src)
	if err != nil {
		return nil, err
	}
	b := newDailyBuilder(d)
	if err := src.ScanDailyRollup(ctx, b.add); err != nil {
		return nil, fmt.Errorf("engine: scan daily rollup: %w", err)
	}
	orgMap, projMap, clusMap, svcMap := d.finish(orgs)
	s := &dailySnapshot{generation: generation{version: version}, dims: *d}
	b.finish(s, orgMap, projMap, clusMap, svcMap)
	s.loadedAt = now()
	s.loadTook = time.Since(began)
	return s, nil
}
