-- The tenant's glossary terms (TermDefined inserts; TermChanged, TermApproved, TermDeprecated
-- update). Names are unique per tenant case-insensitively and never change.
CREATE TABLE IF NOT EXISTS glossary_terms (
    tenant_id          TEXT NOT NULL,
    id                 UUID NOT NULL,
    name               TEXT NOT NULL,
    definition         TEXT NOT NULL,
    -- Names, sorted.
    synonyms           JSONB NOT NULL,
    related            JSONB NOT NULL,
    -- [{name, kind, type}], sorted.
    owners             JSONB NOT NULL,
    -- draft, approved or deprecated.
    status             TEXT NOT NULL,
    deprecation_reason TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    updated_by         TEXT NOT NULL,
    sequence           BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS glossary_terms_tenant_name ON glossary_terms (tenant_id, lower(name));

-- Which term is linked to which asset or column (TermLinked inserts, TermUnlinked deletes).
-- Keyed for search to join on (tenant, asset, column, term name); column NULL: the asset itself.
CREATE TABLE IF NOT EXISTS glossary_term_links (
    tenant_id   TEXT NOT NULL,
    asset_id    UUID NOT NULL,
    column_name TEXT,
    term_id     UUID NOT NULL,
    term_name   TEXT NOT NULL,
    linked_at   TIMESTAMPTZ NOT NULL,
    linked_by   TEXT NOT NULL,
    sequence    BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS glossary_term_links_key
    ON glossary_term_links (tenant_id, term_id, asset_id, COALESCE(column_name, ''));
CREATE INDEX IF NOT EXISTS glossary_term_links_asset
    ON glossary_term_links (tenant_id, asset_id, column_name, term_name);
