package client

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Polling backoff: the first wait is about pollBase, each next one
// pollFactor times longer, never more than pollMax.
const (
	pollBase   = 250 * time.Millisecond
	pollFactor = 1.6
	pollMax    = 5 * time.Second
)

// backoff returns the wait before poll number attempt+1 (attempt counts from
// 0). The exponential step is jittered ("equal jitter": half fixed, half
// random, with jitter in [0, 1)) so that many clients started together do not
// poll in lockstep, and it is never shorter than the server's Retry-After.
func backoff(attempt int, retryAfter time.Duration, jitter float64) time.Duration {
	step := float64(pollBase)
	for i := 0; i < attempt && step < float64(pollMax); i++ {
		step *= pollFactor
	}
	step = min(step, float64(pollMax))
	jitter = min(max(jitter, 0), 1)
	d := time.Duration(step/2 + jitter*step/2)
	return max(d, retryAfter)
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP-date
// (RFC 9110 §10.2.3). It returns 0 when the header is absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(24*time.Hour/time.Second) {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
