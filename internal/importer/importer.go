// Package importer reads usage in the Atlas invoice CSV layout (DESIGN §2)
// and ingests it into a usage store.
//
// A file is all-or-nothing: any bad row rejects the whole file with an
// *ImportError naming file, line and column, and the store gains the whole
// file or nothing. Import streams: it hands a session store
// (costexplorer.UsageSessionStore) the file in chunks as it reads it, within
// one session committed at the end, so memory stays bounded whatever the
// file's size; Parse reads a whole file into one batch.
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
// identical charges on one invoice) are both kept. The count is exact and
// takes bounded memory: a Bloom filter says of most rows that their content
// is new, and the rows it may have seen are counted once the file is read,
// against the content hashes spilled to a temporary file (occur.go).
package importer

import (
	"bufio"
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

// Limits against absurd input. Parse holds a file in memory, so the size of
// what it reads is bounded (Import streams files of any size); fields and
// names are bounded so that a stray binary file or a runaway quote fails fast
// with a clear message.
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
// appearance, and one line item per row. Any fault is an *ImportError. The
// batch holds the whole file: Import streams instead.
func Parse(name string, r io.Reader) (*costexplorer.UsageBatch, error) {
	return parseLimited(name, r, MaxFileSize)
}

// parseLimited is Parse with a size limit that tests can make small.
func parseLimited(name string, r io.Reader, limit int64) (*costexplorer.UsageBatch, error) {
	lr := &limitedReader{r: r, n: limit}
	p := newParser(name, lr, exactCounter{})
	var batch *costexplorer.UsageBatch
	p.emit = func(b *costexplorer.UsageBatch) error { batch = b; return nil }
	err := p.parse()
	if lr.over {
		return nil, &ImportError{File: name, Msg: fmt.Sprintf("file is larger than the limit of %d bytes", limit)}
	}
	if err != nil {
		return nil, err
	}
	if batch == nil { // a file without rows
		batch = p.batch
	}
	return batch, nil
}

// limitedReader reads at most n bytes of r, and then fails, noting that the
// input went on.
type limitedReader struct {
	r    io.Reader
	n    int64
	over bool
}

var errTooLarge = errors.New("file too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.over = true
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), l.n)]
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// newParser returns a parser of the file r, counting occurrences with occ.
// Its emit is to be set: with chunkRows 0, the whole file is one batch.
func newParser(name string, r io.Reader, occ occurrences) *parser {
	return &parser{
		name:     name,
		rd:       newRecordReader(skipBOM(r)),
		orgs:     map[string]bool{},
		projects: map[string]string{},
		clusters: map[string]*clusterSeen{},
		occ:      occ,
		batch:    &costexplorer.UsageBatch{},
	}
}

// skipBOM returns r without the UTF-8 byte-order mark it may start with.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	return br
}

// parser holds the state of one file being read. Rows become line items
// appended to batch, which goes to emit every chunkRows items (and at the
// end) with the dimensions its items mention for the first time (and the
// clusters whose provider or tier the chunk's rows told first).
type parser struct {
	name string
	rd   *recordReader
	idx  [numColumns]int // field index of each known column, -1 if absent
	rec  []string
	line int // line of the current row
	// vals holds the trimmed, restored value of each known column of the
	// current row ("" for a column the header lacks).
	vals [numColumns]string

	tagCols   []tagColumn // the header's tag columns
	blankCols []int       // fields of columns without a name, which must stay empty
	summary   *summary    // the summary block, nil for the bare layout

	lastMonth struct { // the month of the last usage day
		day   costexplorer.Day
		month costexplorer.Month
		set   bool
	}
	lastInvoice struct { // the last derived invoice id
		org   string
		month costexplorer.Month
		id    string
	}

	lastOrg string   // the organization of the row before
	lastSKU struct { // the SKU of the row before
		id  string
		sku costexplorer.SKU
	}

	orgs     map[string]bool         // emitted organizations
	projects map[string]string       // emitted projects → organization
	clusters map[string]*clusterSeen // emitted clusters
	occ      occurrences
	opts     Options
	occur    int    // the occurrence of the row being replayed (see spillCounter), else 0
	idBuf    []byte // the identity of the current row
	// checked holds, by column, the last id or name that passed its
	// checks: the rows of one resource repeat them.
	checked [numColumns]string

	tagKey      []byte                       // the tag cells of the current row
	tagCache    map[string]costexplorer.Tags // tags by their cells
	lastCluster struct{ project, name, id string }

	batch     *costexplorer.UsageBatch // the chunk being filled
	chunk     int                      // its number
	chunkRows int
	emit      func(*costexplorer.UsageBatch) error
	rows      int
	total     costexplorer.Cents
}

// clusterSeen is an emitted cluster: the chunk and index it went out in, and
// its descriptive fields so far.
type clusterSeen struct {
	chunk, index   int
	provider, tier string
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
	header, err := p.read()
	if err == io.EOF {
		return p.errAt(1, 1, "empty file: want a header line with the invoice CSV columns")
	}
	if err != nil {
		return err
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
		rec, err := p.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		p.line = p.rd.fieldLine(0)
		if len(rec) != width {
			return p.errAt(p.line, min(len(rec), width)+1, "row has %d fields, the header has %d", len(rec), width)
		}
		if !p.rd.plain {
			for i, f := range rec {
				if err := p.checkField(i, f); err != nil {
					return err
				}
			}
		}
		p.rec = rec
		if err := p.row(); err != nil {
			return err
		}
	}
	if sc, ok := p.occ.(*spillCounter); ok {
		err := sc.resolve(func(line int, rec []string, k int) error {
			p.line, p.rec, p.occur = line, rec, k
			return p.row()
		})
		p.occur = 0
		if err != nil {
			return err
		}
	}
	return p.flush()
}

// read reads the next record: io.EOF at the end, else any fault is an
// *ImportError.
func (p *parser) read() ([]string, error) {
	rec, err := p.rd.read()
	switch {
	case err == nil:
		return rec, nil
	case err == io.EOF:
		return nil, err
	case errors.Is(err, errRecordTooLong):
		return nil, p.errAt(p.rd.win.startLine, 1, "a record of more than %d MiB: a quote left open?", maxRecordBytes>>20)
	case errors.Is(err, errTooLarge):
		return nil, &ImportError{File: p.name, Msg: err.Error()}
	}
	return nil, p.csvError(err)
}

// flush emits the chunk being filled, if it holds anything.
func (p *parser) flush() error {
	b := p.batch
	if len(b.Items) == 0 && len(b.Organizations) == 0 && len(b.Projects) == 0 && len(b.Clusters) == 0 {
		return nil
	}
	if err := p.emit(b); err != nil {
		return err
	}
	p.batch = &costexplorer.UsageBatch{Items: make([]costexplorer.LineItem, 0, p.chunkRows)}
	p.chunk++
	return nil
}

// readHeader maps the header's names to the known columns: names match
// case-insensitively once trimmed, in any order. Any other named column is a
// tag key; a column without a name must stay empty.
func (p *parser) readHeader(header []string) error {
	line := p.rd.fieldLine(0)
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
	line := p.rd.fieldLine(i)
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
// counts bytes, and lines from where it took over: see recordReader).
func (p *parser) csvError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &ImportError{File: p.name, Msg: "read: " + err.Error()}
	}
	base := p.rd.lineBase
	return p.errAt(base+pe.Line, p.fieldAt(base+pe.StartLine, base+pe.Line, pe.Column), "malformed CSV: %v", pe.Err)
}

// fieldAt returns the 1-based field position of byte column col (1-based) of
// line, in the record that starts on startLine, by scanning the record's raw
// bytes (kept by the window) with the quoting rules of RFC 4180.
func (p *parser) fieldAt(startLine, line, col int) int {
	win := p.rd.win
	data := win.record()
	off := lineOffset(data, startLine-win.startLine+1)
	end := lineOffset(data, line-win.startLine+1) + max(col-1, 0)
	end = min(end, len(data))
	field, quoted := 1, false
	for i := off; i < end; i++ {
		switch data[i] {
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
func (p *parser) get(c column) string { return p.vals[c] }

// readVals sets vals from the current row.
func (p *parser) readVals() {
	for c, i := range p.idx {
		if i < 0 {
			p.vals[c] = ""
		} else {
			p.vals[c] = p.field(i)
		}
	}
}

// field returns the trimmed, restored value of field i of the current row.
func (p *parser) field(i int) string { return cleanField(p.rec[i]) }

// cleanField returns f trimmed and restored from its formula-neutralised
// form; most fields need neither, which is told by their first and last
// bytes.
func cleanField(f string) string {
	if f == "" {
		return f
	}
	if a, z := f[0], f[len(f)-1]; a > ' ' && a < utf8.RuneSelf && a != '\'' && z > ' ' && z < utf8.RuneSelf {
		return f
	}
	return strings.TrimSpace(costexplorer.RestoreCSVText(strings.TrimSpace(f)))
}
