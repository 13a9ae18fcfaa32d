package costexplorer

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// usageBody returns a valid usage:query body with extra members appended.
func usageBody(extra string) string {
	b := `{"granularity":"DAILY","timePeriod":{"start":"2026-11-01","end":"2026-12-01"}`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

func TestParseUsageQueryRequest(t *testing.T) {
	q, p, err := ParseUsageQueryRequest(testOrg, []byte(`{"granularity":"MONTHLY",
		"timePeriod":{"start":"2026-06-10","end":"2026-12-01"},
		"groupBy":["tag:team","services"],
		"filter":{"and":[{"dimension":"tag:environment","in":["prod"]},{"not":{"dimension":"services","in":["AI Models"]}},{"dimension":"clusters","absent":true}]},
		"metrics":["quantity","amount","quantity"],"pageSize":50}`), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	d := func(s string) Day { x, _ := ParseDay(s); return x }
	want := &UsageQuery{OrgID: testOrg, Granularity: Monthly, Start: d("2026-06-10"), End: d("2026-12-01"),
		GroupBy: []Dimension{"tag:team", DimServices},
		Filter: &Filter{And: []*Filter{
			{Dimension: "tag:environment", In: []string{"prod"}},
			{Not: &Filter{Dimension: DimServices, In: []string{string(ServiceAIModelAPIs)}}},
			{Dimension: DimClusters, Absent: true},
		}},
		Metrics: []Metric{MetricAmount, MetricQuantity}}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("query =\n%+v\nwant\n%+v", q, want)
	}
	if p.Size != 50 || p.After != nil {
		t.Errorf("page = %+v", p)
	}

	t.Run("OK_Defaults", func(t *testing.T) {
		q, p, err := ParseUsageQueryRequest(testOrg, []byte(usageBody(`"groupBy":null,"filter":null,"metrics":null,"pageSize":null,"next":null`)), testLimits)
		if err != nil {
			t.Fatal(err)
		}
		if q.GroupBy != nil || q.Filter != nil || q.Metrics != nil || p.Size != DefaultUsagePageSize || p.After != nil {
			t.Errorf("defaults: %+v %+v", q, p)
		}
		if !q.Has(MetricAmount) || q.Has(MetricQuantity) {
			t.Errorf("metrics: amount is always summed, quantity only when asked")
		}
	})
	t.Run("OK_WholeHistory", func(t *testing.T) {
		// testLimits.Now is 2026-11-25: 18 months back is June 2025.
		if _, _, err := ParseUsageQueryRequest(testOrg, []byte(`{"granularity":"DAILY","timePeriod":{"start":"2025-06-01","end":"2026-12-01"}}`), testLimits); err != nil {
			t.Error(err)
		}
	})
}

func TestParseUsageQueryRequestErrors(t *testing.T) {
	deepNot := strings.Repeat(`{"not":`, MaxFilterDepth) + `{"dimension":"skus","absent":true}` + strings.Repeat(`}`, MaxFilterDepth)
	manyLeaves := `{"or":[` + strings.TrimSuffix(strings.Repeat(`{"dimension":"skus","absent":true},`, MaxFilterNodes), ",") + `]}`
	for _, tc := range []struct {
		name, body, code, field string
	}{
		{"MalformedJSON", `{"granularity":`, ErrMalformedJSON, ""},
		{"NotAnObject", `[]`, ErrMalformedJSON, ""},
		{"Null", `null`, ErrMalformedJSON, ""},
		{"TrailingData", usageBody("") + `{}`, ErrMalformedJSON, ""},
		{"UnknownField", usageBody(`"startDate":"2026-11-01"`), ErrInvalidAttribute, "startDate"},
		{"FieldWrongCase", usageBody(`"GroupBy":["services"]`), ErrInvalidAttribute, "GroupBy"},
		{"MissingGranularity", `{"timePeriod":{"start":"2026-11-01","end":"2026-12-01"}}`, ErrMissingAttribute, "granularity"},
		{"GranularityLowerCase", `{"granularity":"daily","timePeriod":{"start":"2026-11-01","end":"2026-12-01"}}`, ErrInvalidEnumValue, "granularity"},
		{"GranularityHourly", `{"granularity":"HOURLY","timePeriod":{"start":"2026-11-01","end":"2026-12-01"}}`, ErrInvalidEnumValue, "granularity"},
		{"GranularityNumber", `{"granularity":1,"timePeriod":{"start":"2026-11-01","end":"2026-12-01"}}`, ErrInvalidJSONAttribute, "granularity"},
		{"MissingTimePeriod", `{"granularity":"DAILY"}`, ErrMissingAttribute, "timePeriod"},
		{"TimePeriodString", `{"granularity":"DAILY","timePeriod":"2026-11"}`, ErrInvalidJSONAttribute, "timePeriod"},
		{"TimePeriodUnknownField", `{"granularity":"DAILY","timePeriod":{"start":"2026-11-01","end":"2026-12-01","zone":"UTC"}}`, ErrInvalidAttribute, "timePeriod.zone"},
		{"MissingEnd", `{"granularity":"DAILY","timePeriod":{"start":"2026-11-01"}}`, ErrMissingAttribute, "timePeriod.end"},
		{"StartNumber", `{"granularity":"DAILY","timePeriod":{"start":20261101,"end":"2026-12-01"}}`, ErrInvalidJSONAttribute, "timePeriod.start"},
		{"StartDateTime", `{"granularity":"DAILY","timePeriod":{"start":"2026-11-01T00:00:00Z","end":"2026-12-01"}}`, ErrInvalidDateFormat, "timePeriod.start"},
		{"EndUnpadded", `{"granularity":"DAILY","timePeriod":{"start":"2026-11-01","end":"2026-12-1"}}`, ErrInvalidDateFormat, "timePeriod.end"},
		{"EndImpossible", `{"granularity":"DAILY","timePeriod":{"start":"2026-11-01","end":"2026-11-31"}}`, ErrInvalidDateFormat, "timePeriod.end"},
		{"EndEqualsStart", `{"granularity":"DAILY","timePeriod":{"start":"2026-11-03","end":"2026-11-03"}}`, ErrStartDateAfterEndDate, "timePeriod.end"},
		{"EndBeforeStart", `{"granularity":"DAILY","timePeriod":{"start":"2026-11-03","end":"2026-11-02"}}`, ErrStartDateAfterEndDate, "timePeriod.end"},
		{"StartBeforeHistory", `{"granularity":"DAILY","timePeriod":{"start":"2025-05-31","end":"2026-11-02"}}`, ErrInvalidDateRange, "timePeriod.start"},
		{"EndAfterThisMonth", `{"granularity":"DAILY","timePeriod":{"start":"2026-11-01","end":"2026-12-02"}}`, ErrInvalidDateRange, "timePeriod.end"},
		{"GroupByString", usageBody(`"groupBy":"services"`), ErrInvalidJSONAttribute, "groupBy"},
		{"GroupByUnknown", usageBody(`"groupBy":["regions"]`), ErrInvalidEnumValue, "groupBy[0]"},
		{"GroupBySingular", usageBody(`"groupBy":["services","project"]`), ErrInvalidEnumValue, "groupBy[1]"},
		{"GroupByEmptyTag", usageBody(`"groupBy":["tag:"]`), ErrInvalidEnumValue, "groupBy[0]"},
		{"GroupByTwice", usageBody(`"groupBy":["tag:team","tag:team"]`), ErrValidation, "groupBy[1]"},
		{"GroupByThree", usageBody(`"groupBy":["services","projects","clusters"]`), ErrValidation, "groupBy"},
		{"FilterArray", usageBody(`"filter":[]`), ErrInvalidJSONAttribute, "filter"},
		{"FilterEmpty", usageBody(`"filter":{}`), ErrValidation, "filter"},
		{"FilterUnknownMember", usageBody(`"filter":{"dimension":"services","in":["Clusters"],"op":"eq"}`), ErrInvalidAttribute, "filter.op"},
		{"FilterUnknownDimension", usageBody(`"filter":{"dimension":"regions","in":["x"]}`), ErrInvalidEnumValue, "filter.dimension"},
		{"FilterDimensionNumber", usageBody(`"filter":{"dimension":7,"in":["x"]}`), ErrInvalidJSONAttribute, "filter.dimension"},
		{"FilterInString", usageBody(`"filter":{"dimension":"tag:team","in":"payments"}`), ErrInvalidJSONAttribute, "filter.in"},
		{"FilterInEmpty", usageBody(`"filter":{"dimension":"tag:team","in":[]}`), ErrValidation, "filter"},
		{"FilterInEmptyValue", usageBody(`"filter":{"dimension":"tag:team","in":[""]}`), ErrValidation, "filter.in[0]"},
		{"FilterAbsentString", usageBody(`"filter":{"dimension":"tag:team","absent":"true"}`), ErrInvalidJSONAttribute, "filter.absent"},
		{"FilterInAndAbsent", usageBody(`"filter":{"dimension":"tag:team","in":["x"],"absent":true}`), ErrValidation, "filter"},
		{"FilterNoDimension", usageBody(`"filter":{"in":["x"]}`), ErrValidation, "filter"},
		{"FilterBadProjectID", usageBody(`"filter":{"dimension":"projects","in":["p1"]}`), ErrValidation, "filter.in[0]"},
		{"FilterBadService", usageBody(`"filter":{"or":[{"dimension":"skus","absent":true},{"dimension":"services","in":["clusters"]}]}`), ErrInvalidEnumValue, "filter.or[1].in[0]"},
		{"FilterAndAndOr", usageBody(`"filter":{"and":[{"dimension":"skus","absent":true}],"or":[{"dimension":"skus","absent":true}]}`), ErrValidation, "filter"},
		{"FilterNullChild", usageBody(`"filter":{"or":[null]}`), ErrInvalidJSONAttribute, "filter.or[0]"},
		{"FilterNotArray", usageBody(`"filter":{"not":[{"dimension":"skus","absent":true}]}`), ErrInvalidJSONAttribute, "filter.not"},
		{"FilterTooDeep", usageBody(`"filter":` + deepNot), ErrValidation, "filter" + strings.Repeat(".not", MaxFilterDepth)},
		{"FilterTooManyNodes", usageBody(`"filter":` + manyLeaves), ErrValidation, fmt.Sprintf("filter.or[%d]", MaxFilterNodes-1)},
		{"FilterTooManyValues", usageBody(`"filter":{"dimension":"skus","in":[` + strings.Repeat(`"X",`, DefaultMaxFilterValues) + `"X"]}`), ErrValidation, "filter.in"},
		{"MetricsUnknown", usageBody(`"metrics":["cost"]`), ErrInvalidEnumValue, "metrics[0]"},
		{"MetricsString", usageBody(`"metrics":"amount"`), ErrInvalidJSONAttribute, "metrics"},
		{"PageSizeZero", usageBody(`"pageSize":0`), ErrValidation, "pageSize"},
		{"PageSizeTooLarge", usageBody(`"pageSize":10001`), ErrValidation, "pageSize"},
		{"PageSizeFraction", usageBody(`"pageSize":1.5`), ErrInvalidJSONAttribute, "pageSize"},
		{"PageSizeString", usageBody(`"pageSize":"10"`), ErrInvalidJSONAttribute, "pageSize"},
		{"NextNumber", usageBody(`"next":1`), ErrInvalidJSONAttribute, "next"},
		{"NextGarbage", usageBody(`"next":"not a cursor"`), ErrValidation, "next"},
		{"NextTooLong", usageBody(`"next":"` + strings.Repeat("a", maxCursorLength+1) + `"`), ErrValidation, "next"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseUsageQueryRequest(testOrg, []byte(tc.body), testLimits)
			checkFieldError(t, err, tc.code, tc.field)
		})
	}
}

// TestUsagePaging checks that the pages of an answer, cursor after cursor,
// are the answer, and that a cursor keeps its place when rows appear or
// disappear before it between two pages.
func TestUsagePaging(t *testing.T) {
	q, _, err := ParseUsageQueryRequest(testOrg, []byte(usageBody(`"groupBy":["services"]`)), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	var rows []UsageRow
	for day := q.Start; day < q.Start+5; day++ {
		for _, s := range []string{"Backup", "Clusters", "Storage"} {
			rows = append(rows, UsageRow{Start: day, Groups: []UsageGroup{{s, s}}, Amount: Cents(day)})
		}
	}
	for _, size := range []int{1, 2, 7, 15, 100} {
		var got []UsageRow
		p := UsagePage{Size: size}
		for pages := 0; ; pages++ {
			page, next := PageUsageRows(q, rows, p)
			if len(page) > size || pages > len(rows) {
				t.Fatalf("size %d: page of %d rows, page %d", size, len(page), pages)
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			body, _ := json.Marshal(next)
			_, p, err = ParseUsageQueryRequest(testOrg, []byte(usageBody(`"groupBy":["services"],"pageSize":`+fmt.Sprint(size)+`,"next":`+string(body))), testLimits)
			if err != nil {
				t.Fatalf("size %d: the answer's own cursor is refused: %v", size, err)
			}
		}
		if !reflect.DeepEqual(got, rows) {
			t.Errorf("size %d: the pages are not the answer:\n%v\n%v", size, got, rows)
		}
	}

	t.Run("OK_StableWhenTheDataChanges", func(t *testing.T) {
		page, next := PageUsageRows(q, rows, UsagePage{Size: 4})
		after, err := q.parseCursor(next)
		if err != nil {
			t.Fatal(err)
		}
		// Before the second page, the first row goes away and a row
		// appears before the cursor: the second page still starts right
		// after the last row sent.
		changed := slices.Clone(rows[1:])
		changed = slices.Insert(changed, 0, UsageRow{Start: q.Start, Groups: []UsageGroup{{"Atlas", "Atlas"}}})
		second, _ := PageUsageRows(q, changed, UsagePage{Size: 4, After: after})
		if !reflect.DeepEqual(second[0], rows[len(page)]) {
			t.Errorf("second page starts at %+v, want %+v", second[0], rows[len(page)])
		}
	})
	t.Run("ErrCursorOfAnotherQuery", func(t *testing.T) {
		_, next := PageUsageRows(q, rows, UsagePage{Size: 1})
		body, _ := json.Marshal(next)
		_, _, err := ParseUsageQueryRequest(testOrg, []byte(usageBody(`"groupBy":["projects"],"next":`+string(body))), testLimits)
		if ErrorCode(err) != ErrValidation {
			t.Errorf("a cursor with another query: %v", err)
		}
	})
}

// FuzzParseUsageQueryRequest feeds arbitrary bodies to the usage:query
// parser. Invariants: it never panics; a rejection is an *Error with one of
// the documented (4xx) codes and a detail; an accepted query is valid (a
// granularity, a window inside the limits, at most two distinct valid
// group-bys, a filter Validate accepts and Match can run), its page size in
// range, and its own Request body parses back to the same query.
func FuzzParseUsageQueryRequest(f *testing.F) {
	for _, s := range []string{
		usageBody(""),
		usageBody(`"groupBy":["tag:team","services"],"metrics":["quantity"],"pageSize":3`),
		usageBody(`"filter":{"and":[{"dimension":"tag:environment","in":["prod"]},{"not":{"dimension":"clusters","absent":true}}]}`),
		usageBody(`"filter":{"or":[{"dimension":"services","in":["AI Models"]},{"dimension":"projects","in":["aaaaaaaaaaaaaaaaaaaaaaaa"]}]}`),
		usageBody(`"next":"eyJxIjoiIn0"`),
		usageBody(`"groupBy":["tag:","tag:a"]`),
		usageBody(`"filter":{"not":{"not":{"not":{}}}}`),
		`{"granularity":"MONTHLY","timePeriod":{"start":"2026-06-10","end":"2026-06-11"}}`,
		`{"granularity":"DAILY","timePeriod":{"start":"2026-12-01","end":"2026-11-01"}}`,
		`{"granularity":"DAILY","timePeriod":null}`,
		`[]`, `null`, ``, `{`, `{"granularity":"DAILY"} {}`,
	} {
		f.Add(s)
	}
	lim := QueryLimits{Now: testLimits.Now, MaxFilterValues: 20}
	fact := UsageFact{OrgID: testOrg, Service: ServiceClusters, SKU: "X", Tags: MustTags(map[string][]string{"team": {"a", "b"}})}
	f.Fuzz(func(t *testing.T, body string) {
		q, p, err := ParseUsageQueryRequest(testOrg, []byte(body), lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !parseQueryCodes[e.Code] || e.Detail == "" || e.Err != nil {
				t.Fatalf("rejection is not a documented 4xx *Error with a detail: %#v", err)
			}
			if q != nil {
				t.Fatalf("rejection returned a query too: %+v", q)
			}
			return
		}
		if q.Granularity != Daily && q.Granularity != Monthly {
			t.Fatalf("granularity %q accepted", q.Granularity)
		}
		if q.Start >= q.End || q.Start < DayOf((MonthOf(lim.Now)-DefaultHistoryMonths+1).Start()) || q.End > DayOf((MonthOf(lim.Now)+1).Start()) {
			t.Fatalf("window %s..%s accepted", q.Start, q.End)
		}
		if len(q.GroupBy) > MaxGroupBy {
			t.Fatalf("groupBy %v accepted", q.GroupBy)
		}
		for i, d := range q.GroupBy {
			if !d.Valid() || slices.Contains(q.GroupBy[:i], d) {
				t.Fatalf("groupBy %v accepted", q.GroupBy)
			}
		}
		if q.Filter != nil {
			if err := q.Filter.Validate(MaxFilterDepth, lim.MaxFilterValues); err != nil {
				t.Fatalf("filter accepted that Validate refuses: %v", err)
			}
			q.Filter.Match(&fact)
		}
		if p.Size < 1 || p.Size > MaxUsagePageSize {
			t.Fatalf("page size %d accepted", p.Size)
		}
		again, err := json.Marshal(q.Request())
		if err != nil {
			t.Fatal(err)
		}
		q2, _, err := ParseUsageQueryRequest(testOrg, again, lim)
		if err != nil || !reflect.DeepEqual(q, q2) {
			t.Fatalf("the query's own request %s parses to %+v, %v; want %+v", again, q2, err, q)
		}
	})
}
