package costexplorer

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
)

// Paging of a usage:query answer. A cursor is opaque to clients: it holds
// the key of the last row sent (its period and groups) and a digest of the
// query, and the next page is the rows after that key in the answer's order
// (CompareUsageRows). Keyed rather than counted, the pages stay stable when
// the data changes between two requests: no row is sent twice, and a row
// that existed throughout is never skipped. A cursor is only good for the
// query it came from; with another it is 400.

// DefaultMaxUsageRows bounds the answer of a usage query, all its pages
// together: beyond it the query is refused (ErrValidation) and should be
// narrowed — a shorter window, monthly periods, fewer group-bys — since
// every page of it is evaluated in full.
const DefaultMaxUsageRows = 1_000_000

// CheckUsageRows refuses an answer of n rows when it is more than max.
func CheckUsageRows(n, max int) error {
	if n <= max {
		return nil
	}
	return FieldError(ErrValidation, "groupBy", fmt.Sprintf("The answer has %d rows, more than the %d a usage query may return: narrow the window, ask for MONTHLY periods or group by fewer dimensions.", n, max))
}

// usageCursor is a cursor before its encoding.
type usageCursor struct {
	Query  string      `json:"q"`
	Start  string      `json:"s"`
	Groups [][2]string `json:"g"`
}

// digest returns a short digest of the canonical query: the organization
// and every field that decides the rows and their order.
func (q *UsageQuery) digest() string {
	b, _ := json.Marshal(struct {
		Org         string      `json:"o"`
		Granularity Granularity `json:"g"`
		Start       Day         `json:"s"`
		End         Day         `json:"e"`
		GroupBy     []Dimension `json:"b"`
		Filter      *Filter     `json:"f"`
		Metrics     []Metric    `json:"m"`
	}{q.OrgID, q.Granularity, q.Start, q.End, q.GroupBy, q.Filter, q.Metrics})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

// Cursor returns the cursor of the page that follows row r of q's answer.
func (q *UsageQuery) Cursor(r *UsageRow) string {
	c := usageCursor{Query: q.digest(), Start: r.Start.String(), Groups: make([][2]string, len(r.Groups))}
	for i, g := range r.Groups {
		c.Groups[i] = [2]string{g.ID, g.Name}
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseCursor returns the row key of cursor s, which must be one of q's.
func (q *UsageQuery) parseCursor(s string) (*UsageRow, error) {
	bad := func(why string) error {
		return FieldError(ErrValidation, "next", "Invalid next: "+why)
	}
	if len(s) > maxCursorLength {
		return nil, bad(fmt.Sprintf("longer than %d characters; send the next of the previous answer as it was.", maxCursorLength))
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c usageCursor
	if err != nil || json.Unmarshal(b, &c) != nil {
		return nil, bad("not a cursor; send the next of the previous answer as it was.")
	}
	if c.Query != q.digest() {
		return nil, bad("the cursor belongs to another query; send it with the same query it came from.")
	}
	d, err := ParseDay(c.Start)
	if err != nil || len(c.Groups) != len(q.GroupBy) {
		return nil, bad("not a cursor; send the next of the previous answer as it was.")
	}
	r := &UsageRow{Start: d, Groups: make([]UsageGroup, len(c.Groups))}
	for i, g := range c.Groups {
		r.Groups[i] = UsageGroup{ID: g[0], Name: g[1]}
	}
	return r, nil
}

// PageUsageRows returns the page p of rows, q's whole answer in its order,
// and the cursor of the next page ("" after the last).
func PageUsageRows(q *UsageQuery, rows []UsageRow, p UsagePage) (page []UsageRow, next string) {
	return PageUsageAnswer(q, UsageRowSlice(rows), p)
}

// PageUsageAnswer is PageUsageRows over an answer whose rows are made as
// they are read: only the page's rows, and the few a cursor's search reads.
func PageUsageAnswer(q *UsageQuery, rows UsageRows, p UsagePage) (page []UsageRow, next string) {
	n := rows.Len()
	from := 0
	if p.After != nil {
		// The first row after the cursor's key.
		from = sort.Search(n, func(i int) bool {
			r := rows.Row(i)
			return CompareUsageRows(&r, p.After) > 0
		})
	}
	size := p.Size
	if size <= 0 {
		size = DefaultUsagePageSize
	}
	to := min(from+size, n)
	page = make([]UsageRow, to-from)
	for i := range page {
		page[i] = rows.Row(from + i)
	}
	if to < n {
		next = q.Cursor(&page[len(page)-1])
	}
	return page, next
}
