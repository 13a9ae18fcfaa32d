-- 0007: the daily rollup table goes, under the same number as
-- internal/sqlite's 0007 (see there): the engine's daily build sums the
-- cells from line_items.
DROP TABLE daily_rollup;
