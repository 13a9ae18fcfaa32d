package focus

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The Parquet writer encodes its pages itself, column by column: a cell
// goes straight into its column's page as the bytes of its encoding (or
// its dictionary index), where going through parquet-go's Writer built a
// parquet.Value per cell and copied it into a column buffer before
// encoding; parquet-go still provides the schema, the thrift encoding of
// page headers and footer, the RLE encodings and zstd.
//
// Its memory is bounded by these, whatever the period:
//
//   - RowGroupRows: a row group's pages are kept until it ends (a column's
//     pages must be contiguous in the file), so they go to an unlinked
//     temporary file per column, not the heap; what stays in memory for the
//     whole file is the footer's metadata, about 1 kB per row group and
//     column, so row groups are large.
//   - pageRows: every page holds this many rows (fewer in a row group's
//     last); each column has two pages in memory, one being filled while
//     the other is encoded: 57 columns of 4096 rows take about 3 MB.
//   - no page index (column and offset indexes) and no statistics: the
//     page index grew by about 1.5 MB of live heap per million rows until
//     the footer was written, and no reader we know needs it to read the
//     whole file (DuckDB, parquet-go and Arrow read pages in order).
//   - dictionaryMaxBytes: the dictionary of a dictionary-encoded column
//     (every string column but x_LineItemId: they take few distinct values)
//     is kept for its row group; past this size the column falls back to
//     plain encoding from its next page to the end of the row group.
const (
	RowGroupRows       = 1 << 20
	pageRows           = 4096
	dictionaryMaxBytes = 256 << 10
)

// parquetEncoders is how many goroutines encode and compress pages: the
// caller maps rows and fills pages on one core while they encode the last
// ones.
const parquetEncoders = 2

// parquetCreatedBy is the footer's created_by: what parquet-go's
// CreatedBy("costexplorer", "", "") wrote.
const parquetCreatedBy = "costexplorer version (build )"

// zstdWindow is the window of the zstd encoders: a page at most (the
// library's default of 8 MiB made each of them hold 8 MiB).
const zstdWindow = 256 << 10

var (
	levelEncoding  = &rle.Encoding{BitWidth: 1}
	indexEncoding  = &rle.DictionaryEncoding{}
	parquetMagic   = []byte("PAR1")
	errNullInField = errors.New("null value in a required column")
)

// Schema returns the Parquet schema of spec's columns, in file order.
func Schema(spec Spec) *parquet.Schema {
	var fields []reflect.StructField
	for i, c := range Columns(spec) {
		var t reflect.Type
		tag := c.Name
		switch c.Kind {
		case String:
			t = reflect.TypeFor[string]()
			if dictionaryEncoded(c) {
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

// dictionaryEncoded reports whether c's pages start dictionary-encoded.
func dictionaryEncoded(c Column) bool {
	return c.Kind == String && c.Name != "x_LineItemId"
}

// parquetWriter writes Parquet with the logical types of docs/focus.md:
// STRING, JSON, DECIMAL(18,2) on INT64 for cents, DOUBLE for other numbers,
// TIMESTAMP(MILLIS, UTC); optional columns for nullable ones. Pages are
// data pages v2 (levels uncompressed, values compressed with zstd).
//
// Write appends each cell of a row to its column's page being filled;
// every pageRows rows, that page of every column goes to the encoders,
// each of which owns a share of the columns, while Write fills the other.
type parquetWriter struct {
	out  *offsetWriter
	cols []*pqColumn
	// zstd compresses pages, from parquetEncoders goroutines at once.
	zstd *zstd.Encoder
	// shares[k] lists the columns encoder k writes; errs[k] is its error
	// for the pages last encoded.
	shares [][]int
	errs   []error
	busy   sync.WaitGroup
	// fill is which of each column's two pages Write fills; rows is how
	// many rows it holds; rgRows counts the row group's rows handed to the
	// encoders.
	fill   int
	rows   int
	rgRows int64
	// rowGroupRows and dictMax are RowGroupRows and dictionaryMaxBytes
	// but in tests.
	rowGroupRows int64
	dictMax      int
	meta         format.FileMetaData
	err          error
}

// pqColumn is one column: its two pages, its dictionary, and the state of
// the row group's column chunk (its pages in a temporary file).
type pqColumn struct {
	name     string
	index    int // in a Row
	kind     Kind
	optional bool
	physical format.Type
	dict     *pqDict // nil for a plain column
	pages    [2]pqPage

	// Used by the column's encoder only while it encodes.
	levels, values, packed []byte
	header                 bytes.Buffer
	headerEncoder          *thrift.Encoder
	tmp                    *os.File
	tmpw                   *bufio.Writer
	chunk                  pqChunk
}

// pqPage is a page being filled: its definition levels (optional columns)
// and its values, encoded (PLAIN) or as dictionary indexes.
type pqPage struct {
	defs   []byte
	nulls  int
	values []byte  // PLAIN: 8 bytes per number, length and bytes per string
	idx    []int32 // dictionary indexes, when dict
	dict   bool
}

// pqChunk sums up the pages written to a column's temporary file in the
// current row group.
type pqChunk struct {
	size         int64 // bytes in the temporary file
	values       int64
	nulls        int64
	uncompressed int64
	dictPages    bool
	plainPages   bool
}

// pqDict is a column's dictionary for the current row group.
type pqDict struct {
	ids    map[string]int32
	values []string // by index, owned copies
	page   []byte   // the dictionary page's values, PLAIN
	// last is the index of the value looked up last: a column's value
	// often repeats from one row to the next.
	last int32
}

func newParquetWriter(w io.Writer, spec Spec) *parquetWriter {
	schema := Schema(spec)
	p := &parquetWriter{out: &offsetWriter{w: bufio.NewWriterSize(w, 64<<10)},
		shares: make([][]int, parquetEncoders), errs: make([]error, parquetEncoders),
		rowGroupRows: RowGroupRows, dictMax: dictionaryMaxBytes}
	// These options are valid: the error is nil.
	p.zstd, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(zstdWindow),
		zstd.WithEncoderConcurrency(parquetEncoders), zstd.WithEncoderCRC(false), zstd.WithZeroFrames(true))
	p.meta = format.FileMetaData{
		Version:          2,
		Schema:           []format.SchemaElement{{Name: schema.Name(), NumChildren: thrift.New(int32(len(schema.Fields())))}},
		KeyValueMetadata: []format.KeyValue{{Key: "FocusVersion", Value: string(spec)}},
		CreatedBy:        parquetCreatedBy,
	}
	protocol := new(thrift.CompactProtocol)
	for i, ci := range indexes(spec) {
		col := allColumns[ci]
		leaf, ok := schema.Lookup(col.Name)
		if !ok {
			panic("focus: column " + col.Name + " missing from its schema")
		}
		t := leaf.Node.Type()
		c := &pqColumn{name: col.Name, index: ci, kind: col.Kind, optional: col.Nullable, physical: *t.PhysicalType()}
		c.headerEncoder = thrift.NewEncoder(protocol.NewWriter(&c.header))
		if dictionaryEncoded(col) {
			c.dict = &pqDict{ids: map[string]int32{}, last: -1}
		}
		p.cols = append(p.cols, c)

		e := format.SchemaElement{Name: col.Name}
		e.Type.Set(c.physical)
		if col.Nullable {
			e.RepetitionType.Set(format.Optional)
		} else {
			e.RepetitionType.Set(format.Required)
		}
		if lt := t.LogicalType(); lt != nil {
			e.LogicalType = *lt
			if d, ok := lt.Value.(*format.DecimalType); ok {
				e.Scale.Set(d.Scale)
				e.Precision.Set(d.Precision)
			}
		}
		if ct := t.ConvertedType(); ct != nil {
			e.ConvertedType.Set(*ct)
		}
		p.meta.Schema = append(p.meta.Schema, e)
		p.meta.ColumnOrders = append(p.meta.ColumnOrders, *t.ColumnOrder())
		// Columns alternate between encoders: neighbours are alike in cost.
		p.shares[i%parquetEncoders] = append(p.shares[i%parquetEncoders], i)
	}
	p.startPages()
	p.out.Write(parquetMagic) // buffered: an error shows at the next flush
	return p
}

// Write appends r's cells to the pages being filled; every pageRows rows
// they go to the encoders.
func (p *parquetWriter) Write(r *Row) error {
	if p.err != nil {
		return p.err
	}
	fill := p.fill
	for _, c := range p.cols {
		v := &r[c.index]
		pg := &c.pages[fill]
		if c.optional {
			if v.Null {
				pg.defs = append(pg.defs, 0)
				pg.nulls++
				continue
			}
			pg.defs = append(pg.defs, 1)
		} else if v.Null {
			p.err = fmt.Errorf("parquet column %s: %w", c.name, errNullInField)
			return p.err
		}
		switch c.kind {
		case Cents:
			pg.values = binary.LittleEndian.AppendUint64(pg.values, uint64(v.I))
		case Time:
			pg.values = binary.LittleEndian.AppendUint64(pg.values, uint64(v.I*1000))
		case Decimal, Quantity:
			pg.values = binary.LittleEndian.AppendUint64(pg.values, math.Float64bits(v.F))
		default:
			if pg.dict {
				pg.idx = append(pg.idx, c.dict.index(v.S))
			} else {
				pg.values = binary.LittleEndian.AppendUint32(pg.values, uint32(len(v.S)))
				pg.values = append(pg.values, v.S...)
			}
		}
	}
	p.rows++
	if p.rows == pageRows {
		return p.flush()
	}
	return nil
}

// index returns s's index in the dictionary, adding it if new.
func (d *pqDict) index(s string) int32 {
	if d.last >= 0 && d.values[d.last] == s {
		return d.last
	}
	id, ok := d.ids[s]
	if !ok {
		// A copy: the row's strings are the caller's.
		s = strings.Clone(s)
		id = int32(len(d.values))
		d.ids[s] = id
		d.values = append(d.values, s)
		d.page = binary.LittleEndian.AppendUint32(d.page, uint32(len(s)))
		d.page = append(d.page, s...)
	}
	d.last = id
	return id
}

func (d *pqDict) reset() {
	clear(d.ids)
	clear(d.values)
	d.values = d.values[:0]
	d.page = d.page[:0]
	d.last = -1
}

// startPages empties the pages to be filled; a column's is
// dictionary-encoded unless its dictionary is full.
func (p *parquetWriter) startPages() {
	for _, c := range p.cols {
		pg := &c.pages[p.fill]
		pg.defs, pg.values, pg.idx, pg.nulls = pg.defs[:0], pg.values[:0], pg.idx[:0], 0
		pg.dict = c.dict != nil && len(c.dict.page) <= p.dictMax
	}
}

// flush hands the pages being filled to the encoders, once they are done
// with the previous ones; at the end of a row group it waits for them and
// writes the row group.
func (p *parquetWriter) flush() error {
	if err := p.wait(); err != nil {
		return err
	}
	if p.rows == 0 {
		return nil
	}
	page, rows := p.fill, p.rows
	p.fill, p.rows = page^1, 0
	p.rgRows += int64(rows)
	p.busy.Add(len(p.shares))
	for k := range p.shares {
		go p.encode(k, page, rows)
	}
	if p.rgRows >= p.rowGroupRows {
		if err := p.endRowGroup(); err != nil {
			return err
		}
	}
	p.startPages()
	return nil
}

// wait waits for the encoders.
func (p *parquetWriter) wait() error {
	p.busy.Wait()
	if p.err != nil {
		return p.err
	}
	if err := errors.Join(p.errs...); err != nil {
		p.err = err
	}
	return p.err
}

// encode writes page of encoder k's columns.
func (p *parquetWriter) encode(k, page, rows int) {
	defer p.busy.Done()
	for _, i := range p.shares[k] {
		if err := p.cols[i].writePage(p.zstd, page, rows); err != nil {
			p.errs[k] = fmt.Errorf("parquet column %s: %w", p.cols[i].name, err)
			return
		}
	}
}

// writePage encodes and compresses page i of c and appends it to c's
// temporary file.
func (c *pqColumn) writePage(z *zstd.Encoder, i, rows int) error {
	pg := &c.pages[i]
	var levels []byte
	if c.optional {
		c.levels, _ = levelEncoding.EncodeLevels(c.levels, pg.defs)
		levels = c.levels
	}
	values, encoding := pg.values, format.Plain
	if pg.dict {
		c.values, _ = indexEncoding.EncodeInt32(c.values, pg.idx)
		values, encoding = c.values, format.RLEDictionary
		c.chunk.dictPages = true
	} else {
		c.chunk.plainPages = true
	}
	c.packed = z.EncodeAll(values, c.packed[:0])
	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(len(levels) + len(values)),
		CompressedPageSize:   int32(len(levels) + len(c.packed)),
	}
	h.DataPageHeaderV2.Set(format.DataPageHeaderV2{
		NumValues:                  int32(rows),
		NumNulls:                   int32(pg.nulls),
		NumRows:                    int32(rows),
		Encoding:                   encoding,
		DefinitionLevelsByteLength: int32(len(levels)),
		IsCompressed:               thrift.New(true),
		// Always written (the library writes null_count even when zero):
		// readers trust it, DuckDB skips the levels when it is 0.
		Statistics: format.Statistics{NullCount: int64(pg.nulls)},
	})
	c.header.Reset()
	if err := c.headerEncoder.Encode(&h); err != nil {
		return err
	}
	if c.tmp == nil {
		f, err := os.CreateTemp("", "costexplorer-focus-*")
		if err != nil {
			return fmt.Errorf("parquet page buffer: %w", err)
		}
		// Unlinked at once: nothing is left on disk when the export ends,
		// fails or the process dies.
		os.Remove(f.Name())
		c.tmp, c.tmpw = f, bufio.NewWriterSize(f, 16<<10)
	}
	for _, b := range [...][]byte{c.header.Bytes(), levels, c.packed} {
		if _, err := c.tmpw.Write(b); err != nil {
			return err
		}
	}
	c.chunk.size += int64(c.header.Len() + len(levels) + len(c.packed))
	c.chunk.uncompressed += int64(c.header.Len() + len(levels) + len(values))
	c.chunk.values += int64(rows)
	c.chunk.nulls += int64(pg.nulls)
	return nil
}

// endRowGroup waits for the encoders and writes the row group: each
// column's dictionary page, then its data pages, copied from its
// temporary file.
func (p *parquetWriter) endRowGroup() error {
	if err := p.wait(); err != nil {
		return err
	}
	if p.rgRows == 0 {
		return nil
	}
	rg := format.RowGroup{NumRows: p.rgRows, FileOffset: p.out.off, Ordinal: int16(len(p.meta.RowGroups))}
	for _, c := range p.cols {
		cc, err := c.writeChunk(p.out, p.zstd)
		if err != nil {
			p.err = fmt.Errorf("parquet column %s: %w", c.name, err)
			return p.err
		}
		rg.Columns = append(rg.Columns, cc)
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
	}
	p.meta.RowGroups = append(p.meta.RowGroups, rg)
	p.meta.NumRows += p.rgRows
	p.rgRows = 0
	return nil
}

// writeChunk writes c's column chunk of the row group to out and resets
// c for the next one.
func (c *pqColumn) writeChunk(out *offsetWriter, z *zstd.Encoder) (format.ColumnChunk, error) {
	md := format.ColumnMetaData{
		Type:         c.physical,
		PathInSchema: []string{c.name},
		Codec:        format.Zstd,
		NumValues:    c.chunk.values,
		// The only statistic: null_count is always written, and a reader
		// (DuckDB) takes 0 to mean that it need not read the levels.
		Statistics: format.Statistics{NullCount: c.chunk.nulls},
	}
	if c.chunk.dictPages || c.chunk.plainPages {
		md.Encoding = append(md.Encoding, format.Plain)
	}
	if c.optional {
		md.Encoding = append(md.Encoding, format.RLE)
	}
	if c.chunk.dictPages {
		md.Encoding = append(md.Encoding, format.RLEDictionary)
		md.DictionaryPageOffset = out.off
		c.packed = z.EncodeAll(c.dict.page, c.packed[:0])
		h := format.PageHeader{
			Type:                 format.DictionaryPage,
			UncompressedPageSize: int32(len(c.dict.page)),
			CompressedPageSize:   int32(len(c.packed)),
		}
		h.DictionaryPageHeader.Set(format.DictionaryPageHeader{NumValues: int32(len(c.dict.values)), Encoding: format.Plain})
		c.header.Reset()
		if err := c.headerEncoder.Encode(&h); err != nil {
			return format.ColumnChunk{}, err
		}
		out.Write(c.header.Bytes())
		out.Write(c.packed)
		md.TotalUncompressedSize += int64(c.header.Len() + len(c.dict.page))
		md.TotalCompressedSize += int64(c.header.Len() + len(c.packed))
	}
	md.DataPageOffset = out.off
	if c.tmp != nil {
		if err := c.tmpw.Flush(); err != nil {
			return format.ColumnChunk{}, err
		}
		if _, err := c.tmp.Seek(0, io.SeekStart); err != nil {
			return format.ColumnChunk{}, err
		}
		if _, err := io.CopyN(out, c.tmp, c.chunk.size); err != nil {
			return format.ColumnChunk{}, err
		}
		if _, err := c.tmp.Seek(0, io.SeekStart); err != nil {
			return format.ColumnChunk{}, err
		}
	}
	md.TotalUncompressedSize += c.chunk.uncompressed
	md.TotalCompressedSize += c.chunk.size
	c.chunk = pqChunk{}
	if c.dict != nil {
		c.dict.reset()
	}
	return format.ColumnChunk{MetaData: md}, out.err
}

func (p *parquetWriter) Close() error {
	defer p.closeTemp()
	if err := p.flush(); err != nil {
		return err
	}
	if err := p.endRowGroup(); err != nil {
		return err
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &p.meta)
	if err != nil {
		return err
	}
	p.out.Write(footer)
	p.out.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(footer))))
	p.out.Write(parquetMagic)
	if p.out.err != nil {
		return p.out.err
	}
	return p.out.w.Flush()
}

// discard waits for the encoders and closes the temporary files, when
// the export stops before Close.
func (p *parquetWriter) discard() {
	p.busy.Wait()
	p.closeTemp()
}

// closeTemp closes the columns' temporary files and the zstd encoder.
func (p *parquetWriter) closeTemp() {
	p.zstd.Close()
	for _, c := range p.cols {
		if c.tmp != nil {
			c.tmp.Close()
			c.tmp, c.tmpw = nil, nil
		}
	}
}

// offsetWriter counts the bytes written, the offset in the file of the
// next, and keeps the first error.
type offsetWriter struct {
	w   *bufio.Writer
	off int64
	err error
}

func (o *offsetWriter) Write(b []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(b)
	o.off += int64(n)
	o.err = err
	return n, err
}
