package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Realm is the Digest realm of the Atlas Administration API. Clients hash it
// into HA1, so it is part of every stored API key hash.
const Realm = "MMS Public API"

// Names of the shared secrets kept through Store.Secret.
const (
	secretNonceKey = "auth.digest.nonce-hmac-key"
	secretJWTSeed  = "auth.jwt.ed25519-seed"
)

// Store is what an Authenticator needs of the database: the credentials and
// shared authentication state, and the organizations (RequiresAccessList).
// Every costexplorer.Store satisfies it.
type Store interface {
	costexplorer.CredentialStore
	// Organization returns the organization with id, or ErrNotFound.
	Organization(ctx context.Context, id string) (*costexplorer.Organization, error)
}

// Config holds what an Authenticator needs. Zero fields take the defaults
// documented on each field.
type Config struct {
	// Store holds credentials, organizations (RequiresAccessList), the shared
	// secrets, used nonces and revoked tokens. Required.
	Store Store
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NonceTTL is the lifetime of a Digest nonce (default 5 min); a correct
	// answer to an older nonce gets a fresh challenge with stale=true.
	NonceTTL time.Duration
	// TokenTTL is the lifetime of an access token (default 3600 s).
	TokenTTL time.Duration
	// Issuer is the iss claim of access tokens (default "costexplorer").
	Issuer string
	// TrustedProxies are the peers whose X-Forwarded-For is honoured.
	TrustedProxies []netip.Prefix
	// Logger receives authentication failures (never secrets). Default: discard.
	Logger *slog.Logger
	// BruteForce tunes the slowing of repeated failures.
	BruteForce BruteForceConfig
	// JanitorEvery is how often Start's janitor removes expired nonces,
	// revoked tokens and revoked sessions (1 min).
	JanitorEvery time.Duration
	// CallerCacheTTL is how long what a verified Bearer token or API key
	// resolved to in the store (revocation, credential, organization) is
	// remembered on this replica: the bound within which a change made in
	// the store or through another replica takes effect here (default 2 s;
	// negative: every request reads the store). See callercache.go.
	CallerCacheTTL time.Duration
	// OnFailure, if set, is told the kind of every refused authentication
	// (one of the Failure* constants), for metrics. It must be cheap and
	// must not block.
	OnFailure func(kind string)
}

// BruteForceConfig tunes the per-replica, in-memory slowing of repeated
// authentication failures (see the package documentation).
type BruteForceConfig struct {
	// IPLimit is the number of recent failures from one client IP that turns
	// further attempts from it into 429 (default 20).
	IPLimit int
	// KeyLimit is the number of recent failures for one public key or client
	// id, from any address, that turns further attempts with it into 429
	// (default 50).
	KeyLimit int
	// Forget is how long one failure is remembered (default 3 s): a full
	// IPLimit burst is forgotten within IPLimit×Forget.
	Forget time.Duration
	// Delay is added to a failed answer for each failure beyond half of a
	// limit (default 100 ms, at most MaxDelay = 2 s). Negative disables it.
	Delay    time.Duration
	MaxDelay time.Duration
	// MaxEntries bounds the number of addresses and keys tracked (default 10000).
	MaxEntries int
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NonceTTL <= 0 {
		c.NonceTTL = 5 * time.Minute
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = time.Hour
	}
	if c.JanitorEvery <= 0 {
		c.JanitorEvery = time.Minute
	}
	if c.CallerCacheTTL == 0 {
		c.CallerCacheTTL = 2 * time.Second
	}
	if c.Issuer == "" {
		c.Issuer = "costexplorer"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	b := &c.BruteForce
	if b.IPLimit <= 0 {
		b.IPLimit = 20
	}
	if b.KeyLimit <= 0 {
		b.KeyLimit = 50
	}
	if b.Forget <= 0 {
		b.Forget = 3 * time.Second
	}
	if b.Delay == 0 {
		b.Delay = 100 * time.Millisecond
	}
	if b.MaxDelay <= 0 {
		b.MaxDelay = 2 * time.Second
	}
	if b.MaxEntries <= 0 {
		b.MaxEntries = 10000
	}
}

// Authenticator authenticates API requests and serves the OAuth endpoints.
// It keeps no state another replica needs: nonces and tokens are verifiable
// with the shared keys, and their single use and revocation live in the store.
type Authenticator struct {
	cfg      Config
	store    Store
	nonces   *nonceMinter
	tokens   *tokenSigner
	throttle *throttle
	log      *slog.Logger
	janitor  janitor

	// Store reads remembered for Config.CallerCacheTTL (callercache.go).
	tokenCallers *ttlCache[bearerCaller]               // by token id (jti)
	apiKeys      *ttlCache[*costexplorer.APIKey]       // by public key
	orgs         *ttlCache[*costexplorer.Organization] // by organization id
}

// New returns an Authenticator, loading the shared Digest nonce key and JWT
// signing key from the store (the first replica to start creates them).
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: Config.Store is required")
	}
	cfg.setDefaults()
	nonceKey, err := cfg.Store.Secret(ctx, secretNonceKey, RandomSecret(32))
	if err != nil {
		return nil, fmt.Errorf("auth: load digest nonce key: %w", err)
	}
	if len(nonceKey) < 32 {
		return nil, fmt.Errorf("auth: stored digest nonce key is %d bytes, want 32", len(nonceKey))
	}
	seed, err := cfg.Store.Secret(ctx, secretJWTSeed, RandomSecret(ed25519.SeedSize))
	if err != nil {
		return nil, fmt.Errorf("auth: load token signing key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("auth: stored token signing key is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return &Authenticator{
		cfg:      cfg,
		store:    cfg.Store,
		nonces:   &nonceMinter{key: nonceKey, ttl: cfg.NonceTTL},
		tokens:   newTokenSigner(ed25519.NewKeyFromSeed(seed), cfg.Issuer),
		throttle: newThrottle(cfg.BruteForce),
		log:      cfg.Logger,

		tokenCallers: newTTLCache[bearerCaller](cfg.CallerCacheTTL),
		apiKeys:      newTTLCache[*costexplorer.APIKey](cfg.CallerCacheTTL),
		orgs:         newTTLCache[*costexplorer.Organization](cfg.CallerCacheTTL),
	}, nil
}

// RandomSecret returns a function that makes n random bytes: the create
// argument of Store.Secret for a signing key.
func RandomSecret(n int) func() ([]byte, error) {
	return func() ([]byte, error) {
		b := make([]byte, n)
		_, err := rand.Read(b)
		return b, err
	}
}

// Details of the errors this package returns. One sentence per cause, the
// same whatever the credential or organization, so that an answer reveals
// nothing about which part was wrong.
const (
	detailUnauthenticated = "You are not authorized for this resource."
	detailRateLimited     = "Too many failed authentication attempts. Retry after %d seconds."
	detailUnavailable     = "Authentication is temporarily unavailable."
)

func errUnauthenticated() error {
	return costexplorer.Errorf(costexplorer.ErrUnauthorized, detailUnauthenticated)
}

func errUnavailable(cause error) error {
	return &costexplorer.Error{Code: costexplorer.ErrUnavailable, Detail: detailUnavailable, Err: cause}
}

// retryAfterError is the cause inside a RATE_LIMITED error; RetryAfter
// extracts it.
type retryAfterError struct{ d time.Duration }

func (e *retryAfterError) Error() string { return fmt.Sprintf("retry after %s", e.d) }

func errRateLimited(d time.Duration) error {
	secs := costexplorer.RetryAfterSeconds(d)
	return &costexplorer.Error{
		Code:   costexplorer.ErrRateLimited,
		Detail: fmt.Sprintf(detailRateLimited, secs),
		Err:    &retryAfterError{d: time.Duration(secs) * time.Second},
	}
}

// RetryAfter returns how long the caller should wait after a RATE_LIMITED
// error from CheckAPIKey or CheckServiceAccount (for a Retry-After header).
func RetryAfter(err error) (time.Duration, bool) {
	var e *retryAfterError
	if errors.As(err, &e) {
		return e.d, true
	}
	return 0, false
}
