package costexplorer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// GroupBy is the dimension a cost-explorer query groups its rows by. The zero
// value means no grouping: rows at the finest detail.
type GroupBy string

// The groupBy values of the contract.
const (
	GroupByNone          GroupBy = ""
	GroupByOrganizations GroupBy = "organizations"
	GroupByProjects      GroupBy = "projects"
	GroupByClusters      GroupBy = "clusters"
	GroupByServices      GroupBy = "services"
)

// DefaultHistoryMonths is how far back a query may reach by default: Atlas
// serves billing data of the past 18 months, the current month included.
const DefaultHistoryMonths = 18

// Query is a validated cost-explorer query for one organization. Start is
// inclusive and End exclusive. Filter lists are sorted and free of
// duplicates, so equal queries have equal canonical forms.
type Query struct {
	OrgID                 string    `json:"orgId"`
	Start                 Month     `json:"-"`
	End                   Month     `json:"-"`
	Organizations         []string  `json:"organizations,omitempty"`
	Projects              []string  `json:"projects,omitempty"`
	Clusters              []string  `json:"clusters,omitempty"`
	Services              []Service `json:"services,omitempty"`
	GroupBy               GroupBy   `json:"groupBy,omitempty"`
	IncludePartialMatches bool      `json:"includePartialMatches,omitempty"`
}

// QueryLimits are the server-side bounds a query is validated against.
// HistoryMonths is how many months back (the current month included) a query
// may start; MaxFilterValues bounds each filter list.
type QueryLimits struct {
	Now             time.Time
	HistoryMonths   int
	MaxFilterValues int
}

// DefaultMaxFilterValues bounds each filter list of a query.
const DefaultMaxFilterValues = 1000

// QueryRequestBody is a CostExplorerFilterRequestBody as it travels:
// startDate (inclusive) and endDate (exclusive) as first days of months, and
// the filters. The Go client and the web explorer write it;
// ParseQueryRequest reads the same fields one by one, so that each bad field
// gets its own Atlas error.
type QueryRequestBody struct {
	StartDate             string    `json:"startDate"`
	EndDate               string    `json:"endDate"`
	Organizations         []string  `json:"organizations,omitempty"`
	Projects              []string  `json:"projects,omitempty"`
	Clusters              []string  `json:"clusters,omitempty"`
	Services              []Service `json:"services,omitempty"`
	GroupBy               GroupBy   `json:"groupBy,omitempty"`
	IncludePartialMatches bool      `json:"includePartialMatches,omitempty"`
}

// queryFields are the accepted body fields; anything else is rejected
// ("Invalid fields are rejected rather than ignored").
var queryFields = []string{"startDate", "endDate", "organizations", "projects", "clusters", "services", "groupBy", "includePartialMatches"}

// ParseQueryRequest decodes and validates a CostExplorerFilterRequestBody for
// orgID. It returns an *Error whose code is one of ErrMalformedJSON,
// ErrInvalidJSONAttribute, ErrInvalidAttribute, ErrMissingAttribute,
// ErrInvalidEnumValue, ErrInvalidDateFormat, ErrStartDateAfterEndDate,
// ErrInvalidDateRange or ErrValidation, naming the offending field.
func ParseQueryRequest(orgID string, body []byte, lim QueryLimits) (*Query, error) {
	if lim.HistoryMonths <= 0 {
		lim.HistoryMonths = DefaultHistoryMonths
	}
	if lim.MaxFilterValues <= 0 {
		lim.MaxFilterValues = DefaultMaxFilterValues
	}
	raw, err := decodeObject(body, "")
	if err != nil {
		return nil, err
	}
	if err := checkFields(raw, queryFields, ""); err != nil {
		return nil, err
	}

	q := &Query{OrgID: orgID}
	if q.Start, err = parseMonthField(raw, "startDate"); err != nil {
		return nil, err
	}
	if q.End, err = parseMonthField(raw, "endDate"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"organizations", &q.Organizations}, {"projects", &q.Projects}, {"clusters", &q.Clusters}} {
		ids, err := parseStringList(raw, f.name, f.name, lim.MaxFilterValues)
		if err == nil {
			err = checkIDs(f.name, ids)
		}
		if err != nil {
			return nil, err
		}
		*f.dst = canonicalStrings(ids)
	}
	names, err := parseStringList(raw, "services", "services", lim.MaxFilterValues)
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		s, ok := ParseService(n)
		if !ok {
			field := fmt.Sprintf("services[%d]", i)
			return nil, FieldError(ErrInvalidEnumValue, field, fmt.Sprintf("Invalid enumeration value %q for %s.", n, field))
		}
		q.Services = append(q.Services, s)
	}
	slices.Sort(q.Services)
	q.Services = slices.Compact(q.Services)

	if v, ok := raw["groupBy"]; ok && !isNull(v) {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, FieldError(ErrInvalidJSONAttribute, "groupBy", "Invalid JSON attribute groupBy: expected a string.")
		}
		switch g := GroupBy(s); g {
		case GroupByOrganizations, GroupByProjects, GroupByClusters, GroupByServices:
			q.GroupBy = g
		default:
			return nil, FieldError(ErrInvalidEnumValue, "groupBy", fmt.Sprintf("Invalid enumeration value %q for groupBy: use organizations, projects, clusters or services.", s))
		}
	}
	if v, ok := raw["includePartialMatches"]; ok && !isNull(v) {
		if json.Unmarshal(v, &q.IncludePartialMatches) != nil {
			return nil, FieldError(ErrInvalidJSONAttribute, "includePartialMatches", "Invalid JSON attribute includePartialMatches: expected a boolean.")
		}
	}
	if err := q.Validate(lim); err != nil {
		return nil, err
	}
	return q, nil
}

// Validate checks the rules that involve more than one field, and the date
// window relative to lim.Now.
func (q *Query) Validate(lim QueryLimits) error {
	if lim.HistoryMonths <= 0 {
		lim.HistoryMonths = DefaultHistoryMonths
	}
	if q.End <= q.Start {
		return FieldError(ErrStartDateAfterEndDate, "endDate", fmt.Sprintf("endDate %s must be after startDate %s.", q.End.Date(), q.Start.Date()))
	}
	current := MonthOf(lim.Now)
	earliest := current - Month(lim.HistoryMonths-1)
	if q.Start < earliest {
		return FieldError(ErrInvalidDateRange, "startDate", fmt.Sprintf("startDate %s is outside the billing data window: the earliest allowed start is %s (the past %d months).", q.Start.Date(), earliest.Date(), lim.HistoryMonths))
	}
	if q.End > current+1 {
		return FieldError(ErrInvalidDateRange, "endDate", fmt.Sprintf("endDate %s is outside the billing data window: the latest allowed end is %s.", q.End.Date(), (current+1).Date()))
	}
	var dimValues int
	switch q.GroupBy {
	case GroupByOrganizations:
		dimValues = len(q.Organizations)
	case GroupByProjects:
		dimValues = len(q.Projects)
	case GroupByClusters:
		dimValues = len(q.Clusters)
	case GroupByServices:
		dimValues = len(q.Services)
	default:
		dimValues = 1
	}
	if dimValues == 0 {
		return FieldError(ErrValidation, "groupBy", fmt.Sprintf("groupBy %s needs at least one value in the %s filter.", q.GroupBy, q.GroupBy))
	}
	return nil
}

// Months returns the months of the window in order.
func (q *Query) Months() []Month {
	out := make([]Month, 0, q.End-q.Start)
	for m := q.Start; m < q.End; m++ {
		out = append(out, m)
	}
	return out
}

// MarshalJSON writes the canonical form of the query (dates as YYYY-MM-DD).
func (q *Query) MarshalJSON() ([]byte, error) {
	type plain Query
	return json.Marshal(struct {
		StartDate string `json:"startDate"`
		EndDate   string `json:"endDate"`
		*plain
	}{q.Start.Date(), q.End.Date(), (*plain)(q)})
}

// UnmarshalJSON reads the canonical form written by MarshalJSON.
func (q *Query) UnmarshalJSON(b []byte) error {
	type plain Query
	aux := struct {
		StartDate string `json:"startDate"`
		EndDate   string `json:"endDate"`
		*plain
	}{plain: (*plain)(q)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	s, err := time.Parse(time.DateOnly, aux.StartDate)
	if err != nil {
		return err
	}
	e, err := time.Parse(time.DateOnly, aux.EndDate)
	if err != nil {
		return err
	}
	q.Start, q.End = MonthOf(s), MonthOf(e)
	return nil
}

// Token returns the query's 64-hex token on the given data version: SHA-256
// over the organization, the canonical request and the version (DESIGN §1.2).
// The same query on the same data always has the same token.
func (q *Query) Token(dataVersion int64) string {
	canon, _ := q.MarshalJSON()
	h := sha256.New()
	h.Write([]byte(q.OrgID))
	h.Write([]byte{0})
	h.Write(canon)
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(dataVersion, 10)))
	return hex.EncodeToString(h.Sum(nil))
}

// IsToken reports whether s has the form of a query token: 64 lower-case hex
// characters.
func IsToken(s string) bool { return isLowerHex(s, 64) }

// isLowerHex reports whether s is n lower-case hexadecimal characters.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !lowerHex[s[i]] {
			return false
		}
	}
	return true
}

// lowerHex tells the bytes of lowercase hexadecimal: one load a byte, no
// branch on its range (ids are checked on every imported row).
var lowerHex = [256]bool{
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true,
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func parseMonthField(raw map[string]json.RawMessage, name string) (Month, error) {
	s, err := requiredString(raw, name, "", dateString)
	if err != nil {
		return 0, err
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, FieldError(ErrInvalidDateFormat, name, fmt.Sprintf("Invalid date %q for %s: expected YYYY-MM-DD.", s, name))
	}
	if t.Day() != 1 {
		return 0, FieldError(ErrValidation, name, fmt.Sprintf("%s %s must be the first day of a month.", name, s))
	}
	return MonthOf(t), nil
}

// checkIDs checks that each of ids, the array at field, is an id.
func checkIDs(field string, ids []string) error {
	for i, id := range ids {
		if !IsID(id) {
			at := fmt.Sprintf("%s[%d]", field, i)
			return FieldError(ErrValidation, at, fmt.Sprintf("Invalid value %q for %s: an id is 24 lower-case hexadecimal characters.", id, at))
		}
	}
	return nil
}

// parseStringList reads member name of raw, absent or null meaning none, as
// an array of at most max strings; errors name it field (the member's path in
// the body).
func parseStringList(raw map[string]json.RawMessage, name, field string, max int) ([]string, error) {
	v, ok := raw[name]
	if !ok || isNull(v) {
		return nil, nil
	}
	var list []string
	if json.Unmarshal(v, &list) != nil {
		return nil, FieldError(ErrInvalidJSONAttribute, field, fmt.Sprintf("Invalid JSON attribute %s: expected an array of strings.", field))
	}
	if len(list) > max {
		return nil, FieldError(ErrValidation, field, fmt.Sprintf("%s has %d values; at most %d are allowed.", field, len(list), max))
	}
	return list, nil
}

func canonicalStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
