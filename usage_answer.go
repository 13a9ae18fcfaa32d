package costexplorer

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
)

// The answer of usage:query on the wire: JSON (UsageAnswer) or CSV
// (WriteUsageCSV). The server writes both; the Go client reads the JSON and
// the CLI writes the CSV, so the two stay one format.

// UsageAnswer is one page of a usage:query answer. Next is the cursor of the
// following page, null after the last.
type UsageAnswer struct {
	Results []UsageResult `json:"results"`
	Next    *string       `json:"next"`
}

// UsageResult is a row of a UsageAnswer: the first day of its period, its
// group per group-by dimension (keyed by the dimension, as the request
// names it), and the amount twice — exact dollars with two decimals, and
// integer cents for whoever adds them up. Quantity is there when the
// request asks for it, rounded to QuantityDecimals.
type UsageResult struct {
	Start       string                   `json:"start"`
	Groups      map[Dimension]UsageGroup `json:"groups"`
	Amount      Cents                    `json:"amount"`
	AmountCents int64                    `json:"amountCents"`
	Quantity    *float64                 `json:"quantity,omitempty"`
}

// QuantityDecimals is how many decimals an answer gives a quantity: sums of
// floats carry noise in their last bits, which no reader wants.
const QuantityDecimals = 6

// RoundQuantity rounds a summed quantity to QuantityDecimals.
func RoundQuantity(x float64) float64 {
	const scale = 1e6
	return math.Round(x*scale) / scale
}

// NewUsageAnswer returns the page of rows of q with the cursor next (""
// after the last page).
func NewUsageAnswer(q *UsageQuery, rows []UsageRow, next string) *UsageAnswer {
	a := &UsageAnswer{Results: make([]UsageResult, len(rows))}
	if next != "" {
		a.Next = &next
	}
	for i := range rows {
		r := &rows[i]
		res := UsageResult{Start: r.Start.String(), Groups: make(map[Dimension]UsageGroup, len(q.GroupBy)),
			Amount: r.Amount, AmountCents: int64(r.Amount)}
		for j, d := range q.GroupBy {
			if j < len(r.Groups) {
				res.Groups[d] = r.Groups[j]
			}
		}
		if q.Has(MetricQuantity) {
			x := RoundQuantity(r.Quantity)
			res.Quantity = &x
		}
		a.Results[i] = res
	}
	return a
}

// Rows returns the rows of a page of q's answer, groups in q's order.
func (a *UsageAnswer) Rows(q *UsageQuery) []UsageRow {
	rows := make([]UsageRow, len(a.Results))
	for i, res := range a.Results {
		d, _ := ParseDay(res.Start)
		r := UsageRow{Start: d, Groups: make([]UsageGroup, len(q.GroupBy)), Amount: Cents(res.AmountCents)}
		for j, dim := range q.GroupBy {
			r.Groups[j] = res.Groups[dim]
		}
		if res.Quantity != nil {
			r.Quantity = *res.Quantity
		}
		rows[i] = r
	}
	return rows
}

// UsageCSVHeader returns the header line of q's CSV answer: start, an id
// and a name column per group-by dimension ("services.id",
// "services.name"), amount, amountCents, and quantity when asked for.
func UsageCSVHeader(q *UsageQuery) []string {
	h := []string{"start"}
	for _, d := range q.GroupBy {
		h = append(h, NeutraliseCSVText(string(d))+".id", NeutraliseCSVText(string(d))+".name")
	}
	h = append(h, "amount", "amountCents")
	if q.Has(MetricQuantity) {
		h = append(h, "quantity")
	}
	return h
}

// UsageCSVWriter writes the CSV answer of a query: the header when made,
// then rows as they come, so that an answer of many pages is written in
// the memory of one. Text a spreadsheet would read as a formula is
// neutralised (NeutraliseCSVText).
type UsageCSVWriter struct {
	q   *UsageQuery
	w   *csv.Writer
	rec []string
}

// NewUsageCSVWriter writes the header of q's CSV answer to w.
func NewUsageCSVWriter(w io.Writer, q *UsageQuery) (*UsageCSVWriter, error) {
	cw := &UsageCSVWriter{q: q, w: csv.NewWriter(w)}
	if err := cw.w.Write(UsageCSVHeader(q)); err != nil {
		return nil, err
	}
	return cw, nil
}

// Write writes rows.
func (cw *UsageCSVWriter) Write(rows []UsageRow) error {
	quantity := cw.q.Has(MetricQuantity)
	for i := range rows {
		r := &rows[i]
		rec := append(cw.rec[:0], r.Start.String())
		for j := range cw.q.GroupBy {
			var g UsageGroup
			if j < len(r.Groups) {
				g = r.Groups[j]
			}
			rec = append(rec, NeutraliseCSVText(g.ID), NeutraliseCSVText(g.Name))
		}
		rec = append(rec, r.Amount.Dollars(), strconv.FormatInt(int64(r.Amount), 10))
		if quantity {
			rec = append(rec, strconv.FormatFloat(RoundQuantity(r.Quantity), 'f', -1, 64))
		}
		cw.rec = rec
		if err := cw.w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes what is buffered and returns the first error of any write.
func (cw *UsageCSVWriter) Flush() error {
	cw.w.Flush()
	return cw.w.Error()
}
