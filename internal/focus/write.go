package focus

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
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
//   - no page bounds: the page index (kept for the footer) holds no
//     minimum and maximum per page, only each page's place; the row
//     groups' statistics keep theirs.
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
type parquetWriter struct {
	w    *parquet.Writer
	cols []parquetColumn
	rows []parquet.Row
}

// parquetColumn is what Write needs of a column: its index in a Row, its
// kind and the definition level of a value (1 in an optional column).
type parquetColumn struct {
	index int
	kind  Kind
	def   int
}

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
		parquet.ColumnPageBuffers(tempPages{}),
		parquet.CreatedBy("costexplorer", "", ""),
		parquet.KeyValueMetadata("FocusVersion", string(spec))}
	for _, c := range Columns(spec) {
		opts = append(opts, parquet.SkipPageBounds(c.Name))
	}
	pw := parquet.NewWriter(w, opts...)
	p := &parquetWriter{w: pw, rows: make([]parquet.Row, 256)}
	for _, ci := range indexes(spec) {
		c := parquetColumn{index: ci, kind: allColumns[ci].Kind}
		if allColumns[ci].Nullable {
			c.def = 1
		}
		p.cols = append(p.cols, c)
	}
	for i := range p.rows {
		p.rows[i] = make(parquet.Row, 0, len(p.cols))
	}
	p.rows = p.rows[:0]
	return p
}

// Write buffers rows in small batches, reusing their memory: the writer
// copies values into its column buffers on WriteRows. String values point
// at the row's strings without copying them (strings are immutable, and a
// value keeps its string alive until the batch is written).
func (p *parquetWriter) Write(r *Row) error {
	n := len(p.rows)
	p.rows = p.rows[:n+1]
	row := p.rows[n][:0]
	for i, c := range p.cols {
		v := &r[c.index]
		var pv parquet.Value
		def := c.def
		switch {
		case v.Null:
			pv, def = parquet.NullValue(), 0
		case c.kind == String || c.kind == JSON:
			pv = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v.S), len(v.S)))
		case c.kind == Cents:
			pv = parquet.Int64Value(v.I)
		case c.kind == Time:
			pv = parquet.Int64Value(v.I * 1000)
		default:
			pv = parquet.DoubleValue(v.F)
		}
		row = append(row, pv.Level(0, def, i))
	}
	p.rows[n] = row
	if len(p.rows) == cap(p.rows) {
		return p.flush()
	}
	return nil
}

func (p *parquetWriter) flush() error {
	_, err := p.w.WriteRows(p.rows)
	p.rows = p.rows[:0]
	return err
}

func (p *parquetWriter) Close() error {
	if err := p.flush(); err != nil {
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
