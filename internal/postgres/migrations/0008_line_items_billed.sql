-- 0008: the line items billed on another day than their usage day, in the
-- order of their bill day; see internal/sqlite's 0008 (the same rows).
--
-- PostgreSQL reads the two sides of the bill-day order (items billed on
-- their usage day in the key's order, these in this index's) each up to the
-- end of the page and sorts only those; it does not merge the two sides of
-- a UNION ALL of one table in index order as SQLite does.
CREATE INDEX line_items_billed ON line_items
    (org_id, invoice_id, project_id, cluster_id, bill_day, day, id)
    WHERE bill_day <> day;
