package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/costexplorer/costexplorer"
)

// Duck is a DuckDB database holding the line items and a monthly rollup table
// built from them, with the schema a user loading billing CSVs would choose:
// 24-hex text ids, NULL for an absent project or cluster, a DATE per item,
// integer cents.
type Duck struct {
	Path string

	connector *duckdb.Connector
	db        *sql.DB
	conn      driver.Conn
	app       *duckdb.Appender
	items     int64
}

const duckSchema = `
CREATE TABLE line_items (
    id               BLOB    NOT NULL,
    org              VARCHAR NOT NULL,
    project          VARCHAR,
    cluster          VARCHAR,
    service          VARCHAR NOT NULL,
    sku              VARCHAR NOT NULL,
    usage_date       DATE    NOT NULL,
    quantity         DOUBLE  NOT NULL,
    unit             VARCHAR NOT NULL,
    unit_price_nanos BIGINT  NOT NULL,
    cents            BIGINT  NOT NULL
);
CREATE TABLE rollup (
    month   DATE    NOT NULL,
    org     VARCHAR NOT NULL,
    project VARCHAR,
    cluster VARCHAR,
    service VARCHAR NOT NULL,
    cents   BIGINT  NOT NULL
);`

// OpenDuck creates a DuckDB database file at path (replacing any) with
// empty tables, ready for Append. DuckDB uses every core (2 here), as our
// engine may.
func OpenDuck(ctx context.Context, path string) (*Duck, error) {
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	c, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w", err)
	}
	d := &Duck{Path: path, connector: c, db: sql.OpenDB(c)}
	d.db.SetMaxOpenConns(1)
	if _, err := d.db.ExecContext(ctx, duckSchema); err != nil {
		d.Close()
		return nil, fmt.Errorf("duckdb schema: %w", err)
	}
	return d, nil
}

// Append adds the line items of b with DuckDB's appender (its bulk-load
// path).
func (d *Duck) Append(b *costexplorer.UsageBatch) error {
	if d.app == nil {
		conn, err := d.connector.Connect(context.Background())
		if err != nil {
			return err
		}
		app, err := duckdb.NewAppenderFromConn(conn, "", "line_items")
		if err != nil {
			conn.Close()
			return err
		}
		d.conn, d.app = conn, app
	}
	for i := range b.Items {
		it := &b.Items[i]
		var proj, clus any
		if it.ProjectID != "" {
			proj = it.ProjectID
		}
		if it.ClusterID != "" {
			clus = it.ClusterID
		}
		if err := d.app.AppendRow(it.ID[:], it.OrgID, proj, clus, string(it.Service), it.SKU, it.Date.Time(),
			it.Quantity, it.Unit, it.UnitPriceNanos, int64(it.Amount)); err != nil {
			return fmt.Errorf("duckdb append: %w", err)
		}
	}
	d.items += int64(len(b.Items))
	return nil
}

// FinishLoad flushes the appender and checkpoints the database file.
func (d *Duck) FinishLoad(ctx context.Context) error {
	if d.app != nil {
		err := d.app.Close()
		d.conn.Close()
		d.app, d.conn = nil, nil
		if err != nil {
			return fmt.Errorf("duckdb appender: %w", err)
		}
	}
	_, err := d.db.ExecContext(ctx, "CHECKPOINT")
	return err
}

// BuildRollup fills the rollup table from the line items, sorted by month and
// organization (which lets DuckDB's zone maps skip row groups).
func (d *Duck) BuildRollup(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	_, err := d.db.ExecContext(ctx, `INSERT INTO rollup
		SELECT date_trunc('month', usage_date)::DATE, org, project, cluster, service, SUM(cents)::BIGINT
		FROM line_items GROUP BY ALL ORDER BY 1, 2, 3, 4, 5`)
	if err != nil {
		return 0, fmt.Errorf("duckdb rollup: %w", err)
	}
	took := time.Since(start)
	_, err = d.db.ExecContext(ctx, "CHECKPOINT")
	return took, err
}

// LoadRollup fills the rollup table from rows computed elsewhere (the
// testing.B benchmarks do not load line items at all).
func (d *Duck) LoadRollup(ctx context.Context, rows []costexplorer.RollupRow) error {
	conn, err := d.connector.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	app, err := duckdb.NewAppenderFromConn(conn, "", "rollup")
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		var proj, clus any
		if r.ProjectID != "" {
			proj = r.ProjectID
		}
		if r.ClusterID != "" {
			clus = r.ClusterID
		}
		if err := app.AppendRow(r.Month.Start(), r.OrgID, proj, clus, string(r.Service), int64(r.Amount)); err != nil {
			app.Close()
			return err
		}
	}
	return app.Close()
}

// Count returns the rows of a table.
func (d *Duck) Count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n)
	return n, err
}

// Bytes returns the size of the database file.
func (d *Duck) Bytes() (int64, error) {
	fi, err := os.Stat(d.Path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Answer is what a query returned, to check that two engines agree.
type Answer struct {
	Rows  int
	Total costexplorer.Cents
}

// Run executes query once and reads every row.
func (d *Duck) Run(ctx context.Context, query string) (Answer, error) {
	rows, err := d.db.QueryContext(ctx, query)
	if err != nil {
		return Answer{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return Answer{}, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var a Answer
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return Answer{}, err
		}
		a.Rows++
		a.Total += costexplorer.Cents(vals[len(vals)-1].(int64))
	}
	return a, rows.Err()
}

// Close closes the database.
func (d *Duck) Close() error {
	if d.app != nil {
		d.app.Close()
		d.conn.Close()
	}
	d.db.Close()
	return d.connector.Close()
}
