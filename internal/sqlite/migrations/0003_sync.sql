-- 0003: what a sync keeps (DESIGN §5.3), under the same number as
-- internal/postgres's 0003, with the same tables, columns and keys.
--
-- sync_marks: one row per source and invoice, written in the transaction of
-- the line items it describes (costexplorer.SyncMark): the invoice's updated
-- time at the source, the number of items it listed, when it was synced.
-- invoice_id is the invoice's 24-hex id, not a key of invoices: an invoice
-- without items may be synced before it exists here.
CREATE TABLE sync_marks (
    source         TEXT    NOT NULL,
    invoice_id     TEXT    NOT NULL,
    source_updated INTEGER,          -- unix microseconds; NULL: unknown
    items          INTEGER NOT NULL,
    synced_at      INTEGER NOT NULL,
    PRIMARY KEY (source, invoice_id)
) WITHOUT ROWID;

-- leases: named leases that let one replica at a time do a job (the
-- scheduled sync). A lease whose expires_at has passed is free to take.
CREATE TABLE leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL      -- unix microseconds
) WITHOUT ROWID;
