package engine

import (
	"slices"
	"sort"

	"github.com/costexplorer/costexplorer"
)

// cell is one result group in one month while a query runs: dictionary
// numbers (masked to the grouping's dimensions, 0 otherwise) and the exact
// sum. Dictionary numbers follow result order, so cells compare by number.
type cell struct {
	month  costexplorer.Month
	org    int32
	proj   int32
	clus   int32
	svc    uint16
	seg    int32
	amount costexplorer.Cents
}

// grouping says which dimensions a query's rows carry besides the
// organization (DESIGN §1.3).
type grouping struct {
	proj, clus, svc bool
}

func groupingOf(g costexplorer.GroupBy) grouping {
	switch g {
	case costexplorer.GroupByOrganizations:
		return grouping{}
	case costexplorer.GroupByProjects:
		return grouping{proj: true}
	case costexplorer.GroupByClusters:
		return grouping{proj: true, clus: true}
	case costexplorer.GroupByServices:
		return grouping{svc: true}
	default:
		return grouping{proj: true, clus: true, svc: true}
	}
}

// evaluate answers q on s. It never fails: ids that the snapshot does not
// know simply match nothing.
func (s *snapshot) evaluate(q *costexplorer.Query) []costexplorer.Row {
	scope := s.scope(q)
	if len(scope) == 0 || q.End <= q.Start {
		return []costexplorer.Row{}
	}
	projOK := filterIDs(s.projects, q.Projects, q.IncludePartialMatches)
	clusOK := filterIDs(s.clusters, q.Clusters, q.IncludePartialMatches)
	var svcOK []bool
	if len(q.Services) > 0 {
		svcOK = make([]bool, len(s.services.ids))
		for _, v := range q.Services {
			if i, ok := s.services.index[string(v)]; ok {
				svcOK[i] = true
			}
		}
	}
	g := groupingOf(q.GroupBy)
	// The smallest table that holds what the query filters and groups by:
	// without project or cluster filters or groups, the per-service sums;
	// without cluster or service filters or groups, the per-project sums.
	t := &s.cells
	switch {
	case !g.proj && !g.clus && projOK == nil && clusOK == nil:
		t = &s.byService
	case !g.clus && !g.svc && clusOK == nil && svcOK == nil:
		t = &s.byProject
	}

	// The segments to read: those of the window, of the organizations in
	// scope that have a project the filter passes. Their cells bound the
	// answer's (each cell is in one group), closely when the table holds
	// just the groups' dimensions: then room for them at once.
	type span struct{ lo, hi int32 }
	spans := make([]span, 0, len(scope))
	bound := 0
	for _, o := range scope {
		if projOK != nil && !anyPasses(s.orgProjects[o], projOK) {
			continue
		}
		lo, hi := t.orgSegs[o], t.orgSegs[o+1]
		segs := t.segs[lo:hi]
		sp := span{lo: lo + int32(sort.Search(len(segs), func(i int) bool { return segs[i].month >= q.Start }))}
		for sp.hi = sp.lo; sp.hi < hi && t.segs[sp.hi].month < q.End; sp.hi++ {
			bound += int(t.segs[sp.hi].end - t.segs[sp.hi].start)
		}
		spans = append(spans, sp)
	}
	var cells []cell
	if t == &s.cells && g == (grouping{proj: true, clus: true, svc: true}) || t == &s.byProject && g.proj || t == &s.byService && g.svc {
		cells = make([]cell, 0, bound)
	}
	var acc []costexplorer.Cents
	var touched []bool
	if q.GroupBy == costexplorer.GroupByServices {
		acc = make([]costexplorer.Cents, len(s.services.ids))
		touched = make([]bool, len(s.services.ids))
	}
	for _, sp := range spans {
		for segIdx := sp.lo; segIdx < sp.hi; segIdx++ {
			if acc != nil {
				cells = t.sumServices(cells, segIdx, projOK, clusOK, svcOK, acc, touched)
			} else {
				cells = t.sumStreaming(cells, segIdx, g, projOK, clusOK, svcOK)
			}
		}
	}
	return s.rows(t, cells, q.GroupBy, g)
}

// anyPasses reports whether any of the numbers passes ok.
func anyPasses(numbers []int32, ok []bool) bool {
	for _, n := range numbers {
		if ok[n] {
			return true
		}
	}
	return false
}

// scope returns the organizations q may read: its organization, the
// organizations it pays for, intersected with the organizations filter.
func (s *snapshot) scope(q *costexplorer.Query) []int32 {
	root, ok := s.orgs.index[q.OrgID]
	if !ok {
		return nil
	}
	scope := []int32{root}
	if int(root) < len(s.linked) {
		scope = append(scope, s.linked[root]...)
	}
	if len(q.Organizations) == 0 {
		return scope
	}
	// The filter may reach only organizations already in scope. A query is
	// canonical (sorted lists), but a linear scan does not rely on it.
	return slices.DeleteFunc(scope, func(o int32) bool {
		return !slices.Contains(q.Organizations, s.orgs.ids[o])
	})
}

// filterIDs returns, for a filter with values, which dictionary ids pass:
// those in the list, and the absent value (id 0) only when partial matches
// are included. No values means no filter (nil).
func filterIDs(d *dict, values []string, partial bool) []bool {
	if len(values) == 0 {
		return nil
	}
	ok := make([]bool, len(d.ids))
	ok[0] = partial
	for _, v := range values {
		if i, found := d.index[v]; found && i != 0 {
			ok[i] = true
		}
	}
	return ok
}

// sumStreaming aggregates one segment for every grouping but services.
// Cells are sorted by (project, cluster, service) within a segment, so cells
// with equal masked keys are adjacent and a running sum suffices.
func (t *table) sumStreaming(cells []cell, segIdx int32, g grouping, projOK, clusOK, svcOK []bool) []cell {
	seg := &t.segs[segIdx]
	have := false
	cur := cell{month: seg.month, org: seg.org, seg: segIdx}
	for i := seg.start; i < seg.end; i++ {
		p, c, v := t.proj[i], t.clus[i], t.svc[i]
		if projOK != nil && !projOK[p] || clusOK != nil && !clusOK[c] || svcOK != nil && !svcOK[v] {
			continue
		}
		if !g.proj {
			p = 0
		}
		if !g.clus {
			c = 0
		}
		if !g.svc {
			v = 0
		}
		if have && p == cur.proj && c == cur.clus && v == cur.svc {
			cur.amount += t.amount[i]
			continue
		}
		if have {
			cells = append(cells, cur)
		}
		cur.proj, cur.clus, cur.svc, cur.amount = p, c, v, t.amount[i]
		have = true
	}
	if have {
		cells = append(cells, cur)
	}
	return cells
}

// sumServices aggregates one segment by service into a dense array (services
// are not adjacent in the cell order, and there are only a few of them).
func (t *table) sumServices(cells []cell, segIdx int32, projOK, clusOK, svcOK []bool, acc []costexplorer.Cents, touched []bool) []cell {
	seg := &t.segs[segIdx]
	for i := seg.start; i < seg.end; i++ {
		p, c, v := t.proj[i], t.clus[i], t.svc[i]
		if projOK != nil && !projOK[p] || clusOK != nil && !clusOK[c] || svcOK != nil && !svcOK[v] {
			continue
		}
		acc[v] += t.amount[i]
		touched[v] = true
	}
	for v, hit := range touched {
		if hit {
			cells = append(cells, cell{month: seg.month, org: seg.org, svc: uint16(v), seg: segIdx, amount: acc[v]})
			acc[v], touched[v] = 0, false
		}
	}
	return cells
}

// compareCells orders cells as CompareRows orders their rows: by month, the
// groupBy dimension, then organization, project, cluster and service.
func compareCells(gb costexplorer.GroupBy) func(a, b cell) int {
	return func(a, b cell) int {
		if a.month != b.month {
			return cmpInt(a.month, b.month)
		}
		switch gb {
		case costexplorer.GroupByProjects:
			if a.proj != b.proj {
				return cmpInt(a.proj, b.proj)
			}
		case costexplorer.GroupByClusters:
			if a.clus != b.clus {
				return cmpInt(a.clus, b.clus)
			}
		case costexplorer.GroupByServices:
			if a.svc != b.svc {
				return cmpInt(a.svc, b.svc)
			}
		}
		switch {
		case a.org != b.org:
			return cmpInt(a.org, b.org)
		case a.proj != b.proj:
			return cmpInt(a.proj, b.proj)
		case a.clus != b.clus:
			return cmpInt(a.clus, b.clus)
		}
		return cmpInt(a.svc, b.svc)
	}
}

func cmpInt[T int32 | uint16 | costexplorer.Month](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rows orders the cells and builds their rows. Cells of one organization
// usually arrive in order already (segments by month, cells by dimension
// numbers), so the sort is skipped when it has nothing to do.
func (s *snapshot) rows(t *table, cells []cell, gb costexplorer.GroupBy, g grouping) []costexplorer.Row {
	if cmpCells := compareCells(gb); !slices.IsSortedFunc(cells, cmpCells) {
		slices.SortFunc(cells, cmpCells)
	}
	rows := make([]costexplorer.Row, len(cells))
	for i := range cells {
		c := &cells[i]
		seg := &t.segs[c.seg]
		r := &rows[i]
		r.UsageDate = seg.date
		r.InvoiceID = seg.invoice
		r.OrganizationID = s.orgs.ids[c.org]
		r.OrganizationName = s.orgs.names[c.org]
		if g.proj {
			r.ProjectID = s.projects.ids[c.proj]
			r.ProjectName = s.projects.names[c.proj]
		}
		if g.clus {
			r.ClusterID = s.clusters.ids[c.clus]
			r.ClusterName = s.clusters.names[c.clus]
		}
		if g.svc {
			r.Service = costexplorer.Service(s.services.ids[c.svc])
		}
		r.UsageAmount = c.amount
	}
	return rows
}
