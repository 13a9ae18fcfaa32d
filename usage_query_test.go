package costexplorer

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestFilterValidate(t *testing.T) {
	bad := map[string]string{
		"empty object":          `{}`,
		"two kinds":             `{"and":[{"dimension":"services","in":["Clusters"]}],"not":{"dimension":"services","absent":true}}`,
		"empty and":             `{"and":[]}`,
		"unknown dimension":     `{"dimension":"regions","in":["x"]}`,
		"empty tag key":         `{"dimension":"tag:","in":["x"]}`,
		"in and absent":         `{"dimension":"projects","in":["x"],"absent":true}`,
		"neither in nor absent": `{"dimension":"projects"}`,
		"null child":            `{"or":[null]}`,
		"too deep":              `{"not":{"not":{"not":{"dimension":"skus","absent":true}}}}`,
		"too many values":       `{"dimension":"skus","in":["a","b","c","d"]}`,
	}
	for name, body := range bad {
		var f Filter
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := f.Validate(3, 3); ErrorCode(err) != ErrValidation {
			t.Errorf("%s: Validate = %v, want a validation error", name, err)
		}
	}
	var good Filter
	if err := json.Unmarshal([]byte(`{"and":[{"dimension":"tag:team","in":["payments"]},{"not":{"dimension":"clusters","absent":true}}]}`), &good); err != nil {
		t.Fatal(err)
	}
	if err := good.Validate(3, 3); err != nil {
		t.Errorf("Validate of a good filter = %v", err)
	}
}

func TestEvaluateUsageNaive(t *testing.T) {
	d := func(s string) Day { m, _ := ParseDay(s); return m }
	team := func(v ...string) Tags { return MustTags(map[string][]string{"team": v}) }
	facts := []UsageFact{
		{OrgID: "o1", ProjectID: "p1", ClusterID: "c1", Service: ServiceClusters, Date: d("2026-11-03"), Amount: 100, Tags: team("payments")},
		{OrgID: "o1", ProjectID: "p1", ClusterID: "c1", Service: ServiceStorage, Date: d("2026-11-03"), Amount: 5, Tags: team("payments")},
		{OrgID: "o1", ProjectID: "p1", Service: ServiceClusters, Date: d("2026-11-04"), Amount: 7, Tags: team("payments", "search")},
		{OrgID: "o1", Service: ServicePremiumFeatures, Date: d("2026-11-04"), Amount: 11},
		{OrgID: "o1", ProjectID: "p1", Service: ServiceClusters, Date: d("2026-12-01"), Amount: 13},
		{OrgID: "o2", Service: ServiceClusters, Date: d("2026-11-04"), Amount: 1000},
	}
	names := func(d Dimension, id string) string { return "name of " + id }
	q := &UsageQuery{OrgID: "o1", Granularity: Daily, Start: d("2026-11-03"), End: d("2026-12-01"),
		GroupBy: []Dimension{TagDimension("team"), DimServices},
		Filter:  &Filter{Not: &Filter{Dimension: DimServices, In: []string{"Storage"}}}}
	got := EvaluateUsageNaive(q, []string{"o1"}, facts, names)
	want := []UsageRow{
		{Start: d("2026-11-03"), Groups: []UsageGroup{{"payments", "payments"}, {"Clusters", "name of Clusters"}}, Amount: 100},
		{Start: d("2026-11-04"), Groups: []UsageGroup{{"", ""}, {"Premium Features", "name of Premium Features"}}, Amount: 11},
		{Start: d("2026-11-04"), Groups: []UsageGroup{{"payments;search", "payments;search"}, {"Clusters", "name of Clusters"}}, Amount: 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("daily rows:\n got %+v\nwant %+v", got, want)
	}
	q = &UsageQuery{OrgID: "o1", Granularity: Monthly, Start: d("2026-11-04"), End: d("2027-01-01")}
	got = EvaluateUsageNaive(q, []string{"o1"}, facts, names)
	want = []UsageRow{{Start: d("2026-11-04"), Groups: []UsageGroup{}, Amount: 18}, {Start: d("2026-12-01"), Groups: []UsageGroup{}, Amount: 13}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("monthly rows:\n got %+v\nwant %+v", got, want)
	}
}
