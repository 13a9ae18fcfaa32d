package costexplorer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The filter syntax people type — in the CLI's --filter and the web page's
// filter box — for the Filter of a UsageQuery.

// dimensionAliases are the singular names people also write.
var dimensionAliases = map[string]Dimension{
	"organization": DimOrganizations,
	"project":      DimProjects,
	"cluster":      DimClusters,
	"service":      DimServices,
	"sku":          DimSKUs,
}

// ParseDimension reads a dimension as people write it: the API's names,
// or the singular of a fixed dimension.
func ParseDimension(s string) (Dimension, error) {
	s = strings.TrimSpace(s)
	d := Dimension(s)
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

// ParseFilterText reads a filter written for people: the API's filter JSON (starting
// with "{"), or conditions joined by "and" . The result is checked for shape only; the
// request parser checks the values.
//
//	DIM=V1,V2     the item's value is one of V1, V2 (for a tag: one of its values is)
//	DIM!=V1,V2    it is none of them (items without a value pass)
//	DIM=          the item has no value (no project, no cluster, no such tag)
//	DIM!=         the item has a value
//
// Conditions are joined by "and"; or, nesting and values with commas need
// the filter JSON.
func ParseFilterText(s string) (*Filter, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		var f Filter
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("filter JSON: %v", err)
		}
		if dec.More() {
			return nil, fmt.Errorf("filter JSON: unexpected data after the object")
		}
		if err := f.Validate(MaxFilterDepth, DefaultMaxFilterValues); err != nil {
			return nil, fmt.Errorf("filter JSON: %s", ErrorDetail(err))
		}
		return &f, nil
	}
	var leaves []*Filter
	for _, cond := range conditions(s) {
		if cond == "" {
			return nil, fmt.Errorf("empty condition in %q", s)
		}
		dim, vals, ok := strings.Cut(cond, "=")
		if !ok {
			return nil, fmt.Errorf("condition %q has no = (write DIM=V1,V2, DIM!=V, or DIM=)", cond)
		}
		dim, negate := strings.CutSuffix(dim, "!")
		d, err := ParseDimension(dim)
		if err != nil {
			return nil, err
		}
		leaf := &Filter{Dimension: d, Absent: true}
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
			leaf = &Filter{Not: leaf}
		}
		leaves = append(leaves, leaf)
	}
	if len(leaves) == 1 {
		return leaves[0], nil
	}
	return &Filter{And: leaves}, nil
}

// AndFilters joins filters with and (nil for none).
func AndFilters(fs []*Filter) *Filter {
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return &Filter{And: fs}
}
