package costexplorer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/golden"
)

// wireNow is the date the wire goldens are written on: the test invoice is
// paid by then.
var wireNow = time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)

var wireOpts = InvoiceJSONOptions{Now: wireNow, BaseURL: "http://127.0.0.1:8080"}

// linkedSetup returns the paying organization's invoice with a linked
// organization's invoice of the same month, and the lines of both.
func linkedSetup() (*Invoice, []InvoiceLine) {
	const linkedOrg = "666acb8787ba43606905dce0"
	inv := testInvoice()
	linked := NewInvoice(linkedOrg, june24, time.Date(2024, 6, 1, 1, 0, 0, 0, time.UTC))
	li := InvoiceLine{LineItem: LineItem{
		ID: NewLineItemID("linked"), OrgID: linkedOrg, Service: ServiceSupport, SKU: "ATLAS_SUPPORT_DEVELOPER",
		Date: day(2024, 6, 1), Quantity: 1, Unit: "months", UnitPriceNanos: 49_000_000_000, Amount: 4900,
		Description: "Atlas Developer Support",
	}, OrgName: "Linked"}
	linked.Amounts.Add(li.Amount)
	inv.Linked = []*Invoice{linked}
	return inv, append(testLines(), li)
}

func TestWriteInvoiceCSV(t *testing.T) {
	inv := testInvoice()
	var buf bytes.Buffer
	if err := WriteInvoiceCSV(&buf, inv, "Test 2", []string{"environment", "team"}, scanLines(testLines())); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "invoice.csv", buf.Bytes())

	lines := strings.Split(buf.String(), "\n")
	for i, want := range []string{
		"Invoice Number," + inv.ID + ",",
		`Billing Period,"June 1, 2024 - July 1, 2024",`,
		"Organization Name,Test 2,",
		"Organization ID," + invOrg + ",",
		"",
		"Date,Usage Date,Description,Note,Organization Name,Organization ID,Project,Project ID,SKU,Region,Cluster,Replica Set,Config Server,Application,Unit,Unit Price,Quantity,Discount Percent,Amount,environment,team",
	} {
		if lines[i] != want {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], want)
		}
	}
	if !strings.HasPrefix(lines[6], "06/02/2024,06/01/2024,Atlas AWS Cluster M30,") {
		t.Errorf("first row %q: want MM/DD/YYYY dates, the bill date first", lines[6])
	}
	if !strings.Contains(buf.String(), ",\"'-Atlas BI Connector") || !strings.Contains(buf.String(), ",'=cmd;prod,") {
		t.Error("text a spreadsheet reads as a formula is not neutralised")
	}
}

func TestWriteInvoiceCSVBare(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewInvoiceCSVWriter(&buf, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := testLines()[3]
	if err := w.Write(&l); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(InvoiceCSVColumns, ",") + "\n" +
		",06/01/2024,Atlas Enterprise Support,,Test 2," + invOrg + ",,,ATLAS_SUPPORT_ENTERPRISE,,,,,,months,$4000.00,1,,$4000.00\n"
	if buf.String() != want {
		t.Errorf("bare layout:\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestInvoiceCSVWriterErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
	}{
		{"ErrDuplicateKey", []string{"team", "team"}},
		{"ErrKeyIsColumn", []string{"Amount"}},
		{"ErrEmptyKey", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewInvoiceCSVWriter(io.Discard, nil, tc.keys); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("ErrTagWithoutColumn", func(t *testing.T) {
		w, _ := NewInvoiceCSVWriter(io.Discard, nil, []string{"team"})
		l := testLines()[0] // has environment too
		if err := w.Write(&l); err == nil || !strings.Contains(err.Error(), "environment") {
			t.Fatalf("Write = %v", err)
		}
	})
}

func TestNeutraliseCSVText(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"plain":      "plain",
		"=SUM(A1)":   "'=SUM(A1)",
		"+1":         "'+1",
		"-x":         "'-x",
		"@cmd":       "'@cmd",
		"\tx":        "'\tx",
		"'=x":        "''=x",
		"'quoted":    "'quoted",
		"'":          "'",
		"a=b":        "a=b",
		"''''-deep":  "'''''-deep",
		"'plain'=no": "'plain'=no",
	} {
		got := NeutraliseCSVText(in)
		if got != want {
			t.Errorf("NeutraliseCSVText(%q) = %q, want %q", in, got, want)
		}
		if back := RestoreCSVText(got); back != in {
			t.Errorf("RestoreCSVText(%q) = %q, want %q", got, back, in)
		}
		if in != "" && in[0] != '\'' && got != SafeCSVText(in) {
			t.Errorf("%q: differs from SafeCSVText %q", in, SafeCSVText(in))
		}
	}
}

func TestFormatNanos(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0.00", 540_000_000: "0.54", 115_000_000: "0.115", 2000: "0.000002",
		-250_000_000: "-0.25", 4000_000_000_000: "4000.00", 1_000_000_000_001: "1000.000000001",
		-9223372036854775808: "-9223372036.854775808",
	} {
		if got := FormatNanos(n); got != want {
			t.Errorf("FormatNanos(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWriteInvoiceJSON(t *testing.T) {
	inv, lines := linkedSetup()
	var compact, pretty, env bytes.Buffer
	if err := WriteInvoiceJSON(&compact, inv, scanLines(lines), wireOpts); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "invoice.json", compact.Bytes())
	checkWire(t, compact.Bytes())

	o := wireOpts
	o.Indent = true
	if err := WriteInvoiceJSON(&pretty, inv, scanLines(lines), o); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	json.Indent(&want, compact.Bytes(), "", "  ")
	if pretty.String() != want.String() {
		t.Errorf("pretty form is not the indented compact form:\n%s", pretty.String())
	}

	o = wireOpts
	o.EnvelopeStatus = 200
	if err := WriteInvoiceJSON(&env, inv, scanLines(lines), o); err != nil {
		t.Fatal(err)
	}
	if want := `{"status":200,"content":` + compact.String() + `}`; env.String() != want {
		t.Errorf("envelope:\n%s", env.String())
	}

	var got struct {
		ID                string
		AmountBilledCents int64
		LineItems         []struct {
			Tags            map[string][]string
			CloudProvider   string
			DiscountCents   *int64
			PercentDiscount *float64
		}
		LinkedInvoices []struct {
			ID        string
			LineItems []json.RawMessage
		}
		StatusName string
	}
	if err := json.Unmarshal(compact.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != inv.ID || got.AmountBilledCents != 351442 || got.StatusName != "PAID" || len(got.LineItems) != 4 {
		t.Errorf("invoice %+v", got)
	}
	if got.LineItems[0].Tags["environment"][0] != "=cmd" || got.LineItems[0].CloudProvider != "AWS" || got.LineItems[2].CloudProvider != "ATLAS" {
		t.Errorf("line item 0: %+v", got.LineItems[0])
	}
	if got.LineItems[0].DiscountCents != nil || got.LineItems[1].DiscountCents == nil || *got.LineItems[1].DiscountCents != 16 || *got.LineItems[1].PercentDiscount != 10 {
		t.Error("discount fields must appear exactly when a discount applies")
	}
	if len(got.LinkedInvoices) != 1 || len(got.LinkedInvoices[0].LineItems) != 1 {
		t.Errorf("linked invoices %+v: want one, with its own line item", got.LinkedInvoices)
	}
}

func TestWriteInvoiceJSONStopsAtScanError(t *testing.T) {
	boom := errors.New("disk on fire")
	err := WriteInvoiceJSON(io.Discard, testInvoice(), func(string, func(*InvoiceLine) error) error { return boom }, wireOpts)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the scan's error", err)
	}
}

func TestWriteInvoiceListJSON(t *testing.T) {
	inv, _ := linkedSetup()
	older := NewInvoice(invOrg, june24-1, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	total := 2
	page := &InvoicePage{
		Invoices:   []*Invoice{inv, older},
		Links:      []Link{{Href: "http://127.0.0.1:8080/api/atlas/v2/orgs/" + invOrg + "/invoices?pageNum=1&itemsPerPage=100", Rel: "self"}},
		TotalCount: &total,
	}
	var buf bytes.Buffer
	if err := WriteInvoiceListJSON(&buf, page, wireOpts); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "invoice_list.json", buf.Bytes())
	checkWire(t, buf.Bytes())
	if bytes.Contains(buf.Bytes(), []byte("lineItems")) || bytes.Contains(buf.Bytes(), []byte("payments")) {
		t.Error("BillingInvoiceMetadata has no line items or payments")
	}

	o := wireOpts
	o.EnvelopeStatus = 200
	buf.Reset()
	if err := WriteInvoiceListJSON(&buf, &InvoicePage{}, o); err != nil {
		t.Fatal(err)
	}
	if buf.String() != `{"links":[],"results":[],"status":200}` {
		t.Errorf("empty enveloped page without count: %s", buf.String())
	}
}

func TestWritePendingInvoicesJSON(t *testing.T) {
	inv := testInvoice()
	var buf bytes.Buffer
	o := wireOpts
	o.Now = time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)
	inv.Payments, inv.Refunds = nil, nil
	if err := WritePendingInvoicesJSON(&buf, &InvoicePage{Invoices: []*Invoice{inv}}, scanLines(testLines()), o); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "invoice_pending.json", buf.Bytes())
	checkWire(t, buf.Bytes())
	if !bytes.Contains(buf.Bytes(), []byte(`"statusName":"PENDING"`)) {
		t.Error("the current month's invoice is not PENDING")
	}
}

func TestWriteLineItemPageJSON(t *testing.T) {
	lines := testLines()
	total := len(lines)
	page := &LineItemPage{
		TotalCount: &total,
		Lines: func(fn func(*InvoiceLine) error) error {
			for i := range lines[:2] {
				if err := fn(&lines[i]); err != nil {
					return err
				}
			}
			return nil
		},
	}
	var buf bytes.Buffer
	if err := WriteLineItemPageJSON(&buf, page, wireOpts); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "invoice_line_items.json", buf.Bytes())
	checkWire(t, buf.Bytes())
}

func TestSKUAnswers(t *testing.T) {
	page, total := ListSKUs(PageRequest{ItemsPerPage: 3, PageNum: 2})
	if total != len(SKUs()) || len(page) != 3 || page[0].ID != SKUs()[3].ID {
		t.Fatalf("page %+v of %d", page, total)
	}
	golden.Check(t, "skus_page.json", []byte(mustJSON(t, SKUList{Links: []Link{}, Results: page, TotalCount: &total})+"\n"))
	if past, _ := ListSKUs(PageRequest{ItemsPerPage: 500, PageNum: 1000}); past == nil || len(past) != 0 {
		t.Fatalf("page past the end %v: want an empty list", past)
	}
	s, err := GetSKU("ATLAS_AWS_INSTANCE_M10")
	if err != nil || s.Description != "Atlas AWS Cluster M10" {
		t.Fatalf("GetSKU = %+v, %v", s, err)
	}
	for _, id := range []string{"ATLAS_AWS_INSTANCE_M700", "", "atlas_aws_instance_m10"} {
		if _, err := GetSKU(id); !IsNotFound(err) {
			t.Errorf("GetSKU(%q) = %v, want RESOURCE_NOT_FOUND", id, err)
		}
	}
}

// checkWire asserts what the official clients need to decode an answer:
// every date-time is RFC 3339 with a zone, every …Cents field a JSON
// integer, every tags field an object of arrays of strings.
func checkWire(t *testing.T, b []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				p := path + "." + k
				switch {
				case k == "created" || k == "updated" || strings.HasSuffix(k, "Date"):
					s, _ := val.(string)
					if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") {
						t.Errorf("%s = %v: not an RFC 3339 UTC timestamp", p, val)
					}
				case strings.HasSuffix(k, "Cents") || k == "totalCount":
					n, ok := val.(json.Number)
					if _, err := n.Int64(); !ok || err != nil {
						t.Errorf("%s = %v: not a JSON integer", p, val)
					}
				case k == "tags":
					m, ok := val.(map[string]any)
					if !ok {
						t.Errorf("%s = %v: not an object", p, val)
					}
					for tk, tv := range m {
						arr, ok := tv.([]any)
						if !ok || len(arr) == 0 {
							t.Errorf("%s.%s = %v: not an array of strings", p, tk, tv)
						}
					}
				}
				walk(p, val)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
}

// invoiceLineJSON is the Atlas InvoiceLineItem as a struct: the oracle the
// hand-written encoder must match byte for byte.
type invoiceLineJSON struct {
	CloudProvider    CloudProvider       `json:"cloudProvider"`
	ClusterName      string              `json:"clusterName,omitempty"`
	Created          string              `json:"created"`
	DiscountCents    *int64              `json:"discountCents,omitempty"`
	EndDate          string              `json:"endDate"`
	GroupID          string              `json:"groupId,omitempty"`
	GroupName        string              `json:"groupName,omitempty"`
	Note             string              `json:"note,omitempty"`
	PercentDiscount  *float64            `json:"percentDiscount,omitempty"`
	Quantity         float64             `json:"quantity"`
	SKU              string              `json:"sku"`
	StartDate        string              `json:"startDate"`
	StitchAppName    string              `json:"stitchAppName,omitempty"`
	Tags             map[string][]string `json:"tags"`
	TotalPriceCents  int64               `json:"totalPriceCents"`
	Unit             string              `json:"unit"`
	UnitPriceDollars json.Number         `json:"unitPriceDollars"`
}

func oracleLine(l *InvoiceLine) []byte {
	r := invoiceLineJSON{
		CloudProvider: l.CloudProvider(), ClusterName: l.ClusterName, Created: FormatTimestamp(l.Billed().Time()),
		EndDate: FormatTimestamp((l.Date + 1).Time()), GroupID: l.ProjectID, GroupName: l.ProjectName, Note: l.Note,
		Quantity: l.Quantity, SKU: l.SKU, StartDate: FormatTimestamp(l.Date.Time()), StitchAppName: l.Application,
		Tags: l.Tags.Map(), TotalPriceCents: int64(l.Amount), Unit: l.Unit, UnitPriceDollars: json.Number(FormatNanos(l.UnitPriceNanos)),
	}
	if r.Tags == nil {
		r.Tags = map[string][]string{}
	}
	if l.Discount != 0 || l.DiscountPercent != 0 {
		d, p := int64(l.Discount), l.DiscountPercent
		r.DiscountCents, r.PercentDiscount = &d, &p
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(r)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// FuzzWireEncoders checks the hand-written encoders against the standard
// library they stand in for: JSON strings and numbers against
// encoding/json, CSV fields against encoding/csv, money against
// Cents.Dollars, and a whole InvoiceLineItem against its struct.
func FuzzWireEncoders(f *testing.F) {
	f.Add("plain", 1.5, int64(12345))
	f.Add("quote \" backslash \\ <html> & \u2028 \x00 \b\f\n\r\t \xff", 1e-7, int64(-1))
	f.Add(" leading space, comma", 1e21, int64(-9223372036854775808))
	f.Add(`\.`, 0.000001, int64(0))
	f.Add("'=formula", -2.5e-300, int64(999))
	f.Fuzz(func(t *testing.T, s string, x float64, n int64) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got, want := string(appendJSONString(nil, s)), strings.TrimSuffix(buf.String(), "\n"); got != want {
			t.Fatalf("JSON string %q: %s, want %s", s, got, want)
		}
		if want, err := json.Marshal(x); err == nil {
			if got := appendJSONFloat(nil, x); string(got) != string(want) {
				t.Fatalf("JSON float %v: %s, want %s", x, got, want)
			}
		}
		var cb bytes.Buffer
		cw := csv.NewWriter(&cb)
		cw.Write([]string{s, s})
		cw.Flush()
		mine := string(appendCSVField(nil, s)) + "," + string(appendCSVField(nil, s)) + "\n"
		if mine != cb.String() {
			t.Fatalf("CSV field %q: %s, want %s", s, mine, cb.String())
		}
		if got, want := string(appendCents(nil, Cents(n), false)), Cents(n).Dollars(); n != -1<<63 && got != want {
			t.Fatalf("cents %d: %s, want %s", n, got, want)
		}
		if n != -1<<63 {
			if back, err := parseNanosForTest(FormatNanos(n)); err != nil || back != n {
				t.Fatalf("FormatNanos(%d) = %s reads back as %d, %v", n, FormatNanos(n), back, err)
			}
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		l := testLines()[1]
		l.Description, l.Note, l.ClusterName, l.ProjectName, l.Unit, l.Application = s, s, s, s, s, s
		l.Quantity, l.UnitPriceNanos, l.Amount = x, n, Cents(n)
		if tags, err := NewTags(map[string][]string{"k": {s}, s: {"v"}}); err == nil {
			l.Tags = tags
		}
		if got, want := appendInvoiceLine(nil, &l), oracleLine(&l); string(got) != string(want) {
			t.Fatalf("line item:\n got %s\nwant %s", got, want)
		}
	})
}

// parseNanosForTest reads a decimal amount of dollars into nanodollars.
func parseNanosForTest(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	frac += strings.Repeat("0", 9-len(frac))
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	fr, err := strconv.ParseUint(frac, 10, 64)
	if err != nil {
		return 0, err
	}
	u := w*1e9 + fr
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// TestPrettyIsIndentedCompact: pretty=true writes exactly the indented form
// of the compact answer, for every streaming writer.
func TestPrettyIsIndentedCompact(t *testing.T) {
	inv, lines := linkedSetup()
	total := 1
	page := &InvoicePage{Invoices: []*Invoice{inv}, TotalCount: &total}
	writers := map[string]func(io.Writer, InvoiceJSONOptions) error{
		"list": func(w io.Writer, o InvoiceJSONOptions) error { return WriteInvoiceListJSON(w, page, o) },
		"pending": func(w io.Writer, o InvoiceJSONOptions) error {
			return WritePendingInvoicesJSON(w, page, scanLines(lines), o)
		},
		"search": func(w io.Writer, o InvoiceJSONOptions) error {
			return WriteLineItemPageJSON(w, &LineItemPage{TotalCount: &total, Lines: func(fn func(*InvoiceLine) error) error {
				return scanLines(lines)(inv.ID, fn)
			}}, o)
		},
		"emptySearch": func(w io.Writer, o InvoiceJSONOptions) error { return WriteLineItemPageJSON(w, &LineItemPage{}, o) },
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			var compact, pretty, want bytes.Buffer
			o := wireOpts
			o.EnvelopeStatus = 200
			if err := write(&compact, o); err != nil {
				t.Fatal(err)
			}
			o.Indent = true
			if err := write(&pretty, o); err != nil {
				t.Fatal(err)
			}
			if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
				t.Fatalf("compact form is not JSON: %v\n%s", err, compact.String())
			}
			if pretty.String() != want.String() {
				t.Errorf("pretty:\n%s\nwant\n%s", pretty.String(), want.String())
			}
			if !bytes.HasSuffix(compact.Bytes(), []byte(`"status":200}`)) {
				t.Errorf("enveloped list without its status: %s", compact.String())
			}
		})
	}
}

func TestInvoiceJSONNeedsADate(t *testing.T) {
	var o InvoiceJSONOptions
	if err := WriteInvoiceJSON(io.Discard, testInvoice(), scanLines(testLines()), o); err == nil {
		t.Error("WriteInvoiceJSON without Now")
	}
	if err := WriteInvoiceListJSON(io.Discard, &InvoicePage{}, o); err == nil {
		t.Error("WriteInvoiceListJSON without Now")
	}
}
