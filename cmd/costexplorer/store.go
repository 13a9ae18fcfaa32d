package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlite"
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

// sqliteFile is the database file inside a data directory.
const sqliteFile = "costexplorer.db"

func isSQLiteDSN(dsn string) bool { return strings.HasPrefix(dsn, "sqlite://") }

func isPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// describe names the store for messages, without any password.
func (sf *storeFlags) describe() string {
	switch {
	case sf.dsn == "":
		return filepath.Join(sf.dataDir, sqliteFile)
	case isSQLiteDSN(sf.dsn):
		return strings.TrimPrefix(sf.dsn, "sqlite://")
	default:
		return redactDSN(sf.dsn)
	}
}

// redactDSN masks the password of a URL-form DSN.
func redactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return "****"
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return dsn
	}
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":****@" + host
	}
	return dsn
}

// openStore opens the store the flags name, applying migrations.
func (m *Main) openStore(ctx context.Context, sf *storeFlags) (costexplorer.Store, error) {
	path := filepath.Join(sf.dataDir, sqliteFile)
	switch {
	case sf.dsn == "":
	case isSQLiteDSN(sf.dsn):
		path = strings.TrimPrefix(sf.dsn, "sqlite://")
	case isPostgresDSN(sf.dsn):
		return openPostgres(ctx, sf.dsn, m)
	default:
		return nil, fmt.Errorf("%w: --db %q: use sqlite://PATH or postgres://…", errUsage, redactDSN(sf.dsn))
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Now: m.Now})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}
