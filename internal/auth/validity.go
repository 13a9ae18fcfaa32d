package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/costexplorer/costexplorer"
)

// This file is the one home of credential validity: whether a stored
// credential may be used at a moment. Every way in asks here — Digest
// requests and the sign-in form (API keys), the token endpoint and the
// sign-in form (service account secrets), and the grants a request presents
// again (Bearer access tokens, web sessions) — so that they cannot disagree.

// apiKeyUsable reports whether k may authenticate: it is enabled.
func apiKeyUsable(k *costexplorer.APIKey) bool { return k.Enabled }

// serviceAccountUsable reports whether sa may authenticate at now: it is
// enabled and its secret has not expired. A grant obtained with the secret
// (an access token, a web session) ends when the secret expires too.
func serviceAccountUsable(sa *costexplorer.ServiceAccount, now time.Time) bool {
	return sa.Enabled && (sa.SecretExpiresAt.IsZero() || now.Before(sa.SecretExpiresAt))
}

// Grant is an earlier authentication that a request presents again: a
// Bearer access token or a web session. It names its credential as it was
// when granted; Resume checks that the credential still is.
type Grant struct {
	// ID is the grant's revocable id (a token's jti, a session id).
	ID string
	// Kind is PrincipalAPIKey or PrincipalServiceAccount.
	Kind costexplorer.PrincipalKind
	// CredentialID is the API key id or the service account client id.
	CredentialID string
	// PublicKey is the API key's public key (API keys only).
	PublicKey string
	// OrgID is the credential's organization when granted.
	OrgID string
}

// grantEnded is the refusal of a grant that no longer holds; why is for the
// log only.
func grantEnded(why string) error {
	return &costexplorer.Error{Code: costexplorer.ErrUnauthorized, Detail: detailUnauthenticated, Err: errors.New(why)}
}

// Resume checks a grant presented again from ip: it is not revoked; its
// credential still exists, is usable now and belongs to the same
// organization; and the access lists allow ip. It returns the credential's
// current principal (roles and access list read afresh, so changes apply to
// live grants) and its organization. Errors are *costexplorer.Error values:
// USER_UNAUTHORIZED (the grant ended: the cause says why),
// IP_ADDRESS_NOT_ON_ACCESS_LIST, ORG_REQUIRES_ACCESS_LIST or
// SERVICE_UNAVAILABLE.
func (a *Authenticator) Resume(ctx context.Context, g Grant, ip netip.Addr) (*costexplorer.Principal, *costexplorer.Organization, error) {
	p, _, err := a.resume(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	org, err := a.checkAccess(ctx, p, ip)
	if err != nil {
		return nil, nil, err
	}
	return p, org, nil
}

// resume is Resume without the access lists. It also returns when a
// service account's secret expires (zero: never, or an API key), after
// which the grant ends.
func (a *Authenticator) resume(ctx context.Context, g Grant) (*costexplorer.Principal, time.Time, error) {
	var secretExpires time.Time
	revoked, err := a.store.TokenRevoked(ctx, g.ID)
	if err != nil {
		return nil, secretExpires, errUnavailable(fmt.Errorf("check revocation: %w", err))
	}
	if revoked {
		return nil, secretExpires, grantEnded("revoked")
	}
	var p *costexplorer.Principal
	switch g.Kind {
	case costexplorer.PrincipalAPIKey:
		p, err = usablePrincipal(ctx, a.store.APIKeyByPublicKey, g.PublicKey, apiKeyUsable, apiKeyPrincipal)
	case costexplorer.PrincipalServiceAccount:
		now := a.cfg.Now()
		p, err = usablePrincipal(ctx, a.store.ServiceAccount, g.CredentialID, func(sa *costexplorer.ServiceAccount) bool {
			secretExpires = sa.SecretExpiresAt
			return serviceAccountUsable(sa, now)
		}, serviceAccountPrincipal)
	default:
		return nil, secretExpires, grantEnded("unknown credential kind")
	}
	if err != nil {
		return nil, secretExpires, err
	}
	// A key deleted and created again under the same public key is another
	// credential; an account of another organization is another grant.
	if p.ID != g.CredentialID || p.OrgID != g.OrgID {
		return nil, secretExpires, grantEnded("credential replaced or moved")
	}
	return p, secretExpires, nil
}

// usablePrincipal looks up the credential called name and returns its
// principal if it is usable now.
func usablePrincipal[C any](ctx context.Context, lookup func(context.Context, string) (*C, error), name string,
	usable func(*C) bool, principal func(*C) *costexplorer.Principal) (*costexplorer.Principal, error) {
	c, err := lookup(ctx, name)
	if costexplorer.IsNotFound(err) {
		return nil, grantEnded("credential deleted")
	}
	if err != nil {
		return nil, errUnavailable(fmt.Errorf("look up credential: %w", err))
	}
	if !usable(c) {
		return nil, grantEnded("credential disabled or its secret expired")
	}
	return principal(c), nil
}

func apiKeyPrincipal(k *costexplorer.APIKey) *costexplorer.Principal {
	return &costexplorer.Principal{
		Kind:       costexplorer.PrincipalAPIKey,
		ID:         k.ID,
		PublicKey:  k.PublicKey,
		OrgID:      k.OrgID,
		Roles:      k.Roles,
		AccessList: k.AccessList,
	}
}

func serviceAccountPrincipal(sa *costexplorer.ServiceAccount) *costexplorer.Principal {
	return &costexplorer.Principal{
		Kind:       costexplorer.PrincipalServiceAccount,
		ID:         sa.ClientID,
		OrgID:      sa.OrgID,
		Roles:      sa.Roles,
		AccessList: sa.AccessList,
	}
}

// checkAccess enforces the access lists on a credential being used from ip,
// and returns the credential's organization.
func (a *Authenticator) checkAccess(ctx context.Context, p *costexplorer.Principal, ip netip.Addr) (*costexplorer.Organization, error) {
	org, err := a.organization(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	if err := admitAccess(p, org, ip); err != nil {
		return nil, err
	}
	return org, nil
}

// organization reads the organization of a credential being used.
func (a *Authenticator) organization(ctx context.Context, id string) (*costexplorer.Organization, error) {
	org, err := a.store.Organization(ctx, id)
	if costexplorer.IsNotFound(err) {
		return nil, grantEnded("organization gone")
	}
	if err != nil {
		return nil, errUnavailable(fmt.Errorf("look up organization: %w", err))
	}
	return org, nil
}

// admitAccess enforces the access lists of p and of its organization org on
// a request from ip.
func admitAccess(p *costexplorer.Principal, org *costexplorer.Organization, ip netip.Addr) error {
	if len(p.AccessList) == 0 {
		if org.RequiresAccessList {
			return &costexplorer.Error{
				Code:   costexplorer.ErrOrgRequiresAccessList,
				Detail: "This organization requires access through an access list of ip ranges.",
				Params: []any{org.ID},
			}
		}
		return nil
	}
	if !p.AccessList.Allows(ip) {
		shown := ip.String()
		if !ip.IsValid() {
			shown = "unknown"
		}
		return &costexplorer.Error{
			Code:   costexplorer.ErrIPNotOnAccessList,
			Detail: fmt.Sprintf("IP address %s is not allowed to access this resource.", shown),
			Params: []any{shown},
		}
	}
	return nil
}
