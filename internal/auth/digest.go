package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Digest algorithms, as spelled in challenges and Authorization headers.
const (
	algMD5    = "MD5"
	algSHA256 = "SHA-256"
)

// challenge returns the value of one WWW-Authenticate header. The shape is
// fixed byte for byte: the Atlas Go SDK splits the parameters on ", ",
// rejects any key outside realm, domain, nonce, opaque, stale, algorithm and
// qop, and reads only the first WWW-Authenticate header (the MD5 one).
func challenge(alg, nonce string, stale bool) string {
	return `Digest realm="` + Realm + `", domain="", nonce="` + nonce + `", algorithm=` + alg +
		`, qop="auth", stale=` + strconv.FormatBool(stale)
}

// setChallenges adds the Digest challenges to h, MD5 first.
func setChallenges(h interface{ Add(string, string) }, nonce string, stale bool) {
	h.Add("WWW-Authenticate", challenge(algMD5, nonce, stale))
	h.Add("WWW-Authenticate", challenge(algSHA256, nonce, stale))
}

// HA1MD5 returns the RFC 7616 MD5 HA1 of an API key: hex MD5 of
// "publicKey:MMS Public API:privateKey". Stores keep this, not the key.
func HA1MD5(publicKey, privateKey string) string {
	return hexHash(md5.New(), publicKey+":"+Realm+":"+privateKey)
}

// HA1SHA256 is HA1MD5 with SHA-256.
func HA1SHA256(publicKey, privateKey string) string {
	return hexHash(sha256.New(), publicKey+":"+Realm+":"+privateKey)
}

func hexHash(h hash.Hash, s string) string {
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func newHash(alg string) hash.Hash {
	if alg == algSHA256 {
		return sha256.New()
	}
	return md5.New()
}

// digestResponse computes the qop=auth request-digest of RFC 7616 §3.4.1
// from a stored HA1.
func digestResponse(alg, ha1, method, uri, nonce, nc, cnonce string) string {
	ha2 := hexHash(newHash(alg), method+":"+uri)
	return hexHash(newHash(alg), ha1+":"+nonce+":"+nc+":"+cnonce+":auth:"+ha2)
}

// digestCredentials are the parameters of a Digest Authorization header.
type digestCredentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string // lower-case hex
	Algorithm string // algMD5 or algSHA256
	Cnonce    string
	NC        string // the 8 hex digits as sent (part of the hashed string)
	Count     uint32 // NC parsed
}

// maxAuthorizationLen bounds the header the parser will look at.
const maxAuthorizationLen = 4096

var errMalformedDigest = errors.New("malformed Digest authorization")

// parseDigestAuthorization parses an Authorization header value of scheme
// Digest (RFC 7616 §3.4, RFC 9110 §11 auth-param grammar: token or
// quoted-string values, commas with optional whitespace, unknown parameters
// ignored). It requires what this server needs to verify a request: qop=auth
// with nc and cnonce, and an algorithm it offered. Every rejection is an
// error; it never panics.
func parseDigestAuthorization(header string) (*digestCredentials, error) {
	if len(header) > maxAuthorizationLen {
		return nil, fmt.Errorf("%w: header longer than %d bytes", errMalformedDigest, maxAuthorizationLen)
	}
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Digest") {
		return nil, fmt.Errorf("%w: scheme is not Digest", errMalformedDigest)
	}
	params, err := parseAuthParams(rest)
	if err != nil {
		return nil, err
	}
	c := &digestCredentials{Algorithm: algMD5}
	for _, k := range []string{"username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"} {
		if params[k] == "" {
			return nil, fmt.Errorf("%w: missing %s", errMalformedDigest, k)
		}
	}
	if _, ok := params["username*"]; ok {
		return nil, fmt.Errorf("%w: username* is not supported", errMalformedDigest)
	}
	if v, ok := params["userhash"]; ok && !strings.EqualFold(v, "false") {
		return nil, fmt.Errorf("%w: userhash is not supported", errMalformedDigest)
	}
	c.Username, c.Realm, c.Nonce, c.URI, c.Cnonce = params["username"], params["realm"], params["nonce"], params["uri"], params["cnonce"]
	if params["qop"] != "auth" {
		return nil, fmt.Errorf("%w: qop must be auth", errMalformedDigest)
	}
	if a, ok := params["algorithm"]; ok {
		switch {
		case strings.EqualFold(a, algMD5):
			c.Algorithm = algMD5
		case strings.EqualFold(a, algSHA256):
			c.Algorithm = algSHA256
		default:
			return nil, fmt.Errorf("%w: unsupported algorithm", errMalformedDigest)
		}
	}
	c.NC = params["nc"]
	if len(c.NC) != 8 {
		return nil, fmt.Errorf("%w: nc must be 8 hex digits", errMalformedDigest)
	}
	n, err := strconv.ParseUint(c.NC, 16, 32)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("%w: nc must be 8 hex digits, not zero", errMalformedDigest)
	}
	c.Count = uint32(n)
	c.Response = strings.ToLower(params["response"])
	want := 32
	if c.Algorithm == algSHA256 {
		want = 64
	}
	if len(c.Response) != want {
		return nil, fmt.Errorf("%w: response has the wrong length", errMalformedDigest)
	}
	if _, err := hex.DecodeString(c.Response); err != nil {
		return nil, fmt.Errorf("%w: response is not hex", errMalformedDigest)
	}
	return c, nil
}

// parseAuthParams parses a comma-separated list of auth-params
// (name=token or name="quoted string"). Names are lower-cased; a repeated
// name is an error, as RFC 9110 §11.2 forbids it.
func parseAuthParams(s string) (map[string]string, error) {
	params := map[string]string{}
	i := 0
	for {
		// Skip list separators and whitespace.
		for i < len(s) && (s[i] == ',' || s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		name := strings.ToLower(s[start:i])
		if name == "" {
			return nil, fmt.Errorf("%w: expected a parameter name at byte %d", errMalformedDigest, i)
		}
		i = skipSpace(s, i)
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("%w: parameter %q has no value", errMalformedDigest, name)
		}
		i = skipSpace(s, i+1)
		var value string
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				if c < 0x20 && c != '\t' || c == 0x7f {
					return nil, fmt.Errorf("%w: control character in %q", errMalformedDigest, name)
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("%w: unterminated quoted value of %q", errMalformedDigest, name)
			}
			value = b.String()
		} else {
			start := i
			for i < len(s) && isTokenChar(s[i]) {
				i++
			}
			value = s[start:i]
			if value == "" {
				return nil, fmt.Errorf("%w: parameter %q has an empty value", errMalformedDigest, name)
			}
		}
		if _, dup := params[name]; dup {
			return nil, fmt.Errorf("%w: parameter %q repeated", errMalformedDigest, name)
		}
		params[name] = value
		i = skipSpace(s, i)
		if i < len(s) && s[i] != ',' {
			return nil, fmt.Errorf("%w: expected a comma after %q", errMalformedDigest, name)
		}
	}
	return params, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTokenChar reports whether c is a tchar of RFC 9110 §5.6.2.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// nonceMinter mints and checks server nonces: base64url(issued unix nanos
// (8 bytes) ‖ random (12) ‖ HMAC-SHA256(key, the first 20 bytes)[:16]). The
// key is shared by every replica, so any replica can check any nonce without
// asking the database; only single use (nonce, nc) needs the store.
type nonceMinter struct {
	key []byte
	ttl time.Duration
}

const (
	nonceRandLen = 12
	nonceMACLen  = 16
	nonceLen     = 8 + nonceRandLen + nonceMACLen
	// nonceSkew tolerates clocks of replicas that run slightly apart.
	nonceSkew = time.Minute
)

func (m *nonceMinter) mint(now time.Time) (string, error) {
	b := make([]byte, nonceLen)
	binary.BigEndian.PutUint64(b, uint64(now.UnixNano()))
	if _, err := rand.Read(b[8 : 8+nonceRandLen]); err != nil {
		return "", err
	}
	copy(b[8+nonceRandLen:], m.mac(b[:8+nonceRandLen]))
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (m *nonceMinter) mac(b []byte) []byte {
	h := hmac.New(sha256.New, m.key)
	h.Write(b)
	return h.Sum(nil)[:nonceMACLen]
}

// Results of checking a nonce.
var (
	errNonceInvalid = errors.New("nonce was not minted by this service")
	errNonceStale   = errors.New("nonce expired")
)

// check returns when the nonce expires, errNonceInvalid for a nonce this
// service did not mint, or errNonceStale for an expired one.
func (m *nonceMinter) check(nonce string, now time.Time) (time.Time, error) {
	if len(nonce) != base64.RawURLEncoding.EncodedLen(nonceLen) {
		return time.Time{}, errNonceInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceLen {
		return time.Time{}, errNonceInvalid
	}
	if subtle.ConstantTimeCompare(m.mac(b[:8+nonceRandLen]), b[8+nonceRandLen:]) != 1 {
		return time.Time{}, errNonceInvalid
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b)))
	if issued.After(now.Add(nonceSkew)) {
		return time.Time{}, errNonceInvalid
	}
	expires := issued.Add(m.ttl)
	if !now.Before(expires) {
		return expires, errNonceStale
	}
	return expires, nil
}
