package engine

import (
	"runtime"
	"slices"
	"sort"
	"strings"

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
	sets := s.tagSets
	ids := make([]string, len(sets))
	for i, ts := range sets {
		ids[i] = strings.Join(ts.Values(key), costexplorer.TagValueSeparator)
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(ids)))
	g := &grouper{kind: dimTag, rank: make([]int32, len(sets)), n: int64(len(distinct))}
	for i, id := range ids {
		r, _ := slices.BinarySearch(distinct, id)
		g.rank[i] = int32(r)
	}
	for _, id := range distinct {
		g.groups = append(g.groups, costexplorer.UsageGroup{ID: id, Name: id})
	}
	return g
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
	m := &matcher{kind: kind}
	if kind == dimTag {
		for _, ts := range s.tagSets {
			m.ok = append(m.ok, pass(ts.Values(key)))
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
	index map[int64]int32
	keys  []int64
	cents []int64
	qty   []float64
	hit   []bool

	rows   []costexplorer.UsageRow
	groups map[int64][]costexplorer.UsageGroup // by key: one slice shared by the rows of a group
}

// evaluateUsage answers q on s.
func (s *dailySnapshot) evaluateUsage(q *costexplorer.UsageQuery) ([]costexplorer.UsageRow, error) {
	if q.Granularity != costexplorer.Daily && q.Granularity != costexplorer.Monthly {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "granularity %q is not DAILY or MONTHLY", q.Granularity)
	}
	if len(q.GroupBy) > costexplorer.MaxGroupBy {
		return nil, costexplorer.Errorf(costexplorer.ErrValidation, "more than %d group-bys", costexplorer.MaxGroupBy)
	}
	ev := &usageEval{q: q, quantity: q.Has(costexplorer.MetricQuantity), slots: 31, index: map[int64]int32{},
		rows: []costexplorer.UsageRow{}, groups: map[int64][]costexplorer.UsageGroup{}}
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
	if q.End <= q.Start {
		return ev.rows, nil
	}
	scope := []int32{root}
	if int(root) < len(s.linked) {
		scope = append(scope, s.linked[root]...)
	}

	// Queries that read no dimension but the organization and the service
	// read the per-service sums.
	t := &s.table
	if ev.serviceLevel() {
		t = &s.bySvc
	}
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
		for ci := range curs {
			c := &curs[ci]
			for ; c.i < c.end && t.segs[c.i].month == m; c.i++ {
				ev.sum(&t.segs[c.i], lo, hi, whole)
			}
		}
		ev.emit(monthFirst, lo, hi)
	}
	// The columns live in the snapshot's arena, which is released once the
	// snapshot is unreachable: it must stay reachable until they are read.
	runtime.KeepAlive(s)
	return ev.rows, nil
}

// serviceLevel reports whether the query groups and filters by nothing but
// organizations and services.
func (ev *usageEval) serviceLevel() bool {
	for _, g := range ev.groupers {
		if g.kind != dimOrg && g.kind != dimSvc {
			return false
		}
	}
	return ev.filter.serviceLevel()
}

func (m *matcher) serviceLevel() bool {
	if m == nil {
		return true
	}
	if m.and || m.or || m.not {
		for _, k := range m.kids {
			if !k.serviceLevel() {
				return false
			}
		}
		return true
	}
	return m.kind == dimOrg || m.kind == dimSvc
}

// sum adds the cells of segment g on days [lo, hi) of its month (whole:
// all of it).
func (ev *usageEval) sum(g *dailySeg, lo, hi int, whole bool) {
	var (
		start   int32
		lastKey int64 = -1
		gi      int32
	)
	for si, end := range g.end {
		v := seriesRef{org: g.org, proj: g.proj[si], clus: g.clus[si], svc: g.svc[si], sku: g.sku[si], tags: g.tags[si]}
		cells := start
		start = end
		if ev.filter != nil && !ev.filter.match(&v) {
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
			ev.cents[base] += g.total[si]
			ev.hit[base] = true
			if ev.quantity {
				ev.qty[base] += g.qtotal[si]
			}
			continue
		}
		for c := cells; c < end; c++ {
			d := int(g.day[c])
			if !whole && (d < lo || d >= hi) {
				continue
			}
			slot := base
			if ev.slots > 1 {
				slot += d
			}
			ev.cents[slot] += g.amount(c)
			ev.hit[slot] = true
			if ev.quantity {
				ev.qty[slot] += float64(g.qty[c])
			}
		}
	}
}

// groupOf returns the number of the month's group of key, adding it.
func (ev *usageEval) groupOf(key int64) int32 {
	if gi, ok := ev.index[key]; ok {
		return gi
	}
	gi := int32(len(ev.keys))
	ev.index[key] = gi
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

// emit appends the rows of the month that starts on monthFirst, days
// [lo, hi), and forgets its groups.
func (ev *usageEval) emit(monthFirst costexplorer.Day, lo, hi int) {
	order := make([]int32, len(ev.keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		switch ka, kb := ev.keys[a], ev.keys[b]; {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	if ev.slots == 1 { // monthly: one period
		lo, hi = 0, 1
	}
	rows := 0
	for _, h := range ev.hit {
		if h {
			rows++
		}
	}
	ev.rows = slices.Grow(ev.rows, rows)
	groups := make([][]costexplorer.UsageGroup, len(order))
	for i, gi := range order {
		groups[i] = ev.groupsOf(ev.keys[gi])
	}
	for d := lo; d < hi; d++ {
		start := ev.q.PeriodStart(monthFirst + costexplorer.Day(d))
		for i, gi := range order {
			slot := int(gi)*ev.slots + d
			if !ev.hit[slot] {
				continue
			}
			r := costexplorer.UsageRow{Start: start, Groups: groups[i], Amount: costexplorer.Cents(ev.cents[slot])}
			if ev.quantity {
				r.Quantity = ev.qty[slot]
			}
			ev.rows = append(ev.rows, r)
		}
	}
	clear(ev.index)
	ev.keys, ev.cents, ev.hit, ev.qty = ev.keys[:0], ev.cents[:0], ev.hit[:0], ev.qty[:0]
}

// groupsOf returns the groups of a key, one slice for every row of the
// group.
func (ev *usageEval) groupsOf(key int64) []costexplorer.UsageGroup {
	if gs, ok := ev.groups[key]; ok {
		return gs
	}
	gs := make([]costexplorer.UsageGroup, len(ev.groupers))
	k := key
	for i := len(gs) - 1; i >= 0; i-- {
		gr := ev.groupers[i]
		gs[i] = gr.group(int32(k % gr.n))
		k /= gr.n
	}
	ev.groups[key] = gs
	return gs
}
