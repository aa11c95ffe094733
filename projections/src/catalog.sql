CREATE TABLE IF NOT EXISTS assets (
    tenant_id     TEXT NOT NULL,
    id            UUID NOT NULL,
    source_id     UUID NOT NULL,
    -- Display form of the path, e.g. orders_db.public.customers; segments in path_segments.
    path          TEXT NOT NULL,
    path_segments JSONB NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    -- The full discovered schema: columns, keys, indexes, comment, view definition.
    schema        JSONB NOT NULL,
    column_count  INTEGER NOT NULL,
    fingerprint   TEXT NOT NULL,
    row_estimate  BIGINT,
    removed       BOOLEAN NOT NULL DEFAULT false,
    version       BIGINT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    last_scan_id  UUID,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS assets_tenant_source_path ON assets (tenant_id, source_id, path);
-- The asset's own metadata (AssetMetadataChanged); unset fields are inherited from the source when
-- shown. ALTER so that existing read models gain them without a rebuild.
ALTER TABLE assets ADD COLUMN IF NOT EXISTS owner TEXT;
ALTER TABLE assets ADD COLUMN IF NOT EXISTS tags JSONB NOT NULL DEFAULT '[]';
ALTER TABLE assets ADD COLUMN IF NOT EXISTS description TEXT;
-- The own owner's kind (person, team) and type (technical, business, steward).
ALTER TABLE assets ADD COLUMN IF NOT EXISTS owner_kind TEXT;
ALTER TABLE assets ADD COLUMN IF NOT EXISTS owner_type TEXT;
CREATE INDEX IF NOT EXISTS assets_tenant_name ON assets (tenant_id, lower(name));

CREATE TABLE IF NOT EXISTS asset_changes (
    tenant_id  TEXT NOT NULL,
    asset_id   UUID NOT NULL,
    version    BIGINT NOT NULL,
    sequence   BIGINT NOT NULL,
    scan_id    UUID,
    change     TEXT NOT NULL,
    fingerprint TEXT,
    diff       JSONB,
    at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, asset_id, version)
);

CREATE TABLE IF NOT EXISTS scans (
    tenant_id        TEXT NOT NULL,
    id               UUID NOT NULL,
    source_id        UUID NOT NULL,
    status           TEXT NOT NULL,
    strategy         TEXT NOT NULL,
    current_strategy TEXT NOT NULL,
    scope            JSONB NOT NULL,
    assets_done      BIGINT NOT NULL DEFAULT 0,
    assets_total     BIGINT,
    metrics          JSONB,
    failure          TEXT,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS scans_tenant_source ON scans (tenant_id, source_id, started_at DESC);

-- Labels of columns (applied, suggested, confirmed, rejected); revoked labels are deleted. The
-- review queue is the suggested rows.
CREATE TABLE IF NOT EXISTS column_labels (
    tenant_id    TEXT NOT NULL,
    asset_id     UUID NOT NULL,
    column_name  TEXT NOT NULL,
    label        TEXT NOT NULL,
    status       TEXT NOT NULL,
    confidence   DOUBLE PRECISION NOT NULL,
    -- The evidence, worded for a person (never a sampled value).
    signals      JSONB NOT NULL,
    origin       JSONB NOT NULL,
    rule_set     JSONB,
    labelled_at  TIMESTAMPTZ NOT NULL,
    labelled_by  TEXT NOT NULL,
    reviewed_at  TIMESTAMPTZ,
    reviewed_by  TEXT,
    review_note  TEXT,
    PRIMARY KEY (tenant_id, asset_id, column_name, label)
);
CREATE INDEX IF NOT EXISTS column_labels_tenant_status ON column_labels (tenant_id, status, confidence DESC);

-- The statistics of each asset's last sample (no sampled value), for re-evaluation and feedback.
CREATE TABLE IF NOT EXISTS column_profiles (
    tenant_id  TEXT NOT NULL,
    asset_id   UUID NOT NULL,
    rows       INTEGER NOT NULL,
    profiles   JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, asset_id)
);

-- Scan rule sets with their current definition.
CREATE TABLE IF NOT EXISTS scan_rule_sets (
    tenant_id  TEXT NOT NULL,
    id         UUID NOT NULL,
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    definition JSONB NOT NULL,
    archived   BOOLEAN NOT NULL DEFAULT false,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Search (`search` query; projections/src/search.rs): one document per asset, rewritten in the
-- batch that changes the asset, its metadata or its labels. `terms` is the glossary's hook: empty
-- until a glossary read model fills it. The trigram extension lives in `public` (a schema the
-- rebuild never drops) and is named with its schema, as this DDL runs with the catalog's schema
-- as the only search path.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE TABLE IF NOT EXISTS search_documents (
    tenant_id     TEXT NOT NULL,
    id            UUID NOT NULL,
    source_id     UUID NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    -- The name's words, lowercased and space-separated: a query of exactly these words ranks first.
    name_key      TEXT NOT NULL,
    path          TEXT NOT NULL,
    removed       BOOLEAN NOT NULL,
    owner         TEXT,
    -- The asset's own tags (a JSON array, as on `assets`, which the role conditions read).
    tags          JSONB NOT NULL,
    -- The asset's description and its engine comment.
    description   TEXT,
    columns       TEXT[] NOT NULL,
    -- Labels applied or confirmed on any column, and their sensitivities.
    labels        TEXT[] NOT NULL,
    sensitivities TEXT[] NOT NULL,
    terms         TEXT[] NOT NULL DEFAULT '{}',
    document      TSVECTOR NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS search_documents_document ON search_documents USING gin (document);
-- Statistics on ten times as many words as by default: a word the statistics do not list is
-- estimated at half the rarest listed word's frequency, which with the default target is
-- about 0.5 % of the documents, so a query of a few rare words looked broad enough to the
-- planner to read the whole table in search of its first matches (projections/src/search.rs).
ALTER TABLE search_documents ALTER COLUMN document SET STATISTICS 1000;
-- A fixed pseudo-random bucket of each document (0 to 255, from its asset id). A bounded search
-- whose words match a large part of a big catalogue ranks and counts the matches of bucket 0
-- (1/256 of the documents), buckets 0 to 3 (1/64) or 0 to 15 (1/16) through their own smaller
-- indexes, instead of building the bitmap of every match (projections/src/search.rs, `Sample`).
ALTER TABLE search_documents ADD COLUMN IF NOT EXISTS sample SMALLINT
    GENERATED ALWAYS AS ((hashtext(id::text) & 255)::smallint) STORED;
CREATE INDEX IF NOT EXISTS search_documents_sample16 ON search_documents USING gin (document)
    WHERE sample < 16;
CREATE INDEX IF NOT EXISTS search_documents_sample64 ON search_documents USING gin (document)
    WHERE sample < 4;
CREATE INDEX IF NOT EXISTS search_documents_sample256 ON search_documents USING gin (document)
    WHERE sample = 0;
-- Names starting with a query's words are always ranking candidates of a bounded search.
CREATE INDEX IF NOT EXISTS search_documents_name_key
    ON search_documents (tenant_id, name_key COLLATE "C");
-- Every word of a tenant's documents, for typo corrections by trigram similarity. The C
-- collation makes a prefix a range of the primary key.
CREATE TABLE IF NOT EXISTS search_words (
    tenant_id TEXT NOT NULL,
    word      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, word)
);
CREATE INDEX IF NOT EXISTS search_words_trigram ON search_words USING gin (word public.gin_trgm_ops);
-- Browsing `assets` by path at any depth without a source.
CREATE INDEX IF NOT EXISTS assets_tenant_path ON assets (tenant_id, path);
-- Glossary terms as search needs them (TermDefined, TermChanged): the name and synonyms of each
-- term, so that a document lists the terms linked to its asset. The glossary read model keeps
-- the rest; the catalog keeps its own copy so that its rebuild reads nothing of another's.
CREATE TABLE IF NOT EXISTS search_terms (
    tenant_id TEXT NOT NULL,
    term_id   UUID NOT NULL,
    name      TEXT NOT NULL,
    synonyms  TEXT[] NOT NULL,
    PRIMARY KEY (tenant_id, term_id)
);
-- Which term is linked to which asset (TermLinked, TermUnlinked); column_key '' for the asset
-- itself, else the column's name.
CREATE TABLE IF NOT EXISTS search_term_links (
    tenant_id  TEXT NOT NULL,
    asset_id   UUID NOT NULL,
    column_key TEXT NOT NULL,
    term_id    UUID NOT NULL,
    PRIMARY KEY (tenant_id, asset_id, column_key, term_id)
);
CREATE INDEX IF NOT EXISTS search_term_links_term ON search_term_links (tenant_id, term_id);
