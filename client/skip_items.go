package client

import (
	"bytes"
	"io"
)

// itemSkipper is an io.Reader that passes a JSON document through with the
// value of every "lineItems" key emptied ("lineItems":[]), at any depth.
// StreamInvoice reads an invoice through it when the caller wants no line
// items: an invoice of a million items is hundreds of megabytes of JSON,
// and scanning past them here (a search for the next quote, most of the
// way) costs a fraction of what encoding/json spends to skip them.
//
// It checks no more than it must to find the arrays' ends (strings,
// escapes, brackets); the JSON decoder reading its output checks the rest.
// A document cut short inside an array comes out cut short too, and the
// decoder reports it.
type itemSkipper struct {
	r   io.Reader
	buf []byte
	in  []byte // read from r, not yet handled
	out []byte // handled, not yet returned
	err error

	// In the passed-through text:
	inStr    bool   // inside a string
	esc      bool   // after a backslash in it
	str      []byte // the string's bytes, while it could still be lineItems
	long     bool   // the string is longer than lineItems
	key      bool   // lineItems closed just now: a colon makes it a key
	colon    bool   // after lineItems: — the value's first byte opens the skip
	skipping bool   // inside an emptied array
	depth    int    // of the emptied array's brackets
	bs       int    // backslashes ending the skipped text so far, in a string
}

var lineItemsKey = []byte("lineItems")

func newItemSkipper(r io.Reader) *itemSkipper {
	return &itemSkipper{r: r, buf: make([]byte, 256<<10)}
}

func (s *itemSkipper) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if len(s.in) == 0 {
			if s.err != nil {
				return 0, s.err
			}
			n, err := s.r.Read(s.buf)
			s.in, s.err = s.buf[:n], err
			if n == 0 {
				continue
			}
		}
		s.handle()
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// handle moves s.in to s.out, dropping what is skipped. s.out may point
// into s.buf: it is returned before the next read overwrites it.
func (s *itemSkipper) handle() {
	if s.skipping {
		s.skip()
		return
	}
	// Pass bytes through up to the first that opens an array to skip.
	for i := 0; i < len(s.in); i++ {
		c := s.in[i]
		switch {
		case s.inStr:
			switch {
			case s.esc:
				s.esc, s.long = false, true // an escape: not spelt lineItems
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
				s.key = !s.long && bytes.Equal(s.str, lineItemsKey)
			case len(s.str) < len(lineItemsKey):
				s.str = append(s.str, c)
			default:
				s.long = true
			}
		case isSpace(c):
		case s.colon:
			s.colon = false
			if c == '[' {
				s.out, s.in = s.in[:i+1], s.in[i+1:]
				s.skipping, s.depth = true, 1
				return
			}
		case c == ':' && s.key:
			s.key, s.colon = false, true
		case c == '"':
			s.inStr, s.str, s.long, s.key = true, s.str[:0], false, false
		default:
			s.key = false
		}
	}
	s.out, s.in = s.in, nil
}

// skip drops the bytes of the emptied array up to its closing bracket,
// which it passes on.
func (s *itemSkipper) skip() {
	b := s.in
	for len(b) > 0 {
		if s.inStr {
			q := bytes.IndexByte(b, '"')
			if q < 0 {
				s.bs = trailingBackslashes(b, s.bs)
				b = nil
				break
			}
			odd := trailingBackslashes(b[:q], s.bs)%2 == 1
			s.bs, b = 0, b[q+1:]
			if !odd {
				s.inStr = false
			}
			continue
		}
		c := b[0]
		b = b[1:]
		switch c {
		case '"':
			s.inStr, s.bs = true, 0
		case '[', '{':
			s.depth++
		case ']', '}':
			s.depth--
			if s.depth == 0 {
				s.skipping = false
				s.out, s.in = []byte{']'}, b
				return
			}
		}
	}
	s.in = nil
}

// trailingBackslashes counts the backslashes that end b, adding carry when
// b is all backslashes (the run goes on from the text before it).
func trailingBackslashes(b []byte, carry int) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	if n == len(b) {
		n += carry
	}
	return n
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
