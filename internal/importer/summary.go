package importer

import (
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/costexplorer/costexplorer"
)

// summary is the summary block of an invoice CSV as Atlas serves it. line is
// where each value was read, for errors that refer to it.
type summary struct {
	invoiceID string
	month     costexplorer.Month
	orgName   string
	orgID     string
	orgLine   int // line of Organization ID
	period    string
	line      int // line of Billing Period
}

// summaryLabels are the labels of the block, in the order Atlas writes them.
var summaryLabels = []string{
	costexplorer.InvoiceCSVNumberLabel, costexplorer.InvoiceCSVPeriodLabel,
	costexplorer.InvoiceCSVOrgNameLabel, costexplorer.InvoiceCSVOrgIDLabel,
}

// isLabel reports whether rec is a summary line with the given label.
func isLabel(rec []string, label string) bool {
	return len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), label)
}

// readSummary reads the summary block that first opens, checks each value,
// and returns the record after it: the header. Every label must appear once,
// in Atlas's order, with one value; the trailing comma Atlas writes (an empty
// third field) is accepted, anything more is an error.
func (p *parser) readSummary(first []string) ([]string, error) {
	s := &summary{}
	rec := first
	line := 0
	for i, label := range summaryLabels {
		if i > 0 {
			var err error
			if rec, err = p.read(); err == io.EOF {
				return nil, p.errAt(line+1, 1, "the summary block ends before %q", label)
			} else if err != nil {
				return nil, err
			}
		}
		line = p.rd.fieldLine(0)
		if !isLabel(rec, label) {
			return nil, p.errAt(line, 1, "summary block: want %q on this line, after %q", label, summaryLabels[i-1])
		}
		for j, f := range rec {
			if err := p.checkField(j, f); err != nil {
				return nil, err
			}
			if j >= 2 && strings.TrimSpace(f) != "" {
				return nil, p.errAt(line, j+1, "summary line %q has more than one value", label)
			}
		}
		if len(rec) < 2 || strings.TrimSpace(rec[1]) == "" {
			return nil, p.errAt(line, 2, "summary line %q has no value", label)
		}
		v := strings.TrimSpace(costexplorer.RestoreCSVText(strings.TrimSpace(rec[1])))
		switch label {
		case costexplorer.InvoiceCSVNumberLabel:
			if !costexplorer.IsID(v) {
				return nil, p.errAt(line, 2, "invalid Invoice Number %q: want 24 lower-case hexadecimal characters", v)
			}
			s.invoiceID = v
		case costexplorer.InvoiceCSVPeriodLabel:
			m, ok := parsePeriod(v)
			if !ok {
				return nil, p.errAt(line, 2, "invalid Billing Period %q: want one calendar month, as \"June 1, 2024 - July 1, 2024\"", v)
			}
			s.month, s.period, s.line = m, v, line
		case costexplorer.InvoiceCSVOrgNameLabel:
			if len(v) > MaxNameSize || strings.ContainsFunc(v, unicode.IsControl) {
				return nil, p.errAt(line, 2, "invalid Organization Name %q", v)
			}
			s.orgName = v
		case costexplorer.InvoiceCSVOrgIDLabel:
			if !costexplorer.IsID(v) {
				return nil, p.errAt(line, 2, "invalid Organization ID %q: want 24 lower-case hexadecimal characters", v)
			}
			s.orgID, s.orgLine = v, line
		}
	}
	p.summary = s
	header, err := p.read()
	if err == io.EOF {
		return nil, p.errAt(line+1, 1, "no header after the summary block: want a line with the invoice CSV columns")
	}
	if err != nil {
		return nil, err
	}
	return header, nil
}

// parsePeriod reads "June 1, 2024 - July 1, 2024": the first day of a month
// and the first day of the next.
func parsePeriod(v string) (costexplorer.Month, bool) {
	a, b, ok := strings.Cut(v, " - ")
	if !ok {
		return 0, false
	}
	start, err1 := time.Parse(costexplorer.InvoiceCSVPeriodLayout, strings.TrimSpace(a))
	end, err2 := time.Parse(costexplorer.InvoiceCSVPeriodLayout, strings.TrimSpace(b))
	if err1 != nil || err2 != nil || start.Day() != 1 || start.Year() < 1970 {
		return 0, false
	}
	m := costexplorer.MonthOf(start)
	if !end.Equal((m + 1).Start()) {
		return 0, false
	}
	return m, true
}
