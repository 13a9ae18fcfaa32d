-- 0003: what a sync keeps (DESIGN §5.3), under the same number as
-- internal/sqlite's 0003 and with the same tables, columns and keys; the
-- comments there say what each holds. Types as in 0001: BIGINT unix
-- microseconds, "C" collation for ids.
CREATE TABLE sync_marks (
    source         TEXT COLLATE "C" NOT NULL,
    invoice_id     TEXT COLLATE "C" NOT NULL,
    source_updated BIGINT,
    items          BIGINT NOT NULL,
    synced_at      BIGINT NOT NULL,
    PRIMARY KEY (source, invoice_id)
);

CREATE TABLE leases (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
