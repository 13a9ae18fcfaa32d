package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/costexplorer/costexplorer"
)

// orgRef is what link rules need to know about a stored organization.
type orgRef struct {
	id     int64
	paying sql.NullInt64
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
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var paying any
		if o.PayingOrgID != "" {
			p, err := lookupOrg(ctx, tx, o.PayingOrgID)
			if err != nil {
				return err
			}
			if p.paying.Valid {
				return costexplorer.FieldError(costexplorer.ErrValidation, "payingOrgId", "organization "+o.PayingOrgID+" is itself linked to a paying organization")
			}
			paying = p.id
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (ext_id, name, name_lower, paying_org_id, requires_access_list, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, o.ID, o.Name, strings.ToLower(o.Name), paying, boolInt(o.RequiresAccessList), o.CreatedAt.UnixMicro())
		if err != nil {
			if costexplorer.ErrorCode(translate(err)) == costexplorer.ErrConflict {
				return costexplorer.Errorf(costexplorer.ErrConflict, "organization %s already exists", o.ID)
			}
			return err
		}
		// A linked organization changes what queries on its paying one cover.
		_, err = bumpDataVersion(ctx, tx)
		return err
	})
}

// lookupOrg returns the surrogate key and link of the organization with ext
// id, or ErrNotFound.
func lookupOrg(ctx context.Context, tx *sql.Tx, extID string) (orgRef, error) {
	var r orgRef
	err := tx.QueryRowContext(ctx, "SELECT id, paying_org_id FROM organizations WHERE ext_id = ?", extID).Scan(&r.id, &r.paying)
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("organization %s not found", extID)
	}
	return r, err
}

const orgColumns = `o.ext_id, o.name, COALESCE(p.ext_id, ''), o.requires_access_list, o.created_at
	FROM organizations o LEFT JOIN organizations p ON p.id = o.paying_org_id`

func scanOrg(s interface{ Scan(...any) error }) (*costexplorer.Organization, error) {
	var o costexplorer.Organization
	var created sql.NullInt64
	if err := s.Scan(&o.ID, &o.Name, &o.PayingOrgID, &o.RequiresAccessList, &created); err != nil {
		return nil, err
	}
	o.CreatedAt = fromMicros(created)
	return &o, nil
}

// Organization returns the organization with id, or ErrNotFound.
func (db *DB) Organization(ctx context.Context, id string) (*costexplorer.Organization, error) {
	o, err := scanOrg(db.readRow(ctx, "SELECT "+orgColumns+" WHERE o.ext_id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("organization %s not found", id)
	}
	return o, translate(err)
}

// Organizations lists the organizations matching f ordered by name, then id,
// with the number of matches before paging.
func (db *DB) Organizations(ctx context.Context, f costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error) {
	if f.IDs != nil && len(f.IDs) == 0 {
		return []*costexplorer.Organization{}, 0, nil
	}
	var where []string
	var args []any
	if f.IDs != nil {
		where = append(where, "o.ext_id IN (?"+strings.Repeat(", ?", len(f.IDs)-1)+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if f.NamePrefix != "" {
		p := strings.ToLower(f.NamePrefix)
		where = append(where, "substr(o.name_lower, 1, ?) = ?")
		args = append(args, utf8.RuneCountInString(p), p)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var (
		out   = []*costexplorer.Organization{}
		total int
	)
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM organizations o"+cond, args...).Scan(&total); err != nil {
			return err
		}
		q := "SELECT " + orgColumns + cond + " ORDER BY o.name, o.ext_id"
		pageArgs := args
		if f.Limit > 0 || f.Offset > 0 {
			limit := int64(f.Limit)
			if limit <= 0 {
				limit = -1 // no limit
			}
			q += " LIMIT ? OFFSET ?"
			pageArgs = append(append([]any{}, args...), limit, max(f.Offset, 0))
		}
		rows, err := tx.QueryContext(ctx, q, pageArgs...)
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
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		return linkOrg(ctx, tx, payingID, linkedID)
	})
}

// linkOrg applies the link rules and links within tx.
func linkOrg(ctx context.Context, tx *sql.Tx, payingID, linkedID string) error {
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
	case paying.paying.Valid:
		return costexplorer.Errorf(costexplorer.ErrValidation, "organization %s is itself linked to a paying organization", payingID)
	case linked.paying.Valid && linked.paying.Int64 == paying.id:
		return nil // already linked
	}
	var payer bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM organizations WHERE paying_org_id = ?)", linked.id).Scan(&payer); err != nil {
		return err
	}
	if payer {
		return costexplorer.Errorf(costexplorer.ErrValidation, "organization %s pays for other organizations and cannot be linked", linkedID)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE organizations SET paying_org_id = ? WHERE id = ?", paying.id, linked.id); err != nil {
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
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		p, err := lookupOrg(ctx, tx, payingID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT ext_id FROM organizations WHERE paying_org_id = ? ORDER BY ext_id", p.id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bumpDataVersion increments and returns the data version.
func bumpDataVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, "UPDATE usage_state SET data_version = data_version + 1 WHERE id = 1 RETURNING data_version").Scan(&v)
	return v, err
}
