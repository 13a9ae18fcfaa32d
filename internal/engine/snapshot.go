package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// dict maps the ids of one dimension to small integers and keeps each entry's
// name. Once finished, the integers are in result order (by name, then id, as
// CompareRows orders rows), so comparing two integers compares the entries.
// For dimensions that may be absent (project, cluster), entry 0 is the absent
// value: empty id and name, which CompareRows puts first.
type dict struct {
	ids   []string
	names []string
	index map[string]int32
}

func newDict(withAbsent bool) *dict {
	d := &dict{index: map[string]int32{}}
	if withAbsent {
		d.ids, d.names = []string{""}, []string{""}
		d.index[""] = 0
	}
	return d
}

// put returns the index of id, adding it with name if it is new. A known id
// keeps its name unless that name is empty (an id first seen in the rollup,
// before its dimension row).
func (d *dict) put(id, name string) int32 {
	if i, ok := d.index[id]; ok {
		if d.names[i] == "" && name != "" {
			d.names[i] = name
		}
		return i
	}
	// A new id is copied: the caller's string may share memory with a
	// larger buffer the snapshot must not keep alive.
	id = strings.Clone(id)
	i := int32(len(d.ids))
	d.ids = append(d.ids, id)
	d.names = append(d.names, name)
	d.index[id] = i
	return i
}

// finish renumbers the entries in result order once every entry is known,
// and returns the map from old to new numbers.
func (d *dict) finish() []int32 {
	order := make([]int32, len(d.ids))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(strings.Compare(d.names[a], d.names[b]), strings.Compare(d.ids[a], d.ids[b]))
	})
	remap := make([]int32, len(d.ids))
	ids := make([]string, len(d.ids))
	names := make([]string, len(d.ids))
	for n, old := range order {
		remap[old] = int32(n)
		ids[n], names[n] = d.ids[old], d.names[old]
		d.index[ids[n]] = int32(n)
	}
	d.ids, d.names = ids, names
	return remap
}

func (d *dict) bytes() int64 {
	var n int64
	for i := range d.ids {
		// Two string headers, the bytes, a rank and roughly one map entry.
		n += int64(len(d.ids[i])+len(d.names[i])) + 2*16 + 48
	}
	return n
}

// segment is the run of cells of one organization and one month in a table,
// with the strings every result row of that run repeats.
type segment struct {
	org        int32
	month      costexplorer.Month
	start, end int32
	date       string // usageDate, YYYY-MM-01
	invoice    string // invoiceId: the store's id of the invoice (invoiceIDs.of)
}

// table is the rollup at one granularity, as columns sorted by
// (org, month, project, cluster, service). Since dictionary numbers follow
// result order, cells come out of a segment already in result order.
type table struct {
	// orgSegs[o]..orgSegs[o+1] are the segments of organization o, by month.
	orgSegs []int32
	segs    []segment
	proj    []int32
	clus    []int32
	svc     []uint16
	amount  []costexplorer.Cents
}

// dims are the dictionaries of a snapshot and the links between
// organizations.
type dims struct {
	orgs     *dict
	linked   [][]int32 // linked[o]: the organizations whose paying organization is o
	projects *dict
	clusters *dict
	services *dict
}

// snapshot is one immutable, query-ready copy of the rollup. It is never
// modified after build returns, so any number of queries may read it while a
// newer one is being built.
type snapshot struct {
	generation
	loadedAt time.Time
	loadTook time.Duration

	dims

	// cells is the rollup itself. byService sums it over projects and
	// clusters (a few cells per organization and month): queries that
	// neither filter nor group by project or cluster read it instead.
	// byProject sums it over clusters and services (a cell per project and
	// month): queries that neither filter nor group by cluster or service
	// read it (the project view of every month of an organization reads
	// some 20 times fewer cells than in the rollup).
	cells     table
	byService table
	byProject table

	// orgProjects[o] is the projects (0 included) of organization o's
	// cells, in any month, sorted: a query whose project filter passes
	// none of them skips the organization.
	orgProjects [][]int32
}

// cellRec is a rollup cell during the build, before it is split into columns.
type cellRec struct {
	org   int32
	month costexplorer.Month
	proj  int32
	clus  int32
	svc   uint16
	amt   costexplorer.Cents
}

// loadDims reads the dimensions of the source: every organization, project,
// cluster and known service gets its number before any rollup is read.
func loadDims(ctx context.Context, src Source) (*dims, []*costexplorer.Organization, error) {
	d := &dims{orgs: newDict(false), projects: newDict(true), clusters: newDict(true), services: newDict(false)}
	orgs, _, err := src.Organizations(ctx, costexplorer.OrganizationFilter{})
	if err != nil {
		return nil, nil, fmt.Errorf("engine: organizations: %w", err)
	}
	for _, o := range orgs {
		d.orgs.put(o.ID, o.Name)
	}
	projects, err := src.Projects(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: projects: %w", err)
	}
	for _, p := range projects {
		d.projects.put(p.ID, p.Name)
	}
	clusters, err := src.Clusters(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: clusters: %w", err)
	}
	for _, c := range clusters {
		d.clusters.put(c.ID, c.Name)
	}
	// Every known service gets a number up front, so a service filter
	// resolves the same way whether or not the service has usage.
	for _, v := range costexplorer.Services {
		d.services.put(string(v), string(v))
	}
	return d, orgs, nil
}

// begin reads what every build reads first: the data version, before
// anything else, and the dimensions.
func begin(ctx context.Context, src Source) (int64, *dims, []*costexplorer.Organization, error) {
	version, err := src.DataVersion(ctx)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("engine: data version: %w", err)
	}
	d, orgs, err := loadDims(ctx, src)
	return version, d, orgs, err
}

// finish renumbers the dictionaries in result order once a rollup has been
// read (ids seen only there have entries too), links each paying
// organization to its linked ones, and returns the maps from the old numbers
// to the new.
func (d *dims) finish(orgs []*costexplorer.Organization) (orgMap, projMap, clusMap, svcMap []int32) {
	for _, o := range orgs {
		if o.PayingOrgID != "" {
			d.orgs.put(o.PayingOrgID, "")
		}
	}
	orgMap, projMap, clusMap, svcMap = d.orgs.finish(), d.projects.finish(), d.clusters.finish(), d.services.finish()
	d.linked = make([][]int32, len(d.orgs.ids))
	for _, o := range orgs {
		if o.PayingOrgID != "" {
			p := d.orgs.index[o.PayingOrgID]
			d.linked[p] = append(d.linked[p], d.orgs.index[o.ID])
		}
	}
	for _, l := range d.linked {
		slices.Sort(l)
	}
	return orgMap, projMap, clusMap, svcMap
}

// build reads the source into a new snapshot. The data version is read before
// anything else: if the data changes during the build, the snapshot carries
// the older version and the next freshness check rebuilds it, so a change is
// never missed (at worst read twice).
func build(ctx context.Context, src Source, now func() time.Time) (*snapshot, error) {
	began := time.Now()
	version, d, orgs, err := begin(ctx, src)
	if err != nil {
		return nil, err
	}
	s := &snapshot{generation: generation{version: version}, dims: *d}

	var recs []cellRec
	err = src.ScanRollup(ctx, func(r *costexplorer.RollupRow) error {
		svc := s.services.put(string(r.Service), string(r.Service))
		if svc > 0xFFFF {
			return fmt.Errorf("engine: more than 65536 distinct services in the rollup")
		}
		recs = append(recs, cellRec{
			// Ids seen only in the rollup (a dimension row missing) still
			// get an entry, with an empty name, rather than being dropped:
			// the sums must match the store whatever its state.
			org:   s.orgs.put(r.OrgID, ""),
			month: r.Month,
			proj:  s.projects.put(r.ProjectID, ""),
			clus:  s.clusters.put(r.ClusterID, ""),
			svc:   uint16(svc),
			amt:   r.Amount,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engine: scan rollup: %w", err)
	}
	orgMap, projMap, clusMap, svcMap := s.dims.finish(orgs)
	for i := range recs {
		r := &recs[i]
		r.org, r.proj, r.clus, r.svc = orgMap[r.org], projMap[r.proj], clusMap[r.clus], uint16(svcMap[r.svc])
	}
	invoices, err := loadInvoiceIDs(ctx, src, s.orgs)
	if err != nil {
		return nil, err
	}

	recs = sortMerge(recs)
	s.cells = s.table(recs, invoices)
	byProject := sumByProject(recs)
	s.byProject = s.table(byProject, invoices)
	s.orgProjects = projectsOf(byProject, len(s.orgs.ids))
	s.byService = s.table(sumByService(recs, len(s.services.ids)), invoices)
	s.loadedAt = now()
	s.loadTook = time.Since(began)
	return s, nil
}

// sortMerge sorts the cells and merges cells with equal keys (the store
// should have none, but sums must not depend on it).
func sortMerge(recs []cellRec) []cellRec {
	slices.SortFunc(recs, func(a, b cellRec) int {
		// Early exits: cmp.Or would evaluate every comparison.
		switch {
		case a.org != b.org:
			return cmp.Compare(a.org, b.org)
		case a.month != b.month:
			return cmp.Compare(a.month, b.month)
		case a.proj != b.proj:
			return cmp.Compare(a.proj, b.proj)
		case a.clus != b.clus:
			return cmp.Compare(a.clus, b.clus)
		}
		return cmp.Compare(a.svc, b.svc)
	})
	n := 0
	for i := range recs {
		if n > 0 {
			p, r := &recs[n-1], &recs[i]
			if p.org == r.org && p.month == r.month && p.proj == r.proj && p.clus == r.clus && p.svc == r.svc {
				p.amt += r.amt
				continue
			}
		}
		recs[n] = recs[i]
		n++
	}
	return recs[:n]
}

// sumByService turns sorted cells into their per-service sums, in the same
// order, reusing recs: within each (org, month) run, a dense array over
// services.
func sumByService(recs []cellRec, nServices int) []cellRec {
	acc := make([]costexplorer.Cents, nServices)
	touched := make([]bool, nServices)
	n := 0
	for i := 0; i < len(recs); {
		org, month := recs[i].org, recs[i].month
		j := i
		for ; j < len(recs) && recs[j].org == org && recs[j].month == month; j++ {
			acc[recs[j].svc] += recs[j].amt
			touched[recs[j].svc] = true
		}
		for v, hit := range touched {
			if hit {
				// n ≤ i: the run's own cells are already read.
				recs[n] = cellRec{org: org, month: month, svc: uint16(v), amt: acc[v]}
				n++
				acc[v], touched[v] = 0, false
			}
		}
		i = j
	}
	return recs[:n]
}

// sumByProject returns the per-project sums of sorted cells, in the same
// order: within each (org, month) run the cells of a project are adjacent.
func sumByProject(recs []cellRec) []cellRec {
	var out []cellRec
	for i := range recs {
		r := &recs[i]
		if n := len(out); n > 0 {
			if p := &out[n-1]; p.org == r.org && p.month == r.month && p.proj == r.proj {
				p.amt += r.amt
				continue
			}
		}
		out = append(out, cellRec{org: r.org, month: r.month, proj: r.proj, amt: r.amt})
	}
	return slices.Clip(out)
}

// projectsOf returns, for each of n organizations, the distinct projects of
// its per-project sums (sorted by organization), sorted.
func projectsOf(byProject []cellRec, n int) [][]int32 {
	out := make([][]int32, n)
	for i := 0; i < len(byProject); {
		o := byProject[i].org
		var ps []int32
		for ; i < len(byProject) && byProject[i].org == o; i++ {
			ps = append(ps, byProject[i].proj)
		}
		slices.Sort(ps)
		out[o] = slices.Clip(slices.Compact(ps))
	}
	return out
}

// table splits sorted, merged cells into columns and segments.
func (s *snapshot) table(recs []cellRec, invoices invoiceIDs) table {
	n := len(recs)
	t := table{
		proj:    make([]int32, n),
		clus:    make([]int32, n),
		svc:     make([]uint16, n),
		amount:  make([]costexplorer.Cents, n),
		orgSegs: make([]int32, len(s.orgs.ids)+1),
	}
	for i, r := range recs {
		t.proj[i], t.clus[i], t.svc[i], t.amount[i] = r.proj, r.clus, r.svc, r.amt
		if i == 0 || r.org != recs[i-1].org || r.month != recs[i-1].month {
			if len(t.segs) > 0 {
				t.segs[len(t.segs)-1].end = int32(i)
			}
			t.segs = append(t.segs, segment{
				org:     r.org,
				month:   r.month,
				start:   int32(i),
				date:    r.month.Date(),
				invoice: invoices.of(s, r.org, r.month),
			})
		}
	}
	if len(t.segs) > 0 {
		t.segs[len(t.segs)-1].end = int32(n)
	}
	// Segments are ordered by organization, so one pass fills the offsets.
	si := 0
	for o := range len(s.orgs.ids) + 1 {
		for si < len(t.segs) && int(t.segs[si].org) < o {
			si++
		}
		t.orgSegs[o] = int32(si)
	}
	return t
}

func (t *table) bytes() int64 {
	return int64(len(t.amount))*(4+4+2+8) + int64(len(t.segs))*(4+4+8+2*16+10+24) + int64(len(t.orgSegs))*4
}

// bytes approximates the memory the snapshot holds.
func (s *snapshot) bytes() int64 {
	n := s.cells.bytes() + s.byService.bytes() + s.byProject.bytes() + s.dims.bytes()
	for _, ps := range s.orgProjects {
		n += 24 + int64(len(ps))*4
	}
	return n
}

func (d *dims) bytes() int64 {
	n := d.orgs.bytes() + d.projects.bytes() + d.clusters.bytes() + d.services.bytes()
	for _, l := range d.linked {
		n += 24 + int64(len(l))*4
	}
	return n
}
