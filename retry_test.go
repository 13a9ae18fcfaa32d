package costexplorer

import (
	"math"
	"testing"
	"time"
)

func TestRetryAfterSeconds(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    time.Duration
		want int
	}{
		{"NegativeIsOne", -5 * time.Second, 1},
		{"ZeroIsOne", 0, 1},
		{"FractionIsOne", time.Nanosecond, 1},
		{"WholeSecondsStay", 3 * time.Second, 3},
		{"FractionRoundsUp", 2*time.Second + time.Millisecond, 3},
		{"JustUnderRoundsUp", 60*time.Second - time.Nanosecond, 60},
		{"LongestDurationDoesNotOverflow", math.MaxInt64, int(math.MaxInt64/int64(time.Second)) + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RetryAfterSeconds(tc.d); got != tc.want {
				t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tc.d, got, tc.want)
			}
		})
	}
}
