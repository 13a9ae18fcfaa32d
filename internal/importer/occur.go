package importer

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// A row's line-item id is derived from its content and its occurrence among
// the identical rows of its file (DESIGN §2): the first is 1, an identical
// row after it 2, and so on. Rows are identical when their content hashes
// are (a 128-bit hash of the identity columns: as unlikely to collide as the
// ids themselves), so counting occurrences is exact.

// contentHash is the hash of a row's identity columns.
type contentHash [16]byte

// occurrences counts the rows of one file by content.
type occurrences interface {
	// next counts a row of content h and returns its occurrence, or 0 when
	// it cannot tell yet: the row is then deferred (see spillCounter).
	next(h contentHash) (int, error)
	close()
}

// exactCounter counts in a map: for Parse, which holds the whole file in
// memory anyway.
type exactCounter map[contentHash]int

func (c exactCounter) next(h contentHash) (int, error) {
	c[h]++
	return c[h], nil
}

func (exactCounter) close() {}

// firstOccurrence counts nothing: every row is a first occurrence, for an
// import whose ids do not depend on content (Options.ItemID).
type firstOccurrence struct{}

func (firstOccurrence) next(contentHash) (int, error) { return 1, nil }
func (firstOccurrence) close()                        {}

// spillCounter counts the rows of a file of any size in bounded memory, for
// the streaming import. A Bloom filter (at most maxBloomBytes) answers for
// most rows that their content is new: occurrence 1, and the hash is
// appended to a spill file. A row the filter may have seen (a genuine repeat,
// or a false positive) is deferred: its record goes to a second spill file,
// and once the whole file is read, resolve counts the deferred rows exactly
// against the first spill file and hands them back with their occurrences.
// The deferred rows are few (the repeats, and about 0.2 % of rows at
// 10 million rows), and resolve holds at most resolvePass of their hashes at
// a time.
type spillCounter struct {
	bloom    bloom
	seen     *spillFile // hashes of the rows counted as new, in order
	deferred *spillFile // hash and record of each deferred row, in order
	nNew     int64
	nDefer   int64
	perPass  int64 // deferred rows resolved per pass, at most
}

const maxBloomBytes = 16 << 20

// resolvePass is how many deferred rows resolve counts at a time, at most
// (a variable for the tests).
var resolvePass int64 = 1 << 19

// newSpillCounter returns a counter whose filter takes at most bloomBytes
// (0: maxBloomBytes), for a file of about fileSize bytes (0: unknown).
func newSpillCounter(bloomBytes int, fileSize int64) (*spillCounter, error) {
	seen, err := newSpillFile()
	if err != nil {
		return nil, err
	}
	deferred, err := newSpillFile()
	if err != nil {
		seen.close()
		return nil, err
	}
	if bloomBytes <= 0 {
		bloomBytes = maxBloomBytes
	}
	return &spillCounter{seen: seen, deferred: deferred, bloom: bloom{max: bloomBytes, first: bloomSizeFor(fileSize)}, perPass: resolvePass}, nil
}

// bloomSizeFor returns the size of a first filter that holds the rows of a
// file of fileSize bytes, at most one row in minRowBytes (rows of invoices
// are about 200 bytes): one filter to look up instead of a series.
func bloomSizeFor(fileSize int64) int {
	const minRowBytes = 128
	size := 64 << 10
	for int64(size)*8/14 < fileSize/minRowBytes && size < maxBloomBytes {
		size *= 2
	}
	return size
}

func (c *spillCounter) next(h contentHash) (int, error) {
	if c.bloom.addIfNew(h) {
		c.nNew++
		_, err := c.seen.w.Write(h[:])
		return 1, err
	}
	return 0, nil
}

// deferRow spills a deferred row: its hash, line and fields.
func (c *spillCounter) deferRow(h contentHash, line int, rec []string) error {
	c.nDefer++
	w := c.deferred.w
	w.Write(h[:])
	var n [binary.MaxVarintLen64]byte
	w.Write(n[:binary.PutUvarint(n[:], uint64(line))])
	w.Write(n[:binary.PutUvarint(n[:], uint64(len(rec)))])
	for _, f := range rec {
		w.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		if _, err := w.WriteString(f); err != nil {
			return err
		}
	}
	return nil
}

// resolve calls fn with each deferred row and its occurrence, in passes of
// at most resolvePass rows, each pass over the rows whose hash falls in its
// share: the rows of one content, all in one pass, come in file order. A
// deferred row's occurrence is its rank among the deferred rows of its
// content, plus one if its content was counted new before (only the first
// row of a content can be: every later one is in the filter).
func (c *spillCounter) resolve(fn func(line int, rec []string, k int) error) error {
	if c.nDefer == 0 {
		return nil
	}
	if err := c.seen.rewind(); err != nil {
		return err
	}
	if err := c.deferred.rewind(); err != nil {
		return err
	}
	passes := (c.nDefer + c.perPass - 1) / c.perPass
	inPass := func(h *contentHash, pass int64) bool {
		return int64(binary.LittleEndian.Uint64(h[8:])%uint64(passes)) == pass
	}
	type count struct {
		wasNew bool
		n      int
	}
	for pass := range passes {
		counts := map[contentHash]*count{}
		err := c.deferred.each(func(h contentHash, _ int, _ []string) error {
			if inPass(&h, pass) {
				counts[h] = &count{}
			}
			return nil
		}, false)
		if err != nil {
			return err
		}
		err = c.seen.eachHash(c.nNew, func(h contentHash) {
			if n := counts[h]; n != nil {
				n.wasNew = true
			}
		})
		if err != nil {
			return err
		}
		err = c.deferred.each(func(h contentHash, line int, rec []string) error {
			if !inPass(&h, pass) {
				return nil
			}
			n := counts[h]
			n.n++
			k := n.n
			if n.wasNew {
				k++
			}
			return fn(line, rec, k)
		}, true)
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *spillCounter) close() {
	c.seen.close()
	c.deferred.close()
}

// spillFile is a temporary file, removed once created (on systems that
// allow it) or on close.
type spillFile struct {
	f *os.File
	w *bufio.Writer
	r *bufio.Reader
}

func newSpillFile() (*spillFile, error) {
	f, err := os.CreateTemp("", "costexplorer-import-*")
	if err != nil {
		return nil, fmt.Errorf("spill file: %w", err)
	}
	os.Remove(f.Name()) // fails on Windows, where close removes it
	return &spillFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// rewind flushes what was written, for reading from the start.
func (s *spillFile) rewind() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spill file: %w", err)
	}
	return nil
}

func (s *spillFile) reader() (*bufio.Reader, error) {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spill file: %w", err)
	}
	if s.r == nil {
		s.r = bufio.NewReaderSize(s.f, 64<<10)
	} else {
		s.r.Reset(s.f)
	}
	return s.r, nil
}

// eachHash reads n hashes.
func (s *spillFile) eachHash(n int64, fn func(contentHash)) error {
	r, err := s.reader()
	if err != nil {
		return err
	}
	var h contentHash
	for range n {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return fmt.Errorf("spill file: %w", err)
		}
		fn(h)
	}
	return nil
}

// each reads the deferred rows; the records are decoded only when records
// is set.
func (s *spillFile) each(fn func(h contentHash, line int, rec []string) error, records bool) error {
	r, err := s.reader()
	if err != nil {
		return err
	}
	var (
		h   contentHash
		rec []string
		buf []byte
	)
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("spill file: %w", err)
		}
		line, err1 := binary.ReadUvarint(r)
		n, err2 := binary.ReadUvarint(r)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("spill file: %w", err)
		}
		rec = rec[:0]
		for range n {
			size, err := binary.ReadUvarint(r)
			if err != nil {
				return fmt.Errorf("spill file: %w", err)
			}
			if !records {
				if _, err := r.Discard(int(size)); err != nil {
					return fmt.Errorf("spill file: %w", err)
				}
				continue
			}
			buf = append(buf[:0], make([]byte, size)...)
			if _, err := io.ReadFull(r, buf); err != nil {
				return fmt.Errorf("spill file: %w", err)
			}
			rec = append(rec, string(buf))
		}
		if err := fn(h, int(line), rec); err != nil {
			return err
		}
	}
}

func (s *spillFile) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// bloom is a scalable Bloom filter: a series of filters, each twice the size
// of the one before, the last taking the new hashes once the one before
// holds its capacity, up to maxBloomBytes (max) in all. A small file costs a small
// filter; past maxBloomBytes the last filter fills beyond its capacity and
// defers more rows, still counted exactly.
type bloom struct {
	filters []bloomFilter
	total   int
	max     int // bytes
	first   int // bytes of the first filter (a power of two; 0: 64 KiB)
}

type bloomFilter struct {
	bits     []uint64
	mask     uint64 // bits in the filter - 1 (a power of two)
	n, limit int    // hashes added; capacity at about 0.2 % false positives
}

const bloomProbes = 7

func (b *bloom) addIfNew(h contentHash) bool {
	x, y := binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:])|1
	for i := range b.filters {
		if b.filters[i].has(x, y) {
			return false
		}
	}
	if b.grow() {
		size := min(cmp.Or(b.first, 64<<10), b.max) // bytes, a power of two
		if len(b.filters) > 0 {
			size = 2 * len(b.filters[len(b.filters)-1].bits) * 8
		}
		bits := size * 8
		b.filters = append(b.filters, bloomFilter{bits: make([]uint64, size/8), mask: uint64(bits - 1), limit: bits / 14})
		b.total += size
	}
	f := &b.filters[len(b.filters)-1]
	for i := range uint64(bloomProbes) {
		bit := (x + i*y) & f.mask
		f.bits[bit>>6] |= 1 << (bit & 63)
	}
	f.n++
	return true
}

// grow reports whether a filter is to be added: the first, or one twice the
// size of the last when the last is full and the sum stays within
// maxBloomBytes.
func (b *bloom) grow() bool {
	if len(b.filters) == 0 {
		return true
	}
	last := &b.filters[len(b.filters)-1]
	return last.n >= last.limit && b.total+2*8*len(last.bits) <= b.max
}

func (f *bloomFilter) has(x, y uint64) bool {
	for i := range uint64(bloomProbes) {
		bit := (x + i*y) & f.mask
		if f.bits[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}
