package costexplorer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// TestUsageAnswer checks the wire forms of an answer: the JSON keys groups
// by dimension and gives the amount twice, reads back to the same rows,
// and the CSV has a column pair per group-by, neutralised text and exact
// amounts.
func TestUsageAnswer(t *testing.T) {
	d, _ := ParseDay("2026-11-03")
	q := &UsageQuery{GroupBy: []Dimension{DimServices, "tag:team"}, Metrics: []Metric{MetricQuantity}}
	rows := []UsageRow{
		{Start: d, Groups: []UsageGroup{{"Clusters", "Clusters"}, {"payments", "payments"}}, Amount: 101839, Quantity: 0.1 + 0.2},
		{Start: d + 1, Groups: []UsageGroup{{"Credits", "Credits"}, {"=cmd", "=cmd"}}, Amount: -5},
	}
	a := NewUsageAnswer(q, rows, "")
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"results":[{"start":"2026-11-03","groups":{"services":{"id":"Clusters","name":"Clusters"},"tag:team":{"id":"payments","name":"payments"}},"amount":1018.39,"amountCents":101839,"quantity":0.3},` +
		`{"start":"2026-11-04","groups":{"services":{"id":"Credits","name":"Credits"},"tag:team":{"id":"=cmd","name":"=cmd"}},"amount":-0.05,"amountCents":-5,"quantity":0}],"next":null}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
	var back UsageAnswer
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	rows[0].Quantity = 0.3
	if got := back.Rows(q); !reflect.DeepEqual(got, rows) {
		t.Errorf("rows read back\n%+v\nwant\n%+v", got, rows)
	}

	var buf bytes.Buffer
	cw, err := NewUsageCSVWriter(&buf, q)
	if err == nil {
		err = cw.Write(rows)
	}
	if err == nil {
		err = cw.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := "start,services.id,services.name,tag:team.id,tag:team.name,amount,amountCents,quantity\n" +
		"2026-11-03,Clusters,Clusters,payments,payments,1018.39,101839,0.3\n" +
		"2026-11-04,Credits,Credits,'=cmd,'=cmd,-0.05,-5,0\n"
	if buf.String() != wantCSV {
		t.Errorf("CSV\n%s\nwant\n%s", buf.String(), wantCSV)
	}
}
