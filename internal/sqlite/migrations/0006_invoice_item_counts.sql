-- 0006: the item counts of invoices, under the same number as
-- internal/postgres's 0006, with the same table and key.
--
-- One row per invoice, project, cluster (0: none) and SKU: how many line
-- items it holds, how many of them have a non-zero amount, and their sum,
-- kept in the transaction of every ingest as the rollup is (items removed
-- count negatively). lineItems:search counts its matches here when it
-- filters by project, cluster or service only (a count of a million items
-- read from their rows costs hundreds of milliseconds; here a few rows), and
-- an invoice's summary by service and project reads it instead of the items.
CREATE TABLE invoice_item_counts (
    invoice_id    INTEGER NOT NULL,
    project_id    INTEGER NOT NULL, -- 0: none
    cluster_id    INTEGER NOT NULL, -- 0: none
    sku_id        INTEGER NOT NULL,
    items         INTEGER NOT NULL,
    nonzero_items INTEGER NOT NULL,
    cents         INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, project_id, cluster_id, sku_id)
) WITHOUT ROWID;

INSERT INTO invoice_item_counts (invoice_id, project_id, cluster_id, sku_id, items, nonzero_items, cents)
SELECT invoice_id, project_id, cluster_id, sku_id, COUNT(*), SUM(CASE WHEN cents <> 0 THEN 1 ELSE 0 END), SUM(cents)
FROM line_items
GROUP BY invoice_id, project_id, cluster_id, sku_id;
