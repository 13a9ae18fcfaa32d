package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/costexplorer/costexplorer"
)

// Roles and access lists are stored as JSON arrays, as in SQLite: they are
// read whole, never queried into.

func encodeList[S ~[]T, T any](v S) (string, error) {
	if v == nil {
		v = S{}
	}
	b, err := json.Marshal(v)
	return string(b), err
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

// CreateAPIKey stores k; ErrConflict if its public key (or id) exists. A
// zero CreatedAt is set to the store's clock.
func (db *DB) CreateAPIKey(ctx context.Context, k *costexplorer.APIKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	roles, err := encodeList(k.Roles)
	if err != nil {
		return err
	}
	acl, err := encodeList(k.AccessList)
	if err != nil {
		return err
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.now()
	}
	k.CreatedAt = k.CreatedAt.UTC().Truncate(time.Microsecond)
	err = db.run(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO api_keys
			(id, org_id, public_key, ha1_md5, ha1_sha256, description, roles, access_list, enabled, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			k.ID, k.OrgID, k.PublicKey, k.HA1MD5, k.HA1SHA256, k.Description, roles, acl, k.Enabled, k.CreatedAt.UnixMicro())
		return err
	})
	if costexplorer.ErrorCode(err) == costexplorer.ErrConflict {
		return &costexplorer.Error{Code: costexplorer.ErrConflict, Detail: fmt.Sprintf("API key %s already exists", k.PublicKey), Err: err}
	}
	return err
}

const apiKeyColumns = "id, org_id, public_key, ha1_md5, ha1_sha256, description, roles, access_list, enabled, created_at"

func scanAPIKey(s pgx.Row) (*costexplorer.APIKey, error) {
	var k costexplorer.APIKey
	var roles, acl string
	var created *int64
	if err := s.Scan(&k.ID, &k.OrgID, &k.PublicKey, &k.HA1MD5, &k.HA1SHA256, &k.Description, &roles, &acl, &k.Enabled, &created); err != nil {
		return nil, err
	}
	if err := decodeList(roles, &k.Roles); err != nil {
		return nil, fmt.Errorf("api key %s: roles: %w", k.PublicKey, err)
	}
	if err := decodeList(acl, &k.AccessList); err != nil {
		return nil, fmt.Errorf("api key %s: access list: %w", k.PublicKey, err)
	}
	k.CreatedAt = fromMicros(created)
	return &k, nil
}

// APIKeyByPublicKey returns the key, or ErrNotFound.
func (db *DB) APIKeyByPublicKey(ctx context.Context, publicKey string) (*costexplorer.APIKey, error) {
	var k *costexplorer.APIKey
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		var err error
		k, err = scanAPIKey(c.QueryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE public_key = $1", publicKey))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("API key %s not found", publicKey)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// APIKeys lists the keys of orgID (all keys when orgID is empty), ordered by
// creation time, then public key.
func (db *DB) APIKeys(ctx context.Context, orgID string) ([]*costexplorer.APIKey, error) {
	out := []*costexplorer.APIKey{}
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE $1 = '' OR org_id = $1 ORDER BY created_at, public_key", orgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanAPIKey(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetAPIKeyEnabled enables or disables the key; ErrNotFound if none.
func (db *DB) SetAPIKeyEnabled(ctx context.Context, publicKey string, enabled bool) error {
	return db.run(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, "UPDATE api_keys SET enabled = $1 WHERE public_key = $2", enabled, publicKey)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("API key %s not found", publicKey)
		}
		return nil
	})
}

// CreateServiceAccount stores a; ErrConflict if its client id exists.
func (db *DB) CreateServiceAccount(ctx context.Context, a *costexplorer.ServiceAccount) error {
	if err := a.Validate(); err != nil {
		return err
	}
	roles, err := encodeList(a.Roles)
	if err != nil {
		return err
	}
	acl, err := encodeList(a.AccessList)
	if err != nil {
		return err
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = db.now()
	}
	a.CreatedAt = a.CreatedAt.UTC().Truncate(time.Microsecond)
	err = db.run(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO service_accounts
			(client_id, org_id, name, description, secret_hash, roles, access_list, enabled, created_at, secret_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			a.ClientID, a.OrgID, a.Name, a.Description, a.SecretHash, roles, acl, a.Enabled, a.CreatedAt.UnixMicro(), toMicros(a.SecretExpiresAt))
		return err
	})
	if costexplorer.ErrorCode(err) == costexplorer.ErrConflict {
		return &costexplorer.Error{Code: costexplorer.ErrConflict, Detail: fmt.Sprintf("service account %s already exists", a.ClientID), Err: err}
	}
	return err
}

const serviceAccountColumns = "client_id, org_id, name, description, secret_hash, roles, access_list, enabled, created_at, secret_expires_at"

func scanServiceAccount(s pgx.Row) (*costexplorer.ServiceAccount, error) {
	var a costexplorer.ServiceAccount
	var roles, acl string
	var created, expires *int64
	if err := s.Scan(&a.ClientID, &a.OrgID, &a.Name, &a.Description, &a.SecretHash, &roles, &acl, &a.Enabled, &created, &expires); err != nil {
		return nil, err
	}
	if err := decodeList(roles, &a.Roles); err != nil {
		return nil, fmt.Errorf("service account %s: roles: %w", a.ClientID, err)
	}
	if err := decodeList(acl, &a.AccessList); err != nil {
		return nil, fmt.Errorf("service account %s: access list: %w", a.ClientID, err)
	}
	a.CreatedAt, a.SecretExpiresAt = fromMicros(created), fromMicros(expires)
	return &a, nil
}

// ServiceAccount returns the account, or ErrNotFound.
func (db *DB) ServiceAccount(ctx context.Context, clientID string) (*costexplorer.ServiceAccount, error) {
	var a *costexplorer.ServiceAccount
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		var err error
		a, err = scanServiceAccount(c.QueryRow(ctx, "SELECT "+serviceAccountColumns+" FROM service_accounts WHERE client_id = $1", clientID))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("service account %s not found", clientID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ServiceAccounts lists the accounts of orgID (all when orgID is empty),
// ordered by creation time, then client id.
func (db *DB) ServiceAccounts(ctx context.Context, orgID string) ([]*costexplorer.ServiceAccount, error) {
	out := []*costexplorer.ServiceAccount{}
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, "SELECT "+serviceAccountColumns+" FROM service_accounts WHERE $1 = '' OR org_id = $1 ORDER BY created_at, client_id", orgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanServiceAccount(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetServiceAccountEnabled enables or disables an account; ErrNotFound if none.
func (db *DB) SetServiceAccountEnabled(ctx context.Context, clientID string, enabled bool) error {
	return db.run(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, "UPDATE service_accounts SET enabled = $1 WHERE client_id = $2", enabled, clientID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("service account %s not found", clientID)
		}
		return nil
	})
}

// Secret returns the shared secret called name, creating it with create when
// it does not exist. create runs outside any transaction; INSERT … ON
// CONFLICT DO NOTHING keeps the first value stored, and every caller on every
// replica reads that one back.
func (db *DB) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, "SELECT value FROM secrets WHERE name = $1", name).Scan(&v)
	})
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
	err = db.run(ctx, func(c *pgxpool.Conn) error {
		if _, err := c.Exec(ctx, "INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
			name, nv, db.now().UnixMicro()); err != nil {
			return err
		}
		return c.QueryRow(ctx, "SELECT value FROM secrets WHERE name = $1", name).Scan(&v)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// UseNonce records the use of a Digest (nonce, nc) pair; ErrConflict if it
// was used before, on any replica (the pair is the primary key).
func (db *DB) UseNonce(ctx context.Context, nonce string, nc uint32, expires time.Time) error {
	return db.run(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, "INSERT INTO used_nonces (nonce, nc, expires_at) VALUES ($1, $2, $3) ON CONFLICT (nonce, nc) DO NOTHING",
			nonce, int64(nc), expires.UnixMicro())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return costexplorer.Errorf(costexplorer.ErrConflict, "nonce count %08x was already used with this nonce", nc)
		}
		return nil
	})
}

// RevokeToken records a revoked JWT id until expires (a later revocation of
// the same id keeps the later expiry).
func (db *DB) RevokeToken(ctx context.Context, jti string, expires time.Time) error {
	return db.run(ctx, func(c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2)
			ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, excluded.expires_at)`, jti, expires.UnixMicro())
		return err
	})
}

// TokenRevoked reports whether jti was revoked (and not yet cleaned up).
func (db *DB) TokenRevoked(ctx context.Context, jti string) (bool, error) {
	var revoked bool
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1)", jti).Scan(&revoked)
	})
	return revoked, err
}

// DeleteExpiredAuthState removes used nonces and revocations that expired
// before now.
func (db *DB) DeleteExpiredAuthState(ctx context.Context, now time.Time) error {
	return db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		n := now.UnixMicro()
		if _, err := tx.Exec(ctx, "DELETE FROM used_nonces WHERE expires_at < $1", n); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM revoked_tokens WHERE expires_at < $1", n)
		return err
	})
}
