package costexplorer

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
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
// size is written in constant memory. Text a spreadsheet would read as a
// formula is neutralised by [NeutraliseCSVText].
type InvoiceCSVWriter struct {
	cw     *csv.Writer
	tagCol map[string]int // tag key → its field in a row
	rec    []string
}

// NewInvoiceCSVWriter writes the summary block (unless sum is nil), a blank
// line and the header with a column per tag key. tagKeys must be every tag
// key the rows carry, distinct and valid tag keys (see [Tags.Validate]);
// the header is written before the first row, so a key learnt later would
// have no column. Dates are MM/DD/YYYY, money is "$" and exact decimals
// without thousands separators ("$4000.00", "-$5.00").
func NewInvoiceCSVWriter(w io.Writer, sum *InvoiceCSVSummary, tagKeys []string) (*InvoiceCSVWriter, error) {
	col := make(map[string]int, len(tagKeys))
	check := make(map[string][]string, len(tagKeys))
	for i, k := range tagKeys {
		if _, dup := col[k]; dup {
			return nil, fmt.Errorf("invoice csv: tag key %q given twice", k)
		}
		col[k] = len(InvoiceCSVColumns) + i
		check[k] = []string{"x"}
	}
	if err := ValidateTags(check); err != nil {
		return nil, fmt.Errorf("invoice csv: %w", err)
	}
	cw := csv.NewWriter(w)
	if sum != nil {
		for _, rec := range [][]string{
			{InvoiceCSVNumberLabel, sum.InvoiceID, ""},
			{InvoiceCSVPeriodLabel, sum.BillingPeriod(), ""},
			{InvoiceCSVOrgNameLabel, NeutraliseCSVText(sum.OrgName), ""},
			{InvoiceCSVOrgIDLabel, sum.OrgID, ""},
			{},
		} {
			if err := cw.Write(rec); err != nil {
				return nil, err
			}
		}
	}
	header := slices.Clone(InvoiceCSVColumns)
	for _, k := range tagKeys {
		header = append(header, NeutraliseCSVText(k))
	}
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	return &InvoiceCSVWriter{cw: cw, tagCol: col, rec: make([]string, len(header))}, nil
}

// Write writes one line item. A tag key without a column is an error: its
// values would be lost.
func (w *InvoiceCSVWriter) Write(l *InvoiceLine) error {
	rec := w.rec
	clear(rec[len(InvoiceCSVColumns):])
	for k, vals := range l.Tags.All() {
		i, ok := w.tagCol[k]
		if !ok {
			return fmt.Errorf("invoice csv: line item %s has tag %q, which has no column", l.ID, k)
		}
		rec[i] = NeutraliseCSVText(strings.Join(vals, TagValueSeparator))
	}
	rec[0] = ""
	if l.BillDate != 0 {
		rec[0] = l.BillDate.Time().Format(InvoiceCSVDateLayout)
	}
	rec[1] = l.Date.Time().Format(InvoiceCSVDateLayout)
	rec[2] = NeutraliseCSVText(l.Description)
	rec[3] = NeutraliseCSVText(l.Note)
	rec[4] = NeutraliseCSVText(l.OrgName)
	rec[5] = l.OrgID
	rec[6] = NeutraliseCSVText(l.ProjectName)
	rec[7] = l.ProjectID
	rec[8] = NeutraliseCSVText(l.SKU)
	rec[9] = NeutraliseCSVText(l.Region)
	rec[10] = NeutraliseCSVText(l.ClusterName)
	rec[11] = NeutraliseCSVText(l.ReplicaSet)
	rec[12] = NeutraliseCSVText(l.ConfigServer)
	rec[13] = NeutraliseCSVText(l.Application)
	rec[14] = NeutraliseCSVText(l.Unit)
	rec[15] = dollarSign(FormatNanos(l.UnitPriceNanos))
	rec[16] = strconv.FormatFloat(l.Quantity, 'f', -1, 64)
	rec[17] = FormatPercent(l.DiscountPercent)
	rec[18] = dollarSign(l.Amount.Dollars())
	return w.cw.Write(rec)
}

// Flush writes what is buffered and reports any error of the writes so far.
func (w *InvoiceCSVWriter) Flush() error {
	w.cw.Flush()
	return w.cw.Error()
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
func FormatNanos(n int64) string {
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign, u = "-", -u
	}
	frac := strings.TrimRight(strconv.FormatUint(u%1e9+1e9, 10)[1:], "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return sign + strconv.FormatUint(u/1e9, 10) + "." + frac
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

// dollarSign puts "$" after the sign of a decimal amount.
func dollarSign(s string) string {
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		return "-$" + rest
	}
	return "$" + s
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
