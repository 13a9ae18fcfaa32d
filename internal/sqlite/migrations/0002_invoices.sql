-- 0002: invoices (DESIGN §5.1), under the same number as internal/postgres's
-- 0002, with the same tables, columns and keys.
--
-- One invoice per organization and month. Its 24-hex id (ext_id) is the
-- file's Invoice Number when an import gives one, else derived from the
-- organization and month as the cost explorer's invoiceId is
-- (costexplorer.InvoiceID); it is NULL only for the invoices this migration
-- creates from the line items already stored, until the open that applied it
-- derives their ids (the derivation is a hash, done in Go). status is a
-- recorded status ('' = derived from the dates, amounts and payments when
-- read); issued_at NULL = the default issue date. The amounts are the sums of
-- the line items, kept in the transaction of every ingest: charges the sum of
-- the positive items, credits minus the sum of the negative ones. updated_at
-- moves whenever the invoice, its items or its payments change; sync reads
-- it. Times are unix microseconds, UTC.
CREATE TABLE invoices (
    id                     INTEGER PRIMARY KEY,
    ext_id                 TEXT    UNIQUE,
    org_id                 INTEGER NOT NULL REFERENCES organizations (id),
    month                  INTEGER NOT NULL,
    status                 TEXT    NOT NULL DEFAULT '',
    issued_at              INTEGER,
    charges_cents          INTEGER NOT NULL DEFAULT 0,
    credits_cents          INTEGER NOT NULL DEFAULT 0,
    sales_tax_cents        INTEGER NOT NULL DEFAULT 0,
    starting_balance_cents INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    UNIQUE (org_id, month)
);
CREATE INDEX invoices_updated ON invoices (updated_at);

-- Payments and refunds as the source recorded them, in its order (seq).
CREATE TABLE invoice_payments (
    invoice_id          INTEGER NOT NULL REFERENCES invoices (id),
    seq                 INTEGER NOT NULL,
    ext_id              TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    currency            TEXT    NOT NULL,
    unit_price          TEXT    NOT NULL,
    subtotal_cents      INTEGER NOT NULL,
    sales_tax_cents     INTEGER NOT NULL,
    amount_billed_cents INTEGER NOT NULL,
    amount_paid_cents   INTEGER NOT NULL,
    created_at          INTEGER,
    updated_at          INTEGER,
    PRIMARY KEY (invoice_id, seq)
);

CREATE TABLE invoice_refunds (
    invoice_id     INTEGER NOT NULL REFERENCES invoices (id),
    seq            INTEGER NOT NULL,
    payment_ext_id TEXT    NOT NULL,
    amount_cents   INTEGER NOT NULL,
    created_at     INTEGER,
    reason         TEXT    NOT NULL,
    PRIMARY KEY (invoice_id, seq)
);

-- Dictionaries of what many line items share, so that an item holds a small
-- integer instead of text: tag sets keyed by their canonical encoding (the
-- JSON object costexplorer.Tags writes: keys sorted, each key's values in
-- order), and the descriptive fields of an invoice line (description, note,
-- region, replica set, config server, application) joined by U+001F. Rows are
-- never changed nor deleted. invoice_tag_sets and invoice_details list the
-- rows each invoice's items use, so that an invoice's tag columns are known,
-- and its items decoded, without reading its items twice.
CREATE TABLE tag_sets (
    id  INTEGER PRIMARY KEY,
    enc TEXT    NOT NULL UNIQUE
);

CREATE TABLE item_details (
    id  INTEGER PRIMARY KEY,
    enc TEXT    NOT NULL UNIQUE
);

CREATE TABLE invoice_tag_sets (
    invoice_id INTEGER NOT NULL,
    tag_set_id INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, tag_set_id)
) WITHOUT ROWID;

CREATE TABLE invoice_details (
    invoice_id INTEGER NOT NULL,
    detail_id  INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, detail_id)
) WITHOUT ROWID;

-- The invoices of the line items stored so far.
INSERT INTO invoices (org_id, month, charges_cents, credits_cents, created_at, updated_at)
SELECT org_id, month,
       SUM(CASE WHEN cents > 0 THEN cents ELSE 0 END), SUM(CASE WHEN cents < 0 THEN -cents ELSE 0 END),
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000, CAST(strftime('%s', 'now') AS INTEGER) * 1000000
FROM (SELECT org_id, cents,
             CAST(strftime('%Y', day * 86400, 'unixepoch') AS INTEGER) * 12
           + CAST(strftime('%m', day * 86400, 'unixepoch') AS INTEGER) - 1 AS month
      FROM line_items)
GROUP BY org_id, month;

-- Line items gain their invoice, right after the organization in the key, so
-- that one invoice's items are one range of the b-tree (an invoice streams,
-- and is searched, without reading the organization's other months); within
-- it they stay clustered by resource and day (see 0001). The invoice is fixed
-- by the organization and the usage day, so the key still names one id.
-- The columns after cents are what an invoice shows of an item; NULL when the
-- item has none (the usage day as bill day, no details, no tags, no
-- discount), which costs one header byte a column and no body here (and
-- a null bitmap in PostgreSQL): about 8 bytes an item in all.
CREATE TABLE line_items_0002 (
    org_id           INTEGER NOT NULL,
    invoice_id       INTEGER NOT NULL,
    project_id       INTEGER NOT NULL, -- 0: none
    cluster_id       INTEGER NOT NULL, -- 0: none
    sku_id           INTEGER NOT NULL,
    day              INTEGER NOT NULL,
    id               BLOB    NOT NULL,
    quantity         REAL    NOT NULL,
    unit_price_nanos INTEGER NOT NULL,
    cents            INTEGER NOT NULL,
    bill_day         INTEGER,          -- NULL: the usage day
    detail_id        INTEGER,          -- item_details; NULL: none
    tag_set_id       INTEGER,          -- tag_sets; NULL: no tags
    discount_percent REAL,
    discount_cents   INTEGER,
    PRIMARY KEY (org_id, invoice_id, project_id, cluster_id, day, id)
) WITHOUT ROWID;

INSERT INTO line_items_0002 (org_id, invoice_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents)
SELECT li.org_id, i.id, li.project_id, li.cluster_id, li.sku_id, li.day, li.id, li.quantity, li.unit_price_nanos, li.cents
FROM line_items li
JOIN invoices i ON i.org_id = li.org_id
 AND i.month = CAST(strftime('%Y', li.day * 86400, 'unixepoch') AS INTEGER) * 12
             + CAST(strftime('%m', li.day * 86400, 'unixepoch') AS INTEGER) - 1;

DROP TABLE line_items;
ALTER TABLE line_items_0002 RENAME TO line_items;
