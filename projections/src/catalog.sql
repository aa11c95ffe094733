CREATE TABLE IF NOT EXISTS assets (
    tenant_id     TEXT NOT NULL,
    id            UUID NOT NULL,
    source_id     UUID NOT NULL,
    -- Display form of the path, e.g. orders_db.public.customers; segments in path_segments.
    path          TEXT NOT NULL,
    path_segments JSONB NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    -- The full discovered schema: columns, keys, indexes, comment, view definition.
    schema        JSONB NOT NULL,
    column_count  INTEGER NOT NULL,
    fingerprint   TEXT NOT NULL,
    row_estimate  BIGINT,
    removed       BOOLEAN NOT NULL DEFAULT false,
    version       BIGINT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    last_scan_id  UUID,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS assets_tenant_source_path ON assets (tenant_id, source_id, path);
CREATE INDEX IF NOT EXISTS assets_tenant_name ON assets (tenant_id, lower(name));

CREATE TABLE IF NOT EXISTS asset_changes (
    tenant_id  TEXT NOT NULL,
    asset_id   UUID NOT NULL,
    version    BIGINT NOT NULL,
    sequence   BIGINT NOT NULL,
    scan_id    UUID,
    change     TEXT NOT NULL,
    fingerprint TEXT,
    diff       JSONB,
    at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, asset_id, version)
);

CREATE TABLE IF NOT EXISTS scans (
    tenant_id        TEXT NOT NULL,
    id               UUID NOT NULL,
    source_id        UUID NOT NULL,
    status           TEXT NOT NULL,
    strategy         TEXT NOT NULL,
    current_strategy TEXT NOT NULL,
    scope            JSONB NOT NULL,
    assets_done      BIGINT NOT NULL DEFAULT 0,
    assets_total     BIGINT,
    metrics          JSONB,
    failure          TEXT,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS scans_tenant_source ON scans (tenant_id, source_id, started_at DESC);
