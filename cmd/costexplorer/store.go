package main

import (
	"context"
	"errors"
	"flag"

	"github.com/costexplorer/costexplorer"
)

// storeFlags are the flags of every command that touches data.
type storeFlags struct {
	dataDir string
	dsn     string
}

// register adds --data-dir and --db to fs, with defaults from the environment.
func (sf *storeFlags) register(fs *flag.FlagSet, m *Main) {
	fs.StringVar(&sf.dataDir, "data-dir", m.envOr("./costexplorer-data", "COSTEXPLORER_DATA_DIR"), "data directory of the embedded SQLite store")
	fs.StringVar(&sf.dsn, "db", m.envOr("", "COSTEXPLORER_DB"), "database DSN: sqlite://PATH or postgres://… (overrides --data-dir)")
}

// openStore opens the store the flags name, applying migrations.
func (m *Main) openStore(ctx context.Context, sf *storeFlags) (costexplorer.Store, error) {
	return nil, errors.New("no store yet")
}
