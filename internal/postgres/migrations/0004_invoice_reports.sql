-- 0004: invoice reports (DESIGN §5.4), under the same number as
-- internal/sqlite's 0004 and with the same tables, columns and keys; the
-- comments there say what each holds. Types as in 0001: BIGINT unix
-- microseconds, "C" collation for ids.
CREATE TABLE invoice_reports (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL,
    invoice_id     TEXT COLLATE "C" NOT NULL,
    report_type    TEXT    NOT NULL,
    report_format  TEXT    NOT NULL,
    spec_version   TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    lease_owner    TEXT,
    lease_expires  BIGINT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    failure_reason TEXT    NOT NULL DEFAULT '',
    file_attempt   INTEGER,
    file_size      BIGINT  NOT NULL DEFAULT 0,
    created_at     BIGINT  NOT NULL,
    completed_at   BIGINT,
    expires_at     BIGINT  NOT NULL
);
CREATE INDEX invoice_reports_list ON invoice_reports (org_id, invoice_id, created_at);
CREATE INDEX invoice_reports_claim ON invoice_reports (state, created_at);
CREATE INDEX invoice_reports_expires ON invoice_reports (expires_at);

CREATE TABLE invoice_report_chunks (
    report_id TEXT COLLATE "C" NOT NULL REFERENCES invoice_reports (id) ON DELETE CASCADE,
    attempt   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    data      BYTEA   NOT NULL,
    PRIMARY KEY (report_id, attempt, seq)
);
