package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

func apiKey(org, public string) *costexplorer.APIKey {
	return &costexplorer.APIKey{
		ID: costexplorer.DeriveID("key", public), OrgID: org, PublicKey: public,
		HA1MD5: "0123456789abcdef0123456789abcdef", HA1SHA256: "ab", Description: "ci key",
		Roles:      []costexplorer.Role{costexplorer.RoleOrgBillingReadOnly, costexplorer.RoleOrgMember},
		AccessList: costexplorer.AccessList{"10.0.0.0/8", "192.0.2.7"},
		Enabled:    true, CreatedAt: t0,
	}
}

func serviceAccount(org, n string) *costexplorer.ServiceAccount {
	return &costexplorer.ServiceAccount{
		ClientID: "mdb_sa_id_" + costexplorer.DeriveID("sa", n), OrgID: org, Name: "sa " + n, Description: "robot",
		SecretHash: "$argon2id$v=19$...", Roles: []costexplorer.Role{costexplorer.RoleOrgOwner},
		Enabled: true, CreatedAt: t0, SecretExpiresAt: t0.Add(90 * 24 * time.Hour),
	}
}

func sameAPIKey(a, b *costexplorer.APIKey) bool {
	return a.ID == b.ID && a.OrgID == b.OrgID && a.PublicKey == b.PublicKey && a.HA1MD5 == b.HA1MD5 &&
		a.HA1SHA256 == b.HA1SHA256 && a.Description == b.Description && slices.Equal(a.Roles, b.Roles) &&
		slices.Equal(a.AccessList, b.AccessList) && a.Enabled == b.Enabled &&
		a.CreatedAt.Equal(b.CreatedAt.Truncate(time.Microsecond))
}

func sameServiceAccount(a, b *costexplorer.ServiceAccount) bool {
	return a.ClientID == b.ClientID && a.OrgID == b.OrgID && a.Name == b.Name && a.Description == b.Description &&
		a.SecretHash == b.SecretHash && slices.Equal(a.Roles, b.Roles) && slices.Equal(a.AccessList, b.AccessList) &&
		a.Enabled == b.Enabled && a.CreatedAt.Equal(b.CreatedAt.Truncate(time.Microsecond)) &&
		a.SecretExpiresAt.Equal(b.SecretExpiresAt.Truncate(time.Microsecond))
}

func testCredentials(t *testing.T, open Opener) {
	org, other := orgID(0), orgID(1)

	t.Run("APIKeys", func(t *testing.T) {
		s := open(t)
		k := apiKey(org, "abcdefgh")
		must(t, s.CreateAPIKey(t.Context(), k))
		must(t, s.CreateAPIKey(t.Context(), apiKey(other, "zyxwvuts")))
		got, err := s.APIKeyByPublicKey(t.Context(), "abcdefgh")
		must(t, err)
		if !sameAPIKey(got, k) {
			t.Fatalf("APIKeyByPublicKey = %+v, want %+v", got, k)
		}
		t.Run("DuplicatePublicKeyIsConflict", func(t *testing.T) {
			dup := apiKey(other, "abcdefgh")
			dup.ID = costexplorer.DeriveID("another id")
			wantCode(t, s.CreateAPIKey(t.Context(), dup), costexplorer.ErrConflict)
		})
		t.Run("UnknownIsNotFound", func(t *testing.T) {
			_, err := s.APIKeyByPublicKey(t.Context(), "nosuchky")
			wantCode(t, err, costexplorer.ErrNotFound)
			wantCode(t, s.SetAPIKeyEnabled(t.Context(), "nosuchky", false), costexplorer.ErrNotFound)
		})
		t.Run("ListByOrganization", func(t *testing.T) {
			mine, err := s.APIKeys(t.Context(), org)
			must(t, err)
			all, err := s.APIKeys(t.Context(), "")
			must(t, err)
			if len(mine) != 1 || mine[0].PublicKey != "abcdefgh" || len(all) != 2 {
				t.Fatalf("APIKeys(org) = %d keys, APIKeys(\"\") = %d; want 1 and 2", len(mine), len(all))
			}
		})
		t.Run("DisableAndEnable", func(t *testing.T) {
			for _, enabled := range []bool{false, true} {
				must(t, s.SetAPIKeyEnabled(t.Context(), "abcdefgh", enabled))
				got, err := s.APIKeyByPublicKey(t.Context(), "abcdefgh")
				must(t, err)
				if got.Enabled != enabled {
					t.Fatalf("Enabled = %v, want %v", got.Enabled, enabled)
				}
			}
		})
	})

	t.Run("ServiceAccounts", func(t *testing.T) {
		s := open(t)
		a := serviceAccount(org, "1")
		must(t, s.CreateServiceAccount(t.Context(), a))
		noExpiry := serviceAccount(other, "2")
		noExpiry.SecretExpiresAt = time.Time{}
		must(t, s.CreateServiceAccount(t.Context(), noExpiry))
		got, err := s.ServiceAccount(t.Context(), a.ClientID)
		must(t, err)
		if !sameServiceAccount(got, a) {
			t.Fatalf("ServiceAccount = %+v, want %+v", got, a)
		}
		got, err = s.ServiceAccount(t.Context(), noExpiry.ClientID)
		must(t, err)
		if !got.SecretExpiresAt.IsZero() {
			t.Fatalf("SecretExpiresAt = %s, want zero", got.SecretExpiresAt)
		}
		wantCode(t, s.CreateServiceAccount(t.Context(), serviceAccount(other, "1")), costexplorer.ErrConflict)
		_, err = s.ServiceAccount(t.Context(), "mdb_sa_id_nope")
		wantCode(t, err, costexplorer.ErrNotFound)
		wantCode(t, s.SetServiceAccountEnabled(t.Context(), "mdb_sa_id_nope", true), costexplorer.ErrNotFound)
		mine, err := s.ServiceAccounts(t.Context(), org)
		must(t, err)
		all, err := s.ServiceAccounts(t.Context(), "")
		must(t, err)
		if len(mine) != 1 || mine[0].ClientID != a.ClientID || len(all) != 2 {
			t.Fatalf("ServiceAccounts(org) = %d, ServiceAccounts(\"\") = %d; want 1 and 2", len(mine), len(all))
		}
		must(t, s.SetServiceAccountEnabled(t.Context(), a.ClientID, false))
		got, err = s.ServiceAccount(t.Context(), a.ClientID)
		must(t, err)
		if got.Enabled {
			t.Fatal("service account still enabled after disabling")
		}
	})

	t.Run("SecretIsCreatedOnce", func(t *testing.T) {
		s := open(t)
		first, err := s.Secret(t.Context(), "jwt", func() ([]byte, error) { return []byte("first value"), nil })
		must(t, err)
		again, err := s.Secret(t.Context(), "jwt", func() ([]byte, error) { return nil, errors.New("create called for an existing secret") })
		must(t, err)
		if string(first) != "first value" || !bytes.Equal(first, again) {
			t.Fatalf("Secret = %q then %q, want %q twice", first, again, "first value")
		}
	})

	t.Run("ConcurrentSecretCallersGetTheSameBytes", func(t *testing.T) {
		s := open(t)
		const callers = 16
		got := make([][]byte, callers)
		AtOnce(t, callers, "Secret", func(i int) error {
			var err error
			got[i], err = s.Secret(t.Context(), "nonce-key", func() ([]byte, error) {
				b := make([]byte, 32)
				rand.Read(b)
				return b, nil
			})
			return err
		})
		for i := range callers {
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("caller %d got %x, caller 0 got %x", i, got[i], got[0])
			}
		}
	})

	t.Run("NonceIsSingleUse", func(t *testing.T) {
		s := open(t)
		exp := t0.Add(5 * time.Minute)
		must(t, s.UseNonce(t.Context(), "n1", 1, exp))
		wantCode(t, s.UseNonce(t.Context(), "n1", 1, exp), costexplorer.ErrConflict)
		must(t, s.UseNonce(t.Context(), "n1", 2, exp))
		must(t, s.UseNonce(t.Context(), "n2", 1, exp))
	})

	t.Run("ConcurrentNonceUseSucceedsOnce", func(t *testing.T) {
		s := open(t)
		const callers = 16
		var ok, conflicts atomic.Int32
		AtOnce(t, callers, "UseNonce", func(int) error {
			err := s.UseNonce(t.Context(), "shared", 7, t0.Add(time.Minute))
			switch costexplorer.ErrorCode(err) {
			case "":
				ok.Add(1)
			case costexplorer.ErrConflict:
				conflicts.Add(1)
			default:
				return err
			}
			return nil
		})
		if ok.Load() != 1 || conflicts.Load() != callers-1 {
			t.Fatalf("%d successes and %d conflicts, want 1 and %d", ok.Load(), conflicts.Load(), callers-1)
		}
	})

	t.Run("Revocation", func(t *testing.T) {
		s := open(t)
		revoked, err := s.TokenRevoked(t.Context(), "jti-1")
		must(t, err)
		if revoked {
			t.Fatal("unknown token reported revoked")
		}
		must(t, s.RevokeToken(t.Context(), "jti-1", t0.Add(time.Hour)))
		must(t, s.RevokeToken(t.Context(), "jti-1", t0.Add(time.Hour))) // revoking twice is fine
		revoked, err = s.TokenRevoked(t.Context(), "jti-1")
		must(t, err)
		if !revoked {
			t.Fatal("revoked token not reported revoked")
		}
	})

	t.Run("ExpiredAuthStateIsCleanedUp", func(t *testing.T) {
		s := open(t)
		must(t, s.UseNonce(t.Context(), "old", 1, t0.Add(time.Minute)))
		must(t, s.UseNonce(t.Context(), "new", 1, t0.Add(time.Hour)))
		must(t, s.RevokeToken(t.Context(), "old-jti", t0.Add(time.Minute)))
		must(t, s.RevokeToken(t.Context(), "new-jti", t0.Add(time.Hour)))
		must(t, s.DeleteExpiredAuthState(t.Context(), t0.Add(10*time.Minute)))
		must(t, s.UseNonce(t.Context(), "old", 1, t0.Add(time.Minute))) // forgotten, so usable again
		wantCode(t, s.UseNonce(t.Context(), "new", 1, t0.Add(time.Hour)), costexplorer.ErrConflict)
		for jti, want := range map[string]bool{"old-jti": false, "new-jti": true} {
			got, err := s.TokenRevoked(t.Context(), jti)
			must(t, err)
			if got != want {
				t.Fatalf("TokenRevoked(%s) = %v after cleanup, want %v", jti, got, want)
			}
		}
	})
}
