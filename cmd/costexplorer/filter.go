package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/costexplorer/costexplorer"
)

const filterHelp = `A --filter is one or more conditions joined by "and" (repeat --filter to add more):
  DIM=V1,V2     the item's value is one of V1, V2 (for a tag: one of its values is)
  DIM!=V1,V2    it is none of them (items without a value pass)
  DIM=          the item has no value (no project, no cluster, no such tag)
  DIM!=         the item has a value
DIM is organizations, projects, clusters, services, skus (or the singular), or tag:KEY.
Ids are 24 lower-case hex characters; services are the cost explorer's names.
  --filter 'tag:environment=production and services=Clusters,Backup'
  --filter 'tag:team!=' --filter 'projects!=0123456789abcdef01234567'
For or, nesting, or values with commas, give the API's filter JSON instead:
  --filter '{"or":[{"dimension":"tag:team","in":["payments"]},{"dimension":"tag:team","absent":true}]}'`

// dimensionAliases are the singular names the CLI also accepts.
var dimensionAliases = map[string]costexplorer.Dimension{
	"organization": costexplorer.DimOrganizations,
	"project":      costexplorer.DimProjects,
	"cluster":      costexplorer.DimClusters,
	"service":      costexplorer.DimServices,
	"sku":          costexplorer.DimSKUs,
}

// parseDimension reads a dimension as the CLI writes it.
func parseDimension(s string) (costexplorer.Dimension, error) {
	s = strings.TrimSpace(s)
	d := costexplorer.Dimension(s)
	if a, ok := dimensionAliases[s]; ok {
		d = a
	}
	if !d.Valid() {
		return "", fmt.Errorf("unknown dimension %q: use organizations, projects, clusters, services, skus or tag:KEY", s)
	}
	return d, nil
}

// conditions splits s at the word "and" (any case); words inside a
// condition are joined by one space.
func conditions(s string) []string {
	conds := []string{""}
	for _, w := range strings.Fields(s) {
		switch last := len(conds) - 1; {
		case strings.EqualFold(w, "and"):
			conds = append(conds, "")
		case conds[last] == "":
			conds[last] = w
		default:
			conds[last] += " " + w
		}
	}
	return conds
}

// parseFilterText reads a --filter value: the API's filter JSON (starting
// with "{"), or conditions joined by "and" (filterHelp). The result is
// checked for shape only; the server checks the values.
func parseFilterText(s string) (*costexplorer.Filter, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		var f costexplorer.Filter
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("filter JSON: %v", err)
		}
		if dec.More() {
			return nil, fmt.Errorf("filter JSON: unexpected data after the object")
		}
		if err := f.Validate(costexplorer.MaxFilterDepth, costexplorer.DefaultMaxFilterValues); err != nil {
			return nil, fmt.Errorf("filter JSON: %s", costexplorer.ErrorDetail(err))
		}
		return &f, nil
	}
	var leaves []*costexplorer.Filter
	for _, cond := range conditions(s) {
		if cond == "" {
			return nil, fmt.Errorf("empty condition in %q", s)
		}
		dim, vals, ok := strings.Cut(cond, "=")
		if !ok {
			return nil, fmt.Errorf("condition %q has no = (write DIM=V1,V2, DIM!=V, or DIM=)", cond)
		}
		dim, negate := strings.CutSuffix(dim, "!")
		d, err := parseDimension(dim)
		if err != nil {
			return nil, err
		}
		leaf := &costexplorer.Filter{Dimension: d, Absent: true}
		if vals = strings.TrimSpace(vals); vals != "" {
			leaf.Absent = false
			for v := range strings.SplitSeq(vals, ",") {
				if v = strings.TrimSpace(v); v == "" {
					return nil, fmt.Errorf("condition %q has an empty value", cond)
				}
				leaf.In = append(leaf.In, v)
			}
		}
		if negate {
			leaf = &costexplorer.Filter{Not: leaf}
		}
		leaves = append(leaves, leaf)
	}
	if len(leaves) == 1 {
		return leaves[0], nil
	}
	return &costexplorer.Filter{And: leaves}, nil
}

// andFilters joins filters with and (nil for none).
func andFilters(fs []*costexplorer.Filter) *costexplorer.Filter {
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return &costexplorer.Filter{And: fs}
}
