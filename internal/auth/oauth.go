package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/costexplorer/costexplorer"
)

// maxFormBytes bounds the body of the OAuth endpoints.
const maxFormBytes = 16 << 10

// oauthError is an RFC 6749 §5.2 error answer.
type oauthError struct {
	status      int
	code        string // invalid_request, invalid_client, unsupported_grant_type, …
	description string
	retryAfter  time.Duration
	cause       error // logged only
	delay       time.Duration
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

// TokenHandler serves POST /api/oauth/token: the OAuth 2.0 client
// credentials grant (RFC 6749 §4.4) with the client authenticated by HTTP
// Basic. It answers 200 {"access_token", "token_type": "Bearer",
// "expires_in"}, or an RFC 6749 error body: 400 invalid_request (not a
// form, repeated or missing parameters), 401 invalid_client with
// WWW-Authenticate: Basic (unknown client, wrong secret, disabled account),
// 400 unsupported_grant_type, 429 (after repeated failures, with
// Retry-After) or 503 temporarily_unavailable. Access lists are not checked
// here: they apply where the token is used.
func (a *Authenticator) TokenHandler() http.Handler { return a.oauthEndpoint(a.issueToken) }

func (a *Authenticator) issueToken(w http.ResponseWriter, _ *http.Request, form url.Values, sa *costexplorer.ServiceAccount) *oauthError {
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return invalidRequest("The grant_type parameter is required.")
	default:
		return &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", description: "Only the client_credentials grant type is supported."}
	}
	token, _, err := a.tokens.sign(sa.ClientID, sa.OrgID, a.cfg.Now(), a.cfg.TokenTTL)
	if err != nil {
		return &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "The token could not be issued.", cause: err}
	}
	writeOAuthJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int64(a.cfg.TokenTTL / time.Second),
	})
	return nil
}

// RevokeHandler serves POST /api/oauth/revoke (RFC 7009): form token=…,
// the client authenticated by HTTP Basic as for the token endpoint. A valid
// token of that client is revoked by its jti until it expires, on every
// replica. As RFC 7009 §2.2 requires, an unknown, malformed or expired token
// is answered 200 too; a token issued to another client is refused with
// 400 invalid_request.
func (a *Authenticator) RevokeHandler() http.Handler { return a.oauthEndpoint(a.revokeToken) }

func (a *Authenticator) revokeToken(w http.ResponseWriter, r *http.Request, form url.Values, sa *costexplorer.ServiceAccount) *oauthError {
	token := form.Get("token")
	if token == "" {
		return invalidRequest("The token parameter is required.")
	}
	if claims, err := a.tokens.verifySignature(token); err == nil {
		if claims.Subject != sa.ClientID {
			return invalidRequest("The token was not issued to this client.")
		}
		if exp := claims.ExpiresAt.Time; exp.Add(tokenLeeway).After(a.cfg.Now()) {
			if err := a.store.RevokeToken(r.Context(), claims.ID, exp.Add(tokenLeeway)); err != nil {
				return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", description: "The token could not be revoked; retry later.", cause: err}
			}
			// Other replicas see the revocation within CallerCacheTTL;
			// this one at once.
			a.tokenCallers.drop(claims.ID)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	return nil
}

// oauthEndpoint makes an OAuth endpoint of serve: the checks both endpoints
// share (oauthRequest) run first, and every refusal, theirs or serve's, is
// answered by writeOAuthError.
func (a *Authenticator) oauthEndpoint(serve func(w http.ResponseWriter, r *http.Request, form url.Values, sa *costexplorer.ServiceAccount) *oauthError) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, sa, oe := a.oauthRequest(w, r)
		if oe == nil {
			oe = serve(w, r, form, sa)
		}
		if oe != nil {
			a.writeOAuthError(w, r, oe)
		}
	})
}

// invalidRequest is the RFC 6749 invalid_request answer (400).
func invalidRequest(description string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: description}
}

// oauthRequest checks what both OAuth endpoints share: POST, a form body
// with no repeated parameter, and the client's HTTP Basic credentials.
func (a *Authenticator) oauthRequest(w http.ResponseWriter, r *http.Request) (url.Values, *costexplorer.ServiceAccount, *oauthError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, nil, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "Use POST."}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, nil, invalidRequest("The body must be application/x-www-form-urlencoded.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return nil, nil, invalidRequest(fmt.Sprintf("The body must be a form of at most %d bytes.", maxFormBytes))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, invalidRequest("The body is not a valid form.")
	}
	for name, vs := range form {
		if len(vs) > 1 {
			// RFC 6749 §3.2: parameters must not be included more than once.
			return nil, nil, invalidRequest(fmt.Sprintf("The %s parameter is repeated.", name))
		}
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		return nil, nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Client authentication with HTTP Basic is required."}
	}
	// RFC 6749 §2.3.1: the client id and secret are form-encoded before
	// being put in the Basic credentials.
	if uid, err := url.QueryUnescape(id); err == nil {
		id = uid
	}
	if usecret, err := url.QueryUnescape(secret); err == nil {
		secret = usecret
	}
	sa, err := a.verifyServiceAccount(r.Context(), id, secret, a.ClientIP(r))
	if err != nil {
		return nil, nil, toOAuthError(err)
	}
	return form, sa, nil
}

// toOAuthError turns an error of verifyServiceAccount into an OAuth answer.
func toOAuthError(err error) *oauthError {
	switch costexplorer.ErrorCode(err) {
	case costexplorer.ErrRateLimited:
		d, _ := RetryAfter(err)
		// RFC 6749 has no code for this; temporarily_unavailable is the
		// registered code closest to "not now", and 429 + Retry-After says
		// when.
		return &oauthError{status: http.StatusTooManyRequests, code: "temporarily_unavailable", description: costexplorer.ErrorDetail(err), retryAfter: d}
	case costexplorer.ErrUnauthorized:
		var de *delayedError
		oe := &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Client authentication failed."}
		if errors.As(err, &de) {
			oe.delay = de.delay
		}
		return oe
	default:
		return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", description: "The service is temporarily unavailable; retry later.", cause: err}
	}
}

func (a *Authenticator) writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	if a.cfg.OnFailure != nil {
		switch {
		case e.status == http.StatusUnauthorized:
			a.cfg.OnFailure(FailureClientInvalid)
		case e.status == http.StatusTooManyRequests:
			a.cfg.OnFailure(FailureRateLimited)
		case e.status == http.StatusServiceUnavailable:
			a.cfg.OnFailure(FailureUnavailable)
		}
	}
	if e.status == http.StatusUnauthorized || e.status >= 429 {
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "oauth request refused",
			slog.String("error", e.code), slog.Int("status", e.status), slog.String("ip", a.ClientIP(r).String()),
			slog.Any("cause", e.cause))
	}
	sleep(r.Context(), e.delay)
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(costexplorer.RetryAfterSeconds(e.retryAfter)))
	}
	writeOAuthJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

// writeOAuthJSON writes an OAuth answer, never cached (RFC 6749 §5.1).
func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// delayedError carries the brute-force delay of a failed check to the HTTP
// answer, so that the OAuth endpoints sleep where Authenticate does.
type delayedError struct{ delay time.Duration }

func (e *delayedError) Error() string { return "authentication failed" }

// verifyServiceAccount checks a client id and secret. Unknown ids cost the
// same bcrypt comparison as wrong secrets.
func (a *Authenticator) verifyServiceAccount(ctx context.Context, clientID, secret string, ip netip.Addr) (*costexplorer.ServiceAccount, error) {
	counter := ""
	if len(clientID) == len(clientIDPrefix)+24 && costexplorer.IsID(clientID[len(clientIDPrefix):]) {
		counter = "serviceaccount " + clientID
	}
	return verifyTyped(ctx, a, ip, counter, a.store.ServiceAccount, clientID, func(sa *costexplorer.ServiceAccount, now time.Time) bool {
		hash := dummySecretHash()
		if sa != nil {
			hash = sa.SecretHash
		}
		return checkSecret(hash, secret) && sa != nil && serviceAccountUsable(sa, now)
	})
}

// verifyAPIKey checks a public and private key pair against the stored
// SHA-256 HA1, in constant time.
func (a *Authenticator) verifyAPIKey(ctx context.Context, publicKey, privateKey string, ip netip.Addr) (*costexplorer.APIKey, error) {
	counter := ""
	if isPublicKey(publicKey) {
		counter = "apikey " + publicKey
	}
	return verifyTyped(ctx, a, ip, counter, a.store.APIKeyByPublicKey, publicKey, func(k *costexplorer.APIKey, _ time.Time) bool {
		return k != nil && apiKeyUsable(k) && k.HA1SHA256 != "" &&
			subtle.ConstantTimeCompare([]byte(HA1SHA256(publicKey, privateKey)), []byte(k.HA1SHA256)) == 1
	})
}

// verifyTyped is what checking typed-in credentials (the token endpoint's
// Basic credentials, the sign-in form) always does: refuse while the
// address or the credential (counter, "" when the name is not plausible
// enough to get a counter) is rate limited, look the credential up by name,
// check the typed secret against it (check gets nil for an unknown name and
// must cost the same), and count the failure or the success. It does not
// sleep: the delay of a failure is inside the returned error.
func verifyTyped[C any](ctx context.Context, a *Authenticator, ip netip.Addr, counter string,
	lookup func(context.Context, string) (*C, error), name string, check func(*C, time.Time) bool) (*C, error) {
	now := a.cfg.Now()
	keys := []limitKey{a.throttle.ipKey(ip)}
	if counter != "" {
		keys = append(keys, a.throttle.credentialKey(counter))
	}
	if d, blocked := a.throttle.blocked(now, keys...); blocked {
		return nil, errRateLimited(d)
	}
	c, err := lookup(ctx, name)
	if err != nil {
		if !costexplorer.IsNotFound(err) {
			return nil, errUnavailable(fmt.Errorf("look up credential: %w", err))
		}
		c = nil
	}
	if !check(c, now) {
		return nil, &costexplorer.Error{Code: costexplorer.ErrUnauthorized, Detail: detailUnauthenticated, Err: &delayedError{a.throttle.fail(now, keys...)}}
	}
	a.throttle.succeed(keys[0])
	return c, nil
}

// CheckAPIKey authenticates a public and private key pair outside HTTP
// Digest (the web sign-in form) with the same rules as Authenticate:
// brute-force slowing (this call sleeps on failure), enabled flag, access
// lists. Errors are *costexplorer.Error values: USER_UNAUTHORIZED,
// RATE_LIMITED (see RetryAfter), IP_ADDRESS_NOT_ON_ACCESS_LIST,
// ORG_REQUIRES_ACCESS_LIST or SERVICE_UNAVAILABLE.
func (a *Authenticator) CheckAPIKey(ctx context.Context, publicKey, privateKey string, ip netip.Addr) (*costexplorer.Principal, error) {
	k, err := a.verifyAPIKey(ctx, publicKey, privateKey, ip)
	return admit(ctx, a, k, err, apiKeyPrincipal, ip)
}

// CheckServiceAccount is CheckAPIKey for a service account's client id and
// secret.
func (a *Authenticator) CheckServiceAccount(ctx context.Context, clientID, secret string, ip netip.Addr) (*costexplorer.Principal, error) {
	sa, err := a.verifyServiceAccount(ctx, clientID, secret, ip)
	return admit(ctx, a, sa, err, serviceAccountPrincipal, ip)
}

// admit finishes a check of typed-in credentials: after a failed
// verification it waits out the brute-force delay; after a good one it
// enforces the access lists on the credential's principal.
func admit[C any](ctx context.Context, a *Authenticator, c *C, err error, principal func(*C) *costexplorer.Principal, ip netip.Addr) (*costexplorer.Principal, error) {
	if err != nil {
		sleepFor(ctx, err)
		return nil, err
	}
	p := principal(c)
	if _, err := a.checkAccess(ctx, p, ip); err != nil {
		return nil, err
	}
	return p, nil
}

func sleepFor(ctx context.Context, err error) {
	var de *delayedError
	if errors.As(err, &de) {
		sleep(ctx, de.delay)
	}
}
