package costexplorer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// LineItemSortField is the sortField of a line-item search.
type LineItemSortField string

// The sortField values.
const (
	SortUsageDates      LineItemSortField = "USAGE_DATES"
	SortBillDates       LineItemSortField = "BILL_DATES"
	SortTotalPriceCents LineItemSortField = "TOTAL_PRICE_CENTS"
)

// LineItemSortOrder is the sortOrder of a line-item search.
type LineItemSortOrder string

// The sortOrder values.
const (
	SortAscending  LineItemSortOrder = "ASCENDING"
	SortDescending LineItemSortOrder = "DESCENDING"
)

// LineItemSearch is a validated lineItems:search body
// (ApiPublicUsageDetailsQueryRequest). The date bounds are inclusive days,
// nil when absent; the id and service lists are sorted, empty when absent.
type LineItemSearch struct {
	BillStart, BillEnd   *Day
	UsageStart, UsageEnd *Day
	ClusterIDs           []string
	GroupIDs             []string
	Services             []Service
	IncludeZeroCents     bool
	SortField            LineItemSortField
	SortOrder            LineItemSortOrder
}

var (
	searchFields = []string{"filters", "sortField", "sortOrder"}
	filterFields = []string{"billStartDate", "billEndDate", "usageStartDate", "usageEndDate", "clusterIds", "groupIds", "skuServices", "includeZeroCentLineItems"}
)

// ParseLineItemSearch decodes and validates a lineItems:search body. Errors
// are *Error with code ErrMalformedJSON, ErrInvalidAttribute,
// ErrInvalidJSONAttribute, ErrInvalidEnumValue, ErrInvalidDateFormat,
// ErrStartDateAfterEndDate or ErrValidation, naming the field
// ("filters.clusterIds[2]").
//
// Where the specification is silent the stricter reading is taken:
//
//   - the body is one JSON object; an empty body is malformed (the
//     specification marks it required: send {} for every line item), and so
//     is anything after the object;
//   - an attribute the schema does not name, at the top or inside filters, is
//     rejected (INVALID_ATTRIBUTE), and so is an attribute given twice;
//   - null means absent; a value of the wrong JSON type is
//     INVALID_JSON_ATTRIBUTE;
//   - sortField, sortOrder and skuServices are exact, case-sensitive enum
//     values; skuServices are the schema's names (the older "AI Models" is
//     not one);
//   - clusterIds and groupIds are 24 lower-case hex ids; a value repeated in
//     one list is an error (the schema says uniqueItems); a list holds at
//     most DefaultMaxFilterValues values;
//   - dates are YYYY-MM-DD of the years 1970 to 9999; a start after its end
//     is an error rather than an empty page;
//   - defaults: every line item with a non-zero amount
//     (includeZeroCentLineItems false), sorted by bill date (BILL_DATES),
//     descending, as the specification states.
func ParseLineItemSearch(body []byte) (*LineItemSearch, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &Error{Code: ErrMalformedJSON, Detail: "Received JSON is malformed: the body is empty; send {} to search every line item."}
	}
	raw, err := decodeStrictObject(body, "", searchFields)
	if err != nil {
		return nil, err
	}
	s := &LineItemSearch{SortField: SortBillDates, SortOrder: SortDescending}
	if v, ok := raw["sortField"]; ok {
		str, err := enumField(v, "sortField", []string{string(SortUsageDates), string(SortBillDates), string(SortTotalPriceCents)})
		if err != nil {
			return nil, err
		}
		s.SortField = LineItemSortField(str)
	}
	if v, ok := raw["sortOrder"]; ok {
		str, err := enumField(v, "sortOrder", []string{string(SortAscending), string(SortDescending)})
		if err != nil {
			return nil, err
		}
		s.SortOrder = LineItemSortOrder(str)
	}
	v, ok := raw["filters"]
	if !ok {
		return s, nil
	}
	f, err := decodeStrictObject(v, "filters.", filterFields)
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		name string
		dst  **Day
	}{
		{"billStartDate", &s.BillStart}, {"billEndDate", &s.BillEnd},
		{"usageStartDate", &s.UsageStart}, {"usageEndDate", &s.UsageEnd},
	} {
		v, ok := f[d.name]
		if !ok {
			continue
		}
		field := "filters." + d.name
		var str string
		if json.Unmarshal(v, &str) != nil {
			return nil, FieldError(ErrInvalidJSONAttribute, field, fmt.Sprintf("Invalid JSON attribute %s: expected a date string YYYY-MM-DD.", field))
		}
		day, ok := parseDay(str)
		if !ok {
			return nil, FieldError(ErrInvalidDateFormat, field, fmt.Sprintf("Invalid date %q for %s: expected YYYY-MM-DD.", str, field))
		}
		*d.dst = &day
	}
	for _, r := range []struct{ start, end *Day }{{s.BillStart, s.BillEnd}, {s.UsageStart, s.UsageEnd}} {
		if r.start != nil && r.end != nil && *r.start > *r.end {
			which := "bill"
			if r.start == s.UsageStart {
				which = "usage"
			}
			field := "filters." + which + "EndDate"
			return nil, FieldError(ErrStartDateAfterEndDate, field, fmt.Sprintf("%s %s is before filters.%sStartDate %s.", field, r.end, which, r.start))
		}
	}
	for _, l := range []struct {
		name string
		dst  *[]string
	}{{"clusterIds", &s.ClusterIDs}, {"groupIds", &s.GroupIDs}} {
		ids, err := uniqueStrings(f, l.name)
		if err == nil {
			err = checkIDs("filters."+l.name, ids)
		}
		if err != nil {
			return nil, err
		}
		slices.Sort(ids)
		*l.dst = ids
	}
	names, err := uniqueStrings(f, "skuServices")
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		if !slices.Contains(Services, Service(n)) {
			field := fmt.Sprintf("filters.skuServices[%d]", i)
			return nil, FieldError(ErrInvalidEnumValue, field, fmt.Sprintf("Invalid enumeration value %q for %s.", n, field))
		}
		s.Services = append(s.Services, Service(n))
	}
	slices.Sort(s.Services)
	if v, ok := f["includeZeroCentLineItems"]; ok {
		if json.Unmarshal(v, &s.IncludeZeroCents) != nil {
			return nil, FieldError(ErrInvalidJSONAttribute, "filters.includeZeroCentLineItems", "Invalid JSON attribute filters.includeZeroCentLineItems: expected a boolean.")
		}
	}
	return s, nil
}

// decodeStrictObject decodes one JSON object into its members, rejecting
// anything but an object, members not in allowed, members given twice and
// data after the object. Null members are left out. prefix names the object
// in errors ("filters.").
func decodeStrictObject(data []byte, prefix string, allowed []string) (map[string]json.RawMessage, error) {
	malformed := func(why string) error {
		return &Error{Code: ErrMalformedJSON, Detail: "Received JSON is malformed" + why + "."}
	}
	if prefix != "" && !isNull(data) && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		name := strings.TrimSuffix(prefix, ".")
		return nil, FieldError(ErrInvalidJSONAttribute, name, fmt.Sprintf("Invalid JSON attribute %s: expected an object.", name))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, malformed(": expected an object")
	}
	out := map[string]json.RawMessage{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("")
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed("")
		}
		if !slices.Contains(allowed, k) {
			return nil, FieldError(ErrInvalidAttribute, prefix+k, fmt.Sprintf("Invalid attribute %s specified.", prefix+k))
		}
		if seen[k] {
			return nil, FieldError(ErrInvalidAttribute, prefix+k, fmt.Sprintf("Attribute %s is specified twice.", prefix+k))
		}
		seen[k] = true
		if !isNull(v) {
			out[k] = v
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed("")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed(": unexpected data after the object")
	}
	return out, nil
}

// enumField reads a string member that must be one of values.
func enumField(v json.RawMessage, name string, values []string) (string, error) {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", FieldError(ErrInvalidJSONAttribute, name, fmt.Sprintf("Invalid JSON attribute %s: expected a string.", name))
	}
	if !slices.Contains(values, s) {
		return "", FieldError(ErrInvalidEnumValue, name, fmt.Sprintf("Invalid enumeration value %q for %s: use %s.", s, name, strings.Join(values, ", ")))
	}
	return s, nil
}

// uniqueStrings reads a member that must be an array of distinct strings of
// at most DefaultMaxFilterValues values.
func uniqueStrings(f map[string]json.RawMessage, name string) ([]string, error) {
	field := "filters." + name
	list, err := parseStringList(f, name, field, DefaultMaxFilterValues)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]int, len(list))
	for i, s := range list {
		if j, dup := seen[s]; dup {
			at := fmt.Sprintf("%s[%d]", field, i)
			return nil, FieldError(ErrValidation, at, fmt.Sprintf("%s repeats %s[%d] (%q): the values must be unique.", at, field, j, s))
		}
		seen[s] = i
	}
	return list, nil
}

// Matches reports whether li passes the search's filters.
func (s *LineItemSearch) Matches(li *LineItem) bool {
	in := func(d Day, lo, hi *Day) bool { return (lo == nil || d >= *lo) && (hi == nil || d <= *hi) }
	switch {
	case li.Amount == 0 && !s.IncludeZeroCents:
		return false
	case !in(li.Billed(), s.BillStart, s.BillEnd), !in(li.Date, s.UsageStart, s.UsageEnd):
		return false
	case len(s.ClusterIDs) > 0 && !containsSorted(s.ClusterIDs, li.ClusterID):
		return false
	case len(s.GroupIDs) > 0 && !containsSorted(s.GroupIDs, li.ProjectID):
		return false
	case len(s.Services) > 0 && !slices.Contains(s.Services, li.Service):
		return false
	}
	return true
}

func containsSorted(list []string, v string) bool {
	_, ok := slices.BinarySearch(list, v)
	return ok
}

// Compare orders line items as the search asks. Ties order by usage day,
// then id, in the same direction, so that pages are stable.
func (s *LineItemSearch) Compare(a, b *LineItem) int {
	var c int
	switch s.SortField {
	case SortUsageDates:
		c = cmp.Compare(a.Date, b.Date)
	case SortTotalPriceCents:
		c = cmp.Compare(a.Amount, b.Amount)
	default:
		c = cmp.Compare(a.Billed(), b.Billed())
	}
	c = cmp.Or(c, cmp.Compare(a.Date, b.Date), bytes.Compare(a.ID[:], b.ID[:]))
	if s.SortOrder == SortDescending {
		return -c
	}
	return c
}
