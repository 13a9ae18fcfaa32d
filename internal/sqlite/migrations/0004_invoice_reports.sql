-- 0004: invoice reports (DESIGN §5.4), under the same number as
-- internal/postgres's 0004, with the same tables, columns and keys.
--
-- A report is a leased process like a query process (0001's processes):
-- pending until a worker of any replica claims it (running, lease_owner
-- until lease_expires, attempts counted), then SUCCEEDED or FAILED. org_id is
-- the organization it was requested through, invoice_id the invoice's 24-hex
-- id. Its file is stored in chunks of at most a few hundred kilobytes, keyed
-- by the attempt that wrote them: file_attempt names the attempt whose
-- chunks are the file once it succeeded, so chunks written by an owner whose
-- lease was taken over are never served. Times are unix microseconds, UTC.
CREATE TABLE invoice_reports (
    id             TEXT    NOT NULL PRIMARY KEY,
    org_id         TEXT    NOT NULL,
    invoice_id     TEXT    NOT NULL,
    report_type    TEXT    NOT NULL,
    report_format  TEXT    NOT NULL,
    spec_version   TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    lease_owner    TEXT,
    lease_expires  INTEGER,
    attempts       INTEGER NOT NULL DEFAULT 0,
    failure_reason TEXT    NOT NULL DEFAULT '',
    file_attempt   INTEGER,
    file_size      INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    completed_at   INTEGER,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX invoice_reports_list ON invoice_reports (org_id, invoice_id, created_at);
CREATE INDEX invoice_reports_claim ON invoice_reports (state, created_at);
CREATE INDEX invoice_reports_expires ON invoice_reports (expires_at);

CREATE TABLE invoice_report_chunks (
    report_id TEXT    NOT NULL REFERENCES invoice_reports (id) ON DELETE CASCADE,
    attempt   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (report_id, attempt, seq)
);
