package jobs

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// appendResult writes what json.Marshal writes, for names with every kind
// of character encoding/json escapes and amounts of every sign and size.
func TestAppendResultIsJSONMarshal(t *testing.T) {
	names := []string{"", "Acme", `quote " and \ backslash`, "R&D <ops>", "tab\tnew\nline\r\b\f\x00\x1f\x7f",
		"é ü 日本", "line sep \u2028 para \u2029", "bad \xff utf-8 \xc3", "=1+2", "'", "/slash/"}
	amounts := []costexplorer.Cents{0, 1, 9, 10, 99, 100, 101, 123456, -1, -99, -100, -250000, math.MaxInt64, math.MinInt64 + 1}
	rng := rand.New(rand.NewPCG(1, 2))
	randomString := func() string {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	var rows []costexplorer.Row
	for i := range 500 {
		pick := func() string {
			if i%3 == 0 {
				return randomString()
			}
			return names[rng.IntN(len(names))]
		}
		rows = append(rows, costexplorer.Row{
			UsageDate: "2025-06-01", InvoiceID: pick(), OrganizationID: pick(), OrganizationName: pick(),
			ProjectID: pick(), ProjectName: pick(), ClusterID: pick(), ClusterName: pick(),
			Service: costexplorer.Service(pick()), UsageAmount: amounts[rng.IntN(len(amounts))],
		})
	}
	for _, rs := range [][]costexplorer.Row{nil, {}, rows[:1], rows} {
		want, err := json.Marshal(costexplorer.Result{UsageDetails: rs})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendResult(nil, rs); !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%d rows: differs from json.Marshal at byte %d:\n got …%q\nwant …%q", len(rs), i, got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
		}
	}
}
