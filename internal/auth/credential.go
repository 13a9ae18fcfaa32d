package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer"
	"golang.org/x/crypto/bcrypt"
)

// Forms of service-account credentials, as Atlas spells them.
const (
	clientIDPrefix = "mdb_sa_id_"
	secretPrefix   = "mdb_sa_sk_"
)

// secretHashCost is the bcrypt cost of service-account secrets.
const secretHashCost = bcrypt.DefaultCost

// Limits on descriptive fields (Atlas: API key descriptions up to 250
// characters, service account names up to 64).
const (
	maxDescriptionLen = 250
	maxNameLen        = 64
)

// NewAPIKey returns a new API key of orgID and its private key, which exists
// only in this return value: the key carries the digest hashes only. The
// caller stores the key and shows the private key once.
func NewAPIKey(orgID, description string, roles []costexplorer.Role, accessList costexplorer.AccessList) (*costexplorer.APIKey, string, error) {
	if err := validateCredential(orgID, roles, accessList); err != nil {
		return nil, "", err
	}
	if len(description) > maxDescriptionLen {
		return nil, "", costexplorer.FieldError(costexplorer.ErrValidation, "desc", fmt.Sprintf("description must be at most %d characters", maxDescriptionLen))
	}
	id, publicKey, privateKey := randomHex(12), randomLower(8), randomUUID()
	return &costexplorer.APIKey{
		ID:          id,
		OrgID:       orgID,
		PublicKey:   publicKey,
		HA1MD5:      HA1MD5(publicKey, privateKey),
		HA1SHA256:   HA1SHA256(publicKey, privateKey),
		Description: description,
		Roles:       slices.Clone(roles),
		AccessList:  slices.Clone(accessList),
		Enabled:     true,
		CreatedAt:   time.Now().UTC().Truncate(time.Second),
	}, privateKey, nil
}

// NewServiceAccount returns a new service account of orgID and its client
// secret, which exists only in this return value: the account carries a
// bcrypt hash of it. The caller stores the account and shows the secret once.
func NewServiceAccount(orgID, name string, roles []costexplorer.Role, accessList costexplorer.AccessList) (*costexplorer.ServiceAccount, string, error) {
	if err := validateCredential(orgID, roles, accessList); err != nil {
		return nil, "", err
	}
	if name == "" || len(name) > maxNameLen {
		return nil, "", costexplorer.FieldError(costexplorer.ErrValidation, "name", fmt.Sprintf("name is required and must be at most %d characters", maxNameLen))
	}
	id, secret := randomHex(12), secretPrefix+randomHex(24)
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), secretHashCost)
	if err != nil {
		return nil, "", fmt.Errorf("hash service account secret: %w", err)
	}
	return &costexplorer.ServiceAccount{
		ClientID:   clientIDPrefix + id,
		OrgID:      orgID,
		Name:       name,
		SecretHash: string(hash),
		Roles:      slices.Clone(roles),
		AccessList: slices.Clone(accessList),
		Enabled:    true,
		CreatedAt:  time.Now().UTC().Truncate(time.Second),
	}, secret, nil
}

func validateCredential(orgID string, roles []costexplorer.Role, accessList costexplorer.AccessList) error {
	if !costexplorer.IsID(orgID) {
		return costexplorer.FieldError(costexplorer.ErrInvalidPathParameter, "orgId", "organization id must be 24 lower-case hexadecimal characters")
	}
	if len(roles) == 0 {
		return costexplorer.FieldError(costexplorer.ErrMissingAttribute, "roles", "at least one organization role is required")
	}
	for _, r := range roles {
		if !slices.Contains(costexplorer.Roles, r) {
			return costexplorer.FieldError(costexplorer.ErrInvalidEnumValue, "roles", fmt.Sprintf("unknown organization role %q", r))
		}
	}
	return costexplorer.ValidateAccessList(accessList)
}

// dummySecretHash is compared against when a client id is unknown, so that an
// unknown id costs the same bcrypt time as a wrong secret.
// It is made on first use so that importing the package costs nothing.
var dummySecretHash = sync.OnceValue(func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte(secretPrefix+"unknown-client"), secretHashCost)
	return string(h)
})

// checkSecret reports whether secret matches hash, in bcrypt's constant time.
func checkSecret(hash, secret string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) == nil
}

// randomHex returns n random bytes in hexadecimal. Like randomLower and
// randomUUID it returns no error: crypto/rand.Read never returns one (it
// crashes the program instead).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomLower returns n uniformly random lower-case letters.
func randomLower(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			// 26×9 = 234: rejecting bytes ≥ 234 keeps the letters uniform.
			if c < 234 && len(out) < n {
				out = append(out, 'a'+c%26)
			}
		}
	}
	return string(out)
}

// randomUUID returns a version 4 UUID from crypto/rand.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// isPublicKey reports whether s has the form of an API public key, so that
// only plausible keys get a brute-force counter of their own.
func isPublicKey(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}
