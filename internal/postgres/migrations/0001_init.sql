-- 0001: the whole model, under the same number as internal/sqlite's 0001 and
-- with the same tables, columns and keys. Column types differ where the
-- dialects do: integer surrogate keys are INTEGER identities, ids BYTEA, flags
-- BOOLEAN, times BIGINT unix microseconds UTC (as in SQLite, so both stores
-- round alike). So does storage: SQLite keeps line_items and rollup as
-- WITHOUT ROWID b-trees, PostgreSQL as heaps with a primary-key index.
--
-- Text that is ordered or compared byte-wise (ids, names) uses the "C"
-- collation, so listings order exactly as SQLite and Go order them whatever
-- locale the cluster was created with.

CREATE TABLE organizations (
    id                   INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ext_id               TEXT COLLATE "C" NOT NULL UNIQUE,
    name                 TEXT COLLATE "C" NOT NULL,
    name_lower           TEXT COLLATE "C" NOT NULL, -- for case-insensitive prefix search
    paying_org_id        INTEGER REFERENCES organizations (id),
    requires_access_list BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           BIGINT  NOT NULL
);
CREATE INDEX organizations_name ON organizations (name, ext_id);
CREATE INDEX organizations_paying ON organizations (paying_org_id);

CREATE TABLE projects (
    id     INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ext_id TEXT COLLATE "C" NOT NULL UNIQUE,
    org_id INTEGER NOT NULL REFERENCES organizations (id),
    name   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX projects_org ON projects (org_id);

CREATE TABLE clusters (
    id         INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ext_id     TEXT COLLATE "C" NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name       TEXT COLLATE "C" NOT NULL,
    provider   TEXT NOT NULL DEFAULT '',
    tier       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX clusters_project ON clusters (project_id);

-- Services have fixed small codes, the same as in SQLite. Codes are never
-- reused or renumbered; a service added to the domain later gets the next
-- free code at open.
CREATE TABLE services (
    code INTEGER PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE
);
INSERT INTO services (code, name) VALUES
    (0, 'Atlas'), (1, 'Clusters'), (2, 'Storage'), (3, 'Serverless Instances'),
    (4, 'Backup'), (5, 'Data Transfer'), (6, 'BI Connector'), (7, 'DSC Compute'),
    (8, 'DSC Storage'), (9, 'Premium Features'), (10, 'Atlas Data Federation'),
    (11, 'Atlas Stream Processing'), (12, 'App Services'), (13, 'Charts'),
    (14, 'Cloud Manager'), (15, 'Cloud Manager Standard/Premium'), (16, 'Legacy Backup'),
    (17, 'AI Model APIs'), (18, 'Automated Embedding'), (19, 'Native Reranking'),
    (20, 'Flex Consulting'), (21, 'Support'), (22, 'Credits');

CREATE TABLE skus (
    id      INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name    TEXT COLLATE "C" NOT NULL,
    service INTEGER NOT NULL REFERENCES services (code),
    unit    TEXT COLLATE "C" NOT NULL,
    UNIQUE (name, service, unit)
);

-- Line items are keyed by the resource they charge, then by day, then by id:
-- surrogate keys grow as dimensions appear, so data that arrives resource by
-- resource (a demo load, a backfill) appends at the right edge of the primary
-- key, and a monthly import touches about one index page per resource rather
-- than one per item. A key of the random 16-byte id alone spread every batch
-- over an index that outgrew memory (ingest fell from 175k to 99k items/s
-- between 1 M and 20 M items). The id stays the last key column and every
-- other key column is fixed by it (an id names one charge of one resource on
-- one day), so a conflict on the whole key is a conflict on the id and
-- re-ingesting an item stays a no-op. The SKU is deliberately not in the key:
-- its row carries the catalogue's service and unit, which may change between
-- releases, and a re-import must not count such an item twice. There is no other index: queries read
-- the rollup. day is days since 1970-01-01.
--
-- project_id and cluster_id are 0 for charges without them (key columns are
-- NOT NULL), as in the rollup and in SQLite. As in SQLite, no dimension column
-- carries a FOREIGN KEY constraint: 0 refers to nothing, and PostgreSQL would
-- check each reference with a trigger and a row lock per inserted row, costing
-- more than the rest of a COPY ingest together. Ingest resolves every
-- reference inside its transaction (dimensions are never deleted), and Verify
-- checks them with anti-joins.
CREATE TABLE line_items (
    org_id           INTEGER NOT NULL,
    project_id       INTEGER NOT NULL, -- 0: none
    cluster_id       INTEGER NOT NULL, -- 0: none
    sku_id           INTEGER NOT NULL,
    day              INTEGER NOT NULL,
    id               BYTEA   NOT NULL,
    quantity         DOUBLE PRECISION NOT NULL,
    unit_price_nanos BIGINT  NOT NULL,
    cents            BIGINT  NOT NULL,
    PRIMARY KEY (org_id, project_id, cluster_id, day, id)
);

-- The monthly rollup, maintained in the transaction of every ingest. month is
-- year*12 + month-1; project_id and cluster_id are 0 for charges without them
-- (0 rather than NULL so that the primary key stays an upsert target).
--
-- Daily usage adds to the same monthly cell about thirty times a month. Half
-- empty pages let those updates stay on their page (HOT updates), which adds
-- no index entries: ingest upserts cells 3–4 times faster than on full pages,
-- where every update adds an entry to the primary key and leaves a dead one.
CREATE TABLE rollup (
    month      INTEGER NOT NULL,
    org_id     INTEGER NOT NULL REFERENCES organizations (id),
    project_id INTEGER NOT NULL,
    cluster_id INTEGER NOT NULL,
    service    INTEGER NOT NULL REFERENCES services (code),
    cents      BIGINT  NOT NULL,
    PRIMARY KEY (month, org_id, project_id, cluster_id, service)
) WITH (fillfactor = 50);

-- One row: the data version and running totals of the usage, kept in the
-- ingest transaction so that stats never scan the line items.
CREATE TABLE usage_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    data_version BIGINT  NOT NULL,
    line_items   BIGINT  NOT NULL,
    total_cents  BIGINT  NOT NULL,
    first_day    INTEGER,
    last_day     INTEGER
);
INSERT INTO usage_state (id, data_version, line_items, total_cents) VALUES (1, 1, 0, 0);

CREATE TABLE processes (
    token         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id        TEXT COLLATE "C" NOT NULL,
    query         TEXT    NOT NULL, -- canonical JSON of the query
    state         TEXT    NOT NULL,
    lease_owner   TEXT,
    lease_expires BIGINT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    result        BYTEA,
    error         TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    ready_at      BIGINT,
    completed_at  BIGINT,
    expires_at    BIGINT
);
CREATE INDEX processes_claim ON processes (state, created_at);
CREATE INDEX processes_expires ON processes (expires_at);

CREATE TABLE api_keys (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id      TEXT COLLATE "C" NOT NULL,
    public_key  TEXT COLLATE "C" NOT NULL UNIQUE,
    ha1_md5     TEXT    NOT NULL,
    ha1_sha256  TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    roles       TEXT    NOT NULL, -- JSON array
    access_list TEXT    NOT NULL, -- JSON array
    enabled     BOOLEAN NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE service_accounts (
    client_id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id            TEXT COLLATE "C" NOT NULL,
    name              TEXT    NOT NULL,
    description       TEXT    NOT NULL DEFAULT '',
    secret_hash       TEXT    NOT NULL,
    roles             TEXT    NOT NULL,
    access_list       TEXT    NOT NULL,
    enabled           BOOLEAN NOT NULL,
    created_at        BIGINT  NOT NULL,
    secret_expires_at BIGINT
);
CREATE INDEX service_accounts_org ON service_accounts (org_id);

CREATE TABLE secrets (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value      BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE used_nonces (
    nonce      TEXT COLLATE "C" NOT NULL,
    nc         BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (nonce, nc)
);
CREATE INDEX used_nonces_expires ON used_nonces (expires_at);

CREATE TABLE revoked_tokens (
    jti        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
