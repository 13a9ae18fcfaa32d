package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/costexplorer/costexplorer"
)

// endpointSet names an Atlas rate-limit set: the operations of a set share
// each organization's bucket. The route table says which set an operation
// belongs to.
type endpointSet string

// invoicesSet is the Invoices endpoint set: both cost-explorer operations
// (and the invoice operations, DESIGN §5.2).
const invoicesSet endpointSet = "Invoices"

// RateLimit configures the per-organization token bucket of the Invoices
// endpoint set (both cost-explorer operations). Each request to it takes one
// token; the bucket holds Capacity tokens and gains Refill tokens every
// Period, continuously. Zero fields take the Atlas defaults: 500, 100, 60 s.
// A negative Capacity disables rate limiting.
//
// The buckets live in the server process: with several replicas each
// replica has its own, so the effective limit is per replica.
type RateLimit struct {
	Capacity int
	Refill   int
	Period   time.Duration
}

func (c *RateLimit) setDefaults() {
	if c.Capacity == 0 {
		c.Capacity = 500
	}
	if c.Refill <= 0 {
		c.Refill = 100
	}
	if c.Period <= 0 {
		c.Period = 60 * time.Second
	}
}

// maxBuckets bounds the buckets kept; beyond it, full buckets (which a new
// bucket would equal) are dropped.
const maxBuckets = 10000

// limiter holds one token bucket per organization.
type limiter struct {
	cfg RateLimit
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newLimiter(cfg RateLimit, now func() time.Time) *limiter {
	cfg.setDefaults()
	return &limiter{cfg: cfg, now: now, buckets: map[string]*rate.Limiter{}}
}

// take takes a token from key's bucket. It returns the tokens left and, when
// the bucket is empty, how long until a token is available.
func (l *limiter) take(key string) (remaining int, wait time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = rate.NewLimiter(rate.Limit(float64(l.cfg.Refill)/l.cfg.Period.Seconds()), l.cfg.Capacity)
		l.buckets[key] = b
	}
	if b.AllowN(now, 1) {
		return int(math.Floor(b.TokensAt(now))), 0, true
	}
	r := b.ReserveN(now, 1)
	wait = r.DelayFrom(now)
	r.CancelAt(now)
	return 0, wait, false
}

func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.cfg.Capacity) {
			delete(l.buckets, k)
		}
	}
}

// rateLimit takes a token of set for orgID and sets the RateLimit headers;
// it returns RATE_LIMITED (with Retry-After set) when the bucket is empty.
func (s *Server) rateLimit(w http.ResponseWriter, set endpointSet, orgID string) error {
	l := s.limiters[set]
	if l == nil {
		return nil
	}
	remaining, wait, ok := l.take(orgID)
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(l.cfg.Capacity))
	h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	if ok {
		return nil
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.RateLimited()
	}
	secs := costexplorer.RetryAfterSeconds(wait)
	h.Set("Retry-After", strconv.Itoa(secs))
	return costexplorer.Errorf(costexplorer.ErrRateLimited,
		"You have exceeded the rate limit of the %s endpoint set for this organization. Retry after %d seconds.", set, secs)
}
