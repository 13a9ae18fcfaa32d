package sqlstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/costexplorer/costexplorer"
)

// InvoiceIDs implements costexplorer.InvoiceStore: one row per invoice (an
// organization has one a month, so a few thousand rows in all). Invoices
// whose id is still NULL (created by migration 0002, derived by the open
// that applied it) are left out, as every read leaves them out. The order is
// made in Go, so that it is byte order in both stores whatever the
// collation.
func (s *Store) InvoiceIDs(ctx context.Context) ([]costexplorer.InvoiceRef, error) {
	out := []costexplorer.InvoiceRef{}
	err := s.r.Read(ctx, func(q Querier) error {
		out = out[:0]
		return Each(ctx, q, `SELECT o.ext_id, i.month, i.ext_id FROM invoices i JOIN organizations o ON o.id = i.org_id
			WHERE i.ext_id IS NOT NULL`, func(r Row) error {
			var ref costexplorer.InvoiceRef
			var month int64
			if err := r.Scan(&ref.OrgID, &month, &ref.ID); err != nil {
				return err
			}
			ref.Month = costexplorer.Month(month)
			out = append(out, ref)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b costexplorer.InvoiceRef) int {
		return cmp.Or(cmp.Compare(a.OrgID, b.OrgID), cmp.Compare(a.Month, b.Month))
	})
	return out, nil
}
