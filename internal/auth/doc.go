// Package auth authenticates callers of the Atlas-compatible API.
//
// Two kinds of credential exist, as in Atlas:
//
//   - API keys over HTTP Digest (RFC 7616, MD5 and SHA-256, qop=auth). The
//     server stores only the digest hashes HA1 = H(publicKey:realm:privateKey)
//     and mints its own nonces: a timestamp, random bytes and an HMAC under a
//     key shared by every replica through Store.Secret, so any replica accepts
//     any replica's nonce without a database round trip. A nonce expires after
//     Config.NonceTTL (the client is then told stale=true and retries without
//     asking its user again), and each (nonce, nc) pair is accepted once across
//     replicas through Store.UseNonce.
//   - Service accounts over OAuth 2.0 client credentials. The client secret is
//     stored as a bcrypt hash. Access tokens are JWTs signed with an Ed25519
//     key that lives in the store (Store.Secret), so every replica signs and
//     verifies with the same key; verification accepts EdDSA only. Revocation
//     is by token id (jti), shared through the store.
//
// Access lists are enforced each time a credential is used (a Digest request
// or a Bearer request), never when a token is minted: a token obtained from an
// allowed address is useless from another one.
//
// Brute-force slowing is per replica and in memory, on purpose: it needs no
// database writes on the hot path and a restart forgets it. Failures are
// counted per client IP and per public key / client id in a leaky bucket
// (each failure is forgotten after BruteForce.Forget). Past half of a limit
// each failed answer is delayed a little more; at the limit the caller gets
// 429 RATE_LIMITED with Retry-After until enough failures have leaked away.
// An attacker can thus keep a key locked only while attacking, and the
// holder is let back in seconds after the attack stops. The tracking table is
// bounded (BruteForce.MaxEntries); when full, forgotten entries are dropped
// first, then arbitrary ones, so memory stays bounded under a flood of
// addresses at the cost of forgetting some counts.
//
// Each replica remembers for Config.CallerCacheTTL (2 s) what a verified
// Bearer token or API key resolved to in the store — revocation, the
// credential, its organization — so that a client repeating its token does
// not cost three reads a request. A revocation through another replica (or
// the store), a credential disabled or deleted, roles, access lists or an
// organization changed, take effect on a replica within that bound; a
// revocation through a replica's own endpoint, at once there. Signatures,
// token times, Digest responses, nonce single use, secret expiry and the
// caller's address are checked on every request (callercache.go).
//
// Whether a stored credential may be used at a moment is decided in one
// place (validity.go) for every way in: Digest requests, the token endpoint,
// the web sign-in form, and the grants a request presents again — Bearer
// tokens and web sessions (Resume) — so that a token or session made with a
// service account's secret ends when the secret expires, as the secret does.
//
// The HTTP layer (internal/httpapi) calls Authenticate first in every Atlas
// operation and writes its errors with the one Atlas error writer; it mounts
// TokenHandler and RevokeHandler, and authorizes with
// costexplorer.AuthorizeOrg.
package auth
