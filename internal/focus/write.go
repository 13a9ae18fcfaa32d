package focus

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
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
	return costexplorer.AppendQuotedCSV(b, s)
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
