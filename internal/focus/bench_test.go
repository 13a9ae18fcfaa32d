package focus

import (
	"context"
	"io"

	"github.com/costexplorer/costexplorer"
	"testing"
)

// BenchmarkExport exports the test demo's billing account (b.N times) in
// each format; BenchmarkExport/read streams the items alone, the floor
// the store sets.
func BenchmarkExport(b *testing.B) {
	st := demoStore(b)
	req := Request{OrgID: demoLayout.PayingOrg.ID, From: demoLayout.FirstDay.Month(), To: demoLayout.LastDay.Month()}
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			invs, _ := invoicesOf(context.Background(), st, req.OrgID, req.From, req.To)
			for _, inv := range invs {
				st.InvoiceLines(context.Background(), inv.ID, func(*costexplorer.InvoiceLine) error { return nil })
			}
		}
	})
	for _, f := range []Format{CSV, Parquet} {
		b.Run(string(f), func(b *testing.B) {
			req.Format = f
			for b.Loop() {
				if _, err := Export(context.Background(), st, req, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
