package postgres

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// copyItems copies rows into table (line_items, or the staging table) in
// COPY's binary format, encoded here as COPY reads it: pgx's CopyFrom took
// each of a row's 15 values as an interface value (most of them an
// allocation) and encoded it through its type map, about a tenth of the
// importer's CPU time.
func copyItems(ctx context.Context, tx pgx.Tx, table string, rows []sqlstore.ItemRow) error {
	_, err := tx.Conn().PgConn().CopyFrom(ctx, &itemCopy{rows: rows}, "COPY "+table+" ("+itemColumnList+") FROM STDIN (FORMAT binary)")
	return err
}

// itemColumnList is itemColumns as a statement names them.
var itemColumnList = strings.Join(itemColumns, ", ")

// itemCopy reads rows as a COPY stream in binary format: the header, a
// tuple a row in the columns of itemColumns and their types (INTEGER keys
// and days, BYTEA id, DOUBLE PRECISION quantity and discount percent,
// BIGINT prices and cents; NULL for the optional ones at 0), the trailer.
// It encodes copyRows rows at a time, so its buffer stays small whatever
// the number of rows.
type itemCopy struct {
	rows    []sqlstore.ItemRow
	next    int  // the first row not encoded yet
	started bool // the header is written
	ended   bool // the trailer is written
	buf     []byte
	off     int // what Read has given of buf
}

// copyRows is how many rows itemCopy encodes at a time: about 100 KB.
const copyRows = 1024

// copyHeader is the binary format's signature, flags and header extension
// length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func (c *itemCopy) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.ended {
			return 0, io.EOF
		}
		c.fill()
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// fill encodes the next rows into buf: the header first, the trailer
// after the last row.
func (c *itemCopy) fill() {
	b := c.buf[:0]
	if !c.started {
		b = append(b, copyHeader...)
		c.started = true
	}
	end := min(c.next+copyRows, len(c.rows))
	for i := c.next; i < end; i++ {
		b = appendItem(b, &c.rows[i])
	}
	c.next = end
	if end == len(c.rows) {
		b = binary.BigEndian.AppendUint16(b, 0xffff) // the trailer: a field count of -1
		c.ended = true
	}
	c.buf, c.off = b, 0
}

// appendItem appends row r as a tuple of itemColumns.
func appendItem(b []byte, r *sqlstore.ItemRow) []byte {
	li := r.Item
	b = binary.BigEndian.AppendUint16(b, uint16(len(itemColumns)))
	b = appendInt4(b, r.Org)
	b = appendInt4(b, r.Invoice)
	b = appendInt4(b, r.Project)
	b = appendInt4(b, r.Cluster)
	b = appendInt4(b, r.SKU)
	b = appendInt4(b, int64(li.Date))
	b = binary.BigEndian.AppendUint32(b, uint32(len(li.ID)))
	b = append(b, li.ID[:]...)
	b = appendFloat8(b, li.Quantity)
	b = appendInt8(b, li.UnitPriceNanos)
	b = appendInt8(b, int64(li.Amount))
	b = nullable(b, int64(li.BillDate), appendInt4)
	b = nullable(b, r.Detail, appendInt4)
	b = nullable(b, r.TagSet, appendInt4)
	if li.DiscountPercent == 0 {
		b = appendNull(b)
	} else {
		b = appendFloat8(b, li.DiscountPercent)
	}
	return nullable(b, int64(li.Discount), appendInt8)
}

// appendInt4 appends an INTEGER field.
func appendInt4(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 4)
	return binary.BigEndian.AppendUint32(b, uint32(int32(v)))
}

// appendInt8 appends a BIGINT field.
func appendInt8(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

// appendFloat8 appends a DOUBLE PRECISION field.
func appendFloat8(b []byte, f float64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

// appendNull appends a NULL field: a length of -1.
func appendNull(b []byte) []byte { return binary.BigEndian.AppendUint32(b, math.MaxUint32) }

// nullable appends v with field, or NULL for 0.
func nullable(b []byte, v int64, field func([]byte, int64) []byte) []byte {
	if v == 0 {
		return appendNull(b)
	}
	return field(b, v)
}
