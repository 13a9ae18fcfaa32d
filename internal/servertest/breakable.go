package servertest

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/costexplorer/costexplorer"
)

// BreakableStore is a real store whose Ping or DataVersion can be made to
// fail, standing in for a database that stopped answering (SQLite cannot be
// taken away from under an open handle; the PostgreSQL outage is tested
// with a real restart elsewhere).
type BreakableStore struct {
	costexplorer.Store
	PingDown, SchemaDown atomic.Bool
}

// ErrBroken is the error of a broken BreakableStore.
var ErrBroken = errors.New("connection refused (test)")

// Ping fails while PingDown is set.
func (b *BreakableStore) Ping(ctx context.Context) error {
	if b.PingDown.Load() {
		return ErrBroken
	}
	return b.Store.Ping(ctx)
}

// DataVersion fails while SchemaDown is set.
func (b *BreakableStore) DataVersion(ctx context.Context) (int64, error) {
	if b.SchemaDown.Load() {
		return 0, ErrBroken
	}
	return b.Store.DataVersion(ctx)
}
