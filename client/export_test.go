package client

import (
	"context"
	"time"
)

// Hooks for the external tests.

// SetSleep replaces the client's wait function (to observe or cut waits).
func SetSleep(c *Client, f func(ctx context.Context, d time.Duration) error) { c.sleep = f }

// Sleep is the real wait.
var Sleep = sleepCtx

// PreferMD5 makes a Digest client answer the MD5 challenge.
func PreferMD5(c *Client) { c.digest.preferMD5 = true }

// SetTokenClock sets the clock of a service-account client's token cache.
func SetTokenClock(c *Client, now func() time.Time) { c.oauth.now = now }

// CachedToken returns a service-account client's cached access token.
func CachedToken(c *Client) string {
	c.oauth.mu.Lock()
	defer c.oauth.mu.Unlock()
	return c.oauth.token
}

// DigestAlgorithm returns the algorithm of a Digest client's current
// challenge.
func DigestAlgorithm(c *Client) string {
	c.digest.mu.Lock()
	defer c.digest.mu.Unlock()
	if c.digest.ch == nil {
		return ""
	}
	return c.digest.ch.algorithm
}
