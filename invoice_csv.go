package costexplorer

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InvoiceCSVColumns is the header of the line items of an invoice CSV, as
// Atlas serves it; tag keys follow as extra columns.
var InvoiceCSVColumns = []string{
	"Date", "Usage Date", "Description", "Note", "Organization Name", "Organization ID",
	"Project", "Project ID", "SKU", "Region", "Cluster", "Replica Set", "Config Server",
	"Application", "Unit", "Unit Price", "Quantity", "Discount Percent", "Amount",
}

// The labels of the summary block that opens an invoice CSV, in order.
const (
	InvoiceCSVNumberLabel  = "Invoice Number"
	InvoiceCSVPeriodLabel  = "Billing Period"
	InvoiceCSVOrgNameLabel = "Organization Name"
	InvoiceCSVOrgIDLabel   = "Organization ID"
)

// InvoiceCSVDateLayout is the form of the Date and Usage Date columns;
// InvoiceCSVPeriodLayout the form of each end of the Billing Period.
const (
	InvoiceCSVDateLayout   = "01/02/2006"
	InvoiceCSVPeriodLayout = "January 2, 2006"
)

// IsInvoiceCSVColumn reports whether name is a column of the line-item
// header, compared as the importer compares header names: trimmed and
// without regard to case.
func IsInvoiceCSVColumn(name string) bool {
	name = strings.TrimSpace(name)
	return slices.ContainsFunc(InvoiceCSVColumns, func(c string) bool { return strings.EqualFold(c, name) })
}

// InvoiceCSVSummary is the summary block of an invoice CSV. A nil summary
// writes the bare layout: the header first.
type InvoiceCSVSummary struct {
	InvoiceID string
	Month     Month
	OrgName   string
	OrgID     string
}

// BillingPeriod returns the period as the summary block writes it:
// "June 1, 2024 - July 1, 2024" (the end is the first day after the period).
func (s *InvoiceCSVSummary) BillingPeriod() string {
	return s.Month.Start().Format(InvoiceCSVPeriodLayout) + " - " + (s.Month + 1).Start().Format(InvoiceCSVPeriodLayout)
}

// InvoiceCSVWriter writes an invoice CSV row by row: the summary block and
// the header when it is made, then one row per Write, so an invoice of any
// size is written in constant memory. Fields are quoted as encoding/csv
// quotes them; text a spreadsheet would read as a formula is neutralised by
// [NeutraliseCSVText].
type InvoiceCSVWriter struct {
	w      *bufio.Writer
	tagCol map[string]int // tag key → its index among the tag columns
	cells  []string       // the tag cells of the current row
	row    []byte
	err    error

	// The tag cells of the last row's tags: consecutive rows of one
	// resource share them.
	lastTags  Tags
	lastCells []string

	// The encodings of the last values of the rows' runs of text fields,
	// dates and price, which consecutive rows share (see lineEncoder).
	billed, used memo[Day]
	who          memo[[6]string]
	what         memo[[7]string]
	price        memo[int64]
}

// NewInvoiceCSVWriter writes the summary block (unless sum is nil), a blank
// line and the header with a column per tag key. tagKeys must be every tag
// key the rows carry, distinct and valid tag keys (see [ValidateTags]); the
// header is written before the first row, so a key learnt later would have
// no column. Dates are MM/DD/YYYY, money is "$" and exact decimals without
// thousands separators ("$4000.00", "-$5.00").
func NewInvoiceCSVWriter(w io.Writer, sum *InvoiceCSVSummary, tagKeys []string) (*InvoiceCSVWriter, error) {
	col := make(map[string]int, len(tagKeys))
	check := make(map[string][]string, len(tagKeys))
	for i, k := range tagKeys {
		if _, dup := col[k]; dup {
			return nil, fmt.Errorf("invoice csv: tag key %q given twice", k)
		}
		col[k] = i
		check[k] = []string{"x"}
	}
	if err := ValidateTags(check); err != nil {
		return nil, fmt.Errorf("invoice csv: %w", err)
	}
	cw := &InvoiceCSVWriter{w: bufio.NewWriterSize(w, 64<<10), tagCol: col, cells: make([]string, len(tagKeys))}
	if sum != nil {
		for _, rec := range [][]string{
			{InvoiceCSVNumberLabel, sum.InvoiceID, ""},
			{InvoiceCSVPeriodLabel, sum.BillingPeriod(), ""},
			{InvoiceCSVOrgNameLabel, NeutraliseCSVText(sum.OrgName), ""},
			{InvoiceCSVOrgIDLabel, sum.OrgID, ""},
			{},
		} {
			cw.writeRecord(rec)
		}
	}
	header := slices.Clone(InvoiceCSVColumns)
	for _, k := range tagKeys {
		header = append(header, NeutraliseCSVText(k))
	}
	cw.writeRecord(header)
	return cw, cw.err
}

func (w *InvoiceCSVWriter) writeRecord(rec []string) {
	b := w.row[:0]
	for i, f := range rec {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, f)
	}
	w.row = append(b, '\n')
	w.flushRow()
}

func (w *InvoiceCSVWriter) flushRow() {
	if w.err == nil {
		_, w.err = w.w.Write(w.row)
	}
}

// Write writes one line item. A tag key without a column is an error: its
// values would be lost.
func (w *InvoiceCSVWriter) Write(l *InvoiceLine) error {
	if w.err != nil {
		return w.err
	}
	if l.Tags != w.lastTags || w.lastCells == nil {
		clear(w.cells)
		for k, vals := range l.Tags.All() {
			i, ok := w.tagCol[k]
			if !ok {
				return fmt.Errorf("invoice csv: line item %s has tag %q, which has no column", l.ID, k)
			}
			w.cells[i] = NeutraliseCSVText(strings.Join(vals, TagValueSeparator))
		}
		w.lastTags, w.lastCells = l.Tags, slices.Clone(w.cells)
	}
	b := w.row[:0]
	if l.BillDate != 0 {
		b = w.billed.append(b, l.BillDate, appendUSDate)
	}
	b = append(b, ',')
	b = w.used.append(b, l.Date, appendUSDate)
	b = w.who.append(b, [...]string{l.Description, l.Note, l.OrgName, l.OrgID, l.ProjectName, l.ProjectID}, appendCSVWho)
	b = w.what.append(b, [...]string{l.SKU, l.Region, l.ClusterName, l.ReplicaSet, l.ConfigServer, l.Application, l.Unit}, appendCSVText)
	b = append(b, ',')
	b = w.price.append(b, l.UnitPriceNanos, appendCSVPrice)
	b = append(b, ',')
	b = strconv.AppendFloat(b, l.Quantity, 'f', -1, 64)
	b = append(b, ',')
	if l.DiscountPercent != 0 {
		b = strconv.AppendFloat(b, l.DiscountPercent, 'f', -1, 64)
		b = append(b, '%')
	}
	b = append(b, ',')
	b = appendDollarSign(b, l.Amount < 0)
	b = appendCents(b, l.Amount, true)
	for _, c := range w.lastCells {
		b = append(b, ',')
		b = appendCSVField(b, c)
	}
	w.row = append(b, '\n')
	w.flushRow()
	return w.err
}

// appendCSVWho appends the fields description, note, organization name and
// id, project name and id, each after a comma; ids are not neutralised.
func appendCSVWho(b []byte, f [6]string) []byte {
	for i, v := range f {
		if i != 3 && i != 5 {
			v = NeutraliseCSVText(v)
		}
		b = appendCSVField(append(b, ','), v)
	}
	return b
}

// appendCSVText appends free-text fields, neutralised, each after a comma.
func appendCSVText(b []byte, f [7]string) []byte {
	for _, v := range f {
		b = appendCSVField(append(b, ','), NeutraliseCSVText(v))
	}
	return b
}

// appendCSVPrice appends a unit price in dollars ("$0.54", "-$5.00").
func appendCSVPrice(b []byte, n int64) []byte {
	return appendNanos(appendDollarSign(b, n < 0), n, true)
}

// Flush writes what is buffered and reports any error of the writes so far.
func (w *InvoiceCSVWriter) Flush() error {
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}

// appendCSVField appends f quoted as encoding/csv quotes a field (comma
// separator, LF line ends): in quotes, with quotes doubled, when it holds a
// comma, a quote, CR or LF, begins with a space, or is \. (for PostgreSQL).
func appendCSVField(b []byte, f string) []byte {
	if !csvNeedsQuotes(f) {
		return append(b, f...)
	}
	return AppendQuotedCSV(b, f)
}

// AppendQuotedCSV appends s as a quoted CSV field: in double quotes, with
// each quote in it doubled. Whether a field needs quotes is the caller's
// rule (the invoice CSV follows encoding/csv; the FOCUS export its own).
func AppendQuotedCSV(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func csvNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` {
		return true
	}
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	if f[0] < utf8.RuneSelf {
		return f[0] == ' ' || f[0] >= '\t' && f[0] <= '\r'
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// appendUSDate appends d as MM/DD/YYYY.
func appendUSDate(b []byte, d Day) []byte {
	y, m, dd := d.Time().Date()
	b = append(b, byte('0'+int(m)/10), byte('0'+int(m)%10), '/', byte('0'+dd/10), byte('0'+dd%10), '/')
	return strconv.AppendInt(b, int64(y), 10) // 1970 and after: four digits
}

// appendDollarSign appends "$", after a minus for a negative amount.
func appendDollarSign(b []byte, neg bool) []byte {
	if neg {
		return append(b, '-', '$')
	}
	return append(b, '$')
}

// WriteInvoiceCSV writes inv as its invoice CSV: the summary naming orgName,
// then the lines that lines streams for inv.ID, with a column per tag key.
func WriteInvoiceCSV(w io.Writer, inv *Invoice, orgName string, tagKeys []string, lines InvoiceLines) error {
	cw, err := NewInvoiceCSVWriter(w, &InvoiceCSVSummary{InvoiceID: inv.ID, Month: inv.Month, OrgName: orgName, OrgID: inv.OrgID}, tagKeys)
	if err != nil {
		return err
	}
	if err := lines(inv.ID, cw.Write); err != nil {
		return err
	}
	return cw.Flush()
}

// NeutraliseCSVText neutralises a free-text value against CSV formula
// injection, reversibly: a value that starts with =, +, -, @, tab or
// carriage return, after any number of single quotes, gets one more quote in
// front. [RestoreCSVText] undoes it exactly, so that what costexplorer
// writes imports back unchanged. (For values that do not start with a quote
// this is [SafeCSVText].)
func NeutraliseCSVText(s string) string {
	if t := strings.TrimLeft(s, "'"); t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return "'" + s
	}
	return s
}

// RestoreCSVText undoes [NeutraliseCSVText]: a value of one or more single
// quotes followed by =, +, -, @, tab or carriage return loses one quote.
func RestoreCSVText(s string) string {
	if t := strings.TrimLeft(s, "'"); len(t) < len(s) && t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return s[1:]
	}
	return s
}

// FormatNanos writes an amount of nanodollars as an exact decimal number of
// dollars with at least two decimals ("0.54", "0.000002", "-1000.00").
func FormatNanos(n int64) string { return string(appendNanos(nil, n, false)) }

// appendNanos appends n nanodollars as FormatNanos writes them; unsigned
// leaves out the minus sign (written before a "$" by the caller).
func appendNanos(b []byte, n int64, unsigned bool) []byte {
	b, u := appendSign(b, n, unsigned)
	b = strconv.AppendUint(b, u/1e9, 10)
	b = append(b, '.')
	frac := u % 1e9
	digits := 9
	for digits > 2 && frac%10 == 0 {
		frac /= 10
		digits--
	}
	var tmp [9]byte
	for i := digits - 1; i >= 0; i-- {
		tmp[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, tmp[:digits]...)
}

// appendCents appends c as dollars with two decimals, as Cents.Dollars
// writes them; unsigned leaves out the minus sign.
func appendCents(b []byte, c Cents, unsigned bool) []byte {
	b, u := appendSign(b, int64(c), unsigned)
	b = strconv.AppendUint(b, u/100, 10)
	return append(b, '.', byte('0'+u%100/10), byte('0'+u%10))
}

// appendSign appends the minus sign of a negative n, unless unsigned, and
// returns n's magnitude (exact for math.MinInt64 too).
func appendSign(b []byte, n int64, unsigned bool) ([]byte, uint64) {
	u := uint64(n)
	if n < 0 {
		u = -u
		if !unsigned {
			b = append(b, '-')
		}
	}
	return b, u
}

// FormatPercent writes a discount percent as the invoice CSV shows it:
// empty for no discount, else the shortest exact decimal and "%" ("10%",
// "12.5%").
func FormatPercent(p float64) string {
	if p == 0 {
		return ""
	}
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

// WriteBatchCSV writes the items of b as an invoice CSV, named by b's
// dimensions, with a column per tag key (sorted): with the summary block
// when the items are all of one invoice (one organization, month and
// invoice id), else in the bare layout. It is how a batch is exported so
// that importing it again yields the same items.
func WriteBatchCSV(w io.Writer, b *UsageBatch) error {
	orgName := map[string]string{}
	for _, o := range b.Organizations {
		orgName[o.ID] = o.Name
	}
	projectName := map[string]string{}
	for _, p := range b.Projects {
		projectName[p.ID] = p.Name
	}
	clusterName := map[string]string{}
	for _, c := range b.Clusters {
		clusterName[c.ID] = c.Name
	}
	keys := map[string]bool{}
	var sum *InvoiceCSVSummary
	for i := range b.Items {
		li := &b.Items[i]
		for _, k := range li.Tags.Keys() {
			keys[k] = true
		}
		if i == 0 {
			sum = &InvoiceCSVSummary{InvoiceID: li.Invoice(), Month: li.Month(), OrgName: orgName[li.OrgID], OrgID: li.OrgID}
		} else if sum != nil && (li.Invoice() != sum.InvoiceID || li.Month() != sum.Month || li.OrgID != sum.OrgID) {
			sum = nil
		}
	}
	cw, err := NewInvoiceCSVWriter(w, sum, slices.Sorted(maps.Keys(keys)))
	if err != nil {
		return err
	}
	for i := range b.Items {
		li := &b.Items[i]
		l := InvoiceLine{LineItem: *li, OrgName: orgName[li.OrgID], ProjectName: projectName[li.ProjectID], ClusterName: clusterName[li.ClusterID]}
		if err := cw.Write(&l); err != nil {
			return err
		}
	}
	return cw.Flush()
}
