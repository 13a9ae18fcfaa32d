package atlassync

import (
	"net/http"
	"sync/atomic"
)

// RequestCounter is an http.RoundTripper that counts the requests it
// carries to Next (http.DefaultTransport when nil): Atlas limits them, so a
// sync reports how many it sent.
type RequestCounter struct {
	Next http.RoundTripper
	n    atomic.Int64
}

// RoundTrip counts the request and sends it.
func (c *RequestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	next := c.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// Count returns the number of requests sent so far.
func (c *RequestCounter) Count() int64 { return c.n.Load() }
