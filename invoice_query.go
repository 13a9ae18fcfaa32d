package costexplorer

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Paging bounds of the Atlas list operations.
const (
	DefaultItemsPerPage = 100
	MaxItemsPerPage     = 500
	MaxPageNum          = math.MaxInt32
)

// PageRequest is the paging of a list operation: itemsPerPage (1–500,
// default 100), pageNum (≥ 1, default 1) and includeCount (default true).
type PageRequest struct {
	ItemsPerPage int
	PageNum      int
	IncludeCount bool
}

// DefaultPage is the paging of a request that names none.
func DefaultPage() PageRequest {
	return PageRequest{ItemsPerPage: DefaultItemsPerPage, PageNum: 1, IncludeCount: true}
}

// Offset is the number of items before the page, bounded so that it cannot
// overflow (a page that far is empty anyway).
func (p PageRequest) Offset() int {
	return int(min(int64(p.PageNum-1)*int64(p.ItemsPerPage), math.MaxInt32))
}

// QueryParameterError is the error of a bad query parameter: the parameter
// and the value are its parameters, why ends the detail.
func QueryParameterError(name, value, why string) *Error {
	return &Error{
		Code:   ErrInvalidQueryParameter,
		Detail: "Invalid query parameter " + name + ": " + why,
		Params: []any{name, value},
	}
}

// ParsePageRequest reads itemsPerPage, pageNum and includeCount from q;
// errors are ErrInvalidQueryParameter.
func ParsePageRequest(q url.Values) (PageRequest, error) {
	p := DefaultPage()
	var err error
	if p.ItemsPerPage, err = intQueryParam(q, "itemsPerPage", DefaultItemsPerPage, 1, MaxItemsPerPage); err != nil {
		return p, err
	}
	if p.PageNum, err = intQueryParam(q, "pageNum", 1, 1, MaxPageNum); err != nil {
		return p, err
	}
	if p.IncludeCount, err = boolQueryParam(q, "includeCount", true); err != nil {
		return p, err
	}
	return p, nil
}

// singleQueryParam returns the one value of name; a repeated parameter is
// an error.
func singleQueryParam(q url.Values, name string) (string, bool, error) {
	vals, ok := q[name]
	if !ok {
		return "", false, nil
	}
	if len(vals) != 1 {
		return "", false, QueryParameterError(name, strings.Join(vals, ","), "give it once.")
	}
	return vals[0], true, nil
}

// intQueryParam reads a decimal integer in [lo, hi]: digits only, no sign.
func intQueryParam(q url.Values, name string, def, lo, hi int) (int, error) {
	v, ok, err := singleQueryParam(q, name)
	if err != nil || !ok {
		return def, err
	}
	bad := QueryParameterError(name, v, fmt.Sprintf("use an integer from %d to %d.", lo, hi))
	if v == "" || len(v) > 10 || !allDigits(v) {
		return 0, bad
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, bad
	}
	return n, nil
}

// boolQueryParam reads true or false, lower-case.
func boolQueryParam(q url.Values, name string, def bool) (bool, error) {
	v, ok, err := singleQueryParam(q, name)
	if err != nil || !ok {
		return def, err
	}
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, QueryParameterError(name, v, "use true or false.")
}

// enumQueryParam reads one of allowed, exact and case-sensitive; hint says
// what to use instead of anything else.
func enumQueryParam[T ~string](q url.Values, name string, def T, hint string, allowed ...T) (T, error) {
	v, ok, err := singleQueryParam(q, name)
	if err != nil || !ok {
		return def, err
	}
	if !slices.Contains(allowed, T(v)) {
		return def, QueryParameterError(name, v, hint)
	}
	return T(v), nil
}

// parseDay reads a date YYYY-MM-DD of the years 1970 to 9999.
func parseDay(s string) (Day, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1970 {
		return 0, false
	}
	return DayOf(t), true
}

// InvoiceSortField is the sortBy of listInvoices.
type InvoiceSortField string

// The sortBy values.
const (
	InvoiceSortStartDate InvoiceSortField = "START_DATE"
	InvoiceSortEndDate   InvoiceSortField = "END_DATE"
)

// SortOrder is the orderBy of listInvoices.
type SortOrder string

// The orderBy values.
const (
	SortAsc  SortOrder = "asc"
	SortDesc SortOrder = "desc"
)

// InvoiceListQuery is a validated listInvoices request for one organization.
// From and To, when set, bound the invoices to those whose period starts on
// or after From and ends on or before To (00:00Z of those days: the invoice
// of June 2024 ends 2024-07-01, so toDate=2024-07-01 includes it). Statuses,
// when not empty, keeps the invoices whose status on the request's date is
// one of them.
type InvoiceListQuery struct {
	OrgID              string
	ViewLinkedInvoices bool
	Statuses           []InvoiceStatus
	From, To           *Day
	SortBy             InvoiceSortField
	OrderBy            SortOrder
	Page               PageRequest
}

// ParseInvoiceListQuery reads the query parameters of listInvoices
// (viewLinkedInvoices, statusNames, fromDate, toDate, sortBy, orderBy,
// itemsPerPage, pageNum, includeCount). Errors are ErrInvalidQueryParameter
// naming the parameter and its value, and ErrStartDateAfterEndDate when
// fromDate is after toDate.
//
// Where the specification is silent the stricter reading is taken, so that a
// client that works here works against Atlas too:
//
//   - a parameter other than statusNames given twice is an error; parameters
//     this operation does not know are ignored (envelope and pretty belong
//     to every operation, and Atlas ignores unknown ones);
//   - statusNames repeats (statusNames=PAID&statusNames=FREE); a value is one
//     status, exact and case-sensitive ("PAID,FREE" and "paid" are errors);
//     a status named twice is an error (the schema says uniqueItems);
//   - sortBy and orderBy are exact and case-sensitive (END_DATE, desc);
//   - booleans are true or false, lower-case;
//   - integers are plain digits: no sign, no spaces, at most 10 digits;
//   - dates are YYYY-MM-DD of the years 1970 to 9999, nothing else;
//     fromDate after toDate is an error rather than an empty list.
func ParseInvoiceListQuery(orgID string, q url.Values) (*InvoiceListQuery, error) {
	out := &InvoiceListQuery{OrgID: orgID, SortBy: InvoiceSortEndDate, OrderBy: SortDesc}
	var err error
	if out.Page, err = ParsePageRequest(q); err != nil {
		return nil, err
	}
	if out.ViewLinkedInvoices, err = boolQueryParam(q, "viewLinkedInvoices", true); err != nil {
		return nil, err
	}
	for _, v := range q["statusNames"] {
		st, ok := ParseInvoiceStatus(v)
		if !ok {
			return nil, QueryParameterError("statusNames", v, "use one of "+joinStatuses()+", one status per parameter.")
		}
		if slices.Contains(out.Statuses, st) {
			return nil, QueryParameterError("statusNames", v, "name each status once.")
		}
		out.Statuses = append(out.Statuses, st)
	}
	for _, d := range []struct {
		name string
		dst  **Day
	}{{"fromDate", &out.From}, {"toDate", &out.To}} {
		v, ok, err := singleQueryParam(q, d.name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		day, ok := parseDay(v)
		if !ok {
			return nil, QueryParameterError(d.name, v, "use a date YYYY-MM-DD.")
		}
		*d.dst = &day
	}
	if out.From != nil && out.To != nil && *out.From > *out.To {
		return nil, &Error{
			Code:   ErrStartDateAfterEndDate,
			Detail: fmt.Sprintf("fromDate %s is after toDate %s.", out.From, out.To),
			Params: []any{"toDate", out.To.String()},
		}
	}
	if out.SortBy, err = enumQueryParam(q, "sortBy", out.SortBy, "use START_DATE or END_DATE.", InvoiceSortStartDate, InvoiceSortEndDate); err != nil {
		return nil, err
	}
	if out.OrderBy, err = enumQueryParam(q, "orderBy", out.OrderBy, "use asc or desc.", SortAsc, SortDesc); err != nil {
		return nil, err
	}
	return out, nil
}

func joinStatuses() string {
	names := make([]string, len(InvoiceStatuses))
	for i, s := range InvoiceStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Matches reports whether inv passes the query's date and status filters on
// date now.
func (q *InvoiceListQuery) Matches(inv *Invoice, now time.Time) bool {
	if q.From != nil && inv.StartDate().Before(q.From.Time()) {
		return false
	}
	if q.To != nil && inv.EndDate().After(q.To.Time()) {
		return false
	}
	return len(q.Statuses) == 0 || slices.Contains(q.Statuses, inv.StatusAt(now))
}

// Compare orders invoices as the query asks: by start or end date, ascending
// or descending; equal dates order by id, so that pages are stable.
func (q *InvoiceListQuery) Compare(a, b *Invoice) int {
	c := a.Month.Start().Compare(b.Month.Start()) // start and end order alike
	if c == 0 {
		c = cmp.Compare(a.ID, b.ID)
	}
	if q.OrderBy == SortDesc {
		return -c
	}
	return c
}

// Apply filters invs (an organization's invoices) on date now, sorts them
// and returns the requested page and the number of matches.
func (q *InvoiceListQuery) Apply(invs []*Invoice, now time.Time) (page []*Invoice, total int) {
	var match []*Invoice
	for _, inv := range invs {
		if q.Matches(inv, now) {
			match = append(match, inv)
		}
	}
	slices.SortFunc(match, q.Compare)
	off := min(q.Page.Offset(), len(match))
	end := min(off+q.Page.ItemsPerPage, len(match))
	return match[off:end], len(match)
}
