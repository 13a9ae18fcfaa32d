package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/golden"
)

const (
	atlasInvoice = "666acb8787ba43606905dcae"
	atlasOrg     = "666acb8787ba43606905dcac"
	atlasSummary = "Invoice Number," + atlasInvoice + ",\n" +
		"Billing Period,\"June 1, 2024 - July 1, 2024\",\n" +
		"Organization Name,Acme Payments,\n" +
		"Organization ID," + orgA + ",\n\n"
)

func parseFile(t *testing.T, name string) *costexplorer.UsageBatch {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, name, string(data))
}

// fullItem is a line item with every field, as the summary golden shows it.
type fullItem struct {
	ID, InvoiceID, OrgID, ProjectID, ClusterID, Service, SKU string
	Date, BillDate                                           string
	Description, Note, Region, ReplicaSet, Application       string
	Unit                                                     string
	Quantity                                                 float64
	UnitPriceNanos                                           int64
	DiscountPercent                                          float64
	Discount, Amount                                         string
	Tags                                                     costexplorer.Tags
}

func TestParse_AtlasLayout(t *testing.T) {
	b := parseFile(t, "invoice_atlas.csv")
	items := make([]fullItem, len(b.Items))
	for i, li := range b.Items {
		items[i] = fullItem{
			ID: li.ID.String(), InvoiceID: li.InvoiceID, OrgID: li.OrgID, ProjectID: li.ProjectID, ClusterID: li.ClusterID,
			Service: string(li.Service), SKU: li.SKU, Date: li.Date.String(), BillDate: li.BillDate.String(),
			Description: li.Description, Note: li.Note, Region: li.Region, ReplicaSet: li.ReplicaSet, Application: li.Application,
			Unit: li.Unit, Quantity: li.Quantity, UnitPriceNanos: li.UnitPriceNanos, DiscountPercent: li.DiscountPercent,
			Discount: li.Discount.Dollars(), Amount: li.Amount.Dollars(), Tags: li.Tags,
		}
	}
	got, _ := json.MarshalIndent(map[string]any{"organizations": b.Organizations, "items": items}, "", "  ")
	got = append(got, '\n')
	golden.Check(t, "invoice_atlas.golden.json", got)

	// Facts the golden file must show, checked by hand once.
	for _, li := range b.Items {
		if li.InvoiceID != atlasInvoice {
			t.Fatalf("item %s in invoice %s: the Invoice Number is every item's invoice", li.ID, li.InvoiceID)
		}
	}
	if len(b.Organizations) != 1 || b.Organizations[0].Name != "Test 2" {
		t.Errorf("organizations %+v", b.Organizations)
	}
	if tags := b.Items[1].Tags; !reflect.DeepEqual(tags.Values("team"), []string{"payments", "platform"}) || tags.Values("cost-center") != nil {
		t.Errorf("tags %v: want both team values and no empty cost-center", tags)
	}
	bi := b.Items[2]
	if bi.Description != "=Atlas BI Connector, discounted" || bi.Tags.Values("environment")[0] != "=staging" {
		t.Errorf("neutralised text not restored: %q, %v", bi.Description, bi.Tags)
	}
	if bi.DiscountPercent != 10 || bi.Discount != 31 || bi.BillDate.String() != "2024-07-01" {
		t.Errorf("discount %v%% = %d cents, billed %s; want 10%%, 31 cents (3.12 - 2.81), 2024-07-01", bi.DiscountPercent, bi.Discount, bi.BillDate)
	}
	if b.Items[5].ID == b.Items[6].ID {
		t.Error("identical rows share an id")
	}
}

func TestParse_SummaryAndBareLayoutsAreTheSameItems(t *testing.T) {
	row := clusterRow(nil)
	bare := mustParse(t, "bare.csv", testHeader+"\n"+row+"\n")
	withSummary := mustParse(t, "atlas.csv", atlasSummary+testHeader+"\n"+row+"\n")
	if bare.Items[0].ID != withSummary.Items[0].ID {
		t.Fatal("the summary block changed the line-item id: importing both forms would double the usage")
	}
	if bare.Items[0].InvoiceID != costexplorer.InvoiceID(orgA, bare.Items[0].Month()) || withSummary.Items[0].InvoiceID != atlasInvoice {
		t.Fatalf("invoice ids %s and %s", bare.Items[0].InvoiceID, withSummary.Items[0].InvoiceID)
	}
}

func TestParse_SummaryAccepts(t *testing.T) {
	for _, tc := range []struct{ name, input string }{
		{"CRLFAndBOM", "\xef\xbb\xbf" + strings.ReplaceAll(atlasSummary, "\n", "\r\n") + testHeader + "\r\n" + clusterRow(nil) + "\r\n"},
		{"NoTrailingCommas", strings.ReplaceAll(atlasSummary, ",\n", "\n") + testHeader + "\n" + clusterRow(nil) + "\n"},
		{"NoBlankLine", strings.TrimSuffix(atlasSummary, "\n") + testHeader + "\n" + clusterRow(nil) + "\n"},
		{"LabelsAnyCase", strings.Replace(atlasSummary, "Invoice Number", "INVOICE NUMBER", 1) + testHeader + "\n"},
		{"NoRows", atlasSummary + testHeader + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustParse(t, "f.csv", tc.input)
			for _, li := range b.Items {
				if li.InvoiceID != atlasInvoice {
					t.Fatalf("invoice %s", li.InvoiceID)
				}
			}
		})
	}
}

func TestParse_SummaryRejects(t *testing.T) {
	rows := testHeader + "\n" + clusterRow(nil) + "\n"
	sum := func(old, new string) string { return strings.Replace(atlasSummary, old, new, 1) }
	for _, tc := range []struct{ name, input, wantPos, wantText string }{
		{"ErrRowOfAnotherOrganization", atlasSummary + testHeader + "\n" + clusterRow(nil) + "\n" + clusterRow(map[column]string{colOrgID: orgB, colProjectID: "", colProject: "", colCluster: ""}) + "\n",
			"8:6", "row of organization " + orgB + " in the invoice of organization " + orgA + " (summary, line 4)"},
		{"ErrSummaryNamesAnotherOrganization", sum(orgA, orgB) + rows, "7:6", "in the invoice of organization " + orgB},
		{"ErrOrganizationNameDiffers", sum("Acme Payments", "Acme Labs") + rows, "7:5", `differs from the summary's "Acme Labs"`},
		{"ErrUsageOutsidePeriod", atlasSummary + testHeader + "\n" + clusterRow(map[column]string{colUsageDate: "07/01/2024"}) + "\n", "7:2", "outside the billing period"},
		{"ErrInvoiceNumber", sum(atlasInvoice, "INV-2024-06") + rows, "1:2", "invalid Invoice Number"},
		{"ErrPeriodMidMonth", sum("June 1, 2024 - July 1, 2024", "June 2, 2024 - July 1, 2024") + rows, "2:2", "invalid Billing Period"},
		{"ErrPeriodTwoMonths", sum("June 1, 2024 - July 1, 2024", "June 1, 2024 - August 1, 2024") + rows, "2:2", "invalid Billing Period"},
		{"ErrPeriodFormat", sum("June 1, 2024 - July 1, 2024", "2024-06-01 - 2024-07-01") + rows, "2:2", "invalid Billing Period"},
		{"ErrOrganizationID", sum("Organization ID,"+orgA, "Organization ID,acme") + rows, "4:2", "invalid Organization ID"},
		{"ErrLabelOutOfOrder", sum("Billing Period", "Organization Name") + rows, "2:1", `want "Billing Period"`},
		{"ErrMissingValue", sum("Organization Name,Acme Payments,", "Organization Name,,") + rows, "3:2", "has no value"},
		{"ErrTwoValues", sum("Organization Name,Acme Payments,", "Organization Name,Acme,Payments") + rows, "3:3", "more than one value"},
		{"ErrSummaryEndsEarly", "Invoice Number," + atlasInvoice + ",\n", "2:1", `ends before "Billing Period"`},
		{"ErrNoHeader", atlasSummary, "5:1", "no header after the summary block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse("bad.csv", strings.NewReader(tc.input))
			var ie *ImportError
			if !errors.As(err, &ie) || b != nil {
				t.Fatalf("Parse = %v, %v; want an *ImportError", b, err)
			}
			wantPrefix := "bad.csv:" + tc.wantPos + ": "
			if msg := err.Error(); !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, tc.wantText) {
				t.Errorf("error %q, want prefix %q and text %q", msg, wantPrefix, tc.wantText)
			}
		})
	}
}

func TestParse_Tags(t *testing.T) {
	header := testHeader + ",team,environment"
	t.Run("ValuesKept", func(t *testing.T) {
		b := mustParse(t, "f.csv", header+"\n"+clusterRow(nil)+",payments; platform ,\n")
		if got := b.Items[0].Tags.Map(); !reflect.DeepEqual(got, map[string][]string{"team": {"payments", "platform"}}) {
			t.Fatalf("tags %v", got)
		}
	})
	t.Run("TagsAreNotIdentity", func(t *testing.T) {
		a := mustParse(t, "f.csv", header+"\n"+clusterRow(nil)+",payments,\n")
		b := mustParse(t, "f.csv", header+"\n"+clusterRow(nil)+",platform,prod\n")
		if a.Items[0].ID != b.Items[0].ID {
			t.Fatal("a tag change made a new line item: re-importing a re-tagged export would double it")
		}
	})
	for _, tc := range []struct{ name, input, wantPos, wantText string }{
		{"ErrEmptyValueInList", header + "\n" + clusterRow(nil) + ",a;;b,\n", "2:20", "invalid tag value"},
		{"ErrValueTooLong", header + "\n" + clusterRow(nil) + "," + strings.Repeat("v", 256) + ",\n", "2:20", "more than 255"},
		{"ErrDuplicateTagColumn", testHeader + ",team,team\n", "1:21", `tag column "team" appears twice`},
		{"ErrValueWithoutColumnName", testHeader + ",\n" + clusterRow(nil) + ",lost\n", "2:20", "column without a name"},
		{"ErrTagKeyTooLong", testHeader + "," + strings.Repeat("k", 256) + "\n", "1:20", "not a valid tag key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.csv", strings.NewReader(tc.input))
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v; want an *ImportError", err)
			}
			wantPrefix := "bad.csv:" + tc.wantPos + ": "
			if msg := err.Error(); !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, tc.wantText) {
				t.Errorf("error %q, want prefix %q and text %q", msg, wantPrefix, tc.wantText)
			}
		})
	}
	t.Run("EmptyUnnamedColumnIgnored", func(t *testing.T) {
		b := mustParse(t, "f.csv", testHeader+",\n"+clusterRow(nil)+",\n")
		if !b.Items[0].Tags.IsZero() {
			t.Fatal("tags from an unnamed column")
		}
	})
}

// TestRoundTrip_InvoiceCSV: what costexplorer's invoice CSV writer writes
// for an invoice, the importer reads back into the same line items; and
// importing that is a fixpoint, ids included, so that re-importing what
// costexplorer serves changes nothing.
func TestRoundTrip_InvoiceCSV(t *testing.T) {
	const proj, cluster = "666acb8787ba43606905dcb0", "orders-us-east-1"
	inv := costexplorer.NewInvoice(atlasOrg, costexplorer.MakeMonth(2024, 6), costexplorer.MakeMonth(2024, 6).Start())
	d := func(s string) costexplorer.Day {
		day, _ := parseDate(s)
		return day
	}
	lines := []costexplorer.InvoiceLine{
		{LineItem: costexplorer.LineItem{
			ID: costexplorer.NewLineItemID("x"), OrgID: atlasOrg, ProjectID: proj, ClusterID: costexplorer.ClusterIDFor(proj, cluster),
			Service: costexplorer.ServiceClusters, SKU: "ATLAS_AWS_INSTANCE_M30", Date: d("2024-06-01"), BillDate: d("2024-06-02"),
			Quantity: 24, Unit: "server hours", UnitPriceNanos: 540_000_000, Amount: 1296, InvoiceID: inv.ID,
			Description: "Atlas AWS Cluster M30", Note: "@note", Region: "US_EAST_1", ReplicaSet: "atlas-abc-shard-0",
			ConfigServer: "cfg", Application: "", DiscountPercent: 12.5, Discount: costexplorer.DiscountFrom(540_000_000, 24, 1296),
			Tags: costexplorer.MustTags(map[string][]string{"team": {"payments", "+ops"}, "env": {"'-x"}}),
		}, OrgName: "=Test 2", ProjectName: "checkout-prod", ClusterName: cluster},
		{LineItem: costexplorer.LineItem{
			ID: costexplorer.NewLineItemID("y"), OrgID: atlasOrg, Service: costexplorer.ServiceCredits, SKU: "CREDIT",
			Date: d("2024-06-30"), Quantity: 1, Unit: "credits", UnitPriceNanos: -50_000_000_000, Amount: -5000, InvoiceID: inv.ID,
			Description: "Credit",
		}, OrgName: "=Test 2"},
	}
	var buf bytes.Buffer
	if err := costexplorer.WriteInvoiceCSV(&buf, inv, "=Test 2", []string{"env", "team"}, func(id string, fn func(*costexplorer.InvoiceLine) error) error {
		for i := range lines {
			if err := fn(&lines[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b := mustParse(t, "served.csv", buf.String())
	if len(b.Items) != len(lines) {
		t.Fatalf("%d items, want %d", len(b.Items), len(lines))
	}
	for i := range lines {
		want := lines[i].LineItem
		want.ID = b.Items[i].ID // an imported row's id is derived from its content
		if id := ItemID(&lines[i].LineItem, lines[i].ClusterName, 1); id != want.ID {
			t.Errorf("item %d: ItemID %s, the importer derives %s", i, id, want.ID)
		}
		if b.Items[i] != want {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, b.Items[i], want)
		}
	}
	if b.Organizations[0].Name != "=Test 2" || b.Projects[0].Name != "checkout-prod" || b.Clusters[0].Name != cluster {
		t.Errorf("dimensions %+v %+v %+v", b.Organizations, b.Projects, b.Clusters)
	}

	var again bytes.Buffer
	if err := costexplorer.WriteBatchCSV(&again, b); err != nil {
		t.Fatal(err)
	}
	if again.String() != buf.String() {
		t.Errorf("the imported invoice writes differently:\n%s\nwas\n%s", again.String(), buf.String())
	}
	if b2 := mustParse(t, "again.csv", again.String()); !reflect.DeepEqual(b, b2) {
		t.Error("importing the served CSV again gives other items (or ids)")
	}
}

// TestItemID_CountsIdenticalRows: identical rows of a file are told apart
// by their occurrence, as ItemID's k.
func TestItemID_CountsIdenticalRows(t *testing.T) {
	li := costexplorer.LineItem{OrgID: atlasOrg, Service: costexplorer.ServiceCredits, SKU: "CREDIT", Date: costexplorer.DayOf(costexplorer.MakeMonth(2024, 6).Start()),
		Quantity: 1, Unit: "credits", UnitPriceNanos: -50_000_000_000, Amount: -5000, Description: "Credit"}
	b := &costexplorer.UsageBatch{Organizations: []costexplorer.Organization{{ID: atlasOrg, Name: "Org"}}, Items: []costexplorer.LineItem{li, li, li}}
	var buf bytes.Buffer
	if err := costexplorer.WriteBatchCSV(&buf, b); err != nil {
		t.Fatal(err)
	}
	got := mustParse(t, "three.csv", buf.String())
	var ids []costexplorer.LineItemID
	for _, it := range got.Items {
		ids = append(ids, it.ID)
	}
	want := []costexplorer.LineItemID{ItemID(&li, "", 1), ItemID(&li, "", 2), ItemID(&li, "", 3)}
	if !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
}

// TestImportFile_AtlasLayoutAndItsBareFormAreOneImport: the file as Atlas
// serves it imports into today's store, and its bare form (or the CSV
// costexplorer writes for it) re-imports as duplicates only.
func TestImportFile_AtlasLayoutAndItsBareFormAreOneImport(t *testing.T) {
	ctx := t.Context()
	db, _ := openStore(t)
	file := filepath.Join("testdata", "invoice_atlas.csv")
	first := importFile(ctx, t, db, file)
	if first.Rows != 7 || first.Inserted != 7 || first.Total != 1296+153+281+300-50000+800000 {
		t.Fatalf("first import %+v", first)
	}
	b := parseFile(t, "invoice_atlas.csv")
	var buf bytes.Buffer
	if err := costexplorer.WriteBatchCSV(&buf, b); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(file)
	_, bare, _ := strings.Cut(string(data), "\n\n")
	for name, content := range map[string]string{"written.csv": buf.String(), "bare.csv": bare} {
		sum, err := Import(ctx, db, name, strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		if sum.Inserted != 0 || sum.Duplicates != 7 {
			t.Errorf("%s: %+v, want 7 duplicates", name, sum)
		}
	}
}
