package sqlstore

import (
	"bytes"
	"fmt"
	"testing"
)

func TestStoredResultRoundTrip(t *testing.T) {
	for _, n := range []int{0, 10, compressResultFrom - 1, compressResultFrom, 1 << 20} {
		var b []byte
		for i := 0; len(b) < n; i++ {
			b = fmt.Appendf(b, `{"organizationId":"%024x","usageAmount":%d},`, i%50, i)
		}
		b = b[:n]
		stored := storedResult(b)
		if compressed := bytes.HasPrefix(stored, resultS2); compressed != (n >= compressResultFrom) {
			t.Errorf("%d bytes: compressed %v", n, compressed)
		}
		if n >= compressResultFrom && len(stored) >= n/2 {
			t.Errorf("%d bytes stored as %d", n, len(stored))
		}
		got, err := loadedResult(stored)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%d bytes: loaded %d bytes, %v", n, len(got), err)
		}
	}
}

// Results stored before compression (raw JSON) load as they are; a damaged
// compressed result is an error, not wrong bytes.
func TestLoadedResultOfRawAndDamaged(t *testing.T) {
	raw := []byte(`{"usageDetails":[]}`)
	if got, err := loadedResult(raw); err != nil || !bytes.Equal(got, raw) {
		t.Errorf("raw result: %q, %v", got, err)
	}
	stored := storedResult(bytes.Repeat([]byte(`{"a":1},`), compressResultFrom))
	if _, err := loadedResult(stored[:len(stored)/2]); err == nil {
		t.Error("truncated compressed result: no error")
	}
}
