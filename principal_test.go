package costexplorer

import (
	"context"
	"testing"
)

func TestAuthorizeOrg(t *testing.T) {
	const own, foreign = "5f0000000000000000000001", "5f00000000000000000000ff"
	for _, role := range Roles {
		p := &Principal{Kind: PrincipalAPIKey, OrgID: own, Roles: []Role{role}}
		billing := role == RoleOrgOwner || role == RoleOrgBillingAdmin || role == RoleOrgBillingReadOnly
		t.Run(string(role), func(t *testing.T) {
			if err := AuthorizeOrg(p, own, false); err != nil {
				t.Errorf("own org, no billing: %v", err)
			}
			if err := AuthorizeOrg(p, own, true); (err == nil) != billing {
				t.Errorf("own org, billing: %v (role may view billing: %v)", err, billing)
			}
			var details []string
			for _, org := range []string{foreign, "000000000000000000000000", "not-an-id", ""} {
				for _, b := range []bool{false, true} {
					err := AuthorizeOrg(p, org, b)
					if ErrorCode(err) != ErrUnauthorized {
						t.Fatalf("org %q: %v", org, err)
					}
					details = append(details, ErrorDetail(err))
				}
			}
			for _, d := range details {
				if d != details[0] {
					t.Errorf("details differ: %q", details)
				}
			}
		})
	}
	t.Run("ErrNoPrincipal", func(t *testing.T) {
		if ErrorCode(AuthorizeOrg(nil, own, false)) != ErrUnauthorized {
			t.Error("nil principal authorized")
		}
	})
}

func TestPrincipalInContext(t *testing.T) {
	if _, ok := PrincipalFrom(context.Background()); ok {
		t.Error("an empty context carries a principal")
	}
	if _, ok := PrincipalFrom(WithPrincipal(context.Background(), nil)); ok {
		t.Error("a nil principal counts as one")
	}
	p := &Principal{Kind: PrincipalAPIKey, OrgID: "5f0000000000000000000001"}
	if got, ok := PrincipalFrom(WithPrincipal(context.Background(), p)); !ok || got != p {
		t.Errorf("PrincipalFrom = %v, %v", got, ok)
	}
}
