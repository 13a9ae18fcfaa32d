package costexplorer

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var testLimits = QueryLimits{Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}

const testOrg = "5f1e2d3c4b5a697887766554"

func TestParseQueryRequest(t *testing.T) {
	q, err := ParseQueryRequest(testOrg, []byte(`{"startDate":"2026-05-01","endDate":"2026-12-01",
		"projects":["bbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaa","bbbbbbbbbbbbbbbbbbbbbbbb"],
		"services":["Support","AI Models","Clusters"],"groupBy":"projects","includePartialMatches":true}`), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if q.Start != MakeMonth(2026, 5) || q.End != MakeMonth(2026, 12) {
		t.Errorf("window = %s..%s", q.Start, q.End)
	}
	if strings.Join(q.Projects, ",") != "aaaaaaaaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbbbbbbbbbb" {
		t.Errorf("projects not canonical: %v", q.Projects)
	}
	if len(q.Services) != 3 || q.Services[0] != ServiceAIModelAPIs {
		t.Errorf("services = %v, want AI Models mapped to AI Model APIs and sorted", q.Services)
	}
	if !q.IncludePartialMatches || q.GroupBy != GroupByProjects {
		t.Errorf("flags = %+v", q)
	}
}

func TestParseQueryRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, code, field string
	}{
		{"MalformedJSON", `{"startDate":`, ErrMalformedJSON, ""},
		{"NotAnObject", `[1,2]`, ErrMalformedJSON, ""},
		{"TrailingData", `{"startDate":"2026-05-01","endDate":"2026-06-01"} {}`, ErrMalformedJSON, ""},
		{"UnknownField", `{"startDate":"2026-05-01","endDate":"2026-06-01","foo":1}`, ErrInvalidAttribute, "foo"},
		{"MissingStartDate", `{"endDate":"2026-06-01"}`, ErrMissingAttribute, "startDate"},
		{"MissingEndDate", `{"startDate":"2026-05-01"}`, ErrMissingAttribute, "endDate"},
		{"NullStartDate", `{"startDate":null,"endDate":"2026-06-01"}`, ErrMissingAttribute, "startDate"},
		{"StartDateNotString", `{"startDate":20260501,"endDate":"2026-06-01"}`, ErrInvalidJSONAttribute, "startDate"},
		{"BadDateFormat", `{"startDate":"05/01/2026","endDate":"2026-06-01"}`, ErrInvalidDateFormat, "startDate"},
		{"ImpossibleDate", `{"startDate":"2026-02-30","endDate":"2026-06-01"}`, ErrInvalidDateFormat, "startDate"},
		{"NotFirstOfMonth", `{"startDate":"2026-05-02","endDate":"2026-06-01"}`, ErrValidation, "startDate"},
		{"EndNotFirstOfMonth", `{"startDate":"2026-05-01","endDate":"2026-06-15"}`, ErrValidation, "endDate"},
		{"EndBeforeStart", `{"startDate":"2026-06-01","endDate":"2026-05-01"}`, ErrStartDateAfterEndDate, "endDate"},
		{"EndEqualsStart", `{"startDate":"2026-06-01","endDate":"2026-06-01"}`, ErrStartDateAfterEndDate, "endDate"},
		{"StartTooEarly", `{"startDate":"2025-05-01","endDate":"2026-06-01"}`, ErrInvalidDateRange, "startDate"},
		{"EndInFuture", `{"startDate":"2026-06-01","endDate":"2027-01-01"}`, ErrInvalidDateRange, "endDate"},
		{"BadProjectID", `{"startDate":"2026-05-01","endDate":"2026-06-01","projects":["XYZ"]}`, ErrValidation, "projects[0]"},
		{"UpperCaseID", `{"startDate":"2026-05-01","endDate":"2026-06-01","clusters":["AAAAAAAAAAAAAAAAAAAAAAAA"]}`, ErrValidation, "clusters[0]"},
		{"ProjectsNotArray", `{"startDate":"2026-05-01","endDate":"2026-06-01","projects":"aaaaaaaaaaaaaaaaaaaaaaaa"}`, ErrInvalidJSONAttribute, "projects"},
		{"ProjectsOfNumbers", `{"startDate":"2026-05-01","endDate":"2026-06-01","projects":[1]}`, ErrInvalidJSONAttribute, "projects"},
		{"UnknownService", `{"startDate":"2026-05-01","endDate":"2026-06-01","services":["Clusters","Nope"]}`, ErrInvalidEnumValue, "services[1]"},
		{"ServiceWrongCase", `{"startDate":"2026-05-01","endDate":"2026-06-01","services":["clusters"]}`, ErrInvalidEnumValue, "services[0]"},
		{"BadGroupBy", `{"startDate":"2026-05-01","endDate":"2026-06-01","groupBy":"regions"}`, ErrInvalidEnumValue, "groupBy"},
		{"GroupByNotString", `{"startDate":"2026-05-01","endDate":"2026-06-01","groupBy":1}`, ErrInvalidJSONAttribute, "groupBy"},
		{"GroupByWithoutFilter", `{"startDate":"2026-05-01","endDate":"2026-06-01","groupBy":"projects"}`, ErrValidation, "groupBy"},
		{"GroupByOtherFilter", `{"startDate":"2026-05-01","endDate":"2026-06-01","groupBy":"services","projects":["aaaaaaaaaaaaaaaaaaaaaaaa"]}`, ErrValidation, "groupBy"},
		{"PartialNotBool", `{"startDate":"2026-05-01","endDate":"2026-06-01","includePartialMatches":"yes"}`, ErrInvalidJSONAttribute, "includePartialMatches"},
		{"TooManyValues", `{"startDate":"2026-05-01","endDate":"2026-06-01","services":[` + strings.Repeat(`"Clusters",`, 1000) + `"Clusters"]}`, ErrValidation, "services"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseQueryRequest(testOrg, []byte(tc.body), testLimits)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error %s", err, tc.code)
			}
			if e.Code != tc.code {
				t.Errorf("code = %s, want %s (%s)", e.Code, tc.code, e.Detail)
			}
			if tc.field != "" {
				if len(e.Fields) != 1 || e.Fields[0].Field != tc.field || len(e.Params) != 1 || e.Params[0] != tc.field {
					t.Errorf("field = %+v params = %v, want %s named in both", e.Fields, e.Params, tc.field)
				}
				if !strings.Contains(e.Detail, strings.Split(tc.field, "[")[0]) {
					t.Errorf("detail %q does not name %s", e.Detail, tc.field)
				}
			}
		})
	}
}

func TestQueryWindowEdges(t *testing.T) {
	// Now is 2026-11: the 18-month window is 2025-06 … 2026-11 (end 2026-12-01).
	if _, err := ParseQueryRequest(testOrg, []byte(`{"startDate":"2025-06-01","endDate":"2026-12-01"}`), testLimits); err != nil {
		t.Errorf("the full 18-month window was refused: %v", err)
	}
	lim := testLimits
	lim.HistoryMonths = 60
	if _, err := ParseQueryRequest(testOrg, []byte(`{"startDate":"2022-01-01","endDate":"2022-02-01"}`), lim); err != nil {
		t.Errorf("a raised history limit was not honoured: %v", err)
	}
}

func TestQueryTokenCanonical(t *testing.T) {
	a, _ := ParseQueryRequest(testOrg, []byte(`{"startDate":"2026-05-01","endDate":"2026-06-01","projects":["bbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaa"]}`), testLimits)
	b, _ := ParseQueryRequest(testOrg, []byte(`{"projects":["aaaaaaaaaaaaaaaaaaaaaaaa","bbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaa"],"endDate":"2026-06-01","startDate":"2026-05-01","includePartialMatches":false}`), testLimits)
	if a.Token(7) != b.Token(7) {
		t.Error("equal queries have different tokens")
	}
	if a.Token(7) == a.Token(8) {
		t.Error("the token does not depend on the data version")
	}
	other, _ := ParseQueryRequest("aaaaaaaaaaaaaaaaaaaaaaaa", []byte(`{"startDate":"2026-05-01","endDate":"2026-06-01","projects":["bbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaa"]}`), testLimits)
	if other.Token(7) == a.Token(7) {
		t.Error("the token does not depend on the organization")
	}
	if tok := a.Token(7); !IsToken(tok) {
		t.Errorf("token %q is not 64 lower-case hex", tok)
	}
	var back Query
	raw, _ := a.MarshalJSON()
	if err := back.UnmarshalJSON(raw); err != nil || back.Token(7) != a.Token(7) {
		t.Errorf("canonical form does not round-trip: %s → %+v, %v", raw, back, err)
	}
}

func TestIsIDAndIsToken(t *testing.T) {
	id, token := strings.Repeat("0a", 12), strings.Repeat("f9", 32)
	for _, tc := range []struct {
		s             string
		isID, isToken bool
	}{
		{id, true, false},
		{token, false, true},
		{"", false, false},
		{strings.ToUpper(id), false, false},
		{id[:23] + "g", false, false},
		{id + "0", false, false},
		{token[:63], false, false},
	} {
		if IsID(tc.s) != tc.isID || IsToken(tc.s) != tc.isToken {
			t.Errorf("%q: IsID = %v, IsToken = %v; want %v, %v", tc.s, IsID(tc.s), IsToken(tc.s), tc.isID, tc.isToken)
		}
	}
	for b := range 256 { // every byte, in every place
		want := '0' <= b && b <= '9' || 'a' <= b && b <= 'f'
		for i := range 24 {
			s := id[:i] + string([]byte{byte(b)}) + id[i+1:]
			if IsID(s) != want {
				t.Fatalf("IsID(%q) = %v, want %v", s, !want, want)
			}
		}
	}
}

// TestQueryRequestBodyParses checks that what a writer of QueryRequestBody
// sends is what ParseQueryRequest reads: every field, and nothing it would
// reject as unknown.
func TestQueryRequestBodyParses(t *testing.T) {
	body := QueryRequestBody{
		StartDate: "2026-05-01", EndDate: "2026-07-01",
		Organizations: []string{testOrg}, Projects: []string{"bbbbbbbbbbbbbbbbbbbbbbbb"}, Clusters: []string{"cccccccccccccccccccccccc"},
		Services: []Service{ServiceClusters}, GroupBy: GroupByClusters, IncludePartialMatches: true,
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"startDate":"2026-05-01","endDate":"2026-07-01","organizations":["5f1e2d3c4b5a697887766554"],` +
		`"projects":["bbbbbbbbbbbbbbbbbbbbbbbb"],"clusters":["cccccccccccccccccccccccc"],"services":["Clusters"],"groupBy":"clusters","includePartialMatches":true}`
	if string(b) != want {
		t.Errorf("body = %s\nwant   %s", b, want)
	}
	q, err := ParseQueryRequest(testOrg, b, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if q.Start != MakeMonth(2026, 5) || q.End != MakeMonth(2026, 7) || q.GroupBy != body.GroupBy || !q.IncludePartialMatches ||
		!slices.Equal(q.Organizations, body.Organizations) || !slices.Equal(q.Projects, body.Projects) ||
		!slices.Equal(q.Clusters, body.Clusters) || !slices.Equal(q.Services, body.Services) {
		t.Errorf("parsed %+v from %s", q, b)
	}
	if b, _ := json.Marshal(QueryRequestBody{StartDate: "2026-05-01", EndDate: "2026-07-01"}); string(b) != `{"startDate":"2026-05-01","endDate":"2026-07-01"}` {
		t.Errorf("empty filters are written: %s", b)
	}
}
