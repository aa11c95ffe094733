CREATE TABLE IF NOT EXISTS audit_log (
    event_id          UUID PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    sequence          BIGINT NOT NULL,
    occurred_at       TIMESTAMPTZ NOT NULL,
    actor             TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    aggregate_type    TEXT NOT NULL,
    aggregate_id      UUID NOT NULL,
    aggregate_version BIGINT NOT NULL,
    command_id        TEXT NOT NULL,
    correlation_id    TEXT NOT NULL,
    causation_id      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_tenant_sequence ON audit_log (tenant_id, sequence, event_id);
CREATE INDEX IF NOT EXISTS audit_log_tenant_aggregate ON audit_log (tenant_id, aggregate_id, sequence);
CREATE INDEX IF NOT EXISTS audit_log_tenant_actor ON audit_log (tenant_id, actor, sequence);
CREATE INDEX IF NOT EXISTS audit_log_tenant_time ON audit_log (tenant_id, occurred_at);
