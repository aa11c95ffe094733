-- Events a projection could not apply, set aside so that it goes on with the rest of the
-- stream. A row is written in the same transaction that moves the projection's checkpoint past
-- its event, so an event is either applied, parked, or still ahead: never lost, never both.
-- The stream is immutable, so (sequence, event_index) is enough to read the event again for
-- `pursight projections retry`; the other columns say what it was without reading it.
CREATE TABLE IF NOT EXISTS projection_parked (
    projection     TEXT NOT NULL,
    sequence       BIGINT NOT NULL,
    -- The event's position in its commit; 0 with event_id NULL when the commit itself could
    -- not be decoded (then every event of the commit is parked as one).
    event_index    INTEGER NOT NULL,
    event_id       UUID,
    tenant_id      TEXT NOT NULL,
    aggregate_type TEXT,
    aggregate_id   TEXT,
    event_type     TEXT,
    error          TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 1,
    parked_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    retried_at     TIMESTAMPTZ,
    PRIMARY KEY (projection, sequence, event_index)
);
CREATE INDEX IF NOT EXISTS projection_parked_tenant ON projection_parked (tenant_id, projection);
