package costexplorer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// This file holds the queries of the project's own API (/api/costexplorer/v1,
// DESIGN §5.5): what Atlas's cost explorer cannot answer — daily
// granularity, tags, two group-bys and filter expressions. The Atlas paths
// keep their own Query and its strict contract.

// Granularity is the length of a UsageQuery's periods.
type Granularity string

// The granularities.
const (
	Daily   Granularity = "DAILY"
	Monthly Granularity = "MONTHLY"
)

// Dimension is what a UsageQuery groups or filters by: one of the fixed
// dimensions below, or a tag key as "tag:KEY".
type Dimension string

// The fixed dimensions. Their group ids are the organization, project and
// cluster ids, the service name and the SKU id.
const (
	DimOrganizations Dimension = "organizations"
	DimProjects      Dimension = "projects"
	DimClusters      Dimension = "clusters"
	DimServices      Dimension = "services"
	DimSKUs          Dimension = "skus"
)

// TagPrefix starts a tag dimension: "tag:team" groups by the values of the
// tag key "team".
const TagPrefix = "tag:"

// TagDimension returns the dimension of tag key k.
func TagDimension(k string) Dimension { return Dimension(TagPrefix + k) }

// TagKey returns the tag key of a tag dimension, and false for the fixed
// dimensions.
func (d Dimension) TagKey() (string, bool) {
	k, ok := strings.CutPrefix(string(d), TagPrefix)
	return k, ok
}

// Valid reports whether d is a fixed dimension or a tag dimension with a
// key that could exist (non-empty, at most MaxTagLength bytes).
func (d Dimension) Valid() bool {
	switch d {
	case DimOrganizations, DimProjects, DimClusters, DimServices, DimSKUs:
		return true
	}
	k, ok := d.TagKey()
	return ok && k != "" && len(k) <= MaxTagLength
}

// Metric is a measure a UsageQuery sums.
type Metric string

// The metrics. Amount is always summed; Quantity sums the items' quantities
// as they are, whatever their units, so it is meaningful when the rows are
// grouped (or filtered) down to one SKU.
const (
	MetricAmount   Metric = "amount"
	MetricQuantity Metric = "quantity"
)

// MaxGroupBy is how many dimensions a UsageQuery may group by.
const MaxGroupBy = 2

// Filter is a filter expression of a UsageQuery: exactly one of And, Or,
// Not, or a leaf that tests one Dimension, with In (the item's value is one
// of these) or Absent (the item has no value for the dimension).
//
// The value of an item for a dimension is: its organization, project or
// cluster id (a charge without a project or cluster has none: Absent), its
// service name, its SKU id, or for a tag dimension the values of that tag
// key as they were on the usage day (none when the key is missing). A leaf
// with In matches when any of the item's values is in In.
type Filter struct {
	And []*Filter `json:"and,omitempty"`
	Or  []*Filter `json:"or,omitempty"`
	Not *Filter   `json:"not,omitempty"`

	Dimension Dimension `json:"dimension,omitempty"`
	In        []string  `json:"in,omitempty"`
	Absent    bool      `json:"absent,omitempty"`
}

// UsageQuery is a validated query of the project's own API for one
// organization: its scope is OrgID and, when OrgID pays for others, its
// linked organizations (as for [Query]). Start is inclusive and End
// exclusive. GroupBy holds at most MaxGroupBy distinct dimensions; none
// means one total per period. Filter nil means every item.
type UsageQuery struct {
	OrgID       string
	Granularity Granularity
	Start, End  Day
	GroupBy     []Dimension
	Filter      *Filter
	Metrics     []Metric
}

// Has reports whether q asks for metric m (amount always).
func (q *UsageQuery) Has(m Metric) bool {
	return m == MetricAmount || slices.Contains(q.Metrics, m)
}

// PeriodStart returns the first day of the period of q that contains d: d
// itself for a daily query; for a monthly one the first of d's month, or
// q.Start when the window begins later in that month, so that a row's Start
// is always the first day it sums.
func (q *UsageQuery) PeriodStart(d Day) Day {
	if q.Granularity != Monthly {
		return d
	}
	return max(DayOf(d.Month().Start()), q.Start)
}

// UsageGroup is a row's key for one group-by dimension: the id, and the
// name people read (the organization's, project's or cluster's name, the
// service name, the SKU's description or id, the tag value). An item with no
// value for the dimension groups under the empty id and name. An item whose
// tag key has several values groups under those values joined by
// [TagValueSeparator], so each item counts in exactly one group and the
// groups add up to the total.
type UsageGroup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// UsageRow is one row of a UsageQuery's answer: the first day of its period
// (see [UsageQuery.PeriodStart]), one group per group-by dimension in the
// query's order, and the sums of the matching items. A row exists when at
// least one item matches its period and groups (its sum may be zero).
type UsageRow struct {
	Start    Day
	Groups   []UsageGroup
	Amount   Cents
	Quantity float64
}

// CompareUsageRows orders the rows of an answer: by Start, then by each group
// in turn, by name, then id (byte order), as [CompareRows] orders names.
func CompareUsageRows(a, b *UsageRow) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	for i := range min(len(a.Groups), len(b.Groups)) {
		ga, gb := a.Groups[i], b.Groups[i]
		if c := cmp.Or(strings.Compare(ga.Name, gb.Name), strings.Compare(ga.ID, gb.ID)); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Groups), len(b.Groups))
}

// UsageEvaluator answers UsageQueries; internal/engine implements it.
// ErrNotFound when the organization is unknown.
type UsageEvaluator interface {
	EvaluateUsage(ctx context.Context, q *UsageQuery) ([]UsageRow, error)
}

// UsageRows is the answer of a UsageQuery as an evaluator holds it: Len
// rows in the answer's order, row i made by Row(i) when it is read, so that
// a page of a large answer costs what the page holds. It is not for
// concurrent use.
type UsageRows interface {
	Len() int
	Row(i int) UsageRow
}

// UsageRowSlice is an answer whose rows are made already.
type UsageRowSlice []UsageRow

// Len returns the number of rows.
func (s UsageRowSlice) Len() int { return len(s) }

// Row returns row i.
func (s UsageRowSlice) Row(i int) UsageRow { return s[i] }

// UsageRowsEvaluator is a UsageEvaluator that can hand over an answer
// before its rows are made (internal/engine).
type UsageRowsEvaluator interface {
	UsageEvaluator
	EvaluateUsageRows(ctx context.Context, q *UsageQuery) (UsageRows, error)
}

// EvaluateUsageRows answers q with ev, its rows unmade when ev can.
func EvaluateUsageRows(ctx context.Context, ev UsageEvaluator, q *UsageQuery) (UsageRows, error) {
	if r, ok := ev.(UsageRowsEvaluator); ok {
		return r.EvaluateUsageRows(ctx, q)
	}
	rows, err := ev.EvaluateUsage(ctx, q)
	if err != nil {
		return nil, err
	}
	return UsageRowSlice(rows), nil
}

// UsageFact is one line item as the reference evaluation sees it.
type UsageFact struct {
	OrgID, ProjectID, ClusterID string
	Service                     Service
	SKU                         string
	Date                        Day
	Amount                      Cents
	Quantity                    float64
	Tags                        Tags
}

// FactOf returns the fact of a line item.
func FactOf(li *LineItem) UsageFact {
	return UsageFact{OrgID: li.OrgID, ProjectID: li.ProjectID, ClusterID: li.ClusterID, Service: li.Service,
		SKU: li.SKU, Date: li.Date, Amount: li.Amount, Quantity: li.Quantity, Tags: li.Tags}
}

// Values returns the item's values for dimension d (see [Filter]): none when
// it has no value.
func (f *UsageFact) Values(d Dimension) []string {
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	switch d {
	case DimOrganizations:
		return one(f.OrgID)
	case DimProjects:
		return one(f.ProjectID)
	case DimClusters:
		return one(f.ClusterID)
	case DimServices:
		return one(string(f.Service))
	case DimSKUs:
		return one(f.SKU)
	}
	k, _ := d.TagKey()
	return f.Tags.Values(k)
}

// Match reports whether the item passes filter e (nil passes everything).
func (e *Filter) Match(f *UsageFact) bool {
	switch {
	case e == nil:
		return true
	case e.And != nil:
		for _, c := range e.And {
			if !c.Match(f) {
				return false
			}
		}
		return true
	case e.Or != nil:
		for _, c := range e.Or {
			if c.Match(f) {
				return true
			}
		}
		return false
	case e.Not != nil:
		return !e.Not.Match(f)
	}
	vs := f.Values(e.Dimension)
	if e.Absent {
		return len(vs) == 0
	}
	for _, v := range vs {
		if slices.Contains(e.In, v) {
			return true
		}
	}
	return false
}

// Validate checks the shape of e: exactly one of and/or/not/leaf, non-empty
// and/or lists, a valid dimension and exactly one of in (non-empty) or
// absent in a leaf, at most maxValues values per leaf and maxDepth levels.
// Errors are ErrValidation and name the rule broken.
func (e *Filter) Validate(maxDepth, maxValues int) error {
	return e.validate("filter", 1, maxDepth, maxValues)
}

func (e *Filter) validate(path string, depth, maxDepth, maxValues int) error {
	if e == nil {
		return filterError(path, "%s is null", path)
	}
	if depth > maxDepth {
		return filterError(path, "%s nests deeper than %d levels", path, maxDepth)
	}
	kinds := 0
	for _, set := range []bool{e.And != nil, e.Or != nil, e.Not != nil, e.Dimension != "" || e.In != nil || e.Absent} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return filterError(path, "%s must have exactly one of and, or, not, or a dimension with in or absent", path)
	}
	for name, list := range map[string][]*Filter{"and": e.And, "or": e.Or} {
		if list == nil {
			continue
		}
		if len(list) == 0 {
			return filterError(path, "%s.%s is empty", path, name)
		}
		for i, c := range list {
			if err := c.validate(fmt.Sprintf("%s.%s[%d]", path, name, i), depth+1, maxDepth, maxValues); err != nil {
				return err
			}
		}
		return nil
	}
	if e.Not != nil {
		return e.Not.validate(path+".not", depth+1, maxDepth, maxValues)
	}
	if !e.Dimension.Valid() {
		return filterError(path, "%s.dimension %q is not one of organizations, projects, clusters, services, skus or tag:KEY", path, e.Dimension)
	}
	if e.Absent == (len(e.In) > 0) {
		return filterError(path, "%s must have either a non-empty in or absent: true", path)
	}
	if len(e.In) > maxValues {
		return filterError(path, "%s.in has %d values, more than %d", path, len(e.In), maxValues)
	}
	return nil
}

// filterError is a validation error about the filter node at path; the
// field is the node's path, so that a client sees which node is wrong.
func filterError(path, format string, args ...any) error {
	return FieldError(ErrValidation, path, fmt.Sprintf(format, args...))
}

// UsageNames gives the display name of a group id of a fixed dimension (the
// organization's, project's, cluster's name, the SKU's description); it
// returns the id when it knows no better.
type UsageNames func(d Dimension, id string) string

// EvaluateUsageNaive answers q over every item of facts whose organization is
// in scope, item by item, the simplest way that is obviously right. It is the
// reference the engine is tested against, not a way to serve queries.
func EvaluateUsageNaive(q *UsageQuery, scope []string, facts []UsageFact, names UsageNames) []UsageRow {
	type key struct {
		start Day
		ids   string // group ids joined by \x00
	}
	rows := map[key]*UsageRow{}
	for i := range facts {
		f := &facts[i]
		if f.Date < q.Start || f.Date >= q.End || !slices.Contains(scope, f.OrgID) || !q.Filter.Match(f) {
			continue
		}
		groups := make([]UsageGroup, len(q.GroupBy))
		ids := make([]string, len(q.GroupBy))
		for j, d := range q.GroupBy {
			id := strings.Join(f.Values(d), TagValueSeparator)
			name := id
			if _, tag := d.TagKey(); !tag && id != "" && names != nil {
				name = names(d, id)
			}
			groups[j], ids[j] = UsageGroup{ID: id, Name: name}, id
		}
		k := key{q.PeriodStart(f.Date), strings.Join(ids, "\x00")}
		r := rows[k]
		if r == nil {
			r = &UsageRow{Start: k.start, Groups: groups}
			rows[k] = r
		}
		r.Amount += f.Amount
		r.Quantity += f.Quantity
	}
	out := make([]UsageRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b UsageRow) int { return CompareUsageRows(&a, &b) })
	return out
}
