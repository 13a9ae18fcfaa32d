package costexplorer

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestUsageForecastJSON(t *testing.T) {
	asOf, _ := ParseDay("2026-11-10")
	f := UsageForecast{AsOf: asOf, Coverage: 0.8, Results: []GroupForecast{{
		Groups: map[Dimension]UsageGroup{DimServices: {ID: "Clusters", Name: "Clusters"}},
		Months: []MonthForecast{{Month: asOf.Month(), Amount: 101839, Lower: 99000, Upper: 105001, ActualToDate: 30000}},
	}}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"asOf":"2026-11-10","coverage":0.8,"results":[{"groups":{"services":{"id":"Clusters","name":"Clusters"}},` +
		`"months":[{"month":"2026-11","amount":1018.39,"amountCents":101839,"lowerCents":99000,"upperCents":105001,"actualToDateCents":30000}]}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back UsageForecast
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, f) {
		t.Errorf("round trip: %+v, want %+v", back, f)
	}
	if b, _ := json.Marshal(UsageForecast{AsOf: asOf}); string(b) != `{"asOf":"2026-11-10","coverage":0,"results":[]}` {
		t.Errorf("no results: %s, want an empty list", b)
	}
}
