package costexplorer

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestLineEncoderMatchesUncached streams lines whose fields repeat from one
// line to the next and change now and then, each field on its own (to and
// from the empty string, whose member is left out), through one
// lineEncoder: every line must be the bytes encoding/json writes for it
// alone (oracleLine), so that no remembered encoding outlives its value.
func TestLineEncoderMatchesUncached(t *testing.T) {
	var e lineEncoder
	var row []byte
	for i, l := range memoLines() {
		row = e.appendInvoiceLine(row[:0], &l)
		if want := oracleLine(&l); string(row) != string(want) {
			t.Fatalf("line %d:\n got %s\nwant %s", i, row, want)
		}
	}
}

// TestInvoiceCSVWriterRemembersOnlyTheLastValues is the same for the
// invoice CSV: each row of one writer must be the row a fresh writer
// writes for that line alone.
func TestInvoiceCSVWriterRemembersOnlyTheLastValues(t *testing.T) {
	keys := []string{"environment", "team"}
	var all bytes.Buffer
	w, err := NewInvoiceCSVWriter(&all, nil, keys)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for i, l := range memoLines() {
		if err := w.Write(&l); err != nil {
			t.Fatal(err)
		}
		var one bytes.Buffer
		fresh, err := NewInvoiceCSVWriter(&one, nil, keys)
		if err != nil {
			t.Fatal(err)
		}
		if err := fresh.Flush(); err != nil {
			t.Fatal(err)
		}
		head := one.Len()
		if i == 0 {
			want.Write(one.Bytes())
		}
		if err := fresh.Write(&l); err != nil {
			t.Fatal(err)
		}
		if err := fresh.Flush(); err != nil {
			t.Fatal(err)
		}
		want.Write(one.Bytes()[head:])
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, exp := bytes.Split(all.Bytes(), []byte("\n")), bytes.Split(want.Bytes(), []byte("\n"))
	for i := range min(len(got), len(exp)) {
		if !bytes.Equal(got[i], exp[i]) {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got[i], exp[i])
		}
	}
	if len(got) != len(exp) {
		t.Fatalf("%d rows, want %d", len(got), len(exp))
	}
}

// memoLines returns 5,000 lines, each like the one before but for a field
// or two.
func memoLines() []InvoiceLine {
	base := testLines()
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	l := base[0]
	var out []InvoiceLine
	for i := range 5000 {
		if r.IntN(4) == 0 {
			l = base[r.IntN(len(base))]
		}
		switch r.IntN(12) {
		case 0:
			l.SKU = pick("ATLAS_AWS_INSTANCE_M30", "ATLAS_GCP_BI_CONNECTOR", "CREDIT", "ATLAS_AZURE_STORAGE")
		case 1:
			l.ClusterName = pick("", "orders-us-east-1", "a\"b")
		case 2:
			l.ProjectID, l.ProjectName = pick("", invProject), pick("", "checkout-prod", "<x>")
		case 3:
			l.Date += Day(r.IntN(3) - 1)
		case 4:
			l.BillDate = pick2(r, 0, l.Date, l.Date+1)
		case 5:
			l.Unit = pick("server hours", "GB days", "")
		case 6:
			l.UnitPriceNanos = int64(r.IntN(3)) * 130_000_000
		case 7:
			l.Tags = base[r.IntN(2)].Tags
		case 8:
			l.Discount, l.DiscountPercent = Cents(r.IntN(2)*16), float64(r.IntN(2)*10)
		case 9:
			l.Quantity = float64(r.IntN(100)) / 8
		}
		switch r.IntN(10) {
		case 0:
			l.Description = pick("Atlas AWS Cluster M30", "=cmd", "a,b", "")
		case 1:
			l.Region, l.ReplicaSet = pick("US_EAST_1", "", "-x"), pick("", "rs-0")
		case 2:
			l.OrgName, l.OrgID = pick("Test 2", "+org"), pick(invOrg, "5f00000000000000000000aa")
		case 3:
			l.Note, l.Application, l.ConfigServer = pick("", "n\"q"), pick("", "app"), pick("", "cfg")
		}
		l.ID = NewLineItemID("memo", string(rune('a'+i%26)))
		out = append(out, l)
	}
	return out
}

func pick2(r *rand.Rand, vals ...Day) Day { return vals[r.IntN(len(vals))] }
