package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/golang-jwt/jwt/v5"
)

// failure is why a request was not authenticated and how to answer it.
type failure struct {
	err    error         // a *costexplorer.Error for the caller's error writer
	reason string        // for the log only
	stale  bool          // challenge with stale=true (right key, expired nonce)
	bearer bool          // the caller tried a Bearer token: add a Bearer challenge
	delay  time.Duration // brute-force slowing of this answer
	kind   string        // for metrics (a Failure* constant); derived by kindOf when empty
}

// Authenticate authenticates r with HTTP Digest (an API key) or a Bearer
// access token (a service account), enforces the credential's access list
// and its organization's access-list requirement, and returns the principal.
// It does not authorize: the caller checks costexplorer.AuthorizeOrg.
//
// On failure it prepares the answer on w — fresh Digest challenges (MD5
// first, then SHA-256, and a Bearer challenge after a Bearer attempt) or
// Retry-After —, waits out the brute-force delay, and returns the error for
// the caller's error writer: USER_UNAUTHORIZED, IP_ADDRESS_NOT_ON_ACCESS_LIST,
// ORG_REQUIRES_ACCESS_LIST, RATE_LIMITED after repeated failures, or
// SERVICE_UNAVAILABLE when the store does not answer.
func (a *Authenticator) Authenticate(w http.ResponseWriter, r *http.Request) (*costexplorer.Principal, error) {
	p, f := a.authenticate(r)
	if f != nil {
		return nil, a.prepareFailure(w, r, f)
	}
	return p, nil
}

func (a *Authenticator) authenticate(r *http.Request) (*costexplorer.Principal, *failure) {
	ctx := r.Context()
	now := a.cfg.Now()
	ip := a.ClientIP(r)
	ipKey := a.throttle.ipKey(ip)
	if d, blocked := a.throttle.blocked(now, ipKey); blocked {
		return nil, &failure{err: errRateLimited(d), reason: "address rate limited"}
	}
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		// The first leg of every Digest handshake: not a failure.
		return nil, &failure{err: errUnauthenticated()}
	}
	if len(values) > 1 {
		f := a.fail(now, "several Authorization headers", ipKey)
		f.kind = FailureMalformed
		return nil, f
	}
	scheme, _, _ := strings.Cut(values[0], " ")
	var (
		p *costexplorer.Principal
		f *failure
	)
	switch strings.ToLower(scheme) {
	case "digest":
		p, f = a.authenticateDigest(r, values[0], now, ipKey)
	case "bearer":
		p, f = a.authenticateBearer(ctx, values[0][len(scheme):], now, ipKey)
	default:
		return nil, &failure{err: errUnauthenticated(), reason: "unsupported scheme", kind: FailureMalformed}
	}
	if f != nil {
		return nil, f
	}
	if err := a.checkAccessCached(ctx, p, ip, now); err != nil {
		f := &failure{err: err, reason: "access list", bearer: p.Kind == costexplorer.PrincipalServiceAccount}
		if costexplorer.ErrorCode(err) == costexplorer.ErrUnauthorized {
			f.reason = "organization gone"
		}
		return nil, f
	}
	return p, nil
}

// authenticateDigest verifies an RFC 7616 Authorization header against the
// stored HA1 of the key it names.
func (a *Authenticator) authenticateDigest(r *http.Request, header string, now time.Time, ipKey limitKey) (*costexplorer.Principal, *failure) {
	ctx := r.Context()
	c, err := parseDigestAuthorization(header)
	if err != nil {
		return nil, a.fail(now, err.Error(), ipKey)
	}
	keys := []limitKey{ipKey}
	if isPublicKey(c.Username) {
		keys = append(keys, a.throttle.credentialKey("apikey "+c.Username))
	}
	if d, blocked := a.throttle.blocked(now, keys...); blocked {
		return nil, &failure{err: errRateLimited(d), reason: "public key rate limited"}
	}
	if c.Realm != Realm {
		return nil, a.fail(now, "wrong realm", keys...)
	}
	// The client hashes the request line's target, query string included;
	// comparing it with what this request really asked for stops a signed
	// header from being replayed against another path or query.
	if c.URI != r.RequestURI {
		return nil, a.fail(now, "uri does not match the request", keys...)
	}
	expires, nonceErr := a.nonces.check(c.Nonce, now)
	if errors.Is(nonceErr, errNonceInvalid) {
		return nil, a.fail(now, "nonce not minted here", keys...)
	}
	k, cached := a.apiKeys.get(c.Username, now)
	if !cached {
		k, err = a.store.APIKeyByPublicKey(ctx, c.Username)
	}
	if costexplorer.IsNotFound(err) {
		return nil, a.fail(now, "unknown public key", keys...)
	}
	if err != nil {
		return nil, &failure{err: errUnavailable(fmt.Errorf("look up API key: %w", err)), reason: "store"}
	}
	ha1 := k.HA1MD5
	if c.Algorithm == algSHA256 {
		ha1 = k.HA1SHA256
	}
	want := digestResponse(c.Algorithm, ha1, r.Method, c.URI, c.Nonce, c.NC, c.Cnonce)
	if ha1 == "" || subtle.ConstantTimeCompare([]byte(want), []byte(c.Response)) != 1 {
		return nil, a.fail(now, "wrong digest response", keys...)
	}
	if !apiKeyUsable(k) {
		return nil, a.fail(now, "API key disabled", keys...)
	}
	if errors.Is(nonceErr, errNonceStale) {
		// The client knows the key: tell it to retry with a fresh nonce
		// without asking its user again (RFC 7616 §3.3).
		return nil, &failure{err: errUnauthenticated(), reason: "stale nonce", stale: true}
	}
	// The record outlives the nonce by the tolerated clock skew, so that a
	// replica whose clock runs behind cannot accept a pair already forgotten.
	if err := a.store.UseNonce(ctx, c.Nonce, c.Count, expires.Add(nonceSkew)); err != nil {
		if costexplorer.ErrorCode(err) == costexplorer.ErrConflict {
			f := a.fail(now, "replayed nonce and nc", keys...)
			f.kind = FailureDigestReplay
			return nil, f
		}
		return nil, &failure{err: errUnavailable(fmt.Errorf("record nonce use: %w", err)), reason: "store"}
	}
	a.throttle.succeed(ipKey)
	if !cached {
		a.apiKeys.put(c.Username, k, now)
	}
	return apiKeyPrincipal(k), nil
}

// authenticateBearer verifies an access token and resumes it as a Grant:
// not revoked, its service account still there, usable (enabled, secret not
// expired) and of the same organization. The roles and access list are read
// afresh, so changes apply to live tokens.
func (a *Authenticator) authenticateBearer(ctx context.Context, rest string, now time.Time, ipKey limitKey) (*costexplorer.Principal, *failure) {
	token := strings.TrimSpace(rest)
	claims, err := a.tokens.verify(token, a.cfg.Now)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		// A genuine token at the wrong time: a client that forgot to
		// refresh, not a guess. Not counted.
		return nil, &failure{err: errUnauthenticated(), reason: err.Error(), bearer: true}
	case err != nil:
		f := a.fail(now, err.Error(), ipKey)
		f.bearer = true
		return nil, f
	}
	p, err := a.resumeToken(ctx, claims, now)
	if err != nil {
		if costexplorer.ErrorCode(err) == costexplorer.ErrUnavailable {
			return nil, &failure{err: err, reason: "store"}
		}
		reason := "token ended"
		if cause := errors.Unwrap(err); cause != nil {
			reason = "token ended: " + cause.Error()
		}
		return nil, &failure{err: err, reason: reason, bearer: true}
	}
	a.throttle.succeed(ipKey)
	return p, nil
}

// bearerCaller is what a token resolved to (see callercache.go).
type bearerCaller struct {
	p             *costexplorer.Principal
	secretExpires time.Time // zero: never
}

// resumeToken is resume for a verified access token, through the cache of
// what its id resolved to. The secret's expiry is checked on every request.
func (a *Authenticator) resumeToken(ctx context.Context, claims *tokenClaims, now time.Time) (*costexplorer.Principal, error) {
	if c, ok := a.tokenCallers.get(claims.ID, now); ok && (c.secretExpires.IsZero() || now.Before(c.secretExpires)) {
		p := *c.p
		return &p, nil
	}
	p, secretExpires, err := a.resume(ctx, Grant{ID: claims.ID, Kind: costexplorer.PrincipalServiceAccount, CredentialID: claims.Subject, OrgID: claims.OrgID})
	if err != nil {
		return nil, err
	}
	cached := *p
	a.tokenCallers.put(claims.ID, bearerCaller{p: &cached, secretExpires: secretExpires}, now)
	return p, nil
}

// checkAccessCached is checkAccess with the organization read through the
// cache (see callercache.go); the access lists are checked every time.
func (a *Authenticator) checkAccessCached(ctx context.Context, p *costexplorer.Principal, ip netip.Addr, now time.Time) error {
	org, ok := a.orgs.get(p.OrgID, now)
	if !ok {
		var err error
		if org, err = a.organization(ctx, p.OrgID); err != nil {
			return err
		}
		a.orgs.put(p.OrgID, org, now)
	}
	return admitAccess(p, org, ip)
}

// fail records a failure against keys and returns the 401 to answer.
func (a *Authenticator) fail(now time.Time, reason string, keys ...limitKey) *failure {
	return &failure{err: errUnauthenticated(), reason: reason, delay: a.throttle.fail(now, keys...)}
}

// prepareFailure prepares the answer to a request that was not
// authenticated (challenge or Retry-After headers, the brute-force delay)
// and returns the error to answer with.
func (a *Authenticator) prepareFailure(w http.ResponseWriter, r *http.Request, f *failure) error {
	code := costexplorer.ErrorCode(f.err)
	if a.cfg.OnFailure != nil {
		a.cfg.OnFailure(kindOf(f))
	}
	if f.reason != "" {
		// The route pattern, not the path: a result path carries the
		// whole query token.
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "authentication failed",
			slog.String("reason", f.reason), slog.String("errorCode", code),
			slog.String("ip", a.ClientIP(r).String()), slog.String("method", r.Method), slog.String("route", r.Pattern))
	}
	sleep(r.Context(), f.delay)
	switch code {
	case costexplorer.ErrUnauthorized:
		nonce, err := a.nonces.mint(a.cfg.Now())
		if err != nil {
			return &costexplorer.Error{Code: costexplorer.ErrInternal, Detail: "mint nonce", Err: err}
		}
		setChallenges(w.Header(), nonce, f.stale)
		if f.bearer {
			w.Header().Add("WWW-Authenticate", `Bearer realm="`+Realm+`", error="invalid_token"`)
		}
	case costexplorer.ErrRateLimited:
		if d, ok := RetryAfter(f.err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(costexplorer.RetryAfterSeconds(d)))
		}
	}
	return f.err
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
