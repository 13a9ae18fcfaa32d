package auth

import (
	"sync"
	"time"
)

// Authenticate resolves a verified credential to its caller with store
// reads: for a Bearer token whether it is revoked, its service account and
// its organization; for a Digest request the API key and its organization.
// A client sends the same token (or key) with every request, and for a small
// result those reads were most of the server's work. They are remembered for
// Config.CallerCacheTTL (default 2 s) per token id (jti), per public key and
// per organization id, so a change made in the store takes effect on a
// replica within that bound:
//
//   - a token revoked through another replica, or directly in the store;
//   - a service account or API key disabled or deleted (`admin ... disable`
//     is another process), its roles or access list changed;
//   - an organization deleted or made to require an access list.
//
// A token revoked through this replica's revoke endpoint is dropped at once.
// What does not depend on the store is checked on every request, cached or
// not: the token's signature and times, the Digest response against the
// key's hash and the nonce's single use (a store write), the secret's
// expiry, and the access list against the caller's address. Refusals are
// never cached, so a credential enabled again works at once.

// maxCachedCallers bounds each cache; when one is full, expired entries are
// dropped, then all of them.
const maxCachedCallers = 10_000

// ttlCache maps keys to values for ttl each. Values must not be modified
// once put: hits of concurrent requests share them.
type ttlCache[V any] struct {
	ttl time.Duration // ≤ 0: off
	mu  sync.Mutex
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v     V
	until time.Time
}

func newTTLCache[V any](ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, m: make(map[string]ttlEntry[V])}
}

// get returns the value of key if it was put less than ttl before now.
func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	var zero V
	if c.ttl <= 0 {
		return zero, false
	}
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	// The entry's start is checked too, so a clock moved back does not
	// stretch an entry's life.
	if !ok || !now.Before(e.until) || now.Before(e.until.Add(-c.ttl)) {
		return zero, false
	}
	return e.v, true
}

// put remembers v for key from now on.
func (c *ttlCache[V]) put(key string, v V, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedCallers {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCachedCallers {
			clear(c.m)
		}
	}
	c.m[key] = ttlEntry[V]{v: v, until: now.Add(c.ttl)}
}

// drop forgets key.
func (c *ttlCache[V]) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}
