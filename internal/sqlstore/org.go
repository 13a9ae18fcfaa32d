package sqlstore

import (
	"context"
	"database/sql"
	"strings"
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
func (s *Store) CreateOrganization(ctx context.Context, o *costexplorer.Organization) error {
	if err := o.Validate(); err != nil {
		return err
	}
	s.stamp(&o.CreatedAt)
	return s.r.WriteTx(ctx, func(q Querier) error {
		if err := s.d.lockData(ctx, q); err != nil {
			return err
		}
		var paying any
		if o.PayingOrgID != "" {
			p, err := lookupOrg(ctx, s.d, q, o.PayingOrgID)
			if err != nil {
				return err
			}
			if p.paying.Valid {
				return costexplorer.FieldError(costexplorer.ErrValidation, "payingOrgId", "organization "+o.PayingOrgID+" is itself linked to a paying organization")
			}
			paying = p.id
		}
		n, err := q.Exec(ctx, `INSERT INTO organizations (ext_id, name, name_lower, paying_org_id, requires_access_list, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ext_id) DO NOTHING`,
			o.ID, o.Name, strings.ToLower(o.Name), paying, s.d.Bool(o.RequiresAccessList), o.CreatedAt.UnixMicro())
		if err != nil {
			return err
		}
		if n == 0 {
			return costexplorer.Errorf(costexplorer.ErrConflict, "organization %s already exists", o.ID)
		}
		// A linked organization changes what queries on its paying one cover.
		_, err = BumpDataVersion(ctx, q)
		return err
	})
}

// lookupOrg returns the surrogate key and link of the organization with ext
// id, or ErrNotFound.
func lookupOrg(ctx context.Context, d Dialect, q Querier, extID string) (orgRef, error) {
	var r orgRef
	err := q.QueryRow(ctx, "SELECT id, paying_org_id FROM organizations WHERE ext_id = ?", extID).Scan(&r.id, &r.paying)
	if d.IsNoRows(err) {
		return r, notFound("organization %s not found", extID)
	}
	return r, err
}

const orgColumns = `o.ext_id, o.name, COALESCE(p.ext_id, ''), o.requires_access_list, o.created_at
	FROM organizations o LEFT JOIN organizations p ON p.id = o.paying_org_id`

func scanOrg(r Row) (*costexplorer.Organization, error) {
	// One allocation holds the organization and the scan's destinations.
	v := new(struct {
		o       costexplorer.Organization
		created Time
	})
	o := &v.o
	if err := r.Scan(&o.ID, &o.Name, &o.PayingOrgID, &o.RequiresAccessList, &v.created); err != nil {
		return nil, err
	}
	o.CreatedAt = v.created.Time
	return o, nil
}

// Organization returns the organization with id, or ErrNotFound.
func (s *Store) Organization(ctx context.Context, id string) (*costexplorer.Organization, error) {
	return one(ctx, s, scanOrg, "organization %s not found", id, "SELECT "+orgColumns+" WHERE o.ext_id = ?", id)
}

// Organizations lists the organizations matching f ordered by name, then id
// (byte order in both stores), with the number of matches before paging.
func (s *Store) Organizations(ctx context.Context, f costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error) {
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
	err := s.r.ReadTx(ctx, func(q Querier) error {
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM organizations o"+cond, args...).Scan(&total); err != nil {
			return err
		}
		query := "SELECT " + orgColumns + cond + " ORDER BY o.name, o.ext_id"
		pageArgs := args
		switch {
		case f.Limit > 0:
			query += " LIMIT ?"
			pageArgs = append(pageArgs[:len(pageArgs):len(pageArgs)], f.Limit)
		case f.Offset > 0:
			query += " LIMIT " + s.d.NoLimit // SQLite has no OFFSET without LIMIT
		}
		if f.Offset > 0 {
			query += " OFFSET ?"
			pageArgs = append(pageArgs[:len(pageArgs):len(pageArgs)], f.Offset)
		}
		var err error
		out, err = collect(ctx, q, scanOrg, query, pageArgs...)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// LinkOrganization makes linkedID a linked organization of payingID. It
// returns ErrNotFound if either is missing, and ErrValidation if they are the
// same, if payingID is itself linked, or if linkedID pays for others.
func (s *Store) LinkOrganization(ctx context.Context, payingID, linkedID string) error {
	return s.r.WriteTx(ctx, func(q Querier) error {
		if err := s.d.lockData(ctx, q); err != nil {
			return err
		}
		return LinkOrg(ctx, s.d, q, payingID, linkedID)
	})
}

// LinkOrg applies the link rules of [Store.LinkOrganization] and links
// within q, a write transaction of dialect d that holds the data lock (so
// the rules cannot be raced by another replica). Ingest links the
// organizations of a batch through it.
func LinkOrg(ctx context.Context, d Dialect, q Querier, payingID, linkedID string) error {
	paying, err := lookupOrg(ctx, d, q, payingID)
	if err != nil {
		return err
	}
	linked, err := lookupOrg(ctx, d, q, linkedID)
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
	if err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM organizations WHERE paying_org_id = ?)", linked.id).Scan(&payer); err != nil {
		return err
	}
	if payer {
		return costexplorer.Errorf(costexplorer.ErrValidation, "organization %s pays for other organizations and cannot be linked", linkedID)
	}
	if _, err := q.Exec(ctx, "UPDATE organizations SET paying_org_id = ? WHERE id = ?", paying.id, linked.id); err != nil {
		return err
	}
	_, err = BumpDataVersion(ctx, q)
	return err
}

// LinkedOrganizations returns the ids of the organizations linked to payingID
// in id order (none for an organization that pays for no other), or
// ErrNotFound if payingID does not exist.
func (s *Store) LinkedOrganizations(ctx context.Context, payingID string) ([]string, error) {
	out := []string{}
	err := s.r.ReadTx(ctx, func(q Querier) error {
		p, err := lookupOrg(ctx, s.d, q, payingID)
		if err != nil {
			return err
		}
		return Each(ctx, q, "SELECT ext_id FROM organizations WHERE paying_org_id = ? ORDER BY ext_id", func(r Row) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
			return nil
		}, p.id)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// BumpDataVersion increments and returns the data version, within q (a write
// transaction).
func BumpDataVersion(ctx context.Context, q Querier) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, "UPDATE usage_state SET data_version = data_version + 1 WHERE id = 1 RETURNING data_version").Scan(&v)
	return v, err
}
