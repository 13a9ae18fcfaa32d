package costexplorer

import (
	"bytes"
	"slices"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	rows := []Row{
		{UsageDate: "2026-06-01", InvoiceID: "666acb8787ba90706905dcae", OrganizationID: "aaaaaaaaaaaaaaaaaaaaaaaa", OrganizationName: "=HYPERLINK(\"x\")", ProjectName: "a,b", Service: ServiceClusters, UsageAmount: 101839},
		{UsageDate: "2026-06-01", OrganizationName: "Acme", UsageAmount: -50},
	}
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := "Billed Date,Invoice Id,Organization Name,Organization ID,Project Name,Project Id,Cluster Name,Cluster Unique Id,Service,Usage Amount\n" +
		"2026-06-01,666acb8787ba90706905dcae,\"'=HYPERLINK(\"\"x\"\")\",aaaaaaaaaaaaaaaaaaaaaaaa,\"a,b\",,,,Clusters,1018.39\n" +
		"2026-06-01,,Acme,,,,,,,-0.50\n"
	if buf.String() != want {
		t.Errorf("CSV =\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	if err := WriteCSV(&buf, nil); err != nil || buf.Len() == 0 {
		t.Errorf("an empty result must still have its header line, got %q", buf.String())
	}
}

func TestCompareRows(t *testing.T) {
	rows := []Row{
		{UsageDate: "2026-06-01", OrganizationName: "B", OrganizationID: "2", ProjectName: "alpha", ProjectID: "p2"},
		{UsageDate: "2026-05-01", OrganizationName: "Z", OrganizationID: "9", ProjectName: "zeta", ProjectID: "p9"},
		{UsageDate: "2026-06-01", OrganizationName: "A", OrganizationID: "1", ProjectName: "beta", ProjectID: "p1"},
		{UsageDate: "2026-06-01", OrganizationName: "A", OrganizationID: "1"},
	}
	slices.SortFunc(rows, func(a, b Row) int { return CompareRows(GroupByProjects, &a, &b) })
	var got []string
	for _, r := range rows {
		got = append(got, r.UsageDate[:7]+"/"+r.ProjectName)
	}
	want := []string{"2026-05/zeta", "2026-06/", "2026-06/alpha", "2026-06/beta"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v (date, then project name, empty first)", got, want)
	}
}
