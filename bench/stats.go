package bench

import (
	"slices"
	"syscall"
	"time"
)

// Timing summarises repeated measurements of one operation.
type Timing struct {
	Runs   int
	Median time.Duration
	P99    time.Duration
	Min    time.Duration
}

// Summarise returns the median, 99th percentile (nearest rank) and minimum
// of samples.
func Summarise(samples []time.Duration) Timing {
	if len(samples) == 0 {
		return Timing{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	p99 := (len(s)*99 + 99) / 100 // ceil(0.99 n), 1-based
	return Timing{Runs: len(s), Median: s[len(s)/2], P99: s[min(p99, len(s))-1], Min: s[0]}
}

// Ms returns d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// CPUTime returns the user and system CPU time of the process so far: on a
// loaded machine, steadier than wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
