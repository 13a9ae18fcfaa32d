package engine

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// ingester is a Source that takes line items: the real store in these tests.
type ingester interface {
	Source
	IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error)
}

func ingest(t testing.TB, st ingester, b *costexplorer.UsageBatch) {
	t.Helper()
	if _, err := st.IngestUsage(context.Background(), b); err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

// loadedExample returns a store holding exampleBatch and an engine loaded
// from it.
func loadedExample(t testing.TB) (ingester, *Engine) {
	t.Helper()
	st := newTestStore(t)
	ingest(t, st, exampleBatch())
	e := New(st, Options{})
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st, e
}

// hexID returns a 24-hex id: kind tells the dimensions apart when reading a
// failure.
func hexID(kind byte, n int) string { return fmt.Sprintf("%c%023x", kind, n) }

var (
	may  = costexplorer.MakeMonth(2024, time.May)
	june = costexplorer.MakeMonth(2024, time.June)
	july = costexplorer.MakeMonth(2024, time.July)
)

// The hand-computed example: Paying Corp pays for Linked Labs; Unlinked Inc
// stands alone. Support and Credits carry no project or cluster; the Data
// Transfer charge of project Beta has no cluster.
var (
	orgP = costexplorer.Organization{ID: hexID('a', 1), Name: "Paying Corp"}
	orgL = costexplorer.Organization{ID: hexID('a', 2), Name: "Linked Labs", PayingOrgID: hexID('a', 1)}
	orgU = costexplorer.Organization{ID: hexID('a', 3), Name: "Unlinked Inc"}

	projAlpha = costexplorer.Project{ID: hexID('b', 1), OrgID: orgP.ID, Name: "Alpha"}
	projBeta  = costexplorer.Project{ID: hexID('b', 2), OrgID: orgP.ID, Name: "Beta"}
	projGamma = costexplorer.Project{ID: hexID('b', 3), OrgID: orgL.ID, Name: "Gamma"}
	projDelta = costexplorer.Project{ID: hexID('b', 4), OrgID: orgU.ID, Name: "Delta"}

	clusMain      = costexplorer.Cluster{ID: hexID('c', 1), ProjectID: projAlpha.ID, Name: "alpha-main"}
	clusAnalytics = costexplorer.Cluster{ID: hexID('c', 2), ProjectID: projAlpha.ID, Name: "alpha-analytics"}
	clusGamma     = costexplorer.Cluster{ID: hexID('c', 3), ProjectID: projGamma.ID, Name: "gamma-db"}
	clusDelta     = costexplorer.Cluster{ID: hexID('c', 4), ProjectID: projDelta.ID, Name: "delta-db"}
)

func exampleBatch() *costexplorer.UsageBatch {
	day := func(m costexplorer.Month, d int) costexplorer.Day {
		return costexplorer.DayOf(time.Date(m.Year(), m.Num(), d, 0, 0, 0, 0, time.UTC))
	}
	type charge struct {
		m     costexplorer.Month
		d     int
		org   *costexplorer.Organization
		proj  *costexplorer.Project
		clus  *costexplorer.Cluster
		svc   costexplorer.Service
		sku   string
		cents costexplorer.Cents
	}
	charges := []charge{
		{may, 3, &orgP, &projAlpha, &clusMain, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M30", 10000},
		{may, 20, &orgP, &projAlpha, &clusMain, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M30", 2550},
		{may, 10, &orgP, &projAlpha, &clusMain, costexplorer.ServiceBackup, "ATLAS_AWS_BACKUP_SNAPSHOT_STORAGE", 1234},
		{may, 11, &orgP, &projAlpha, &clusAnalytics, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M10", 5000},
		{may, 15, &orgP, &projBeta, nil, costexplorer.ServiceDataTransfer, "ATLAS_AWS_DATA_TRANSFER_INTERNET", 300},
		{may, 31, &orgP, nil, nil, costexplorer.ServiceSupport, "MMS_SUPPORT", 2000},
		{may, 31, &orgP, nil, nil, costexplorer.ServiceCredits, "CREDIT", -1500},
		{may, 12, &orgL, &projGamma, &clusGamma, costexplorer.ServiceClusters, "ATLAS_GCP_INSTANCE_M10", 7000},
		{may, 31, &orgL, nil, nil, costexplorer.ServiceSupport, "MMS_SUPPORT", 700},
		{may, 5, &orgU, &projDelta, &clusDelta, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M10", 9999},
		{june, 1, &orgP, &projAlpha, &clusMain, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M30", 11000},
		{june, 30, &orgP, nil, nil, costexplorer.ServiceCredits, "CREDIT", -11000},
		{june, 2, &orgL, &projGamma, &clusGamma, costexplorer.ServiceClusters, "ATLAS_GCP_INSTANCE_M10", 8000},
		{may - 1, 30, &orgP, &projAlpha, &clusMain, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M30", 100000}, // before the window
		{july, 1, &orgP, &projAlpha, &clusMain, costexplorer.ServiceClusters, "ATLAS_AWS_INSTANCE_M30", 42},         // after it
	}
	b := &costexplorer.UsageBatch{
		Organizations: []costexplorer.Organization{orgP, orgL, orgU},
		Projects:      []costexplorer.Project{projAlpha, projBeta, projGamma, projDelta},
		Clusters:      []costexplorer.Cluster{clusMain, clusAnalytics, clusGamma, clusDelta},
	}
	for i, c := range charges {
		it := costexplorer.LineItem{
			ID:       costexplorer.NewLineItemID("example", fmt.Sprint(i)),
			OrgID:    c.org.ID,
			Service:  c.svc,
			SKU:      c.sku,
			Date:     day(c.m, c.d),
			Quantity: 1,
			Unit:     "units",
			Amount:   c.cents,
		}
		if c.proj != nil {
			it.ProjectID = c.proj.ID
		}
		if c.clus != nil {
			it.ClusterID = c.clus.ID
		}
		b.Items = append(b.Items, it)
	}
	return b
}

// want builds an expected row; nil dimensions are left empty.
func want(m costexplorer.Month, o *costexplorer.Organization, p *costexplorer.Project, c *costexplorer.Cluster, svc costexplorer.Service, cents costexplorer.Cents) costexplorer.Row {
	r := costexplorer.Row{
		UsageDate:        m.Date(),
		InvoiceID:        costexplorer.InvoiceID(o.ID, m),
		OrganizationID:   o.ID,
		OrganizationName: o.Name,
		Service:          svc,
		UsageAmount:      cents,
	}
	if p != nil {
		r.ProjectID, r.ProjectName = p.ID, p.Name
	}
	if c != nil {
		r.ClusterID, r.ClusterName = c.ID, c.Name
	}
	return r
}

func TestEvaluateExample(t *testing.T) {
	_, e := loadedExample(t)
	none := costexplorer.Service("")
	window := func(q costexplorer.Query) *costexplorer.Query {
		if q.Start == 0 {
			q.Start, q.End = may, july
		}
		return &q
	}
	tests := []struct {
		name string
		q    *costexplorer.Query
		want []costexplorer.Row
	}{
		{
			name: "PayingOrgCoversLinkedOrg",
			q:    window(costexplorer.Query{OrgID: orgP.ID, Organizations: []string{orgP.ID, orgL.ID}, GroupBy: costexplorer.GroupByOrganizations}),
			want: []costexplorer.Row{
				want(may, &orgL, nil, nil, none, 7700),  // 7000 + 700
				want(may, &orgP, nil, nil, none, 19584), // 10000+2550+1234+5000+300+2000-1500
				want(june, &orgL, nil, nil, none, 8000), //
				want(june, &orgP, nil, nil, none, 0),    // 11000 - 11000: a zero sum still has a row
			},
		},
		{
			name: "OrgFilterCannotReachOutsideScope",
			q:    window(costexplorer.Query{OrgID: orgP.ID, Organizations: []string{orgP.ID, orgU.ID}, GroupBy: costexplorer.GroupByOrganizations}),
			want: []costexplorer.Row{
				want(may, &orgP, nil, nil, none, 19584),
				want(june, &orgP, nil, nil, none, 0),
			},
		},
		{
			name: "LinkedOrgCoversOnlyItself",
			q:    window(costexplorer.Query{OrgID: orgL.ID}),
			want: []costexplorer.Row{
				want(may, &orgL, nil, nil, costexplorer.ServiceSupport, 700), // empty project sorts first
				want(may, &orgL, &projGamma, &clusGamma, costexplorer.ServiceClusters, 7000),
				want(june, &orgL, &projGamma, &clusGamma, costexplorer.ServiceClusters, 8000),
			},
		},
		{
			name: "ProjectsWithoutPartialMatches",
			q:    window(costexplorer.Query{OrgID: orgP.ID, Projects: []string{projAlpha.ID, projBeta.ID}, GroupBy: costexplorer.GroupByProjects}),
			want: []costexplorer.Row{
				want(may, &orgP, &projAlpha, nil, none, 18784), // 10000+2550+1234+5000
				want(may, &orgP, &projBeta, nil, none, 300),
				want(june, &orgP, &projAlpha, nil, none, 11000),
			},
		},
		{
			name: "ProjectsWithPartialMatches",
			q:    window(costexplorer.Query{OrgID: orgP.ID, Projects: []string{projAlpha.ID, projBeta.ID}, GroupBy: costexplorer.GroupByProjects, IncludePartialMatches: true}),
			want: []costexplorer.Row{
				want(may, &orgL, nil, nil, none, 700), // Linked Labs' Support
				want(may, &orgP, nil, nil, none, 500), // Support 2000 + Credits -1500
				want(may, &orgP, &projAlpha, nil, none, 18784),
				want(may, &orgP, &projBeta, nil, none, 300),
				want(june, &orgP, nil, nil, none, -11000), // the credit alone
				want(june, &orgP, &projAlpha, nil, none, 11000),
			},
		},
		{
			name: "ClustersWithoutPartialMatches",
			q:    window(costexplorer.Query{OrgID: orgP.ID, Clusters: []string{clusMain.ID}, GroupBy: costexplorer.GroupByClusters}),
			want: []costexplorer.Row{
				want(may, &orgP, &projAlpha, &clusMain, none, 13784), // 10000+2550+1234
				want(june, &orgP, &projAlpha, &clusMain, none, 11000),
			},
		},
		{
			name: "ClustersWithPartialMatches",
			q:    window(costexplorer.Query{OrgID: orgP.ID, Clusters: []string{clusMain.ID}, GroupBy: costexplorer.GroupByClusters, IncludePartialMatches: true}),
			want: []costexplorer.Row{
				want(may, &orgL, nil, nil, none, 700),
				want(may, &orgP, nil, nil, none, 500),
				want(may, &orgP, &projBeta, nil, none, 300), // project known, cluster absent
				want(may, &orgP, &projAlpha, &clusMain, none, 13784),
				want(june, &orgP, nil, nil, none, -11000),
				want(june, &orgP, &projAlpha, &clusMain, none, 11000),
			},
		},
		{
			name: "ServicesSupportAndCredits",
			q:    window(costexplorer.Query{OrgID: orgP.ID, Services: []costexplorer.Service{costexplorer.ServiceCredits, costexplorer.ServiceSupport}, GroupBy: costexplorer.GroupByServices}),
			want: []costexplorer.Row{
				want(may, &orgP, nil, nil, costexplorer.ServiceCredits, -1500),
				want(may, &orgL, nil, nil, costexplorer.ServiceSupport, 700),
				want(may, &orgP, nil, nil, costexplorer.ServiceSupport, 2000),
				want(june, &orgP, nil, nil, costexplorer.ServiceCredits, -11000),
			},
		},
		{
			name: "EmptyWhenNoUsageInWindow",
			q:    &costexplorer.Query{OrgID: orgU.ID, Start: june, End: july, Services: []costexplorer.Service{costexplorer.ServiceClusters}, GroupBy: costexplorer.GroupByServices},
			want: []costexplorer.Row{},
		},
		{
			name: "EmptyForUnknownOrg",
			q:    window(costexplorer.Query{OrgID: hexID('f', 99)}),
			want: []costexplorer.Row{},
		},
		{
			name: "EmptyForUnknownProject",
			q:    window(costexplorer.Query{OrgID: orgP.ID, Projects: []string{hexID('f', 98)}}),
			want: []costexplorer.Row{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Evaluate(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("got nil rows, want a non-nil slice")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows differ\n got: %s\nwant: %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(rows []costexplorer.Row) string {
	s := ""
	for _, r := range rows {
		s += fmt.Sprintf("\n  %s %s/%s %s/%s %s/%s %q %s", r.UsageDate, r.OrganizationName, r.OrganizationID, r.ProjectName, r.ProjectID, r.ClusterName, r.ClusterID, r.Service, r.UsageAmount)
	}
	return s
}
