package costexplorer

import (
	"cmp"
	"encoding/csv"
	"io"
	"strings"
)

// Row is one row of a cost-explorer result: the usage of one group in one
// month (DESIGN §1.3). Identity fields the row has no value for are empty and
// omitted from JSON.
type Row struct {
	UsageDate        string  `json:"usageDate"`
	InvoiceID        string  `json:"invoiceId,omitempty"`
	OrganizationID   string  `json:"organizationId,omitempty"`
	OrganizationName string  `json:"organizationName,omitempty"`
	ProjectID        string  `json:"projectId,omitempty"`
	ProjectName      string  `json:"projectName,omitempty"`
	ClusterID        string  `json:"clusterId,omitempty"`
	ClusterName      string  `json:"clusterName,omitempty"`
	Service          Service `json:"service,omitempty"`
	UsageAmount      Cents   `json:"usageAmount"`
}

// Result is the JSON body of a ready query: usageDetails is always present,
// possibly empty.
type Result struct {
	UsageDetails []Row `json:"usageDetails"`
}

// CSVHeader is the exact header line of a CSV result.
var CSVHeader = []string{"Billed Date", "Invoice Id", "Organization Name", "Organization ID", "Project Name", "Project Id", "Cluster Name", "Cluster Unique Id", "Service", "Usage Amount"}

// CompareRows orders rows as the contract does: by date, then by the group's
// name and id (the groupBy dimension first), then by the remaining identity
// fields from organization to service. Empty values (partial matches) sort first.
func CompareRows(g GroupBy, a, b *Row) int {
	if c := cmp.Compare(a.UsageDate, b.UsageDate); c != 0 {
		return c
	}
	org := func() int {
		return cmp.Or(cmp.Compare(a.OrganizationName, b.OrganizationName), cmp.Compare(a.OrganizationID, b.OrganizationID))
	}
	proj := func() int {
		return cmp.Or(cmp.Compare(a.ProjectName, b.ProjectName), cmp.Compare(a.ProjectID, b.ProjectID))
	}
	clus := func() int {
		return cmp.Or(cmp.Compare(a.ClusterName, b.ClusterName), cmp.Compare(a.ClusterID, b.ClusterID))
	}
	svc := func() int { return cmp.Compare(a.Service, b.Service) }
	var first func() int
	switch g {
	case GroupByProjects:
		first = proj
	case GroupByClusters:
		first = clus
	case GroupByServices:
		first = svc
	default:
		first = org
	}
	return cmp.Or(first(), org(), proj(), clus(), svc())
}

// WriteCSV writes rows as the contract's RFC 4180 CSV, header first. Names
// that a spreadsheet would read as a formula (starting with =, +, -, @, tab or
// carriage return) are prefixed with a single quote.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	rec := make([]string, len(CSVHeader))
	for i := range rows {
		r := &rows[i]
		rec[0] = r.UsageDate
		rec[1] = r.InvoiceID
		rec[2] = SafeCSVText(r.OrganizationName)
		rec[3] = r.OrganizationID
		rec[4] = SafeCSVText(r.ProjectName)
		rec[5] = r.ProjectID
		rec[6] = SafeCSVText(r.ClusterName)
		rec[7] = r.ClusterID
		rec[8] = string(r.Service)
		rec[9] = r.UsageAmount.Dollars()
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SafeCSVText neutralises a free-text value against CSV formula injection.
func SafeCSVText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
