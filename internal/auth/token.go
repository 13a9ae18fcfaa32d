package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/golang-jwt/jwt/v5"
)

// tokenClaims are the claims of an access token: the registered ones (exp,
// iat, nbf, sub = client id, jti, iss) and the organization of the account.
type tokenClaims struct {
	OrgID string `json:"org_id"`
	jwt.RegisteredClaims
}

// tokenSigner signs and verifies access tokens with one Ed25519 key pair.
type tokenSigner struct {
	priv   ed25519.PrivateKey
	pub    ed25519.PublicKey
	kid    string
	issuer string

	// verified remembers the claims of tokens whose signature checked out:
	// a client sends the same token with every request, and an Ed25519
	// verification costs more than the rest of a cached GET. The same bytes
	// always verify the same way under one key, so only the time claims are
	// checked again on a hit.
	mu       sync.Mutex
	verified map[string]*tokenClaims
}

// maxVerified bounds the verified-token cache; it is emptied when full.
const maxVerified = 10_000

func newTokenSigner(priv ed25519.PrivateKey, issuer string) *tokenSigner {
	pub := priv.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	return &tokenSigner{priv: priv, pub: pub, kid: hex.EncodeToString(sum[:8]), issuer: issuer}
}

// maxTokenLen bounds the tokens the verifier looks at; ours are ~400 bytes.
const maxTokenLen = 4096

// tokenLeeway tolerates clocks of replicas that run slightly apart.
const tokenLeeway = 30 * time.Second

// sign returns a signed token for a service account, valid for ttl from now.
func (s *tokenSigner) sign(clientID, orgID string, now time.Time, ttl time.Duration) (string, *tokenClaims, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", nil, err
	}
	now = now.Truncate(time.Second)
	c := &tokenClaims{
		OrgID: orgID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   clientID,
			ID:        hex.EncodeToString(jti),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.priv)
	if err != nil {
		return "", nil, err
	}
	return signed, c, nil
}

var errInvalidToken = errors.New("invalid access token")

// verify checks a token's signature (EdDSA with this signer's key only: no
// "none", no HMAC keyed with the public key), issuer, and time claims (exp,
// nbf and iat required), and returns its claims. Every rejection wraps
// errInvalidToken.
func (s *tokenSigner) verify(token string, now func() time.Time) (*tokenClaims, error) {
	timeOpts := []jwt.ParserOption{jwt.WithTimeFunc(now), jwt.WithLeeway(tokenLeeway),
		jwt.WithExpirationRequired(), jwt.WithNotBeforeRequired(), jwt.WithIssuedAt()}
	s.mu.Lock()
	c := s.verified[token]
	s.mu.Unlock()
	if c != nil {
		if err := jwt.NewValidator(append(timeOpts, jwt.WithIssuer(s.issuer))...).Validate(c); err != nil {
			return nil, fmt.Errorf("%w: %w: %w", errInvalidToken, jwt.ErrTokenInvalidClaims, err)
		}
		return c, nil
	}
	c, err := s.parse(token, timeOpts...)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.verified) >= maxVerified || s.verified == nil {
		s.verified = make(map[string]*tokenClaims)
	}
	s.verified[token] = c
	s.mu.Unlock()
	return c, nil
}

// verifySignature checks only the signature and issuer (revocation must work
// on a token that is about to expire too).
func (s *tokenSigner) verifySignature(token string) (*tokenClaims, error) {
	return s.parse(token, jwt.WithoutClaimsValidation())
}

func (s *tokenSigner) parse(token string, opts ...jwt.ParserOption) (*tokenClaims, error) {
	if len(token) > maxTokenLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", errInvalidToken, maxTokenLen)
	}
	opts = append(opts, jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithIssuer(s.issuer), jwt.WithStrictDecoding())
	c := &tokenClaims{}
	_, err := jwt.NewParser(opts...).ParseWithClaims(token, c, func(t *jwt.Token) (any, error) {
		// WithValidMethods already pins the algorithm; checking the method's
		// type too keeps this safe if the options are ever edited.
		if _, ok := t.Method.(*jwt.SigningMethodEd25519); !ok {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return s.pub, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalidToken, err)
	}
	if !strings.HasPrefix(c.Subject, clientIDPrefix) || c.ID == "" || !costexplorer.IsID(c.OrgID) {
		return nil, fmt.Errorf("%w: missing sub, jti or org_id", errInvalidToken)
	}
	if c.ExpiresAt == nil {
		return nil, fmt.Errorf("%w: missing exp", errInvalidToken)
	}
	return c, nil
}
