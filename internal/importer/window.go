package importer

import (
	"bytes"
	"errors"
	"io"
)

// maxRecordBytes bounds one record of the CSV (a row with all its fields,
// over any number of lines): a stray quote would otherwise make the rest of
// a file one field, read into memory whole.
const maxRecordBytes = 8 << 20

// errRecordTooLong is returned by a window when the record being read
// exceeds maxRecordBytes.
var errRecordTooLong = errors.New("record too long")

// window reads a file for encoding/csv and keeps the raw bytes of the record
// being read (from its first line on), so that a syntax error can be located
// by field: encoding/csv counts bytes, the importer's errors count fields.
// It keeps no more than the current record and what encoding/csv has read
// ahead of it.
type window struct {
	r         io.Reader
	buf       []byte // the bytes read from r from offset base on
	base      int64
	start     int64 // offset of the current record's first line
	startLine int   // its line number
}

func newWindow(r io.Reader) *window { return &window{r: r, startLine: 1} }

func (w *window) Read(p []byte) (int, error) {
	if int64(len(w.buf))+w.base-w.start > maxRecordBytes {
		return 0, errRecordTooLong
	}
	n, err := w.r.Read(p)
	w.buf = append(w.buf, p[:n]...)
	return n, err
}

// advance moves the start of the current record to offset off (encoding/csv's
// InputOffset after a record), dropping the bytes before it.
func (w *window) advance(off int64) {
	from, to := int(w.start-w.base), int(off-w.base)
	w.startLine += bytes.Count(w.buf[from:to], []byte{'\n'})
	w.start = off
	if to >= 64<<10 && to > len(w.buf)/2 {
		w.buf = w.buf[:copy(w.buf, w.buf[to:])]
		w.base = off
	}
}

// record returns the raw bytes from the current record's first line on.
func (w *window) record() []byte { return w.buf[w.start-w.base:] }
