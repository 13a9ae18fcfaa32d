package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// quote renders s as an RFC 9110 quoted-string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// FuzzParseDigestAuthorization: the parser of outside input never panics,
// every rejection is an error, and what it accepts survives a round trip
// through a canonical rendering.
func FuzzParseDigestAuthorization(f *testing.F) {
	f.Add(`Digest username="abcdefgh", realm="MMS Public API", nonce="N", uri="/api/atlas/v2?x=1", response="0123456789abcdef0123456789abcdef", algorithm="MD5", qop=auth, nc=00000001, cnonce="c1"`)
	f.Add(`Digest username="abcdefgh",realm="MMS Public API",nonce="N",uri="/p",cnonce="c",nc=0000000a,algorithm=SHA-256,response="` + strings.Repeat("b", 64) + `",qop=auth`)
	f.Add(`Digest username="a\"b", realm="r\\", x=y`)
	f.Add(`Digest ,,, , username="`)
	f.Fuzz(func(t *testing.T, header string) {
		c, err := parseDigestAuthorization(header)
		if err != nil {
			if c != nil || !errors.Is(err, errMalformedDigest) {
				t.Fatalf("rejection returned %+v, %v", c, err)
			}
			return
		}
		canonical := "Digest username=" + quote(c.Username) + ", realm=" + quote(c.Realm) + ", nonce=" + quote(c.Nonce) +
			", uri=" + quote(c.URI) + ", response=" + quote(c.Response) + ", algorithm=" + c.Algorithm +
			", qop=auth, nc=" + c.NC + ", cnonce=" + quote(c.Cnonce)
		again, err := parseDigestAuthorization(canonical)
		if err != nil {
			t.Fatalf("canonical form %q of an accepted header rejected: %v", canonical, err)
		}
		if *again != *c {
			t.Fatalf("round trip changed %+v into %+v", c, again)
		}
	})
}

// FuzzVerifyToken: the access-token verifier never panics, rejections are
// errors, and whatever it accepts is an EdDSA token of this key with the
// claims the middleware relies on.
func FuzzVerifyToken(f *testing.F) {
	s := testSigner(f, 1)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	valid, _, err := s.sign(testClientID, testOrgID, now, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.verify(token, func() time.Time { return now })
		if err != nil {
			if c != nil || !errors.Is(err, errInvalidToken) {
				t.Fatalf("rejection returned %+v, %v", c, err)
			}
			return
		}
		parsed, _, perr := jwt.NewParser().ParseUnverified(token, &tokenClaims{})
		if perr != nil || parsed.Method.Alg() != "EdDSA" {
			t.Fatalf("accepted a token whose algorithm is not EdDSA: %v", perr)
		}
		if !strings.HasPrefix(c.Subject, clientIDPrefix) || c.ID == "" || c.ExpiresAt == nil || !c.ExpiresAt.After(now.Add(-tokenLeeway)) {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}
