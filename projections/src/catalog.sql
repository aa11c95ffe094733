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
-- The asset's own metadata (AssetMetadataChanged); unset fields are inherited from the source when
-- shown. ALTER so that existing read models gain them without a rebuild.
ALTER TABLE assets ADD COLUMN IF NOT EXISTS owner TEXT;
ALTER TABLE assets ADD COLUMN IF NOT EXISTS tags JSONB NOT NULL DEFAULT '[]';
ALTER TABLE assets ADD COLUMN IF NOT EXISTS description TEXT;
-- The own owner's kind (person, team) and type (technical, business, steward).
ALTER TABLE assets ADD COLUMN IF NOT EXISTS owner_kind TEXT;
ALTER TABLE assets ADD COLUMN IF NOT EXISTS owner_type TEXT;
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

-- Labels of columns (applied, suggested, confirmed, rejected); revoked labels are deleted. The
-- review queue is the suggested rows.
CREATE TABLE IF NOT EXISTS column_labels (
    tenant_id    TEXT NOT NULL,
    asset_id     UUID NOT NULL,
    column_name  TEXT NOT NULL,
    label        TEXT NOT NULL,
    status       TEXT NOT NULL,
    confidence   DOUBLE PRECISION NOT NULL,
    -- The evidence, worded for a person (never a sampled value).
    signals      JSONB NOT NULL,
    origin       JSONB NOT NULL,
    rule_set     JSONB,
    labelled_at  TIMESTAMPTZ NOT NULL,
    labelled_by  TEXT NOT NULL,
    reviewed_at  TIMESTAMPTZ,
    reviewed_by  TEXT,
    review_note  TEXT,
    PRIMARY KEY (tenant_id, asset_id, column_name, label)
);
CREATE INDEX IF NOT EXISTS column_labels_tenant_status ON column_labels (tenant_id, status, confidence DESC);

-- The statistics of each asset's last sample (no sampled value), for re-evaluation and feedback.
CREATE TABLE IF NOT EXISTS column_profiles (
    tenant_id  TEXT NOT NULL,
    asset_id   UUID NOT NULL,
    rows       INTEGER NOT NULL,
    profiles   JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, asset_id)
);

-- Scan rule sets with their current definition.
CREATE TABLE IF NOT EXISTS scan_rule_sets (
    tenant_id  TEXT NOT NULL,
    id         UUID NOT NULL,
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    definition JSONB NOT NULL,
    archived   BOOLEAN NOT NULL DEFAULT false,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
