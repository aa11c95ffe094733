-- Commands the API refused (forbidden, invalid, rejected by the domain, conflicting, not found):
-- recorded for auditors next to the events of `rm_audit_log.audit_log`, but never on the stream
-- (a refusal changes nothing). A table of its own outside every `rm_*` schema, so that
-- `pursight rebuild audit_log`, which rebuilds from the stream, keeps these rows.
CREATE TABLE IF NOT EXISTS audit_refusals (
    refusal_id    UUID PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    actor         TEXT NOT NULL,
    -- The caller's roles, comma-separated.
    roles         TEXT NOT NULL,
    -- The mutation (or command) refused, e.g. `archiveDataSource`.
    action        TEXT NOT NULL,
    -- The kind of thing it addressed, e.g. `data_source`; empty when unknown.
    resource_type TEXT NOT NULL,
    -- The id it addressed, as given; empty when none (a registration).
    target_id     TEXT NOT NULL,
    -- forbidden | invalid | rejected | conflict | not_found
    outcome       TEXT NOT NULL,
    -- The error message the caller got: bounded, control characters escaped.
    reason        TEXT NOT NULL,
    -- The command id, when the caller gave one.
    command_id    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_refusals_tenant_time ON audit_refusals (tenant_id, occurred_at);
