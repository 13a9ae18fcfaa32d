package importer

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// recordReader reads the records of an invoice CSV exactly as encoding/csv
// reads them with TrimLeadingSpace (and FieldsPerRecord -1, ReuseRecord):
// the same fields, the same lines, the same errors. The records an invoice
// has (unquoted fields, quoted fields with commas, doubled quotes and line
// breaks, LF or CRLF line ends) it reads from its own buffer, a line without
// quotes as one string whose substrings are the fields. From the first
// record it cannot take as surely (a syntax error to report, a lone CR, a
// record longer than its buffer) to the end of the file, encoding/csv reads,
// from that record's first byte, so that every error and edge case is
// encoding/csv's own.
type recordReader struct {
	r        io.Reader
	buf      []byte
	pos, end int   // the unread input is buf[pos:end]
	eof      bool  // r has nothing more (rerr, if it failed)
	rerr     error // r's error other than io.EOF
	line     int   // lines before buf[pos]

	rec     []string
	recLine int    // the line the record starts on
	lines   []int  // the line each field starts on, when the record spans lines
	ends    []int  // end of each field in scratch
	scratch []byte // the fields of a record with quotes, unquoted
	// plain is set when every field of rec is ASCII without NUL and within
	// MaxFieldSize, so that the parser need not check them one by one.
	plain bool

	// The slow path: encoding/csv, reading through a window that keeps the
	// bytes of its current record, for locating a syntax error by field.
	slow     *csv.Reader
	win      *window
	lineBase int // lines before slow's first
}

// readBufferSize is the fast path's buffer: a record longer than this goes
// to encoding/csv (with its limit, maxRecordBytes).
const readBufferSize = 256 << 10

func newRecordReader(r io.Reader) *recordReader {
	return &recordReader{r: r, buf: make([]byte, readBufferSize)}
}

// Results of fastRecord.
const (
	recOK   = iota // a record was read
	recEOF         // the input has no more records
	recMore        // the record runs past the buffered input
	recSlow        // encoding/csv is to read from this record on
)

// read returns the next record (valid until the next call), io.EOF at the
// end of the input, or encoding/csv's error. Errors of encoding/csv count
// lines from lineBase.
func (rr *recordReader) read() ([]string, error) {
	if rr.slow == nil {
		for {
			switch rr.fastRecord() {
			case recOK:
				return rr.rec, nil
			case recEOF:
				return nil, io.EOF
			case recMore:
				if rr.fill() {
					continue
				}
			}
			rr.toSlow()
			break
		}
	}
	rec, err := rr.slow.Read()
	if err != nil {
		return nil, err
	}
	rr.win.advance(rr.slow.InputOffset())
	rr.rec, rr.plain = rec, false
	return rec, nil
}

// fieldLine returns the line on which field i of the current record
// starts.
func (rr *recordReader) fieldLine(i int) int {
	switch {
	case rr.slow != nil:
		line, _ := rr.slow.FieldPos(i)
		return rr.lineBase + line
	case len(rr.lines) > 0:
		return rr.lines[i]
	}
	return rr.recLine
}

// fill moves the unread input to the front of the buffer and reads more;
// false when the buffer is full or the input ended.
func (rr *recordReader) fill() bool {
	if rr.eof {
		return false
	}
	if rr.pos > 0 {
		rr.end = copy(rr.buf, rr.buf[rr.pos:rr.end])
		rr.pos = 0
	}
	if rr.end == len(rr.buf) {
		return false
	}
	for {
		n, err := rr.r.Read(rr.buf[rr.end:])
		rr.end += n
		if err != nil {
			rr.eof = true
			if err != io.EOF {
				rr.rerr = err
			}
			return true
		}
		if n > 0 {
			return true
		}
	}
}

// toSlow hands the input from the current record on to encoding/csv.
func (rr *recordReader) toSlow() {
	rest := []io.Reader{bytes.NewReader(rr.buf[rr.pos:rr.end])}
	switch {
	case rr.rerr != nil:
		rest = append(rest, errReader{rr.rerr})
	case !rr.eof:
		rest = append(rest, rr.r)
	}
	rr.win = newWindow(io.MultiReader(rest...))
	rr.win.startLine = rr.line + 1
	rr.lineBase = rr.line
	rr.slow = csv.NewReader(rr.win)
	rr.slow.FieldsPerRecord = -1 // checked by the parser, to name the column
	rr.slow.TrimLeadingSpace = true
	rr.slow.ReuseRecord = true
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// fastRecord reads the next record from the buffer when it can: it returns
// recMore when the buffer ends first (and more input may come), recSlow when
// the record is one for encoding/csv.
func (rr *recordReader) fastRecord() int {
	data := rr.buf[rr.pos:rr.end]
	line := rr.line
	i := 0
	// Empty lines are skipped.
	for {
		switch {
		case i == len(data):
			if !rr.eof {
				return recMore
			}
			if rr.rerr != nil {
				return recSlow
			}
			rr.pos, rr.line = rr.end, line
			return recEOF
		case data[i] == '\n':
			i, line = i+1, line+1
			continue
		case data[i] == '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				i, line = i+2, line+1
				continue
			}
			if i+1 == len(data) && !rr.eof {
				return recMore
			}
			return recSlow // a CR alone: encoding/csv decides
		}
		break
	}
	nl := bytes.IndexByte(data[i:], '\n')
	if nl < 0 {
		if !rr.eof {
			return recMore
		}
		if rr.rerr != nil {
			return recSlow
		}
		nl = len(data) - i // the last line, without a line end
	}
	ln := data[i : i+nl]
	next := min(i+nl+1, len(data))
	if bytes.IndexByte(ln, '"') >= 0 {
		return rr.quotedRecord(data, i, line)
	}
	if n := len(ln); n > 0 && ln[n-1] == '\r' {
		ln = ln[:n-1] // CRLF; or a CR before the end of the input, dropped as encoding/csv does
	}
	if bytes.IndexByte(ln, '\r') >= 0 {
		return recSlow
	}
	// One line without quotes: fields between commas, one string for all.
	s := string(ln)
	rr.rec = rr.rec[:0]
	rr.plain = len(s) <= MaxFieldSize && isPlainASCII(s)
	for {
		j := strings.IndexByte(s, ',')
		f := s
		if j >= 0 {
			f = s[:j]
		}
		rr.rec = append(rr.rec, trimLeadingSpace(f))
		if j < 0 {
			break
		}
		s = s[j+1:]
	}
	rr.recLine, rr.lines = line+1, rr.lines[:0]
	rr.pos += next
	rr.line = line + 1
	return recOK
}

// quotedRecord reads a record with quotes that starts at data[i], on the
// line after line, as encoding/csv does without LazyQuotes; any syntax
// error is left to encoding/csv (recSlow).
func (rr *recordReader) quotedRecord(data []byte, i, line int) int {
	rr.scratch, rr.ends, rr.lines = rr.scratch[:0], rr.ends[:0], rr.lines[:0]
	recLine := line + 1
	// more is what the reader answers when data ends inside the record.
	more := recSlow
	if !rr.eof {
		more = recMore
	}
	for {
		// Leading white space of the field, within its line.
		for i < len(data) {
			c := data[i]
			if c == ' ' || c == '\t' || c == '\v' || c == '\f' {
				i++
				continue
			}
			if c < utf8.RuneSelf {
				break
			}
			if !utf8.FullRune(data[i:]) && !rr.eof {
				return recMore
			}
			r, size := utf8.DecodeRune(data[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += size
		}
		rr.lines = append(rr.lines, line+1)
		if i < len(data) && data[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(data[i:], '"')
				if j < 0 {
					return more // unterminated so far
				}
				seg := data[i : i+j]
				if bytes.IndexByte(seg, '\r') >= 0 {
					return recSlow
				}
				line += bytes.Count(seg, []byte{'\n'})
				rr.scratch = append(rr.scratch, seg...)
				i += j + 1
				if i == len(data) {
					if !rr.eof || rr.rerr != nil {
						return more
					}
					rr.ends = append(rr.ends, len(rr.scratch))
					return rr.endRecord(recLine, line, i)
				}
				switch data[i] {
				case '"':
					rr.scratch = append(rr.scratch, '"')
					i++
					continue
				case ',':
					rr.ends = append(rr.ends, len(rr.scratch))
					i++
				case '\n':
					rr.ends = append(rr.ends, len(rr.scratch))
					return rr.endRecord(recLine, line+1, i+1)
				default:
					return recSlow // a CR, or a quote inside a quoted field: encoding/csv decides
				}
				break
			}
			continue
		}
		// An unquoted field: up to a comma or the line end.
		j := i
		for j < len(data) && data[j] != ',' && data[j] != '\n' {
			if data[j] == '"' || data[j] == '\r' {
				return recSlow // a bare quote, or a CR
			}
			j++
		}
		rr.scratch = append(rr.scratch, data[i:j]...)
		rr.ends = append(rr.ends, len(rr.scratch))
		switch {
		case j == len(data):
			if !rr.eof || rr.rerr != nil {
				return more
			}
			return rr.endRecord(recLine, line, j)
		case data[j] == '\n':
			return rr.endRecord(recLine, line+1, j+1)
		}
		i = j + 1
	}
}

// endRecord makes the record read by quotedRecord current: its input ends
// at data offset next, after line lines.
func (rr *recordReader) endRecord(recLine, line, next int) int {
	s := string(rr.scratch)
	rr.plain = len(s) <= MaxFieldSize && isPlainASCII(s)
	rr.rec = rr.rec[:0]
	from := 0
	for _, to := range rr.ends {
		rr.rec = append(rr.rec, s[from:to])
		from = to
	}
	rr.recLine = recLine
	rr.pos += next
	rr.line = line
	return recOK
}

// trimLeadingSpace drops the white space f starts with, as encoding/csv's
// TrimLeadingSpace does.
func trimLeadingSpace(f string) string {
	if f == "" || (f[0] > ' ' && f[0] < utf8.RuneSelf) {
		return f
	}
	return strings.TrimLeftFunc(f, unicode.IsSpace)
}

// isPlainASCII reports whether s is ASCII without NUL bytes, eight bytes
// at a time.
func isPlainASCII(s string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&hi != 0 || (w-lo)&^w&hi != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] == 0 || s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
