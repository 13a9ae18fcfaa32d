package sqlstore

import (
	"context"

	"fmt"
	"github.com/costexplorer/costexplorer"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema change. Both stores number the same
// change alike.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the migrations of fsys, files migrations/N_name.sql,
// in version order.
func Migrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, base, v)
		}
		seen[v] = base
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Init prepares a store that has just been opened: it applies the pending
// migrations of fsys and loads the service codes, each in a write
// transaction that first takes the dialect's schema lock, so that processes
// or replicas opening the same database at once apply each migration exactly
// once and add each missing service once.
func (s *Store) Init(ctx context.Context, fsys fs.FS) error {
	err := s.r.WriteTx(ctx, func(q Querier) error {
		if err := s.d.lockSchema(ctx, q); err != nil {
			return err
		}
		if err := s.migrate(ctx, q, fsys); err != nil {
			return err
		}
		return deriveInvoiceIDs(ctx, q)
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return s.r.WriteTx(ctx, func(q Querier) error {
		if err := s.d.lockSchema(ctx, q); err != nil {
			return err
		}
		return s.LoadServices(ctx, q)
	})
}

// migrate applies, within q, the migrations of fsys not yet recorded in
// schema_migrations; a failed migration leaves nothing behind (DDL is
// transactional in both engines).
func (s *Store) migrate(ctx context.Context, q Querier, fsys fs.FS) error {
	ms, err := Migrations(fsys)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return err
	}
	applied := map[int]bool{}
	err = Each(ctx, q, "SELECT version FROM schema_migrations", func(r Row) error {
		var v int64
		if err := r.Scan(&v); err != nil {
			return err
		}
		applied[int(v)] = true
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if err := s.d.ExecScript(ctx, q, m.SQL); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if _, err := q.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("record migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// deriveInvoiceIDs gives the invoices that migration 0002 created from the
// stored line items their derived ids (costexplorer.InvoiceID, a hash SQL
// cannot compute); it finds none to do on every later open.
func deriveInvoiceIDs(ctx context.Context, q Querier) error {
	type pending struct {
		id    int64
		ext   string
		month int64
	}
	var todo []pending
	err := Each(ctx, q, "SELECT i.id, o.ext_id, i.month FROM invoices i JOIN organizations o ON o.id = i.org_id WHERE i.ext_id IS NULL", func(r Row) error {
		var p pending
		if err := r.Scan(&p.id, &p.ext, &p.month); err != nil {
			return err
		}
		todo = append(todo, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("derive invoice ids: %w", err)
	}
	for _, p := range todo {
		if _, err := q.Exec(ctx, "UPDATE invoices SET ext_id = ? WHERE id = ?", costexplorer.InvoiceID(p.ext, costexplorer.Month(p.month)), p.id); err != nil {
			return fmt.Errorf("derive invoice ids: %w", err)
		}
	}
	return nil
}
