-- Per-person data keys for personal data sealed in events (GDPR Art. 17, see
-- eventlog::personal). The stream holds only ciphertext; destroying a key here (`pursight erase`)
-- erases that person's data from every replay, export and rebuilt read model. A table of its own
-- outside every `rm_*` schema, so rebuilds never touch it. Back it up apart from the read models,
-- with a retention no longer than erasures may take to apply: a restored key un-erases.
CREATE TABLE IF NOT EXISTS personal_keys (
    key_id         UUID PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    -- Hex HMAC-SHA256 of tenant and subject under the master key: the subject is never stored.
    subject_digest TEXT NOT NULL,
    -- nonce ‖ ChaCha20-Poly1305 of the data key under the master key; NULL once erased.
    wrapped_key    BYTEA,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    erased_at      TIMESTAMPTZ,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
);
-- At most one live key per person and tenant; erased ones stay as a record.
CREATE UNIQUE INDEX IF NOT EXISTS personal_keys_live
    ON personal_keys (tenant_id, subject_digest) WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS personal_keys_subject ON personal_keys (tenant_id, subject_digest);
