package sqlstore

import (
	"context"
	"fmt"

	"github.com/costexplorer/costexplorer"
)

// Services maps service names to their small codes (the services table) and
// back.
type Services struct {
	Code map[costexplorer.Service]int64
	Name map[int64]costexplorer.Service
}

// Services returns the service codes loaded by [Store.LoadServices].
func (s *Store) Services() Services { return s.services }

// LoadServices reads the service codes within q (a write transaction),
// adding codes for services the domain knows but the table lacks (a service
// added after the database was made), and keeps them for the store. The
// caller serialises concurrent loads (PostgreSQL takes its migration lock
// first).
func (s *Store) LoadServices(ctx context.Context, q Querier) error {
	load := func() error {
		svc := Services{Code: map[costexplorer.Service]int64{}, Name: map[int64]costexplorer.Service{}}
		err := Each(ctx, q, "SELECT code, name FROM services", func(r Row) error {
			var code int64
			var name string
			if err := r.Scan(&code, &name); err != nil {
				return err
			}
			svc.Code[costexplorer.Service(name)] = code
			svc.Name[code] = costexplorer.Service(name)
			return nil
		})
		if err != nil {
			return err
		}
		s.services = svc
		return nil
	}
	if err := load(); err != nil {
		return fmt.Errorf("load services: %w", err)
	}
	added := false
	for _, sv := range costexplorer.Services {
		if _, ok := s.services.Code[sv]; ok {
			continue
		}
		if _, err := q.Exec(ctx, "INSERT INTO services (code, name) SELECT COALESCE(MAX(code), -1) + 1, ? FROM services", string(sv)); err != nil {
			return fmt.Errorf("add service %q: %w", sv, err)
		}
		added = true
	}
	if added {
		return load()
	}
	return nil
}
