package auth

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testSigner returns a signer with a fixed key, so fuzz seeds stay valid.
func testSigner(t testing.TB, seedByte byte) *tokenSigner {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = seedByte
	}
	return newTokenSigner(ed25519.NewKeyFromSeed(seed), "costexplorer")
}

const (
	testClientID = "mdb_sa_id_0123456789abcdef01234567"
	testOrgID    = "5f0000000000000000000001"
)

// forge signs claims with an arbitrary method and key, the way an attacker
// with a JWT library would.
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenSignVerify(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := testSigner(t, 1)
	token, issued, err := s.sign(testClientID, testOrgID, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		c, err := s.verify(token, clock)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != testClientID || c.OrgID != testOrgID || c.ID != issued.ID || len(c.ID) != 32 || c.Issuer != "costexplorer" {
			t.Errorf("claims = %+v", c)
		}
		if !c.ExpiresAt.Time.Equal(now.Add(time.Hour)) || !c.IssuedAt.Time.Equal(now) || !c.NotBefore.Time.Equal(now) {
			t.Errorf("times = exp %v iat %v nbf %v", c.ExpiresAt, c.IssuedAt, c.NotBefore)
		}
	})
	t.Run("OKHeaderIsEdDSAWithKeyID", func(t *testing.T) {
		head, _, _ := strings.Cut(token, ".")
		raw, err := base64.RawURLEncoding.DecodeString(head)
		if err != nil {
			t.Fatal(err)
		}
		var h map[string]string
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatal(err)
		}
		if h["alg"] != "EdDSA" || h["typ"] != "JWT" || h["kid"] != s.kid {
			t.Errorf("header = %v", h)
		}
	})
	t.Run("OKOtherReplicaSameKey", func(t *testing.T) {
		if _, err := testSigner(t, 1).verify(token, clock); err != nil {
			t.Fatal(err)
		}
	})

	valid := func() *tokenClaims {
		return &tokenClaims{OrgID: testOrgID, RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "costexplorer", Subject: testClientID, ID: "0123456789abcdef0123456789abcdef",
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
	}
	edit := func(f func(c *tokenClaims)) *tokenClaims {
		c := valid()
		f(c)
		return c
	}
	other := testSigner(t, 2)
	head, rest, _ := strings.Cut(token, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	tamperedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"org_id":"5f0000000000000000000002","iss":"costexplorer","sub":"` + testClientID + `","jti":"x","exp":1999999999,"iat":1740830400,"nbf":1740830400}`))
	_ = payload

	tests := []struct {
		name  string
		token string
		at    time.Time
	}{
		{"ErrExpired", token, now.Add(time.Hour + tokenLeeway + time.Second)},
		{"ErrNotYetValid", token, now.Add(-tokenLeeway - time.Second)},
		{"ErrResignedWithAnotherKey", forge(t, jwt.SigningMethodEdDSA, other.priv, valid()), now},
		{"ErrAlgNone", forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid()), now},
		{"ErrAlgNoneWithOriginalSignature", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + "." + sig, now},
		{"ErrHS256WithThePublicKey", forge(t, jwt.SigningMethodHS256, []byte(s.pub), valid()), now},
		{"ErrHS256WithThePublicKeyBase64", forge(t, jwt.SigningMethodHS256, []byte(base64.StdEncoding.EncodeToString(s.pub)), valid()), now},
		{"ErrTamperedPayload", head + "." + tamperedPayload + "." + sig, now},
		{"ErrTamperedSignature", head + "." + payload + "." + strings.Repeat("A", len(sig)), now},
		{"ErrWrongIssuer", forge(t, jwt.SigningMethodEdDSA, s.priv, edit(func(c *tokenClaims) { c.Issuer = "evil" })), now},
		{"ErrMissingExp", forge(t, jwt.SigningMethodEdDSA, s.priv, edit(func(c *tokenClaims) { c.ExpiresAt = nil })), now},
		{"ErrMissingNbf", forge(t, jwt.SigningMethodEdDSA, s.priv, edit(func(c *tokenClaims) { c.NotBefore = nil })), now},
		{"ErrIssuedInTheFuture", forge(t, jwt.SigningMethodEdDSA, s.priv, edit(func(c *tokenClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) })), now},
		{"ErrMissingJTI", forge(t, jwt.SigningMethodEdDSA, s.priv, edit(func(c *tokenClaims) { c.ID = "" })), now},
		{"ErrSubjectNotAServiceAccount", forge(t, jwt.SigningMethodEdDSA, s.priv, edit(func(c *tokenClaims) { c.Subject = "admin" })), now},
		{"ErrBadOrgID", forge(t, jwt.SigningMethodEdDSA, s.priv, edit(func(c *tokenClaims) { c.OrgID = "nope" })), now},
		{"ErrNotAJWT", "not-a-jwt", now},
		{"ErrEmpty", "", now},
		{"ErrTooLong", token + strings.Repeat("A", maxTokenLen), now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.verify(tt.token, func() time.Time { return tt.at })
			if err == nil || !errors.Is(err, errInvalidToken) {
				t.Fatalf("verify = %+v, %v; want an invalid-token error", c, err)
			}
		})
	}
	t.Run("OKControlForgedWithTheRightKey", func(t *testing.T) {
		// The forging helper itself makes tokens the verifier accepts when
		// nothing is wrong, so the refusals above are for the stated reason.
		if _, err := s.verify(forge(t, jwt.SigningMethodEdDSA, s.priv, valid()), clock); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKSignatureOnlyAcceptsExpired", func(t *testing.T) {
		if _, err := s.verifySignature(token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.verifySignature(forge(t, jwt.SigningMethodEdDSA, other.priv, valid())); err == nil {
			t.Fatal("verifySignature accepted another key's token")
		}
	})
}

// TestTokenVerifyCached checks that the verified-token cache keeps every
// time rule: a token verified once is still refused once it has expired (or
// before it is valid), and a tampered copy is never a cache hit.
func TestTokenVerifyCached(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s := testSigner(t, 1)
	token, _, err := s.sign(testClientID, testOrgID, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) func() time.Time { return func() time.Time { return now.Add(d) } }
	if _, err := s.verify(token, at(0)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Duration
		want error
	}{
		{"OKCachedAgain", time.Minute, nil},
		{"ErrExpiredAfterCaching", time.Hour + tokenLeeway + time.Second, jwt.ErrTokenExpired},
		{"ErrNotValidYetAfterCaching", -tokenLeeway - time.Second, jwt.ErrTokenNotValidYet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.verify(token, at(tc.at))
			if tc.want == nil && err != nil || tc.want != nil && (!errors.Is(err, tc.want) || !errors.Is(err, errInvalidToken)) {
				t.Errorf("verify at %v: %v, want %v", tc.at, err, tc.want)
			}
		})
	}
	t.Run("ErrTamperedCopy", func(t *testing.T) {
		tampered := token[:len(token)-2] + "AA"
		if tampered == token {
			tampered = token[:len(token)-2] + "BB"
		}
		if _, err := s.verify(tampered, at(0)); !errors.Is(err, errInvalidToken) {
			t.Errorf("tampered token: %v", err)
		}
	})
}
