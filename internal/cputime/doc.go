// Package cputime reads the CPU time the process has used, for benchmarks
// to report beside wall time on a shared machine (CPU time is the steadier
// figure there).
package cputime
