package costexplorer

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseInvoiceListQuery(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		q, err := ParseInvoiceListQuery(invOrg, url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		want := InvoiceListQuery{OrgID: invOrg, ViewLinkedInvoices: true, SortBy: InvoiceSortEndDate, OrderBy: SortDesc, Page: DefaultPage()}
		if q.OrgID != want.OrgID || !q.ViewLinkedInvoices || q.SortBy != want.SortBy || q.OrderBy != want.OrderBy || q.Page != want.Page || q.From != nil || q.To != nil || q.Statuses != nil {
			t.Fatalf("%+v", q)
		}
	})
	t.Run("WhatTheAtlasGoSDKSends", func(t *testing.T) {
		v, _ := url.ParseQuery("includeCount=true&itemsPerPage=100&orderBy=desc&pageNum=1&sortBy=END_DATE&viewLinkedInvoices=true")
		if _, err := ParseInvoiceListQuery(invOrg, v); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Everything", func(t *testing.T) {
		v, _ := url.ParseQuery("viewLinkedInvoices=false&statusNames=PAID&statusNames=FREE&fromDate=2024-01-01&toDate=2024-07-01&sortBy=START_DATE&orderBy=asc&itemsPerPage=500&pageNum=3&includeCount=false&envelope=true&pretty=true&unknown=1")
		q, err := ParseInvoiceListQuery(invOrg, v)
		if err != nil {
			t.Fatal(err)
		}
		if q.ViewLinkedInvoices || !slices.Equal(q.Statuses, []InvoiceStatus{InvoicePaid, InvoiceFree}) ||
			q.From.String() != "2024-01-01" || q.To.String() != "2024-07-01" || q.SortBy != InvoiceSortStartDate ||
			q.OrderBy != SortAsc || q.Page != (PageRequest{ItemsPerPage: 500, PageNum: 3}) {
			t.Fatalf("%+v", q)
		}
	})
}

func TestParseInvoiceListQueryErrors(t *testing.T) {
	for _, tc := range []struct {
		name, query, code, param string
	}{
		{"ErrItemsPerPageZero", "itemsPerPage=0", ErrInvalidQueryParameter, "itemsPerPage"},
		{"ErrItemsPerPageOver500", "itemsPerPage=501", ErrInvalidQueryParameter, "itemsPerPage"},
		{"ErrItemsPerPageSigned", "itemsPerPage=%2B5", ErrInvalidQueryParameter, "itemsPerPage"},
		{"ErrItemsPerPageEmpty", "itemsPerPage=", ErrInvalidQueryParameter, "itemsPerPage"},
		{"ErrItemsPerPageTwice", "itemsPerPage=5&itemsPerPage=6", ErrInvalidQueryParameter, "itemsPerPage"},
		{"ErrPageNumZero", "pageNum=0", ErrInvalidQueryParameter, "pageNum"},
		{"ErrPageNumHuge", "pageNum=99999999999", ErrInvalidQueryParameter, "pageNum"},
		{"ErrPageNumFloat", "pageNum=1.0", ErrInvalidQueryParameter, "pageNum"},
		{"ErrIncludeCount", "includeCount=yes", ErrInvalidQueryParameter, "includeCount"},
		{"ErrIncludeCountUpper", "includeCount=TRUE", ErrInvalidQueryParameter, "includeCount"},
		{"ErrViewLinked", "viewLinkedInvoices=1", ErrInvalidQueryParameter, "viewLinkedInvoices"},
		{"ErrViewLinkedTwice", "viewLinkedInvoices=true&viewLinkedInvoices=true", ErrInvalidQueryParameter, "viewLinkedInvoices"},
		{"ErrStatusUnknown", "statusNames=OPEN", ErrInvalidQueryParameter, "statusNames"},
		{"ErrStatusLowerCase", "statusNames=paid", ErrInvalidQueryParameter, "statusNames"},
		{"ErrStatusCommaList", "statusNames=PAID,FREE", ErrInvalidQueryParameter, "statusNames"},
		{"ErrStatusTwice", "statusNames=PAID&statusNames=PAID", ErrInvalidQueryParameter, "statusNames"},
		{"ErrStatusEmpty", "statusNames=", ErrInvalidQueryParameter, "statusNames"},
		{"ErrFromDateFormat", "fromDate=01/01/2024", ErrInvalidQueryParameter, "fromDate"},
		{"ErrFromDateTimestamp", "fromDate=2024-01-01T00:00:00Z", ErrInvalidQueryParameter, "fromDate"},
		{"ErrToDateImpossible", "toDate=2024-02-30", ErrInvalidQueryParameter, "toDate"},
		{"ErrToDateBefore1970", "toDate=1969-12-31", ErrInvalidQueryParameter, "toDate"},
		{"ErrToDateTwice", "toDate=2024-02-01&toDate=2024-03-01", ErrInvalidQueryParameter, "toDate"},
		{"ErrFromAfterTo", "fromDate=2024-03-01&toDate=2024-02-01", ErrStartDateAfterEndDate, "toDate"},
		{"ErrSortBy", "sortBy=CREATED", ErrInvalidQueryParameter, "sortBy"},
		{"ErrSortByLowerCase", "sortBy=end_date", ErrInvalidQueryParameter, "sortBy"},
		{"ErrOrderBy", "orderBy=DESC", ErrInvalidQueryParameter, "orderBy"},
		{"ErrOrderByTwice", "orderBy=asc&orderBy=desc", ErrInvalidQueryParameter, "orderBy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := ParseInvoiceListQuery(invOrg, v)
			var e *Error
			if !errors.As(err, &e) || q != nil {
				t.Fatalf("= %+v, %v; want an *Error", q, err)
			}
			if e.Code != tc.code || len(e.Params) == 0 || e.Params[0] != tc.param || e.Detail == "" {
				t.Fatalf("error %#v, want code %s naming %s", e, tc.code, tc.param)
			}
		})
	}
}

func TestInvoiceListQueryApply(t *testing.T) {
	var invs []*Invoice
	for m := MakeMonth(2024, time.January); m <= MakeMonth(2024, time.June); m++ {
		inv := NewInvoice(invOrg, m, m.Start())
		if m != MakeMonth(2024, time.March) {
			inv.Amounts.Add(1000)
		}
		invs = append(invs, inv)
	}
	now := time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC)
	parse := func(s string) *InvoiceListQuery {
		v, _ := url.ParseQuery(s)
		q, err := ParseInvoiceListQuery(invOrg, v)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	months := func(page []*Invoice) string {
		var out []string
		for _, inv := range page {
			out = append(out, inv.Month.String())
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		name, query, want string
		total             int
	}{
		{"NewestFirstByDefault", "", "2024-06 2024-05 2024-04 2024-03 2024-02 2024-01", 6},
		{"Ascending", "orderBy=asc&sortBy=START_DATE", "2024-01 2024-02 2024-03 2024-04 2024-05 2024-06", 6},
		{"Paged", "orderBy=asc&itemsPerPage=4&pageNum=2", "2024-05 2024-06", 6},
		{"PastTheEnd", "itemsPerPage=4&pageNum=3", "", 6},
		{"FromDateInclusive", "fromDate=2024-05-01", "2024-06 2024-05", 2},
		{"ToDateIsTheEndDate", "toDate=2024-02-01", "2024-01", 1},
		{"ToDateMidMonth", "toDate=2024-02-15", "2024-01", 1},
		{"Statuses", "statusNames=FREE&statusNames=PENDING", "2024-06 2024-03", 2},
		{"StatusNoMatch", "statusNames=PAID", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, total := parse(tc.query).Apply(invs, now)
			if got := months(page); got != tc.want || total != tc.total {
				t.Fatalf("page %q of %d, want %q of %d", got, total, tc.want, tc.total)
			}
		})
	}
}

func TestParseLineItemSearch(t *testing.T) {
	t.Run("EmptyObjectIsEverything", func(t *testing.T) {
		s, err := ParseLineItemSearch([]byte(" {} "))
		if err != nil {
			t.Fatal(err)
		}
		if s.SortField != SortBillDates || s.SortOrder != SortDescending || s.IncludeZeroCents || s.BillStart != nil || s.ClusterIDs != nil {
			t.Fatalf("%+v", s)
		}
	})
	t.Run("Everything", func(t *testing.T) {
		s, err := ParseLineItemSearch([]byte(`{"filters":{"billStartDate":"2024-06-01","billEndDate":"2024-06-30",
			"usageStartDate":"2024-06-02","usageEndDate":"2024-06-02","clusterIds":["bbbbbbbbbbbbbbbbbbbbbbbb","aaaaaaaaaaaaaaaaaaaaaaaa"],
			"groupIds":["cccccccccccccccccccccccc"],"skuServices":["Support","Clusters"],"includeZeroCentLineItems":true},
			"sortField":"TOTAL_PRICE_CENTS","sortOrder":"ASCENDING"}`))
		if err != nil {
			t.Fatal(err)
		}
		if s.BillStart.String() != "2024-06-01" || s.BillEnd.String() != "2024-06-30" || s.UsageStart.String() != "2024-06-02" ||
			s.ClusterIDs[0] != "aaaaaaaaaaaaaaaaaaaaaaaa" || len(s.GroupIDs) != 1 || !slices.Equal(s.Services, []Service{ServiceClusters, ServiceSupport}) ||
			!s.IncludeZeroCents || s.SortField != SortTotalPriceCents || s.SortOrder != SortAscending {
			t.Fatalf("%+v", s)
		}
	})
	t.Run("NullsAreAbsent", func(t *testing.T) {
		if _, err := ParseLineItemSearch([]byte(`{"filters":null,"sortField":null}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseLineItemSearch([]byte(`{"filters":{"clusterIds":null,"billStartDate":null}}`)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseLineItemSearchErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, code, field string
	}{
		{"ErrEmptyBody", "", ErrMalformedJSON, ""},
		{"ErrNotJSON", "{", ErrMalformedJSON, ""},
		{"ErrArray", "[]", ErrMalformedJSON, ""},
		{"ErrTrailing", "{} {}", ErrMalformedJSON, ""},
		{"ErrUnknownTop", `{"limit":5}`, ErrInvalidAttribute, "limit"},
		{"ErrUnknownFilter", `{"filters":{"projectIds":[]}}`, ErrInvalidAttribute, "filters.projectIds"},
		{"ErrDuplicateKey", `{"sortOrder":"ASCENDING","sortOrder":"DESCENDING"}`, ErrInvalidAttribute, "sortOrder"},
		{"ErrDuplicateFilterKey", `{"filters":{"groupIds":[],"groupIds":[]}}`, ErrInvalidAttribute, "filters.groupIds"},
		{"ErrFiltersNotObject", `{"filters":[]}`, ErrInvalidJSONAttribute, "filters"},
		{"ErrSortFieldUnknown", `{"sortField":"NAME"}`, ErrInvalidEnumValue, "sortField"},
		{"ErrSortFieldLowerCase", `{"sortField":"bill_dates"}`, ErrInvalidEnumValue, "sortField"},
		{"ErrSortFieldNumber", `{"sortField":1}`, ErrInvalidJSONAttribute, "sortField"},
		{"ErrSortOrder", `{"sortOrder":"desc"}`, ErrInvalidEnumValue, "sortOrder"},
		{"ErrDateFormat", `{"filters":{"billStartDate":"06/01/2024"}}`, ErrInvalidDateFormat, "filters.billStartDate"},
		{"ErrDateTimestamp", `{"filters":{"usageEndDate":"2024-06-01T00:00:00Z"}}`, ErrInvalidDateFormat, "filters.usageEndDate"},
		{"ErrDateNotString", `{"filters":{"usageStartDate":20240601}}`, ErrInvalidJSONAttribute, "filters.usageStartDate"},
		{"ErrBillStartAfterEnd", `{"filters":{"billStartDate":"2024-06-02","billEndDate":"2024-06-01"}}`, ErrStartDateAfterEndDate, "filters.billEndDate"},
		{"ErrUsageStartAfterEnd", `{"filters":{"usageStartDate":"2024-06-02","usageEndDate":"2024-06-01"}}`, ErrStartDateAfterEndDate, "filters.usageEndDate"},
		{"ErrClusterID", `{"filters":{"clusterIds":["nope"]}}`, ErrValidation, "filters.clusterIds[0]"},
		{"ErrClusterIDsNotArray", `{"filters":{"clusterIds":"aaaaaaaaaaaaaaaaaaaaaaaa"}}`, ErrInvalidJSONAttribute, "filters.clusterIds"},
		{"ErrGroupIDRepeated", `{"filters":{"groupIds":["aaaaaaaaaaaaaaaaaaaaaaaa","aaaaaaaaaaaaaaaaaaaaaaaa"]}}`, ErrValidation, "filters.groupIds[1]"},
		{"ErrServiceUnknown", `{"filters":{"skuServices":["Compute"]}}`, ErrInvalidEnumValue, "filters.skuServices[0]"},
		{"ErrServiceOldAlias", `{"filters":{"skuServices":["AI Models"]}}`, ErrInvalidEnumValue, "filters.skuServices[0]"},
		{"ErrServiceRepeated", `{"filters":{"skuServices":["Support","Support"]}}`, ErrValidation, "filters.skuServices[1]"},
		{"ErrIncludeZeroNotBool", `{"filters":{"includeZeroCentLineItems":"true"}}`, ErrInvalidJSONAttribute, "filters.includeZeroCentLineItems"},
		{"ErrTooManyIDs", `{"filters":{"groupIds":[` + strings.Repeat(`"x",`, DefaultMaxFilterValues) + `"x"]}}`, ErrValidation, "filters.groupIds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseLineItemSearch([]byte(tc.body))
			var e *Error
			if !errors.As(err, &e) || s != nil {
				t.Fatalf("= %+v, %v; want an *Error", s, err)
			}
			field := ""
			if len(e.Fields) > 0 {
				field = e.Fields[0].Field
			}
			if e.Code != tc.code || field != tc.field || e.Detail == "" {
				t.Fatalf("error %#v, want code %s on field %q", e, tc.code, tc.field)
			}
		})
	}
}

func TestLineItemSearchMatchesAndOrders(t *testing.T) {
	lines := testLines()
	zero := lines[3]
	zero.ID, zero.Amount = NewLineItemID("zero"), 0
	lines = append(lines, zero)
	search := func(body string) []string {
		s, err := ParseLineItemSearch([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		var got []*LineItem
		for i := range lines {
			if s.Matches(&lines[i].LineItem) {
				got = append(got, &lines[i].LineItem)
			}
		}
		slices.SortFunc(got, s.Compare)
		var out []string
		for _, li := range got {
			out = append(out, li.SKU+"@"+li.Amount.Dollars())
		}
		return out
	}
	for _, tc := range []struct{ name, body, want string }{
		{"DefaultBillDateDescendingNoZero", `{}`, "ATLAS_GCP_BI_CONNECTOR@1.46 ATLAS_AWS_INSTANCE_M30@12.96 CREDIT@-500.00 ATLAS_SUPPORT_ENTERPRISE@4000.00"},
		{"IncludeZero", `{"filters":{"includeZeroCentLineItems":true},"sortField":"TOTAL_PRICE_CENTS","sortOrder":"ASCENDING"}`, "CREDIT@-500.00 ATLAS_SUPPORT_ENTERPRISE@0.00 ATLAS_GCP_BI_CONNECTOR@1.46 ATLAS_AWS_INSTANCE_M30@12.96 ATLAS_SUPPORT_ENTERPRISE@4000.00"},
		{"Cluster", `{"filters":{"clusterIds":["` + invCluster + `"]},"sortField":"USAGE_DATES","sortOrder":"ASCENDING"}`, "ATLAS_AWS_INSTANCE_M30@12.96 ATLAS_GCP_BI_CONNECTOR@1.46"},
		{"BillDateUsesUsageDayWhenUnset", `{"filters":{"billStartDate":"2024-06-02","billEndDate":"2024-06-02"}}`, "ATLAS_AWS_INSTANCE_M30@12.96"},
		{"UsageDates", `{"filters":{"usageStartDate":"2024-06-30"}}`, "ATLAS_GCP_BI_CONNECTOR@1.46"},
		{"Services", `{"filters":{"skuServices":["Credits","Support"]},"sortField":"TOTAL_PRICE_CENTS"}`, "ATLAS_SUPPORT_ENTERPRISE@4000.00 CREDIT@-500.00"},
		{"Group", `{"filters":{"groupIds":["` + invProject + `"]}}`, "ATLAS_GCP_BI_CONNECTOR@1.46 ATLAS_AWS_INSTANCE_M30@12.96"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(search(tc.body), " "); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// FuzzParseLineItemSearch: never a panic; a rejection is an *Error with a
// documented (4xx) code and a detail; an accepted search is canonical and
// parses the same way twice.
func FuzzParseLineItemSearch(f *testing.F) {
	for _, s := range []string{
		`{}`, ``, `null`, `[]`, `{"filters":{}}`, `{"filters":null}`,
		`{"filters":{"billStartDate":"2024-06-01","billEndDate":"2024-06-30","clusterIds":["aaaaaaaaaaaaaaaaaaaaaaaa"],"skuServices":["Clusters"],"includeZeroCentLineItems":false},"sortField":"USAGE_DATES","sortOrder":"ASCENDING"}`,
		`{"sortOrder":"ASCENDING","sortOrder":"ASCENDING"}`, `{"filters":{"groupIds":["a","a"]}}`, `{"filters":[{}]}`,
		"{\"filters\":{\"usageStartDate\":\"\xff\"}}", `{} x`, `{"filters":{"usageEndDate":"1969-12-31"}}`,
	} {
		f.Add(s)
	}
	codes := map[string]bool{ErrMalformedJSON: true, ErrInvalidAttribute: true, ErrInvalidJSONAttribute: true,
		ErrInvalidEnumValue: true, ErrInvalidDateFormat: true, ErrStartDateAfterEndDate: true, ErrValidation: true}
	f.Fuzz(func(t *testing.T, body string) {
		s, err := ParseLineItemSearch([]byte(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !codes[e.Code] || e.Detail == "" || s != nil {
				t.Fatalf("rejection %#v (%T)", err, err)
			}
			return
		}
		for _, ids := range [][]string{s.ClusterIDs, s.GroupIDs} {
			for i, id := range ids {
				if !IsID(id) || (i > 0 && ids[i-1] >= id) {
					t.Fatalf("ids not valid, sorted and unique: %q", ids)
				}
			}
		}
		for i, sv := range s.Services {
			if !slices.Contains(Services, sv) || (i > 0 && s.Services[i-1] >= sv) {
				t.Fatalf("services %q", s.Services)
			}
		}
		for _, r := range [][2]*Day{{s.BillStart, s.BillEnd}, {s.UsageStart, s.UsageEnd}} {
			if r[0] != nil && r[1] != nil && *r[0] > *r[1] {
				t.Fatalf("start after end accepted")
			}
		}
		again, err := ParseLineItemSearch([]byte(body))
		if err != nil || again.SortField != s.SortField || again.SortOrder != s.SortOrder || !slices.Equal(again.ClusterIDs, s.ClusterIDs) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}

// FuzzParseInvoiceListQuery: never a panic; a rejection is an *Error naming
// its parameter; an accepted query is within the documented bounds.
func FuzzParseInvoiceListQuery(f *testing.F) {
	for _, s := range []string{
		"", "includeCount=true&itemsPerPage=100&orderBy=desc&pageNum=1&sortBy=END_DATE&viewLinkedInvoices=true",
		"statusNames=PAID&statusNames=FREE", "fromDate=2024-03-01&toDate=2024-02-01", "itemsPerPage=0500", "pageNum=%2B1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseInvoiceListQuery(invOrg, v)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Code != ErrInvalidQueryParameter && e.Code != ErrStartDateAfterEndDate) || len(e.Params) != 2 {
				t.Fatalf("rejection %#v", err)
			}
			return
		}
		if q.Page.ItemsPerPage < 1 || q.Page.ItemsPerPage > MaxItemsPerPage || q.Page.PageNum < 1 || q.Page.Offset() < 0 {
			t.Fatalf("page %+v", q.Page)
		}
		if q.From != nil && q.To != nil && *q.From > *q.To {
			t.Fatal("fromDate after toDate accepted")
		}
		for _, st := range q.Statuses {
			if _, ok := ParseInvoiceStatus(string(st)); !ok {
				t.Fatalf("status %q", st)
			}
		}
	})
}
