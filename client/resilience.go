package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// WithServerErrorRetries makes a GET answered 500, 502, 503 or 504, or
// lost to a network error (a refused or reset connection, a timeout), be
// sent again up to n times, after a jittered exponential backoff (about
// 0.25 s, 0.4 s, 0.64 s, … never more than 5 s, and never less than the
// server's Retry-After). Only GETs are retried: they change nothing, so a
// request whose answer was lost can be sent again. The default, 0, returns
// the answer or the error at once. A body that fails half-way through is
// the caller's to retry: the client cannot know what was read of it.
func WithServerErrorRetries(n int) Option {
	return retries(n, "server-error", func(c *Client) *int { return &c.serverRetries })
}

// WithRateLimitPacing spaces requests when the server says its rate limit
// is nearly spent: after an answer whose RateLimit-Remaining is at most
// reserve, the client's next request waits interval after the previous one
// (for Atlas's 100 requests a minute per organization, 600 ms), until an
// answer shows more than reserve left. Requests then meet the limit's refill
// rather than a 429. Zero interval (the default) turns pacing off.
func WithRateLimitPacing(interval time.Duration, reserve int) Option {
	return func(c *Client) error {
		if interval < 0 || reserve < 0 {
			return errors.New("client: negative rate-limit pacing")
		}
		c.pace = &pacer{interval: interval, reserve: reserve}
		return nil
	}
}

// pacer holds the pacing state of a client shared by its goroutines.
type pacer struct {
	interval time.Duration
	reserve  int

	mu     sync.Mutex
	low    bool      // the last answer said the limit is nearly spent
	nextAt time.Time // when the next request may go while low
}

// wait returns how long the next request must wait, and books its slot.
func (p *pacer) wait(now time.Time) time.Duration {
	if p == nil || p.interval == 0 {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.low {
		return 0
	}
	at := now
	if p.nextAt.After(now) {
		at = p.nextAt
	}
	p.nextAt = at.Add(p.interval)
	return at.Sub(now)
}

// observe reads the RateLimit-Remaining of an answer.
func (p *pacer) observe(h http.Header) {
	if p == nil || p.interval == 0 {
		return
	}
	v := h.Get("RateLimit-Remaining")
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.low = n <= p.reserve
	p.mu.Unlock()
}

// retryableStatus reports whether a GET answered status is worth sending
// again: the server or a proxy before it failed, not the request.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError reports whether a request that failed with err (no answer)
// may be sent again: a network fault, not the caller's cancellation.
func retryableError(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, net.ErrClosed) || isConnReset(err)
}

// isConnReset reports a connection reset or broken pipe.
func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}

// serverRetryWait is the wait before resending a GET for the attempt-th
// time (from 0).
func (c *Client) serverRetryWait(attempt int, resp *http.Response) time.Duration {
	var ra time.Duration
	if resp != nil {
		ra = retryAfter(resp.Header, time.Now())
	}
	return min(backoff(attempt, ra, c.jitter()), maxRetryWait)
}
