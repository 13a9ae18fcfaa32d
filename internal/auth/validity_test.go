package auth

import (
	"net/netip"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// TestSecretExpiryEndsEveryGrant checks that the grants made with a service
// account's secret end when the secret expires, whichever way they are
// presented: a Bearer token minted before the expiry (and still within its
// own lifetime) and a web session's grant stop at the same moment the token
// endpoint stops accepting the secret.
func TestSecretExpiryEndsEveryGrant(t *testing.T) {
	f := newFixture(t, nil)
	sa, secret, err := NewServiceAccount(f.orgID, "expiring", []costexplorer.Role{costexplorer.RoleOrgBillingAdmin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	expiry := f.clock.Now().Add(10 * time.Minute)
	sa.SecretExpiresAt = expiry
	if err := f.db.CreateServiceAccount(f.ctx, sa); err != nil {
		t.Fatal(err)
	}
	token := f.accessToken(sa.ClientID, secret)
	session := Grant{ID: "0123456789abcdef0123456789abcdef", Kind: costexplorer.PrincipalServiceAccount, CredentialID: sa.ClientID, OrgID: f.orgID}
	ip := netip.MustParseAddr("127.0.0.1")

	t.Run("OKBeforeExpiry", func(t *testing.T) {
		f.clock.Advance(expiry.Sub(f.clock.Now()) - time.Second)
		f.bearer(token, nil).principal(t)
		if _, _, err := f.auth.Resume(f.ctx, session, ip); err != nil {
			t.Fatalf("session: %v", err)
		}
	})
	t.Run("ErrAtExpiry", func(t *testing.T) {
		f.clock.Advance(expiry.Sub(f.clock.Now()))
		r := f.bearer(token, nil)
		r.wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		if got := r.header.Values("WWW-Authenticate"); len(got) != 3 || got[2] != `Bearer realm="MMS Public API", error="invalid_token"` {
			t.Errorf("challenges %q", got)
		}
		if _, _, err := f.auth.Resume(f.ctx, session, ip); costexplorer.ErrorCode(err) != costexplorer.ErrUnauthorized {
			t.Errorf("session: %v, want USER_UNAUTHORIZED", err)
		}
		if r := f.tokenRequest(sa.ClientID, secret, nil); r.status != 401 {
			t.Errorf("token endpoint: %d %s, want 401", r.status, r.body)
		}
	})
}

// TestResume checks each reason a grant ends, and that a live grant gets
// the credential's current roles.
func TestResume(t *testing.T) {
	f := newFixture(t, nil)
	ip := netip.MustParseAddr("127.0.0.1")
	k, _ := f.apiKey(f.orgID)
	sa, _ := f.serviceAccount(f.orgID)
	keyGrant := Grant{ID: "aa", Kind: costexplorer.PrincipalAPIKey, CredentialID: k.ID, PublicKey: k.PublicKey, OrgID: f.orgID}
	saGrant := Grant{ID: "bb", Kind: costexplorer.PrincipalServiceAccount, CredentialID: sa.ClientID, OrgID: f.orgID}

	t.Run("OK", func(t *testing.T) {
		for _, g := range []Grant{keyGrant, saGrant} {
			p, org, err := f.auth.Resume(f.ctx, g, ip)
			if err != nil || p.Kind != g.Kind || p.ID != g.CredentialID || org.ID != f.orgID {
				t.Errorf("%s: %+v %+v %v", g.Kind, p, org, err)
			}
		}
	})
	ended := func(t *testing.T, g Grant) {
		t.Helper()
		if _, _, err := f.auth.Resume(f.ctx, g, ip); costexplorer.ErrorCode(err) != costexplorer.ErrUnauthorized {
			t.Errorf("%+v: %v, want USER_UNAUTHORIZED", g, err)
		}
	}
	t.Run("ErrAPIKeyReplaced", func(t *testing.T) {
		g := keyGrant
		g.CredentialID = "000000000000000000000000"
		ended(t, g)
	})
	t.Run("ErrOtherOrganization", func(t *testing.T) {
		for _, g := range []Grant{keyGrant, saGrant} {
			g.OrgID = "5f00000000000000000000ff"
			ended(t, g)
		}
	})
	t.Run("ErrUnknownKind", func(t *testing.T) {
		g := saGrant
		g.Kind = costexplorer.PrincipalSession
		ended(t, g)
	})
	t.Run("ErrAPIKeyDisabled", func(t *testing.T) {
		if err := f.db.SetAPIKeyEnabled(f.ctx, k.PublicKey, false); err != nil {
			t.Fatal(err)
		}
		ended(t, keyGrant)
	})
	t.Run("ErrRevoked", func(t *testing.T) {
		if err := f.db.RevokeToken(f.ctx, saGrant.ID, f.clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ended(t, saGrant)
	})
	t.Run("ErrStoreDownIsUnavailable", func(t *testing.T) {
		f.db.Close()
		if _, _, err := f.auth.Resume(f.ctx, saGrant, ip); costexplorer.ErrorCode(err) != costexplorer.ErrUnavailable {
			t.Errorf("%v, want SERVICE_UNAVAILABLE", err)
		}
	})
}
