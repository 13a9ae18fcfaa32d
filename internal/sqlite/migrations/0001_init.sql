-- 0001: the whole model. The PostgreSQL store has a migration with the same
-- number and the same tables and keys; column types differ where the dialects
-- do, and storage too: here line_items and the rollup are WITHOUT ROWID tables
-- clustered by their keys, there ordinary tables with a primary-key index.
--
-- Dimensions keep the 24-hex Atlas ids and names; usage refers to them through
-- small integer surrogate keys, which keeps a line item near 50 bytes on disk.

CREATE TABLE organizations (
    id                   INTEGER PRIMARY KEY,
    ext_id               TEXT    NOT NULL UNIQUE,
    name                 TEXT    NOT NULL,
    name_lower           TEXT    NOT NULL, -- for case-insensitive prefix search
    paying_org_id        INTEGER REFERENCES organizations (id),
    requires_access_list INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL  -- unix microseconds, UTC
);
CREATE INDEX organizations_name ON organizations (name, ext_id);
CREATE INDEX organizations_paying ON organizations (paying_org_id);

CREATE TABLE projects (
    id     INTEGER PRIMARY KEY,
    ext_id TEXT    NOT NULL UNIQUE,
    org_id INTEGER NOT NULL REFERENCES organizations (id),
    name   TEXT    NOT NULL
);
CREATE INDEX projects_org ON projects (org_id);

CREATE TABLE clusters (
    id         INTEGER PRIMARY KEY,
    ext_id     TEXT    NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name       TEXT    NOT NULL,
    provider   TEXT    NOT NULL DEFAULT '',
    tier       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX clusters_project ON clusters (project_id);

-- Services have fixed small codes. Codes are never reused or renumbered; a
-- service added to the domain later gets the next free code at open.
CREATE TABLE services (
    code INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);
INSERT INTO services (code, name) VALUES
    (0, 'Atlas'), (1, 'Clusters'), (2, 'Storage'), (3, 'Serverless Instances'),
    (4, 'Backup'), (5, 'Data Transfer'), (6, 'BI Connector'), (7, 'DSC Compute'),
    (8, 'DSC Storage'), (9, 'Premium Features'), (10, 'Atlas Data Federation'),
    (11, 'Atlas Stream Processing'), (12, 'App Services'), (13, 'Charts'),
    (14, 'Cloud Manager'), (15, 'Cloud Manager Standard/Premium'), (16, 'Legacy Backup'),
    (17, 'AI Model APIs'), (18, 'Automated Embedding'), (19, 'Native Reranking'),
    (20, 'Flex Consulting'), (21, 'Support'), (22, 'Credits');

-- A SKU as billed: its name, the service it is billed under and its unit. A
-- line item names one row, so it stores neither service nor unit itself.
CREATE TABLE skus (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    service INTEGER NOT NULL REFERENCES services (code),
    unit    TEXT    NOT NULL,
    UNIQUE (name, service, unit)
);

-- Line items are clustered by the resource they charge and then by day:
-- surrogate keys grow as dimensions appear, so data that arrives resource by
-- resource (a demo load, a backfill) appends at the end of the b-tree, and a
-- monthly import touches about one page per resource rather than one per
-- item, as a key of the random 16-byte id alone would. The id stays the last
-- key column and every other key column is fixed by it: an id names one
-- charge of one resource on one day (every id source derives it from the
-- organization, project, cluster and day, among the rest), so a conflict on
-- the whole key is a conflict on the id and re-ingesting an item stays a
-- no-op. The SKU is deliberately not in the key: its row also carries the
-- service and unit the catalogue maps it to, which may change between
-- releases, and a re-import must not count such an item twice. There is no
-- other index: queries read the rollup. day is days since 1970-01-01.
--
-- project_id and cluster_id are 0 for charges without them (key columns of a
-- WITHOUT ROWID table are NOT NULL), so they carry no FOREIGN KEY clauses, and
-- neither do org_id and sku_id, as in the PostgreSQL store. Ingest resolves
-- every reference inside its transaction (dimensions are never deleted), and
-- Verify checks them with anti-joins.
CREATE TABLE line_items (
    org_id           INTEGER NOT NULL,
    project_id       INTEGER NOT NULL, -- 0: none
    cluster_id       INTEGER NOT NULL, -- 0: none
    sku_id           INTEGER NOT NULL,
    day              INTEGER NOT NULL,
    id               BLOB    NOT NULL,
    quantity         REAL    NOT NULL,
    unit_price_nanos INTEGER NOT NULL,
    cents            INTEGER NOT NULL,
    PRIMARY KEY (org_id, project_id, cluster_id, day, id)
) WITHOUT ROWID;

-- The monthly rollup, maintained in the transaction of every ingest. month is
-- year*12 + month-1; project_id and cluster_id are 0 for charges without them
-- (0 rather than NULL so that the primary key stays an upsert target).
CREATE TABLE rollup (
    month      INTEGER NOT NULL,
    org_id     INTEGER NOT NULL REFERENCES organizations (id),
    project_id INTEGER NOT NULL,
    cluster_id INTEGER NOT NULL,
    service    INTEGER NOT NULL REFERENCES services (code),
    cents      INTEGER NOT NULL,
    PRIMARY KEY (month, org_id, project_id, cluster_id, service)
) WITHOUT ROWID;

-- One row: the data version and running totals of the usage, kept in the
-- ingest transaction so that stats never scan the line items.
CREATE TABLE usage_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    data_version INTEGER NOT NULL,
    line_items   INTEGER NOT NULL,
    total_cents  INTEGER NOT NULL,
    first_day    INTEGER,
    last_day     INTEGER
);
INSERT INTO usage_state (id, data_version, line_items, total_cents) VALUES (1, 1, 0, 0);

CREATE TABLE processes (
    token         TEXT    NOT NULL PRIMARY KEY,
    org_id        TEXT    NOT NULL,
    query         TEXT    NOT NULL, -- canonical JSON of the query
    state         TEXT    NOT NULL,
    lease_owner   TEXT,
    lease_expires INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    result        BLOB,
    error         TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    ready_at      INTEGER,
    completed_at  INTEGER,
    expires_at    INTEGER
);
CREATE INDEX processes_claim ON processes (state, created_at);
CREATE INDEX processes_expires ON processes (expires_at);

CREATE TABLE api_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    org_id      TEXT    NOT NULL,
    public_key  TEXT    NOT NULL UNIQUE,
    ha1_md5     TEXT    NOT NULL,
    ha1_sha256  TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    roles       TEXT    NOT NULL, -- JSON array
    access_list TEXT    NOT NULL, -- JSON array
    enabled     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE service_accounts (
    client_id         TEXT    NOT NULL PRIMARY KEY,
    org_id            TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    description       TEXT    NOT NULL DEFAULT '',
    secret_hash       TEXT    NOT NULL,
    roles             TEXT    NOT NULL,
    access_list       TEXT    NOT NULL,
    enabled           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    secret_expires_at INTEGER
);
CREATE INDEX service_accounts_org ON service_accounts (org_id);

CREATE TABLE secrets (
    name       TEXT    NOT NULL PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE used_nonces (
    nonce      TEXT    NOT NULL,
    nc         INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (nonce, nc)
);
CREATE INDEX used_nonces_expires ON used_nonces (expires_at);

CREATE TABLE revoked_tokens (
    jti        TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
