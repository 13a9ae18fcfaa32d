package costexplorer

import "time"

// RetryAfterSeconds is a wait as the delay-seconds of a Retry-After header
// and of the messages that repeat it (a rate limit, a sign-in lockout, a
// process still running): whole seconds rounded up, and at least 1, so that a
// client that waits as told is never early and is never told to wait 0.
func RetryAfterSeconds(d time.Duration) int {
	secs := d / time.Second
	if d%time.Second > 0 {
		secs++
	}
	return max(1, int(secs))
}
