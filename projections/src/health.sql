-- The latest recorded health of each source (one row per source, replaced by each
-- HealthAssessed event); the figures are those of the assessment, as of `assessed_at`.
CREATE TABLE IF NOT EXISTS source_health (
    tenant_id          TEXT NOT NULL,
    source_id          UUID NOT NULL,
    status             TEXT NOT NULL,
    samples            INTEGER NOT NULL,
    failures           INTEGER NOT NULL,
    latency_p50_us     BIGINT,
    latency_p95_us     BIGINT,
    active_connections BIGINT,
    max_connections    BIGINT,
    storage_bytes      BIGINT,
    server_uptime_secs BIGINT,
    server_version     TEXT,
    -- {category, message} of the latest failed probe, when the latest probe failed.
    last_error         JSONB,
    -- [{code, severity, message}], most severe first.
    recommendations    JSONB NOT NULL,
    assessed_at        TIMESTAMPTZ NOT NULL,
    -- The source's version after the event, and the event's stream sequence.
    version            BIGINT NOT NULL,
    sequence           BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, source_id)
);

-- Every recorded assessment, for the trend: one row per HealthAssessed event.
CREATE TABLE IF NOT EXISTS health_history (
    tenant_id          TEXT NOT NULL,
    source_id          UUID NOT NULL,
    status             TEXT NOT NULL,
    samples            INTEGER NOT NULL,
    failures           INTEGER NOT NULL,
    latency_p50_us     BIGINT,
    latency_p95_us     BIGINT,
    active_connections BIGINT,
    max_connections    BIGINT,
    storage_bytes      BIGINT,
    server_uptime_secs BIGINT,
    server_version     TEXT,
    last_error         JSONB,
    recommendations    JSONB NOT NULL,
    assessed_at        TIMESTAMPTZ NOT NULL,
    version            BIGINT NOT NULL,
    sequence           BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, source_id, version)
);
