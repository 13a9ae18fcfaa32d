package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// Options configure a DB.
type Options struct {
	// Now returns the current time; default time.Now. It stamps created_at
	// columns when the caller left them zero.
	Now func() time.Time
}

// DB is the embedded SQLite store. It implements [costexplorer.Store] and
// [costexplorer.Verifier].
//
// It keeps two connection pools on one file: a single write connection, whose
// transactions begin IMMEDIATE, so writers of this process queue in Go and
// writers of other processes queue on SQLite's lock (busy_timeout) instead of
// failing with SQLITE_BUSY half-way through a transaction; and a pool of
// read-only connections, which WAL lets read while a write is in progress.
type DB struct {
	// Store holds the rules and queries both dialects share; the methods
	// of this package add what SQLite does differently.
	*sqlstore.Store

	path   string
	write  *sql.DB
	read   *sql.DB
	direct *directPool // connections for reads of many rows (direct.go)

	keys keyCache

	readStmts stmtCache   // prepared statements of the hottest reads
	ingest    *directConn // the connection of ingests (ingest.go); guarded by holding the write connection

	ckpt *checkpointer // nil until Open has started it
}

var (
	_ costexplorer.Store    = (*DB)(nil)
	_ costexplorer.Verifier = (*DB)(nil)
)

// migrationFS holds the numbered migrations. internal/postgres uses the same
// numbers for the same changes.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a connection waits for another process's lock.
const busyTimeout = 10 * time.Second

// Open opens (creating if needed) the SQLite database at path, creating its
// parent directory, and applies pending migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		// The store holds credential hashes (a Digest HA1 is enough to sign
		// requests): the directory and the files are the owner's alone.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	// SQLite creates the database with the process umask and gives its WAL
	// and shared-memory files the database file's mode: create it 0600.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f.Close()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", busyTimeout.Milliseconds())

	// The write connection sets the page size of a new database, then WAL
	// (persistent in the file), before any read connection opens (see
	// connectWrite). Ingests run on a connection of their own with the
	// same settings (ingest.go), opened on the first: a monthly import
	// touches a page or so of line items per resource, all over their
	// b-tree, and a large page cache keeps them in memory (IngestUsage
	// raises it to ingestCacheKiB). The write connection, and a process that
	// never ingests (a server that only answers queries), keep the small
	// cache: their writes are query processes, whose result pages would
	// otherwise pile up in that cache, hundreds of MB of resident memory for
	// nothing.
	//
	// Auto-checkpoint is off: the checkpointer (checkpoint.go) copies the
	// log into the database file in the background, off the path of the
	// commits, and journal_size_limit brings the file back to walKeepBytes
	// each time the log starts again.
	write, err := sql.Open("sqlite", path+"?"+common+fmt.Sprintf("&_pragma=page_size(%d)&_pragma=cache_size(-16384)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(%d)&_txlock=immediate", newPageSize, walKeepBytes))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	db := &DB{path: path, write: write, keys: keyCache{keys: newKeys()}}
	db.Store = sqlstore.New(dialect, runner{db}, opts.Now)
	if err := connectWrite(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, translate(err))
	}
	if err := db.Init(ctx, migrationFS); err != nil {
		write.Close()
		return nil, err
	}

	read, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)&_pragma=cache_size(-16384)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db.read = read
	db.direct = newDirectPool(path)

	var pageSize int64
	if err := write.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, translate(err))
	}
	db.ckpt = startCheckpointer(read, path, pageSize)
	return db, nil
}

// newPageSize is the page size of the databases Open creates: 16 KiB, four
// times SQLite's default. A store's line items are many small rows in a
// b-tree whose inserts mostly land amid it, not at its end: larger pages
// mean a quarter of the page splits, one level less to descend, and a
// quarter of the log's frames to write and to copy back (the demo's 1 M-row
// invoice import: 3.96 s with 4 KiB pages, 3.57 s with 16 KiB, 1.11×, for a
// file 1.3 % larger; the reads measured in BENCHMARKS.md). The page size is
// fixed once a database has its first page: a store created before keeps
// its own.
const newPageSize = 16384

// connectWrite connects the write pool, whose connection sets WAL mode:
// after the page size, which the DSN's pragmas set (the driver runs them in
// lexical order, journal_mode before page_size, and the switch to WAL
// writes the first page). Processes that open a new database at the same
// moment all try that switch, which needs the file to itself, and SQLite
// answers all but one SQLITE_BUSY at once, without the busy timeout
// (waiting for each other could deadlock). The switch is tried again until
// it succeeds: by then the file is in WAL mode, which the switch leaves as
// it is.
func connectWrite(ctx context.Context, write *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		_, err := write.ExecContext(ctx, "PRAGMA journal_mode = WAL")
		if err == nil || resultCode(err)&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Close stops the checkpointer and closes both pools. The last connection
// to close checkpoints what is left of the log into the database file.
func (db *DB) Close() error {
	if db.ckpt != nil {
		db.ckpt.stop()
	}
	errs := []error{db.readStmts.close()}
	// The ingest connection is closed once the write connection is free;
	// should a transaction outlive the wait (an ingest session left open),
	// it stays open until the process exits.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if c, err := db.write.Conn(ctx); err == nil {
		if db.ingest != nil {
			db.ingest.close()
			db.ingest = nil
		}
		errs = append(errs, c.Close())
	}
	cancel()
	if db.read != nil {
		db.direct.close()
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	return errors.Join(errs...)
}

// Ping checks that the database answers on both pools.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return translate(err)
	}
	return translate(db.write.PingContext(ctx))
}

// Backup writes a consistent copy of the database to destPath (which must not
// exist) while the store stays usable: VACUUM INTO reads one snapshot and
// writes a compact, self-contained file.
func (db *DB) Backup(ctx context.Context, destPath string) error {
	if _, err := os.Lstat(destPath); err == nil {
		return costexplorer.Errorf(costexplorer.ErrConflict, "backup destination %s already exists", destPath)
	}
	if dir := filepath.Dir(destPath); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create backup directory: %w", err)
		}
	}
	// Create the file ourselves, exclusively and 0600, so that VACUUM INTO
	// (which accepts an empty file) can neither follow a symlink planted in
	// its place nor leave the credential hashes readable by others.
	f, err := os.OpenFile(destPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return costexplorer.Errorf(costexplorer.ErrConflict, "backup destination %s already exists", destPath)
		}
		return fmt.Errorf("create backup file: %w", err)
	}
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(destPath)
		}
	}()
	// A read connection is query_only, which forbids VACUUM INTO; a fresh
	// connection without it runs the copy outside the write connection, so
	// ingest is not blocked while the copy is made.
	conn, err := sql.Open("sqlite", db.path+fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", destPath); err != nil {
		return fmt.Errorf("backup to %s: %w", destPath, translate(err))
	}
	ok = true
	return nil
}

// writeTx runs fn in an IMMEDIATE transaction on the write connection and
// commits it if fn returns nil.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, db.write, nil, fn)
}

// txErr translates err, reporting the context's error instead of the
// driver's "interrupted" when the context ended.
func txErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		var de *costexplorer.Error
		if !errors.As(err, &de) {
			return ctx.Err()
		}
	}
	return translate(err)
}

// readTx runs fn in a read transaction, which sees one snapshot throughout.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, db.read, &sql.TxOptions{ReadOnly: true}, fn)
}

// inTx runs fn in a transaction of pool and commits it if fn returns nil.
func inTx(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return txErr(ctx, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return txErr(ctx, err)
	}
	return txErr(ctx, tx.Commit())
}

// translate maps driver errors to domain errors: no rows → ErrNotFound,
// unique violations → ErrConflict; context errors and domain errors pass
// through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var de *costexplorer.Error
	if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &costexplorer.Error{Code: costexplorer.ErrNotFound, Detail: "Resource not found.", Err: err}
	}
	switch resultCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return &costexplorer.Error{Code: costexplorer.ErrConflict, Detail: "The resource already exists.", Err: err}
	}
	return err
}

// resultCode is SQLite's (extended) result code in err, from the driver or
// from a direct connection; 0 when err holds none.
func resultCode(err error) int32 {
	if se := (*sqlite.Error)(nil); errors.As(err, &se) {
		return int32(se.Code())
	}
	if de := (*directError)(nil); errors.As(err, &de) {
		return de.code
	}
	return 0
}

// boolInt encodes a flag for an INTEGER column.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
