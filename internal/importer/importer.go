// Package importer reads usage in the Atlas invoice CSV layout (DESIGN §2)
// and ingests it into a usage store.
//
// A file is all-or-nothing: Parse reads it completely and any bad row rejects
// the whole file with an *ImportError naming file, line and column; ImportFile
// then ingests the file in one IngestUsage call, so the store either gains the
// whole file or nothing.
//
// Two layouts are read: the file as Atlas serves it, which opens with a
// summary block (Invoice Number, Billing Period, Organization Name,
// Organization ID, each "label,value,"), a blank line and then the header;
// and the bare layout, header first. With a summary block, the invoice number
// becomes every item's invoice id, and every row must belong to the summary's
// organization and billing period; without one, an item's invoice is the
// derived invoice of its organization and month. Columns the layout does not
// name are tags: the header names the key, a cell holds the values (joined
// by ";"), kept on the item.
//
// Text that costexplorer neutralised against spreadsheet formulas (a quote
// before =, +, -, @) is restored (costexplorer.RestoreCSVText), so that the
// CSV costexplorer serves for an invoice imports back into the same items.
//
// Invoice rows carry no line-item ids. Each row's id is derived from its
// content and its occurrence count among identical rows of the same file, so
// importing a file again inserts nothing while genuine duplicate rows (two
// identical charges on one invoice) are both kept.
package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/costexplorer/costexplorer"
)

// Limits against absurd input. A file is held in memory while it is parsed
// (it becomes one batch anyway), so its size is bounded; fields and names are
// bounded so that a stray binary file or a runaway quote fails fast with a
// clear message.
const (
	MaxFileSize  = 1 << 30 // bytes
	MaxFieldSize = 64 << 10
	MaxNameSize  = 255
	// MaxAmount bounds one row's amount ($1 billion), so that the sums of a
	// file, and of the rollup, cannot overflow int64 cents.
	MaxAmount costexplorer.Cents = 1_000_000_000_00
)

// ImportError is a rejected file: File names it, Line and Column (1-based:
// the line of the row, the position of the offending field in the row) locate
// the fault. Line is 0 for faults of the file as a whole (too large,
// unreadable).
type ImportError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Error returns "file:line:column: msg", or "file: msg" when no line applies.
func (e *ImportError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column) + ": " + e.Msg
}

// column is one known column of the invoice CSV layout.
type column int

const (
	colDate column = iota
	colUsageDate
	colDescription
	colNote
	colOrgName
	colOrgID
	colProject
	colProjectID
	colSKU
	colRegion
	colCluster
	colReplicaSet
	colConfigServer
	colApplication
	colUnit
	colUnitPrice
	colQuantity
	colDiscount
	colAmount
	numColumns
)

// columnNames are the header names of the layout, in its order.
var columnNames = [numColumns]string(costexplorer.InvoiceCSVColumns)

// requiredColumns must be in every header: without them a row cannot become
// a line item.
var requiredColumns = []column{colUsageDate, colOrgName, colOrgID, colSKU, colAmount}

// identityColumns make up a row's identity (with its occurrence count). The
// organization and project names are left out: they are display names, and a
// rename between two exports of the same invoice must not double its usage.
var identityColumns = []column{
	colDate, colUsageDate, colDescription, colNote, colOrgID, colProjectID, colSKU,
	colRegion, colCluster, colReplicaSet, colConfigServer, colApplication, colUnit,
	colUnitPrice, colQuantity, colDiscount, colAmount,
}

// Parse reads one invoice CSV file completely and returns its batch: the
// organizations, projects and clusters its rows mention, in order of first
// appearance, and one line item per row. Any fault is an *ImportError.
func Parse(name string, r io.Reader) (*costexplorer.UsageBatch, error) {
	return parseLimited(name, r, MaxFileSize)
}

// parseLimited is Parse with a size limit that tests can make small.
func parseLimited(name string, r io.Reader, limit int64) (*costexplorer.UsageBatch, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &ImportError{File: name, Msg: "read: " + err.Error()}
	}
	if int64(len(data)) > limit {
		return nil, &ImportError{File: name, Msg: fmt.Sprintf("file is larger than the limit of %d bytes", limit)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	p := &parser{
		name:     name,
		data:     data,
		orgs:     map[string]int{},
		projects: map[string]int{},
		clusters: map[string]int{},
		seen:     map[string]int{},
		batch:    &costexplorer.UsageBatch{},
	}
	// A row of an invoice CSV is about 200 bytes: sizing the items once
	// spares the copies (and the peak) of a slice grown by doubling.
	p.batch.Items = make([]costexplorer.LineItem, 0, min(len(data)/160+1, 1<<22))
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.batch, nil
}

// parser holds the state of one Parse.
type parser struct {
	name string
	data []byte
	cr   *csv.Reader
	idx  [numColumns]int // field index of each known column, -1 if absent
	rec  []string
	line int // line of the current row

	tagCols   []tagColumn // the header's tag columns
	blankCols []int       // fields of columns without a name, which must stay empty
	summary   *summary    // the summary block, nil for the bare layout

	lastInvoice struct { // the last derived invoice id
		org   string
		month costexplorer.Month
		id    string
	}

	orgs, projects, clusters map[string]int // id → index in the batch
	seen                     map[string]int // row identity → occurrences so far
	batch                    *costexplorer.UsageBatch
	total                    costexplorer.Cents
}

// tagColumn is a header column the layout does not name: a tag key.
type tagColumn struct {
	field int
	key   string
}

func (p *parser) errAt(line, col int, format string, args ...any) *ImportError {
	return &ImportError{File: p.name, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// fail reports a fault in column c of the current row.
func (p *parser) fail(c column, format string, args ...any) *ImportError {
	col := 1
	if p.idx[c] >= 0 {
		col = p.idx[c] + 1
	}
	return p.errAt(p.line, col, format, args...)
}

func (p *parser) parse() error {
	p.cr = csv.NewReader(bytes.NewReader(p.data))
	p.cr.FieldsPerRecord = -1 // checked here, to name the column
	p.cr.TrimLeadingSpace = true
	p.cr.ReuseRecord = true

	header, err := p.cr.Read()
	if err == io.EOF {
		return p.errAt(1, 1, "empty file: want a header line with the invoice CSV columns")
	}
	if err != nil {
		return p.csvError(err)
	}
	if isLabel(header, costexplorer.InvoiceCSVNumberLabel) {
		if header, err = p.readSummary(header); err != nil {
			return err
		}
	}
	if err := p.readHeader(header); err != nil {
		return err
	}
	width := len(header)
	for {
		rec, err := p.cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.csvError(err)
		}
		p.line, _ = p.cr.FieldPos(0)
		if len(rec) != width {
			return p.errAt(p.line, min(len(rec), width)+1, "row has %d fields, the header has %d", len(rec), width)
		}
		for i, f := range rec {
			if err := p.checkField(i, f); err != nil {
				return err
			}
		}
		p.rec = rec
		if err := p.row(); err != nil {
			return err
		}
	}
}

// readHeader maps the header's names to the known columns: names match
// case-insensitively once trimmed, in any order. Any other named column is a
// tag key; a column without a name must stay empty.
func (p *parser) readHeader(header []string) error {
	line, _ := p.cr.FieldPos(0)
	for i := range p.idx {
		p.idx[i] = -1
	}
	keys := map[string]int{}
	for i, h := range header {
		if err := p.checkField(i, h); err != nil {
			return err
		}
		h = strings.TrimSpace(costexplorer.RestoreCSVText(strings.TrimSpace(h)))
		known := false
		for c, want := range columnNames {
			if !strings.EqualFold(h, want) {
				continue
			}
			if p.idx[c] >= 0 {
				return p.errAt(line, i+1, "column %q appears twice (also column %d)", want, p.idx[c]+1)
			}
			p.idx[c] = i
			known = true
		}
		switch {
		case known:
		case h == "":
			p.blankCols = append(p.blankCols, i)
		default:
			if j, dup := keys[h]; dup {
				return p.errAt(line, i+1, "tag column %q appears twice (also column %d)", h, j+1)
			}
			if err := costexplorer.ValidateTags(map[string][]string{h: {"x"}}); err != nil {
				return p.errAt(line, i+1, "column %q is not a valid tag key: %v", h, err)
			}
			if len(keys) == costexplorer.MaxTagKeys {
				return p.errAt(line, i+1, "more than %d tag columns", costexplorer.MaxTagKeys)
			}
			keys[h] = i
			p.tagCols = append(p.tagCols, tagColumn{field: i, key: h})
		}
	}
	var missing []string
	for _, c := range requiredColumns {
		if p.idx[c] < 0 {
			missing = append(missing, strconv.Quote(columnNames[c]))
		}
	}
	if len(missing) > 0 {
		return p.errAt(line, 1, "header lacks the required column(s) %s; an invoice CSV has %s",
			strings.Join(missing, ", "), strings.Join(columnNames[:], ", "))
	}
	return nil
}

// checkField rejects fields no invoice has: huge ones, invalid UTF-8, NUL.
func (p *parser) checkField(i int, f string) error {
	line, _ := p.cr.FieldPos(i)
	switch {
	case len(f) > MaxFieldSize:
		return p.errAt(line, i+1, "field is %d bytes, more than the %d KiB limit", len(f), MaxFieldSize>>10)
	case !utf8.ValidString(f):
		return p.errAt(line, i+1, "field is not valid UTF-8")
	case strings.IndexByte(f, 0) >= 0:
		return p.errAt(line, i+1, "field contains a NUL byte")
	}
	return nil
}

// csvError turns a syntax error of encoding/csv into an ImportError whose
// column is the field's position, like every other error (encoding/csv
// counts bytes).
func (p *parser) csvError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &ImportError{File: p.name, Msg: "read: " + err.Error()}
	}
	return p.errAt(pe.Line, p.fieldAt(pe.StartLine, pe.Line, pe.Column), "malformed CSV: %v", pe.Err)
}

// fieldAt returns the 1-based field position of byte column col (1-based) of
// line, in the record that starts on startLine, by scanning the raw input
// with the quoting rules of RFC 4180.
func (p *parser) fieldAt(startLine, line, col int) int {
	off := lineOffset(p.data, startLine)
	end := lineOffset(p.data, line) + max(col-1, 0)
	end = min(end, len(p.data))
	field, quoted := 1, false
	for i := off; i < end; i++ {
		switch p.data[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				field++
			}
		}
	}
	return field
}

// lineOffset returns the byte offset of the start of 1-based line n.
func lineOffset(data []byte, n int) int {
	off := 0
	for l := 1; l < n; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return len(data)
		}
		off += i + 1
	}
	return off
}

// get returns the trimmed value of column c in the current row ("" if the
// column is absent), restored from its formula-neutralised form.
func (p *parser) get(c column) string {
	if p.idx[c] < 0 {
		return ""
	}
	return p.field(p.idx[c])
}

// field returns the trimmed, restored value of field i of the current row.
func (p *parser) field(i int) string {
	return strings.TrimSpace(costexplorer.RestoreCSVText(strings.TrimSpace(p.rec[i])))
}
