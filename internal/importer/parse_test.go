package importer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/golden"
)

const (
	testHeader = "Date,Usage Date,Description,Note,Organization Name,Organization ID,Project,Project ID,SKU,Region,Cluster,Replica Set,Config Server,Application,Unit,Unit Price,Quantity,Discount Percent,Amount"
	orgA       = "5f0a1b2c3d4e5f6a7b8c9d0e"
	orgB       = "6a0b1c2d3e4f5a6b7c8d9e0f"
	projA      = "64a1b2c3d4e5f60718293a4b"
)

// csvRow builds a row of the full layout from the fields that matter, in the
// layout's order; the others are empty.
func csvRow(kv map[column]string) string {
	fields := make([]string, numColumns)
	for c, v := range kv {
		fields[c] = v
	}
	return strings.Join(fields, ",")
}

// clusterRow is a valid cluster charge; callers override single fields.
func clusterRow(over map[column]string) string {
	kv := map[column]string{
		colDate: "06/01/2024", colUsageDate: "06/01/2024", colDescription: "Atlas AWS Cluster M10",
		colOrgName: "Acme Payments", colOrgID: orgA, colProject: "checkout-prod", colProjectID: projA,
		colSKU: "ATLAS_AWS_INSTANCE_M10", colCluster: "orders-eu-1", colUnit: "server hours",
		colUnitPrice: "$0.08", colQuantity: "72", colAmount: "$5.76",
	}
	for c, v := range over {
		kv[c] = v
	}
	return csvRow(kv)
}

func mustParse(t *testing.T, name, input string) *costexplorer.UsageBatch {
	t.Helper()
	b, err := Parse(name, strings.NewReader(input))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return b
}

func TestParse_Fixture(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "invoice.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := Parse("invoice.csv", f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(goldenBatch(b), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden.Check(t, "invoice.golden.json", got)

	// Facts the golden file must show, checked by hand once.
	if len(b.Items) != 14 || len(b.Organizations) != 2 || len(b.Projects) != 3 || len(b.Clusters) != 4 {
		t.Errorf("%d items, %d orgs, %d projects, %d clusters; want 14, 2, 3, 4",
			len(b.Items), len(b.Organizations), len(b.Projects), len(b.Clusters))
	}
	var total costexplorer.Cents
	for _, li := range b.Items {
		total += li.Amount
	}
	// 38.88+1.53+12.35+38.88+1.18+1.25+3.00+4000-1500+0.28+0.28+2.81+49+49
	if total != 269844 {
		t.Errorf("total %s, want 2698.44", total)
	}
	if b.Items[12].ID == b.Items[13].ID {
		t.Error("the two identical support rows got the same id; both must be kept")
	}
}

// goldenItem is a line item as the golden file shows it.
type goldenItem struct {
	ID, OrgID, ProjectID, ClusterID, Service, SKU, Date, Unit string
	Quantity                                                  float64
	UnitPriceNanos                                            int64
	Amount                                                    string
}

func goldenBatch(b *costexplorer.UsageBatch) any {
	items := make([]goldenItem, len(b.Items))
	for i, li := range b.Items {
		items[i] = goldenItem{
			ID: li.ID.String(), OrgID: li.OrgID, ProjectID: li.ProjectID, ClusterID: li.ClusterID,
			Service: string(li.Service), SKU: li.SKU, Date: li.Date.String(), Unit: li.Unit,
			Quantity: li.Quantity, UnitPriceNanos: li.UnitPriceNanos, Amount: li.Amount.Dollars(),
		}
	}
	return map[string]any{
		"organizations": b.Organizations, "projects": b.Projects, "clusters": b.Clusters, "items": items,
	}
}

func TestParse_Accepts(t *testing.T) {
	tests := []struct {
		name  string
		input string
		check func(t *testing.T, b *costexplorer.UsageBatch)
	}{
		{
			name:  "HeaderAnyOrderCaseAndSpaces",
			input: " amount , SKU,usage date,ORGANIZATION ID,Organization Name , Extra Column\n$1.00,ATLAS_SUPPORT_PRO,2024-06-01," + orgA + ",Acme,whatever\n",
			check: func(t *testing.T, b *costexplorer.UsageBatch) {
				li := b.Items[0]
				if li.Amount != 100 || li.Service != costexplorer.ServiceSupport || li.ProjectID != "" || li.Unit != "months" {
					t.Errorf("item %+v", li)
				}
			},
		},
		{
			name:  "BOMAndCRLF",
			input: "\xef\xbb\xbf" + testHeader + "\r\n" + clusterRow(nil) + "\r\n",
			check: func(t *testing.T, b *costexplorer.UsageBatch) {
				if b.Items[0].Amount != 576 {
					t.Errorf("amount %d", b.Items[0].Amount)
				}
			},
		},
		{
			name:  "QuotedNewlineAndComma",
			input: testHeader + "\n" + clusterRow(map[column]string{colDescription: "\"two\nlines, and \"\"quotes\"\"\""}) + "\n",
			check: func(t *testing.T, b *costexplorer.UsageBatch) {
				if len(b.Items) != 1 {
					t.Errorf("%d items", len(b.Items))
				}
			},
		},
		{
			name: "DatesInEveryInvoiceForm",
			input: testHeader + "\n" +
				clusterRow(map[column]string{colUsageDate: "6/3/2024"}) + "\n" +
				clusterRow(map[column]string{colUsageDate: "06/03/2024 23:59:59"}) + "\n" +
				clusterRow(map[column]string{colUsageDate: "2024-06-03T23:30:00-05:00"}) + "\n" +
				clusterRow(map[column]string{colUsageDate: "2024-06-03 08:00"}) + "\n" +
				clusterRow(map[column]string{colUsageDate: "06/03/2024 11:59 PM"}) + "\n",
			check: func(t *testing.T, b *costexplorer.UsageBatch) {
				for i, li := range b.Items {
					if li.Date.String() != "2024-06-03" {
						t.Errorf("row %d: date %s, want 2024-06-03 (the day as written)", i, li.Date)
					}
				}
			},
		},
		{
			name: "MoneyForms",
			input: testHeader + "\n" +
				clusterRow(map[column]string{colAmount: "\"$1,234.50\"", colUnitPrice: "\"$1,000.000000001\""}) + "\n" +
				clusterRow(map[column]string{colAmount: "-0.5", colUnitPrice: "(0.25)", colSKU: "CREDIT", colCluster: "", colProjectID: "", colProject: ""}) + "\n",
			check: func(t *testing.T, b *costexplorer.UsageBatch) {
				if li := b.Items[0]; li.Amount != 123450 || li.UnitPriceNanos != 1_000_000_000_001 {
					t.Errorf("row 1: amount %d, unit price %d", li.Amount, li.UnitPriceNanos)
				}
				if li := b.Items[1]; li.Amount != -50 || li.UnitPriceNanos != -250_000_000 || li.Service != costexplorer.ServiceCredits {
					t.Errorf("row 2: %+v", li)
				}
			},
		},
		{
			name:  "UnknownSKUMappedByNameParts",
			input: testHeader + "\n" + clusterRow(map[column]string{colSKU: "ATLAS_AWS_INSTANCE_M700_NVME", colUnit: ""}) + "\n",
			check: func(t *testing.T, b *costexplorer.UsageBatch) {
				li := b.Items[0]
				if li.Service != costexplorer.ServiceClusters || li.Unit != "server hours" {
					t.Errorf("service %q unit %q", li.Service, li.Unit)
				}
				if c := b.Clusters[0]; c.Provider != "AWS" || c.Tier != "" {
					t.Errorf("cluster %+v: want provider AWS and no tier from an unknown instance SKU", c)
				}
			},
		},
		{
			name:  "MissingClusterIDDerived",
			input: testHeader + "\n" + clusterRow(nil) + "\n",
			check: func(t *testing.T, b *costexplorer.UsageBatch) {
				want := costexplorer.ClusterIDFor(projA, "orders-eu-1")
				if b.Items[0].ClusterID != want || b.Clusters[0].ID != want || b.Clusters[0].Tier != "M10" {
					t.Errorf("cluster id %s, clusters %+v; want %s", b.Items[0].ClusterID, b.Clusters, want)
				}
			},
		},
		{
			name:  "HeaderOnly",
			input: testHeader + "\n",
			check: func(t *testing.T, b *costexplorer.UsageBatch) {
				if len(b.Items) != 0 {
					t.Errorf("%d items", len(b.Items))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, "f.csv", tt.input)
			for i := range b.Items {
				if err := b.Items[i].Validate(); err != nil {
					t.Fatal(err)
				}
			}
			tt.check(t, b)
		})
	}
}

func TestParse_LineItemIDs(t *testing.T) {
	row := clusterRow(nil)
	t.Run("IdenticalRowsDiffer", func(t *testing.T) {
		b := mustParse(t, "f.csv", testHeader+"\n"+row+"\n"+row+"\n")
		if b.Items[0].ID == b.Items[1].ID {
			t.Fatal("two identical rows share an id")
		}
	})
	t.Run("StableAcrossFilesAndForms", func(t *testing.T) {
		// The same charge exported with another column order, date form and
		// money form is the same line item, so importing both is a no-op.
		a := mustParse(t, "a.csv", testHeader+"\n"+row+"\n")
		other := "Amount,SKU,Usage Date,Date,Organization ID,Organization Name,Project ID,Project,Cluster,Description,Unit,Unit Price,Quantity\n" +
			"5.760,ATLAS_AWS_INSTANCE_M10,2024-06-01,2024-06-01," + orgA + ",Acme Renamed," + projA + ",checkout-prod,orders-eu-1,Atlas AWS Cluster M10,server hours,0.080,72.0\n"
		b := mustParse(t, "b.csv", other)
		if a.Items[0].ID != b.Items[0].ID {
			t.Fatalf("ids differ: %s vs %s", a.Items[0].ID, b.Items[0].ID)
		}
	})
	t.Run("ContentChangesID", func(t *testing.T) {
		a := mustParse(t, "a.csv", testHeader+"\n"+row+"\n")
		b := mustParse(t, "a.csv", testHeader+"\n"+clusterRow(map[column]string{colAmount: "$5.77"})+"\n")
		if a.Items[0].ID == b.Items[0].ID {
			t.Fatal("rows with different amounts share an id")
		}
	})
}

func TestParse_Rejects(t *testing.T) {
	long := strings.Repeat("x", MaxFieldSize+1)
	tests := []struct {
		name     string
		input    string
		wantPos  string // "line:column"
		wantText string
	}{
		{"ErrEmptyFile", "", "1:1", "empty file"},
		{"ErrMissingColumns", "Date,SKU,Amount\n", "1:1", `"Usage Date", "Organization Name", "Organization ID"`},
		{"ErrDuplicateColumn", "Usage Date,Organization Name,Organization ID,SKU,Amount,sku\n", "1:6", `"SKU" appears twice`},
		{"ErrFieldCount", testHeader + "\n" + clusterRow(nil) + ",extra\n", "2:20", "row has 20 fields, the header has 19"},
		{"ErrBadUsageDate", testHeader + "\n" + clusterRow(map[column]string{colUsageDate: "2024-13-01"}) + "\n", "2:2", `invalid Usage Date "2024-13-01"`},
		{"ErrMissingUsageDate", testHeader + "\n" + clusterRow(map[column]string{colUsageDate: ""}) + "\n", "2:2", "Usage Date is required"},
		{"ErrBadDate", testHeader + "\n" + clusterRow(map[column]string{colDate: "June 1"}) + "\n", "2:1", `invalid Date "June 1"`},
		{"ErrBadOrgID", testHeader + "\n" + clusterRow(map[column]string{colOrgID: "5F0A1B2C3D4E5F6A7B8C9D0E"}) + "\n", "2:6", "invalid organization id"},
		{"ErrMissingOrgID", testHeader + "\n" + clusterRow(map[column]string{colOrgID: ""}) + "\n", "2:6", "Organization ID is required"},
		{"ErrMissingOrgName", testHeader + "\n" + clusterRow(map[column]string{colOrgName: ""}) + "\n", "2:5", "organization name is required"},
		{"ErrBadProjectID", testHeader + "\n" + clusterRow(map[column]string{colProjectID: "123"}) + "\n", "2:8", `invalid project id "123"`},
		{"ErrProjectWithoutID", testHeader + "\n" + clusterRow(map[column]string{colProjectID: ""}) + "\n", "2:8", `project "checkout-prod" has no Project ID`},
		{"ErrClusterWithoutProject", testHeader + "\n" + clusterRow(map[column]string{colProjectID: "", colProject: ""}) + "\n", "2:11", `cluster "orders-eu-1" has no project`},
		{"ErrUnknownSKU", testHeader + "\n" + clusterRow(map[column]string{colSKU: "MYSTERY_WIDGET"}) + "\n", "2:9", `unknown SKU "MYSTERY_WIDGET"`},
		{"ErrAmountThreeDecimals", testHeader + "\n" + clusterRow(map[column]string{colAmount: "5.765"}) + "\n", "2:19", "more than two decimals"},
		{"ErrAmountMissing", testHeader + "\n" + clusterRow(map[column]string{colAmount: ""}) + "\n", "2:19", "Amount is required"},
		{"ErrAmountAbsurd", testHeader + "\n" + clusterRow(map[column]string{colAmount: "1000000000.01"}) + "\n", "2:19", "beyond the limit"},
		{"ErrUnitPriceTenDecimals", testHeader + "\n" + clusterRow(map[column]string{colUnitPrice: "0.0000000001"}) + "\n", "2:16", "more than 9 decimals"},
		{"ErrQuantityNaN", testHeader + "\n" + clusterRow(map[column]string{colQuantity: "NaN"}) + "\n", "2:17", `invalid Quantity "NaN"`},
		{"ErrDiscountOver100", testHeader + "\n" + clusterRow(map[column]string{colDiscount: "101%"}) + "\n", "2:18", "from 0 to 100"},
		{"ErrBareQuote", testHeader + "\n" + clusterRow(map[column]string{colNote: `say "hi"`}) + "\n", "2:4", "malformed CSV"},
		{"ErrUnterminatedQuote", testHeader + "\n" + clusterRow(nil) + "\n" + clusterRow(map[column]string{colNote: `"open`}) + "\n", "3:4", "malformed CSV"},
		{"ErrHugeField", testHeader + "\n" + clusterRow(map[column]string{colDescription: long}) + "\n", "2:3", "64 KiB limit"},
		{"ErrInvalidUTF8", testHeader + "\n" + clusterRow(map[column]string{colCluster: "orders-\xff"}) + "\n", "2:11", "not valid UTF-8"},
		{"ErrNUL", testHeader + "\n" + clusterRow(map[column]string{colNote: "a\x00b"}) + "\n", "2:4", "NUL"},
		{"ErrControlInName", testHeader + "\n" + clusterRow(map[column]string{colProject: "\"check\nout\""}) + "\n", "2:7", "control character"},
		{"ErrProjectInTwoOrgs", testHeader + "\n" + clusterRow(nil) + "\n" + clusterRow(map[column]string{colOrgID: orgB}) + "\n", "3:8", "belongs to organization " + orgA},
		{"ErrLineAfterMultilineRow", testHeader + "\n" + clusterRow(map[column]string{colDescription: "\"a\nb\nc\""}) + "\n" + clusterRow(map[column]string{colAmount: "x"}) + "\n", "5:19", "invalid amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse("bad.csv", strings.NewReader(tt.input))
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse = %v, %v; want an *ImportError", b, err)
			}
			if b != nil {
				t.Error("a rejected file returned a batch")
			}
			wantPrefix := "bad.csv:" + tt.wantPos + ": "
			if msg := err.Error(); !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, tt.wantText) {
				t.Errorf("error %q, want prefix %q and text %q", msg, wantPrefix, tt.wantText)
			}
		})
	}
}

func TestParse_FileTooLarge(t *testing.T) {
	// A reader that never ends stands for a huge file: Parse must stop at the
	// limit instead of reading on.
	r := &endless{}
	_, err := parseLimited("huge.csv", r, 1<<20)
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Line != 0 || err.Error() != "huge.csv: file is larger than the limit of 1048576 bytes" {
		t.Fatalf("err = %v", err)
	}
	if r.n > 2<<20 {
		t.Errorf("read %d bytes for a limit of 1 MiB", r.n)
	}
}

type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0.08", 80_000_000, true},
		{".5", 500_000_000, true},
		{"5.", 5_000_000_000, true},
		{"0.000000001", 1, true},
		{"0.0000000010", 1, true},
		{"0.0000000015", 0, false},
		{"9223372036.854775807", 9223372036854775807, true},
		{"9223372036.854775808", 0, false},
		{"", 0, false},
		{".", 0, false},
		{"1e3", 0, false},
		{"1.2.3", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDecimal(tt.in, 9)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDecimal(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
