package sqlstore

import (
	"cmp"

	"github.com/costexplorer/costexplorer"
)

// CellKey identifies a rollup cell by surrogate keys (0: no project or
// cluster). Both dialects' surrogate keys fit int64.
type CellKey struct {
	Month   costexplorer.Month
	Org     int64
	Project int64
	Cluster int64
	Service int64
}

// CompareCells orders cells as the rollup's primary key does.
func CompareCells(a, b CellKey) int {
	return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.Org, b.Org), cmp.Compare(a.Project, b.Project),
		cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Service, b.Service))
}

// SKUKey identifies a row of the skus table.
type SKUKey struct {
	Name    string
	Service int64
	Unit    string
}

// DailyKey identifies a daily rollup cell by surrogate keys (0: no project,
// cluster or tags), in the order of the daily rollup's primary key. Month is
// the day's.
type DailyKey struct {
	Org     int64
	Month   costexplorer.Month
	Project int64
	Cluster int64
	SKU     int64
	TagSet  int64
	Day     costexplorer.Day
}

// CompareDaily orders cells as the daily rollup's primary key does.
func CompareDaily(a, b DailyKey) int {
	return cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Month, b.Month), cmp.Compare(a.Project, b.Project),
		cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.SKU, b.SKU), cmp.Compare(a.TagSet, b.TagSet), cmp.Compare(a.Day, b.Day))
}

// DailySums are what line items add to a daily cell.
type DailySums struct {
	Amount   costexplorer.Cents
	Quantity float64
	Items    int64
}

// DailyCell is a daily rollup cell and what is added to it.
type DailyCell struct {
	DailyKey
	DailySums
}
