package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"strings"
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
	keys      map[string]map[string]int // dimension table → id → key, after BuildLayouts
	stmts     map[string]*sql.Stmt      // prepared queries, by their text
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
	// DuckDB's default memory limit is 80 % of the machine's memory; at
	// 100 M items its sorts reached it, and with the driver and the server
	// beside it the kernel's OOM killer stopped the run. Half the memory
	// leaves room for them (DuckDB spills what is beyond to disk).
	if mib := memTotalMiB(); mib > 0 {
		if _, err := d.db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dMiB'", mib/2)); err != nil {
			d.Close()
			return nil, fmt.Errorf("duckdb memory limit: %w", err)
		}
	}
	if _, err := d.db.ExecContext(ctx, duckSchema); err != nil {
		d.Close()
		return nil, fmt.Errorf("duckdb schema: %w", err)
	}
	return d, nil
}

// Append adds the line items of b with DuckDB's appender (its bulk-load
// path).
func (d *Duck) Append(b *costexplorer.UsageBatch) error {
	if err := d.appendTo("line_items"); err != nil {
		return err
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

// appendTo opens the appender on table unless one is open.
func (d *Duck) appendTo(table string) error {
	if d.app != nil {
		return nil
	}
	conn, err := d.connector.Connect(context.Background())
	if err != nil {
		return err
	}
	app, err := duckdb.NewAppenderFromConn(conn, "", table)
	if err != nil {
		conn.Close()
		return err
	}
	d.conn, d.app = conn, app
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

// BuildLayouts makes, from line_items as appended, the other tables the
// query forms read (DuckForms):
//
//   - items_by_day: the same columns ordered as a billing feed arrives, day
//     by day (and within a day by organization, project, cluster, service),
//     so that row groups hold a few consecutive days and DuckDB's zone maps
//     skip the months a query does not ask for;
//   - items_keyed: the same order with integer dimension keys in the text
//     ids' place (org_k, project_k, cluster_k, service_k), and the
//     dimension tables orgs, projects, clusters, services (k, id) that map
//     them back;
//   - items_keyed_loaded: the keyed columns in line_items' order (the
//     generator's: organization by organization, resource by resource);
//   - rollup_keyed: the rollup table (BuildRollup must have run) with the
//     same keys, in its order.
//
// It returns the time each took (CREATE TABLE … AS with its sort; keyed
// counts both keyed tables and the dimension tables).
func (d *Duck) BuildLayouts(ctx context.Context) (byDay, keyed time.Duration, err error) {
	start := time.Now()
	if _, err := d.db.ExecContext(ctx, `CREATE OR REPLACE TABLE items_by_day AS
		SELECT * FROM line_items ORDER BY usage_date, org, project, cluster, service`); err != nil {
		return 0, 0, fmt.Errorf("duckdb items_by_day: %w", err)
	}
	byDay = time.Since(start)
	start = time.Now()
	_, err = d.db.ExecContext(ctx, `
		CREATE OR REPLACE TABLE orgs AS SELECT (row_number() OVER (ORDER BY id))::INTEGER AS k, id FROM (SELECT DISTINCT org AS id FROM line_items);
		CREATE OR REPLACE TABLE projects AS SELECT (row_number() OVER (ORDER BY id))::INTEGER AS k, id FROM (SELECT DISTINCT project AS id FROM line_items WHERE project IS NOT NULL);
		CREATE OR REPLACE TABLE clusters AS SELECT (row_number() OVER (ORDER BY id))::INTEGER AS k, id FROM (SELECT DISTINCT cluster AS id FROM line_items WHERE cluster IS NOT NULL);
		CREATE OR REPLACE TABLE services AS SELECT (row_number() OVER (ORDER BY id))::INTEGER AS k, id FROM (SELECT DISTINCT service AS id FROM line_items);
		CREATE OR REPLACE TABLE items_keyed_loaded AS
		SELECT i.id, o.k AS org_k, p.k AS project_k, c.k AS cluster_k, s.k AS service_k, i.sku, i.usage_date,
		       i.quantity, i.unit, i.unit_price_nanos, i.cents
		`+keyedFrom("line_items", "i")+`;
		CREATE OR REPLACE TABLE items_keyed AS
		SELECT * FROM items_keyed_loaded ORDER BY usage_date, org_k, project_k, cluster_k, service_k;
		CREATE OR REPLACE TABLE rollup_keyed AS
		SELECT r.month, o.k AS org_k, p.k AS project_k, c.k AS cluster_k, s.k AS service_k, r.cents
		`+keyedFrom("rollup", "r")+`;
		CHECKPOINT`)
	if err != nil {
		return 0, 0, fmt.Errorf("duckdb items_keyed: %w", err)
	}
	keyed = time.Since(start)
	if err := d.loadKeys(ctx); err != nil {
		return 0, 0, err
	}
	return byDay, keyed, nil
}

// loadKeys reads the dimension tables into memory, for the forms that send
// keys instead of ids (as an application that caches its dimensions would).
func (d *Duck) loadKeys(ctx context.Context) error {
	d.keys = map[string]map[string]int{}
	for _, t := range []string{"orgs", "projects", "clusters", "services"} {
		m := map[string]int{}
		rows, err := d.db.QueryContext(ctx, "SELECT k, id FROM "+t)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k int
			var id string
			if err := rows.Scan(&k, &id); err != nil {
				rows.Close()
				return err
			}
			m[id] = k
		}
		if err := rows.Close(); err != nil {
			return err
		}
		d.keys[t] = m
	}
	return nil
}

// Threads returns DuckDB's threads setting.
func (d *Duck) Threads(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, "SELECT current_setting('threads')::INTEGER").Scan(&n)
	return n, err
}

// Version returns DuckDB's version.
func (d *Duck) Version(ctx context.Context) (string, error) {
	var v string
	err := d.db.QueryRowContext(ctx, "SELECT version()").Scan(&v)
	return v, err
}

// SetThreads sets DuckDB's threads (for the whole database).
func (d *Duck) SetThreads(ctx context.Context, n int) error {
	_, err := d.db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", n))
	return err
}

// TableBytes estimates a table's size from its storage blocks.
func (d *Duck) TableBytes(ctx context.Context, table string) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT block_id) FROM pragma_storage_info(?) WHERE block_id >= 0`, table).Scan(&n)
	if err != nil {
		return 0, err
	}
	var block int64
	if err := d.db.QueryRowContext(ctx, "SELECT block_size FROM pragma_database_size()").Scan(&block); err != nil {
		return 0, err
	}
	return n * block, nil
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

// Run executes query once and reads every row. The query is prepared on its
// first run and the plan kept, as an application repeating a query would
// (it saves DuckDB's parsing and planning: 0.2–1.3 ms a query at 1 M items).
// Not for concurrent use.
func (d *Duck) Run(ctx context.Context, query string) (Answer, error) {
	stmt := d.stmts[query]
	if stmt == nil {
		var err error
		if stmt, err = d.db.PrepareContext(ctx, query); err != nil {
			return Answer{}, err
		}
		if d.stmts == nil {
			d.stmts = map[string]*sql.Stmt{}
		}
		d.stmts[query] = stmt
	}
	rows, err := stmt.QueryContext(ctx)
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
	for _, s := range d.stmts {
		s.Close()
	}
	if d.app != nil {
		d.app.Close()
		d.conn.Close()
	}
	d.db.Close()
	return d.connector.Close()
}

// memTotalMiB returns the machine's memory from /proc/meminfo (0 where it
// cannot be read).
func memTotalMiB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kib int64
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kib)
		}
	}
	return kib / 1024
}

// keyedFrom is the FROM clause that gives the rows of table (as alias) the
// integer keys of their organization (o.k), project (p.k), cluster (c.k)
// and service (s.k), in the table's order.
func keyedFrom(table, alias string) string {
	return fmt.Sprintf(`FROM %[1]s %[2]s
		JOIN orgs o ON o.id = %[2]s.org
		LEFT JOIN projects p ON p.id = %[2]s.project
		LEFT JOIN clusters c ON c.id = %[2]s.cluster
		JOIN services s ON s.id = %[2]s.service
		ORDER BY %[2]s.rowid`, table, alias)
}
