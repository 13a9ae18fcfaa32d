package auth

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

// TestAccessLists drives both credential kinds through the middleware over
// loopback: the connection's address is 127.0.0.1, and X-Forwarded-For is
// believed only when 127.0.0.0/8 is a trusted proxy.
func TestAccessLists(t *testing.T) {
	// aclCase is one credential used from one address; status 0 means the
	// request gets through.
	type aclCase struct {
		name   string
		org    string
		acl    []string
		xff    string
		status int
		code   string
		param  string
	}
	for _, proxy := range []bool{false, true} {
		name := "WithoutTrustedProxy"
		if proxy {
			name = "WithTrustedProxy"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) {
				if proxy {
					c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
				}
			})
			strictOrg := "5f0000000000000000000002"
			f.createOrg(strictOrg, true)

			tests := []aclCase{
				{name: "OKNoList", org: f.orgID},
				{name: "OKLoopbackListed", org: f.orgID, acl: []string{"127.0.0.1"}},
				{name: "OKLoopbackCIDR", org: f.orgID, acl: []string{"10.0.0.0/8", "127.0.0.0/8"}},
				{name: "ErrNotListed", org: f.orgID, acl: []string{"192.0.2.0/24"}, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST", param: "127.0.0.1"},
				{name: "ErrOrgRequiresList", org: strictOrg, status: 403, code: "ORG_REQUIRES_ACCESS_LIST", param: strictOrg},
				{name: "OKOrgRequiresListAndListed", org: strictOrg, acl: []string{"127.0.0.1/32"}},
			}
			if proxy {
				tests = append(tests,
					aclCase{name: "OKForwardedClientListed", org: f.orgID, acl: []string{"192.0.2.0/24"}, xff: "198.51.100.9, 192.0.2.5"},
					aclCase{name: "ErrForwardedClientNotListed", org: f.orgID, acl: []string{"127.0.0.1"}, xff: "192.0.2.5", status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST", param: "192.0.2.5"},
					aclCase{name: "ErrSpoofedLeftMostIgnored", org: f.orgID, acl: []string{"192.0.2.0/24"}, xff: "192.0.2.5, 203.0.113.1", status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST", param: "203.0.113.1"},
				)
			} else {
				tests = append(tests, aclCase{name: "ErrSpoofedForwardedForIgnored", org: f.orgID, acl: []string{"192.0.2.0/24"}, xff: "192.0.2.5", status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST", param: "127.0.0.1"})
			}
			for _, tt := range tests {
				check := func(t *testing.T, r *response) {
					t.Helper()
					if tt.status == 0 {
						r.principal(t)
						return
					}
					e := r.wantAtlasError(t, tt.status, tt.code)
					if len(e.Parameters) != 1 || e.Parameters[0] != tt.param {
						t.Errorf("parameters %v, want [%s]", e.Parameters, tt.param)
					}
				}
				withXFF := func(r *http.Request) {
					if tt.xff != "" {
						r.Header.Set("X-Forwarded-For", tt.xff)
					}
				}
				t.Run("APIKey/"+tt.name, func(t *testing.T) {
					k, priv := f.apiKey(tt.org, tt.acl...)
					req := f.request("GET", "/api/atlas/v2/orgs", nil)
					withXFF(req)
					check(t, do(t, f.digestClient(k.PublicKey, priv, nil), req))
				})
				t.Run("ServiceAccount/"+tt.name, func(t *testing.T) {
					sa, secret := f.serviceAccount(tt.org, tt.acl...)
					// Minting is not subject to the list; using the token is.
					token := f.accessToken(sa.ClientID, secret)
					check(t, f.bearer(token, withXFF))
				})
			}
		})
	}
}

func TestBruteForce(t *testing.T) {
	t.Run("RepeatedFailuresFromOneAddressGet429ThenRecover", func(t *testing.T) {
		f := newFixture(t, func(c *Config) {
			c.BruteForce = BruteForceConfig{IPLimit: 3, KeyLimit: 100, Forget: 10 * time.Second, Delay: -1}
		})
		k, priv := f.apiKey(f.orgID)
		for range 3 {
			do(t, f.digestClient(k.PublicKey, "wrong", nil), f.request("GET", "/api/atlas/v2/orgs", nil)).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		}
		r := do(t, f.digestClient(k.PublicKey, priv, nil), f.request("GET", "/api/atlas/v2/orgs", nil))
		r.wantAtlasError(t, 429, "RATE_LIMITED")
		if got := r.header.Get("Retry-After"); got != "10" {
			t.Errorf("Retry-After %q, want 10", got)
		}
		if r.header.Get("WWW-Authenticate") != "" {
			t.Error("429 carries a challenge")
		}
		f.clock.Advance(10 * time.Second)
		do(t, f.digestClient(k.PublicKey, priv, nil), f.request("GET", "/api/atlas/v2/orgs", nil)).principal(t)
	})
	t.Run("RepeatedFailuresForOneKeyFromManyAddresses", func(t *testing.T) {
		f := newFixture(t, func(c *Config) {
			c.BruteForce = BruteForceConfig{IPLimit: 100, KeyLimit: 3, Forget: time.Second, Delay: -1}
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		k, priv := f.apiKey(f.orgID)
		from := func(ip string) *http.Request {
			req := f.request("GET", "/api/atlas/v2/orgs", nil)
			req.Header.Set("X-Forwarded-For", ip)
			return req
		}
		for i, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
			if r := do(t, f.digestClient(k.PublicKey, "wrong", nil), from(ip)); r.status != 401 {
				t.Fatalf("attempt %d: %d", i, r.status)
			}
		}
		do(t, f.digestClient(k.PublicKey, priv, nil), from("192.0.2.4")).wantAtlasError(t, 429, "RATE_LIMITED")
		other, otherPriv := f.apiKey(f.orgID)
		do(t, f.digestClient(other.PublicKey, otherPriv, nil), from("192.0.2.4")).principal(t)
		f.clock.Advance(time.Second)
		do(t, f.digestClient(k.PublicKey, priv, nil), from("192.0.2.4")).principal(t)
	})
	t.Run("TokenEndpoint", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.BruteForce = BruteForceConfig{IPLimit: 2, Forget: 5 * time.Second, Delay: -1} })
		sa, secret := f.serviceAccount(f.orgID)
		grant := url.Values{"grant_type": {"client_credentials"}}
		for range 2 {
			if r := f.tokenRequest(sa.ClientID, "wrong", grant); r.status != 401 {
				t.Fatalf("%d %s", r.status, r.body)
			}
		}
		r := f.tokenRequest(sa.ClientID, secret, grant)
		if r.status != 429 || r.header.Get("Retry-After") != "5" || !strings.Contains(string(r.body), `"temporarily_unavailable"`) {
			t.Fatalf("%d %v %s", r.status, r.header, r.body)
		}
		f.clock.Advance(5 * time.Second)
		f.accessToken(sa.ClientID, secret)
	})
	t.Run("FailedAnswersAreDelayed", func(t *testing.T) {
		// No timing assertion: the delay computed for the answer is checked
		// on the throttle, and the answer itself must still be a 401.
		f := newFixture(t, func(c *Config) {
			c.BruteForce = BruteForceConfig{IPLimit: 4, Forget: time.Hour, Delay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
		})
		k, _ := f.apiKey(f.orgID)
		for range 3 {
			do(t, f.digestClient(k.PublicKey, "wrong", nil), f.request("GET", "/api/atlas/v2/orgs", nil)).wantAtlasError(t, 401, "USER_UNAUTHORIZED")
		}
		if d := f.auth.throttle.fail(f.clock.Now(), f.auth.throttle.ipKey(netip.MustParseAddr("127.0.0.1"))); d != 2*time.Millisecond {
			t.Errorf("next delay %v, want 2ms after 4 failures past a half limit of 2", d)
		}
	})
}

func TestCheckCredentials(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.BruteForce = BruteForceConfig{IPLimit: 3, Forget: time.Minute, Delay: -1} })
	k, priv := f.apiKey(f.orgID, "192.0.2.0/24")
	sa, secret := f.serviceAccount(f.orgID)
	listed := netip.MustParseAddr("192.0.2.7")
	unlisted := netip.MustParseAddr("198.51.100.1")

	t.Run("APIKey", func(t *testing.T) {
		p, err := f.auth.CheckAPIKey(f.ctx, k.PublicKey, priv, listed)
		if err != nil || p.Kind != costexplorer.PrincipalAPIKey || p.PublicKey != k.PublicKey || p.OrgID != f.orgID {
			t.Fatalf("CheckAPIKey = %+v, %v", p, err)
		}
		_, err = f.auth.CheckAPIKey(f.ctx, k.PublicKey, priv, unlisted)
		if costexplorer.ErrorCode(err) != costexplorer.ErrIPNotOnAccessList {
			t.Errorf("unlisted address: %v", err)
		}
		_, err = f.auth.CheckAPIKey(f.ctx, k.PublicKey, "wrong", listed)
		if costexplorer.ErrorCode(err) != costexplorer.ErrUnauthorized || costexplorer.ErrorDetail(err) != detailUnauthenticated {
			t.Errorf("wrong key: %v", err)
		}
	})
	t.Run("ServiceAccount", func(t *testing.T) {
		p, err := f.auth.CheckServiceAccount(f.ctx, sa.ClientID, secret, unlisted)
		if err != nil || p.Kind != costexplorer.PrincipalServiceAccount || p.ID != sa.ClientID {
			t.Fatalf("CheckServiceAccount = %+v, %v", p, err)
		}
		_, err = f.auth.CheckServiceAccount(f.ctx, sa.ClientID, "wrong", unlisted)
		if costexplorer.ErrorCode(err) != costexplorer.ErrUnauthorized {
			t.Errorf("wrong secret: %v", err)
		}
	})
	t.Run("RateLimitedWithRetryAfter", func(t *testing.T) {
		ip := netip.MustParseAddr("203.0.113.9")
		for range 3 {
			f.auth.CheckAPIKey(f.ctx, k.PublicKey, "wrong", ip)
		}
		_, err := f.auth.CheckAPIKey(f.ctx, k.PublicKey, priv, ip)
		d, ok := RetryAfter(err)
		if costexplorer.ErrorCode(err) != costexplorer.ErrRateLimited || !ok || d != time.Minute {
			t.Fatalf("err %v, retry after %v %v", err, d, ok)
		}
	})
}

func TestNewCredentials(t *testing.T) {
	roles := []costexplorer.Role{costexplorer.RoleOrgOwner}
	t.Run("APIKey", func(t *testing.T) {
		k, priv, err := NewAPIKey(testOrgID, "ci", roles, costexplorer.AccessList{"192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if !isPublicKey(k.PublicKey) || strings.Trim(k.PublicKey, "abcdefghijklmnopqrstuvwxyz") != "" {
			t.Errorf("public key %q", k.PublicKey)
		}
		if len(priv) != 36 || priv[14] != '4' || !strings.Contains("89ab", priv[19:20]) || strings.Count(priv, "-") != 4 {
			t.Errorf("private key %q is not a v4 UUID", priv)
		}
		if k.HA1MD5 != HA1MD5(k.PublicKey, priv) || k.HA1SHA256 != HA1SHA256(k.PublicKey, priv) || !k.Enabled || !costexplorer.IsID(k.ID) {
			t.Errorf("key %+v", k)
		}
		k2, priv2, _ := NewAPIKey(testOrgID, "ci", roles, nil)
		if k2.PublicKey == k.PublicKey || priv2 == priv {
			t.Error("two keys are equal")
		}
	})
	t.Run("ServiceAccount", func(t *testing.T) {
		sa, secret, err := NewServiceAccount(testOrgID, "ci", roles, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sa.ClientID, clientIDPrefix) || !costexplorer.IsID(strings.TrimPrefix(sa.ClientID, clientIDPrefix)) {
			t.Errorf("client id %q", sa.ClientID)
		}
		if !strings.HasPrefix(secret, secretPrefix) || len(secret) < len(secretPrefix)+32 {
			t.Errorf("secret %q", secret)
		}
		if !checkSecret(sa.SecretHash, secret) || checkSecret(sa.SecretHash, secret+"x") || strings.Contains(sa.SecretHash, secret) {
			t.Error("secret hash does not verify the secret alone")
		}
	})
	bad := []struct {
		name  string
		org   string
		roles []costexplorer.Role
		acl   costexplorer.AccessList
		code  string
	}{
		{"ErrBadOrgID", "nope", roles, nil, costexplorer.ErrInvalidPathParameter},
		{"ErrNoRoles", testOrgID, nil, nil, costexplorer.ErrMissingAttribute},
		{"ErrUnknownRole", testOrgID, []costexplorer.Role{"GOD"}, nil, costexplorer.ErrInvalidEnumValue},
		{"ErrBadAccessList", testOrgID, roles, costexplorer.AccessList{"not-an-ip"}, costexplorer.ErrValidation},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := NewAPIKey(tt.org, "", tt.roles, tt.acl); costexplorer.ErrorCode(err) != tt.code {
				t.Errorf("NewAPIKey: %v, want %s", err, tt.code)
			}
			if _, _, err := NewServiceAccount(tt.org, "n", tt.roles, tt.acl); costexplorer.ErrorCode(err) != tt.code {
				t.Errorf("NewServiceAccount: %v, want %s", err, tt.code)
			}
		})
	}
	t.Run("ErrServiceAccountNameMissing", func(t *testing.T) {
		if _, _, err := NewServiceAccount(testOrgID, "", roles, nil); costexplorer.ErrorCode(err) != costexplorer.ErrValidation {
			t.Errorf("err %v", err)
		}
	})
}
