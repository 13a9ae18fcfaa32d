package costexplorer

import (
	"io"
	"strconv"
	"testing"
)

// benchLines streams n lines made from the test invoice's first line, as a
// store scan would: one line value reused, nothing retained.
func benchLines(n int) InvoiceLines {
	return func(_ string, fn func(*InvoiceLine) error) error {
		l := testLines()[0]
		for i := range n {
			l.Quantity = float64(i%97) + 0.5
			l.Amount = Cents(i % 10000)
			if err := fn(&l); err != nil {
				return err
			}
		}
		return nil
	}
}

// BenchmarkWriteInvoiceCSV measures the invoice CSV writer; rows/s is the
// figure issue 14 asks for (≥ 500,000). Memory does not grow with the rows:
// B/op is the same for 10,000 and 1,000,000 rows.
func BenchmarkWriteInvoiceCSV(b *testing.B) {
	benchWriteInvoice(b, func(inv *Invoice, lines InvoiceLines) error {
		return WriteInvoiceCSV(io.Discard, inv, "Test 2", []string{"environment", "team"}, lines)
	})
}

// BenchmarkWriteInvoiceJSON measures the BillingInvoice writer.
func BenchmarkWriteInvoiceJSON(b *testing.B) {
	benchWriteInvoice(b, func(inv *Invoice, lines InvoiceLines) error {
		return WriteInvoiceJSON(io.Discard, inv, lines, wireOpts)
	})
}

// benchWriteInvoice runs write over the test invoice with 10,000 and
// 1,000,000 lines and reports rows/s.
func benchWriteInvoice(b *testing.B, write func(*Invoice, InvoiceLines) error) {
	inv := testInvoice()
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := write(inv, benchLines(n)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
