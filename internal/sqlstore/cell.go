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
