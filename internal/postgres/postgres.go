package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/sqlstore"
)

// Options configure a DB.
type Options struct {
	// Now returns the current time; default time.Now. It stamps created_at
	// columns when the caller left them zero.
	Now func() time.Time
	// MaxConns bounds the connection pool; 0 keeps the DSN's pool_max_conns
	// or pgxpool's default (the greater of 4 and the number of CPUs).
	MaxConns int32
}

// DB is the PostgreSQL store. It implements [costexplorer.Store] and
// [costexplorer.Verifier]. It is safe for concurrent use, and any number of
// DBs in any number of processes may share one database.
type DB struct {
	// Store holds the rules and queries both dialects share; the methods
	// of this package add what PostgreSQL does differently.
	*sqlstore.Store

	pool *pgxpool.Pool
}

var (
	_ costexplorer.Store    = (*DB)(nil)
	_ costexplorer.Verifier = (*DB)(nil)
)

const (
	// connectTimeout bounds one connection attempt when the DSN sets none, so
	// that an unreachable database is reported instead of waited for.
	connectTimeout = 5 * time.Second
	// acquireTimeout bounds the wait for a pooled connection. Past it the
	// caller gets ErrUnavailable (503) rather than hanging behind a database
	// that stopped answering.
	acquireTimeout = 10 * time.Second
	// pingTimeout bounds the liveness check of a connection taken from the
	// pool after being idle.
	pingTimeout = 5 * time.Second
)

// migrationFS holds the numbered migrations, numbered as internal/sqlite's.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock keys (the first of pg_advisory_xact_lock's two int4 keys; the
// second is a hash of the schema, so stores in different schemas of one
// database do not wait for each other).
const (
	lockMigrate = 0x636f7301 // "cos\x01"
	lockIngest  = 0x636f7302
)

// clientCheck is the setting by which the server checks, while a statement
// runs, that its client is still connected.
const clientCheck = "client_connection_check_interval"

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as pgx accepts) and applies pending migrations. Open
// fails if the database cannot be reached.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if cfg.PingTimeout == 0 {
		cfg.PingTimeout = pingTimeout
	}
	// Aggressive TCP keepalive: a connection whose peer vanished (network
	// down, host gone) fails within about 11 s instead of the kernel's two
	// hours, so a query waiting on it errors out rather than hanging.
	dialer := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}}
	cfg.ConnConfig.DialFunc = dialer.DialContext
	// And the other way: the server checks every second, while a statement
	// runs or waits for a lock, that this client is still there
	// (PostgreSQL 14 and later; a DSN may set its own interval). Without
	// it, the statement of a process killed mid-way (an import at its
	// commit, say) runs to its end before the server sees the closed
	// socket, and its transaction holds its locks, the ingest lock among
	// them, until then.
	if _, set := cfg.ConnConfig.RuntimeParams[clientCheck]; !set {
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "SELECT set_config('"+clientCheck+"', '1s', false) WHERE current_setting('server_version_num')::int >= 140000")
			return err
		}
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool}
	db.Store = sqlstore.New(dialect, runner{db}, opts.Now)
	if err := db.Init(ctx, migrationFS); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool, waiting for connections in use to be released.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	return runner{db}.Read(ctx, func(q sqlstore.Querier) error {
		var one int
		return q.QueryRow(ctx, "SELECT 1").Scan(&one)
	})
}

// acquire takes a connection from the pool. A wait longer than
// acquireTimeout is ErrUnavailable; the caller's own cancellation passes
// through.
func (db *DB) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, acquireTimeout)
	defer cancel()
	c, err := db.pool.Acquire(actx)
	if err == nil {
		return c, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if actx.Err() != nil {
		return nil, unavailable(fmt.Errorf("no database connection within %s: %w", acquireTimeout, err))
	}
	return nil, translate(ctx, err)
}

// tx runs fn in a transaction and commits it if fn returns nil. A
// transaction that could not begin because its connection had died (nothing
// was sent) is retried once on another connection: the pool replaces dead
// connections, so the first call after a database restart still succeeds.
func (db *DB) tx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		c, err := db.acquire(ctx)
		if err != nil {
			return err
		}
		tx, err := c.BeginTx(ctx, opts)
		if err != nil {
			c.Release()
			if attempt == 0 && pgconn.SafeToRetry(err) && ctx.Err() == nil {
				continue
			}
			return translate(ctx, err)
		}
		err = fn(tx)
		if err == nil {
			err = tx.Commit(ctx)
		} else {
			// Bounded: a rollback on a connection to a vanished server must
			// not hang the caller.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pingTimeout)
			_ = tx.Rollback(rctx)
			cancel()
		}
		c.Release()
		return translate(ctx, err)
	}
}

// readTx runs fn in a read-only REPEATABLE READ transaction, which sees one
// snapshot throughout.
func (db *DB) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.tx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// unavailable wraps cause as ErrUnavailable.
func unavailable(cause error) error {
	return &costexplorer.Error{Code: costexplorer.ErrUnavailable, Detail: "The database is unavailable; retry later.", Err: cause}
}

// translate maps driver errors to domain errors: no rows → ErrNotFound,
// unique violations → ErrConflict, an unreachable or restarting database →
// ErrUnavailable. Domain errors and the caller's context errors pass through
// unchanged.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var de *costexplorer.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		// A deadline that is not the caller's: a connect or ping timeout.
		return unavailable(err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &costexplorer.Error{Code: costexplorer.ErrNotFound, Detail: "Resource not found.", Err: err}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return &costexplorer.Error{Code: costexplorer.ErrConflict, Detail: "The resource already exists.", Err: err}
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", // admin_shutdown
			pe.Code == "57P02", // crash_shutdown
			pe.Code == "57P03", // cannot_connect_now: starting up, shutting down, in recovery
			pe.Code == "53300": // too_many_connections
			return unavailable(err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return unavailable(err)
	}
	return err
}
