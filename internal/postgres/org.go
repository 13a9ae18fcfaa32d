package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/costexplorer/costexplorer"
)

// orgRef is what link rules need to know about a stored organization.
type orgRef struct {
	id     int32
	paying *int32
}

// lockData takes the ingest lock for the rest of tx. Every transaction that
// changes dimensions or the data version holds it, so that those changes are
// serialised across replicas as SQLite's single writer serialises them.
func lockData(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", lockIngest)
	return err
}

// CreateOrganization stores o. It returns ErrConflict if the id exists,
// ErrNotFound if o names a paying organization that does not exist, and
// ErrValidation if that organization is itself linked to another. A zero
// CreatedAt is set to the store's clock.
func (db *DB) CreateOrganization(ctx context.Context, o *costexplorer.Organization) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = db.now()
	}
	o.CreatedAt = o.CreatedAt.UTC().Truncate(time.Microsecond)
	return db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := lockData(ctx, tx); err != nil {
			return err
		}
		var paying *int32
		if o.PayingOrgID != "" {
			p, err := lookupOrg(ctx, tx, o.PayingOrgID)
			if err != nil {
				return err
			}
			if p.paying != nil {
				return costexplorer.FieldError(costexplorer.ErrValidation, "payingOrgId", "organization "+o.PayingOrgID+" is itself linked to a paying organization")
			}
			paying = &p.id
		}
		tag, err := tx.Exec(ctx, `INSERT INTO organizations (ext_id, name, name_lower, paying_org_id, requires_access_list, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ext_id) DO NOTHING`,
			o.ID, o.Name, strings.ToLower(o.Name), paying, o.RequiresAccessList, o.CreatedAt.UnixMicro())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return costexplorer.Errorf(costexplorer.ErrConflict, "organization %s already exists", o.ID)
		}
		// A linked organization changes what queries on its paying one cover.
		_, err = bumpDataVersion(ctx, tx)
		return err
	})
}

// lookupOrg returns the surrogate key and link of the organization with ext
// id, or ErrNotFound.
func lookupOrg(ctx context.Context, tx pgx.Tx, extID string) (orgRef, error) {
	var r orgRef
	err := tx.QueryRow(ctx, "SELECT id, paying_org_id FROM organizations WHERE ext_id = $1", extID).Scan(&r.id, &r.paying)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, notFound("organization %s not found", extID)
	}
	return r, err
}

const orgColumns = `o.ext_id, o.name, COALESCE(p.ext_id, ''), o.requires_access_list, o.created_at
	FROM organizations o LEFT JOIN organizations p ON p.id = o.paying_org_id`

func scanOrg(s pgx.Row) (*costexplorer.Organization, error) {
	var o costexplorer.Organization
	var created *int64
	if err := s.Scan(&o.ID, &o.Name, &o.PayingOrgID, &o.RequiresAccessList, &created); err != nil {
		return nil, err
	}
	o.CreatedAt = fromMicros(created)
	return &o, nil
}

// Organization returns the organization with id, or ErrNotFound.
func (db *DB) Organization(ctx context.Context, id string) (*costexplorer.Organization, error) {
	var o *costexplorer.Organization
	err := db.run(ctx, func(c *pgxpool.Conn) error {
		var err error
		o, err = scanOrg(c.QueryRow(ctx, "SELECT "+orgColumns+" WHERE o.ext_id = $1", id))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("organization %s not found", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Organizations lists the organizations matching f ordered by name, then id
// (byte order, as in SQLite), with the number of matches before paging.
func (db *DB) Organizations(ctx context.Context, f costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error) {
	if f.IDs != nil && len(f.IDs) == 0 {
		return []*costexplorer.Organization{}, 0, nil
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.IDs != nil {
		where = append(where, "o.ext_id = ANY("+arg(f.IDs)+")")
	}
	if f.NamePrefix != "" {
		p := strings.ToLower(f.NamePrefix)
		where = append(where, "left(o.name_lower, "+arg(utf8.RuneCountInString(p))+") = "+arg(p))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var (
		out   = []*costexplorer.Organization{}
		total int
	)
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM organizations o"+cond, args...).Scan(&total); err != nil {
			return err
		}
		q := "SELECT " + orgColumns + cond + " ORDER BY o.name, o.ext_id"
		if f.Limit > 0 {
			q += " LIMIT " + arg(f.Limit)
		}
		if f.Offset > 0 {
			q += " OFFSET " + arg(f.Offset)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanOrg(rows)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// LinkOrganization makes linkedID a linked organization of payingID. It
// returns ErrNotFound if either is missing, and ErrValidation if they are the
// same, if payingID is itself linked, or if linkedID pays for others.
func (db *DB) LinkOrganization(ctx context.Context, payingID, linkedID string) error {
	return db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := lockData(ctx, tx); err != nil {
			return err
		}
		return linkOrg(ctx, tx, payingID, linkedID)
	})
}

// linkOrg applies the link rules and links within tx, which holds the data
// lock (so the rules cannot be raced by another replica).
func linkOrg(ctx context.Context, tx pgx.Tx, payingID, linkedID string) error {
	paying, err := lookupOrg(ctx, tx, payingID)
	if err != nil {
		return err
	}
	linked, err := lookupOrg(ctx, tx, linkedID)
	if err != nil {
		return err
	}
	switch {
	case paying.id == linked.id:
		return costexplorer.Errorf(costexplorer.ErrValidation, "organization %s cannot pay for itself", payingID)
	case paying.paying != nil:
		return costexplorer.Errorf(costexplorer.ErrValidation, "organization %s is itself linked to a paying organization", payingID)
	case linked.paying != nil && *linked.paying == paying.id:
		return nil // already linked
	}
	var payer bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM organizations WHERE paying_org_id = $1)", linked.id).Scan(&payer); err != nil {
		return err
	}
	if payer {
		return costexplorer.Errorf(costexplorer.ErrValidation, "organization %s pays for other organizations and cannot be linked", linkedID)
	}
	if _, err := tx.Exec(ctx, "UPDATE organizations SET paying_org_id = $1 WHERE id = $2", paying.id, linked.id); err != nil {
		return err
	}
	_, err = bumpDataVersion(ctx, tx)
	return err
}

// LinkedOrganizations returns the ids of the organizations linked to payingID
// in id order (none for an organization that pays for no other), or
// ErrNotFound if payingID does not exist.
func (db *DB) LinkedOrganizations(ctx context.Context, payingID string) ([]string, error) {
	out := []string{}
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		p, err := lookupOrg(ctx, tx, payingID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT ext_id FROM organizations WHERE paying_org_id = $1 ORDER BY ext_id", p.id)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		out = append(out, ids...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bumpDataVersion increments and returns the data version.
func bumpDataVersion(ctx context.Context, tx pgx.Tx) (int64, error) {
	var v int64
	err := tx.QueryRow(ctx, "UPDATE usage_state SET data_version = data_version + 1 WHERE id = 1 RETURNING data_version").Scan(&v)
	return v, err
}
