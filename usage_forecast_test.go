package costexplorer

import (
	"encoding/json"
	"errors"
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

func TestParseUsageForecastRequest(t *testing.T) {
	d := func(s string) Day { x, _ := ParseDay(s); return x }
	// testLimits.Now is 2026-11-25: 18 months back is June 2025.
	since := d("2025-06-01")
	for _, tc := range []struct {
		name, body string
		want       UsageForecastQuery
	}{
		{"OK_EmptyBody", ``, UsageForecastQuery{OrgID: testOrg, AsOf: d("2026-11-25"), Since: since}},
		{"OK_Defaults", `{"groupBy":null,"filter":null,"asOf":null}`, UsageForecastQuery{OrgID: testOrg, AsOf: d("2026-11-25"), Since: since}},
		{"OK_All", `{"groupBy":["tag:team"],"filter":{"dimension":"services","in":["Clusters"]},"asOf":"2026-11-10"}`,
			UsageForecastQuery{OrgID: testOrg, GroupBy: []Dimension{"tag:team"}, Filter: &Filter{Dimension: DimServices, In: []string{"Clusters"}},
				AsOf: d("2026-11-10"), Since: since}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseUsageForecastRequest(testOrg, []byte(tc.body), testLimits)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*q, tc.want) {
				t.Errorf("query = %+v, want %+v", *q, tc.want)
			}
		})
	}
}

func TestParseUsageForecastRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, code, field string
	}{
		{"MalformedJSON", `{"asOf":`, ErrMalformedJSON, ""},
		{"NotAnObject", `[]`, ErrMalformedJSON, ""},
		{"UnknownField", `{"granularity":"DAILY"}`, ErrInvalidAttribute, "granularity"},
		{"GroupByString", `{"groupBy":"services"}`, ErrInvalidJSONAttribute, "groupBy"},
		{"GroupByTwo", `{"groupBy":["services","projects"]}`, ErrValidation, "groupBy"},
		{"GroupByUnknown", `{"groupBy":["regions"]}`, ErrInvalidEnumValue, "groupBy[0]"},
		{"FilterEmpty", `{"filter":{}}`, ErrValidation, "filter"},
		{"FilterBadService", `{"filter":{"dimension":"services","in":["clusters"]}}`, ErrInvalidEnumValue, "filter.in[0]"},
		{"AsOfNumber", `{"asOf":20261110}`, ErrInvalidJSONAttribute, "asOf"},
		{"AsOfMonth", `{"asOf":"2026-11"}`, ErrInvalidDateFormat, "asOf"},
		{"AsOfTomorrow", `{"asOf":"2026-11-26"}`, ErrInvalidDateRange, "asOf"},
		{"AsOfFirstDayOfHistory", `{"asOf":"2025-06-01"}`, ErrInvalidDateRange, "asOf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseUsageForecastRequest(testOrg, []byte(tc.body), testLimits)
			checkFieldError(t, err, tc.code, tc.field)
		})
	}
}

// checkFieldError checks that err is an *Error with code about field (""
// for none).
func checkFieldError(t *testing.T, err error, code, field string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error %s", err, code)
	}
	if e.Code != code {
		t.Errorf("code = %s, want %s (%s)", e.Code, code, e.Detail)
	}
	var got string
	if len(e.Fields) > 0 {
		got = e.Fields[0].Field
	}
	if got != field {
		t.Errorf("field = %q, want %q (%s)", got, field, e.Detail)
	}
}
