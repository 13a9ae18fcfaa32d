package costexplorer

// DailyRollupRow is one cell of the daily rollup, which answers the
// project's own usage queries (DESIGN §5.5): the sums of the line items of
// one day, organization, project, cluster, SKU and tag set (the tags as
// they were on the usage day). ProjectID and ClusterID are empty for charges
// without them; Service is the SKU's. Items counts the line items summed
// (a cell is listed only while it holds at least one).
type DailyRollupRow struct {
	Day       Day
	OrgID     string
	ProjectID string
	ClusterID string
	Service   Service
	SKU       string
	Tags      Tags
	Amount    Cents
	Quantity  float64
	Items     int64
}

// SKUName returns the name people read for a SKU: its catalogue
// description, or its id when the catalogue does not describe it.
func SKUName(id string) string {
	if s, err := LookupSKU(id); err == nil && s.Description != "" {
		return s.Description
	}
	return id
}
