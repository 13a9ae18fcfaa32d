package costexplorer

import "context"

// principalKey is the context key of the authenticated principal.
type principalKey struct{}

// WithPrincipal returns a context carrying p, the caller that authentication
// identified.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal WithPrincipal put in ctx.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// detailForbiddenOrg is the one detail of every authorization refusal, the
// same whatever the credential or organization, so that an answer reveals
// nothing about which part was wrong.
const detailForbiddenOrg = "Current user is not authorized to perform this action."

// AuthorizeOrg checks that p may act on organization orgID: p must belong to
// orgID and, when billing is true, hold a role that may use the cost
// explorer ([CanViewBilling]). Every refusal is the same ErrUnauthorized,
// whether orgID exists or not, so that organization ids cannot be probed.
//
// A paying organization's credential reaches its linked organizations'
// usage through its own organization's queries, not through their paths.
func AuthorizeOrg(p *Principal, orgID string, billing bool) error {
	if p == nil || p.OrgID == "" || p.OrgID != orgID || (billing && !CanViewBilling(p.Roles)) {
		return Errorf(ErrUnauthorized, detailForbiddenOrg)
	}
	return nil
}
