package focus

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/costexplorer/costexplorer"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Format is the file format of an export.
type Format string

// The formats we write.
const (
	CSV     Format = "csv"
	Parquet Format = "parquet"
)

// ParseFormat returns the format named s ("csv", "parquet").
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case CSV, Parquet:
		return Format(s), nil
	}
	return "", fmt.Errorf("unsupported format %q: use csv or parquet", s)
}

// RowWriter writes rows of one Spec to a file.
type RowWriter interface {
	Write(r *Row) error
	// Close flushes everything and ends the file (not the underlying writer).
	Close() error
}

// NewWriter returns a writer of format and spec on w.
func NewWriter(w io.Writer, format Format, spec Spec) (RowWriter, error) {
	switch format {
	case CSV:
		return newCSVWriter(w, spec)
	case Parquet:
		return newParquetWriter(w, spec), nil
	}
	return nil, fmt.Errorf("unsupported format %q", format)
}

// csvWriter writes gzip-compressed CSV (RFC 4180): a header of the column
// ids, then one line per row. A null is an empty field; since FOCUS forbids
// empty strings as values (and we never write one), an empty field is
// always a null.
type csvWriter struct {
	gz   *gzip.Writer
	bw   *bufio.Writer
	cols []int
	buf  []byte
	// times keeps the text of the last instant written in each column: a
	// column's instants repeat from row to row (a month, a day).
	times [numColumns]struct {
		unix int64
		text []byte
	}
}

func newCSVWriter(w io.Writer, spec Spec) (*csvWriter, error) {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	c := &csvWriter{gz: gz, bw: bufio.NewWriterSize(gz, 64<<10), cols: indexes(spec)}
	for i, col := range Columns(spec) {
		if i > 0 {
			c.bw.WriteByte(',')
		}
		c.bw.WriteString(col.Name)
	}
	_, err := c.bw.WriteString("\r\n")
	return c, err
}

func (c *csvWriter) Write(r *Row) error {
	b := c.buf[:0]
	for i, ci := range c.cols {
		if i > 0 {
			b = append(b, ',')
		}
		v := &r[ci]
		if v.Null {
			continue
		}
		switch allColumns[ci].Kind {
		case Cents:
			b = costexplorer.Cents(v.I).AppendDollars(b)
		case Decimal:
			b = append(b, v.S...)
		case Quantity:
			b = strconv.AppendFloat(b, v.F, 'f', -1, 64)
		case Time:
			t := &c.times[ci]
			if t.text == nil || t.unix != v.I {
				t.unix, t.text = v.I, time.Unix(v.I, 0).UTC().AppendFormat(t.text[:0], "2006-01-02T15:04:05Z")
			}
			b = append(b, t.text...)
		default:
			b = appendCSVField(b, v.S)
		}
	}
	b = append(b, '\r', '\n')
	c.buf = b
	_, err := c.bw.Write(b)
	return err
}

func (c *csvWriter) Close() error {
	if err := c.bw.Flush(); err != nil {
		return err
	}
	return c.gz.Close()
}

// appendCSVField quotes s when needsQuotes.
func appendCSVField(b []byte, s string) []byte {
	if !needsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// needsQuotes reports whether s holds a comma, a quote, a line break or
// surrounding spaces.
func needsQuotes(s string) bool {
	if s != "" && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	return false
}

// The Parquet writer's memory is bounded by these, whatever the period:
//
//   - RowGroupRows: a row group's pages are kept until it ends (a column's
//     pages must be contiguous in the file), so they go to an unlinked
//     temporary file (tempPages), not the heap; what stays in memory for the
//     whole file is the footer's metadata, about 1 kB per row group and
//     column (measured), so row groups are large: 20 M rows make 20 of
//     them, where row groups of 16 Ki rows would hold 70 MB of metadata.
//   - pageBufferSize: each column encodes its values in a buffer of this
//     size before compressing them into a page (the library's default is
//     256 KiB; 57 columns hold one each).
//   - no page bounds or page statistics: the page index (kept for the
//     footer, about 120 bytes per page: 1.5 MB per million rows with
//     these page buffers) holds no minimum and maximum per page, only each
//     page's place and null count; computing bounds nobody reads also cost
//     5% of the CPU.
//   - dictionaryMaxBytes: the dictionary of a dictionary-encoded column
//     (every string column but x_LineItemId: they take few distinct values)
//     is kept for its row group; past this size the column falls back to
//     plain encoding for the rest of the row group.
const (
	RowGroupRows       = 1 << 20
	pageBufferSize     = 32 << 10
	dictionaryMaxBytes = 256 << 10
)

// parquetWriter writes Parquet with the logical types of docs/focus.md:
// STRING, JSON, DECIMAL(18,2) on INT64 for cents, DOUBLE for other numbers,
// TIMESTAMP(MILLIS, UTC); optional columns for nullable ones.
//
// It writes column by column rather than row by row, and on two cores:
// rows are copied into a batch, column by column; a full batch is handed
// to encoders, each of which owns a share of the columns (a column writer
// is used by one goroutine at a time), while the caller maps and fills the
// next batch.
type parquetWriter struct {
	w    *parquet.Writer
	rg   *parquet.ConcurrentRowGroupWriter
	cols []parquetColumn
	// batch is being filled; encoding is being encoded (when busy). Each
	// holds a slice of cells per column of the file.
	batch, encoding [][]Cell
	busy            sync.WaitGroup
	// shares[k] lists the positions in cols that encoder k writes; errs[k]
	// is its error for the batch last encoded.
	shares [][]int
	errs   []error
	// values[i] is column i's scratch slice of values (one per batch row).
	values [][]parquet.Value
	rgRows int
	err    error
}

// parquetColumn is what the encoders need of a column: its index in a Row,
// its kind and the definition level of a value (1 in an optional column).
type parquetColumn struct {
	index int
	kind  Kind
	def   int
}

// batchRows is how many rows an encoder takes at a time; RowGroupRows is
// a multiple of it, so row groups end between batches. A page may run
// past pageBufferSize by up to a batch of values.
const batchRows = 512

// parquetEncoders is how many goroutines encode columns: the caller maps
// rows on one core, the encoders share the machine.
const parquetEncoders = 2

// Schema returns the Parquet schema of spec's columns, in file order.
func Schema(spec Spec) *parquet.Schema {
	var fields []reflect.StructField
	for i, c := range Columns(spec) {
		var t reflect.Type
		tag := c.Name
		switch c.Kind {
		case String:
			t = reflect.TypeFor[string]()
			if c.Name != "x_LineItemId" {
				tag += ",dict"
			}
		case JSON:
			t, tag = reflect.TypeFor[string](), tag+",json"
		case Cents:
			t, tag = reflect.TypeFor[int64](), tag+",decimal(2:18)"
		case Decimal, Quantity:
			t = reflect.TypeFor[float64]()
		case Time:
			t, tag = reflect.TypeFor[int64](), tag+",timestamp(millisecond:utc)"
		}
		if c.Nullable {
			t = reflect.PointerTo(t)
			tag += ",optional"
		}
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: t, Tag: reflect.StructTag(`parquet:"` + tag + `"`)})
	}
	return parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface())
}

func newParquetWriter(w io.Writer, spec Spec) *parquetWriter {
	opts := []parquet.WriterOption{Schema(spec),
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.PageBufferSize(pageBufferSize),
		parquet.DictionaryMaxBytes(dictionaryMaxBytes),
		parquet.DataPageStatistics(false),
		parquet.ColumnPageBuffers(tempPages{}),
		parquet.CreatedBy("costexplorer", "", ""),
		parquet.KeyValueMetadata("FocusVersion", string(spec))}
	for _, c := range Columns(spec) {
		opts = append(opts, parquet.SkipPageBounds(c.Name))
	}
	pw := parquet.NewWriter(w, opts...)
	p := &parquetWriter{w: pw, rg: pw.BeginRowGroup(),
		shares: make([][]int, parquetEncoders), errs: make([]error, parquetEncoders)}
	for i, ci := range indexes(spec) {
		c := parquetColumn{index: ci, kind: allColumns[ci].Kind}
		if allColumns[ci].Nullable {
			c.def = 1
		}
		p.cols = append(p.cols, c)
		p.values = append(p.values, make([]parquet.Value, 0, batchRows))
		p.batch = append(p.batch, make([]Cell, 0, batchRows))
		p.encoding = append(p.encoding, make([]Cell, 0, batchRows))
		// Columns alternate between encoders: neighbours are alike in cost.
		p.shares[i%parquetEncoders] = append(p.shares[i%parquetEncoders], i)
	}
	return p
}

// Write copies r into the batch; a full batch goes to the encoders once
// they are done with the previous one. String values point at the row's
// strings without copying them (strings are immutable, and the batch
// keeps them alive until encoded).
func (p *parquetWriter) Write(r *Row) error {
	for i, c := range p.cols {
		p.batch[i] = append(p.batch[i], r[c.index])
	}
	if len(p.batch[0]) == batchRows {
		return p.flush()
	}
	return p.err
}

// flush waits for the batch being encoded, ends the row group when it is
// full, then hands the filled batch to the encoders.
func (p *parquetWriter) flush() error {
	if err := p.wait(); err != nil {
		return err
	}
	if len(p.batch[0]) == 0 {
		return nil
	}
	p.batch, p.encoding = p.encoding, p.batch
	p.busy.Add(len(p.shares))
	for k := range p.shares {
		go p.encode(k)
	}
	return nil
}

// wait waits for the encoders and commits the row group once full.
func (p *parquetWriter) wait() error {
	p.busy.Wait()
	if p.err != nil {
		return p.err
	}
	if err := errors.Join(p.errs...); err != nil {
		p.err = err
		return err
	}
	p.rgRows += len(p.encoding[0])
	for i, cells := range p.encoding {
		clear(cells) // drop the references to the batch's strings
		p.encoding[i] = cells[:0]
	}
	if p.rgRows >= RowGroupRows {
		p.rgRows = 0
		if _, err := p.rg.Commit(); err != nil {
			p.err = err
			return err
		}
	}
	return nil
}

// encode writes the batch's values of encoder k's columns.
func (p *parquetWriter) encode(k int) {
	defer p.busy.Done()
	writers := p.rg.ColumnWriters()
	for _, i := range p.shares[k] {
		c := p.cols[i]
		vals := p.values[i][:0]
		for j := range p.encoding[i] {
			v := &p.encoding[i][j]
			var pv parquet.Value
			switch {
			case v.Null:
				vals = append(vals, parquet.NullValue())
				continue
			case c.kind == String || c.kind == JSON:
				pv = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v.S), len(v.S)))
			case c.kind == Cents:
				pv = parquet.Int64Value(v.I)
			case c.kind == Time:
				pv = parquet.Int64Value(v.I * 1000)
			default:
				pv = parquet.DoubleValue(v.F)
			}
			if c.def > 0 {
				pv = pv.Level(0, c.def, i)
			}
			vals = append(vals, pv)
		}
		_, err := writers[i].WriteRowValues(vals)
		clear(vals) // drop the references to the batch's strings
		p.values[i] = vals[:0]
		if err != nil {
			p.errs[k] = err
			return
		}
	}
	p.errs[k] = nil
}

func (p *parquetWriter) Close() error {
	if err := p.flush(); err != nil {
		return err
	}
	if err := p.wait(); err != nil {
		return err
	}
	if _, err := p.rg.Commit(); err != nil {
		return err
	}
	return p.w.Close()
}

// tempPages keeps the pages of a row group's columns in temporary files,
// one per column, unlinked as soon as they are created: nothing is left on
// disk when the export ends, fails or the process dies.
type tempPages struct{}

func (tempPages) GetBuffer() io.ReadWriteSeeker {
	f, err := os.CreateTemp("", "costexplorer-focus-*")
	if err != nil {
		return failedBuffer{fmt.Errorf("parquet page buffer: %w", err)}
	}
	os.Remove(f.Name())
	return f
}

func (tempPages) PutBuffer(b io.ReadWriteSeeker) {
	if f, ok := b.(*os.File); ok {
		f.Close()
	}
}

// failedBuffer fails every call with the error that kept a temporary file
// from being created; the writer reports it.
type failedBuffer struct{ err error }

func (b failedBuffer) Read([]byte) (int, error)       { return 0, b.err }
func (b failedBuffer) Write([]byte) (int, error)      { return 0, b.err }
func (b failedBuffer) Seek(int64, int) (int64, error) { return 0, b.err }
