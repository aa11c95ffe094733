-- The tenant's custom roles (RoleDefined, RoleChanged; RoleRetired deletes the row).
CREATE TABLE IF NOT EXISTS roles (
    tenant_id   TEXT NOT NULL,
    role        TEXT NOT NULL,
    -- `resource:action` strings, sorted.
    permissions JSONB NOT NULL,
    description TEXT NOT NULL,
    -- The AssetCondition as in the event; NULL: every asset.
    condition   JSONB,
    sequence    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, role)
);

-- Who holds which role (built-in or custom): RoleGranted inserts, RoleRevoked and RoleRetired
-- delete. Looked up by (tenant, subject) on every request.
CREATE TABLE IF NOT EXISTS grants (
    tenant_id TEXT NOT NULL,
    subject   TEXT NOT NULL,
    role      TEXT NOT NULL,
    sequence  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, subject, role)
);
CREATE INDEX IF NOT EXISTS grants_tenant_role ON grants (tenant_id, role);
