package costexplorer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonStream writes one JSON document piece by piece, so that a document
// with millions of array elements is written in constant memory. The output
// is byte for byte what encoding/json writes for the same document without
// HTML escaping: compact, or (indent) as json.MarshalIndent(v, "", "  ").
// The first error sticks; Flush returns it.
type jsonStream struct {
	w      *bufio.Writer
	indent bool
	// first[i] is true while container i has no member yet.
	first []bool
	// afterKey is true between a key and its value.
	afterKey bool
	buf      bytes.Buffer
	enc      *json.Encoder
	err      error
}

func newJSONStream(w io.Writer, indent bool) *jsonStream {
	s := &jsonStream{w: bufio.NewWriterSize(w, 32<<10), indent: indent}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	return s
}

func (s *jsonStream) write(b []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}

func (s *jsonStream) writeString(str string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(str)
	}
}

// newline writes a line break and the indentation of the current depth.
func (s *jsonStream) newline() {
	if s.indent {
		s.writeString("\n" + strings.Repeat("  ", len(s.first)))
	}
}

// member starts a value inside the current container: a comma after the
// previous member, then the line break of indented output.
func (s *jsonStream) member() {
	if s.afterKey {
		s.afterKey = false
		return
	}
	if n := len(s.first); n > 0 {
		if !s.first[n-1] {
			s.writeString(",")
		}
		s.first[n-1] = false
		s.newline()
	}
}

func (s *jsonStream) open(c string) {
	s.member()
	s.writeString(c)
	s.first = append(s.first, true)
}

func (s *jsonStream) close(c string) {
	empty := s.first[len(s.first)-1]
	s.first = s.first[:len(s.first)-1]
	if !empty {
		s.newline()
	}
	s.writeString(c)
}

func (s *jsonStream) beginObject() { s.open("{") }
func (s *jsonStream) endObject()   { s.close("}") }
func (s *jsonStream) beginArray()  { s.open("[") }
func (s *jsonStream) endArray()    { s.close("]") }

// key writes an object key; the value follows.
func (s *jsonStream) key(k string) {
	s.member()
	s.marshal(k)
	if s.indent {
		s.writeString(": ")
	} else {
		s.writeString(":")
	}
	s.afterKey = true
}

// value writes v as encoding/json does, indented at the current depth.
func (s *jsonStream) value(v any) {
	s.member()
	s.marshal(v)
}

// field writes a key and its value.
func (s *jsonStream) field(k string, v any) {
	s.key(k)
	s.value(v)
}

func (s *jsonStream) marshal(v any) {
	if s.err != nil {
		return
	}
	s.buf.Reset()
	if s.err = s.enc.Encode(v); s.err != nil {
		return
	}
	b := bytes.TrimSuffix(s.buf.Bytes(), []byte("\n"))
	if s.indent && len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		var out bytes.Buffer
		if s.err = json.Indent(&out, b, strings.Repeat("  ", len(s.first)), "  "); s.err != nil {
			return
		}
		b = out.Bytes()
	}
	s.write(b)
}

// Flush writes what is buffered and returns the first error.
func (s *jsonStream) Flush() error {
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.err
}

// rawValue writes a compact JSON value already encoded, indented at the
// current depth when the stream indents.
func (s *jsonStream) rawValue(b []byte) {
	s.member()
	if s.err != nil {
		return
	}
	if s.indent && len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		s.buf.Reset()
		if s.err = json.Indent(&s.buf, b, strings.Repeat("  ", len(s.first)), "  "); s.err != nil {
			return
		}
		b = s.buf.Bytes()
	}
	s.write(b)
}

// appendJSONString appends s as encoding/json writes a string without HTML
// escaping: quotes, backslashes and control characters escaped (\b \f \n \r
// \t by name), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONFloat appends f as encoding/json writes a float64.
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
