package atlassync

import (
	"reflect"
	"testing"
)

// TestDimScannerReadsTheOrderWhateverTheWrites checks that the order of
// projects and clusters read from an invoice CSV as it downloads does not
// depend on how the download is cut: rows split across writes, a quoted
// field that spans lines and holds commas and quotes, a last row without
// a line end, and rows without a project (support, credits) passed over.
func TestDimScannerReadsTheOrderWhateverTheWrites(t *testing.T) {
	csv := "Invoice Number,inv1,\n" +
		"Organization Name,\"Acme, Inc.\",\n" +
		"\n" +
		"Date,Usage Date,Description,Project,Project ID,Cluster,Amount\r\n" +
		",10/01/2026,Support,,,,$4000.00\n" +
		",10/01/2026,Storage,web,p1,c1,$1.00\n" +
		",10/01/2026,Storage,web,p1,c1,$1.00\n" +
		",10/01/2026,\"Data, \"\"transfer\"\"\nacross lines\",web,p1,c2,$1.00\n" +
		",10/01/2026,Storage,\"api, v2\",p2,c1,$1.00\n" +
		",10/01/2026,Storage,web,p1,c1,$1.00\n" +
		",10/01/2026,Storage,api,p2,,$1.00\n" +
		",10/01/2026,Storage,api,p2,c3,$1.00"
	want := &dimScanner{
		orgName:  "Acme, Inc.",
		projects: []string{"p1", "p2", "p1", "p2"},
		names:    map[string]string{"p1": "web", "p2": "api"},
		clusters: map[string][]string{"p1": {"c1", "c2", "c1"}, "p2": {"c1", "c3"}},
	}
	for _, size := range []int{1, 2, 3, 7, 16, 64, len(csv)} {
		sc := newDimScanner()
		for b := []byte(csv); len(b) > 0; {
			n := min(size, len(b))
			if k, err := sc.Write(b[:n]); k != n || err != nil {
				t.Fatalf("Write = %d, %v", k, err)
			}
			b = b[n:]
		}
		d := newDimOrder()
		d.add(sc)
		got := &dimScanner{orgName: d.orgName, projects: sc.projects, names: d.names, clusters: sc.clusters}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("writes of %d bytes: got %+v, want %+v", size, got, want)
		}
	}
}
