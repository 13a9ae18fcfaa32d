-- 0008: the line items billed on another day than their usage day, in the
-- order of their bill day, under the same number as internal/postgres's 0008.
--
-- lineItems:search sorts by bill day by default (COALESCE(bill_day, day),
-- then day, then id). An item billed on its usage day (bill_day NULL or
-- equal to day) is already in that order in the key of line_items, within a
-- cluster; only the others — few, late charges — need an order of their
-- own, so this index is partial and costs an ingest nothing for the rest.
-- The search reads the two in one merge (UNION ALL with ORDER BY, each side
-- in index order, no sort): this side's sort key places an item of bill day
-- B and usage day d between B - 0.5 and B + 0.5, before the items of usage
-- day B when d < B and after them when d > B, ordered by d (|d - B| is below
-- 3,000,000 days, so the fraction stays below 0.3 and apart from every
-- integer; a double resolves 1e-7 at these magnitudes). The expression must
-- stay as the search writes it (sqlstore's billOrderKey).
CREATE INDEX line_items_billed ON line_items
    (org_id, invoice_id, project_id, cluster_id, (bill_day + (day - bill_day) * 1e-7), id)
    WHERE bill_day <> day;
