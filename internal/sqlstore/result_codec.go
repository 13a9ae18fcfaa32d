package sqlstore

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/s2"
)

// A query result is stored as it is when small, and compressed with S2 when
// large: a large answer (3.7 MB of JSON for 15,659 rows) is then several
// times fewer bytes for the store to copy, log and checkpoint (2.8 times on
// an answer of random ids; real answers repeat theirs), at about a
// millisecond of CPU a megabyte or less each way. Compressed results start with
// resultS2, which no JSON text can start with (0xff is never in UTF-8);
// anything else is the result itself, as every earlier version stored it.
var resultS2 = []byte{0xff, 'S', '2'}

// compressResultFrom is the size from which a result is stored compressed:
// below it the saving is a few pages at most.
const compressResultFrom = 64 << 10

// storedResult returns the bytes to store for the result b.
func storedResult(b []byte) []byte {
	if len(b) < compressResultFrom {
		return b
	}
	out := make([]byte, len(resultS2)+s2.MaxEncodedLen(len(b)))
	n := copy(out, resultS2)
	n += len(s2.Encode(out[n:], b))
	return out[:n]
}

// loadedResult returns the result stored as b.
func loadedResult(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, resultS2) {
		return b, nil
	}
	out, err := s2.Decode(nil, b[len(resultS2):])
	if err != nil {
		return nil, fmt.Errorf("decode stored result: %w", err)
	}
	return out, nil
}
