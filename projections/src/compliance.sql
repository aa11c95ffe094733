-- The `compliance` read model (schema rm_compliance), from the Violation and CompliancePolicy
-- events. Every table is keyed by tenant first: no query crosses tenants.

-- Each violation as it stands now: one row per Violation aggregate.
CREATE TABLE IF NOT EXISTS violations (
    tenant_id           TEXT NOT NULL,
    id                  UUID NOT NULL,
    rule_id             TEXT NOT NULL,
    rule_version        INTEGER NOT NULL,
    -- gdpr, pci-dss, hipaa or soc2.
    framework           TEXT NOT NULL,
    -- The control cited, e.g. `PCI DSS v4.0 4.2.1`.
    control             TEXT NOT NULL,
    -- The rule's title and remediation as of `rule_version` (built-in packs, or the tenant's
    -- CustomRuleDefined event).
    title               TEXT NOT NULL,
    remediation         TEXT NOT NULL,
    -- low, medium, high or critical (as tuned when detected); severity_rank 1..4 for ordering.
    severity            TEXT NOT NULL,
    severity_rank       SMALLINT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'resolved')),
    -- source, asset or column.
    subject_level       TEXT NOT NULL,
    source_id           UUID NOT NULL,
    asset_id            UUID,
    asset_path          TEXT,
    column_name         TEXT,
    -- [{fact, column?, label?, role?, value, evidence: {eventId, sequence, hash}}]: what the rule read.
    facts               JSONB NOT NULL,
    -- [{eventId, sequence, hash}]: the events those facts rest on, by sequence.
    evidence            JSONB NOT NULL,
    -- When the violation was (last) opened, and when a finding was last recorded for it.
    detected_at         TIMESTAMPTZ NOT NULL,
    last_detected_at    TIMESTAMPTZ NOT NULL,
    -- The latest resolution (kept while resolved, cleared when detected again).
    resolved_at         TIMESTAMPTZ,
    resolution_change   TEXT,
    resolution_evidence JSONB,
    -- The current risk acceptance (only while accepted).
    accepted_by         TEXT,
    accepted_reason     TEXT,
    accepted_at         TIMESTAMPTZ,
    accepted_until      TIMESTAMPTZ,
    -- The aggregate's version after its latest event, and that event's stream sequence.
    version             BIGINT NOT NULL,
    sequence            BIGINT NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'accepted') = (accepted_until IS NOT NULL))
);
-- `violations` pages: most severe first, then by id, optionally by framework/status/source.
CREATE INDEX IF NOT EXISTS violations_page ON violations (tenant_id, severity_rank DESC, id);
CREATE INDEX IF NOT EXISTS violations_source ON violations (tenant_id, source_id, framework, status);
CREATE INDEX IF NOT EXISTS violations_framework ON violations (tenant_id, framework, status);

-- Every event of every violation, in order: what happened, by whom, with which evidence; the
-- event's own id, sequence and hash let a reader check it against the stream.
CREATE TABLE IF NOT EXISTS violation_history (
    tenant_id    TEXT NOT NULL,
    violation_id UUID NOT NULL,
    version      BIGINT NOT NULL,
    sequence     BIGINT NOT NULL,
    event_id     UUID NOT NULL,
    event_hash   TEXT NOT NULL,
    -- ViolationDetected, ViolationResolved, ViolationAccepted or AcceptanceExpired.
    event_type   TEXT NOT NULL,
    -- The status after the event.
    status       TEXT NOT NULL,
    severity     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    -- Detected: the rule version; resolved: the fact change; accepted: the reason and expiry.
    rule_version INTEGER,
    change       TEXT,
    reason       TEXT,
    expires_at   TIMESTAMPTZ,
    -- [{eventId, sequence, hash}] the event cites.
    evidence     JSONB NOT NULL,
    PRIMARY KEY (tenant_id, violation_id, version)
);

-- The open and accepted violations per framework, by severity, as they stand now: per source,
-- and for the whole tenant under source_id 00000000-0000-0000-0000-000000000000. Moved by each
-- event by exactly the change of its violation's row. The score is computed from the open
-- counts when read (one formula, domain::compliance::framework_score).
CREATE TABLE IF NOT EXISTS scores (
    tenant_id         TEXT NOT NULL,
    source_id         UUID NOT NULL,
    framework         TEXT NOT NULL,
    open_low          BIGINT NOT NULL DEFAULT 0,
    open_medium       BIGINT NOT NULL DEFAULT 0,
    open_high         BIGINT NOT NULL DEFAULT 0,
    open_critical     BIGINT NOT NULL DEFAULT 0,
    accepted_low      BIGINT NOT NULL DEFAULT 0,
    accepted_medium   BIGINT NOT NULL DEFAULT 0,
    accepted_high     BIGINT NOT NULL DEFAULT 0,
    accepted_critical BIGINT NOT NULL DEFAULT 0,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, source_id, framework)
);

-- The daily trend: `scores` as they stood at the end of each UTC day on which a violation of
-- the source (or tenant) and framework changed. A day without a row kept the previous day's.
CREATE TABLE IF NOT EXISTS daily_scores (
    tenant_id         TEXT NOT NULL,
    source_id         UUID NOT NULL,
    framework         TEXT NOT NULL,
    day               DATE NOT NULL,
    score             SMALLINT NOT NULL,
    open_low          BIGINT NOT NULL,
    open_medium       BIGINT NOT NULL,
    open_high         BIGINT NOT NULL,
    open_critical     BIGINT NOT NULL,
    accepted          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, source_id, framework, day)
);

-- Every version of every custom rule a tenant defined (titles and remediation of their
-- violations come from here); retired_at is set on the version that was retired.
CREATE TABLE IF NOT EXISTS custom_rules (
    tenant_id   TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    version     INTEGER NOT NULL,
    framework   TEXT NOT NULL,
    title       TEXT NOT NULL,
    control     TEXT NOT NULL,
    severity    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    remediation TEXT NOT NULL,
    condition   TEXT NOT NULL,
    defined_at  TIMESTAMPTZ NOT NULL,
    defined_by  TEXT NOT NULL,
    retired_at  TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, rule_id, version)
);
