-- 0002: invoices (DESIGN §5.1), under the same number as internal/sqlite's
-- 0002 and with the same tables, columns and keys; the comments there say
-- what each holds. Types as in 0001: INTEGER identities, BIGINT cents and
-- unix microseconds, "C" collation for ids.
CREATE TABLE invoices (
    id                     INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ext_id                 TEXT COLLATE "C" UNIQUE,
    org_id                 INTEGER NOT NULL REFERENCES organizations (id),
    month                  INTEGER NOT NULL,
    status                 TEXT    NOT NULL DEFAULT '',
    issued_at              BIGINT,
    charges_cents          BIGINT  NOT NULL DEFAULT 0,
    credits_cents          BIGINT  NOT NULL DEFAULT 0,
    sales_tax_cents        BIGINT  NOT NULL DEFAULT 0,
    starting_balance_cents BIGINT  NOT NULL DEFAULT 0,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL,
    UNIQUE (org_id, month)
);
CREATE INDEX invoices_updated ON invoices (updated_at);

CREATE TABLE invoice_payments (
    invoice_id          INTEGER NOT NULL REFERENCES invoices (id),
    seq                 INTEGER NOT NULL,
    ext_id              TEXT COLLATE "C" NOT NULL,
    status              TEXT    NOT NULL,
    currency            TEXT    NOT NULL,
    unit_price          TEXT    NOT NULL,
    subtotal_cents      BIGINT  NOT NULL,
    sales_tax_cents     BIGINT  NOT NULL,
    amount_billed_cents BIGINT  NOT NULL,
    amount_paid_cents   BIGINT  NOT NULL,
    created_at          BIGINT,
    updated_at          BIGINT,
    PRIMARY KEY (invoice_id, seq)
);

CREATE TABLE invoice_refunds (
    invoice_id     INTEGER NOT NULL REFERENCES invoices (id),
    seq            INTEGER NOT NULL,
    payment_ext_id TEXT COLLATE "C" NOT NULL,
    amount_cents   BIGINT  NOT NULL,
    created_at     BIGINT,
    reason         TEXT    NOT NULL,
    PRIMARY KEY (invoice_id, seq)
);

CREATE TABLE tag_sets (
    id  INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enc TEXT COLLATE "C" NOT NULL UNIQUE
);

CREATE TABLE item_details (
    id  INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enc TEXT COLLATE "C" NOT NULL UNIQUE
);

CREATE TABLE invoice_tag_sets (
    invoice_id INTEGER NOT NULL,
    tag_set_id INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, tag_set_id)
);

CREATE TABLE invoice_details (
    invoice_id INTEGER NOT NULL,
    detail_id  INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, detail_id)
);

INSERT INTO invoices (org_id, month, charges_cents, credits_cents, created_at, updated_at)
SELECT org_id, month,
       SUM(CASE WHEN cents > 0 THEN cents ELSE 0 END), SUM(CASE WHEN cents < 0 THEN -cents ELSE 0 END),
       (EXTRACT(EPOCH FROM now()) * 1000000)::bigint, (EXTRACT(EPOCH FROM now()) * 1000000)::bigint
FROM (SELECT org_id, cents,
             (EXTRACT(YEAR FROM to_timestamp(day::bigint * 86400) AT TIME ZONE 'UTC')::int * 12
            + EXTRACT(MONTH FROM to_timestamp(day::bigint * 86400) AT TIME ZONE 'UTC')::int - 1) AS month
      FROM line_items) AS li
GROUP BY org_id, month;

-- As in SQLite: the invoice right after the organization in the key, the
-- invoice columns after cents, NULL when the item has none (the row's null
-- bitmap, which widens its header by 8 bytes once, covers them all, where 0
-- would cost 28 bytes).
CREATE TABLE line_items_0002 (
    org_id           INTEGER NOT NULL,
    invoice_id       INTEGER NOT NULL,
    project_id       INTEGER NOT NULL, -- 0: none
    cluster_id       INTEGER NOT NULL, -- 0: none
    sku_id           INTEGER NOT NULL,
    day              INTEGER NOT NULL,
    id               BYTEA   NOT NULL,
    quantity         DOUBLE PRECISION NOT NULL,
    unit_price_nanos BIGINT  NOT NULL,
    cents            BIGINT  NOT NULL,
    bill_day         INTEGER,
    detail_id        INTEGER,
    tag_set_id       INTEGER,
    discount_percent DOUBLE PRECISION,
    discount_cents   BIGINT
);

INSERT INTO line_items_0002 (org_id, invoice_id, project_id, cluster_id, sku_id, day, id, quantity, unit_price_nanos, cents)
SELECT li.org_id, i.id, li.project_id, li.cluster_id, li.sku_id, li.day, li.id, li.quantity, li.unit_price_nanos, li.cents
FROM line_items li
JOIN invoices i ON i.org_id = li.org_id
 AND i.month = EXTRACT(YEAR FROM to_timestamp(li.day::bigint * 86400) AT TIME ZONE 'UTC')::int * 12
             + EXTRACT(MONTH FROM to_timestamp(li.day::bigint * 86400) AT TIME ZONE 'UTC')::int - 1
ORDER BY li.org_id, i.id, li.project_id, li.cluster_id, li.day, li.id;

DROP TABLE line_items;
ALTER TABLE line_items_0002 RENAME TO line_items;
ALTER TABLE line_items ADD CONSTRAINT line_items_pkey PRIMARY KEY (org_id, invoice_id, project_id, cluster_id, day, id);
