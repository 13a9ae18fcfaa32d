package engine

import (
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/costexplorer/costexplorer"
)

// This file answers usage queries (DESIGN §5.5) over the daily table
// (daily.go), as costexplorer.EvaluateUsageNaive defines the answer. A query
// walks the months of its window; in each, it visits the segments of the
// organizations in scope, tests the filter and finds the group once per
// series, and adds the series' cells in the window to per-(group, day) sums.
// At the end of a month, its groups are sorted (group numbers follow result
// order) and its rows emitted day by day.

// seriesRef is the values of one series: what a filter tests and a
// group-by reads.
type seriesRef struct {
	org, proj, clus int32
	svc             uint16
	sku, tags       int32
}

// dimKind is a dimension of a usage query resolved on a snapshot.
type dimKind uint8

const (
	dimOrg dimKind = iota
	dimProj
	dimClus
	dimSvc
	dimSKU
	dimTag
)

// kindOf resolves d; tag dimensions also return their key.
func kindOf(d costexplorer.Dimension) (dimKind, string, bool) {
	switch d {
	case costexplorer.DimOrganizations:
		return dimOrg, "", true
	case costexplorer.DimProjects:
		return dimProj, "", true
	case costexplorer.DimClusters:
		return dimClus, "", true
	case costexplorer.DimServices:
		return dimSvc, "", true
	case costexplorer.DimSKUs:
		return dimSKU, "", true
	}
	if !d.Valid() {
		return 0, "", false
	}
	k, _ := d.TagKey()
	return dimTag, k, true
}

// dictOf returns the dictionary of a fixed dimension.
func (s *dailySnapshot) dictOf(k dimKind) *dict {
	switch k {
	case dimOrg:
		return s.orgs
	case dimProj:
		return s.projects
	case dimClus:
		return s.clusters
	case dimSvc:
		return s.services
	}
	return s.skus
}

// value returns a series' number in dimension k (a tag set for tags).
func (v *seriesRef) value(k dimKind) int32 {
	switch k {
	case dimOrg:
		return v.org
	case dimProj:
		return v.proj
	case dimClus:
		return v.clus
	case dimSvc:
		return int32(v.svc)
	case dimSKU:
		return v.sku
	}
	return v.tags
}

// grouper numbers the groups of one group-by dimension in result order.
// For the fixed dimensions a group's number is its dictionary number (whose
// order is by name, then id); for a tag key, the rank of the tag set's
// values, joined, among all tag sets' (rank[tag set]).
type grouper struct {
	kind   dimKind
	tagKey string
	d      *dict
	rank   []int32
	groups []costexplorer.UsageGroup // a tag key's groups by rank
	n      int64
}

func (s *dailySnapshot) grouper(k dimKind, key string) *grouper {
	if k != dimTag {
		d := s.dictOf(k)
		return &grouper{kind: k, d: d, n: int64(len(d.ids))}
	}
	tk := s.tagKey(key)
	return &grouper{kind: dimTag, tagKey: key, rank: tk.rank, groups: tk.groups, n: int64(len(tk.groups))}
}

// tagKey is what a query reads of one tag key: each tag set's values, and
// its group's rank among the groups (the values joined) in result order.
type tagKey struct {
	values [][]string // by tag set
	rank   []int32    // by tag set
	groups []costexplorer.UsageGroup
}

// tagKey returns the tag set's values of key, computed once per snapshot
// for the keys its tag sets hold (a bounded number: a key no tag set holds
// costs little and is not kept).
func (s *dailySnapshot) tagKey(key string) *tagKey {
	if v, ok := s.tagKeyCache.Load(key); ok {
		return v.(*tagKey)
	}
	sets := s.tagSets
	tk := &tagKey{values: make([][]string, len(sets)), rank: make([]int32, len(sets))}
	ids := make([]string, len(sets))
	for i, ts := range sets {
		tk.values[i] = ts.Values(key)
		ids[i] = strings.Join(tk.values[i], costexplorer.TagValueSeparator)
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(ids)))
	for i, id := range ids {
		r, _ := slices.BinarySearch(distinct, id)
		tk.rank[i] = int32(r)
	}
	for _, id := range distinct {
		tk.groups = append(tk.groups, costexplorer.UsageGroup{ID: id, Name: id})
	}
	if s.tagKeys[key] {
		s.tagKeyCache.Store(key, tk)
	}
	return tk
}

func (g *grouper) of(v *seriesRef) int32 {
	if g.kind == dimTag {
		return g.rank[v.tags]
	}
	return v.value(g.kind)
}

func (g *grouper) group(n int32) costexplorer.UsageGroup {
	if g.kind == dimTag {
		return g.groups[n]
	}
	return costexplorer.UsageGroup{ID: g.d.ids[n], Name: g.d.names[n]}
}

// matcher is a filter expression resolved on a snapshot: a leaf says which
// numbers of its dimension pass (tag sets for a tag key).
type matcher struct {
	and, or bool
	not     bool
	kids    []*matcher
	kind    dimKind
	tagKey  string
	ok      []bool
}

// matcher compiles e; ErrValidation for a leaf whose dimension is not valid.
func (s *dailySnapshot) matcher(e *costexplorer.Filter) (*matcher, error) {
	switch {
	case e == nil:
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "filter: null expression")
	case e.And != nil || e.Or != nil:
		m := &matcher{and: e.And != nil, or: e.And == nil}
		list := e.And
		if list == nil {
			list = e.Or
		}
		for _, c := range list {
			k, err := s.matcher(c)
			if err != nil {
				return nil, err
			}
			m.kids = append(m.kids, k)
		}
		return m, nil
	case e.Not != nil:
		k, err := s.matcher(e.Not)
		if err != nil {
			return nil, err
		}
		return &matcher{not: true, kids: []*matcher{k}}, nil
	}
	kind, key, ok := kindOf(e.Dimension)
	if !ok {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "filter: dimension %q is not one of organizations, projects, clusters, services, skus or tag:KEY", e.Dimension)
	}
	in := make(map[string]bool, len(e.In))
	for _, v := range e.In {
		in[v] = true
	}
	// pass reports whether an item with these values passes the leaf.
	pass := func(vals []string) bool {
		if e.Absent {
			return len(vals) == 0
		}
		for _, v := range vals {
			if in[v] {
				return true
			}
		}
		return false
	}
	m := &matcher{kind: kind, tagKey: key}
	if kind == dimTag {
		for _, vals := range s.tagKey(key).values {
			m.ok = append(m.ok, pass(vals))
		}
		return m, nil
	}
	for _, id := range s.dictOf(kind).ids {
		var vals []string
		if id != "" {
			vals = []string{id}
		}
		m.ok = append(m.ok, pass(vals))
	}
	return m, nil
}

func (m *matcher) match(v *seriesRef) bool {
	switch {
	case m.and:
		for _, k := range m.kids {
			if !k.match(v) {
				return false
			}
		}
		return true
	case m.or:
		for _, k := range m.kids {
			if k.match(v) {
				return true
			}
		}
		return false
	case m.not:
		return !m.kids[0].match(v)
	}
	return m.ok[v.value(m.kind)]
}

// usageEval is the state of one usage query while it runs.
type usageEval struct {
	q        *costexplorer.UsageQuery
	groupers []*grouper
	filter   *matcher
	quantity bool
	slots    int // sums per group in a month: 31 days, or 1 for monthly queries

	// The groups of the month being summed: keys[i] is group i's key
	// (numbers of each group-by, combined in result order), sums by slot.
	// A key's group is dense[key]-1 when the key space is small, else
	// index[key].
	dense []int32
	index map[int64]int32
	keys  []int64
	cents []int64
	qty   []float64
	hit   []bool // reused from month to month

	series seriesCells // the cells of the series being summed
	ans    *usageAnswer
}

// usageAnswer is a usage query's answer as the engine holds it: the sums of
// each month by group and slot, and the rows as references to them, in the
// answer's order (4 bytes a row). A row is made only when it is read, so
// that a page of a large answer costs what the page holds. It implements
// costexplorer.UsageRows; like them, it is not for concurrent use (it
// caches the groups of the rows it made).
type usageAnswer struct {
	q        *costexplorer.UsageQuery
	groupers []*grouper
	quantity bool
	slots    int

	months  []monthSums
	periods []answerPeriod // the periods that have rows, in order
	rows    []int32        // row i: its group's number in its month

	groups map[int64][]costexplorer.UsageGroup // by key: one slice shared by the rows of a group
}

// monthSums is the sums of one month: keys[i] is group i's key, cents and
// qty its sums by slot.
type monthSums struct {
	keys  []int64
	cents []int64
	qty   []float64
}

// answerPeriod is one period of an answer with rows: their Start, the month
// and slot of their sums, and the end of its rows (those of the periods
// before it included).
type answerPeriod struct {
	start costexplorer.Day
	month int32
	slot  int32
	end   int32
}

// evaluateUsage answers q on s.
func (s *dailySnapshot) evaluateUsage(q *costexplorer.UsageQuery) (*usageAnswer, error) {
	if q.Granularity != costexplorer.Daily && q.Granularity != costexplorer.Monthly {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "granularity %q is not DAILY or MONTHLY", q.Granularity)
	}
	if len(q.GroupBy) > costexplorer.MaxGroupBy {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "more than %d group-bys", costexplorer.MaxGroupBy)
	}
	ev := &usageEval{q: q, quantity: q.Has(costexplorer.MetricQuantity), slots: 31}
	if q.Granularity == costexplorer.Monthly {
		ev.slots = 1
	}
	for _, d := range q.GroupBy {
		k, key, ok := kindOf(d)
		if !ok {
			return nil, costexplorer.Errorf(costexplorer.ErrValidation, "groupBy %q is not one of organizations, projects, clusters, services, skus or tag:KEY", d)
		}
		ev.groupers = append(ev.groupers, s.grouper(k, key))
	}
	if q.Filter != nil {
		var err error
		if ev.filter, err = s.matcher(q.Filter); err != nil {
			return nil, err
		}
	}
	root, ok := s.orgs.index[q.OrgID]
	if !ok {
		return nil, costexplorer.Errorf(costexplorer.ErrNotFound, "organization %s not found", q.OrgID)
	}
	ev.ans = &usageAnswer{q: q, groupers: ev.groupers, quantity: ev.quantity, slots: ev.slots}
	if q.End <= q.Start {
		return ev.ans, nil
	}
	scope := []int32{root}
	if int(root) < len(s.linked) {
		scope = append(scope, s.linked[root]...)
	}
	keys := int64(1)
	for _, g := range ev.groupers {
		keys *= g.n
	}
	if keys <= denseKeys {
		ev.dense = getDense(int(keys))
		defer putDense(ev.dense)
	} else {
		ev.index = map[int64]int32{}
	}

	need, tagKeys := ev.needs()
	t := s.pickLevel(need, tagKeys, ev.quantity)
	first, last := q.Start.Month(), (q.End - 1).Month()
	// One cursor per organization in scope over its segments, by month.
	type cursor struct{ i, end int32 }
	curs := make([]cursor, 0, len(scope))
	for _, o := range scope {
		lo, hi := t.orgSegs[o], t.orgSegs[o+1]
		segs := t.segs[lo:hi]
		i := lo + int32(sort.Search(len(segs), func(i int) bool { return segs[i].month >= first }))
		curs = append(curs, cursor{i, hi})
	}
	for {
		// The next month any organization has data in.
		m, found := last+1, false
		for _, c := range curs {
			if c.i < c.end && t.segs[c.i].month < m {
				m, found = t.segs[c.i].month, true
			}
		}
		if !found {
			break
		}
		monthFirst := costexplorer.DayOf(m.Start())
		lo, hi := max(0, int(q.Start-monthFirst)), min(31, int(q.End-monthFirst))
		whole := q.Start <= monthFirst && q.End >= costexplorer.DayOf((m+1).Start())
		// The month's groups are at most its series and the key space:
		// room for them at once spares growing the sums.
		series := 0
		for _, c := range curs {
			for i := c.i; i < c.end && t.segs[i].month == m; i++ {
				series += len(t.segs[i].end)
			}
		}
		ev.reserve(int(min(int64(series), keys)))
		for ci := range curs {
			c := &curs[ci]
			for ; c.i < c.end && t.segs[c.i].month == m; c.i++ {
				ev.sum(&t.segs[c.i], lo, hi, whole)
			}
		}
		ev.endMonth(monthFirst, lo, hi)
	}
	// The columns live in the snapshot's arena, which is released once the
	// snapshot is unreachable: it must stay reachable until they are read.
	runtime.KeepAlive(s)
	return ev.ans, nil
}

// needs returns what the query reads: the dimensions it groups or filters
// by but the organization (every level holds it), and the tag keys.
func (ev *usageEval) needs() (dimSet, []string) {
	n, keys := ev.filter.needs(nil)
	for _, g := range ev.groupers {
		n |= g.kind.bit()
		if g.kind == dimTag {
			keys = append(keys, g.tagKey)
		}
	}
	return n, keys
}

func (m *matcher) needs(keys []string) (dimSet, []string) {
	if m == nil {
		return 0, keys
	}
	if m.and || m.or || m.not {
		var n dimSet
		for _, k := range m.kids {
			var kn dimSet
			kn, keys = k.needs(keys)
			n |= kn
		}
		return n, keys
	}
	if m.kind == dimTag {
		keys = append(keys, m.tagKey)
	}
	return m.kind.bit(), keys
}

// bit returns the dimension a series holds for k (none for organizations).
func (k dimKind) bit() dimSet {
	switch k {
	case dimProj:
		return keepProj
	case dimClus:
		return keepClus
	case dimSvc:
		return keepSvc
	case dimSKU:
		return keepSKU
	case dimTag:
		return keepTags
	}
	return 0
}

// pickLevel returns the level with the fewest cells that holds every
// dimension of need and the tag keys (and quantities, when asked for).
func (s *dailySnapshot) pickLevel(need dimSet, keys []string, quantity bool) *dailyTable {
	t := &s.levels[0]
	for i := range s.levels {
		l := &s.levels[i]
		if l.keep&need != need || quantity && !l.quantities || l.cells >= t.cells {
			continue
		}
		if need&keepTags != 0 && l.tagKey != "" && slices.ContainsFunc(keys, func(k string) bool { return k != l.tagKey }) {
			continue
		}
		t = l
	}
	return t
}

// sum adds the cells of segment g on days [lo, hi) of its month (whole:
// all of it).
func (ev *usageEval) sum(g *dailySeg, lo, hi int, whole bool) {
	var (
		start   int32
		lastKey int64 = -1
		gi      int32
		pos     cellPos
	)
	sc := &ev.series
	for si, end := range g.end {
		v := seriesRef{org: g.org, proj: g.proj[si], clus: g.clus[si], svc: g.svc[si], sku: g.sku[si], tags: g.tags[si]}
		n := end - start
		start = end
		if ev.filter != nil && !ev.filter.match(&v) {
			g.skip(si, n, &pos)
			continue
		}
		var key int64
		for _, gr := range ev.groupers {
			key = key*gr.n + int64(gr.of(&v))
		}
		if key != lastKey {
			gi, lastKey = ev.groupOf(key), key
		}
		base := int(gi) * ev.slots
		if whole && ev.slots == 1 {
			// A monthly period over the whole month: the series' sums.
			g.skip(si, n, &pos)
			ev.cents[base] += g.total[si]
			ev.hit[base] = true
			if ev.quantity {
				ev.qty[base] += g.qtotal[si]
			}
			continue
		}
		g.read(si, n, &pos, sc, ev.quantity)
		days := sc.day[:n]
		if ev.slots == 1 {
			// A monthly period over part of the month: the cells in the
			// window.
			for i, d := range days {
				if int(d) >= lo && int(d) < hi {
					ev.cents[base] += sc.cents[i]
					ev.hit[base] = true
					if ev.quantity {
						ev.qty[base] += float64(sc.qty[i])
					}
				}
			}
			continue
		}
		// Daily: each cell to its day's slot, in the group's 31.
		hit, sums := ev.hit[base:base+31], ev.cents[base:base+31]
		for i, d := range days {
			if !whole && (int(d) < lo || int(d) >= hi) {
				continue
			}
			sums[d] += sc.cents[i]
			hit[d] = true
		}
		if ev.quantity {
			qsums := ev.qty[base : base+31]
			for i, d := range days {
				if whole || int(d) >= lo && int(d) < hi {
					qsums[d] += float64(sc.qty[i])
				}
			}
		}
	}
}

// denseKeys bounds the key space that a slice indexes instead of a map
// (4 bytes a key; the slices are pooled, all zero between queries).
const denseKeys = 1 << 20

var densePool sync.Pool // of *[]int32, all zero

// getDense returns n zeros.
func getDense(n int) []int32 {
	if p, ok := densePool.Get().(*[]int32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]int32, n, max(n, 1<<12))
}

// putDense returns a slice from getDense, all zero again.
func putDense(s []int32) { densePool.Put(&s) }

// groupOf returns the number of the month's group of key, adding it.
func (ev *usageEval) groupOf(key int64) int32 {
	if ev.dense != nil {
		if gi := ev.dense[key]; gi > 0 {
			return gi - 1
		}
	} else if gi, ok := ev.index[key]; ok {
		return gi
	}
	gi := int32(len(ev.keys))
	if ev.dense != nil {
		ev.dense[key] = gi + 1
	} else {
		ev.index[key] = gi
	}
	ev.keys = append(ev.keys, key)
	n := len(ev.cents) + ev.slots
	ev.cents = slices.Grow(ev.cents, ev.slots)[:n]
	ev.hit = slices.Grow(ev.hit, ev.slots)[:n]
	clear(ev.cents[n-ev.slots:])
	clear(ev.hit[n-ev.slots:])
	if ev.quantity {
		ev.qty = slices.Grow(ev.qty, ev.slots)[:n]
		clear(ev.qty[n-ev.slots:])
	}
	return gi
}

// reserve makes room for n groups in the month's sums.
func (ev *usageEval) reserve(n int) {
	ev.keys = slices.Grow(ev.keys, n)
	ev.cents, ev.hit = slices.Grow(ev.cents, n*ev.slots), slices.Grow(ev.hit, n*ev.slots)
	if ev.quantity {
		ev.qty = slices.Grow(ev.qty, n*ev.slots)
	}
}

// endMonth lists the rows of the month that starts on monthFirst, days
// [lo, hi), day by day and each day's groups in result order, keeps its
// sums and starts the next month.
func (ev *usageEval) endMonth(monthFirst costexplorer.Day, lo, hi int) {
	a := ev.ans
	if ev.slots == 1 { // monthly: one period
		lo, hi = 0, 1
	}
	// The month's groups in result order: their keys sorted, each found
	// again by its key.
	sorted := slices.Clone(ev.keys)
	slices.Sort(sorted)
	order := make([]int32, len(sorted))
	for i, k := range sorted {
		if ev.dense != nil {
			order[i] = ev.dense[k] - 1
			ev.dense[k] = 0
		} else {
			order[i] = ev.index[k]
		}
	}
	clear(ev.index)
	mi := int32(len(a.months))
	a.rows = slices.Grow(a.rows, len(order)*(hi-lo))
	for d := lo; d < hi; d++ {
		n := len(a.rows)
		for _, gi := range order {
			if ev.hit[int(gi)*ev.slots+d] {
				a.rows = append(a.rows, gi)
			}
		}
		if len(a.rows) > n {
			a.periods = append(a.periods, answerPeriod{start: ev.q.PeriodStart(monthFirst + costexplorer.Day(d)),
				month: mi, slot: int32(d), end: int32(len(a.rows))})
		}
	}
	a.months = append(a.months, monthSums{keys: ev.keys, cents: ev.cents, qty: ev.qty})
	ev.keys, ev.cents, ev.qty, ev.hit = nil, nil, nil, ev.hit[:0]
}

// Len returns the number of rows.
func (a *usageAnswer) Len() int { return len(a.rows) }

// Row returns row i.
func (a *usageAnswer) Row(i int) costexplorer.UsageRow {
	p := sort.Search(len(a.periods), func(j int) bool { return int(a.periods[j].end) > i })
	return a.row(&a.periods[p], a.rows[i])
}

// row returns the row of group gi in period p.
func (a *usageAnswer) row(p *answerPeriod, gi int32) costexplorer.UsageRow {
	m := &a.months[p.month]
	slot := int(gi)*a.slots + int(p.slot)
	r := costexplorer.UsageRow{Start: p.start, Groups: a.groupsOf(m.keys[gi]), Amount: costexplorer.Cents(m.cents[slot])}
	if a.quantity {
		r.Quantity = m.qty[slot]
	}
	return r
}

// all returns every row.
func (a *usageAnswer) all() []costexplorer.UsageRow {
	rows := make([]costexplorer.UsageRow, len(a.rows))
	i := 0
	for pi := range a.periods {
		p := &a.periods[pi]
		for ; i < int(p.end); i++ {
			rows[i] = a.row(p, a.rows[i])
		}
	}
	return rows
}

// groupsOf returns the groups of a key, one slice for every row of the
// group.
func (a *usageAnswer) groupsOf(key int64) []costexplorer.UsageGroup {
	if gs, ok := a.groups[key]; ok {
		return gs
	}
	if a.groups == nil {
		a.groups = map[int64][]costexplorer.UsageGroup{}
	}
	gs := make([]costexplorer.UsageGroup, len(a.groupers))
	k := key
	for i := len(gs) - 1; i >= 0; i-- {
		gr := a.groupers[i]
		gs[i] = gr.group(int32(k % gr.n))
		k /= gr.n
	}
	a.groups[key] = gs
	return gs
}
