package atlassync

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// The order of projects and clusters. A store serves an invoice's items by
// project, then cluster, each in the order it first saw them. The source's
// order is its own; the target's must agree with it in every invoice, or
// the invoices come out in another order. An organization's first invoices
// do not say it all: a cluster that starts in May, ahead of one running
// since January in the source's order, would come after it. So a sync first
// downloads the invoices of an organization (to temporary files: memory
// stays bounded), reads the order of projects and clusters in each, merges
// those orders into one (a topological sort: each invoice's order is a
// chain of the source's), creates the projects and clusters the store lacks
// in that order, and only then imports each invoice.

// dimOrder gathers the orders of projects and of each project's clusters
// seen in an organization's invoices.
type dimOrder struct {
	orgName  string
	projects orderGraph
	names    map[string]string      // project id → name
	clusters map[string]*orderGraph // project id → its clusters' names
}

func newDimOrder() *dimOrder {
	return &dimOrder{names: map[string]string{}, clusters: map[string]*orderGraph{}}
}

// orderGraph is the union of several sequences of keys: an edge from each
// key to the next one in a sequence.
type orderGraph struct {
	first map[string]int // key → when it was first seen
	next  map[string][]string
}

func (g *orderGraph) add(seq []string) {
	if g.first == nil {
		g.first, g.next = map[string]int{}, map[string][]string{}
	}
	for i, k := range seq {
		if _, ok := g.first[k]; !ok {
			g.first[k] = len(g.first)
		}
		if i > 0 && !slices.Contains(g.next[seq[i-1]], k) {
			g.next[seq[i-1]] = append(g.next[seq[i-1]], k)
		}
	}
}

// sorted returns the keys in an order that agrees with every sequence
// added (ties by first sight). A cycle — sequences that disagree — is
// broken at the earliest key seen.
func (g *orderGraph) sorted() []string {
	in := map[string]int{}
	for _, ns := range g.next {
		for _, n := range ns {
			in[n]++
		}
	}
	keys := make([]string, 0, len(g.first))
	for k := range g.first {
		keys = append(keys, k)
	}
	bySight := func(a, b string) int { return cmp.Compare(g.first[a], g.first[b]) }
	slices.SortFunc(keys, bySight)
	done := map[string]bool{}
	out := make([]string, 0, len(keys))
	for len(out) < len(keys) {
		pick := ""
		for _, k := range keys { // the first seen of those ready
			if !done[k] && in[k] == 0 {
				pick = k
				break
			}
		}
		if pick == "" { // a cycle: take the first seen left
			for _, k := range keys {
				if !done[k] {
					pick = k
					break
				}
			}
		}
		done[pick] = true
		out = append(out, pick)
		for _, n := range g.next[pick] {
			in[n]--
		}
	}
	return out
}

// dimScanner is an io.Writer that reads the order of projects and clusters
// in an invoice CSV as it is downloaded (see download), so that the file is
// not read twice. Most rows hold no quote: their fields are found by their
// commas; a row with quotes (it may span lines) goes through encoding/csv.
// A row it cannot read is passed over: the import reports it, with its line.
type dimScanner struct {
	partial []byte // a row begun in an earlier Write
	quotes  int    // quotes in partial

	orgName                     string
	projCol, projNameCol, clCol int // -1 until the header is seen
	projects                    []string
	names                       map[string]string   // project id → name
	clusters                    map[string][]string // project id → its clusters in the order seen
	lastProj, lastCluster       []byte              // the raw fields of the last row
}

func newDimScanner() *dimScanner {
	return &dimScanner{projCol: -1, names: map[string]string{}, clusters: map[string][]string{}}
}

// Write reads the complete rows of p (and of what came before).
func (d *dimScanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(d.partial) > 0 && len(p) > 0 { // finish the row begun earlier
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			d.quotes += bytes.Count(p, quote)
			d.partial = append(d.partial, p...)
			return n, nil
		}
		d.quotes += bytes.Count(p[:i], quote)
		d.partial = append(d.partial, p[:i+1]...)
		p = p[i+1:]
		if d.quotes%2 == 0 {
			d.row(d.partial)
			d.partial, d.quotes = d.partial[:0], 0
		}
	}
	for len(p) > 0 {
		end, q := 0, 0
		for {
			i := bytes.IndexByte(p[end:], '\n')
			if i < 0 {
				d.partial = append(d.partial, p...)
				d.quotes = q + bytes.Count(p[end:], quote)
				return n, nil
			}
			q += bytes.Count(p[end:end+i], quote)
			end += i + 1
			if q%2 == 0 {
				break
			}
		}
		d.row(p[:end])
		p = p[end:]
	}
	return n, nil
}

var quote = []byte{'"'}

// row reads one row (with its line end).
func (d *dimScanner) row(line []byte) {
	line = bytes.TrimRight(line, "\r\n")
	if d.projCol < 0 || bytes.IndexByte(line, '"') >= 0 {
		r := csv.NewReader(bytes.NewReader(line))
		r.FieldsPerRecord, r.LazyQuotes = -1, true
		rec, err := r.Read()
		if err != nil {
			return
		}
		if d.projCol < 0 {
			d.header(rec)
			return
		}
		if max(d.projCol, d.projNameCol, d.clCol) < len(rec) {
			d.item([]byte(rec[d.projCol]), []byte(rec[d.projNameCol]), []byte(rec[d.clCol]))
		}
		return
	}
	var proj, projName, cluster []byte
	for col := 0; col <= d.clCol || col <= d.projCol || col <= d.projNameCol; col++ {
		i := bytes.IndexByte(line, ',')
		f := line
		if i >= 0 {
			f, line = line[:i], line[i+1:]
		}
		switch col {
		case d.projCol:
			proj = f
		case d.projNameCol:
			projName = f
		case d.clCol:
			cluster = f
		}
		if i < 0 {
			if col < max(d.projCol, d.projNameCol, d.clCol) {
				return // too few fields: not an item
			}
			break
		}
	}
	d.item(proj, projName, cluster)
}

// header looks for the organization's name and the header row.
func (d *dimScanner) header(rec []string) {
	switch {
	case len(rec) >= 2 && strings.EqualFold(rec[0], costexplorer.InvoiceCSVOrgNameLabel):
		d.orgName = costexplorer.RestoreCSVText(strings.TrimSpace(rec[1]))
	case slices.Contains(rec, "Project ID"):
		d.projCol, d.projNameCol, d.clCol = slices.Index(rec, "Project ID"), slices.Index(rec, "Project"), slices.Index(rec, "Cluster")
		if d.projNameCol < 0 || d.clCol < 0 {
			d.projCol = -1
		}
	}
}

// item notes the project and cluster of an item row, when they change.
func (d *dimScanner) item(proj, projName, cluster []byte) {
	if len(proj) == 0 {
		return
	}
	newProj := !bytes.Equal(proj, d.lastProj)
	if newProj {
		p := string(proj)
		if len(d.projects) == 0 || d.projects[len(d.projects)-1] != p {
			d.projects = append(d.projects, p)
			d.names[p] = costexplorer.RestoreCSVText(strings.TrimSpace(string(projName)))
		}
		d.lastProj = append(d.lastProj[:0], proj...)
	}
	if !newProj && bytes.Equal(cluster, d.lastCluster) {
		return
	}
	d.lastCluster = append(d.lastCluster[:0], cluster...)
	if c := costexplorer.RestoreCSVText(strings.TrimSpace(string(cluster))); c != "" {
		p := d.projects[len(d.projects)-1]
		if cs := d.clusters[p]; len(cs) == 0 || cs[len(cs)-1] != c {
			d.clusters[p] = append(cs, c)
		}
	}
}

// add merges the orders one invoice's scan saw (after its last row, which
// may lack a line end).
func (d *dimOrder) add(sc *dimScanner) {
	if len(sc.partial) > 0 {
		sc.row(sc.partial)
		sc.partial = nil
	}
	d.orgName = cmp.Or(sc.orgName, d.orgName)
	for p, n := range sc.names {
		d.names[p] = n
	}
	d.projects.add(sc.projects)
	for p, cs := range sc.clusters {
		if d.clusters[p] == nil {
			d.clusters[p] = &orderGraph{}
		}
		d.clusters[p].add(cs)
	}
}

// createDims creates, in the merged order, the projects and clusters of org
// that the store lacks (and the organization, named as its invoices name
// it): one batch, which inserts only what is new.
func (s *syncer) createDims(ctx context.Context, u *unit, d *dimOrder) error {
	name := cmp.Or(u.org.Name, d.orgName)
	if name == "" {
		return nil // no invoice: nothing to create
	}
	b := &costexplorer.UsageBatch{Organizations: []costexplorer.Organization{{ID: u.org.ID, Name: name}}}
	for _, p := range d.projects.sorted() {
		b.Projects = append(b.Projects, costexplorer.Project{ID: p, OrgID: u.org.ID, Name: d.names[p]})
		if g := d.clusters[p]; g != nil {
			for _, c := range g.sorted() {
				id := cmp.Or(u.clusters.lookup(p, c), costexplorer.ClusterIDFor(p, c))
				b.Clusters = append(b.Clusters, costexplorer.Cluster{ID: id, ProjectID: p, Name: c})
			}
		}
	}
	if _, err := s.cfg.Store.IngestUsage(ctx, b); err != nil {
		return fmt.Errorf("create the projects and clusters of %s: %w", u.org.ID, err)
	}
	u.org.Name = name
	return nil
}
