-- Where each projection stands in the event stream. A projection writes its read-model rows and
-- its checkpoint in one transaction, so this row is exactly as far as the read model is.
CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name          TEXT PRIMARY KEY,
    last_sequence BIGINT NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
