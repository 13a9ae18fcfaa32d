-- 0007: the daily rollup table goes, under the same number as
-- internal/postgres's 0007. A daily cell (an organization, day, project,
-- cluster, SKU and tag set) is almost always one line item (20.1 M cells
-- for 20.1 M items in the demo at 20 M), so the table doubled what ingest
-- wrote and what the store held: about 37 of 93 bytes an item. The engine's
-- daily build now sums the cells from line_items, read in its key order
-- (sqlstore.Store.ScanDailyRollup).
DROP TABLE daily_rollup;
