package costexplorer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
)

// The body of POST /api/costexplorer/v1/orgs/{orgId}/usage:query (DESIGN
// §5.5) and its parser. The project's own API is as strict as the Atlas
// one: unknown fields, wrong types and bad values are 400 with the field
// named, never guessed at.

// UsageQueryRequest is the usage:query body as it travels. The Go client
// writes it; ParseUsageQueryRequest reads the same fields one by one, so
// that each bad field gets its own error.
type UsageQueryRequest struct {
	Granularity Granularity `json:"granularity"`
	TimePeriod  TimePeriod  `json:"timePeriod"`
	GroupBy     []Dimension `json:"groupBy,omitempty"`
	Filter      *Filter     `json:"filter,omitempty"`
	Metrics     []Metric    `json:"metrics,omitempty"`
	PageSize    int         `json:"pageSize,omitempty"`
	Next        string      `json:"next,omitempty"`
}

// TimePeriod is a window of days written YYYY-MM-DD: Start inclusive, End
// exclusive.
type TimePeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Bounds of a usage:query request beyond those of QueryLimits (the window
// and the values per filter leaf).
const (
	// MaxFilterDepth is how deeply and/or/not may nest (a leaf is a level).
	MaxFilterDepth = 8
	// MaxFilterNodes bounds the nodes of a filter expression, leaves
	// included.
	MaxFilterNodes = 256
	// DefaultUsagePageSize is the page size of a request that gives none.
	DefaultUsagePageSize = 1000
	// MaxUsagePageSize bounds pageSize.
	MaxUsagePageSize = 10000
	// maxCursorLength bounds the next cursor a request may carry: a cursor
	// holds one row's key, at most two groups of ids and names.
	maxCursorLength = 8192
)

// UsagePage is the page a usage:query request asks for: at most Size rows
// after the row keyed by After (from the start when nil).
type UsagePage struct {
	Size  int
	After *UsageRow
}

// usageFields are the accepted body fields; anything else is rejected.
var usageFields = []string{"granularity", "timePeriod", "groupBy", "filter", "metrics", "pageSize", "next"}

// ParseUsageQueryRequest decodes and validates a usage:query body for orgID:
// the query and the page it asks for. It returns an *Error whose code is
// one of ErrMalformedJSON, ErrInvalidJSONAttribute, ErrInvalidAttribute,
// ErrMissingAttribute, ErrInvalidEnumValue, ErrInvalidDateFormat,
// ErrStartDateAfterEndDate, ErrInvalidDateRange or ErrValidation, naming the
// offending field (filter members by their path, as filter.and[1].in[0]).
func ParseUsageQueryRequest(orgID string, body []byte, lim QueryLimits) (*UsageQuery, UsagePage, error) {
	if lim.HistoryMonths <= 0 {
		lim.HistoryMonths = DefaultHistoryMonths
	}
	if lim.MaxFilterValues <= 0 {
		lim.MaxFilterValues = DefaultMaxFilterValues
	}
	page := UsagePage{Size: DefaultUsagePageSize}
	raw, err := decodeObject(body, "")
	if err != nil {
		return nil, page, err
	}
	if err := checkFields(raw, usageFields, ""); err != nil {
		return nil, page, err
	}
	q := &UsageQuery{OrgID: orgID}

	g, err := requiredString(raw, "granularity", "", "a string")
	if err != nil {
		return nil, page, err
	}
	switch q.Granularity = Granularity(g); q.Granularity {
	case Daily, Monthly:
	default:
		return nil, page, FieldError(ErrInvalidEnumValue, "granularity", fmt.Sprintf("Invalid enumeration value %q for granularity: use DAILY or MONTHLY.", g))
	}
	if err := q.parseTimePeriod(raw, lim); err != nil {
		return nil, page, err
	}

	if q.GroupBy, err = parseGroupBy(raw, MaxGroupBy); err != nil {
		return nil, page, err
	}
	if q.Filter, err = parseFilterField(raw, lim.MaxFilterValues); err != nil {
		return nil, page, err
	}

	metrics, err := parseStringList(raw, "metrics", "metrics", 2*len(usageMetrics))
	if err != nil {
		return nil, page, err
	}
	for i, s := range metrics {
		m := Metric(s)
		if !slices.Contains(usageMetrics, m) {
			field := fmt.Sprintf("metrics[%d]", i)
			return nil, page, FieldError(ErrInvalidEnumValue, field, fmt.Sprintf("Invalid enumeration value %q for %s: use amount or quantity.", s, field))
		}
		if !slices.Contains(q.Metrics, m) {
			q.Metrics = append(q.Metrics, m)
		}
	}
	slices.Sort(q.Metrics)

	if v, ok := raw["pageSize"]; ok && !isNull(v) {
		if json.Unmarshal(v, &page.Size) != nil {
			return nil, page, FieldError(ErrInvalidJSONAttribute, "pageSize", "Invalid JSON attribute pageSize: expected an integer.")
		}
		if page.Size < 1 || page.Size > MaxUsagePageSize {
			return nil, page, FieldError(ErrValidation, "pageSize", fmt.Sprintf("pageSize %d is out of range: use 1 to %d.", page.Size, MaxUsagePageSize))
		}
	}
	if v, ok := raw["next"]; ok && !isNull(v) {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, page, FieldError(ErrInvalidJSONAttribute, "next", "Invalid JSON attribute next: expected the string of a previous answer's next.")
		}
		if page.After, err = q.parseCursor(s); err != nil {
			return nil, page, err
		}
	}
	return q, page, nil
}

// usageMetrics are the metrics a request may name.
var usageMetrics = []Metric{MetricAmount, MetricQuantity}

// parseTimePeriod reads timePeriod and checks the window against lim: start
// no earlier than the first day of the oldest month of history, end no
// later than the first day of the month after lim.Now's.
func (q *UsageQuery) parseTimePeriod(raw map[string]json.RawMessage, lim QueryLimits) error {
	v, ok := raw["timePeriod"]
	if !ok || isNull(v) {
		return FieldError(ErrMissingAttribute, "timePeriod", "The required attribute timePeriod was not specified.")
	}
	tp, err := decodeObject(v, "timePeriod")
	if err != nil {
		return err
	}
	if err := checkFields(tp, []string{"start", "end"}, "timePeriod."); err != nil {
		return err
	}
	if q.Start, err = parseDayField(tp, "start", "timePeriod."); err != nil {
		return err
	}
	if q.End, err = parseDayField(tp, "end", "timePeriod."); err != nil {
		return err
	}
	if q.End <= q.Start {
		return FieldError(ErrStartDateAfterEndDate, "timePeriod.end", fmt.Sprintf("timePeriod.end %s must be after timePeriod.start %s (the end is exclusive).", q.End, q.Start))
	}
	current := MonthOf(lim.Now)
	earliest := DayOf((current - Month(lim.HistoryMonths-1)).Start())
	latest := DayOf((current + 1).Start())
	if q.Start < earliest {
		return FieldError(ErrInvalidDateRange, "timePeriod.start", fmt.Sprintf("timePeriod.start %s is outside the billing data window: the earliest allowed start is %s (the past %d months).", q.Start, earliest, lim.HistoryMonths))
	}
	if q.End > latest {
		return FieldError(ErrInvalidDateRange, "timePeriod.end", fmt.Sprintf("timePeriod.end %s is outside the billing data window: the latest allowed end is %s.", q.End, latest))
	}
	return nil
}

// parseFilter reads the filter expression v at path (nodes counts the
// nodes read so far): the types of its members, unknown members, the
// dimension and each value. The shape rules (one kind per node, non-empty
// lists) are Filter.Validate's.
func parseFilter(v json.RawMessage, path string, depth int, nodes *int, maxValues int) (*Filter, error) {
	if *nodes++; *nodes > MaxFilterNodes {
		return nil, FieldError(ErrValidation, path, fmt.Sprintf("The filter has more than %d nodes.", MaxFilterNodes))
	}
	if depth > MaxFilterDepth {
		return nil, FieldError(ErrValidation, path, fmt.Sprintf("%s nests deeper than %d levels.", path, MaxFilterDepth))
	}
	if isNull(v) {
		return nil, FieldError(ErrInvalidJSONAttribute, path, fmt.Sprintf("Invalid JSON attribute %s: expected an object, not null.", path))
	}
	raw, err := decodeObject(v, path)
	if err != nil {
		return nil, err
	}
	if err := checkFields(raw, []string{"and", "or", "not", "dimension", "in", "absent"}, path+"."); err != nil {
		return nil, err
	}
	f := &Filter{}
	for _, op := range []struct {
		name string
		dst  *[]*Filter
	}{{"and", &f.And}, {"or", &f.Or}} {
		v, ok := raw[op.name]
		if !ok || isNull(v) {
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			return nil, FieldError(ErrInvalidJSONAttribute, path+"."+op.name, fmt.Sprintf("Invalid JSON attribute %s.%s: expected an array of filters.", path, op.name))
		}
		*op.dst = make([]*Filter, 0, len(list))
		for i, c := range list {
			cf, err := parseFilter(c, fmt.Sprintf("%s.%s[%d]", path, op.name, i), depth+1, nodes, maxValues)
			if err != nil {
				return nil, err
			}
			*op.dst = append(*op.dst, cf)
		}
	}
	if v, ok := raw["not"]; ok && !isNull(v) {
		if f.Not, err = parseFilter(v, path+".not", depth+1, nodes, maxValues); err != nil {
			return nil, err
		}
	}
	if v, ok := raw["dimension"]; ok && !isNull(v) {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, FieldError(ErrInvalidJSONAttribute, path+".dimension", fmt.Sprintf("Invalid JSON attribute %s.dimension: expected a string.", path))
		}
		if f.Dimension = Dimension(s); !f.Dimension.Valid() {
			return nil, FieldError(ErrInvalidEnumValue, path+".dimension", fmt.Sprintf("Invalid enumeration value %q for %s.dimension: use organizations, projects, clusters, services, skus or tag:KEY.", s, path))
		}
	}
	if f.In, err = parseStringList(raw, "in", path+".in", maxValues); err != nil {
		return nil, err
	}
	if err := f.checkValues(path + ".in"); err != nil {
		return nil, err
	}
	if v, ok := raw["absent"]; ok && !isNull(v) {
		if json.Unmarshal(v, &f.Absent) != nil {
			return nil, FieldError(ErrInvalidJSONAttribute, path+".absent", fmt.Sprintf("Invalid JSON attribute %s.absent: expected a boolean.", path))
		}
	}
	return f, nil
}

// checkValues checks each value of a leaf's in list (at field) against its
// dimension: ids for organizations, projects and clusters, service names
// (canonicalised) for services, non-empty text of a tag's length otherwise.
// A list that can match nothing is refused rather than answered empty.
func (e *Filter) checkValues(field string) error {
	for i, v := range e.In {
		at := fmt.Sprintf("%s[%d]", field, i)
		switch e.Dimension {
		case DimOrganizations, DimProjects, DimClusters:
			if !IsID(v) {
				return FieldError(ErrValidation, at, fmt.Sprintf("Invalid value %q for %s: an id is 24 lower-case hexadecimal characters.", v, at))
			}
		case DimServices:
			s, ok := ParseService(v)
			if !ok {
				return FieldError(ErrInvalidEnumValue, at, fmt.Sprintf("Invalid enumeration value %q for %s.", v, at))
			}
			e.In[i] = string(s)
		default:
			if v == "" || len(v) > MaxTagLength {
				return FieldError(ErrValidation, at, fmt.Sprintf("Invalid value for %s: a value is 1 to %d bytes.", at, MaxTagLength))
			}
		}
	}
	return nil
}

// decodeObject decodes one JSON object (nothing after it) into its members.
// The body itself (path "") is MALFORMED_JSON when it is not an object; a
// member is INVALID_JSON_ATTRIBUTE.
func decodeObject(b []byte, path string) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	err := dec.Decode(&raw)
	if path != "" {
		if err != nil || raw == nil {
			return nil, FieldError(ErrInvalidJSONAttribute, path, fmt.Sprintf("Invalid JSON attribute %s: expected an object.", path))
		}
		return raw, nil
	}
	if err != nil || raw == nil {
		return nil, &Error{Code: ErrMalformedJSON, Detail: "Received JSON is malformed."}
	}
	if dec.More() {
		return nil, &Error{Code: ErrMalformedJSON, Detail: "Received JSON is malformed: unexpected data after the object."}
	}
	return raw, nil
}

// checkFields refuses the first member of raw (in byte order) not in
// fields; prefix is the path of raw ("timePeriod.").
func checkFields(raw map[string]json.RawMessage, fields []string, prefix string) error {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(fields, k) {
			return FieldError(ErrInvalidAttribute, prefix+k, fmt.Sprintf("Invalid attribute %s%s specified.", prefix, k))
		}
	}
	return nil
}

// requiredString reads the string member name of raw; want says what the
// string should be in the error about another type.
func requiredString(raw map[string]json.RawMessage, name, prefix, want string) (string, error) {
	v, ok := raw[name]
	if !ok || isNull(v) {
		return "", FieldError(ErrMissingAttribute, prefix+name, fmt.Sprintf("The required attribute %s%s was not specified.", prefix, name))
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", FieldError(ErrInvalidJSONAttribute, prefix+name, fmt.Sprintf("Invalid JSON attribute %s%s: expected %s.", prefix, name, want))
	}
	return s, nil
}

// dateString is what a date member should be.
const dateString = "a date string YYYY-MM-DD"

// parseDayField reads the day member name of raw, written YYYY-MM-DD.
func parseDayField(raw map[string]json.RawMessage, name, prefix string) (Day, error) {
	s, err := requiredString(raw, name, prefix, dateString)
	if err != nil {
		return 0, err
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, FieldError(ErrInvalidDateFormat, prefix+name, fmt.Sprintf("Invalid date %q for %s%s: expected YYYY-MM-DD.", s, prefix, name))
	}
	return DayOf(t), nil
}

// Request returns the body that asks for q (the first page, of the default
// size): what a client sends, and what ParseUsageQueryRequest reads back
// as q.
func (q *UsageQuery) Request() UsageQueryRequest {
	return UsageQueryRequest{Granularity: q.Granularity, TimePeriod: TimePeriod{Start: q.Start.String(), End: q.End.String()},
		GroupBy: q.GroupBy, Filter: q.Filter, Metrics: q.Metrics}
}
