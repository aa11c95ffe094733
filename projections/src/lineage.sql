-- Where each asset sits, so edges (recorded by path) can be joined by asset id.
CREATE TABLE IF NOT EXISTS asset_paths (
    tenant_id TEXT NOT NULL,
    asset_id  UUID NOT NULL,
    source_id UUID NOT NULL,
    path      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, asset_id)
);

CREATE TABLE IF NOT EXISTS edges (
    tenant_id    TEXT NOT NULL,
    -- The asset whose schema declares the edge (it records and retracts it).
    owner_asset  UUID NOT NULL,
    edge_key     TEXT NOT NULL,
    source_id    UUID NOT NULL,
    from_asset   UUID NOT NULL,
    from_path    TEXT NOT NULL,
    from_columns JSONB NOT NULL,
    to_asset     UUID NOT NULL,
    to_path      TEXT NOT NULL,
    to_columns   JSONB NOT NULL,
    kind         TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, owner_asset, edge_key)
);
CREATE INDEX IF NOT EXISTS edges_from ON edges (tenant_id, from_asset);
CREATE INDEX IF NOT EXISTS edges_to ON edges (tenant_id, to_asset);

-- OpenLineage (the LineageJob aggregate): the jobs that reported runs, and the edges their runs
-- reported, with when each was first and last seen (the producer's eventTime).
CREATE TABLE IF NOT EXISTS jobs (
    tenant_id       TEXT NOT NULL,
    job_id          UUID NOT NULL,
    namespace       TEXT NOT NULL,
    name            TEXT NOT NULL,
    last_run_id     UUID NOT NULL,
    last_event_type TEXT NOT NULL,
    last_event_time TIMESTAMPTZ NOT NULL,
    -- The latest COMPLETE event (by eventTime) that reported edges, and its time: an edge last
    -- seen before it is one the job stopped reporting (stale).
    edges_run_id    UUID,
    edges_at        TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, job_id)
);

CREATE TABLE IF NOT EXISTS run_edges (
    tenant_id      TEXT NOT NULL,
    job_id         UUID NOT NULL,
    edge_key       TEXT NOT NULL,
    from_asset     UUID NOT NULL,
    from_path      TEXT NOT NULL,
    from_columns   JSONB NOT NULL,
    from_external  BOOLEAN NOT NULL,
    to_asset       UUID NOT NULL,
    to_path        TEXT NOT NULL,
    to_columns     JSONB NOT NULL,
    to_external    BOOLEAN NOT NULL,
    first_seen     TIMESTAMPTZ NOT NULL,
    last_seen      TIMESTAMPTZ NOT NULL,
    last_run_id    UUID NOT NULL,
    PRIMARY KEY (tenant_id, job_id, edge_key)
);
CREATE INDEX IF NOT EXISTS run_edges_from ON run_edges (tenant_id, from_asset);
CREATE INDEX IF NOT EXISTS run_edges_to ON run_edges (tenant_id, to_asset);

-- Every run a job reported (RunObserved): its state (the terminal event type once it ended, else
-- the latest by eventTime), the earliest eventTime heard of it, when it ended, and the failure
-- message of its errorMessage facet.
CREATE TABLE IF NOT EXISTS runs (
    tenant_id     TEXT NOT NULL,
    job_id        UUID NOT NULL,
    run_id        UUID NOT NULL,
    state         TEXT NOT NULL,
    state_at      TIMESTAMPTZ NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    error_message TEXT,
    PRIMARY KEY (tenant_id, job_id, run_id)
);
CREATE INDEX IF NOT EXISTS runs_job_started ON runs (tenant_id, job_id, started_at DESC);
CREATE INDEX IF NOT EXISTS jobs_name ON jobs (tenant_id, namespace, name);
