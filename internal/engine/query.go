package engine

import (
	"slices"
	"sort"

	"github.com/costexplorer/costexplorer"
)

// cell is one result group in one month while a query runs: dictionary ids
// (masked to the grouping's dimensions), the exact sum, and the sort key
// that orders it as CompareRows would order its row.
type cell struct {
	key    [6]int32 // month, rank of the groupBy dimension, org, project, cluster, service ranks
	seg    int32
	proj   int32
	clus   int32
	svc    uint16
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

	var cells []cell
	var acc []costexplorer.Cents
	var touched []bool
	if q.GroupBy == costexplorer.GroupByServices {
		acc = make([]costexplorer.Cents, len(s.services.ids))
		touched = make([]bool, len(s.services.ids))
	}
	for _, o := range scope {
		segs := s.segs[s.orgSegs[o]:s.orgSegs[o+1]]
		first := sort.Search(len(segs), func(i int) bool { return segs[i].month >= q.Start })
		for si := first; si < len(segs) && segs[si].month < q.End; si++ {
			segIdx := int32(int(s.orgSegs[o]) + si)
			seg := &segs[si]
			if acc != nil {
				cells = s.sumServices(cells, segIdx, seg, projOK, clusOK, svcOK, acc, touched)
			} else {
				cells = s.sumStreaming(cells, segIdx, seg, g, projOK, clusOK, svcOK)
			}
		}
	}
	return s.rows(cells, q.GroupBy, g)
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

// sumStreaming aggregates one segment for every grouping but services. Cells
// are sorted by (project, cluster, service) within a segment, so cells with
// equal masked keys are adjacent and a running sum suffices.
func (s *snapshot) sumStreaming(cells []cell, segIdx int32, seg *segment, g grouping, projOK, clusOK, svcOK []bool) []cell {
	have := false
	var cur cell
	for i := seg.start; i < seg.end; i++ {
		p, c, v := s.proj[i], s.clus[i], s.svc[i]
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
			cur.amount += s.amount[i]
			continue
		}
		if have {
			cells = append(cells, cur)
		}
		cur = cell{seg: segIdx, proj: p, clus: c, svc: v, amount: s.amount[i]}
		have = true
	}
	if have {
		cells = append(cells, cur)
	}
	return cells
}

// sumServices aggregates one segment by service into a dense array (services
// are not adjacent in the cell order, and there are only a few of them).
func (s *snapshot) sumServices(cells []cell, segIdx int32, seg *segment, projOK, clusOK, svcOK []bool, acc []costexplorer.Cents, touched []bool) []cell {
	for i := seg.start; i < seg.end; i++ {
		p, c, v := s.proj[i], s.clus[i], s.svc[i]
		if projOK != nil && !projOK[p] || clusOK != nil && !clusOK[c] || svcOK != nil && !svcOK[v] {
			continue
		}
		acc[v] += s.amount[i]
		touched[v] = true
	}
	for v, t := range touched {
		if t {
			cells = append(cells, cell{seg: segIdx, svc: uint16(v), amount: acc[v]})
			acc[v], touched[v] = 0, false
		}
	}
	return cells
}

// rows orders the cells as CompareRows orders their rows, using the
// dictionaries' name ranks, and builds the rows.
func (s *snapshot) rows(cells []cell, gb costexplorer.GroupBy, g grouping) []costexplorer.Row {
	for i := range cells {
		c := &cells[i]
		seg := &s.segs[c.seg]
		org := s.orgs.rank[seg.org]
		proj, clus, svc := int32(-1), int32(-1), int32(-1)
		if g.proj {
			proj = s.projects.rank[c.proj]
		}
		if g.clus {
			clus = s.clusters.rank[c.clus]
		}
		if g.svc {
			svc = s.services.rank[c.svc]
		}
		first := org
		switch gb {
		case costexplorer.GroupByProjects:
			first = proj
		case costexplorer.GroupByClusters:
			first = clus
		case costexplorer.GroupByServices:
			first = svc
		}
		c.key = [6]int32{int32(seg.month), first, org, proj, clus, svc}
	}
	slices.SortFunc(cells, func(a, b cell) int {
		for k := range a.key {
			if a.key[k] != b.key[k] {
				if a.key[k] < b.key[k] {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	rows := make([]costexplorer.Row, len(cells))
	for i := range cells {
		c := &cells[i]
		seg := &s.segs[c.seg]
		r := &rows[i]
		r.UsageDate = seg.date
		r.InvoiceID = seg.invoice
		r.OrganizationID = s.orgs.ids[seg.org]
		r.OrganizationName = s.orgs.names[seg.org]
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
