-- 0005: the daily rollup (DESIGN §5.5), under the same number as
-- internal/postgres's 0005, with the same columns and key.
--
-- The sums of the line items of one organization, day, project, cluster,
-- SKU and tag set, maintained in the transaction of every ingest (through
-- sqlstore.RollupDelta, as the monthly rollup), for the project's own daily
-- queries with tags. month (year*12 + month-1) is the day's, stored so that
-- the key orders cells as the engine loads them: an organization's month,
-- then each (project, cluster, SKU, tag set) series day by day. project_id and
-- cluster_id are 0 for charges without them, tag_set_id 0 for no tags.
-- items counts the line items summed; ingest deletes a cell whose items were
-- all removed (a restatement), as it does a monthly one.
CREATE TABLE daily_rollup (
    org_id     INTEGER NOT NULL,
    month      INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    cluster_id INTEGER NOT NULL,
    sku_id     INTEGER NOT NULL,
    tag_set_id INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    cents      INTEGER NOT NULL,
    quantity   REAL    NOT NULL,
    items      INTEGER NOT NULL,
    PRIMARY KEY (org_id, month, project_id, cluster_id, sku_id, tag_set_id, day)
) WITHOUT ROWID;

-- The cells of the line items stored so far (an item's invoice holds its
-- month).
INSERT INTO daily_rollup (org_id, month, project_id, cluster_id, sku_id, tag_set_id, day, cents, quantity, items)
SELECT li.org_id, i.month, li.project_id, li.cluster_id, li.sku_id, COALESCE(li.tag_set_id, 0), li.day,
       SUM(li.cents), SUM(li.quantity), COUNT(*)
FROM line_items li
JOIN invoices i ON i.id = li.invoice_id
GROUP BY li.org_id, i.month, li.project_id, li.cluster_id, li.sku_id, COALESCE(li.tag_set_id, 0), li.day;
