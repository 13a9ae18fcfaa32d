package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/costexplorer/costexplorer"
)

// Roles and access lists are stored as JSON arrays: they are read whole,
// never queried into.

func encodeList[S ~[]T, T any](v S) (string, error) {
	if v == nil {
		v = S{}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// encodeLists encodes a credential's roles and access list.
func encodeLists[R ~[]r, A ~[]a, r, a any](roles R, acl A) (string, string, error) {
	rs, err := encodeList(roles)
	if err != nil {
		return "", "", err
	}
	as, err := encodeList(acl)
	return rs, as, err
}

func decodeList[S ~[]T, T any](s string, dst *S) error {
	var v S
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return err
	}
	if len(v) > 0 {
		*dst = v
	}
	return nil
}

// decodeLists decodes the roles and access list of the credential called
// what key.
func decodeLists[R ~[]r, A ~[]a, r, a any](what, key, roles, acl string, dstRoles *R, dstACL *A) error {
	if err := decodeList(roles, dstRoles); err != nil {
		return fmt.Errorf("%s %s: roles: %w", what, key, err)
	}
	if err := decodeList(acl, dstACL); err != nil {
		return fmt.Errorf("%s %s: access list: %w", what, key, err)
	}
	return nil
}

// stamp sets a zero creation time to the store's clock and rounds it to the
// stored precision, so the caller's value equals what is read back.
func (s *Store) stamp(t *time.Time) {
	if t.IsZero() {
		*t = s.now()
	}
	*t = t.UTC().Truncate(time.Microsecond)
}

// CreateAPIKey stores k; ErrConflict if its public key (or id) exists. A
// zero CreatedAt is set to the store's clock.
func (s *Store) CreateAPIKey(ctx context.Context, k *costexplorer.APIKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	roles, acl, err := encodeLists(k.Roles, k.AccessList)
	if err != nil {
		return err
	}
	s.stamp(&k.CreatedAt)
	return s.insertCredential(ctx, "API key "+k.PublicKey, `INSERT INTO api_keys
		(id, org_id, public_key, ha1_md5, ha1_sha256, description, roles, access_list, enabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.OrgID, k.PublicKey, k.HA1MD5, k.HA1SHA256, k.Description, roles, acl, s.d.Bool(k.Enabled), k.CreatedAt.UnixMicro())
}

// insertCredential runs the INSERT of a credential; a unique violation is
// ErrConflict saying that what already exists.
func (s *Store) insertCredential(ctx context.Context, what, query string, args ...any) error {
	err := s.r.Write(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, query, args...)
		return err
	})
	if costexplorer.ErrorCode(err) == costexplorer.ErrConflict {
		return &costexplorer.Error{Code: costexplorer.ErrConflict, Detail: what + " already exists", Err: err}
	}
	return err
}

const apiKeyColumns = "id, org_id, public_key, ha1_md5, ha1_sha256, description, roles, access_list, enabled, created_at"

func scanAPIKey(r Row) (*costexplorer.APIKey, error) {
	// One allocation holds the key and the scan's destinations.
	v := new(struct {
		k          costexplorer.APIKey
		roles, acl string
		created    Time
	})
	k := &v.k
	if err := r.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.HA1MD5, &k.HA1SHA256, &k.Description, &v.roles, &v.acl, &k.Enabled, &v.created); err != nil {
		return nil, err
	}
	if err := decodeLists("api key", k.PublicKey, v.roles, v.acl, &k.Roles, &k.AccessList); err != nil {
		return nil, err
	}
	k.CreatedAt = v.created.Time
	return k, nil
}

// APIKeyByPublicKey returns the key, or ErrNotFound.
func (s *Store) APIKeyByPublicKey(ctx context.Context, publicKey string) (*costexplorer.APIKey, error) {
	return one(ctx, s, scanAPIKey, "API key %s not found", publicKey,
		"SELECT "+apiKeyColumns+" FROM api_keys WHERE public_key = ?", publicKey)
}

// APIKeys lists the keys of orgID (all keys when orgID is empty), ordered by
// creation time, then public key.
func (s *Store) APIKeys(ctx context.Context, orgID string) ([]*costexplorer.APIKey, error) {
	return list(ctx, s, scanAPIKey,
		"SELECT "+apiKeyColumns+" FROM api_keys WHERE ? = '' OR org_id = ? ORDER BY created_at, public_key", orgID, orgID)
}

// setEnabled runs an UPDATE of one row's enabled flag; ErrNotFound (with
// missing as its detail) if no row matched.
func (s *Store) setEnabled(ctx context.Context, query string, enabled bool, key, missing string) error {
	return s.r.Write(ctx, func(q Querier) error {
		n, err := q.Exec(ctx, query, s.d.Bool(enabled), key)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("%s", missing)
		}
		return nil
	})
}

// SetAPIKeyEnabled enables or disables the key; ErrNotFound if none.
func (s *Store) SetAPIKeyEnabled(ctx context.Context, publicKey string, enabled bool) error {
	return s.setEnabled(ctx, "UPDATE api_keys SET enabled = ? WHERE public_key = ?", enabled, publicKey,
		fmt.Sprintf("API key %s not found", publicKey))
}

// CreateServiceAccount stores a; ErrConflict if its client id exists.
func (s *Store) CreateServiceAccount(ctx context.Context, a *costexplorer.ServiceAccount) error {
	if err := a.Validate(); err != nil {
		return err
	}
	roles, acl, err := encodeLists(a.Roles, a.AccessList)
	if err != nil {
		return err
	}
	s.stamp(&a.CreatedAt)
	return s.insertCredential(ctx, "service account "+a.ClientID, `INSERT INTO service_accounts
		(client_id, org_id, name, description, secret_hash, roles, access_list, enabled, created_at, secret_expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ClientID, a.OrgID, a.Name, a.Description, a.SecretHash, roles, acl, s.d.Bool(a.Enabled), a.CreatedAt.UnixMicro(), Micros(a.SecretExpiresAt))
}

const serviceAccountColumns = "client_id, org_id, name, description, secret_hash, roles, access_list, enabled, created_at, secret_expires_at"

func scanServiceAccount(r Row) (*costexplorer.ServiceAccount, error) {
	// One allocation holds the account and the scan's destinations.
	v := new(struct {
		a                costexplorer.ServiceAccount
		roles, acl       string
		created, expires Time
	})
	a := &v.a
	if err := r.Scan(&a.ClientID, &a.OrgID, &a.Name, &a.Description, &a.SecretHash, &v.roles, &v.acl, &a.Enabled, &v.created, &v.expires); err != nil {
		return nil, err
	}
	if err := decodeLists("service account", a.ClientID, v.roles, v.acl, &a.Roles, &a.AccessList); err != nil {
		return nil, err
	}
	a.CreatedAt, a.SecretExpiresAt = v.created.Time, v.expires.Time
	return a, nil
}

// ServiceAccount returns the account, or ErrNotFound.
func (s *Store) ServiceAccount(ctx context.Context, clientID string) (*costexplorer.ServiceAccount, error) {
	return one(ctx, s, scanServiceAccount, "service account %s not found", clientID,
		"SELECT "+serviceAccountColumns+" FROM service_accounts WHERE client_id = ?", clientID)
}

// ServiceAccounts lists the accounts of orgID (all when orgID is empty),
// ordered by creation time, then client id.
func (s *Store) ServiceAccounts(ctx context.Context, orgID string) ([]*costexplorer.ServiceAccount, error) {
	return list(ctx, s, scanServiceAccount,
		"SELECT "+serviceAccountColumns+" FROM service_accounts WHERE ? = '' OR org_id = ? ORDER BY created_at, client_id", orgID, orgID)
}

// SetServiceAccountEnabled enables or disables an account; ErrNotFound if none.
func (s *Store) SetServiceAccountEnabled(ctx context.Context, clientID string, enabled bool) error {
	return s.setEnabled(ctx, "UPDATE service_accounts SET enabled = ? WHERE client_id = ?", enabled, clientID,
		fmt.Sprintf("service account %s not found", clientID))
}

// Secret returns the shared secret called name, creating it with create when
// it does not exist. create runs outside any transaction; INSERT … ON
// CONFLICT DO NOTHING keeps the first value stored, and every caller, in any
// process or on any replica, reads that one back.
func (s *Store) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	const read = "SELECT value FROM secrets WHERE name = ?"
	var v []byte
	err := s.r.Read(ctx, func(q Querier) error { return q.QueryRow(ctx, read, name).Scan(&v) })
	if err == nil {
		return v, nil
	}
	if !costexplorer.IsNotFound(err) {
		return nil, err
	}
	nv, err := create()
	if err != nil {
		return nil, fmt.Errorf("create secret %s: %w", name, err)
	}
	if len(nv) == 0 {
		return nil, fmt.Errorf("create secret %s: empty value", name)
	}
	err = s.r.Write(ctx, func(q Querier) error {
		if _, err := q.Exec(ctx, "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
			name, nv, s.now().UnixMicro()); err != nil {
			return err
		}
		return q.QueryRow(ctx, read, name).Scan(&v)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// UseNonce records the use of a Digest (nonce, nc) pair; ErrConflict if it
// was used before, in any process or on any replica (the pair is the primary
// key).
func (s *Store) UseNonce(ctx context.Context, nonce string, nc uint32, expires time.Time) error {
	return s.r.Write(ctx, func(q Querier) error {
		n, err := q.Exec(ctx, "INSERT INTO used_nonces (nonce, nc, expires_at) VALUES (?, ?, ?) ON CONFLICT (nonce, nc) DO NOTHING",
			nonce, int64(nc), expires.UnixMicro())
		if err != nil {
			return err
		}
		if n == 0 {
			return costexplorer.Errorf(costexplorer.ErrConflict, "nonce count %08x was already used with this nonce", nc)
		}
		return nil
	})
}

// RevokeToken records a revoked JWT id until expires (a later revocation of
// the same id keeps the later expiry).
func (s *Store) RevokeToken(ctx context.Context, jti string, expires time.Time) error {
	return s.r.Write(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)
			ON CONFLICT (jti) DO UPDATE SET expires_at = `+s.d.Greatest+`(revoked_tokens.expires_at, excluded.expires_at)`, jti, expires.UnixMicro())
		return err
	})
}

// TokenRevoked reports whether jti was revoked (and not yet cleaned up).
func (s *Store) TokenRevoked(ctx context.Context, jti string) (bool, error) {
	var revoked bool
	err := s.r.Read(ctx, func(q Querier) error {
		return q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?)", jti).Scan(&revoked)
	})
	return revoked, err
}

// DeleteExpiredAuthState removes used nonces and revocations that expired
// before now.
func (s *Store) DeleteExpiredAuthState(ctx context.Context, now time.Time) error {
	return s.r.WriteTx(ctx, func(q Querier) error {
		n := now.UnixMicro()
		if _, err := q.Exec(ctx, "DELETE FROM used_nonces WHERE expires_at < ?", n); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "DELETE FROM revoked_tokens WHERE expires_at < ?", n)
		return err
	})
}
