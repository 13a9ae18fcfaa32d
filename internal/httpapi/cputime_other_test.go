//go:build !unix

package httpapi_test

import "time"

// cpuTime is 0 where the process's CPU time is not read: the benchmarks
// then report no rows per CPU second.
func cpuTime() time.Duration { return 0 }
