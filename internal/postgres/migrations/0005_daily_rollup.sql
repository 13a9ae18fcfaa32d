-- 0005: the daily rollup (DESIGN §5.5), under the same number as
-- internal/sqlite's 0005, with the same columns and key (see there).
CREATE TABLE daily_rollup (
    org_id     INTEGER          NOT NULL,
    month      INTEGER          NOT NULL,
    project_id INTEGER          NOT NULL,
    cluster_id INTEGER          NOT NULL,
    sku_id     INTEGER          NOT NULL,
    tag_set_id INTEGER          NOT NULL,
    day        INTEGER          NOT NULL,
    cents      BIGINT           NOT NULL,
    quantity   DOUBLE PRECISION NOT NULL,
    items      BIGINT           NOT NULL,
    PRIMARY KEY (org_id, month, project_id, cluster_id, sku_id, tag_set_id, day)
);

INSERT INTO daily_rollup (org_id, month, project_id, cluster_id, sku_id, tag_set_id, day, cents, quantity, items)
SELECT li.org_id, i.month, li.project_id, li.cluster_id, li.sku_id, COALESCE(li.tag_set_id, 0), li.day,
       SUM(li.cents), SUM(li.quantity), COUNT(*)
FROM line_items li
JOIN invoices i ON i.id = li.invoice_id
GROUP BY li.org_id, i.month, li.project_id, li.cluster_id, li.sku_id, COALESCE(li.tag_set_id, 0), li.day;
