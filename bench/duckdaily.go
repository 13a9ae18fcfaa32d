package bench

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/costexplorer/costexplorer"
	"github.com/duckdb/duckdb-go/v2"
)

// The daily anchor of issue 17: DuckDB over a table of daily cells, the
// tags the queries read as columns (values of one key joined by ";", as the
// engine's groups are).
const duckDailySchema = `
CREATE TABLE daily (
    org         VARCHAR NOT NULL,
    project     VARCHAR,
    cluster     VARCHAR,
    service     VARCHAR NOT NULL,
    sku         VARCHAR NOT NULL,
    day         DATE    NOT NULL,
    team        VARCHAR,
    environment VARCHAR,
    cost_center VARCHAR,
    quantity    DOUBLE  NOT NULL,
    cents       BIGINT  NOT NULL
)`

// AppendDaily adds the line items of b as daily cells (the demo generator
// makes one item a resource, SKU and day, so an item is a cell).
func (d *Duck) AppendDaily(b *costexplorer.UsageBatch) error {
	if d.app == nil {
		if _, err := d.db.Exec(duckDailySchema); err != nil {
			return fmt.Errorf("duckdb daily schema: %w", err)
		}
		if err := d.appendTo("daily"); err != nil {
			return err
		}
	}
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	tag := func(t costexplorer.Tags, k string) any {
		vs := t.Values(k)
		if len(vs) == 0 {
			return nil
		}
		s := vs[0]
		for _, v := range vs[1:] {
			s += costexplorer.TagValueSeparator + v
		}
		return s
	}
	for i := range b.Items {
		it := &b.Items[i]
		if err := d.app.AppendRow(it.OrgID, orNull(it.ProjectID), orNull(it.ClusterID), string(it.Service), it.SKU, it.Date.Time(),
			tag(it.Tags, "team"), tag(it.Tags, "environment"), tag(it.Tags, "cost-center"), it.Quantity, int64(it.Amount)); err != nil {
			return fmt.Errorf("duckdb append: %w", err)
		}
	}
	d.items += int64(len(b.Items))
	return nil
}

// FinishDaily flushes the appender and sorts the table by organization and
// day, so that DuckDB's zone maps skip the row groups outside a query's
// organization and window, then checkpoints.
func (d *Duck) FinishDaily(ctx context.Context) error {
	if err := d.FinishLoad(ctx); err != nil {
		return err
	}
	_, err := d.db.ExecContext(ctx, `CREATE OR REPLACE TABLE daily AS SELECT * FROM daily ORDER BY org, day, cluster; CHECKPOINT`)
	return err
}

// OpenDuckFile opens an existing DuckDB file (a run kept with its tables).
func OpenDuckFile(ctx context.Context, path string) (*Duck, error) {
	c, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w", err)
	}
	d := &Duck{Path: path, connector: c, db: sql.OpenDB(c)}
	d.db.SetMaxOpenConns(1)
	return d, d.db.PingContext(ctx)
}
