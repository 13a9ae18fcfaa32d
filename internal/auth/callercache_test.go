package auth

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// countingStore counts the reads Authenticate makes per request.
type countingStore struct {
	Store
	reads atomic.Int64
}

func (s *countingStore) TokenRevoked(ctx context.Context, id string) (bool, error) {
	s.reads.Add(1)
	return s.Store.TokenRevoked(ctx, id)
}

func (s *countingStore) ServiceAccount(ctx context.Context, id string) (*costexplorer.ServiceAccount, error) {
	s.reads.Add(1)
	return s.Store.ServiceAccount(ctx, id)
}

func (s *countingStore) APIKeyByPublicKey(ctx context.Context, pk string) (*costexplorer.APIKey, error) {
	s.reads.Add(1)
	return s.Store.APIKeyByPublicKey(ctx, pk)
}

func (s *countingStore) Organization(ctx context.Context, id string) (*costexplorer.Organization, error) {
	s.reads.Add(1)
	return s.Store.Organization(ctx, id)
}

// replica is an Authenticator with its own server and caches on the
// fixture's store and clock.
type replica struct {
	auth  *Authenticator
	host  string
	store *countingStore
}

// newReplica starts another replica on f's store, counting its reads.
func (f *fixture) newReplica() *replica {
	f.t.Helper()
	cs := &countingStore{Store: f.db}
	cfg := f.auth.cfg
	cfg.Store = cs
	a, srv := f.serve(cfg)
	return &replica{auth: a, host: strings.TrimPrefix(srv.URL, "http://"), store: cs}
}

// bearerAt calls the replica with an access token.
func (f *fixture) bearerAt(r *replica, token string) *response {
	f.t.Helper()
	return f.bearer(token, func(req *http.Request) { req.URL.Host = r.host })
}

// revokeAt revokes token through the replica's revoke endpoint.
func (f *fixture) revokeAt(t *testing.T, r *replica, clientID, secret, token string) {
	t.Helper()
	req := f.request("POST", "/api/oauth/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.URL.Host = r.host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	if resp := do(t, f.srv.Client(), req); resp.status != 200 {
		t.Fatalf("revoke: %d %s", resp.status, resp.body)
	}
}

// TestCallerCacheBound checks the promise of callercache.go: a replica
// answers a token it has just seen without reading the store, and a change
// made in the store or through another replica — revocation, a disabled
// account, a disabled API key — refuses the credential on every replica
// within CallerCacheTTL; a revocation through a replica's own endpoint
// refuses it there at once.
func TestCallerCacheBound(t *testing.T) {
	f := newFixture(t, nil)
	ttl := f.auth.cfg.CallerCacheTTL
	if ttl != 2*time.Second {
		t.Fatalf("default CallerCacheTTL %v, want the documented 2 s", ttl)
	}
	sa, secret := f.serviceAccount(f.orgID)
	a, b := f.newReplica(), f.newReplica()

	t.Run("OKSecondRequestReadsNothing", func(t *testing.T) {
		token := f.accessToken(sa.ClientID, secret)
		f.bearerAt(a, token).principal(t)
		first := a.store.reads.Load()
		if first != 3 {
			t.Errorf("first request: %d store reads, want 3 (revocation, account, organization)", first)
		}
		f.bearerAt(a, token).principal(t)
		if n := a.store.reads.Load() - first; n != 0 {
			t.Errorf("second request: %d store reads, want 0", n)
		}
		f.clock.Advance(ttl)
		f.bearerAt(a, token).principal(t)
		if n := a.store.reads.Load() - first; n != 3 {
			t.Errorf("after CallerCacheTTL: %d store reads, want 3 again", n)
		}
	})
	t.Run("ErrRevokedOnAnotherReplicaWithinTheBound", func(t *testing.T) {
		token := f.accessToken(sa.ClientID, secret)
		f.bearerAt(a, token).principal(t)
		f.bearerAt(b, token).principal(t)
		f.revokeAt(t, b, sa.ClientID, secret, token)
		// On the replica that revoked it: at once.
		f.bearerAt(b, token).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		// On the other: within the bound (and refusals are not cached).
		f.clock.Advance(ttl)
		f.bearerAt(a, token).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		f.bearerAt(a, token).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
	})
	t.Run("ErrRevokedInTheStoreWithinTheBound", func(t *testing.T) {
		token := f.accessToken(sa.ClientID, secret)
		f.bearerAt(a, token).principal(t)
		f.revokeInStore(t, token)
		f.clock.Advance(ttl - time.Millisecond)
		f.bearerAt(a, token).principal(t) // still within the bound: the cache answers
		f.clock.Advance(time.Millisecond)
		f.bearerAt(a, token).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
	})
	t.Run("ErrAccountDisabledWithinTheBound", func(t *testing.T) {
		token := f.accessToken(sa.ClientID, secret)
		f.bearerAt(a, token).principal(t)
		f.disableServiceAccount(t, sa.ClientID)
		f.clock.Advance(ttl)
		f.bearerAt(a, token).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		t.Run("OKEnabledAgainAtOnce", func(t *testing.T) {
			if err := f.db.SetServiceAccountEnabled(f.ctx, sa.ClientID, true); err != nil {
				t.Fatal(err)
			}
			f.bearerAt(a, token).principal(t)
		})
	})
	t.Run("ErrAPIKeyDisabledWithinTheBound", func(t *testing.T) {
		k, priv := f.apiKey(f.orgID)
		c := f.digestClient(k.PublicKey, priv, nil)
		get := func() *response {
			req := f.request("GET", "/api/atlas/v2/orgs?pageNum=1", nil)
			req.URL.Host = a.host
			return do(t, c, req)
		}
		get().principal(t)
		before := a.store.reads.Load()
		get().principal(t)
		if n := a.store.reads.Load() - before; n != 0 {
			t.Errorf("second Digest request: %d store reads, want 0 (the nonce's use is a write)", n)
		}
		if err := f.db.SetAPIKeyEnabled(f.ctx, k.PublicKey, false); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(ttl)
		get().wantAtlasError(t, 401, "USER_UNAUTHORIZED")
	})
}

// TestCallerCacheOff checks that a negative CallerCacheTTL reads the store
// on every request, so a revocation in the store is seen at once.
func TestCallerCacheOff(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CallerCacheTTL = -1 })
	sa, secret := f.serviceAccount(f.orgID)
	token := f.accessToken(sa.ClientID, secret)
	f.bearer(token, nil).principal(t)
	f.revokeInStore(t, token)
	f.bearer(token, nil).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
}

// TestTTLCacheBounded checks that the cache never holds more than
// maxCachedCallers entries, dropping expired ones first.
func TestTTLCacheBounded(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := newTTLCache[int](time.Second)
	for i := range maxCachedCallers {
		c.put("x"+strconv.Itoa(i), i, now)
	}
	c.put("late", 1, now.Add(2*time.Second)) // every earlier entry has expired
	if len(c.m) != 1 {
		t.Errorf("%d entries after the expired ones were dropped, want 1", len(c.m))
	}
	for i := range 2 * maxCachedCallers {
		c.put("k"+strconv.Itoa(i), i, now.Add(2*time.Second))
		if len(c.m) > maxCachedCallers {
			t.Fatalf("%d entries, want at most %d", len(c.m), maxCachedCallers)
		}
	}
	if _, ok := c.get("late", now.Add(3*time.Second)); ok {
		t.Error("an entry outlived its TTL")
	}
}
