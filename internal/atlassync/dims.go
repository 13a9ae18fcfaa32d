package atlassync

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
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

// read reads the order of projects and clusters in the invoice CSV at path.
func (d *dimOrder) read(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var projCol, projNameCol, clusterCol = -1, -1, -1
	var projects []string
	clusters := map[string][]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read the invoice CSV: %w", err)
		}
		if projCol < 0 {
			switch {
			case len(rec) >= 2 && strings.EqualFold(rec[0], costexplorer.InvoiceCSVOrgNameLabel):
				d.orgName = costexplorer.RestoreCSVText(strings.TrimSpace(rec[1]))
			case slices.Contains(rec, "Project ID"):
				projCol, projNameCol, clusterCol = slices.Index(rec, "Project ID"), slices.Index(rec, "Project"), slices.Index(rec, "Cluster")
			}
			continue
		}
		if max(projCol, projNameCol, clusterCol) >= len(rec) || rec[projCol] == "" {
			continue
		}
		p := rec[projCol]
		if len(projects) == 0 || projects[len(projects)-1] != p {
			projects = append(projects, p)
			d.names[p] = costexplorer.RestoreCSVText(strings.TrimSpace(rec[projNameCol]))
		}
		if c := costexplorer.RestoreCSVText(strings.TrimSpace(rec[clusterCol])); c != "" {
			if cs := clusters[p]; len(cs) == 0 || cs[len(cs)-1] != c {
				clusters[p] = append(cs, c)
			}
		}
	}
	d.projects.add(projects)
	for p, cs := range clusters {
		if d.clusters[p] == nil {
			d.clusters[p] = &orderGraph{}
		}
		d.clusters[p].add(cs)
	}
	return nil
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
