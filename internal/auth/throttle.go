package auth

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// throttle counts recent authentication failures per client IP and per
// credential in leaky buckets: each failure adds one, and one leaks away
// every cfg.Forget. It lives in memory on one replica (see the package
// documentation for why) and tracks at most cfg.MaxEntries buckets.
type throttle struct {
	cfg BruteForceConfig

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is a failure count as of a moment.
type bucket struct {
	level float64
	at    time.Time
}

func (b *bucket) levelAt(now time.Time, forget time.Duration) float64 {
	leaked := float64(now.Sub(b.at)) / float64(forget)
	if leaked < 0 {
		leaked = 0 // clock went backwards; keep the count
	}
	return math.Max(0, b.level-leaked)
}

// limitKey names one bucket and the level at which it blocks.
type limitKey struct {
	name  string
	limit int
}

func newThrottle(cfg BruteForceConfig) *throttle {
	return &throttle{cfg: cfg, buckets: map[string]*bucket{}}
}

func (t *throttle) ipKey(ip netip.Addr) limitKey {
	return limitKey{name: "ip " + ip.String(), limit: t.cfg.IPLimit}
}

func (t *throttle) credentialKey(id string) limitKey {
	return limitKey{name: "credential " + id, limit: t.cfg.KeyLimit}
}

// longest calls fn, with t.mu held, on each of keys and its bucket (nil
// when it has none), and returns the longest duration fn returns (0 when
// none is positive).
func (t *throttle) longest(keys []limitKey, fn func(k limitKey, b *bucket) time.Duration) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	for _, k := range keys {
		d = max(d, fn(k, t.buckets[k.name]))
	}
	return d
}

// blocked reports whether any of keys is at its limit, and how long until
// it drops below (the Retry-After of the 429).
func (t *throttle) blocked(now time.Time, keys ...limitKey) (time.Duration, bool) {
	wait := t.longest(keys, func(k limitKey, b *bucket) time.Duration {
		if b == nil {
			return 0
		}
		if over := b.levelAt(now, t.cfg.Forget) - float64(k.limit-1); over > 0 {
			return time.Duration(over * float64(t.cfg.Forget))
		}
		return 0
	})
	return wait, wait > 0
}

// fail records one failure against each key and returns how long to delay
// the failed answer.
func (t *throttle) fail(now time.Time, keys ...limitKey) time.Duration {
	return t.longest(keys, func(k limitKey, b *bucket) time.Duration {
		if b == nil {
			t.makeRoom(now)
			b = &bucket{}
			t.buckets[k.name] = b
		}
		b.level = b.levelAt(now, t.cfg.Forget) + 1
		b.at = now
		if over := b.level - float64(k.limit)/2; over > 0 && t.cfg.Delay > 0 {
			return min(time.Duration(over*float64(t.cfg.Delay)), t.cfg.MaxDelay)
		}
		return 0
	})
}

// succeed forgets the failures of key: a holder who mistyped once is not
// slowed down after getting it right.
func (t *throttle) succeed(k limitKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.buckets, k.name)
}

// makeRoom keeps the table under its bound: drop empty buckets first, then
// arbitrary ones (map order) down to 90 % of the bound, so that a flood of
// new addresses costs one sweep per tenth of the table, not one per failure.
// Called with t.mu held.
func (t *throttle) makeRoom(now time.Time) {
	if len(t.buckets) < t.cfg.MaxEntries {
		return
	}
	for name, b := range t.buckets {
		if b.levelAt(now, t.cfg.Forget) == 0 {
			delete(t.buckets, name)
		}
	}
	target := t.cfg.MaxEntries * 9 / 10
	for name := range t.buckets {
		if len(t.buckets) <= target {
			break
		}
		delete(t.buckets, name)
	}
}

// size returns the number of tracked buckets.
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.buckets)
}
