package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/client"
)

// flaky answers the statuses in order, then 200 with an organization list.
func flaky(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if statuses[i] == 0 { // a reset: hang up without an answer
				conn, _, _ := w.(http.Hijacker).Hijack()
				_ = conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
				return
			}
			w.WriteHeader(statuses[i])
			return
		}
		w.Write([]byte(`{"results":[],"totalCount":0}`))
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func TestServerErrorRetries(t *testing.T) {
	noWait := func(c *client.Client, waits *[]time.Duration) {
		client.SetSleep(c, func(ctx context.Context, d time.Duration) error { *waits = append(*waits, d); return ctx.Err() })
	}
	t.Run("RetriedWithGrowingBoundedWaits", func(t *testing.T) {
		s, n := flaky(t, 500, 502, 503, 504, 0)
		c, _ := client.New(s.URL, client.WithServerErrorRetries(5))
		var waits []time.Duration
		noWait(c, &waits)
		if _, err := c.Organizations(t.Context(), client.ListOptions{}); err != nil {
			t.Fatalf("after 4 faults and a reset: %v", err)
		}
		// net/http resends a GET lost to a reset of a reused connection by
		// itself: the reset costs one wait or none.
		if n.Load() != 6 || len(waits) < 4 {
			t.Fatalf("%d requests and waits %v, want 6 requests and 4 or 5 waits", n.Load(), waits)
		}
		for i, w := range waits {
			if w <= 0 || w > 5*time.Second {
				t.Errorf("wait %d = %v, want in (0, 5s]", i, w)
			}
		}
	})
	t.Run("GivesUpAfterN", func(t *testing.T) {
		s, n := flaky(t, 500, 500, 500)
		c, _ := client.New(s.URL, client.WithServerErrorRetries(2))
		var waits []time.Duration
		noWait(c, &waits)
		_, err := c.Organizations(t.Context(), client.ListOptions{})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 500 || n.Load() != 3 {
			t.Fatalf("err = %v after %d requests, want a 500 after 3", err, n.Load())
		}
	})
	t.Run("OffByDefault", func(t *testing.T) {
		s, n := flaky(t, 503)
		c, _ := client.New(s.URL)
		if _, err := c.Organizations(t.Context(), client.ListOptions{}); err == nil || n.Load() != 1 {
			t.Fatalf("err = %v after %d requests, want the 503 at once", err, n.Load())
		}
	})
	t.Run("PostNotRetried", func(t *testing.T) {
		s, n := flaky(t, 500)
		c, _ := client.New(s.URL, client.WithServerErrorRetries(3))
		if _, err := c.CreateQuery(t.Context(), "0123456789abcdef01234567", client.QueryRequest{Start: 1, End: 2}); err == nil || n.Load() != 1 {
			t.Fatalf("err = %v after %d requests, want the 500 at once", err, n.Load())
		}
	})
}

func TestRateLimitPacing(t *testing.T) {
	var remaining atomic.Int64
	remaining.Store(5)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("RateLimit-Remaining", strconv.FormatInt(remaining.Add(-1), 10))
		w.Write([]byte(`{"results":[]}`))
	}))
	t.Cleanup(s.Close)
	c, _ := client.New(s.URL, client.WithRateLimitPacing(600*time.Millisecond, 2))
	var waits []time.Duration
	client.SetSleep(c, func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil })
	for range 5 {
		if _, err := c.Organizations(t.Context(), client.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Remaining 4 and 3 leave requests free; from 2 on the client paces:
	// the 4th request books the first slot (now), the 5th waits a full
	// interval after it.
	if len(waits) != 1 || waits[0] < 500*time.Millisecond || waits[0] > 600*time.Millisecond {
		t.Errorf("waits = %v, want one of about 600ms", waits)
	}
}
