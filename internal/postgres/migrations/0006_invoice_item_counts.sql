-- 0006: the item counts of invoices; see internal/sqlite's 0006 (the same
-- table and key).
CREATE TABLE invoice_item_counts (
    invoice_id    INTEGER NOT NULL,
    project_id    INTEGER NOT NULL, -- 0: none
    cluster_id    INTEGER NOT NULL, -- 0: none
    sku_id        INTEGER NOT NULL,
    items         BIGINT  NOT NULL,
    nonzero_items BIGINT  NOT NULL,
    cents         BIGINT  NOT NULL,
    PRIMARY KEY (invoice_id, project_id, cluster_id, sku_id)
);

INSERT INTO invoice_item_counts (invoice_id, project_id, cluster_id, sku_id, items, nonzero_items, cents)
SELECT invoice_id, project_id, cluster_id, sku_id, COUNT(*), SUM(CASE WHEN cents <> 0 THEN 1 ELSE 0 END), SUM(cents)
FROM line_items
GROUP BY invoice_id, project_id, cluster_id, sku_id;
