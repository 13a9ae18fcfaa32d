package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/costexplorer/costexplorer"
)

// This file is the store side of sync (costexplorer.SyncStore): the marks a
// sync records with its items, and named leases.

// recordMarks upserts the batch's sync marks, in the ingest's transaction.
// Marks describe the sync, not the data: they leave the data version alone.
func (t *ingestTx) recordMarks(marks []costexplorer.SyncMark) error {
	for i := range marks {
		m := &marks[i]
		synced := m.SyncedAt
		if synced.IsZero() {
			synced = t.s.now()
		}
		if err := t.bulk.Exec(t.ctx, `INSERT INTO sync_marks (source, invoice_id, source_updated, items, synced_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (source, invoice_id) DO UPDATE SET source_updated = excluded.source_updated, items = excluded.items, synced_at = excluded.synced_at`,
			m.Source, m.InvoiceID, Micros(m.SourceUpdated), int64(m.Items), synced.UnixMicro()); err != nil {
			return fmt.Errorf("sync mark of invoice %s: %w", m.InvoiceID, err)
		}
	}
	return nil
}

// SyncMarks implements costexplorer.SyncStore.
func (s *Store) SyncMarks(ctx context.Context, source string) ([]costexplorer.SyncMark, error) {
	var out []costexplorer.SyncMark
	err := s.r.ReadTx(ctx, func(q Querier) error {
		return Each(ctx, q, "SELECT invoice_id, source_updated, items, synced_at FROM sync_marks WHERE source = ? ORDER BY invoice_id", func(r Row) error {
			m := costexplorer.SyncMark{Source: source}
			var updated, synced Time
			var items int64
			if err := r.Scan(&m.InvoiceID, &updated, &items, &synced); err != nil {
				return err
			}
			m.SourceUpdated, m.Items, m.SyncedAt = updated.Time, int(items), synced.Time
			out = append(out, m)
			return nil
		}, source)
	})
	return out, err
}

// AcquireLease implements costexplorer.SyncStore in one statement: the
// upsert changes the row only when the lease is the holder's or has
// expired, so that of replicas racing for it exactly one gets it.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, costexplorer.Errorf(costexplorer.ErrValidation, "a lease needs a name, a holder and a positive duration")
	}
	now := s.now()
	var n int64
	err := s.r.Write(ctx, func(q Querier) error {
		var err error
		n, err = q.Exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
			name, holder, now.Add(ttl).UnixMicro(), now.UnixMicro())
		return err
	})
	return n == 1, err
}

// ReleaseLease implements costexplorer.SyncStore.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.r.Write(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, "DELETE FROM leases WHERE name = ? AND holder = ?", name, holder)
		return err
	})
}

// Lease implements costexplorer.SyncStore.
func (s *Store) Lease(ctx context.Context, name string) (string, time.Time, error) {
	var holder string
	var expires Time
	err := s.r.Read(ctx, func(q Querier) error {
		err := q.QueryRow(ctx, "SELECT holder, expires_at FROM leases WHERE name = ?", name).Scan(&holder, &expires)
		if s.d.IsNoRows(err) {
			return nil
		}
		return err
	})
	return holder, expires.Time, err
}
