//go:build unix

package engine

import "syscall"

// mapBlock returns n bytes of anonymous memory outside the Go heap.
func mapBlock(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		// Out of address space: the heap is the fallback, not a failure.
		return make([]byte, n)
	}
	return b
}

// unmapBlock releases what mapBlock returned.
func unmapBlock(b []byte) {
	// A block from make (mmap failed) is not a mapping: Munmap refuses it
	// and the collector frees it.
	_ = syscall.Munmap(b)
}
