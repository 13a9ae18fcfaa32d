package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer/internal/engine"
	"github.com/costexplorer/costexplorer/internal/server"
	"github.com/costexplorer/costexplorer/internal/servertest"
	"github.com/costexplorer/costexplorer/internal/sqlite"
)

func openBreakable(t *testing.T) *servertest.BreakableStore {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "costexplorer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &servertest.BreakableStore{Store: db}
}

func TestReadinessCheck(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		breakIt func(*servertest.BreakableStore)
		load    bool
		want    string // "" for ready
	}{
		{"Ready", func(*servertest.BreakableStore) {}, true, ""},
		{"StoreUnreachable", func(b *servertest.BreakableStore) { b.PingDown.Store(true) }, true, "store unreachable"},
		{"SchemaUnreadable", func(b *servertest.BreakableStore) { b.SchemaDown.Store(true) }, true, "store schema"},
		{"EngineNotLoaded", func(*servertest.BreakableStore) {}, false, "query engine not loaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := openBreakable(t)
			eng := engine.New(store, engine.Options{})
			if tt.load {
				if err := eng.Load(ctx); err != nil {
					t.Fatal(err)
				}
			}
			tt.breakIt(store)
			err := server.Readiness(store, eng)(ctx)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("not ready: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}
