package web

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// series is the usage of one group across the months of a result: one row
// of the "Usage By Month" table, one colour of the chart.
type series struct {
	Key   string // the group's identity fields, for tests and data attributes
	Label string // what a person reads: the group's name, disambiguated
	Cents []costexplorer.Cents
	Total costexplorer.Cents

	context string // what tells it apart from a group of the same name
}

// groupRows turns result rows into one series per group, in rank order:
// largest absolute total first (a large credit ranks high too), then by
// label. A row dated outside months is an error: the result and the query
// disagree.
func groupRows(g costexplorer.GroupBy, months []costexplorer.Month, rows []costexplorer.Row) ([]*series, error) {
	index := make(map[string]int, len(months))
	for i, m := range months {
		index[m.Date()] = i
	}
	byKey := map[string]*series{}
	var out []*series
	for i := range rows {
		r := &rows[i]
		mi, ok := index[r.UsageDate]
		if !ok {
			return nil, fmt.Errorf("result row dated %s is outside the query's months", r.UsageDate)
		}
		key := groupKey(r)
		s := byKey[key]
		if s == nil {
			s = &series{Key: key, Label: primaryLabel(g, r), Cents: make([]costexplorer.Cents, len(months))}
			byKey[key] = s
			out = append(out, s)
			s.context = contextLabel(g, r)
		}
		s.Cents[mi] += r.UsageAmount
		s.Total += r.UsageAmount
	}
	disambiguate(out)
	slices.SortFunc(out, func(a, b *series) int {
		return cmp.Or(cmp.Compare(abs(b.Total), abs(a.Total)), cmp.Compare(a.Label, b.Label), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// groupKey identifies a row's group: every identity field. A grouped result
// carries only the fields of its group (DESIGN §1.3), so this is the group
// for every groupBy, including none.
func groupKey(r *costexplorer.Row) string {
	return strings.Join([]string{r.OrganizationID, r.ProjectID, r.ClusterID, string(r.Service)}, "/")
}

// primaryLabel is the name of the group a row belongs to.
func primaryLabel(g costexplorer.GroupBy, r *costexplorer.Row) string {
	orEmpty := func(name, id, what string) string {
		switch {
		case name != "":
			return name
		case id != "":
			return id
		}
		return "(no " + what + ")"
	}
	switch g {
	case costexplorer.GroupByOrganizations:
		return orEmpty(r.OrganizationName, r.OrganizationID, "organization")
	case costexplorer.GroupByProjects:
		return orEmpty(r.ProjectName, r.ProjectID, "project")
	case costexplorer.GroupByClusters:
		return orEmpty(r.ClusterName, r.ClusterID, "cluster")
	case costexplorer.GroupByServices:
		return orEmpty(string(r.Service), "", "service")
	}
	var parts []string
	for _, p := range []string{r.OrganizationName, r.ProjectName, r.ClusterName, string(r.Service)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, " / ")
}

// contextLabel is what tells apart two groups of the same name: the
// organization of a project or service, the project of a cluster.
func contextLabel(g costexplorer.GroupBy, r *costexplorer.Row) string {
	switch g {
	case costexplorer.GroupByClusters:
		return cmp.Or(r.ProjectName, r.ProjectID)
	case costexplorer.GroupByOrganizations:
		return r.OrganizationID
	}
	return cmp.Or(r.OrganizationName, r.OrganizationID)
}

// disambiguate appends the context to labels that several groups share
// (the "Clusters" service of two linked organizations), and the key when
// even that is not enough.
func disambiguate(ss []*series) {
	count := map[string]int{}
	for _, s := range ss {
		count[s.Label]++
	}
	for _, s := range ss {
		if count[s.Label] > 1 && s.context != "" {
			s.Label += " (" + s.context + ")"
		}
	}
	clear(count)
	for _, s := range ss {
		count[s.Label]++
	}
	seen := map[string]int{}
	for _, s := range ss {
		if count[s.Label] > 1 {
			seen[s.Label]++
			s.Label += " #" + strconv.Itoa(seen[s.Label])
		}
	}
}

func abs(c costexplorer.Cents) costexplorer.Cents {
	if c < 0 {
		return -c
	}
	return c
}

// monthTotals returns the total of each month over all series.
func monthTotals(ss []*series, n int) []costexplorer.Cents {
	t := make([]costexplorer.Cents, n)
	for _, s := range ss {
		for i, c := range s.Cents {
			t[i] += c
		}
	}
	return t
}

// formatCompact writes cents as a short dollar amount for axis and bar
// labels ("$950", "$12.3k", "$4.56M"), rounding with integers.
func formatCompact(c costexplorer.Cents) string {
	sign := ""
	v := int64(c)
	if v < 0 {
		sign, v = "-", -v
	}
	tenths := func(unit int64) string { // v in tenths of unit, rounded
		t := (v*10 + unit/2) / unit
		s := strconv.FormatInt(t/10, 10)
		if t%10 != 0 {
			s += "." + strconv.FormatInt(t%10, 10)
		}
		return s
	}
	switch {
	case v < 100_00:
		if v%100 == 0 {
			return sign + "$" + strconv.FormatInt(v/100, 10)
		}
		return sign + "$" + costexplorer.Cents(v).Dollars()
	case v < 1000_00:
		return sign + "$" + strconv.FormatInt((v+50)/100, 10)
	case v < 100_000_00:
		return sign + "$" + tenths(1000_00) + "k"
	case v < 1_000_000_00:
		return sign + "$" + strconv.FormatInt((v+500_00)/1000_00, 10) + "k"
	case v < 100_000_000_00:
		return sign + "$" + tenths(1_000_000_00) + "M"
	}
	return sign + "$" + strconv.FormatInt((v+500_000_00)/1_000_000_00, 10) + "M"
}

// monthLabel is a month as people write it: "Jan 2025".
func monthLabel(m costexplorer.Month) string {
	return m.Num().String()[:3] + " " + strconv.Itoa(m.Year())
}

// dayLabel is a day as people write it: "3 Nov 2026".
func dayLabel(d costexplorer.Day) string {
	t := d.Time()
	return strconv.Itoa(t.Day()) + " " + t.Month().String()[:3] + " " + strconv.Itoa(t.Year())
}
