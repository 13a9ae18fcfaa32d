package engine

import (
	"runtime"
	"unsafe"
)

// arena hands out the daily snapshot's columns (pointer-free slices) from
// large blocks of memory outside the Go heap. The columns are most of the
// engine's memory (about 10 bytes a line item); on the heap they would
// count towards the garbage collector's goal, which lets the heap grow to
// twice what is live before a collection: at 20 M line items, some 200 MB of
// garbage the process would hold on top. Outside it they cost their own size
// only, and pages of a block not yet used cost nothing.
//
// The blocks are released once the snapshot that owns the arena is
// unreachable (runtime.AddCleanup): whoever reads the columns must keep the
// snapshot alive meanwhile (see evaluateUsage).
type arena struct {
	blocks [][]byte
	free   []byte // the rest of the last block
}

// arenaBlock is the size of a block: a few per snapshot at the reference size.
const arenaBlock = 32 << 20

// alloc returns n bytes aligned to 8.
func (a *arena) alloc(n int) []byte {
	if n == 0 {
		return nil
	}
	n = (n + 7) &^ 7
	if n > len(a.free) {
		b := mapBlock(max(n, arenaBlock))
		a.blocks = append(a.blocks, b)
		a.free = b
	}
	out := a.free[:n:n]
	a.free = a.free[n:]
	return out
}

// release returns every block; the arena is empty afterwards.
func (a *arena) release() {
	for _, b := range a.blocks {
		unmapBlock(b)
	}
	a.blocks, a.free = nil, nil
}

// clone copies s into the arena.
func clone[T uint8 | int16 | uint16 | int32 | int64 | float32 | float64](a *arena, s []T) []T {
	if len(s) == 0 {
		return nil
	}
	var zero T
	b := a.alloc(len(s) * int(unsafe.Sizeof(zero)))
	out := unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(s))
	copy(out, s)
	return out
}

// own ties the arena's blocks to the life of owner.
func (a *arena) own(owner *dailySnapshot) {
	runtime.AddCleanup(owner, func(a *arena) { a.release() }, a)
}
