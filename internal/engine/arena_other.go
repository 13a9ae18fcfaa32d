//go:build !unix

package engine

// mapBlock returns n bytes; without mmap, from the heap.
func mapBlock(n int) []byte { return make([]byte, n) }

// unmapBlock leaves the block to the garbage collector.
func unmapBlock([]byte) {}
