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
