package costexplorer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
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

// raw writes a JSON literal that needs no indentation (a number, a string).
func (s *jsonStream) raw(lit string) {
	s.member()
	s.writeString(lit)
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
