package costexplorer

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Role is an organization role of a credential.
type Role string

// Organization roles. The first three may use the cost explorer.
const (
	RoleOrgOwner           Role = "ORG_OWNER"
	RoleOrgBillingAdmin    Role = "ORG_BILLING_ADMIN"
	RoleOrgBillingReadOnly Role = "ORG_BILLING_READ_ONLY"
	RoleOrgReadOnly        Role = "ORG_READ_ONLY"
	RoleOrgMember          Role = "ORG_MEMBER"
	RoleOrgGroupCreator    Role = "ORG_GROUP_CREATOR"
)

// Roles lists every organization role.
var Roles = []Role{RoleOrgOwner, RoleOrgBillingAdmin, RoleOrgBillingReadOnly, RoleOrgReadOnly, RoleOrgMember, RoleOrgGroupCreator}

// ParseRole returns the role named s (case-insensitive).
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToUpper(strings.TrimSpace(s)))
	return r, slices.Contains(Roles, r)
}

// CanViewBilling reports whether any of roles may use the cost explorer.
func CanViewBilling(roles []Role) bool {
	for _, r := range roles {
		switch r {
		case RoleOrgOwner, RoleOrgBillingAdmin, RoleOrgBillingReadOnly:
			return true
		}
	}
	return false
}

// AccessList is a set of IP addresses and CIDR blocks a credential may be used
// from. An empty list allows any address (unless the organization requires a
// list).
type AccessList []string

// Allows reports whether ip is on the list.
func (l AccessList) Allows(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, e := range l {
		if p, err := netip.ParsePrefix(e); err == nil {
			if p.Masked().Contains(ip) {
				return true
			}
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil && a.Unmap() == ip {
			return true
		}
	}
	return false
}

// ValidateAccessList checks that every entry is an IP address or CIDR block.
func ValidateAccessList(l AccessList) error {
	for i, e := range l {
		if _, err := netip.ParsePrefix(e); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(e); err == nil {
			continue
		}
		return FieldError(ErrValidation, "accessList", fmt.Sprintf("access list entry %d (%q) is not an IP address or CIDR block", i, e))
	}
	return nil
}

// APIKey is an organization API key used over HTTP Digest. The private key is
// never stored: HA1MD5 and HA1SHA256 are the RFC 7616 digest hashes
// H(publicKey:realm:privateKey), which are all the server needs to verify.
type APIKey struct {
	ID          string // 24-hex
	OrgID       string
	PublicKey   string // 8 lower-case characters
	HA1MD5      string // hex
	HA1SHA256   string // hex
	Description string
	Roles       []Role
	AccessList  AccessList
	Enabled     bool
	CreatedAt   time.Time
}

// Validate checks what a store needs of a key: its ids and its access list.
func (k *APIKey) Validate() error {
	if k.PublicKey == "" || k.ID == "" || k.OrgID == "" {
		return Errorf(ErrValidation, "an API key needs an id, an organization and a public key")
	}
	return ValidateAccessList(k.AccessList)
}

// ServiceAccount is an organization service account used over OAuth 2.0
// client credentials. SecretHash is a slow password hash of the client secret.
type ServiceAccount struct {
	ClientID        string // mdb_sa_id_<24 hex>
	OrgID           string
	Name            string
	Description     string
	SecretHash      string
	Roles           []Role
	AccessList      AccessList
	Enabled         bool
	CreatedAt       time.Time
	SecretExpiresAt time.Time // zero: never
}

// Validate checks what a store needs of an account: its ids and its access
// list.
func (a *ServiceAccount) Validate() error {
	if a.ClientID == "" || a.OrgID == "" {
		return Errorf(ErrValidation, "a service account needs a client id and an organization")
	}
	return ValidateAccessList(a.AccessList)
}

// PrincipalKind says which kind of credential authenticated a request.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalAPIKey         PrincipalKind = "apiKey"
	PrincipalServiceAccount PrincipalKind = "serviceAccount"
	PrincipalSession        PrincipalKind = "session"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Kind       PrincipalKind
	ID         string // API key id, or service account client id
	PublicKey  string // API keys only
	OrgID      string
	Roles      []Role
	AccessList AccessList
}

// CredentialStore keeps credentials and the authentication state every
// replica must share.
type CredentialStore interface {
	// CreateAPIKey stores k; ErrConflict if its public key exists.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByPublicKey returns the key, or ErrNotFound.
	APIKeyByPublicKey(ctx context.Context, publicKey string) (*APIKey, error)
	// APIKeys lists the keys of orgID (all keys when orgID is empty).
	APIKeys(ctx context.Context, orgID string) ([]*APIKey, error)
	// SetAPIKeyEnabled enables or disables the key with publicKey; ErrNotFound if none.
	SetAPIKeyEnabled(ctx context.Context, publicKey string, enabled bool) error

	// CreateServiceAccount stores a; ErrConflict if its client id exists.
	CreateServiceAccount(ctx context.Context, a *ServiceAccount) error
	// ServiceAccount returns the account, or ErrNotFound.
	ServiceAccount(ctx context.Context, clientID string) (*ServiceAccount, error)
	// ServiceAccounts lists the accounts of orgID (all when orgID is empty).
	ServiceAccounts(ctx context.Context, orgID string) ([]*ServiceAccount, error)
	// SetServiceAccountEnabled enables or disables an account; ErrNotFound if none.
	SetServiceAccountEnabled(ctx context.Context, clientID string, enabled bool) error

	// Secret returns the shared secret called name, creating it with create
	// when it does not exist yet. Concurrent callers on any replica all get
	// the same value (the first one stored). Used for the JWT signing key and
	// the Digest nonce key.
	Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error)

	// UseNonce records the use of a Digest (nonce, nc) pair. It returns
	// ErrConflict if the pair was used before, on any replica.
	UseNonce(ctx context.Context, nonce string, nc uint32, expires time.Time) error

	// RevokeToken records a revoked JWT id until expires.
	RevokeToken(ctx context.Context, jti string, expires time.Time) error
	// TokenRevoked reports whether jti was revoked.
	TokenRevoked(ctx context.Context, jti string) (bool, error)

	// DeleteExpiredAuthState removes used nonces and revocations past their
	// expiry.
	DeleteExpiredAuthState(ctx context.Context, now time.Time) error
}
