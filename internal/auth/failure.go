package auth

import "github.com/costexplorer/costexplorer"

// Kinds of refused authentication, as told to Config.OnFailure. They are a
// fixed set, so that a metric labelled with them stays bounded, and they name
// what went wrong without naming the credential.
const (
	// FailureMissing: no Authorization header. The first leg of every Digest
	// handshake is one, so it counts handshakes as much as failures.
	FailureMissing = "missing"
	// FailureMalformed: several Authorization headers, or a scheme other
	// than Digest and Bearer.
	FailureMalformed = "malformed"
	// FailureDigestInvalid: a Digest answer that does not verify (unparsable,
	// wrong realm or URI, a nonce not minted here, an unknown or disabled
	// key, a wrong response).
	FailureDigestInvalid = "digest_invalid"
	// FailureDigestStale: a correct Digest answer to an expired nonce (the
	// client retries with the fresh nonce it is given).
	FailureDigestStale = "digest_stale"
	// FailureDigestReplay: a (nonce, nc) pair used before.
	FailureDigestReplay = "digest_replay"
	// FailureBearerInvalid: a Bearer token that does not verify, has expired
	// or was revoked, or whose service account is gone or disabled.
	FailureBearerInvalid = "bearer_invalid"
	// FailureClientInvalid: the token endpoint refused the client id and
	// secret.
	FailureClientInvalid = "client_invalid"
	// FailureAccessList: the credential is not usable from the caller's
	// address, or its organization requires an access list it lacks.
	FailureAccessList = "access_list"
	// FailureRateLimited: refused with 429 after repeated failures.
	FailureRateLimited = "rate_limited"
	// FailureUnavailable: the store did not answer (503).
	FailureUnavailable = "unavailable"
)

// FailureKinds lists every kind, for metrics that want to show zeros.
var FailureKinds = []string{
	FailureMissing, FailureMalformed, FailureDigestInvalid, FailureDigestStale, FailureDigestReplay,
	FailureBearerInvalid, FailureClientInvalid, FailureAccessList, FailureRateLimited, FailureUnavailable,
}

// kindOf returns the metric kind of a failure: the one set where it was
// made, or the one its answer implies.
func kindOf(f *failure) string {
	if f.kind != "" {
		return f.kind
	}
	switch costexplorer.ErrorCode(f.err) {
	case costexplorer.ErrRateLimited:
		return FailureRateLimited
	case costexplorer.ErrUnavailable:
		return FailureUnavailable
	case costexplorer.ErrIPNotOnAccessList, costexplorer.ErrOrgRequiresAccessList:
		return FailureAccessList
	}
	switch {
	case f.reason == "":
		return FailureMissing
	case f.stale:
		return FailureDigestStale
	case f.bearer:
		return FailureBearerInvalid
	}
	return FailureDigestInvalid
}
