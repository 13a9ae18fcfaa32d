package costexplorer

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// parseQueryCodes are the codes ParseQueryRequest documents. Every one is a
// 400 in the HTTP layer's table; a rejection with any other code (or with an
// error that is not an *Error) would reach a client as a 5xx.
var parseQueryCodes = map[string]bool{
	ErrMalformedJSON: true, ErrInvalidJSONAttribute: true, ErrInvalidAttribute: true,
	ErrMissingAttribute: true, ErrInvalidEnumValue: true, ErrInvalidDateFormat: true,
	ErrStartDateAfterEndDate: true, ErrInvalidDateRange: true, ErrValidation: true,
}

// FuzzParseQueryRequest feeds arbitrary bodies to the cost-explorer request
// decoder and validator. Invariants: it never panics; a rejection is an
// *Error with one of the documented (4xx) codes, a detail and no cause to
// hide; an accepted query is canonical (sorted, duplicate-free filters, valid
// ids and services, a window inside the limits) and survives a round trip
// through MarshalJSON and UnmarshalJSON with the same canonical form and the
// same token.
func FuzzParseQueryRequest(f *testing.F) {
	for _, s := range []string{
		`{"startDate":"2026-05-01","endDate":"2026-12-01"}`,
		`{"startDate":"2026-05-01","endDate":"2026-12-01","projects":["bbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaa","bbbbbbbbbbbbbbbbbbbbbbbb"],"services":["Support","AI Models","Clusters"],"groupBy":"projects","includePartialMatches":true}`,
		`{"startDate":"2026-01-01","endDate":"2026-02-01","organizations":["5f1e2d3c4b5a697887766554"],"groupBy":"organizations"}`,
		`{"startDate":"2026-01-01","endDate":"2026-02-01","clusters":["0123456789abcdef01234567"],"groupBy":"clusters","includePartialMatches":null}`,
		`{"startDate":"2026-01-01","endDate":"2026-02-01","groupBy":"services","services":[]}`,
		`{"startDate":null,"endDate":"2026-02-01"}`,
		`{"startDate":"2026-01-15","endDate":"2026-02-01"}`,
		`{"startDate":"2026-02-01","endDate":"2026-01-01"}`,
		`{"startDate":"1999-01-01","endDate":"2026-01-01"}`,
		`{"startDate":"2026-01-01","endDate":"2026-02-01","x":1}`,
		`{"startDate":"2026-01-01","endDate":"2026-02-01"} {}`,
		`{"startDate":"2026-01-01","startDate":"2025-01-01","endDate":"2026-02-01"}`,
		"{\"startDate\":\"\xff\",\"endDate\":\"2026-02-01\"}",
		`{"startDate":"2026-01-01","endDate":"2026-02-01","projects":[[[[[]]]]]}`,
		`{"startDate":"2026-01-01","endDate":"2026-02-01","services":["'; DROP TABLE usage; --"]}`,
		`[]`, `null`, ``, `{`, `"x"`, `{"startDate":20260101}`,
	} {
		f.Add(s)
	}
	lim := QueryLimits{Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), MaxFilterValues: 50}
	const org = "5f1e2d3c4b5a697887766554"
	f.Fuzz(func(t *testing.T, body string) {
		q, err := ParseQueryRequest(org, []byte(body), lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("rejection is %T, not *Error: %v", err, err)
			}
			if !parseQueryCodes[e.Code] {
				t.Fatalf("rejection code %q is not a documented 4xx code: %v", e.Code, err)
			}
			if e.Detail == "" || e.Err != nil {
				t.Fatalf("rejection without a detail or with a hidden cause: %#v", e)
			}
			if q != nil {
				t.Fatalf("rejection returned a query too: %+v", q)
			}
			return
		}
		checkCanonical(t, q, lim)

		canon, err := q.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		if !utf8.Valid(canon) {
			t.Fatalf("canonical form is not UTF-8: %q", canon)
		}
		var back Query
		if err := back.UnmarshalJSON(canon); err != nil {
			t.Fatalf("UnmarshalJSON(%s): %v", canon, err)
		}
		again, err := back.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON after the round trip: %v", err)
		}
		if !bytes.Equal(canon, again) {
			t.Fatalf("canonical form changed in a round trip:\n%s\n%s", canon, again)
		}
		if q.Token(7) != back.Token(7) {
			t.Fatalf("token changed in a round trip of %s", canon)
		}
		if q.Token(7) == q.Token(8) || !IsToken(q.Token(7)) {
			t.Fatalf("token %q is not a 64-hex token keyed by the data version", q.Token(7))
		}
		// The same body parses to the same token: a client re-submitting a
		// query finds its result.
		q2, err := ParseQueryRequest(org, []byte(body), lim)
		if err != nil || q2.Token(7) != q.Token(7) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}

// checkCanonical asserts what every accepted query must be.
func checkCanonical(t *testing.T, q *Query, lim QueryLimits) {
	t.Helper()
	if q.OrgID != "5f1e2d3c4b5a697887766554" {
		t.Fatalf("org %q", q.OrgID)
	}
	if q.Start >= q.End || q.Start < MonthOf(lim.Now)-DefaultHistoryMonths+1 || q.End > MonthOf(lim.Now)+1 {
		t.Fatalf("window %s..%s accepted", q.Start.Date(), q.End.Date())
	}
	for name, ids := range map[string][]string{"organizations": q.Organizations, "projects": q.Projects, "clusters": q.Clusters} {
		if len(ids) > lim.MaxFilterValues {
			t.Fatalf("%s has %d values", name, len(ids))
		}
		for i, id := range ids {
			if !IsID(id) {
				t.Fatalf("%s[%d] = %q accepted", name, i, id)
			}
			if i > 0 && ids[i-1] >= id {
				t.Fatalf("%s not sorted and unique: %q", name, ids)
			}
		}
	}
	for i, s := range q.Services {
		if _, ok := ParseService(string(s)); !ok {
			t.Fatalf("service %q accepted", s)
		}
		if i > 0 && q.Services[i-1] >= s {
			t.Fatalf("services not sorted and unique: %q", q.Services)
		}
	}
	switch q.GroupBy {
	case GroupByNone, GroupByOrganizations, GroupByProjects, GroupByClusters, GroupByServices:
	default:
		t.Fatalf("groupBy %q accepted", q.GroupBy)
	}
	if q.GroupBy != GroupByNone && strings.TrimSpace(string(q.GroupBy)) == "" {
		t.Fatalf("blank groupBy")
	}
}
