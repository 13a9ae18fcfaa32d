package engine

import (
	"cmp"
	"slices"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// The daily rollup's coarser levels. The rollup itself has a series for
// each (project, cluster, service, SKU, tag set) of an organization's
// month; most queries read far fewer dimensions, and a query's cost is the
// cells it adds up. So the snapshot also keeps the rollup summed over the
// dimensions that common views do not read, one table a level, each a
// segment for each of the rollup's segments (they share its orgSegs):
//
//   - by project and cluster (the cluster and project views);
//   - by service (the service view);
//   - for each tag key, by service and that key's values (a group-by or a
//     filter on one tag key), as long as these levels stay small (at most
//     1/tagLevelShare of the rollup's cells all together: keys with fewer
//     values first).
//
// A query reads the level with the fewest cells that holds every dimension
// it groups or filters by; a query that asks for quantities reads the rollup
// itself, where each cell's quantity is kept (the levels hold amounts only:
// summing float32 quantities into a float32 again would lose digits, and
// quantities only mean something down to a SKU anyway). The levels are
// summed from the finished rollup, so they hold the same cents.

// dimSet is a set of the dimensions a series may hold (the organization is
// always held, by the segment).
type dimSet uint8

const (
	keepProj dimSet = 1 << iota
	keepClus
	keepSvc
	keepSKU
	keepTags

	keepAll = keepProj | keepClus | keepSvc | keepSKU | keepTags
)

// fixedLevels are the levels built whatever the data.
var fixedLevels = []dimSet{keepProj | keepClus, keepSvc}

// tagLevelShare bounds the levels by tag key: their cells, all together,
// are at most the rollup's divided by it (0: no bound; the tests' setting).
var tagLevelShare = 8

// levelSummer sums the segments of the rollup into one level.
type levelSummer struct {
	keep dimSet
	rep  []int32 // for a level by tag key: each tag set's representative, the first with its values of the key

	// The sums of the segment being summed, by series (in order of first
	// sight) and day of the month.
	index map[seriesKey]int32
	keys  []seriesKey
	cents [][31]int64
	hit   []uint32 // bit d: day d has a cell

	sc     seriesCells // a series of the segment being summed
	out    dailySeg    // the summed segment, in scratch columns
	zero32 []int32     // zeros: the column of a dimension the level does not hold
	zero16 []uint16
}

func newLevelSummer(keep dimSet, rep []int32) *levelSummer {
	return &levelSummer{keep: keep, rep: rep, index: map[seriesKey]int32{}}
}

// project returns the level's series key of a rollup series.
func (l *levelSummer) project(k seriesKey) seriesKey {
	if l.keep&keepProj == 0 {
		k.proj = 0
	}
	if l.keep&keepClus == 0 {
		k.clus = 0
	}
	if l.keep&keepSvc == 0 {
		k.svc = 0
	}
	if l.keep&keepSKU == 0 {
		k.sku = 0
	}
	switch {
	case l.keep&keepTags == 0:
		k.tags = 0
	case l.rep != nil:
		k.tags = l.rep[k.tags]
	}
	return k
}

// sum sums segment g by the level's series and day, and returns the cells
// of the sums.
func (l *levelSummer) sum(g *dailySeg) int {
	clear(l.index)
	l.keys, l.cents, l.hit = l.keys[:0], l.cents[:0], l.hit[:0]
	var (
		start int32
		last  seriesKey
		si    int32 = -1
		pos   cellPos
	)
	sc := &l.sc
	for i, end := range g.end {
		k := l.project(g.key(i))
		if si < 0 || k != last {
			var ok bool
			if si, ok = l.index[k]; !ok {
				si = int32(len(l.keys))
				l.index[k] = si
				l.keys = append(l.keys, k)
				l.cents, l.hit = append(l.cents, [31]int64{}), append(l.hit, 0)
			}
			last = k
		}
		cents := &l.cents[si]
		g.read(i, end-start, &pos, sc, false)
		for c, d := range sc.day[:sc.n] {
			cents[d] += sc.cents[c]
			l.hit[si] |= 1 << d
		}
		start = end
	}
	n := 0
	for _, h := range l.hit {
		n += popcount(h)
	}
	return n
}

func popcount(h uint32) int {
	n := 0
	for ; h != 0; h &= h - 1 {
		n++
	}
	return n
}

// segment returns the sums of the last sum, of segment g, as a segment in
// arena a.
func (l *levelSummer) segment(g *dailySeg, a *arena) dailySeg {
	o := &l.out
	o.form, o.end, o.total, o.day, o.c16, o.cents, o.big = o.form[:0], o.end[:0], o.total[:0], o.day[:0], o.c16[:0], o.cents[:0], nil
	o.proj, o.clus, o.svc, o.tags = o.proj[:0], o.clus[:0], o.svc[:0], o.tags[:0]
	sc := &l.sc
	cells := int32(0)
	for si, k := range l.keys {
		o.proj, o.clus, o.svc, o.tags = append(o.proj, k.proj), append(o.clus, k.clus), append(o.svc, k.svc), append(o.tags, k.tags)
		var total int64
		sc.n = 0
		for d, h := 0, l.hit[si]; h != 0; d, h = d+1, h>>1 {
			if h&1 == 0 {
				continue
			}
			v := l.cents[si][d]
			total += v
			sc.day[sc.n], sc.cents[sc.n] = uint8(d), v
			sc.n++
		}
		o.appendSeries(sc.day[:sc.n], sc.cents[:sc.n], nil)
		cells += int32(sc.n)
		o.end, o.total = append(o.end, cells), append(o.total, total)
	}
	n := len(l.keys)
	if len(l.zero32) < n {
		l.zero32, l.zero16 = make([]int32, 2*n), make([]uint16, 2*n)
	}
	seg := dailySeg{org: g.org, month: g.month, first: g.first,
		proj: l.zero32[:n:n], clus: l.zero32[:n:n], svc: l.zero16[:n:n], sku: l.zero32[:n:n], tags: l.zero32[:n:n],
		form: clone(a, o.form), end: clone(a, o.end), total: clone(a, o.total), day: clone(a, o.day), c16: clone(a, o.c16), cents: clone(a, o.cents), big: o.big}
	if l.keep&keepProj != 0 {
		seg.proj = clone(a, o.proj)
	}
	if l.keep&keepClus != 0 {
		seg.clus = clone(a, o.clus)
	}
	if l.keep&keepSvc != 0 {
		seg.svc = clone(a, o.svc)
	}
	if l.keep&keepTags != 0 {
		seg.tags = clone(a, o.tags)
	}
	return seg
}

// level sums the rollup (levels[0]) into a level: nil when it would have
// more than max cells (max < 0: no bound).
func (s *dailySnapshot) level(keep dimSet, tagKey string, rep []int32, a *arena, max int) *dailyTable {
	full := &s.levels[0]
	l := newLevelSummer(keep, rep)
	if max >= 0 {
		n := 0
		for i := range full.segs {
			if n += l.sum(&full.segs[i]); n > max {
				return nil
			}
		}
	}
	t := &dailyTable{keep: keep, tagKey: tagKey, orgSegs: full.orgSegs, segs: make([]dailySeg, 0, len(full.segs))}
	for i := range full.segs {
		g := &full.segs[i]
		l.sum(g)
		t.add(l.segment(g, a))
	}
	return t
}

// buildLevels sums the rollup (levels[0]) into the coarser levels.
func (s *dailySnapshot) buildLevels(a *arena) {
	for _, keep := range fixedLevels {
		s.levels = append(s.levels, *s.level(keep, "", nil, a, -1))
	}
	// The tag keys, fewest values first, each tag set's representative
	// for each.
	type keyValues struct {
		key    string
		rep    []int32
		values int
	}
	var keys []keyValues
	s.tagKeys = map[string]bool{}
	for _, ts := range s.tagSets {
		for k := range ts.All() {
			s.tagKeys[k] = true
		}
	}
	for k := range s.tagKeys {
		kv := keyValues{key: k, rep: make([]int32, len(s.tagSets))}
		first := map[string]int32{}
		for i, ts := range s.tagSets {
			v := strings.Join(ts.Values(k), costexplorer.TagValueSeparator)
			r, ok := first[v]
			if !ok {
				r = int32(i)
				first[v] = r
			}
			kv.rep[i] = r
		}
		kv.values = len(first)
		keys = append(keys, kv)
	}
	slices.SortFunc(keys, func(a, b keyValues) int {
		return cmp.Or(cmp.Compare(a.values, b.values), strings.Compare(a.key, b.key))
	})
	budget := -1
	if tagLevelShare > 0 {
		budget = s.levels[0].cells / tagLevelShare
	}
	for _, kv := range keys {
		t := s.level(keepSvc|keepTags, kv.key, kv.rep, a, budget)
		if t == nil {
			continue
		}
		if budget >= 0 {
			budget -= t.cells
		}
		s.levels = append(s.levels, *t)
	}
}
