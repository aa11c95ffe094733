CREATE TABLE IF NOT EXISTS data_sources (
    tenant_id       TEXT NOT NULL,
    id              UUID NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    lifecycle_state TEXT NOT NULL,
    -- The configuration with every secret reference redacted.
    config          JSONB NOT NULL,
    version         BIGINT NOT NULL,
    registered_at   TIMESTAMPTZ NOT NULL,
    registered_by   TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    updated_by      TEXT NOT NULL,
    archived_at     TIMESTAMPTZ,
    last_sequence   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS data_sources_tenant_name ON data_sources (tenant_id, lower(name));
-- Added with scan rule sets; ALTER so that existing read models gain it without a rebuild.
ALTER TABLE data_sources ADD COLUMN IF NOT EXISTS rule_set_id UUID;
