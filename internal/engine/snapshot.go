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
// name and its rank in result order (by name, then id). For dimensions that
// may be absent (project, cluster), entry 0 is the absent value: empty id and
// name, ranked first, as CompareRows puts empty values first.
type dict struct {
	ids   []string
	names []string
	rank  []int32
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
	i := int32(len(d.ids))
	d.ids = append(d.ids, id)
	d.names = append(d.names, name)
	d.index[id] = i
	return i
}

// finish computes the ranks once every entry is known.
func (d *dict) finish() {
	order := make([]int32, len(d.ids))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(strings.Compare(d.names[a], d.names[b]), strings.Compare(d.ids[a], d.ids[b]))
	})
	d.rank = make([]int32, len(d.ids))
	for r, i := range order {
		d.rank[i] = int32(r)
	}
}

func (d *dict) bytes() int64 {
	var n int64
	for i := range d.ids {
		// Two string headers, the bytes, a rank and roughly one map entry.
		n += int64(len(d.ids[i])+len(d.names[i])) + 2*16 + 4 + 48
	}
	return n
}

// segment is the run of rollup cells of one organization and one month, with
// the strings every result row of that run repeats.
type segment struct {
	org        int32
	month      costexplorer.Month
	start, end int32
	date       string // usageDate, YYYY-MM-01
	invoice    string // costexplorer.InvoiceID(org, month)
}

// snapshot is one immutable, query-ready copy of the rollup. It is never
// modified after build returns, so any number of queries may read it while a
// newer one is being built.
type snapshot struct {
	version  int64
	loadedAt time.Time
	loadTook time.Duration

	orgs     *dict
	linked   [][]int32 // linked[o]: the organizations whose paying organization is o
	projects *dict
	clusters *dict
	services *dict

	// orgSegs[o]..orgSegs[o+1] are the segments of organization o, by month.
	orgSegs []int32
	segs    []segment

	// The rollup cells, sorted by (org, month, project, cluster, service),
	// one column per field; org and month live in the segments.
	proj   []int32
	clus   []int32
	svc    []uint16
	amount []costexplorer.Cents
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

// build reads the source into a new snapshot. The data version is read before
// anything else: if the data changes during the build, the snapshot carries
// the older version and the next freshness check rebuilds it, so a change is
// never missed (at worst read twice).
func build(ctx context.Context, src Source, now func() time.Time) (*snapshot, error) {
	began := now()
	version, err := src.DataVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: data version: %w", err)
	}
	s := &snapshot{
		version:  version,
		orgs:     newDict(false),
		projects: newDict(true),
		clusters: newDict(true),
		services: newDict(false),
	}
	orgs, _, err := src.Organizations(ctx, costexplorer.OrganizationFilter{})
	if err != nil {
		return nil, fmt.Errorf("engine: organizations: %w", err)
	}
	paying := map[int32]string{}
	for _, o := range orgs {
		i := s.orgs.put(o.ID, o.Name)
		if o.PayingOrgID != "" {
			paying[i] = o.PayingOrgID
		}
	}
	projects, err := src.Projects(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: projects: %w", err)
	}
	for _, p := range projects {
		s.projects.put(p.ID, p.Name)
	}
	clusters, err := src.Clusters(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: clusters: %w", err)
	}
	for _, c := range clusters {
		s.clusters.put(c.ID, c.Name)
	}
	// Every known service gets an id up front so that filters on services
	// without usage cost nothing special.
	for _, v := range costexplorer.Services {
		s.services.put(string(v), string(v))
	}

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
			org:   s.orgs.put(strings.Clone(r.OrgID), ""),
			month: r.Month,
			proj:  s.projects.put(strings.Clone(r.ProjectID), ""),
			clus:  s.clusters.put(strings.Clone(r.ClusterID), ""),
			svc:   uint16(svc),
			amt:   r.Amount,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engine: scan rollup: %w", err)
	}

	s.linked = make([][]int32, len(s.orgs.ids))
	for linked, payID := range paying {
		p := s.orgs.put(payID, "")
		if int(p) >= len(s.linked) {
			s.linked = append(s.linked, make([][]int32, int(p)+1-len(s.linked))...)
		}
		s.linked[p] = append(s.linked[p], linked)
	}
	for _, l := range s.linked {
		slices.Sort(l)
	}
	s.orgs.finish()
	s.projects.finish()
	s.clusters.finish()
	s.services.finish()

	s.columns(recs)
	s.loadedAt = now()
	s.loadTook = s.loadedAt.Sub(began)
	return s, nil
}

// columns sorts the cells, merges cells with equal keys (a store should not
// have any, but the sums must not depend on it) and splits them into columns
// and segments.
func (s *snapshot) columns(recs []cellRec) {
	slices.SortFunc(recs, func(a, b cellRec) int {
		return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.month, b.month),
			cmp.Compare(a.proj, b.proj), cmp.Compare(a.clus, b.clus), cmp.Compare(a.svc, b.svc))
	})
	n := 0
	for i := range recs {
		if n > 0 {
			p := &recs[n-1]
			r := &recs[i]
			if p.org == r.org && p.month == r.month && p.proj == r.proj && p.clus == r.clus && p.svc == r.svc {
				p.amt += r.amt
				continue
			}
		}
		recs[n] = recs[i]
		n++
	}
	recs = recs[:n]

	s.proj = make([]int32, n)
	s.clus = make([]int32, n)
	s.svc = make([]uint16, n)
	s.amount = make([]costexplorer.Cents, n)
	s.orgSegs = make([]int32, len(s.orgs.ids)+1)
	for i, r := range recs {
		s.proj[i], s.clus[i], s.svc[i], s.amount[i] = r.proj, r.clus, r.svc, r.amt
		if i == 0 || r.org != recs[i-1].org || r.month != recs[i-1].month {
			if len(s.segs) > 0 {
				s.segs[len(s.segs)-1].end = int32(i)
			}
			s.segs = append(s.segs, segment{
				org:     r.org,
				month:   r.month,
				start:   int32(i),
				date:    r.month.Date(),
				invoice: costexplorer.InvoiceID(s.orgs.ids[r.org], r.month),
			})
		}
	}
	if len(s.segs) > 0 {
		s.segs[len(s.segs)-1].end = int32(n)
	}
	// orgSegs[o] is the first segment of org o or later; segments are
	// ordered by org, so one pass fills the offsets.
	si := 0
	for o := range len(s.orgs.ids) + 1 {
		for si < len(s.segs) && int(s.segs[si].org) < o {
			si++
		}
		s.orgSegs[o] = int32(si)
	}
}

// bytes approximates the memory the snapshot holds.
func (s *snapshot) bytes() int64 {
	n := int64(len(s.proj))*(4+4+2+8) + int64(len(s.segs))*(4+4+8+2*16+10+24) + int64(len(s.orgSegs))*4
	for _, l := range s.linked {
		n += 24 + int64(len(l))*4
	}
	return n + s.orgs.bytes() + s.projects.bytes() + s.clusters.bytes() + s.services.bytes()
}
